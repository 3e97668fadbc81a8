// A hook that does nothing: every write is allowed. The bench's baseline hook.
export { alloc } from "./lib/abi";

export function on_event(ptr: usize, len: i32): i64 {
  return 0;
}
