//! A batch of anchor requests: its Merkle tree, then, once the root is on a chain, its proof,
//! one anchor commit per request and a witness CAR per anchor commit
//! (cas:src/services/anchor-service.ts `_createIPFSProof`, `_createAnchorCommit`;
//! cas:src/services/witness-service.ts).

use ceramic_codecs::{AnchorCommit, AnchorProof, Block, Cid, Codec, write_car};

use crate::merkle::{Tree, sort_by_cid};
use crate::{Error, Result};

/// A request to anchor a stream's tip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Request {
    /// The stream's genesis commit (the anchor commit's `id`).
    pub genesis: Cid,
    /// The commit to anchor (the anchor commit's `prev`, a leaf of the tree).
    pub tip: Cid,
}

/// Requests in leaf order and their Merkle tree, before the root goes on a chain.
#[derive(Debug, Clone)]
pub struct Batch {
    requests: Vec<Request>,
    tree: Tree,
}

impl Batch {
    /// Sorts the requests by tip in CAS order ([`crate::cas_order`], stable for equal tips) and
    /// builds their tree.
    ///
    /// # Errors
    /// [`Error::EmptyBatch`] when there are no requests.
    pub fn new(mut requests: Vec<Request>) -> Result<Self> {
        sort_by_cid(&mut requests, |r| &r.tip);
        let tree = Tree::from_ordered(requests.iter().map(|r| r.tip).collect())?;
        Ok(Batch { requests, tree })
    }

    /// The requests in leaf order: request `i` is leaf `i`.
    pub fn requests(&self) -> &[Request] {
        &self.requests
    }

    /// The Merkle tree.
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// The Merkle root, which the transaction must carry.
    pub fn root(&self) -> Cid {
        self.tree.root()
    }

    /// Makes the proof `{chainId, root, txHash, txType}` for the transaction that carries the
    /// root, and one anchor commit `{id, prev, proof, path}` per request.
    ///
    /// # Errors
    /// [`Error::Codec`] only if a block cannot be encoded (a proof or commit over the block size
    /// limit, which takes a chain id of about 256 kB).
    pub fn finish(self, chain_id: &str, tx_hash: Cid, tx_type: Option<&str>) -> Result<Anchors> {
        let proof = AnchorProof {
            chain_id: chain_id.into(),
            root: self.tree.root(),
            tx_hash,
            tx_type: tx_type.map(Into::into),
        };
        let proof_block = Block::encode(Codec::DagCbor, &proof)?;
        let anchors = self
            .requests
            .iter()
            .zip(self.tree.paths())
            .map(|(request, path)| {
                let commit = AnchorCommit {
                    id: Some(request.genesis),
                    prev: request.tip,
                    proof: *proof_block.cid(),
                    path,
                };
                // Encoding the struct gives the same bytes as `Payload::Anchor(commit)`.
                let block = Block::encode(Codec::DagCbor, &commit)?;
                Ok(Anchor { request: *request, commit, block })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Anchors { tree: self.tree, proof, proof_block, anchors })
    }
}

/// One request's anchor commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    request: Request,
    commit: AnchorCommit,
    block: Block,
}

impl Anchor {
    /// The request it answers.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The anchor commit.
    pub fn commit(&self) -> &AnchorCommit {
        &self.commit
    }

    /// The anchor commit's CID.
    pub fn cid(&self) -> Cid {
        *self.block.cid()
    }

    /// The anchor commit's block.
    pub fn block(&self) -> &Block {
        &self.block
    }
}

/// A batch whose root is on a chain: the proof, and the anchor commits in leaf order.
#[derive(Debug, Clone)]
pub struct Anchors {
    tree: Tree,
    proof: AnchorProof,
    proof_block: Block,
    anchors: Vec<Anchor>,
}

impl Anchors {
    /// The proof all the anchor commits share.
    pub fn proof(&self) -> &AnchorProof {
        &self.proof
    }

    /// The proof's block.
    pub fn proof_block(&self) -> &Block {
        &self.proof_block
    }

    /// The Merkle tree.
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// The anchor commits, in leaf order (the order of [`Batch::requests`]).
    pub fn anchors(&self) -> &[Anchor] {
        &self.anchors
    }

    /// Every block of the batch: the proof, the Merkle nodes and the anchor commits.
    pub fn blocks(&self) -> impl Iterator<Item = &Block> {
        std::iter::once(&self.proof_block)
            .chain(self.tree.nodes())
            .chain(self.anchors.iter().map(Anchor::block))
    }

    /// The blocks of anchor commit `index`'s witness: the anchor commit, the proof, and the
    /// Merkle nodes from the root down its path; `None` if there is no such anchor commit.
    pub fn witness(&self, index: usize) -> Option<Vec<&Block>> {
        let anchor = self.anchors.get(index)?;
        let nodes = self.tree.witness(index)?;
        let mut blocks = Vec::with_capacity(nodes.len() + 2);
        blocks.push(&anchor.block);
        blocks.push(&self.proof_block);
        blocks.extend(nodes);
        Some(blocks)
    }

    /// Anchor commit `index`'s witness CAR: root the anchor commit, blocks as
    /// [`Anchors::witness`] lists them (cas:src/services/witness-service.ts).
    ///
    /// # Errors
    /// [`Error::NoSuchLeaf`].
    pub fn witness_car(&self, index: usize) -> Result<Vec<u8>> {
        let missing = || Error::NoSuchLeaf { index, len: self.anchors.len() };
        let root = self.anchors.get(index).ok_or_else(missing)?.cid();
        let blocks = self.witness(index).ok_or_else(missing)?;
        Ok(write_car(&[root], blocks)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ceramic_codecs::{Payload, cid_of};

    fn request(n: u8) -> Request {
        Request { genesis: cid_of(0x71, &[n, 0]), tip: cid_of(0x85, &[n, 1]) }
    }

    #[test]
    fn makes_one_anchor_commit_per_request_in_leaf_order() {
        let requests: Vec<Request> = (0..5).map(request).collect();
        let batch = Batch::new(requests.clone()).unwrap();
        let tips: Vec<Cid> = batch.requests().iter().map(|r| r.tip).collect();
        assert_eq!(tips, batch.tree().leaves());
        let tx = cid_of(0x93, b"tx");
        let anchors = batch.finish("eip155:1", tx, Some("f(bytes32)")).unwrap();
        assert_eq!(anchors.proof().tx_hash, tx);
        assert_eq!(anchors.proof().root, anchors.tree().root());
        assert_eq!(anchors.anchors().len(), 5);
        for (i, anchor) in anchors.anchors().iter().enumerate() {
            let commit = anchor.commit();
            assert_eq!(commit.prev, anchors.tree().leaves()[i]);
            assert_eq!(commit.id, Some(anchor.request().genesis));
            assert!(requests.contains(anchor.request()));
            assert_eq!(commit.proof, *anchors.proof_block().cid());
            assert_eq!(commit.path, anchors.tree().path(i).unwrap());
            let payload = Payload::decode(anchor.block().data()).unwrap();
            assert_eq!(payload, Payload::Anchor(commit.clone()));
        }
        assert!(matches!(anchors.witness_car(5), Err(Error::NoSuchLeaf { index: 5, len: 5 })));
        assert_eq!(anchors.blocks().count(), 1 + 4 + 5);
    }
}
