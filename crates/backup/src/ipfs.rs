//! The IPFS target: every block of a backup fetched over Bitswap from our node and pinned by an
//! IPFS peer (helia, `tools/helia/peer.mjs` with `HELIA_CONTROL=1`), with the manifest and a
//! small index per segment (its root and block CIDs, JSON) in a local directory.
//!
//! The peer's control interface (HTTP on 127.0.0.1): `POST /pin/<cid>?from=<multiaddr>` fetches
//! the block over Bitswap (dialing our node at `from`) and pins it (depth 0: a commit's links
//! lead into other streams' Merkle trees, so the backup pins exactly its own blocks);
//! `GET /block/<cid>` reads a block back.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use ceramic_codecs::{Block, Cid, read_car, write_car};
use serde::{Deserialize, Serialize};

use crate::error::TargetError;
use crate::target::{DirTarget, Target};

/// The largest block read back from the peer (the codecs' block limit is 256,000 bytes).
const MAX_BLOCK: u64 = 1 << 20;

/// What the index keeps of one segment; its blocks are on the IPFS peer.
#[derive(Debug, Serialize, Deserialize)]
struct SegmentIndex {
    roots: Vec<String>,
    blocks: Vec<String>,
}

/// An IPFS peer that pins the backed-up blocks, with a local index directory.
#[derive(Debug)]
pub struct IpfsTarget {
    control: String,
    index: DirTarget,
    agent: ureq::Agent,
    providers: Mutex<Vec<String>>,
}

impl IpfsTarget {
    /// A target pinning through the peer's control interface at `control`
    /// (`http://127.0.0.1:<port>`), keeping its index in `index`. Each request (one block's
    /// fetch and pin) may take `timeout`.
    pub fn new(control: impl Into<String>, index: DirTarget, timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build()
            .new_agent();
        let control = control.into().trim_end_matches('/').to_owned();
        IpfsTarget { control, index, agent, providers: Mutex::new(Vec::new()) }
    }

    fn failed(&self, reason: impl std::fmt::Display) -> TargetError {
        TargetError::Ipfs { peer: self.control.clone(), reason: reason.to_string() }
    }

    fn pin(&self, cid: &Cid) -> Result<(), TargetError> {
        let from = self.providers.lock().unwrap_or_else(PoisonError::into_inner).first().cloned();
        let mut request = self.agent.post(format!("{}/pin/{cid}", self.control));
        if let Some(from) = &from {
            request = request.query("from", from);
        }
        let mut response = request.send_empty().map_err(|e| self.failed(e))?;
        let status = response.status().as_u16();
        let body = response.body_mut().with_config().limit(MAX_BLOCK).read_to_string();
        if status != 200 {
            return Err(
                self.failed(format!("pin {cid}: HTTP {status} {}", body.unwrap_or_default()))
            );
        }
        Ok(())
    }

    fn block(&self, cid: &Cid) -> Result<Block, TargetError> {
        let mut response = self
            .agent
            .get(format!("{}/block/{cid}", self.control))
            .call()
            .map_err(|e| self.failed(e))?;
        let status = response.status().as_u16();
        let data = response
            .body_mut()
            .with_config()
            .limit(MAX_BLOCK)
            .read_to_vec()
            .map_err(|e| self.failed(e))?;
        if status != 200 {
            return Err(self.failed(format!("block {cid}: HTTP {status}")));
        }
        Block::new(*cid, data).map_err(|e| self.failed(format!("block {cid}: {e}")))
    }
}

fn is_segment(name: &str) -> bool {
    name.ends_with(".car")
}

impl Target for IpfsTarget {
    /// A segment's blocks are pinned on the peer, then its index written; other objects (the
    /// manifest) go to the index directory as they are.
    fn put(&self, name: &str, bytes: &[u8]) -> Result<(), TargetError> {
        if !is_segment(name) {
            return self.index.put(name, bytes);
        }
        let car = read_car(bytes).map_err(|e| self.failed(format!("segment {name}: {e}")))?;
        for block in &car.blocks {
            self.pin(block.cid())?;
        }
        let index = SegmentIndex {
            roots: car.roots.iter().map(Cid::to_string).collect(),
            blocks: car.blocks.iter().map(|b| b.cid().to_string()).collect(),
        };
        let json = serde_json::to_vec(&index).map_err(|e| self.failed(e))?;
        self.index.put(name, &json)
    }

    /// A segment is rebuilt as a CAR from the blocks the peer holds.
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, TargetError> {
        let Some(bytes) = self.index.get(name)? else { return Ok(None) };
        if !is_segment(name) {
            return Ok(Some(bytes));
        }
        let index: SegmentIndex = serde_json::from_slice(&bytes)
            .map_err(|e| self.failed(format!("the index of {name}: {e}")))?;
        let parse = |text: &String| {
            text.parse::<Cid>().map_err(|_| self.failed(format!("the index of {name}: {text:?}")))
        };
        let roots = index.roots.iter().map(parse).collect::<Result<Vec<_>, _>>()?;
        let mut blocks = Vec::with_capacity(index.blocks.len());
        for cid in &index.blocks {
            blocks.push(self.block(&parse(cid)?)?);
        }
        write_car(&roots, &blocks).map(Some).map_err(|e| self.failed(e))
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, TargetError> {
        self.index.list(prefix)
    }

    /// Removes the index entry; the peer keeps its pins (unpinning is the peer's GC policy).
    fn delete(&self, name: &str) -> Result<(), TargetError> {
        self.index.delete(name)
    }

    /// The addresses the peer dials to fetch the blocks over Bitswap (the first one is used).
    fn provide_from(&self, addrs: Vec<String>) {
        *self.providers.lock().unwrap_or_else(PoisonError::into_inner) = addrs;
    }
}
