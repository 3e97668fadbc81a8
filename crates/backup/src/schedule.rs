//! A target's background task: runs after each anchor and/or on an interval, retries a failed
//! run with exponential back-off, and keeps the target's [`Status`].

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ceramic_storage::Storage;
use tokio::sync::Notify;

use crate::error::{Error, Result};
use crate::manifest::Manifest;
use crate::run::{RunReport, Selection, run_reporting};
use crate::target::Target;

/// A target's state, as metrics and `ListBackups` show it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// The target's configured name.
    pub name: String,
    /// `dir`, `s3` or `ipfs`.
    pub kind: String,
    /// Runs finished (with or without error).
    pub runs: u64,
    /// Runs that failed.
    pub errors: u64,
    /// When the last run ended (unix seconds).
    pub last_run: Option<u64>,
    /// When the last successful run ended (unix seconds).
    pub last_success: Option<u64>,
    /// Streams the target holds (per its manifest, after the last successful run).
    pub streams: usize,
    /// Commits the target holds (per its manifest).
    pub commits: usize,
    /// Commits sent since the node started.
    pub commits_sent: u64,
    /// Streams with commits not yet backed up after the last run.
    pub pending: usize,
    /// The last run's error, if it failed.
    pub last_error: Option<String>,
    /// When the next retry is due (unix seconds), while failing.
    pub retry_at: Option<u64>,
}

/// The back-off between retries of a failed run: `min`, doubling up to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first delay.
    pub min: Duration,
    /// The longest delay.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { min: Duration::from_secs(1), max: Duration::from_secs(300) }
    }
}

impl Backoff {
    /// The delay after `failures` failures in a row (1 → `min`).
    pub fn delay(&self, failures: u32) -> Duration {
        let factor = 1u32.checked_shl(failures.saturating_sub(1)).unwrap_or(u32::MAX);
        self.min.saturating_mul(factor).min(self.max)
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// One configured target with its store, selection and status. Runs never overlap.
pub struct Runner {
    target: Arc<dyn Target>,
    store: Arc<dyn Storage>,
    selection: Selection,
    status: Mutex<Status>,
    running: Mutex<()>,
    trigger: Notify,
    backoff: Backoff,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("target", &self.target)
            .field("selection", &self.selection)
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl Runner {
    /// A runner for `target` named `name` (`kind`: `dir`, `s3`, `ipfs`).
    pub fn new(
        name: impl Into<String>,
        kind: impl Into<String>,
        target: Arc<dyn Target>,
        store: Arc<dyn Storage>,
        selection: Selection,
    ) -> Self {
        let status = Status { name: name.into(), kind: kind.into(), ..Status::default() };
        Runner {
            target,
            store,
            selection,
            status: Mutex::new(status),
            running: Mutex::new(()),
            trigger: Notify::new(),
            backoff: Backoff::default(),
        }
    }

    /// Sets the back-off of failed runs.
    #[must_use]
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The target.
    pub fn target(&self) -> &Arc<dyn Target> {
        &self.target
    }

    /// The target's name.
    pub fn name(&self) -> String {
        self.status().name
    }

    /// The current status.
    pub fn status(&self) -> Status {
        self.status.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Asks the background task for a run (after an anchor); runs coalesce.
    pub fn trigger(&self) {
        self.trigger.notify_one();
    }

    /// One run now (blocking; waits for a run in progress), updating the status.
    ///
    /// # Errors
    /// The run's error (see [`crate::run_once`]).
    pub fn run_now(&self) -> Result<RunReport> {
        let _running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        let (report, outcome) =
            run_reporting(self.store.as_ref(), self.target.as_ref(), &self.selection);
        let held = match &outcome {
            Ok(()) => Manifest::load(self.target.as_ref()).ok(),
            Err(_) => None,
        };
        let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        status.runs += 1;
        status.last_run = Some(now());
        status.commits_sent += report.commits as u64;
        if let Some(manifest) = held {
            status.streams = manifest.streams.len();
            status.commits = manifest.commits();
        }
        match &outcome {
            Ok(()) => {
                status.last_success = status.last_run;
                status.pending = report.failures.len();
                status.last_error = report.failures.first().map(|(s, e)| format!("{s}: {e}"));
                status.retry_at = None;
            }
            Err(e) => {
                status.errors += 1;
                status.pending = report.needed.saturating_sub(report.streams).max(1);
                status.last_error = Some(e.to_string());
            }
        }
        drop(status);
        outcome.map(|()| report)
    }

    /// Runs until dropped: after each [`Runner::trigger`] and every `interval` (when given);
    /// a failed run is retried after [`Backoff::delay`] until one succeeds.
    pub async fn run_forever(self: Arc<Self>, interval: Option<Duration>) {
        loop {
            match interval {
                Some(every) => {
                    tokio::select! {
                        () = self.trigger.notified() => {}
                        () = tokio::time::sleep(every) => {}
                    }
                }
                None => self.trigger.notified().await,
            }
            let mut failures = 0u32;
            loop {
                let runner = Arc::clone(&self);
                let outcome = tokio::task::spawn_blocking(move || runner.run_now()).await;
                let error = match outcome {
                    Ok(Ok(_)) => break,
                    Ok(Err(e)) => e,
                    Err(join) => {
                        tracing::error!(target = %self.name(), "backup run panicked: {join}");
                        break;
                    }
                };
                failures = failures.saturating_add(1);
                let delay = self.backoff.delay(failures);
                tracing::warn!(target = %self.name(), ?delay, "backup run failed: {error}");
                self.status.lock().unwrap_or_else(PoisonError::into_inner).retry_at =
                    Some(now() + delay.as_secs().max(1));
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// Whether `error` is the target's (down, full): worth retrying as is.
pub fn is_target_error(error: &Error) -> bool {
    matches!(error, Error::Target(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_its_max() {
        let b = Backoff { min: Duration::from_millis(100), max: Duration::from_secs(1) };
        let delays: Vec<u128> = (1..=6).map(|n| b.delay(n).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(1));
    }
}
