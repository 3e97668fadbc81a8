//! Fetching commit blocks from peers: the [`BlockFetcher`] trait; a request-response protocol
//! between our own nodes (`/ceramic-rs/blocks/1.0.0`, one round trip for an envelope and its
//! payload); and Bitswap ([`ceramic_bitswap`]) for the blocks no peer returned on it (helia,
//! kubo, ceramic-one peers, or ours with it turned off). Every block received is hash-checked
//! against the CID asked for before anyone uses it.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ceramic_bitswap::StoreError;
use ceramic_storage::{BlockSource, Storage};

use ceramic_codecs::{Block, Cid, Envelope};
use futures::future::BoxFuture;
use libp2p::PeerId;
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use tokio::sync::{mpsc, oneshot};

use crate::error::FetchError;
use crate::handle::Command;

/// The block protocol's name.
pub const BLOCKS_PROTOCOL: &str = "/ceramic-rs/blocks/1.0.0";

/// The most CIDs one request may ask for; longer requests are cut to this.
pub const MAX_REQUEST_CIDS: usize = 64;

/// The most block bytes one response carries (requests' blocks past it are left out).
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// A request: the CIDs wanted (binary).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BlockRequest {
    pub(crate) cids: Vec<ByteBuf>,
}

/// A response: the blocks the peer has, each as (CID bytes, data).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BlockResponse {
    pub(crate) blocks: Vec<(ByteBuf, ByteBuf)>,
}

/// The block protocol's wire codec: CBOR, requests up to 64 KiB, responses up to
/// [`MAX_RESPONSE_BYTES`] of blocks plus 64 KiB of framing.
pub(crate) fn codec() -> libp2p::request_response::cbor::codec::Codec<BlockRequest, BlockResponse> {
    libp2p::request_response::cbor::codec::Codec::default()
        .set_request_size_maximum(64 * 1024)
        .set_response_size_maximum(MAX_RESPONSE_BYTES as u64 + 64 * 1024)
}

/// Where missing blocks come from.
pub trait BlockFetcher: Send + Sync + fmt::Debug {
    /// Fetches `cids`, asking `hint` first (e.g. the peer that sent the tip), then other
    /// connected peers. Returns the blocks found, every one hash-checked; a block no peer has is
    /// left out. Dropping the future midway is safe.
    ///
    /// # Errors
    /// [`FetchError::Stopped`] when the network is gone.
    fn fetch(
        &self,
        hint: Option<PeerId>,
        cids: Vec<Cid>,
    ) -> BoxFuture<'static, Result<Vec<Block>, FetchError>>;
}

/// Fetches through the network task's request-response protocol.
#[derive(Clone)]
pub(crate) struct RequestFetcher {
    pub(crate) commands: mpsc::Sender<Command>,
    pub(crate) timeout: Duration,
}

impl fmt::Debug for RequestFetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestFetcher").finish_non_exhaustive()
    }
}

impl BlockFetcher for RequestFetcher {
    fn fetch(
        &self,
        hint: Option<PeerId>,
        cids: Vec<Cid>,
    ) -> BoxFuture<'static, Result<Vec<Block>, FetchError>> {
        let this = self.clone();
        Box::pin(async move {
            let (reply, peers) = oneshot::channel();
            this.commands.send(Command::Peers { reply }).await.map_err(|_| FetchError::Stopped)?;
            let mut peers = peers.await.map_err(|_| FetchError::Stopped)?;
            if let Some(hint) = hint
                && let Some(at) = peers.iter().position(|p| *p == hint)
            {
                peers.swap(0, at);
            }
            let mut missing: Vec<Cid> = cids;
            let mut found = Vec::new();
            for peer in peers {
                if missing.is_empty() {
                    break;
                }
                for chunk in missing.clone().chunks(MAX_REQUEST_CIDS) {
                    let (reply, response) = oneshot::channel();
                    let command = Command::Request { peer, cids: chunk.to_vec(), reply };
                    this.commands.send(command).await.map_err(|_| FetchError::Stopped)?;
                    match tokio::time::timeout(this.timeout, response).await {
                        Ok(Ok(Ok(blocks))) => found.extend(blocks),
                        Ok(Ok(Err(e))) => {
                            tracing::debug!(%peer, error = %e, "block request failed")
                        }
                        Ok(Err(_)) => return Err(FetchError::Stopped),
                        Err(_) => tracing::debug!(%peer, "block request timed out"),
                    }
                }
                let got: HashSet<Cid> = found.iter().map(|b: &Block| *b.cid()).collect();
                missing.retain(|c| !got.contains(c));
            }
            Ok(found)
        })
    }
}

