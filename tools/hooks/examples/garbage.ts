// Misbehaves (tests): answers a verdict that is not the verdict JSON.
export { alloc } from "./lib/abi";
import { answer } from "./lib/abi";

export function on_event(ptr: usize, len: i32): i64 {
  return answer("{\"veto\": 12, \"x\"");
}
