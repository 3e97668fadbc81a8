//! The blocks of a stream's log: what pinning keeps, GC marks and a backup holds.
//!
//! For each log entry: the commit block; for a signed commit its envelope's payload block; for
//! an anchor commit its proof block and the Merkle nodes on the path from the proof's root to
//! the anchored commit. These are exactly the blocks the engine stores with a commit, and all
//! it needs to rebuild the state. The walk also checks that the log hangs together (genesis
//! first, each `prev` the previous entry, kinds as logged), so a complete walk means a complete,
//! intact log.

use ceramic_codecs::{AnchorProof, Block, Cid, Codec, Envelope, Ipld, Payload};
use ceramic_doctype::{CommitKind, StreamState};
use ceramic_streamid::StreamId;

use crate::error::{Error, Result};

/// The longest Merkle path walked (the engine's limit too).
const MAX_PATH: usize = 64;
const DAG_CBOR: u64 = Codec::DagCbor.code();
const DAG_JOSE: u64 = Codec::DagJose.code();

/// A block source for the walk: `Ok(None)` when the block is absent.
pub(crate) type GetBlock<'a> = dyn FnMut(&Cid) -> Result<Option<Block>> + 'a;

fn fetch(get: &mut GetBlock<'_>, stream: StreamId, cid: &Cid) -> Result<Block> {
    get(cid)?.ok_or(Error::MissingBlock { stream, cid: *cid })
}

/// Every block of `state`'s log (see the module docs), in log order, without duplicates.
pub(crate) fn walk_log(
    state: &StreamState,
    stream: StreamId,
    get: &mut GetBlock<'_>,
) -> Result<Vec<Block>> {
    let mut out: Vec<Block> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut keep = |out: &mut Vec<Block>, block: Block| {
        if seen.insert(*block.cid()) {
            out.push(block);
        }
    };
    let mut previous: Option<Cid> = None;
    for entry in state.log() {
        let cid = entry.cid;
        let broken = |reason| Error::BrokenLog { stream, cid, reason };
        let undecodable =
            |at: Cid, what| move |source| Error::Undecodable { stream, cid: at, what, source };
        let block = fetch(get, stream, &cid)?;
        let payload = match cid.codec() {
            DAG_JOSE => {
                let link = *Envelope::decode(block.data())
                    .map_err(undecodable(cid, "signed envelope"))?
                    .link();
                keep(&mut out, block);
                let payload_block = fetch(get, stream, &link)?;
                let payload = Payload::decode(payload_block.data())
                    .map_err(undecodable(link, "commit payload"))?;
                keep(&mut out, payload_block);
                payload
            }
            DAG_CBOR => {
                let payload =
                    Payload::decode(block.data()).map_err(undecodable(cid, "commit payload"))?;
                keep(&mut out, block);
                payload
            }
            _ => return Err(broken("the commit is neither dag-cbor nor dag-jose")),
        };
        let (kind, id, prev) = match &payload {
            Payload::Genesis(_) => (CommitKind::Genesis, None, None),
            Payload::Data(d) => (CommitKind::Data, Some(d.id), Some(d.prev)),
            Payload::Anchor(a) => (CommitKind::Anchor, a.id, Some(a.prev)),
        };
        if kind != entry.kind {
            return Err(broken("the log entry's kind is not the commit's"));
        }
        match previous {
            None if kind != CommitKind::Genesis || cid != stream.cid() => {
                return Err(broken("the log does not start with the stream's genesis"));
            }
            Some(p) if prev != Some(p) => {
                return Err(broken("its prev is not the previous log entry"));
            }
            _ => {}
        }
        if id.is_some_and(|id| id != stream.cid()) {
            return Err(broken("the commit names another stream"));
        }
        if let Payload::Anchor(anchor) = &payload {
            let proof_block = fetch(get, stream, &anchor.proof)?;
            let proof: AnchorProof = ceramic_codecs::decode(proof_block.data(), "anchor proof")
                .map_err(undecodable(anchor.proof, "anchor proof"))?;
            keep(&mut out, proof_block);
            let mut at = proof.root;
            if !anchor.path.is_empty() {
                let steps: Vec<&str> = anchor.path.split('/').collect();
                if steps.len() > MAX_PATH {
                    return Err(broken("the Merkle path is longer than 64 steps"));
                }
                for step in steps {
                    let index: usize =
                        step.parse().map_err(|_| broken("a Merkle path step is not a number"))?;
                    let node_block = fetch(get, stream, &at)?;
                    let node: Ipld = ceramic_codecs::decode(node_block.data(), "Merkle node")
                        .map_err(undecodable(at, "Merkle node"))?;
                    let Ipld::List(children) = node else {
                        return Err(broken("a Merkle node is not a list"));
                    };
                    let Some(Ipld::Link(child)) = children.get(index) else {
                        return Err(broken("a Merkle path step leads to no link"));
                    };
                    at = *child;
                    keep(&mut out, node_block);
                }
            }
            if at != anchor.prev {
                return Err(broken("the Merkle path does not lead to the anchored commit"));
            }
        }
        previous = Some(cid);
    }
    Ok(out)
}