/// Asks the block protocol first, then Bitswap for every block it did not bring, each with a
/// bounded wait, all at once.
#[derive(Debug, Clone)]
pub(crate) struct FallbackFetcher {
    pub(crate) first: RequestFetcher,
    pub(crate) bitswap: ceramic_bitswap::Client,
    pub(crate) timeout: Duration,
}

impl BlockFetcher for FallbackFetcher {
    fn fetch(
        &self,
        hint: Option<PeerId>,
        cids: Vec<Cid>,
    ) -> BoxFuture<'static, Result<Vec<Block>, FetchError>> {
        let this = self.clone();
        Box::pin(async move {
            let mut found = this.first.fetch(hint, cids.clone()).await?;
            let got: HashSet<Cid> = found.iter().map(|b| *b.cid()).collect();
            let missing = cids.into_iter().filter(|c| !got.contains(c));
            let timeout = this.timeout;
            let gets = missing.map(|cid| {
                let client = this.bitswap.clone();
                async move { (cid, tokio::time::timeout(timeout, client.get(cid)).await) }
            });
            for (cid, result) in futures::future::join_all(gets).await {
                match result {
                    // Bitswap rebuilt the CID from the bytes' hash; check once more here.
                    Ok(Ok(block)) if *block.cid() == cid => found.push(block),
                    Ok(Ok(block)) => {
                        tracing::warn!(%cid, got = %block.cid(), "bitswap returned another block")
                    }
                    Ok(Err(ceramic_bitswap::GetError::Shutdown)) => {
                        return Err(FetchError::Stopped);
                    }
                    Ok(Err(e)) => tracing::debug!(%cid, error = %e, "not found on bitswap"),
                    Err(_) => tracing::debug!(%cid, "bitswap fetch timed out"),
                }
            }
            Ok(found)
        })
    }
}

/// The node's storage as Bitswap's [`BlockStore`](ceramic_bitswap::BlockStore): serves stored
/// blocks (Bitswap checks their hash before sending them) and keeps nothing it fetched (the
/// sync stores blocks together with the stream's state).
pub(crate) struct StorageBlocks {
    pub(crate) storage: Arc<dyn Storage>,
    /// Fault injection for tests: hand Bitswap corrupt bytes (it must refuse to serve them).
    pub(crate) corrupt: Arc<AtomicBool>,
}

impl ceramic_bitswap::BlockStore for StorageBlocks {
    fn get(&self, cid: &Cid) -> Result<Option<Vec<u8>>, StoreError> {
        let mut data = self.storage.get_block(cid)?;
        if self.corrupt.load(Ordering::Relaxed)
            && let Some(last) = data.as_mut().and_then(|d| d.last_mut())
        {
            *last ^= 1;
        }
        Ok(data)
    }

    fn put(&self, _block: &Block) -> Result<bool, StoreError> {
        Ok(false)
    }
}

/// The payload a dag-jose envelope links to (served with it: the next block the asker needs).
pub(crate) fn envelope_link(block: &Block) -> Option<Cid> {
    (block.cid().codec() == DAG_JOSE)
        .then(|| Envelope::decode(block.data()).ok())
        .flatten()
        .map(|e| *e.link())
}

/// The dag-jose multicodec.
const DAG_JOSE: u64 = 0x85;

