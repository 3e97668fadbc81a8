// Invalid (tests): a module without `on_event`; config validation refuses it.
export { alloc } from "./lib/abi";

export function handle(ptr: usize, len: i32): i64 {
  return 0;
}
