//! Cost per commit of hooks on the write path: a genesis written through the node service
//! (in-memory store, the engine's test doctype) with no hook, with the no-op hook and with the
//! veto hook (which reads the state and allows), both as `veto = true` hooks so they run before
//! every write. The difference to `none` is what a hook adds (target < 50 µs). Each on two
//! runtimes: tokio's default (`handed_over`: the call goes to a call thread of the hook) and
//! the node's (`inline`: big, marked thread stacks; the call runs on the writing thread).
//! `hook_call` times the hook's call alone (`before_write` on a stored state), both ways.
//!
//! Run: `cargo bench -p ceramic-hooks --bench hooks` (figures in benches/README.md).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ceramic_engine::Engine;
use ceramic_engine::memory::{FakeAnchorVerifier, RecordingPublisher};
use ceramic_engine::test_utils::{ADDER, Adder, genesis, signer};
use ceramic_hooks::{HookConfig, INLINE_STACK, WasmHooks, mark_thread_stack};
use ceramic_service::{CommitBlocks, Metrics, Service, Verdict};
use ceramic_storage::{MemoryStorage, Storage};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group};

fn service(module: Option<&str>) -> Service {
    let storage = Arc::new(MemoryStorage::new());
    let mut registry = ceramic_doctype::Registry::new();
    registry.register(Adder).expect("one doctype");
    let engine = Engine::new(
        storage.clone(),
        registry,
        Arc::new(FakeAnchorVerifier::default()),
        Arc::new(RecordingPublisher::default()),
    );
    let metrics = Metrics::new();
    let mut builder = Service::builder(Arc::new(engine), storage as Arc<dyn Storage>)
        .with_metrics(metrics.clone());
    if let Some(name) = module {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../../tools/hooks/build/{name}.wasm"));
        let mut hook = HookConfig::new(name, path);
        hook.veto = true;
        let hooks = WasmHooks::load(&[hook], &metrics).expect("the example hook loads");
        builder = builder.with_hooks(Arc::new(hooks));
    }
    builder.build()
}

/// The runtimes the writes run on: tokio's default (2 MiB thread stacks: each hook call is
/// handed to a call thread of the hook) and one whose threads have `INLINE_STACK` and say so
/// (the calls run on the writing thread), as `ceramic_core::runtime_builder` makes for the node.
fn runtimes() -> [(&'static str, tokio::runtime::Runtime); 2] {
    let handed_over = tokio::runtime::Runtime::new().expect("a runtime");
    let inline = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(INLINE_STACK)
        .on_thread_start(|| mark_thread_stack(INLINE_STACK))
        .build()
        .expect("a runtime");
    [("handed_over", handed_over), ("inline", inline)]
}

fn write_path(c: &mut Criterion) {
    let author = signer(1);
    let counter = AtomicU64::new(0);
    let mut group = c.benchmark_group("hook_write_path");
    group.throughput(Throughput::Elements(1));
    for (calls, runtime) in runtimes() {
        for hook in [None, Some("noop"), Some("veto")] {
            let service = service(hook);
            let id = format!("{}/{calls}", hook.unwrap_or("none"));
            group.bench_function(BenchmarkId::from_parameter(id), |b| {
                b.iter_batched(
                    || {
                        let n = counter.fetch_add(1, Ordering::Relaxed);
                        let (_, made) = genesis(&author, &n.to_string(), Some("bench"), &["t"]);
                        CommitBlocks::new(made.cid, made.blocks).expect("two blocks")
                    },
                    |commit| runtime.block_on(service.create(ADDER, commit)).expect("stored"),
                    BatchSize::SmallInput,
                );
            });
        }
    }
    group.finish();
}

/// One `before_write` call of a hook on a state written before: what the hook adds to a write,
/// without the write around it (whose own time varies by more than a hook costs). `inline`
/// runs on this thread (INLINE_STACK bytes, marked); `handed_over` with the mark taken off, so
/// each call goes to a call thread of the hook.
fn hook_call(c: &mut Criterion) {
    use ceramic_service::Hooks as _;
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let (_, made) = genesis(&signer(1), "state", Some("bench"), &["t"]);
    let commit = CommitBlocks::new(made.cid, made.blocks).expect("two blocks");
    let state = runtime.block_on(service(None).create(ADDER, commit)).expect("stored");
    let mut group = c.benchmark_group("hook_call");
    group.throughput(Throughput::Elements(1));
    for name in ["noop", "veto"] {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../../tools/hooks/build/{name}.wasm"));
        let mut hook = HookConfig::new(name, path);
        hook.veto = true;
        let hooks = WasmHooks::load(&[hook], &Metrics::new()).expect("the example hook loads");
        let call = || assert!(matches!(hooks.before_write(&state, &made.cid), Verdict::Allow));
        // This thread has INLINE_STACK bytes of stack (main below): unmarked, the calls are
        // handed over; marked, they run here.
        for (calls, stack) in [("handed_over", 0), ("inline", INLINE_STACK)] {
            mark_thread_stack(stack);
            group.bench_function(BenchmarkId::from_parameter(format!("{name}/{calls}")), |b| {
                b.iter(call);
            });
        }
        mark_thread_stack(0);
    }
    group.finish();
}

criterion_group!(benches, write_path, hook_call);

/// `criterion_main!`, on a thread with `INLINE_STACK` bytes of stack (for `hook_call`).
fn main() {
    let thread = std::thread::Builder::new().stack_size(INLINE_STACK).spawn(|| {
        benches();
        Criterion::default().configure_from_args().final_summary();
    });
    thread.expect("a thread").join().expect("the benches ran");
}
