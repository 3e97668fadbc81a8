//! Cost per commit of hooks on the write path: a genesis written through the node service
//! (in-memory store, the engine's test doctype) with no hook, with the no-op hook and with the
//! veto hook (which reads the state and allows), both as `veto = true` hooks so they run before
//! every write. The difference to `none` is what a hook adds (target < 50 µs). Each on two
//! runtimes: tokio's default (`handed_over`: the call goes to a call thread of the hook) and
//! the node's (`inline`: big, marked thread stacks; the call runs on the writing thread).
//!
//! Run: `cargo bench -p ceramic-hooks --bench hooks` (figures in benches/README.md).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ceramic_engine::Engine;
use ceramic_engine::memory::{FakeAnchorVerifier, RecordingPublisher};
use ceramic_engine::test_utils::{ADDER, Adder, genesis, signer};
use ceramic_hooks::{HookConfig, INLINE_STACK, WasmHooks, mark_thread_stack};
use ceramic_service::{CommitBlocks, Metrics, Service};
use ceramic_storage::{MemoryStorage, Storage};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

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

criterion_group!(benches, write_path);
criterion_main!(benches);
