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
