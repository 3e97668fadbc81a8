//! Hooks: node-local WebAssembly micro-programs the node runs before writes and on stream
//! events — declared in the node config (`[[hooks]]`, [`HookConfig`]) with the events they take
//! and a stream filter, run sandboxed with fuel, memory and wall-clock limits. A hook can veto
//! a write that arrived through this node's APIs (never what the network sends), ask to pin or
//! unpin, log, keep counters, and post to allow-listed URLs. The ABI (a core module, JSON in
//! and out) is `specs/hooks.md`; the example hooks are AssemblyScript in `tools/hooks/`, built
//! by `cargo xtask hooks`.
//!
//! Layer 17, next to the front-ends: it implements [`ceramic_service::Hooks`], the trait the
//! service defines and calls; `ceramic-core` loads [`WasmHooks`] from the config.
//!
//! # The WebAssembly engine: wasmi, not wasmtime
//!
//! The issue names wasmtime; we use **wasmi** (an interpreter with fuel metering), because of
//! wasmtime's build cost on CI's two cores. Measured on this machine (2 cores shared with other
//! agents' builds), each engine alone in a scratch crate with the workspace's dev profile
//! (dependencies at opt-level 2), `cargo build -j2 --offline` from an empty target dir, one
//! after the other (2026-12-06):
//!
//! | engine | features | cold build | load average during it |
//! |---|---|---|---|
//! | wasmi 2.0.0 | `std` (the crate also needs `validate`: wasmparser's validator) | 172 s | 15–19 |
//! | wasmtime 48.0.11 | `runtime`, `cranelift`, `std` | 3,533 s (59 min) | 18–19 |
//!
//! (wasmtime's newest release needs Rust 1.97; 48 is the newest for our pinned 1.95.) The
//! load was high and not constant, so the absolute figures are inflated, but the ratio (about
//! 20×: cranelift-codegen alone ran for tens of minutes) leaves wasmtime far above the ~3
//! minutes of CI time a dependency may add, while wasmi adds 7 crates (wasmi, wasmi_core,
//! wasmi_ir, wasmi_collections, wasmparser, spin, string-interner) and is built once in CI's one `--all-features`
//! build (no feature gate). What wasmi lacks we do otherwise: no epoch interruption — a call
//! gets its fuel in slices and the wall clock is checked between slices (and host calls such
//! as `http_post` get only the time left); memory through wasmi's `StoreLimits`; the stack
//! through its recursion-depth limit. An interpreter is slower than a JIT, but hooks are
//! micro-programs (see the bench, `benches/README.md`).
//!
//! # Failures
//!
//! A hook that traps, runs out of fuel, time or memory, or answers garbage is stopped; the
//! failure is counted (`ceramic_hook_failures_total{hook,reason}`) and logged, and the write
//! goes on unless the hook's `on_error = "veto"`. Every call runs in a fresh instance, so a
//! failed call leaves nothing behind.
//!
//! Cargo feature `fuzzing`: the [`fuzzing`] module for `fuzz/` (the verdict parser).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod abi;
mod calls;
mod config;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
mod hooks;
mod runtime;

pub use abi::{
    BEFORE_WRITE, EventJson, MAX_REASON_BYTES, MAX_VERDICT_BYTES, parse_verdict, unpack,
    verdict_bytes,
};
pub use calls::{INLINE_STACK, mark_thread_stack};
pub use config::{
    DEFAULT_FUEL, DEFAULT_MEMORY_BYTES, DEFAULT_TIMEOUT_MS, FilterConfig, HookConfig, MAX_FUEL,
    MAX_MEMORY_BYTES, MAX_TIMEOUT_MS, MIN_MEMORY_BYTES, OnError,
};
pub use error::{Failure, LoadError, VerdictError};
pub use hooks::{QUEUE_CAPACITY, WasmHooks};
pub use runtime::PinRequest;
