//! The engine's view of the rest of the node: storage, chains and the network.

use ceramic_codecs::{AnchorProof, Block, Cid};
use ceramic_doctype::StreamState;
use ceramic_streamid::StreamId;

use crate::{AnchorError, StoreError};

/// Where the engine reads blocks from (the local store, then the network).
pub trait BlockSource: Send + Sync {
    /// The bytes of block `cid`, or `None` if it is not available. Implementations need not
    /// check the hash: the engine does.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>, StoreError>;
}

/// Blocks and stream states, written together.
pub trait Store: BlockSource {
    /// The stored state of a stream.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    fn load_state(&self, id: &StreamId) -> Result<Option<StreamState>, StoreError>;

    /// Writes a commit's blocks and the stream's new state as one atomic batch.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails; nothing is written then.
    fn commit(&self, blocks: &[Block], state: &StreamState) -> Result<(), StoreError>;
}

/// Confirms that an anchor proof's root is on its chain and tells the block time.
pub trait AnchorVerifier: Send + Sync {
    /// The block timestamp (unix seconds) of the proof's transaction, once its root checks out.
    ///
    /// # Errors
    /// [`AnchorError::Chain`] when the chain does not confirm the proof.
    fn verify(&self, proof: &AnchorProof) -> Result<u64, AnchorError>;
}

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