/// Checks a response against the request: keeps the blocks that were asked for (or are the
/// payload of an envelope asked for, which the server sends along, after it) and hash to their
/// CID; returns them and how many were bad (unparsable CID, not asked for, or wrong hash).
pub(crate) fn check_response(asked: &[Cid], response: BlockResponse) -> (Vec<Block>, usize) {
    let mut asked: HashSet<Cid> = asked.iter().copied().collect();
    let mut good = Vec::new();
    let mut bad = 0;
    for (cid, data) in response.blocks {
        let Ok(cid) = Cid::try_from(cid.as_slice()) else {
            bad += 1;
            continue;
        };
        if !asked.remove(&cid) {
            bad += 1;
            continue;
        }
        match Block::new(cid, data.into_vec()) {
            Ok(block) => {
                if let Some(payload) = envelope_link(&block) {
                    asked.insert(payload);
                }
                good.push(block);
            }
            Err(e) => {
                tracing::warn!(%cid, error = %e, "block does not match its CID: dropped");
                bad += 1;
            }
        }
    }
    (good, bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ceramic_codecs::Codec;

    #[test]
    fn storage_blocks_serves_stored_bytes_and_keeps_nothing() {
        use ceramic_bitswap::BlockStore;
        let storage = Arc::new(ceramic_storage::MemoryStorage::new());
        let author = ceramic_engine::test_utils::signer(2);
        let (_, made) = ceramic_engine::test_utils::genesis(&author, "y", None, &[]);
        let mut registry = ceramic_doctype::Registry::new();
        registry.register(ceramic_engine::test_utils::Adder).unwrap();
        let engine = ceramic_engine::Engine::new(
            storage.clone(),
            registry,
            Arc::new(ceramic_engine::memory::FakeAnchorVerifier::default()),
            Arc::new(crate::announcer().0),
        );
        engine.apply_commit(ceramic_engine::test_utils::ADDER, made.cid, &made.blocks).unwrap();
        let corrupt = Arc::new(AtomicBool::new(false));
        let store = StorageBlocks { storage, corrupt: corrupt.clone() };
        let envelope = &made.blocks[0];
        assert_eq!(store.get(envelope.cid()).unwrap().as_deref(), Some(envelope.data()));
        let absent = Block::from_data(Codec::DagCbor, vec![0x07]).unwrap();
        assert_eq!(store.get(absent.cid()).unwrap(), None);
        assert!(!store.put(&absent).unwrap(), "fetched blocks are stored by the sync");
        assert_eq!(store.get(absent.cid()).unwrap(), None);
        // Fault injection: the bytes no longer hash to the CID (Bitswap refuses to serve them).
        corrupt.store(true, Ordering::Relaxed);
        let bad = store.get(envelope.cid()).unwrap().unwrap();
        assert!(Block::new(*envelope.cid(), bad).is_err());
    }

    #[test]
    fn keeps_only_asked_blocks_that_match_their_cid() {
        let a = Block::from_data(Codec::DagCbor, vec![0x01]).unwrap();
        let b = Block::from_data(Codec::DagCbor, vec![0x02]).unwrap();
        let other = Block::from_data(Codec::DagCbor, vec![0x03]).unwrap();
        let wire = |cid: &Cid, data: &[u8]| (ByteBuf::from(cid.to_bytes()), ByteBuf::from(data));
        let response = BlockResponse {
            blocks: vec![
                wire(a.cid(), a.data()),
                wire(b.cid(), a.data()),         // b's CID, a's bytes
                wire(other.cid(), other.data()), // not asked for
                (ByteBuf::from(vec![0xff]), ByteBuf::from(vec![])),
            ],
        };
        let (good, bad) = check_response(&[*a.cid(), *b.cid()], response);
        assert_eq!(good, vec![a]);
        assert_eq!(bad, 3);
    }

    #[test]
    fn accepts_the_payload_of_an_asked_envelope_but_nothing_else_unasked() {
        let author = ceramic_engine::test_utils::signer(1);
        let (_, made) = ceramic_engine::test_utils::genesis(&author, "x", None, &[]);
        let (envelope, payload) = (&made.blocks[0], &made.blocks[1]);
        assert_eq!(envelope_link(envelope), Some(*payload.cid()));
        let wire = |b: &Block| (ByteBuf::from(b.cid().to_bytes()), ByteBuf::from(b.data()));
        let (good, bad) = check_response(
            &[*envelope.cid()],
            BlockResponse { blocks: vec![wire(envelope), wire(payload)] },
        );
        assert_eq!((good.len(), bad), (2, 0));
        // The payload alone, unasked, is refused.
        let (good, bad) =
            check_response(&[*envelope.cid()], BlockResponse { blocks: vec![wire(payload)] });
        assert_eq!((good.len(), bad), (0, 1));
    }
}
