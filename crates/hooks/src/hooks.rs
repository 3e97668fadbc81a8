//! [`WasmHooks`]: the node's configured hooks, implementing the service's
//! [`Hooks`](ceramic_service::Hooks) trait. `before_write` runs on the caller's thread (the
//! service's blocking pool) when that thread is marked as having a big enough stack, else it
//! waits there for the hook's call on one of its big-stack call threads ([`CallThreads`]);
//! events go to one worker thread per hook (a big, marked stack: the calls run on it) through a
//! bounded queue, so a slow or stuck hook never holds up the node (a full queue drops the
//! event, counted).

use std::fs;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::time::Duration;

use base64::Engine as _;
use ceramic_codecs::Cid;
use ceramic_doctype::StreamState;
use ceramic_service::{HookEvent, HookEventKind, HookInfo, Hooks, Metrics, Service, Verdict};
use ceramic_streamid::StreamId;

use crate::abi::{BEFORE_WRITE, EventJson};
use crate::calls::CallThreads;
use crate::runtime::{self, Outcome, PinRequest, Program, Settings};
use crate::{Failure, HookConfig, LoadError, OnError};

/// How many events may wait for one hook; more are dropped (counted in
/// `ceramic_hook_events_dropped_total`).
pub const QUEUE_CAPACITY: usize = 1024;

/// One loaded hook.
#[derive(Debug)]
struct Hook {
    calls: CallThreads,
    config: HookConfig,
    events: Vec<HookEventKind>,
    model: Option<StreamId>,
    runs: AtomicU64,
    failures: AtomicU64,
    vetoes: AtomicU64,
}

struct Job {
    event: HookEvent,
    service: Service,
}

/// The node's hooks (none, one or several), loaded from `[[hooks]]`.
#[derive(Debug)]
pub struct WasmHooks {
    hooks: Vec<Arc<Hook>>,
    queues: Vec<Option<SyncSender<Job>>>,
    checks_writes: bool,
}

impl WasmHooks {
    /// Validates every config and loads every module (compiling and checking its exports and
    /// imports); counts into `metrics`. Starts one worker thread per hook that takes events.
    ///
    /// # Errors
    /// [`LoadError`] for the first hook that does not load, naming it.
    pub fn load(configs: &[HookConfig], metrics: &Metrics) -> Result<Self, LoadError> {
        let engine = runtime::engine();
        let mut hooks = Vec::new();
        let mut queues = Vec::new();
        for (index, config) in configs.iter().enumerate() {
            let events = config.validate(index)?;
            if configs[..index].iter().any(|c| c.name == config.name) {
                return Err(LoadError::DuplicateName { index, name: config.name.clone() });
            }
            let model = config.filter.model.as_deref().and_then(|m| m.parse().ok());
            let wasm = fs::read(&config.module).map_err(|source| LoadError::Read {
                hook: config.name.clone(),
                path: config.module.clone(),
                source,
            })?;
            let settings = Settings {
                name: config.name.clone(),
                fuel: config.fuel,
                memory_bytes: config.memory_bytes,
                timeout: Duration::from_millis(config.timeout_ms),
                allow_http: config.allow_http.clone(),
            };
            let program = Program::load(&engine, settings, &config.module, &wasm, metrics.clone())?;
            let hook = Arc::new(Hook {
                calls: CallThreads::new(Arc::new(program)),
                config: config.clone(),
                events,
                model,
                runs: AtomicU64::new(0),
                failures: AtomicU64::new(0),
                vetoes: AtomicU64::new(0),
            });
            queues.push((!hook.events.is_empty()).then(|| worker(hook.clone())));
            hooks.push(hook);
        }
        let checks_writes = hooks.iter().any(|h| h.config.veto);
        Ok(WasmHooks { hooks, queues, checks_writes })
    }

    /// How many hooks are loaded.
    pub fn len(&self) -> usize {
        self.hooks.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.hooks.is_empty()
    }
}

