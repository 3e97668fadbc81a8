//! Where completed anchors go: an [`AnchorSink`], e.g. the node applying the anchor commits to
//! its engine, or a [`BroadcastSink`] that any number of tasks can subscribe to.

use std::sync::Arc;

use ceramic_anchor::Anchors;
use tokio::sync::broadcast;

use crate::RequestRecord;

/// A finished batch: its anchors (proof, Merkle nodes, one anchor commit per request) and the
/// requests, now COMPLETED, in the same (leaf) order as [`Anchors::anchors`].
#[derive(Debug, Clone)]
pub struct Published {
    /// The batch's anchors.
    pub anchors: Anchors,
    /// The COMPLETED requests: `requests[i]` is answered by `anchors.anchors()[i]`.
    pub requests: Vec<RequestRecord>,
}

/// Receives every finished batch, after its requests are stored COMPLETED. Called from the
/// batching thread: it must not block for long. A batch whose publication was cut short by a
/// crash is not published again (nodes also poll `GET /api/v0/requests/:cid`).
pub trait AnchorSink: Send + Sync + std::fmt::Debug {
    /// Hands over a finished batch.
    fn publish(&self, batch: &Arc<Published>);
}

/// A sink that drops every batch.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSink;

impl AnchorSink for NoSink {
    fn publish(&self, _batch: &Arc<Published>) {}
}

/// A sink that sends every batch to its subscribers over a bounded tokio broadcast channel
/// (a subscriber that falls more than the capacity behind misses batches and is told so by
/// `RecvError::Lagged`).
#[derive(Debug, Clone)]
pub struct BroadcastSink {
    sender: broadcast::Sender<Arc<Published>>,
}

impl BroadcastSink {
    /// A channel keeping the last `capacity` batches (at least 1).
    pub fn new(capacity: usize) -> Self {
        BroadcastSink { sender: broadcast::channel(capacity.max(1)).0 }
    }

    /// A new subscriber, receiving the batches published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.sender.subscribe()
    }
}

impl AnchorSink for BroadcastSink {
    fn publish(&self, batch: &Arc<Published>) {
        // No subscriber is not an error: nobody is listening yet.
        let _ = self.sender.send(batch.clone());
    }
}
