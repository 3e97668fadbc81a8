//! Loading commits from blocks: signature checks, anchor proofs and Merkle paths.

use ceramic_codecs::{AnchorCommit, AnchorProof, Block, Cid, Codec, Envelope, Ipld, Payload};
use ceramic_did::{Resolver, verify_commit};

use crate::{AnchorError, ApplyError, BlockSource};

/// The deepest Merkle path accepted (2^64 leaves is more than any batch).
const MAX_PATH: usize = 64;

/// A commit loaded from its blocks: decoded strictly, its signature (if any) verified.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum LoadedCommit {
    /// A genesis or data commit.
    Change {
        /// The commit's CID (the envelope's if signed).
        cid: Cid,
        /// The payload.
        payload: Payload,
        /// The DID whose signature verified (`None`: unsigned).
        signer: Option<String>,
        /// The `cap` of the signature's protected header.
        capability: Option<String>,
    },
    /// An anchor commit with its proof.
    Anchor {
        /// The commit's CID.
        cid: Cid,
        /// The commit.
        commit: AnchorCommit,
        /// The proof block's content.
        proof: AnchorProof,
    },
}

impl LoadedCommit {
    /// The commit's CID.
    pub fn cid(&self) -> Cid {
        match self {
            LoadedCommit::Change { cid, .. } | LoadedCommit::Anchor { cid, .. } => *cid,
        }
    }

    /// The commit it follows (`None` for a genesis).
    pub fn prev(&self) -> Option<Cid> {
        match self {
            LoadedCommit::Change { payload: Payload::Data(d), .. } => Some(d.prev),
            LoadedCommit::Change { .. } => None,
            LoadedCommit::Anchor { commit, .. } => Some(commit.prev),
        }
    }

    /// The genesis it names (`None` for a genesis, or an old anchor commit without `id`).
    pub fn id(&self) -> Option<Cid> {
        match self {
            LoadedCommit::Change { payload: Payload::Data(d), .. } => Some(d.id),
            LoadedCommit::Change { .. } => None,
            LoadedCommit::Anchor { commit, .. } => commit.id,
        }
    }

    /// `"genesis"`, `"data"` or `"anchor"`.
    pub fn kind(&self) -> &'static str {
        match self {
            LoadedCommit::Change { payload, .. } => payload.kind(),
            LoadedCommit::Anchor { .. } => "anchor",
        }
    }
}

/// Reads and hash-checks a block.
pub(crate) fn get_block(source: &dyn BlockSource, cid: &Cid) -> Result<Block, ApplyError> {
    let data = source.get_block(cid)?.ok_or(ApplyError::MissingBlock(Box::new(*cid)))?;
    Block::new(*cid, data).map_err(|source| ApplyError::Codec { cid: Box::new(*cid), source })
}

/// Loads commit `cid` with every block it needs (envelope and payload; anchor commit and proof),
/// verifying signatures. The blocks are returned for storing.
pub(crate) fn load_commit(
    source: &dyn BlockSource,
    resolver: &dyn Resolver,
    cid: Cid,
) -> Result<(LoadedCommit, Vec<Block>), ApplyError> {
    let codec_err = |source| ApplyError::Codec { cid: Box::new(cid), source };
    let block = get_block(source, &cid)?;
    if cid.codec() == Codec::DagJose.code() {
        let envelope = Envelope::decode(block.data()).map_err(codec_err)?;
        let payload_block = get_block(source, envelope.link())?;
        let verified = verify_commit(resolver, block.data(), payload_block.data())
            .map_err(|source| ApplyError::Signature { cid: Box::new(cid), source })?;
        let commit = LoadedCommit::Change {
            cid,
            payload: verified.payload().clone(),
            signer: Some(verified.did().to_string()),
            capability: verified.signer().header.cap.clone(),
        };
        if let LoadedCommit::Change { payload: Payload::Anchor(_), .. } = commit {
            return Err(ApplyError::WrongKind {
                cid: Box::new(cid),
                kind: "signed anchor",
                expected: "unsigned anchor",
            });
        }
        return Ok((commit, vec![block, payload_block]));
    }
    match Payload::decode(block.data()).map_err(codec_err)? {
        Payload::Anchor(commit) => {
            let proof_block = get_block(source, &commit.proof)?;
            let proof: AnchorProof =
                ceramic_codecs::decode(proof_block.data(), "anchor proof").map_err(codec_err)?;
            Ok((LoadedCommit::Anchor { cid, commit, proof }, vec![block, proof_block]))
        }
        payload => {
            Ok((LoadedCommit::Change { cid, payload, signer: None, capability: None }, vec![block]))
        }
    }
}

/// Checks that `path` leads from `root` to `prev` through dag-cbor Merkle nodes (lists whose
/// elements are links), returning the nodes walked. An empty path means `root == prev`.
///
/// # Errors
/// [`ApplyError::Anchor`] with [`AnchorError::PathMismatch`] or [`AnchorError::InvalidPath`],
/// [`ApplyError::MissingBlock`] for a missing node.
pub fn verify_merkle_path(
    source: &dyn BlockSource,
    anchor: Cid,
    root: Cid,
    path: &str,
    prev: Cid,
) -> Result<Vec<Block>, ApplyError> {
    let invalid = |reason| ApplyError::Anchor {
        cid: Box::new(anchor),
        source: AnchorError::InvalidPath { path: path.to_string(), reason },
    };
    let mismatch = || ApplyError::Anchor {
        cid: Box::new(anchor),
        source: AnchorError::PathMismatch {
            root: Box::new(root),
            path: path.to_string(),
            prev: Box::new(prev),
        },
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
        let block = get_block(source, &at)?;
        let node: Ipld = ceramic_codecs::decode(block.data(), "Merkle node")
            .map_err(|source| ApplyError::Codec { cid: Box::new(at), source })?;
        let Ipld::List(children) = node else { return Err(invalid("a node is not a list")) };
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