/// Starts the worker of `hook`; its queue.
fn worker(hook: Arc<Hook>) -> SyncSender<Job> {
    let (sender, receiver) = mpsc::sync_channel::<Job>(QUEUE_CAPACITY);
    let name = hook.config.name.clone();
    // The worker's stack is big enough for the calls to run on it (no hand-off per event).
    let builder = std::thread::Builder::new().name(format!("hook-{name}"));
    let spawned = builder.stack_size(crate::calls::INLINE_STACK).spawn(move || {
        crate::calls::mark_thread_stack(crate::calls::INLINE_STACK);
        // Ends when the hooks are dropped (the sender with them).
        while let Ok(job) = receiver.recv() {
            hook.handle(job);
        }
    });
    if let Err(error) = spawned {
        // The queue's receiver is gone: events count as failures ("stopped").
        tracing::error!(hook = name, %error, "cannot start the hook's thread");
    }
    sender
}

impl Hook {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn metrics(&self) -> &Metrics {
        &self.calls.program().shared.metrics
    }

    /// Runs the hook once, counting; `Err` after counting and logging a failure.
    fn run(&self, event: &EventJson<'_>) -> Result<Outcome, Failure> {
        self.runs.fetch_add(1, Ordering::Relaxed);
        self.metrics().hook_run(self.name());
        // Here on a thread marked as big enough, else on one of the hook's call threads
        // (CALL_STACK bytes of stack, kept between calls): wasmi's interpreter overflowed the
        // 2 MiB of a tokio worker on a guest's tight loop
        // (tests/hooks.rs, `a_looping_hook_runs_out_of_fuel`). The caller waits: a call is
        // bounded by its fuel and wall-clock limits.
        let result = self.calls.call(event.to_bytes().into());
        if let Err(failure) = &result {
            self.failures.fetch_add(1, Ordering::Relaxed);
            self.metrics().hook_failure(self.name(), failure.reason());
            tracing::warn!(hook = self.name(), event = event.event, %failure, "hook failed");
        }
        result
    }

    /// Whether the filter selects the stream with `state`.
    fn selects(&self, state: Option<&StreamState>) -> bool {
        let filter = &self.config.filter;
        if filter.is_empty() {
            return true;
        }
        let Some(state) = state else { return false };
        let metadata = state.metadata();
        let text = |key: &str| metadata.get(key).and_then(|v| v.as_str());
        if filter.family.as_deref().is_some_and(|f| text("family") != Some(f)) {
            return false;
        }
        if let Some(tag) = filter.tag.as_deref() {
            let tags = metadata.get("tags").and_then(|t| t.as_array());
            if !tags.is_some_and(|tags| tags.iter().any(|t| t.as_str() == Some(tag))) {
                return false;
            }
        }
        if filter.controller.as_deref().is_some_and(|c| state.controller() != Some(c)) {
            return false;
        }
        if let Some(model) = &self.model
            && model_of(metadata.get("model")) != Some(*model)
        {
            return false;
        }
        true
    }

    fn before_write(&self, state: &StreamState, commit: &Cid) -> Option<Verdict> {
        if !self.config.veto || !self.selects(Some(state)) {
            return None;
        }
        let stream = state.stream_id();
        let event = EventJson {
            event: BEFORE_WRITE,
            hook: self.name(),
            stream: Some(&stream),
            commit: Some(commit),
            state: Some(state),
            reason: None,
            config: &self.config.config,
        };
        let reason = match self.run(&event) {
            Ok(outcome) => {
                if !outcome.pins.is_empty() {
                    tracing::debug!(hook = self.name(), "pin requests before a write are ignored");
                }
                outcome.veto?
            }
            Err(failure) if self.config.on_error == OnError::Veto => {
                format!("the hook failed ({failure}) and its on_error is \"veto\"")
            }
            Err(_) => return None,
        };
        self.vetoes.fetch_add(1, Ordering::Relaxed);
        self.metrics().hook_veto(self.name());
        tracing::info!(hook = self.name(), %stream, %commit, reason, "write vetoed");
        Some(Verdict::Veto { hook: self.name().to_owned(), reason })
    }

