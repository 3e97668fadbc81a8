//! [`Hooks`]: the node-local programs the service calls around writes and on events. The
//! service defines the trait and calls it; `ceramic-hooks` implements it with sandboxed
//! WebAssembly (`specs/hooks.md`). Without hooks the service checks one `Option` and goes on.

use std::fmt;

use ceramic_codecs::Cid;
use ceramic_doctype::StreamState;
use ceramic_streamid::StreamId;

use crate::Service;

/// What happened to a stream, for [`Hooks::on_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HookEventKind {
    /// A write through this node's APIs was applied and stored.
    CommitApplied,
    /// An anchor commit from the node's anchor service was applied.
    Anchored,
    /// The stream was pinned through the node's APIs.
    Pinned,
    /// The stream was unpinned through the node's APIs.
    Unpinned,
    /// A write through this node's APIs was refused (by the engine or a hook's veto).
    Rejected,
}

impl HookEventKind {
    /// Every kind, in the order of [`HookEventKind::name`]'s list in `specs/hooks.md`.
    pub const ALL: [HookEventKind; 5] = [
        HookEventKind::CommitApplied,
        HookEventKind::Anchored,
        HookEventKind::Pinned,
        HookEventKind::Unpinned,
        HookEventKind::Rejected,
    ];

    /// The name in configs and in the event JSON: `commit_applied`, `anchored`, `pinned`,
    /// `unpinned`, `rejected`.
    pub fn name(self) -> &'static str {
        match self {
            HookEventKind::CommitApplied => "commit_applied",
            HookEventKind::Anchored => "anchored",
            HookEventKind::Pinned => "pinned",
            HookEventKind::Unpinned => "unpinned",
            HookEventKind::Rejected => "rejected",
        }
    }

    /// The kind named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// An event for [`Hooks::on_event`].
#[derive(Debug, Clone)]
pub struct HookEvent {
    /// What happened.
    pub kind: HookEventKind,
    /// The stream (unknown for a rejected write whose commit did not decode).
    pub stream: Option<StreamId>,
    /// The commit written, anchored or refused, when there is one.
    pub commit: Option<Cid>,
    /// The stream's state after the event, when the service has it.
    pub state: Option<StreamState>,
    /// Why a write was rejected.
    pub reason: Option<String>,
}

/// A hook's answer to a write before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Store it.
    Allow,
    /// Refuse it (node-local policy: other nodes decide for themselves).
    Veto {
        /// The hook that refused.
        hook: String,
        /// Its reason.
        reason: String,
    },
}

/// A configured hook as `ListHooks` / `ceramic hooks list` show it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HookInfo {
    /// Its name.
    pub name: String,
    /// Its module file.
    pub module: String,
    /// The events it takes (`before_write` when it may veto, then [`HookEventKind::name`]s).
    pub events: Vec<String>,
    /// Its stream filter, as `key=value` pairs (empty: every stream).
    pub filter: Vec<String>,
    /// Calls so far.
    pub runs: u64,
    /// Calls that failed (trap, fuel, memory, time, bad answer).
    pub failures: u64,
    /// Writes it vetoed.
    pub vetoes: u64,
}

impl HookInfo {
    /// A hook named `name` running `module`, with counts.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: String,
        module: String,
        events: Vec<String>,
        filter: Vec<String>,
        runs: u64,
        failures: u64,
        vetoes: u64,
    ) -> Self {
        HookInfo { name, module, events, filter, runs, failures, vetoes }
    }
}

/// Node-local programs around writes and events. Implemented by `ceramic-hooks`.
pub trait Hooks: Send + Sync + fmt::Debug {
    /// Whether any hook looks at writes before they are stored (else the service skips
    /// [`Hooks::before_write`]).
    fn checks_writes(&self) -> bool;

    /// Called on the blocking pool for a write that arrived through this node's APIs (never
    /// for commits from the network or the anchor service), with the state it would make and
    /// its commit, before anything is stored. Must return within the hooks' own time limits.
    fn before_write(&self, state: &StreamState, commit: &Cid) -> Verdict;

    /// Called after an event; must not block (queue the work). `service` is the node's, for
    /// the pins hooks ask for.
    fn on_event(&self, event: HookEvent, service: &Service);

    /// The configured hooks, with their counts.
    fn list(&self) -> Vec<HookInfo>;
}
