//! [`BlockSource`]: raw, unverified blocks by CID (a store, a peer, an overlay of given blocks).

use std::collections::HashMap;
use std::sync::Arc;

use ceramic_codecs::{Block, Cid};

use crate::error::Result;

/// Where blocks are read from: the local store ([`Storage`](crate::Storage) is one), the
/// network, blocks given with a request. The bytes are unverified: whoever uses them checks
/// their hash against the CID (the engine does, through [`Block::new`]).
pub trait BlockSource: Send + Sync {
    /// The bytes of block `cid`, or `None` if it is not available.
    ///
    /// # Errors
    /// [`Error`](crate::Error) when the source fails (a read error, or a stored block that does
    /// not hash to its CID: [`Error::CorruptBlock`](crate::Error::CorruptBlock)).
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>>;
}

impl<S: BlockSource + ?Sized> BlockSource for &S {
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>> {
        (**self).get_block(cid)
    }
}

impl<S: BlockSource + ?Sized> BlockSource for Arc<S> {
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>> {
        (**self).get_block(cid)
    }
}

/// A [`BlockSource`] over a map, e.g. the blocks a remote peer holds or a witness carries. It
/// never fails.
///
/// ```
/// use ceramic_codecs::{Block, Codec};
/// use ceramic_storage::{BlockSource, MapSource};
///
/// let block = Block::from_data(Codec::DagCbor, vec![0xa0])?;
/// let mut source = MapSource::default();
/// source.extend([&block]);
/// assert_eq!(source.get_block(block.cid())?.as_deref(), Some(block.data()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MapSource(pub HashMap<Cid, Vec<u8>>);

impl MapSource {
    /// Adds blocks.
    pub fn extend<'a>(&mut self, blocks: impl IntoIterator<Item = &'a Block>) {
        self.0.extend(blocks.into_iter().map(|b| (*b.cid(), b.data().to_vec())));
    }
}

impl BlockSource for MapSource {
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>> {
        Ok(self.0.get(cid).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ceramic_codecs::Codec;

    #[test]
    fn a_map_source_serves_what_it_holds_through_references_and_arcs() {
        let block = Block::from_data(Codec::DagCbor, vec![0x80]).unwrap();
        let other = Block::from_data(Codec::DagCbor, vec![0xa0]).unwrap();
        let mut map = MapSource::default();
        map.extend([&block]);
        let shared: Arc<dyn BlockSource> = Arc::new(map.clone());
        for source in [&map as &dyn BlockSource, &&map, &shared] {
            assert_eq!(source.get_block(block.cid()).unwrap().as_deref(), Some(block.data()));
            assert_eq!(source.get_block(other.cid()).unwrap(), None);
        }
    }
}
