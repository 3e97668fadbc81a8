//! [`CallThreads`]: the threads one hook's calls run on, each with [`CALL_STACK`] bytes of
//! stack, kept between calls.
//!
//! wasmi's interpreter overflowed the 2 MiB stack of a tokio worker on a guest's tight loop
//! (tests/hooks.rs, `a_looping_hook_runs_out_of_fuel`), so no call runs on its caller's thread.
//! Starting a thread per call cost more than the call itself (benches/README.md, "hooks write
//! path"), so a thread that has answered waits for the next call. A caller takes an idle
//! thread, or starts one when every thread is busy (concurrent writes are never queued behind
//! one another's hook calls), hands it the event and waits for the answer: a call is bounded by
//! its fuel and wall-clock limits. At most 4 × cores (at least 8) threads wait between calls; a
//! thread beyond that ends after its call.
//!
//! A thread known to have a big enough stack runs the call itself, with no hand-off (two
//! thread wake-ups, up to ~100 µs on a busy machine): a runtime whose threads have
//! [`INLINE_STACK`] bytes of stack says so with [`mark_thread_stack`] in its `on_thread_start`
//! (`ceramic_core::runtime_builder` does). Nothing can ask a thread how big its stack is, so
//! an unmarked thread is assumed to have a small one.

use std::cell::Cell;

use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use crate::Failure;
use crate::runtime::{Outcome, Program};

/// The stack of the threads hook calls run on.
pub(crate) const CALL_STACK: usize = 16 << 20;

/// The stack a thread needs for hook calls to run on it: a call thread's, and 4 MiB for the
/// frames of its caller (the service, the engine) below the call.
pub const INLINE_STACK: usize = CALL_STACK + (4 << 20);

thread_local! {
    /// The stack this thread was declared to have ([`mark_thread_stack`]); 0: unknown.
    static STACK: Cell<usize> = const { Cell::new(0) };
}

/// Declares that the current thread was started with a stack of `bytes`. Call it first thing
/// on a thread (a tokio runtime's `on_thread_start`), and only with the size the thread was
/// really given: with at least [`INLINE_STACK`], hook calls made on this thread run on it.
pub fn mark_thread_stack(bytes: usize) {
    STACK.with(|stack| stack.set(bytes));
}

/// Whether hook calls made on this thread run on it.
pub(crate) fn runs_inline() -> bool {
    STACK.with(Cell::get) >= INLINE_STACK
}

/// A call's answer, or the panic it ended in (handed on to the caller).
type Answer = thread::Result<Result<Outcome, Failure>>;

/// One waiting thread: the event goes in, the answer comes out.
struct Worker {
    events: SyncSender<Arc<[u8]>>,
    answers: Receiver<Answer>,
}

/// The call threads of one hook.
pub(crate) struct CallThreads {
    program: Arc<Program>,
    idle: Mutex<Vec<Worker>>,
    max_idle: usize,
}

impl std::fmt::Debug for CallThreads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).len();
        f.debug_struct("CallThreads")
            .field("hook", &self.program.shared.name)
            .field("idle", &idle)
            .field("max_idle", &self.max_idle)
            .finish()
    }
}

impl CallThreads {
    /// No thread yet: the first call starts one. Keeps up to four idle threads per core
    /// (at least 8).
    pub(crate) fn new(program: Arc<Program>) -> Self {
        let cores = thread::available_parallelism().map_or(2, |n| n.get());
        CallThreads { program, idle: Mutex::new(Vec::new()), max_idle: (4 * cores).max(8) }
    }

    /// The most threads kept waiting between calls.
    #[cfg(test)]
    pub(crate) fn max_idle(&self) -> usize {
        self.max_idle
    }

    /// How many threads wait for a call now.
    #[cfg(test)]
    pub(crate) fn idle(&self) -> usize {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// The program the threads run.
    pub(crate) fn program(&self) -> &Program {
        &self.program
    }

    /// Runs `event` on a call thread and waits for its answer. If no thread can be started,
    /// runs it here. A panic of the call is resumed here.
    ///
    /// # Errors
    /// The call's [`Failure`].
    pub(crate) fn call(&self, event: Arc<[u8]>) -> Result<Outcome, Failure> {
        if runs_inline() {
            return self.program.call(&event);
        }
        let waiting = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let Some(worker) = waiting.or_else(|| self.start()) else {
            return self.program.call(&event);
        };
        // The thread ends only when its `Worker` is dropped, so these do not fail; should one,
        // the call runs here.
        if worker.events.send(event.clone()).is_err() {
            return self.program.call(&event);
        }
        let Ok(answer) = worker.answers.recv() else {
            return self.program.call(&event);
        };
        self.put_back(worker);
        match answer {
            Ok(result) => result,
            Err(payload) => panic::resume_unwind(payload),
        }
    }

    /// Keeps `worker` for the next call, unless enough threads wait (then it ends).
    fn put_back(&self, worker: Worker) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.max_idle {
            idle.push(worker);
        }
    }

