// Misbehaves (tests): traps on every call.
export { alloc } from "./lib/abi";

export function on_event(ptr: usize, len: i32): i64 {
  unreachable();
  return 0;
}
