//! Checking an anchor: [`verify_merkle_path`] walks a proof's Merkle path through a
//! [`BlockSource`], and an [`AnchorVerifier`] confirms the proof's root on its chain. The engine
//! uses both for every anchor commit it applies; witnesses are checked with the first.

use ceramic_codecs::{AnchorProof, Block, Cid, Ipld};
use ceramic_storage::BlockSource;

/// The deepest Merkle path accepted (2^64 leaves is more than any batch).
const MAX_PATH: usize = 64;

/// Confirms that an anchor proof's root is on its chain and tells the block time.
pub trait AnchorVerifier: Send + Sync {
    /// The block timestamp (unix seconds) of the proof's transaction, once its root checks out.
    ///
    /// # Errors
    /// [`AnchorError::Chain`] when the chain does not confirm the proof.
    fn verify(&self, proof: &AnchorProof) -> Result<u64, AnchorError>;
}

/// Why an anchor commit is not valid.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnchorError {
    /// The Merkle path does not lead from the proof's root to the anchored commit.
    #[error("the path {path:?} from root {root} does not lead to prev {prev}")]
    PathMismatch {
        /// The proof's root.
        root: Box<Cid>,
        /// The path.
        path: String,
        /// The anchored commit.
        prev: Box<Cid>,
    },
    /// A path step is not `0`, `1` (or `2` for a root's metadata), or a node is not a list of links.
    #[error("invalid Merkle path {path:?}: {reason}")]
    InvalidPath {
        /// The path.
        path: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The chain does not confirm the proof.
    #[error("chain verification of tx {tx_hash} on {chain_id} failed: {reason}")]
    Chain {
        /// The proof's chain.
        chain_id: String,
        /// The proof's transaction.
        tx_hash: Box<Cid>,
        /// Why.
        reason: String,
    },
}

/// Why [`verify_merkle_path`] did not confirm a path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// The path is invalid or leads elsewhere ([`AnchorError::PathMismatch`],
    /// [`AnchorError::InvalidPath`]).
    #[error(transparent)]
    Anchor(AnchorError),
    /// A Merkle node is not available from the source.
    #[error("Merkle node {0} is not available")]
    MissingBlock(Box<Cid>),
    /// A Merkle node's bytes do not hash to its CID, or do not decode.
    #[error("Merkle node {cid}: {source}")]
    Codec {
        /// The node.
        cid: Box<Cid>,
        /// The codec's reason.
        #[source]
        source: ceramic_codecs::Error,
    },
    /// The block source failed.
    #[error(transparent)]
    Source(Box<ceramic_storage::Error>),
}

/// Reads and hash-checks a Merkle node.
fn node(source: &dyn BlockSource, cid: &Cid) -> Result<Block, PathError> {
    let data = source
        .get_block(cid)
        .map_err(|e| PathError::Source(Box::new(e)))?
        .ok_or(PathError::MissingBlock(Box::new(*cid)))?;
    Block::new(*cid, data).map_err(|source| PathError::Codec { cid: Box::new(*cid), source })
}

/// Checks that `path` leads from `root` to `prev` through dag-cbor Merkle nodes (lists whose
/// elements are links), returning the nodes walked. An empty path means `root == prev`.
///
/// ```
/// use ceramic_anchor::{Batch, Request, verify_merkle_path};
/// use ceramic_codecs::cid_of;
/// use ceramic_storage::MapSource;
///
/// let requests = (0u8..3)
///     .map(|i| Request { genesis: cid_of(0x71, &[i]), tip: cid_of(0x71, &[i, 1]) })
///     .collect();
/// let batch = Batch::new(requests)?;
/// let root = batch.root();
/// let anchors = batch.finish("inmemory:12345", cid_of(0x93, &[7]), None)?;
/// let anchor = &anchors.anchors()[0];
/// let mut source = MapSource::default();
/// source.extend(anchors.blocks());
/// let commit = anchor.commit();
/// let nodes = verify_merkle_path(&source, root, &commit.path, commit.prev)?;
/// assert!(!nodes.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`PathError::Anchor`] with [`AnchorError::PathMismatch`] or [`AnchorError::InvalidPath`];
/// [`PathError::MissingBlock`] for a missing node, [`PathError::Codec`] for a malformed one,
/// [`PathError::Source`] when the source fails.
pub fn verify_merkle_path(
    source: &dyn BlockSource,
    root: Cid,
    path: &str,
    prev: Cid,
) -> Result<Vec<Block>, PathError> {
    let invalid =
        |reason| PathError::Anchor(AnchorError::InvalidPath { path: path.to_string(), reason });
    let mismatch = || {
        PathError::Anchor(AnchorError::PathMismatch {
            root: Box::new(root),
            path: path.to_string(),
            prev: Box::new(prev),
        })
    };
    if path.is_empty() {
        return if root == prev { Ok(vec![]) } else { Err(mismatch()) };
    }
    let steps: Vec<&str> = path.split('/').collect();
    if steps.len() > MAX_PATH {
        return Err(invalid("longer than 64 steps"));
    }
    let mut nodes = Vec::with_capacity(steps.len());
    let mut at = root;
    for (i, step) in steps.iter().enumerate() {
        let index: usize = match *step {
            "0" => 0,
            "1" => 1,
            _ => return Err(invalid("a step is not 0 or 1")),
        };
        let block = node(source, &at)?;
        let decoded: Ipld = ceramic_codecs::decode(block.data(), "Merkle node")
            .map_err(|source| PathError::Codec { cid: Box::new(at), source })?;
        let Ipld::List(children) = decoded else { return Err(invalid("a node is not a list")) };
        let Some(Ipld::Link(child)) = children.get(index) else {
            return Err(invalid("a step leads to no link"));
        };
        nodes.push(block);
        if i + 1 == steps.len() {
            return if *child == prev { Ok(nodes) } else { Err(mismatch()) };
        }
        at = *child;
    }
    Err(invalid("empty step"))
}
