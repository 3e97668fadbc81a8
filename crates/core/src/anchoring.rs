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
    /// No embedded anchor service: requests go to a remote CAS over its HTTP API and are
    /// polled there; its proofs are checked on the verify-only `[[chains]]`.
    Remote(RemoteAnchoring),
}

impl Anchoring {
    /// `dev` or `eth`, as `NodeInfo` reports it.
    pub fn name(&self) -> &'static str {
        match self {
            Anchoring::Dev => "dev",
            Anchoring::Eth(_) => "eth",
            Anchoring::Remote(_) => "remote",
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
            Anchoring::Eth(_) | Anchoring::Remote(_) => Policy::default(),
        }
    }
}

/// How often a node asks a remote CAS about its pending requests unless told otherwise:
/// js-ceramic's minimum polling loop (protocol notes §7.3).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(60);

/// A remote anchor service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteAnchoring {
    /// The CAS's URL, without a trailing `/` (e.g. `http://127.0.0.1:8081`).
    pub url: String,
    /// How often pending requests are polled.
    pub poll_interval: Duration,
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

/// Where the node's anchor requests go.
pub(crate) enum AnchorTarget {
    /// The embedded anchor service, writing to this chain.
    Chain(Arc<dyn Chain>),
    /// A remote CAS.
    Remote(RemoteAnchoring),
}

/// Where anchor requests go, and the verifier of anchor commits: the dev chain, the anchoring
/// chain, and each verify-only chain (connected here, without a key).
pub(crate) fn chains(
    anchoring: &Anchoring,
    verify_only: &[crate::config::ChainConfig],
    dev_chain_file: &std::path::Path,
) -> Result<(AnchorTarget, Arc<Chains>), Error> {
    let dev = Arc::new(DevChain::open(dev_chain_file)?);
    let mut verifier = Chains::new().with(dev.clone());
    for chain in verify_only {
        let config = chain.to_eth_config()?;
        verifier = verifier.with(Arc::new(EthChain::connect(config)?));
    }
    Ok(match anchoring {
        Anchoring::Dev => (AnchorTarget::Chain(dev), Arc::new(verifier)),
        Anchoring::Eth(eth) => {
            let chain: Arc<dyn Chain> = Arc::new(eth.connect()?);
            (AnchorTarget::Chain(chain.clone()), Arc::new(verifier.with(chain)))
        }
        Anchoring::Remote(remote) => (AnchorTarget::Remote(remote.clone()), Arc::new(verifier)),
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
            Ok(anchored) => after_anchors(&service, anchored, &backups),
            Err(error) => tracing::error!(%error, "applying an anchor batch panicked"),
        }
    }
}

/// What follows applied anchors: an `anchored` hook event for each, and a run of the
/// `[[backup]]` targets with `after_anchor` (they back up the new anchor commits).
pub(crate) fn after_anchors(
    service: &Service,
    anchored: Vec<(StreamId, Cid, ceramic_doctype::StreamState)>,
    backups: &[Arc<ceramic_backup::Runner>],
) {
    for (stream, commit, state) in anchored {
        let kind = HookEventKind::Anchored;
        let (stream, commit, state) = (Some(stream), Some(commit), Some(state));
        service.notify(HookEvent { kind, stream, commit, state, reason: None });
    }
    for runner in backups {
        runner.trigger();
    }
}

/// Applies a batch; the anchors applied: (stream, anchor commit, new state).
fn apply_batch(
    engine: &Engine,
    batch: &Published,
    metrics: &Metrics,
) -> Vec<(StreamId, Cid, ceramic_doctype::StreamState)> {
    let mut anchored = Vec::new();
    for (index, (anchor, request)) in
        batch.anchors.anchors().iter().zip(&batch.requests).enumerate()
    {
        let mut source = MapSource::default();
        source.extend(batch.anchors.witness(index).unwrap_or_default());
        let applied = apply_anchor(
            engine,
            &request.stream_id,
            anchor.cid(),
            &source,
            request.created_at,
            metrics,
        );
        if let Ok(Some(state)) = applied {
            anchored.push((request.stream_id, anchor.cid(), state));
        }
    }
    anchored
}

/// Applies one anchor commit to `stream` as a tip heard from the anchor service, its witness
/// blocks in `source`, and records the anchor's latency from `requested_at` (unix ms). The new
/// state when the anchor changed the stream, `None` when the stream had it already.
///
/// # Errors
/// The engine's, logged here: the anchor commit was not applied.
pub(crate) fn apply_anchor(
    engine: &Engine,
    stream: &StreamId,
    anchor: Cid,
    source: &MapSource,
    requested_at: u64,
    metrics: &Metrics,
) -> Result<Option<ceramic_doctype::StreamState>, ceramic_engine::ApplyError> {
    match engine.handle_tip(stream, anchor, source) {
        Ok(outcome) => {
            let applied = !matches!(outcome, TipOutcome::Unchanged);
            tracing::info!(%stream, %anchor, applied, "anchor commit");
            let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
            let waited_ms = now_ms.saturating_sub(u128::from(requested_at));
            metrics.anchor_latency(waited_ms as f64 / 1000.0);
            Ok(match outcome {
                TipOutcome::Created(state) | TipOutcome::Accepted(state) => Some(state),
                _ => None,
            })
        }
        Err(error) => {
            tracing::warn!(%stream, %anchor, %error, "anchor commit not applied");
            Err(error)
        }
    }
}
