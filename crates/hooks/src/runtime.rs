//! [`Program`]: one hook's compiled module and its limits; [`Program::call`] runs one event in
//! a fresh instance (hooks keep no state between calls) under fuel, memory and wall-clock
//! limits, with the host functions of `specs/hooks.md`.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ceramic_service::Metrics;
use ceramic_streamid::StreamId;
use wasmi::{
    Caller, CompilationMode, Config, Engine, Extern, ExternType, Linker, Memory, Module, Store,
    StoreLimits, StoreLimitsBuilder, TrapCode, TypedResumableCall, ValType,
};

use crate::abi::{parse_verdict, unpack};
use crate::{Failure, LoadError, VerdictError};

/// Fuel given per slice of a call: between slices the wall clock is checked, so a hook that
/// loops is stopped within about one slice of its `timeout_ms` even with fuel to spare.
const FUEL_SLICE: u64 = 200_000;
/// The deepest call stack a hook may use (frames).
const MAX_RECURSION_DEPTH: usize = 1024;
/// The most log lines one call may write (the rest are dropped).
const MAX_LOGS_PER_CALL: u32 = 64;
/// The longest log line kept (bytes; longer lines are cut).
const MAX_LOG_BYTES: usize = 1024;
/// The most distinct guest metric names one hook may use.
const MAX_GUEST_METRICS: usize = 32;
/// The most HTTP calls one call may make.
const MAX_HTTP_PER_CALL: u32 = 4;
/// The largest HTTP body a hook may post.
const MAX_HTTP_BODY: usize = 256 * 1024;

/// `http_post`'s answers below 0.
const HTTP_NOT_ALLOWED: i32 = -1;
const HTTP_FAILED: i32 = -2;
const HTTP_BAD_ARGS: i32 = -3;

/// The one WebAssembly engine of the node's hooks: wasmi with fuel metering, eager
/// compilation (a module is fully validated when it is loaded) and a bounded stack.
pub(crate) fn engine() -> Engine {
    let mut config = Config::default();
    config
        .consume_fuel(true)
        .compilation_mode(CompilationMode::Eager)
        .set_max_recursion_depth(MAX_RECURSION_DEPTH);
    Engine::new(&config)
}

/// A pin or unpin a hook asked for; the node does it after the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinRequest {
    /// Pin the stream.
    Pin(StreamId),
    /// Unpin the stream.
    Unpin(StreamId),
}

/// What one call answered.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// The veto's reason, when the hook vetoed.
    pub(crate) veto: Option<String>,
    /// Pins and unpins it asked for.
    pub(crate) pins: Vec<PinRequest>,
}

/// What every call of one hook shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) name: String,
    pub(crate) allow_http: Vec<String>,
    pub(crate) metrics: Metrics,
    guest_metrics: Mutex<HashSet<String>>,
}

/// The per-call state the host functions see.
struct Host {
    limits: StoreLimits,
    shared: Arc<Shared>,
    deadline: Instant,
    pins: Vec<PinRequest>,
    logs: u32,
    http_calls: u32,
}

/// A loaded hook.
#[derive(Debug)]
pub(crate) struct Program {
    module: Module,
    linker: Arc<Linker<Host>>,
    fuel: u64,
    memory_bytes: usize,
    timeout: Duration,
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host").field("hook", &self.shared.name).finish_non_exhaustive()
    }
}

/// The host's imports: (name, params, results).
const IMPORTS: [(&str, &[ValType], &[ValType]); 5] = [
    ("log", &[ValType::I32, ValType::I32, ValType::I32], &[]),
    ("metric", &[ValType::I32, ValType::I32, ValType::I64], &[]),
    ("pin", &[ValType::I32, ValType::I32], &[ValType::I32]),
    ("unpin", &[ValType::I32, ValType::I32], &[ValType::I32]),
    ("http_post", &[ValType::I32, ValType::I32, ValType::I32, ValType::I32], &[ValType::I32]),
];
/// The import module name.
const IMPORT_MODULE: &str = "ceramic";

