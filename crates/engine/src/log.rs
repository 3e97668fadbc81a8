//! Loading commits from blocks: signature checks, anchor proofs and Merkle paths.

use ceramic_anchor::{AnchorError, PathError};
use ceramic_codecs::{AnchorCommit, AnchorProof, Block, Cid, Codec, Envelope, Payload};
use std::sync::Arc;

use ceramic_did::{Cacao, CacaoVerifier, Resolver, cap_cid, verify_commit};
use ceramic_storage::BlockSource;

use crate::ApplyError;

/// A commit loaded from its blocks: decoded strictly, its signature (if any) verified.
// The data variant is the common one (most commits); boxing it would add an allocation per
// commit to save stack space in a value that lives only while a log is applied.
#[allow(clippy::large_enum_variant)]
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
        /// The CACAO `cap` names (its block hash-checked, its wallet signature and audience
        /// verified) and the payload CID the JWS signs; resources and time are checked when the
        /// commit is applied to its stream.
        cacao: Option<(Arc<Cacao>, Cid)>,
        /// The `kid` of the signature's protected header (did:3 keys are checked against the
        /// commit's anchor time when it is applied).
        kid: Option<String>,
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
    cacaos: &CacaoVerifier,
    cid: Cid,
) -> Result<(LoadedCommit, Vec<Block>), ApplyError> {
    let codec_err = |source| ApplyError::Codec { cid: Box::new(cid), source };
    let block = get_block(source, &cid)?;
    if cid.codec() == Codec::DagJose.code() {
        let envelope = Envelope::decode(block.data()).map_err(codec_err)?;
        let payload_block = get_block(source, envelope.link())?;
        let verified = verify_commit(resolver, block.data(), payload_block.data())
            .map_err(|source| ApplyError::Signature { cid: Box::new(cid), source })?;
        let signature_err = |e: ceramic_did::CacaoError| ApplyError::Signature {
            cid: Box::new(cid),
            source: ceramic_did::Error::Cacao(e),
        };
        let mut blocks = vec![block, payload_block];
        let mut cacao = None;
        if let Some(cap) = &verified.signer().header.cap {
            // The CACAO block travels with the commit (CAR, HTTP `cacaoBlock`) or is stored.
            let cacao_cid = cap_cid(cap).map_err(signature_err)?;
            let data = source
                .get_block(&cacao_cid)?
                .ok_or(ApplyError::MissingBlock(Box::new(cacao_cid)))?;
            let checked = cacaos.verify_block(cap, &data).map_err(signature_err)?;
            checked.check_audience(verified.did()).map_err(signature_err)?;
            blocks.push(
                Block::new(cacao_cid, data)
                    .map_err(|source| ApplyError::Codec { cid: Box::new(cacao_cid), source })?,
            );
            cacao = Some((checked, *verified.envelope().link()));
        }
        let commit = LoadedCommit::Change {
            cid,
            payload: verified.payload().clone(),
            signer: Some(verified.did().to_string()),
            capability: verified.signer().header.cap.clone(),
            cacao,
            kid: Some(verified.signer().header.kid.clone()),
        };
        if let LoadedCommit::Change { payload: Payload::Anchor(_), .. } = commit {
            return Err(ApplyError::WrongKind {
                cid: Box::new(cid),
                kind: "signed anchor",
                expected: "unsigned anchor",
            });
        }
        return Ok((commit, blocks));
    }
    match Payload::decode(block.data()).map_err(codec_err)? {
        Payload::Anchor(commit) => {
            let proof_block = get_block(source, &commit.proof)?;
            let proof: AnchorProof =
                ceramic_codecs::decode(proof_block.data(), "anchor proof").map_err(codec_err)?;
            Ok((LoadedCommit::Anchor { cid, commit, proof }, vec![block, proof_block]))
        }
        payload => Ok((
            LoadedCommit::Change {
                cid,
                payload,
                signer: None,
                capability: None,
                cacao: None,
                kid: None,
            },
            vec![block],
        )),
    }
}

/// Checks an anchor commit's Merkle path with [`ceramic_anchor::verify_merkle_path`], naming
/// the anchor commit `anchor` in the errors: the nodes walked.
///
/// # Errors
/// [`ApplyError::Anchor`] with [`AnchorError::PathMismatch`] or [`AnchorError::InvalidPath`],
/// [`ApplyError::MissingBlock`] for a missing node, [`ApplyError::Codec`] for a malformed one,
/// [`ApplyError::Store`] when the source fails.
pub(crate) fn verify_anchor_path(
    source: &dyn BlockSource,
    anchor: Cid,
    root: Cid,
    path: &str,
    prev: Cid,
) -> Result<Vec<Block>, ApplyError> {
    ceramic_anchor::verify_merkle_path(source, root, path, prev).map_err(|e| match e {
        PathError::Anchor(source) => ApplyError::Anchor { cid: Box::new(anchor), source },
        PathError::MissingBlock(cid) => ApplyError::MissingBlock(cid),
        PathError::Codec { cid, source } => ApplyError::Codec { cid, source },
        PathError::Source(e) => ApplyError::Store(e),
        // `PathError` is non-exhaustive: a reason added later is still an invalid path.
        _ => ApplyError::Anchor {
            cid: Box::new(anchor),
            source: AnchorError::InvalidPath {
                path: path.to_string(),
                reason: "the path could not be verified",
            },
        },
    })
}
