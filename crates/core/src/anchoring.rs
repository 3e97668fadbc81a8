//! Anchoring in the node: which chain the embedded anchor service writes to, the requester the
//! APIs call, and the task that applies finished anchors to the engine.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ceramic_anchor::{Chain, Chains, DevChain};
use ceramic_anchor_eth::EthChain;
use ceramic_anchor_service::{Cas, NewRequest, Policy, Published};
use ceramic_codecs::Cid;
use ceramic_doctype::AnchorStatus;
use ceramic_engine::{Engine, TipOutcome};
use ceramic_service::{
    AnchorFuture, AnchorRequestError, AnchorRequester, HookEvent, HookEventKind, Metrics, Service,
};
use ceramic_storage::MapSource;
use ceramic_streamid::StreamId;
use tokio::sync::broadcast;

use crate::Error;

/// Which chain the node's anchor service puts roots on. Proofs on the dev chain are always
/// accepted from this node's own dev chain; proofs on the configured Ethereum chain are checked
/// on it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Anchoring {
    /// The in-process dev chain (`inmemory:12345`): anchors within about a second, its blocks
    /// in `anchoring.dev_chain_file` (default `<data_dir>/dev-chain`), so they verify after a
    /// restart and on nodes that open the same file. The embedded default.
    #[default]
    Dev,
    /// An Ethereum chain over JSON-RPC.
    Eth(EthAnchoring),
}

impl Anchoring {
    /// `dev` or `eth`, as `NodeInfo` reports it.
    pub fn name(&self) -> &'static str {
        match self {
            Anchoring::Dev => "dev",
            Anchoring::Eth(_) => "eth",
        }
    }

    /// The batching policy the node uses unless told otherwise: on the dev chain a batch every
    /// second as soon as one request waits (js-ceramic's in-memory anchoring anchors on
    /// request); on Ethereum the CAS defaults (every 5 minutes, 1,024 streams or 12 hours).
    pub fn default_policy(&self) -> Policy {
        match self {
            Anchoring::Dev => {
                Policy { interval: Duration::from_secs(1), min_streams: 1, ..Policy::default() }
            }
            Anchoring::Eth(_) => Policy::default(),
        }
    }
}

/// An Ethereum chain to anchor on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EthAnchoring {
    /// The JSON-RPC URL, e.g. `http://127.0.0.1:8545`.
    pub rpc_url: String,
    /// The EIP-155 chain id the RPC must report (e.g. 1337).
    pub chain_id: u64,
    /// The anchor contract (`0x…`); `None` sends raw v0 transactions.
    pub contract: Option<String>,
    /// The private key (hex) that pays for anchor transactions.
    pub private_key: String,
}

impl EthAnchoring {
    /// Connects (checking the chain id) and returns the chain.
    ///
    /// # Errors
    /// [`Error::Eth`] for a bad address or key, an unreachable RPC or another chain id.
    pub fn connect(&self) -> Result<EthChain, Error> {
        Ok(EthChain::connect_signing(
            &self.rpc_url,
            self.chain_id,
            self.contract.as_deref(),
            &self.private_key,
        )?)
    }
}

/// The chain the anchor service writes to, and the verifier of anchor commits: the dev chain,
/// the anchoring chain, and each verify-only chain (connected here, without a key).
pub(crate) fn chains(
    anchoring: &Anchoring,
    verify_only: &[crate::config::ChainConfig],
    dev_chain_file: &std::path::Path,
) -> Result<(Arc<dyn Chain>, Arc<Chains>), Error> {
    let dev = Arc::new(DevChain::open(dev_chain_file)?);
    let mut verifier = Chains::new().with(dev.clone());
    for chain in verify_only {
        let config = chain.to_eth_config()?;
        verifier = verifier.with(Arc::new(EthChain::connect(config)?));
    }
    Ok(match anchoring {
        Anchoring::Dev => (dev, Arc::new(verifier)),
        Anchoring::Eth(eth) => {
            let chain: Arc<dyn Chain> = Arc::new(eth.connect()?);
            (chain.clone(), Arc::new(verifier.with(chain)))
        }
    })
}

/// Requests anchors from the node's anchor service: the request is stored (replacing an older
/// pending one for the stream) and the stream's tip is PENDING until its batch is applied.
#[derive(Debug, Clone)]
pub struct CasRequester {
    cas: Cas,
}

impl CasRequester {
    /// Requests go to `cas`.
    pub fn new(cas: Cas) -> Self {
        CasRequester { cas }
    }
}

impl AnchorRequester for CasRequester {
    fn request_anchor(&self, stream: StreamId, tip: Cid) -> AnchorFuture<'_> {
        Box::pin(async move {
            let request = NewRequest { stream_id: stream, cid: tip, timestamp: None };
            self.cas
                .blocking(move |cas| cas.request(&request))
                .await
                .map_err(|e| AnchorRequestError::Unavailable(Box::new(e)))?;
            Ok(AnchorStatus::Pending)
        })
    }
}

/// Applies every finished batch to the engine, as tips heard from the anchor service: each
/// anchor commit with its proof and Merkle path. Runs until the sink closes.
pub(crate) async fn apply_anchors(
    service: Service,
    mut batches: broadcast::Receiver<Arc<Published>>,
    metrics: Metrics,
    backups: Vec<Arc<ceramic_backup::Runner>>,
) {
    loop {
        let batch = match batches.recv().await {
            Ok(batch) => batch,
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "anchor batches missed; their streams re-sync on load");
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let engine = service.engine().clone();
        let metrics = metrics.clone();
        let applied = tokio::task::spawn_blocking(move || apply_batch(&engine, &batch, &metrics));
        match applied.await {
            Ok(anchored) => {
                for (stream, commit, state) in anchored {
                    let kind = HookEventKind::Anchored;
                    let (stream, commit, state) = (Some(stream), Some(commit), Some(state));
                    service.notify(HookEvent { kind, stream, commit, state, reason: None });
                }
            }
            Err(error) => tracing::error!(%error, "applying an anchor batch panicked"),
        }
        // `[[backup]]` targets with `after_anchor` back up the new anchor commits.
        for runner in &backups {
            runner.trigger();
        }
    }
}

/// Applies a batch; the anchors applied: (stream, anchor commit, new state).
fn apply_batch(
    engine: &Engine,
    batch: &Published,
    metrics: &Metrics,
) -> Vec<(StreamId, Cid, ceramic_doctype::StreamState)> {
    let mut anchored = Vec::new();
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    for (index, (anchor, request)) in
        batch.anchors.anchors().iter().zip(&batch.requests).enumerate()
    {
        let mut source = MapSource::default();
        source.extend(batch.anchors.witness(index).unwrap_or_default());
        match engine.handle_tip(&request.stream_id, anchor.cid(), &source) {
            Ok(outcome) => {
                let applied = !matches!(outcome, TipOutcome::Unchanged);
                if let TipOutcome::Created(state) | TipOutcome::Accepted(state) = outcome {
                    anchored.push((request.stream_id, anchor.cid(), state));
                }
                tracing::info!(stream = %request.stream_id, anchor = %anchor.cid(), applied, "anchor commit");
                let waited_ms = now_ms.saturating_sub(u128::from(request.created_at));
                metrics.anchor_latency(waited_ms as f64 / 1000.0);
            }
            Err(error) => {
                tracing::warn!(stream = %request.stream_id, %error, "anchor commit not applied");
            }
        }
    }
    anchored
}