/// The limits and settings of one hook.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) name: String,
    pub(crate) fuel: u64,
    pub(crate) memory_bytes: u64,
    pub(crate) timeout: Duration,
    pub(crate) allow_http: Vec<String>,
}

impl Program {
    /// Compiles and checks the module at `path` (`wasm` is its bytes).
    ///
    /// # Errors
    /// [`LoadError::NotWasm`], [`LoadError::MissingExport`], [`LoadError::WrongExport`],
    /// [`LoadError::UnknownImport`].
    pub(crate) fn load(
        engine: &Engine,
        settings: Settings,
        path: &Path,
        wasm: &[u8],
        metrics: Metrics,
    ) -> Result<Self, LoadError> {
        let hook = settings.name.clone();
        let module = Module::new(engine, wasm).map_err(|source| LoadError::NotWasm {
            hook: hook.clone(),
            path: path.to_path_buf(),
            source,
        })?;
        check_exports(&hook, &module)?;
        check_imports(&hook, &module)?;
        let linker = Arc::new(linker(engine));
        let shared = Arc::new(Shared {
            name: settings.name,
            allow_http: settings.allow_http,
            metrics,
            guest_metrics: Mutex::new(HashSet::new()),
        });
        Ok(Program {
            module,
            linker,
            fuel: settings.fuel,
            memory_bytes: usize::try_from(settings.memory_bytes).unwrap_or(usize::MAX),
            timeout: settings.timeout,
            shared,
        })
    }

    /// Runs `on_event` with `event` in a fresh instance.
    ///
    /// # Errors
    /// [`Failure`]: the hook trapped, ran out of fuel or time, hit its memory cap, or answered
    /// something that is not a verdict.
    pub(crate) fn call(&self, event: &[u8]) -> Result<Outcome, Failure> {
        let started = Instant::now();
        let deadline = started + self.timeout;
        let host = Host {
            limits: StoreLimitsBuilder::new()
                .memory_size(self.memory_bytes)
                .instances(1)
                .memories(1)
                .tables(4)
                .table_elements(100_000)
                .build(),
            shared: self.shared.clone(),
            deadline,
            pins: Vec::new(),
            logs: 0,
            http_calls: 0,
        };
        let mut store = Store::new(self.module.engine(), host);
        store.limiter(|host| &mut host.limits);
        let mut fuel = Fuel { left: self.fuel, total: self.fuel, deadline, timeout: self.timeout };
        fuel.refill(&mut store)?;
        let instance = self
            .linker
            .instantiate_and_start(&mut store, &self.module)
            .map_err(|e| self.classify(&store, None, e, &fuel, Failure::Instantiate))?;
        let memory = instance.get_memory(&store, "memory");
        let failed = |store: &Store<Host>, e: wasmi::Error, fuel: &Fuel| {
            self.classify(store, memory, e, fuel, Failure::Trap)
        };
        // The exports were checked at load.
        let alloc = instance
            .get_typed_func::<i32, i32>(&store, "alloc")
            .map_err(|e| failed(&store, e, &fuel))?;
        let on_event = instance
            .get_typed_func::<(i32, i32), i64>(&store, "on_event")
            .map_err(|e| failed(&store, e, &fuel))?;
        let memory = memory.ok_or_else(|| {
            Failure::Trap(wasmi::Error::new("the module's memory is not exported"))
        })?;
        let len = i32::try_from(event.len())
            .map_err(|_| Failure::Trap(wasmi::Error::new("event larger than 2 GiB")))?;
        let call = alloc.call_resumable(&mut store, len).map_err(|e| failed(&store, e, &fuel))?;
        let ptr = fuel.finish(&mut store, call).map_err(|e| match e {
            Stop::Failure(f) => f,
            Stop::Wasm(e) => failed(&store, e, &fuel),
        })?;
        let offset = usize::try_from(ptr as u32).unwrap_or(usize::MAX);
        memory
            .write(&mut store, offset, event)
            .map_err(|_| Failure::Trap(wasmi::Error::new("alloc returned memory out of bounds")))?;
        let call = on_event
            .call_resumable(&mut store, (ptr, len))
            .map_err(|e| failed(&store, e, &fuel))?;
        let packed = fuel.finish(&mut store, call).map_err(|e| match e {
            Stop::Failure(f) => f,
            Stop::Wasm(e) => failed(&store, e, &fuel),
        })?;
        let veto = match unpack(packed) {
            None => None,
            Some((ptr, len)) => {
                let max = crate::MAX_VERDICT_BYTES;
                if usize::try_from(len).map_or(true, |l| l > max) {
                    return Err(VerdictError::TooLong { len: len as usize, max }.into());
                }
                let bytes = read(&memory, &store, ptr, len, max)
                    .ok_or(VerdictError::OutOfBounds { ptr, len })?;
                parse_verdict(&bytes)?
            }
        };
        let pins = std::mem::take(&mut store.data_mut().pins);
        Ok(Outcome { veto, pins })
    }

