// Pins every stream a commit is applied to ("commit_applied") and logs what it did.
export { alloc } from "./lib/abi";
import { INFO, WARN, allow, event, log, pin, stringField } from "./lib/abi";

export function on_event(ptr: usize, len: i32): i64 {
  const json = event(ptr, len);
  if (stringField(json, "event") == "commit_applied") {
    const stream = stringField(json, "stream");
    if (pin(stream) == 0) {
      log(INFO, "pinning " + stream);
    } else {
      log(WARN, "cannot pin " + stream);
    }
  }
  return allow();
}