    /// Runs one queued event (on the hook's thread).
    fn handle(&self, job: Job) {
        let Job { event, service } = job;
        let storage = service.storage();
        let state = match (&event.state, &event.stream) {
            (Some(state), _) => Some(state.clone()),
            (None, Some(stream)) => storage.state(stream).ok().flatten(),
            (None, None) => None,
        };
        if !self.selects(state.as_ref()) {
            return;
        }
        let json = EventJson {
            event: event.kind.name(),
            hook: self.name(),
            stream: event.stream.as_ref(),
            commit: event.commit.as_ref(),
            state: state.as_ref(),
            reason: event.reason.as_deref(),
            config: &self.config.config,
        };
        let Ok(outcome) = self.run(&json) else { return };
        if outcome.veto.is_some() {
            tracing::debug!(hook = self.name(), "a veto after the event is ignored");
        }
        for request in outcome.pins {
            let done = match request {
                PinRequest::Pin(stream) => storage.pin(&stream).map(|()| ("pin", stream)),
                PinRequest::Unpin(stream) => storage.unpin(&stream).map(|_| ("unpin", stream)),
            };
            match done {
                Ok((what, stream)) => tracing::info!(hook = self.name(), %stream, "{what} by hook"),
                Err(error) => {
                    tracing::warn!(hook = self.name(), %error, "hook's pin request failed")
                }
            }
        }
    }
}

/// A metadata `model`: a StreamID string, or its bytes in dag-json form
/// (`{"/": {"bytes": "<base64>"}}`).
fn model_of(value: Option<&serde_json::Value>) -> Option<StreamId> {
    let value = value?;
    if let Some(text) = value.as_str() {
        return text.parse().ok();
    }
    let b64 = value.get("/")?.get("bytes")?.as_str()?;
    let bytes =
        base64::engine::general_purpose::STANDARD_NO_PAD.decode(b64.trim_end_matches('=')).ok()?;
    StreamId::try_from(&bytes[..]).ok()
}

impl Hooks for WasmHooks {
    fn checks_writes(&self) -> bool {
        self.checks_writes
    }

    fn before_write(&self, state: &StreamState, commit: &Cid) -> Verdict {
        self.hooks
            .iter()
            .find_map(|hook| hook.before_write(state, commit))
            .unwrap_or(Verdict::Allow)
    }

    fn on_event(&self, event: HookEvent, service: &Service) {
        for (hook, queue) in self.hooks.iter().zip(&self.queues) {
            let Some(queue) = queue else { continue };
            if !hook.events.contains(&event.kind) {
                continue;
            }
            let job = Job { event: event.clone(), service: service.clone() };
            match queue.try_send(job) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => hook.metrics().hook_event_dropped(hook.name()),
                Err(TrySendError::Disconnected(_)) => {
                    hook.metrics().hook_failure(hook.name(), "stopped");
                }
            }
        }
    }

    fn list(&self) -> Vec<HookInfo> {
        self.hooks
            .iter()
            .map(|hook| {
                let mut events = Vec::new();
                if hook.config.veto {
                    events.push(BEFORE_WRITE.to_owned());
                }
                events.extend(hook.events.iter().map(|k| k.name().to_owned()));
                HookInfo::new(
                    hook.config.name.clone(),
                    hook.config.module.display().to_string(),
                    events,
                    hook.config.filter.pairs(),
                    hook.runs.load(Ordering::Relaxed),
                    hook.failures.load(Ordering::Relaxed),
                    hook.vetoes.load(Ordering::Relaxed),
                )
            })
            .collect()
    }
}
