//! [`LoadError`]: why a hook could not be loaded (config validation); [`VerdictError`]: why a
//! hook's answer was refused; [`Failure`]: why one call of a hook failed at run time.

use std::path::PathBuf;

/// Why a configured hook could not be loaded. Config validation reports it, naming the hook.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A setting is out of range or malformed; `key` names it (`hooks[2].fuel`, …).
    #[error("config key `{key}`: {reason}")]
    Invalid {
        /// The key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// The module file could not be read.
    #[error("hook {hook:?}: reading the module {path}: {source}")]
    Read {
        /// The hook.
        hook: String,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid WebAssembly module (or uses a feature the sandbox refuses).
    #[error("hook {hook:?}: {path} is not a valid WebAssembly module: {source}")]
    NotWasm {
        /// The hook.
        hook: String,
        /// The file.
        path: PathBuf,
        /// The engine's reason.
        #[source]
        source: wasmi::Error,
    },
    /// The module lacks an export the ABI requires.
    #[error("hook {hook:?}: the module does not export `{export}` ({expected})")]
    MissingExport {
        /// The hook.
        hook: String,
        /// The export (`memory`, `alloc`, `on_event`).
        export: &'static str,
        /// What it must be.
        expected: &'static str,
    },
    /// An export has the wrong kind or signature.
    #[error("hook {hook:?}: export `{export}` must be {expected}, found {found}")]
    WrongExport {
        /// The hook.
        hook: String,
        /// The export.
        export: &'static str,
        /// What it must be.
        expected: &'static str,
        /// What it is.
        found: String,
    },
    /// The module imports something the host does not provide.
    #[error(
        "hook {hook:?}: the module imports `{module}.{name}`, which the host does not provide ({reason})"
    )]
    UnknownImport {
        /// The hook.
        hook: String,
        /// The import's module.
        module: String,
        /// The import's name.
        name: String,
        /// Why it does not link (unknown, or of another type).
        reason: String,
    },
    /// Two hooks have one name.
    #[error("config key `hooks[{index}].name`: {name:?} is used by another hook")]
    DuplicateName {
        /// The second hook's position.
        index: usize,
        /// The name.
        name: String,
    },
}

/// Why the bytes a hook answered are not a verdict (`specs/hooks.md`, "The verdict").
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerdictError {
    /// Longer than [`crate::MAX_VERDICT_BYTES`].
    #[error("the verdict is {len} bytes, at most {max}")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not the verdict JSON.
    #[error("the verdict is not {{\"veto\": string | null}} JSON: {reason}")]
    Malformed {
        /// serde_json's message.
        reason: String,
    },
    /// A veto without a reason.
    #[error("a veto needs a non-empty reason of at most {max} bytes")]
    BadReason {
        /// The limit.
        max: usize,
    },
    /// The packed pointer and length do not lie in the hook's memory.
    #[error("the verdict at {ptr}+{len} is outside the hook's memory")]
    OutOfBounds {
        /// The pointer.
        ptr: u32,
        /// The length.
        len: u32,
    },
}

/// Why one call of a hook failed. Counted in `ceramic_hook_failures_total{reason}` by
/// [`Failure::reason`], logged, and — unless the hook says `on_error = "veto"` — the write goes
/// on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Failure {
    /// The hook trapped (unreachable, a bad memory access, a division by zero, its stack ran
    /// out, …).
    #[error("trapped: {0}")]
    Trap(wasmi::Error),
    /// The hook used its fuel (instructions) for the call.
    #[error("ran out of fuel ({fuel} units)")]
    OutOfFuel {
        /// The budget.
        fuel: u64,
    },
    /// The call took longer than the hook's `timeout_ms`.
    #[error("took longer than {ms} ms")]
    Timeout {
        /// The limit.
        ms: u64,
    },
    /// The hook asked for more memory than its `memory_bytes` and then failed.
    #[error("exceeded its memory cap of {bytes} bytes")]
    Memory {
        /// The cap.
        bytes: usize,
    },
    /// The hook's answer is not a verdict.
    #[error("bad verdict: {0}")]
    BadVerdict(#[from] VerdictError),
    /// The module could not be instantiated (e.g. its initial memory is over the cap).
    #[error("could not start: {0}")]
    Instantiate(wasmi::Error),
}

impl Failure {
    /// The metrics label: `trap`, `out_of_fuel`, `timeout`, `memory`, `bad_verdict`,
    /// `instantiate`.
    pub fn reason(&self) -> &'static str {
        match self {
            Failure::Trap(_) => "trap",
            Failure::OutOfFuel { .. } => "out_of_fuel",
            Failure::Timeout { .. } => "timeout",
            Failure::Memory { .. } => "memory",
            Failure::BadVerdict(_) => "bad_verdict",
            Failure::Instantiate(_) => "instantiate",
        }
    }
}
