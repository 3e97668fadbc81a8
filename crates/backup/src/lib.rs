//! Backups of the node's streams: incremental, content-addressed, verified on restore.
//! Layer 12 of the workspace (above `ceramic-engine`, which re-validates restored commits);
//! the format, the manifest and the rules are in `specs/backup.md`.
//!
//! - A [`Target`] stores whole objects by name: [`DirTarget`] (a directory), [`S3Target`]
//!   (an S3-compatible object store), [`IpfsTarget`] (an IPFS peer — helia — that fetches every
//!   backed-up block over Bitswap from our node and pins it).
//! - [`run_once`] backs up the new commits of the selected streams ([`Selection`]: the pinned
//!   streams, or a metadata [`Filter`]) as one CAR per stream named after its first new commit,
//!   then writes the [`Manifest`] (each stream's last backed-up tip) last.
//! - [`restore`] reads a target back, refuses altered CARs ([`Error::Tampered`]) and re-applies
//!   every commit through the engine before storing anything ([`Error::Invalid`]).
//! - [`Runner`] is a target's background task: after anchors and/or on an interval, with
//!   exponential [`Backoff`] while the target is down or full, and its [`Status`].
//!
//! The S3 client: requests are signed by `rusty-s3` and sent by `ureq` (already built for the
//! Ethereum client) rather than `object_store` with `aws`, whose `reqwest` stack nothing else
//! in the workspace needs (cold-build comparison in `specs/backup.md`).

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod error;
mod ipfs;
mod manifest;
mod restore;
mod run;
mod s3;
mod schedule;
mod target;

pub use error::{Error, Result, TargetError};
pub use ipfs::IpfsTarget;
pub use manifest::{MANIFEST, Manifest, StreamEntry, VERSION};
pub use restore::{RestoreReport, restore};
pub use run::{Filter, RunReport, Selection, run_once, segment_name};
pub use s3::{S3Config, S3Target};
pub use schedule::{Backoff, Runner, Status, is_target_error};
pub use target::{DirTarget, Target, check_name};
