// Node-local policy: refuses writes whose proposed stream state mentions "forbidden" (as a
// content key or value, a tag, a family: a plain text search of the state's JSON keeps the
// example small). Other events are only counted.
export { alloc } from "./lib/abi";
import { allow, event, metric, stringField, veto } from "./lib/abi";

export function on_event(ptr: usize, len: i32): i64 {
  const json = event(ptr, len);
  if (stringField(json, "event") != "before_write") {
    metric("seen", 1);
    return allow();
  }
  // The event's keys come in a fixed order: … "state", "reason", "config".
  const start = json.indexOf('"state":');
  const end = json.indexOf(',"reason":', start);
  const state = start >= 0 && end > start ? json.substring(start, end) : "";
  if (state.indexOf('"forbidden"') >= 0) {
    metric("vetoed", 1);
    return veto("the state mentions the word forbidden");
  }
  return allow();
}
