// The ceramic-hooks guest ABI (specs/hooks.md) for AssemblyScript hooks: the host imports,
// the `alloc` export every hook needs, and small helpers to read the event JSON and answer.

@external("ceramic", "log")
declare function host_log(level: i32, ptr: usize, len: i32): void;
@external("ceramic", "metric")
declare function host_metric(ptr: usize, len: i32, delta: i64): void;
@external("ceramic", "pin")
declare function host_pin(ptr: usize, len: i32): i32;
@external("ceramic", "unpin")
declare function host_unpin(ptr: usize, len: i32): i32;
@external("ceramic", "http_post")
declare function host_http_post(url: usize, urlLen: i32, body: usize, bodyLen: i32): i32;

/** Log levels of `log`. */
export const ERROR: i32 = 0;
export const WARN: i32 = 1;
export const INFO: i32 = 2;

/** The host writes the event here: `len` bytes the hook owns for the call. */
export function alloc(len: i32): usize {
  return heap.alloc(<usize>len);
}

/** The event the host passed, as a string. */
export function event(ptr: usize, len: i32): string {
  return String.UTF8.decodeUnsafe(ptr, <usize>len);
}

export function log(level: i32, message: string): void {
  const bytes = String.UTF8.encode(message);
  host_log(level, changetype<usize>(bytes), bytes.byteLength);
}

export function metric(name: string, delta: i64): void {
  const bytes = String.UTF8.encode(name);
  host_metric(changetype<usize>(bytes), bytes.byteLength, delta);
}

export function pin(stream: string): i32 {
  const bytes = String.UTF8.encode(stream);
  return host_pin(changetype<usize>(bytes), bytes.byteLength);
}

export function unpin(stream: string): i32 {
  const bytes = String.UTF8.encode(stream);
  return host_unpin(changetype<usize>(bytes), bytes.byteLength);
}

export function httpPost(url: string, body: string): i32 {
  const u = String.UTF8.encode(url);
  const b = String.UTF8.encode(body);
  return host_http_post(changetype<usize>(u), u.byteLength, changetype<usize>(b), b.byteLength);
}

/** The string value of the first `"key":"…"` in `json` (no escapes inside), or "". */
export function stringField(json: string, key: string): string {
  const marker = '"' + key + '":"';
  const at = json.indexOf(marker);
  if (at < 0) return "";
  const start = at + marker.length;
  const end = json.indexOf('"', start);
  if (end < 0) return "";
  return json.substring(start, end);
}

/**
 * Where the ASCII text `needle` starts in the event's `len` bytes at `ptr`, searching from byte
 * `from`; -1 if nowhere. It reads the bytes in place: decoding the whole event into a string
 * (`event`) costs far more interpreted instructions than one pass over the bytes.
 */
export function find(ptr: usize, len: i32, needle: string, from: i32): i32 {
  const n = needle.length;
  if (n == 0) return from;
  const first = <u8>needle.charCodeAt(0);
  for (let i = from; i + n <= len; i++) {
    if (load<u8>(ptr + <usize>i) != first) continue;
    let j = 1;
    while (j < n && load<u8>(ptr + <usize>(i + j)) == <u8>needle.charCodeAt(j)) j++;
    if (j == n) return i;
  }
  return -1;
}

/** Allow the write (or: nothing to say). */
export function allow(): i64 {
  return 0;
}

/** Veto the write with `reason`: the verdict `{"veto":"…"}` packed as (ptr << 32) | len. */
export function veto(reason: string): i64 {
  return answer('{"veto":"' + reason + '"}');
}

/** Any verdict bytes, packed as (ptr << 32) | len. */
export function answer(verdict: string): i64 {
  const bytes = String.UTF8.encode(verdict);
  return (<i64>changetype<usize>(bytes) << 32) | <i64>bytes.byteLength;
}