    /// Starts a call thread; `None` if the system refuses one.
    fn start(&self) -> Option<Worker> {
        let (events, incoming) = mpsc::sync_channel::<Arc<[u8]>>(1);
        let (answer, answers) = mpsc::sync_channel::<Answer>(1);
        let program = self.program.clone();
        let started = thread::Builder::new()
            .name(format!("hook-call-{}", program.shared.name))
            .stack_size(CALL_STACK)
            .spawn(move || {
                // Ends when its `Worker` is dropped (with the hooks, or beyond `max_idle`).
                while let Ok(event) = incoming.recv() {
                    let result = panic::catch_unwind(AssertUnwindSafe(|| program.call(&event)));
                    if answer.send(result).is_err() {
                        break;
                    }
                }
            });
        match started {
            Ok(_) => Some(Worker { events, answers }),
            Err(error) => {
                tracing::warn!(hook = self.program.shared.name, %error, "cannot start a hook call thread; running the call inline");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;
    use crate::runtime::{self, Settings};
    use crate::{BEFORE_WRITE, DEFAULT_FUEL, DEFAULT_MEMORY_BYTES, DEFAULT_TIMEOUT_MS, EventJson};

    fn threads(module: &str) -> CallThreads {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../../tools/hooks/build/{module}.wasm"));
        let wasm = std::fs::read(&path).unwrap();
        let settings = Settings {
            name: module.to_owned(),
            fuel: DEFAULT_FUEL,
            memory_bytes: DEFAULT_MEMORY_BYTES,
            timeout: Duration::from_millis(DEFAULT_TIMEOUT_MS),
            allow_http: Vec::new(),
        };
        let metrics = ceramic_service::Metrics::new();
        let program = Program::load(&runtime::engine(), settings, &path, &wasm, metrics).unwrap();
        CallThreads::new(Arc::new(program))
    }

    fn event() -> Arc<[u8]> {
        let config = serde_json::Value::Null;
        let event = EventJson {
            event: BEFORE_WRITE,
            hook: "test",
            stream: None,
            commit: None,
            state: None,
            reason: None,
            config: &config,
        };
        event.to_bytes().into()
    }

    #[test]
    fn one_thread_answers_calls_one_after_another() {
        let calls = threads("noop");
        assert_eq!(calls.idle(), 0, "no thread before the first call");
        for _ in 0..20 {
            let outcome = calls.call(event()).unwrap();
            assert!(outcome.veto.is_none() && outcome.pins.is_empty());
            assert_eq!(calls.idle(), 1, "the thread waits for the next call");
        }
    }

    #[test]
    fn concurrent_calls_each_get_an_answer_and_idle_threads_are_bounded() {
        let calls = threads("noop");
        let callers = calls.max_idle() + 8;
        let barrier = std::sync::Barrier::new(callers);
        thread::scope(|scope| {
            for _ in 0..callers {
                scope.spawn(|| {
                    barrier.wait();
                    for _ in 0..5 {
                        assert!(calls.call(event()).unwrap().veto.is_none());
                    }
                });
            }
        });
        let idle = calls.idle();
        assert!((1..=calls.max_idle()).contains(&idle), "{idle} idle threads");
    }

    #[test]
    fn a_marked_thread_runs_calls_itself_even_a_looping_one() {
        let calls = threads("looper");
        let answer = thread::Builder::new()
            .stack_size(INLINE_STACK)
            .spawn(move || {
                mark_thread_stack(INLINE_STACK);
                assert!(runs_inline());
                let failed = calls.call(event());
                (failed, calls.idle())
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(
            matches!(answer.0, Err(Failure::OutOfFuel { .. } | Failure::Timeout { .. })),
            "{:?}",
            answer.0
        );
        assert_eq!(answer.1, 0, "no call thread was started");
        // A thread marked with less, or not at all, hands the call over.
        let calls = threads("noop");
        mark_thread_stack(INLINE_STACK - 1);
        assert!(!runs_inline());
        assert!(calls.call(event()).unwrap().veto.is_none());
        assert_eq!(calls.idle(), 1);
        mark_thread_stack(0);
    }

    #[test]
    fn a_failed_call_keeps_its_thread_usable() {
        let calls = threads("trapper");
        for _ in 0..3 {
            assert!(matches!(calls.call(event()), Err(Failure::Trap(_))));
        }
        assert_eq!(calls.idle(), 1);
    }
}
