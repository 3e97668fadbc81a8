//! The node's backup targets (`ceramic-backup` runners, built from the `[[backup]]` tables):
//! their status, a run on demand, and a verified restore.

use ceramic_backup::{Error as BackupFailure, RestoreReport, RunReport, Status};

use crate::error::{ErrorKind, TaskError};
use crate::service::Service;

/// Why a backup run or restore failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    /// No target has this name.
    #[error("no backup target is named {0:?}")]
    UnknownTarget(String),
    /// The run or the restore failed.
    #[error(transparent)]
    Backup(Box<BackupFailure>),
    /// The blocking task failed.
    #[error(transparent)]
    Task(#[from] TaskError),
}

impl BackupError {
    /// What the caller should do: a target that is down is [`ErrorKind::Unavailable`]; a
    /// backup that is tampered, inconsistent or does not validate is [`ErrorKind::Corrupt`].
    pub fn kind(&self) -> ErrorKind {
        match self {
            BackupError::UnknownTarget(_) => ErrorKind::NotFound,
            BackupError::Backup(e) => match **e {
                BackupFailure::Target(_)
                | BackupFailure::Store(_)
                | BackupFailure::Apply { .. } => ErrorKind::Unavailable,
                BackupFailure::Encode { .. } => ErrorKind::Internal,
                _ => ErrorKind::Corrupt,
            },
            BackupError::Task(e) => e.kind(),
        }
    }
}

impl Service {
    /// Every target's status, in configuration order.
    pub fn backups(&self) -> Vec<Status> {
        self.inner.backups.iter().map(|r| r.status()).collect()
    }

    /// Copies the targets' status into the metrics (when `/metrics` is rendered).
    pub fn refresh_backup_metrics(&self) {
        for status in self.backups() {
            self.inner.metrics.set_backup(&status);
        }
    }

    /// Runs the target `name` now (waiting for a run in progress), retrying nothing: the
    /// target's background task retries on its own.
    ///
    /// # Errors
    /// [`BackupError`].
    pub async fn run_backup(&self, name: &str) -> Result<RunReport, BackupError> {
        let index = self.backup_index(name)?;
        let report = self.blocking(move |inner| inner.backups[index].run_now()).await?;
        report.map_err(|e| BackupError::Backup(Box::new(e)))
    }

    /// Restores the backup in target `name` into this node, re-validating every commit
    /// (`ceramic_backup::restore`): a tampered or invalid backup stores nothing.
    ///
    /// # Errors
    /// [`BackupError`].
    pub async fn restore_backup(&self, name: &str) -> Result<RestoreReport, BackupError> {
        let index = self.backup_index(name)?;
        let report = self
            .blocking(move |inner| {
                let target = inner.backups[index].target();
                ceramic_backup::restore(&inner.engine, inner.storage.as_ref(), target.as_ref())
            })
            .await?;
        report.map_err(|e| BackupError::Backup(Box::new(e)))
    }

    fn backup_index(&self, name: &str) -> Result<usize, BackupError> {
        self.inner
            .backups
            .iter()
            .position(|r| r.name() == name)
            .ok_or_else(|| BackupError::UnknownTarget(name.to_owned()))
    }
}