    /// Names what stopped a call: time, fuel, the memory cap, else `otherwise` (a trap).
    fn classify(
        &self,
        store: &Store<Host>,
        memory: Option<Memory>,
        error: wasmi::Error,
        fuel: &Fuel,
        otherwise: fn(wasmi::Error) -> Failure,
    ) -> Failure {
        match error.as_trap_code() {
            Some(TrapCode::OutOfFuel) => return Failure::OutOfFuel { fuel: fuel.total },
            Some(TrapCode::GrowthOperationLimited) => {
                return Failure::Memory { bytes: self.memory_bytes };
            }
            _ => {}
        }
        if Instant::now() >= fuel.deadline {
            return Failure::Timeout { ms: ms(fuel.timeout) };
        }
        // A hook that trapped with its memory at the cap ran out of memory (a failed
        // `memory.grow` answers -1; the trap follows).
        let page = 64 * 1024;
        if let Some(memory) = memory
            && memory.data_size(store).saturating_add(page) > self.memory_bytes
        {
            return Failure::Memory { bytes: self.memory_bytes };
        }
        otherwise(error)
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Why [`Fuel::finish`] stopped.
enum Stop {
    Failure(Failure),
    Wasm(wasmi::Error),
}

/// A call's fuel, handed out in slices with a clock check between them.
struct Fuel {
    left: u64,
    total: u64,
    deadline: Instant,
    timeout: Duration,
}

impl Fuel {
    /// Puts the next slice in the store.
    fn refill(&mut self, store: &mut Store<Host>) -> Result<(), Failure> {
        if self.left == 0 {
            return Err(Failure::OutOfFuel { fuel: self.total });
        }
        if Instant::now() >= self.deadline {
            return Err(Failure::Timeout { ms: ms(self.timeout) });
        }
        let slice = self.left.min(FUEL_SLICE);
        self.left -= slice;
        store
            .set_fuel(slice)
            .map_err(|e| Failure::Trap(wasmi::Error::new(format!("fuel: {e}"))))?;
        Ok(())
    }

    /// Runs a resumable call to its end, slice by slice.
    fn finish<R>(
        &mut self,
        store: &mut Store<Host>,
        mut call: TypedResumableCall<R>,
    ) -> Result<R, Stop>
    where
        R: wasmi::WasmResults,
    {
        loop {
            match call {
                TypedResumableCall::Finished(result) => return Ok(result),
                TypedResumableCall::OutOfFuel(paused) => {
                    self.refill(store).map_err(Stop::Failure)?;
                    call = paused.resume(&mut *store).map_err(Stop::Wasm)?;
                }
                TypedResumableCall::HostTrap(paused) => {
                    // The host's functions never fail; should one, the call stops here.
                    let error = wasmi::Error::new(format!("host error: {}", paused.host_error()));
                    return Err(Stop::Wasm(error));
                }
            }
        }
    }
}

/// `len` bytes at `ptr` of the memory, at most `max`; `None` when out of bounds or too long.
fn read(memory: &Memory, store: &Store<Host>, ptr: u32, len: u32, max: usize) -> Option<Vec<u8>> {
    let len = usize::try_from(len).ok()?;
    if len > max {
        return None;
    }
    let mut buf = vec![0; len];
    memory.read(store, usize::try_from(ptr).ok()?, &mut buf).ok()?;
    Some(buf)
}

/// `len` bytes at `ptr` of the caller's memory, at most `max`.
fn guest_bytes(caller: &Caller<'_, Host>, ptr: i32, len: i32, max: usize) -> Option<Vec<u8>> {
    let memory = caller.get_export("memory").and_then(Extern::into_memory)?;
    let len = usize::try_from(len).ok().filter(|&l| l <= max)?;
    let mut buf = vec![0; len];
    memory.read(caller, usize::try_from(ptr as u32).ok()?, &mut buf).ok()?;
    Some(buf)
}

fn guest_str(caller: &Caller<'_, Host>, ptr: i32, len: i32, max: usize) -> Option<String> {
    String::from_utf8(guest_bytes(caller, ptr, len, max)?).ok()
}

fn check_exports(hook: &str, module: &Module) -> Result<(), LoadError> {
    let wrong = |export, expected, found: String| LoadError::WrongExport {
        hook: hook.to_owned(),
        export,
        expected,
        found,
    };
    let missing =
        |export, expected| LoadError::MissingExport { hook: hook.to_owned(), export, expected };
    match module.get_export("memory") {
        Some(ExternType::Memory(_)) => {}
        Some(other) => return Err(wrong("memory", "a memory", format!("{other:?}"))),
        None => return Err(missing("memory", "a memory")),
    }
    for (name, params, results, expected) in [
        ("alloc", &[ValType::I32][..], &[ValType::I32][..], "a function (i32) -> i32"),
        (
            "on_event",
            &[ValType::I32, ValType::I32][..],
            &[ValType::I64][..],
            "a function (i32, i32) -> i64",
        ),
    ] {
        match module.get_export(name) {
            Some(ExternType::Func(ty)) if ty.params() == params && ty.results() == results => {}
            Some(other) => return Err(wrong(name, expected, format!("{other:?}"))),
            None => return Err(missing(name, expected)),
        }
    }
    Ok(())
}

fn check_imports(hook: &str, module: &Module) -> Result<(), LoadError> {
    for import in module.imports() {
        let unknown = |reason: &str| LoadError::UnknownImport {
            hook: hook.to_owned(),
            module: import.module().to_owned(),
            name: import.name().to_owned(),
            reason: reason.to_owned(),
        };
        if import.module() != IMPORT_MODULE {
            return Err(unknown("only `ceramic.*` functions are provided"));
        }
        let Some((_, params, results)) = IMPORTS.iter().find(|(n, ..)| *n == import.name()) else {
            return Err(unknown("unknown function"));
        };
        match import.ty() {
            ExternType::Func(ty) if ty.params() == *params && ty.results() == *results => {}
            _ => return Err(unknown("wrong type")),
        }
    }
    Ok(())
}

fn linker(engine: &Engine) -> Linker<Host> {
    let mut linker = Linker::new(engine);
    // The names are distinct: defining them cannot clash.
    let _ = linker.func_wrap(IMPORT_MODULE, "log", host_log);
    let _ = linker.func_wrap(IMPORT_MODULE, "metric", host_metric);
    let _ = linker.func_wrap(IMPORT_MODULE, "pin", |c: Caller<'_, Host>, p: i32, l: i32| {
        host_pin(c, p, l, true)
    });
    let _ = linker.func_wrap(IMPORT_MODULE, "unpin", |c: Caller<'_, Host>, p: i32, l: i32| {
        host_pin(c, p, l, false)
    });
    let _ = linker.func_wrap(IMPORT_MODULE, "http_post", host_http_post);
    linker
}

