//! Witness CARs: an anchor commit with everything needed to check its path, as the CAS hands
//! them to nodes (`witnessCar` in a COMPLETED request; cas:src/services/witness-service.ts).

use ceramic_codecs::{AnchorCommit, AnchorProof, Block, Cid, Payload, read_car};
use ceramic_storage::MapSource;

use crate::{Error, Result};

/// A checked witness: an anchor commit, its proof, and the blocks that show its path leads from
/// the proof's root to its `prev`. Chain inclusion of the proof is not checked here (that is an
/// [`AnchorVerifier`](crate::AnchorVerifier)'s job).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witness {
    cid: Cid,
    commit: AnchorCommit,
    proof: AnchorProof,
    blocks: Vec<Block>,
}

impl Witness {
    /// Reads a witness CAR: one root, the anchor commit; its proof; and the Merkle nodes on its
    /// path, walked with [`verify_merkle_path`](crate::verify_merkle_path). Extra blocks are
    /// allowed and kept.
    ///
    /// # Errors
    /// The codec's CAR and block errors ([`Error::Codec`]), [`Error::WitnessRoots`],
    /// [`Error::MissingBlock`], [`Error::NotAnAnchorCommit`], and [`Error::Path`] when the path
    /// does not lead to `prev` or a node is missing or malformed.
    pub fn from_car(bytes: &[u8]) -> Result<Self> {
        let car = read_car(bytes)?;
        let cid = match car.roots.as_slice() {
            [root] => *root,
            roots => return Err(Error::WitnessRoots(roots.len())),
        };
        let block = car.get(&cid).ok_or(Error::MissingBlock(Box::new(cid)))?;
        let Payload::Anchor(commit) = Payload::decode(block.data())? else {
            return Err(Error::NotAnAnchorCommit(Box::new(cid)));
        };
        let proof_block =
            car.get(&commit.proof).ok_or(Error::MissingBlock(Box::new(commit.proof)))?;
        let proof: AnchorProof = ceramic_codecs::decode(proof_block.data(), "anchor proof")?;
        let mut source = MapSource::default();
        source.extend(&car.blocks);
        crate::verify_merkle_path(&source, proof.root, &commit.path, commit.prev)
            .map_err(|e| Error::Path(Box::new(e)))?;
        Ok(Witness { cid, commit, proof, blocks: car.blocks })
    }

    /// The anchor commit's CID.
    pub fn cid(&self) -> Cid {
        self.cid
    }

    /// The anchor commit.
    pub fn commit(&self) -> &AnchorCommit {
        &self.commit
    }

    /// The proof.
    pub fn proof(&self) -> &AnchorProof {
        &self.proof
    }

    /// Every block of the CAR, in file order (each checked against its CID).
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }
}
