//! Pins, listings, garbage collection, the store's statistics and health:
//! [`Service::pin`], [`Service::streams`], [`Service::gc`] and the rest of what goes to the
//! storage rather than through the engine's write path.

use ceramic_storage::{GcReport, Page, Stats};
use ceramic_streamid::StreamId;

use crate::Service;
use crate::error::{StoreError, WriteError};
use crate::hooks::{HookEvent, HookEventKind};
use crate::service::page_limit;

/// Which streams a query lists.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamFilter {
    /// Every stored stream.
    All,
    /// Streams whose first controller is this DID.
    Controller(String),
    /// Streams of this family.
    Family(String),
    /// Streams with this tag.
    Tag(String),
}

/// What one garbage collection did and how long it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GcRun {
    /// What it removed and kept.
    pub report: GcReport,
    /// How long it took (waiting for in-flight writes included).
    pub duration: std::time::Duration,
}

/// Whether the node can serve.
#[derive(Debug)]
pub enum Health {
    /// Storage answers.
    Serving,
    /// Storage failed.
    NotServing(StoreError),
}

impl Service {
    /// Pins a stored stream: GC keeps it.
    ///
    /// # Errors
    /// [`StoreError`]; an unknown stream is [`ceramic_storage::Error::NotFound`].
    pub async fn pin(&self, stream: StreamId) -> Result<(), StoreError> {
        self.blocking(move |inner| inner.storage.pin(&stream)).await??;
        self.notify(pin_event(HookEventKind::Pinned, stream));
        Ok(())
    }

    /// Unpins a stream; whether it was pinned.
    ///
    /// # Errors
    /// [`StoreError`].
    pub async fn unpin(&self, stream: StreamId) -> Result<bool, StoreError> {
        let was = self.blocking(move |inner| inner.storage.unpin(&stream)).await??;
        if was {
            self.notify(pin_event(HookEventKind::Unpinned, stream));
        }
        Ok(was)
    }

    /// Whether a stream is pinned.
    ///
    /// # Errors
    /// [`StoreError`].
    pub async fn is_pinned(&self, stream: StreamId) -> Result<bool, StoreError> {
        Ok(self.blocking(move |inner| inner.storage.is_pinned(&stream)).await??)
    }

    /// A page of pinned streams after `after`; `limit` 0 is
    /// [`DEFAULT_PAGE`](crate::DEFAULT_PAGE), larger than [`MAX_PAGE`](crate::MAX_PAGE) is
    /// lowered to it.
    ///
    /// # Errors
    /// [`StoreError`].
    pub async fn pins(&self, after: Option<StreamId>, limit: usize) -> Result<Page, StoreError> {
        let limit = page_limit(limit);
        Ok(self.blocking(move |inner| inner.storage.pins(after.as_ref(), limit)).await??)
    }

    /// A page of the streams `filter` selects, after `after` (limits as [`Service::pins`]).
    ///
    /// # Errors
    /// [`StoreError`].
    pub async fn streams(
        &self,
        filter: StreamFilter,
        after: Option<StreamId>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let limit = page_limit(limit);
        let page = self
            .blocking(move |inner| {
                let (storage, after) = (&inner.storage, after.as_ref());
                match &filter {
                    StreamFilter::All => storage.streams(after, limit),
                    StreamFilter::Controller(c) => storage.list_by_controller(c, after, limit),
                    StreamFilter::Family(f) => storage.list_by_family(f, after, limit),
                    StreamFilter::Tag(t) => storage.list_by_tag(t, after, limit),
                }
            })
            .await??;
        Ok(page)
    }

    /// Runs garbage collection ([`Engine::gc`](ceramic_engine::Engine::gc): in-flight writes finish first, new ones wait)
    /// and counts it in the metrics.
    ///
    /// # Errors
    /// [`WriteError`] with the engine's storage error.
    pub async fn gc(&self) -> Result<GcRun, WriteError> {
        let run = self
            .blocking(|inner| {
                let started = std::time::Instant::now();
                inner.engine.gc().map(|report| GcRun { report, duration: started.elapsed() })
            })
            .await??;
        let report = &run.report;
        self.inner.metrics.gc_run(
            report.streams_removed as u64,
            report.blocks_removed as u64,
            report.bytes_freed,
        );
        tracing::info!(
            streams_removed = report.streams_removed,
            blocks_removed = report.blocks_removed,
            bytes_freed = report.bytes_freed,
            pinned = report.pinned_streams,
            ms = run.duration.as_millis(),
            "garbage collected"
        );
        Ok(run)
    }

    /// How much the store holds (a full scan).
    ///
    /// # Errors
    /// [`StoreError`].
    pub async fn stats(&self) -> Result<Stats, StoreError> {
        Ok(self.blocking(|inner| inner.storage.stats()).await??)
    }

    /// Whether writes that do not say are pinned.
    pub fn pins_on_write(&self) -> bool {
        self.inner.pin_on_write
    }

    /// Whether the node can serve: one read of the store.
    pub async fn health(&self) -> Health {
        match self.blocking(|inner| inner.storage.streams(None, 1)).await {
            Ok(Ok(_)) => Health::Serving,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "health check: storage failed");
                Health::NotServing(e.into())
            }
            Err(e) => Health::NotServing(e.into()),
        }
    }
}

fn pin_event(kind: HookEventKind, stream: StreamId) -> HookEvent {
    HookEvent { kind, stream: Some(stream), commit: None, state: None, reason: None }
}