fn host_log(mut caller: Caller<'_, Host>, level: i32, ptr: i32, len: i32) {
    let host = caller.data_mut();
    host.logs += 1;
    if host.logs > MAX_LOGS_PER_CALL {
        return;
    }
    let hook = host.shared.name.clone();
    let len = len.clamp(0, MAX_LOG_BYTES as i32);
    let Some(bytes) = guest_bytes(&caller, ptr, len, MAX_LOG_BYTES) else { return };
    let line = String::from_utf8_lossy(&bytes);
    match level {
        0 => tracing::error!(hook, "{line}"),
        1 => tracing::warn!(hook, "{line}"),
        2 => tracing::info!(hook, "{line}"),
        3 => tracing::debug!(hook, "{line}"),
        _ => tracing::trace!(hook, "{line}"),
    }
}

fn host_metric(caller: Caller<'_, Host>, ptr: i32, len: i32, delta: i64) {
    let Ok(delta) = u64::try_from(delta) else { return };
    let Some(name) = guest_str(&caller, ptr, len, 64) else { return };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return;
    }
    let shared = &caller.data().shared;
    let Ok(mut names) = shared.guest_metrics.lock() else { return };
    if !names.contains(&name) {
        if names.len() >= MAX_GUEST_METRICS {
            return;
        }
        names.insert(name.clone());
    }
    drop(names);
    shared.metrics.hook_guest(&shared.name, &name, delta);
}

