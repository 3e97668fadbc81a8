//! Where Bitswap reads the blocks it serves and (optionally) writes the blocks it fetched.

use std::collections::HashMap;
use std::sync::RwLock;

use ceramic_codecs::{Block, Cid};
use ceramic_storage::BlockSource;

use crate::StoreError;

/// Blocks by CID. Calls are synchronous; [`Bitswap`](crate::Bitswap) makes them on its own
/// store thread, in order, never on the swarm's task.
pub trait BlockStore: Send + Sync {
    /// The bytes of block `cid`, or `None`. Bitswap checks the hash before serving them.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    fn get(&self, cid: &Cid) -> Result<Option<Vec<u8>>, StoreError>;

    /// Whether block `cid` is stored.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    fn has(&self, cid: &Cid) -> Result<bool, StoreError> {
        Ok(self.get(cid)?.is_some())
    }

    /// Keeps a fetched block; returns whether it was stored. Stores that only take blocks
    /// together with a stream state (a `ceramic_storage::Storage`) return `false`: the caller of
    /// [`Bitswap::get`](crate::Bitswap::get) then stores the block itself.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    fn put(&self, block: &Block) -> Result<bool, StoreError>;
}

/// An in-memory [`BlockStore`].
#[derive(Debug, Default)]
pub struct MemoryBlockStore {
    blocks: RwLock<HashMap<Cid, Vec<u8>>>,
}

impl MemoryBlockStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a block.
    pub fn insert(&self, block: &Block) {
        self.blocks
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(*block.cid(), block.data().to_vec());
    }

    /// Adds bytes under a CID without checking them (to test that bad bytes are never served).
    pub fn insert_unchecked(&self, cid: Cid, data: Vec<u8>) {
        self.blocks.write().unwrap_or_else(|e| e.into_inner()).insert(cid, data);
    }

    /// How many blocks are stored.
    pub fn len(&self) -> usize {
        self.blocks.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether no block is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl BlockStore for MemoryBlockStore {
    fn get(&self, cid: &Cid) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.blocks.read().unwrap_or_else(|e| e.into_inner()).get(cid).cloned())
    }

    fn has(&self, cid: &Cid) -> Result<bool, StoreError> {
        Ok(self.blocks.read().unwrap_or_else(|e| e.into_inner()).contains_key(cid))
    }

    fn put(&self, block: &Block) -> Result<bool, StoreError> {
        self.insert(block);
        Ok(true)
    }
}

/// Serves the blocks of any [`BlockSource`] (e.g. a `ceramic_storage::Storage`) and keeps
/// nothing: fetched blocks go to the caller, who writes them with the stream's state.
#[derive(Debug)]
pub struct ReadOnly<S>(pub S);

impl<S: BlockSource> BlockStore for ReadOnly<S> {
    fn get(&self, cid: &Cid) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.0.get_block(cid)?)
    }

    fn put(&self, _block: &Block) -> Result<bool, StoreError> {
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ceramic_codecs::Codec;

    /// A source that always fails.
    struct Broken;

    impl BlockSource for Broken {
        fn get_block(&self, _cid: &Cid) -> ceramic_storage::Result<Option<Vec<u8>>> {
            Err(ceramic_storage::Error::InvalidState("broken on purpose"))
        }
    }

    #[test]
    fn read_only_serves_a_source_keeps_nothing_and_passes_its_errors_on() {
        let block = Block::from_data(Codec::DagCbor, vec![0xa0]).unwrap();
        let mut map = ceramic_storage::MapSource::default();
        map.extend([&block]);
        let store = ReadOnly(map);
        assert_eq!(store.get(block.cid()).unwrap().as_deref(), Some(block.data()));
        assert!(store.has(block.cid()).unwrap());
        assert!(!store.put(&block).unwrap());
        let err = ReadOnly(Broken).get(block.cid()).unwrap_err();
        assert!(err.0.downcast_ref::<ceramic_storage::Error>().is_some(), "{err}");
    }
}
