// Node-local policy: refuses writes whose proposed stream state mentions "forbidden" (as a
// content key or value, a tag, a family: a plain text search of the state's JSON keeps the
// example small). Other events are only counted. It searches the event's bytes in place
// (`find`) rather than decoding them into a string: a veto hook runs before every write.
export { alloc } from "./lib/abi";
import { allow, find, metric, veto } from "./lib/abi";

export function on_event(ptr: usize, len: i32): i64 {
  // The event's keys come in a fixed order: {"event":…, …, "state", "reason", "config"}.
  if (find(ptr, len, '{"event":"before_write"', 0) != 0) {
    metric("seen", 1);
    return allow();
  }
  const start = find(ptr, len, '"state":', 0);
  const end = start >= 0 ? find(ptr, len, ',"reason":', start) : -1;
  if (end > start && find(ptr, end, '"forbidden"', start) >= 0) {
    metric("vetoed", 1);
    return veto("the state mentions the word forbidden");
  }
  return allow();
}