/// 0: queued; -1: not a StreamID.
fn host_pin(mut caller: Caller<'_, Host>, ptr: i32, len: i32, pin: bool) -> i32 {
    let Some(stream) = guest_str(&caller, ptr, len, 256).and_then(|s| s.parse::<StreamId>().ok())
    else {
        return -1;
    };
    let pins = &mut caller.data_mut().pins;
    if pins.len() >= 64 {
        return -1;
    }
    pins.push(if pin { PinRequest::Pin(stream) } else { PinRequest::Unpin(stream) });
    0
}

/// The HTTP status, or -1 (URL not allowed), -2 (failed or timed out), -3 (bad arguments or
/// too many calls).
fn host_http_post(
    mut caller: Caller<'_, Host>,
    url_ptr: i32,
    url_len: i32,
    body_ptr: i32,
    body_len: i32,
) -> i32 {
    let Some(url) = guest_str(&caller, url_ptr, url_len, 2048) else { return HTTP_BAD_ARGS };
    let Some(body) = guest_bytes(&caller, body_ptr, body_len, MAX_HTTP_BODY) else {
        return HTTP_BAD_ARGS;
    };
    let host = caller.data_mut();
    host.http_calls += 1;
    if host.http_calls > MAX_HTTP_PER_CALL {
        return HTTP_BAD_ARGS;
    }
    if !allowed(&host.shared.allow_http, &url) {
        tracing::warn!(hook = host.shared.name, url, "http_post to a URL not allowed");
        return HTTP_NOT_ALLOWED;
    }
    let left = host.deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return HTTP_FAILED;
    }
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(left))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .new_agent();
    match agent.post(&url).header("content-type", "application/json").send(&body[..]) {
        Ok(response) => i32::from(response.status().as_u16()),
        Err(error) => {
            tracing::debug!(hook = host.shared.name, url, %error, "http_post failed");
            HTTP_FAILED
        }
    }
}

/// Whether `url` starts with one of the prefixes (which end their host with `/`), and has no
/// `..` or `@` that could lead elsewhere.
pub(crate) fn allowed(prefixes: &[String], url: &str) -> bool {
    !url.contains("/../")
        && !url.contains('@')
        && !url.contains('\\')
        && prefixes.iter().any(|p| url.starts_with(p.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_allow_list() {
        let allow = vec!["http://127.0.0.1:9000/hooks/".to_owned()];
        assert!(allowed(&allow, "http://127.0.0.1:9000/hooks/a"));
        assert!(!allowed(&allow, "http://127.0.0.1:9000/other"));
        assert!(!allowed(&allow, "http://127.0.0.1:90001/hooks/"));
        assert!(!allowed(&allow, "http://127.0.0.1:9000/hooks/../admin"));
        assert!(!allowed(&[], "http://127.0.0.1:9000/hooks/a"));
    }
}
