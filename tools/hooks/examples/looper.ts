// Misbehaves (tests): loops forever. The host stops it (fuel or wall clock).
export { alloc } from "./lib/abi";

export function on_event(ptr: usize, len: i32): i64 {
  let n: i64 = 0;
  while (true) {
    n += 1;
  }
  return n;
}
