// Misbehaves (tests): grows its memory until the host refuses, then touches the last page.
export { alloc } from "./lib/abi";

export function on_event(ptr: usize, len: i32): i64 {
  while (memory.grow(1) >= 0) {}
  // Refused (the host's cap): trap, as a hog that cannot get its memory would.
  unreachable();
  return 0;
}
