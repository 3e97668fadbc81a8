//! [`Updates`]: new tips as a broadcast, for [`Service::subscribe`](crate::Service::subscribe). The engine announces every new tip
//! (local writes and tips from the network) to its publisher; this one forwards them to every
//! open subscription.

use ceramic_codecs::Cid;
use ceramic_engine::Publisher;
use ceramic_streamid::StreamId;
use tokio::sync::broadcast;

/// How many announcements a slow subscriber may fall behind before it skips to the latest
/// state.
pub const UPDATES_CAPACITY: usize = 1024;

/// The engine's publisher for subscriptions: a broadcast of `(stream, new tip)`.
#[derive(Debug, Clone)]
pub struct Updates {
    sender: broadcast::Sender<(StreamId, Cid)>,
}

impl Default for Updates {
    fn default() -> Self {
        Updates { sender: broadcast::channel(UPDATES_CAPACITY).0 }
    }
}

impl Updates {
    /// A broadcast with [`UPDATES_CAPACITY`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Receives every announcement from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<(StreamId, Cid)> {
        self.sender.subscribe()
    }
}

impl Publisher for Updates {
    fn publish_update(&self, stream: &StreamId, tip: &Cid) {
        // No receiver is not an error: nobody is subscribed.
        let _ = self.sender.send((*stream, *tip));
    }
}
