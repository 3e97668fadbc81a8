//! Blocks: bytes with the CID they hash to.

use cid::Cid;
use cid::multihash::Multihash;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{Error, MAX_BLOCK_SIZE, Result};

/// The IPLD codecs Ceramic commits use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Codec {
    /// dag-cbor, 0x71: unsigned commits, payloads, anchor commits, proofs, Merkle nodes.
    DagCbor,
    /// dag-jose, 0x85: signed envelopes.
    DagJose,
}

impl Codec {
    /// The multicodec code.
    pub const fn code(self) -> u64 {
        match self {
            Codec::DagCbor => 0x71,
            Codec::DagJose => 0x85,
        }
    }

    /// The codec's name.
    pub const fn name(self) -> &'static str {
        match self {
            Codec::DagCbor => "dag-cbor",
            Codec::DagJose => "dag-jose",
        }
    }
}

/// Multihash code of sha2-256.
const SHA2_256: u64 = 0x12;
/// Multihash code of the identity "hash".
const IDENTITY: u64 = 0x00;

/// The CIDv1 of `bytes` under `codec` (any multicodec code), hashed with sha2-256.
pub fn cid_of(codec: u64, bytes: &[u8]) -> Cid {
    let digest = Sha256::digest(bytes);
    let hash = Multihash::<64>::wrap(SHA2_256, &digest).expect("a sha2-256 digest is 32 bytes");
    Cid::new_v1(codec, hash)
}

/// A block whose bytes are known to hash to its CID.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Block {
    cid: Cid,
    data: Vec<u8>,
}

impl Block {
    /// Checks that `data` hashes to `cid` and is within [`MAX_BLOCK_SIZE`].
    ///
    /// # Errors
    /// [`Error::BlockTooLarge`], [`Error::UnsupportedHash`] for a multihash other than sha2-256
    /// or identity, [`Error::HashMismatch`].
    pub fn new(cid: Cid, data: Vec<u8>) -> Result<Self> {
        Self::check(&cid, &data)?;
        Ok(Block { cid, data })
    }

    /// Checks that `data` hashes to `cid` and is within [`MAX_BLOCK_SIZE`], without copying it.
    ///
    /// # Errors
    /// As [`Block::new`].
    pub fn check(cid: &Cid, data: &[u8]) -> Result<()> {
        if data.len() > MAX_BLOCK_SIZE {
            return Err(Error::BlockTooLarge { size: data.len(), max: MAX_BLOCK_SIZE });
        }
        let hash = cid.hash();
        let matches = match hash.code() {
            SHA2_256 => Sha256::digest(data).as_slice() == hash.digest(),
            IDENTITY => data == hash.digest(),
            other => return Err(Error::UnsupportedHash(other)),
        };
        if !matches {
            return Err(Error::HashMismatch {
                expected: Box::new(*cid),
                actual: Box::new(cid_of(cid.codec(), data)),
            });
        }
        Ok(())
    }

    /// Hashes `data` (sha2-256) to make its CID under `codec`.
    ///
    /// # Errors
    /// [`Error::BlockTooLarge`].
    pub fn from_data(codec: Codec, data: Vec<u8>) -> Result<Self> {
        if data.len() > MAX_BLOCK_SIZE {
            return Err(Error::BlockTooLarge { size: data.len(), max: MAX_BLOCK_SIZE });
        }
        Ok(Block { cid: cid_of(codec.code(), &data), data })
    }

    /// Encodes `value` as canonical dag-cbor and makes the block under `codec`.
    ///
    /// # Errors
    /// See [`crate::encode`].
    pub fn encode<T: Serialize + ?Sized>(codec: Codec, value: &T) -> Result<Self> {
        Self::from_data(codec, crate::encode(value)?)
    }

    /// The CID.
    pub fn cid(&self) -> &Cid {
        &self.cid
    }

    /// The bytes.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The CID and the bytes.
    pub fn into_parts(self) -> (Cid, Vec<u8>) {
        (self.cid, self.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bytes_that_do_not_hash_to_the_cid() {
        let block = Block::from_data(Codec::DagCbor, vec![0xa0]).unwrap();
        let (cid, _) = block.clone().into_parts();
        assert!(matches!(Block::new(cid, vec![0x80]), Err(Error::HashMismatch { .. })));
        assert_eq!(Block::new(cid, vec![0xa0]).unwrap(), block);
    }

    #[test]
    fn rejects_oversized_blocks() {
        let big = vec![0u8; MAX_BLOCK_SIZE + 1];
        assert!(matches!(Block::from_data(Codec::DagCbor, big), Err(Error::BlockTooLarge { .. })));
    }

    #[test]
    fn rejects_unknown_hashes() {
        let hash = Multihash::<64>::wrap(0x1b, &[0; 32]).unwrap();
        let cid = Cid::new_v1(0x71, hash);
        assert!(matches!(Block::new(cid, vec![]), Err(Error::UnsupportedHash(0x1b))));
    }
}
