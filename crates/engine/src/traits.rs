//! The engine's view of the network: where new tips are announced. (Storage is
//! `ceramic_storage::Storage`, chains are `ceramic_anchor::AnchorVerifier`.)

use ceramic_codecs::Cid;
use ceramic_streamid::StreamId;

/// Announces new tips to the network.
pub trait Publisher: Send + Sync {
    /// Announces that `tip` is the tip of `stream`. Must not block for long: queue and return.
    fn publish_update(&self, stream: &StreamId, tip: &Cid);
}

/// Announces each new tip to several publishers in turn (e.g. the network and local
/// subscribers).
#[derive(Clone, Default)]
pub struct Fanout(Vec<std::sync::Arc<dyn Publisher>>);

impl Fanout {
    /// No publishers yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a publisher.
    #[must_use]
    pub fn with(mut self, publisher: std::sync::Arc<dyn Publisher>) -> Self {
        self.0.push(publisher);
        self
    }
}

impl std::fmt::Debug for Fanout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fanout").field("publishers", &self.0.len()).finish()
    }
}

impl Publisher for Fanout {
    fn publish_update(&self, stream: &StreamId, tip: &Cid) {
        for publisher in &self.0 {
            publisher.publish_update(stream, tip);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::RecordingPublisher;
    use std::sync::Arc;

    #[test]
    fn fanout_tells_every_publisher() {
        let (a, b) =
            (Arc::new(RecordingPublisher::default()), Arc::new(RecordingPublisher::default()));
        let fanout = Fanout::new().with(a.clone()).with(b.clone());
        let stream: StreamId =
            "kjzl6cwe1jw147dvq16zluojmraqvwdmbh61dx9e0c59i344lcrsgqfohexp60s".parse().unwrap();
        fanout.publish_update(&stream, &stream.cid());
        assert_eq!(a.updates(), vec![(stream, stream.cid())]);
        assert_eq!(b.updates(), a.updates());
    }
}
