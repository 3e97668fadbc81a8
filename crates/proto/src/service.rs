//! [`NodeService`]: the `ceramic.v1.Node` gRPC service over an [`Engine`] and its
//! [`Storage`]. Handlers parse and bound the request (bad input never reaches the engine), run
//! the engine or storage call on tokio's blocking pool (both are synchronous: signature checks
//! and RocksDB I/O), and turn the outcome into a response or a status (`status.rs`).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use ceramic_codecs::{Block, Cid, MAX_BLOCK_SIZE};
use ceramic_doctype::{CommitKind, StreamState};
use ceramic_engine::Engine;
use ceramic_storage::{MAX_PAGE, Page, Storage};
use ceramic_streamid::{StreamId, StreamRef, StreamType};
use tonic::{Request, Response, Status};

use crate::commit::{Target, target};
use crate::status::{self, Op, invalid};
use crate::v1;
use crate::v1::list_streams_request::Filter;
use crate::v1::node_server::{Node, NodeServer};
use crate::{AnchorRequestError, AnchorRequester, Metrics, NetworkLoader, Updates};

/// The page size when a request asks for 0.
pub const DEFAULT_PAGE: usize = 100;
/// The most blocks one write may carry (a signed commit needs two; an anchor commit its proof
/// and a Merkle path of at most a few dozen nodes). gRPC's own limit on a decoded message,
/// 4 MiB by default, bounds their total size.
pub const MAX_BLOCKS: usize = 1_000;

/// What `NodeInfo` reports about the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    network: String,
    doctypes: Vec<(StreamType, &'static str)>,
    anchor_verifier: String,
}

impl Info {
    /// A node on `network` (e.g. `inmemory`) with no doctypes and no anchor verifier named.
    pub fn new(network: impl Into<String>) -> Self {
        Info { network: network.into(), doctypes: Vec::new(), anchor_verifier: String::new() }
    }

    /// Adds an enabled doctype.
    pub fn with_doctype(mut self, stream_type: StreamType, name: &'static str) -> Self {
        self.doctypes.push((stream_type, name));
        self
    }

    /// Names the anchor verifier (e.g. `fake`).
    pub fn with_anchor_verifier(mut self, name: impl Into<String>) -> Self {
        self.anchor_verifier = name.into();
        self
    }

    /// The network name.
    pub fn network(&self) -> &str {
        &self.network
    }
}

/// The `ceramic.v1.Node` service. Cheap to clone (one `Arc`).
///
/// `engine` must have been built over `storage` (the same store): writes and loads go through
/// the engine, pins and queries straight to the storage.
///
/// Concurrent writes to one stream are serialized by the engine (of several writes on one tip
/// exactly one wins; the others are `FailedPrecondition`).
#[derive(Clone)]
pub struct NodeService {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Arc<Engine>,
    storage: Arc<dyn Storage>,
    info: Info,
    updates: Updates,
    metrics: Metrics,
    anchor_requester: std::sync::OnceLock<Arc<dyn AnchorRequester>>,
    network: std::sync::OnceLock<Arc<dyn NetworkLoader>>,
}

impl fmt::Debug for NodeService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeService")
            .field("engine", &self.inner.engine)
            .field("info", &self.inner.info)
            .finish_non_exhaustive()
    }
}

impl NodeService {
    /// The service over `engine` and the `storage` it was built on.
    pub fn new(engine: Arc<Engine>, storage: Arc<dyn Storage>, info: Info) -> Self {
        Self::with_updates(engine, storage, info, Updates::new())
    }

    /// The service whose `Subscribe` follows `updates`, which must be (part of) the engine's
    /// publisher. With [`NodeService::new`] subscribers only get the state they start with.
    pub fn with_updates(
        engine: Arc<Engine>,
        storage: Arc<dyn Storage>,
        info: Info,
        updates: Updates,
    ) -> Self {
        let metrics = Metrics::new();
        let (anchor_requester, network) = (std::sync::OnceLock::new(), std::sync::OnceLock::new());
        let inner = Inner { engine, storage, info, updates, metrics, anchor_requester, network };
        NodeService { inner: Arc::new(inner) }
    }

    /// Anchors through `requester` (`RequestAnchor`). Set once, when the node is assembled;
    /// later calls are ignored and return `false`.
    pub fn set_anchor_requester(&self, requester: Arc<dyn AnchorRequester>) -> bool {
        self.inner.anchor_requester.set(requester).is_ok()
    }

    /// Loads unknown streams through `loader` (the network). Set once; later calls are
    /// ignored and return `false`.
    pub fn set_network_loader(&self, loader: Arc<dyn NetworkLoader>) -> bool {
        self.inner.network.set(loader).is_ok()
    }

    /// The node's metrics (writes are counted here; the node adds peers and anchors).
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The stream's current state, or `None` when the node does not have it.
    async fn current(&self, stream: StreamId) -> Result<Option<StreamState>, Status> {
        self.blocking(move |inner| match inner.engine.load(&stream) {
            Ok(state) => Ok(Some(state)),
            Err(ceramic_engine::ApplyError::NotFound(_)) => Ok(None),
            Err(e) => Err(status::apply(e, Op::Read)),
        })
        .await
    }

    /// Sends `stream`'s state on `out` whenever its tip changes, until the subscriber leaves
    /// or the node stops.
    async fn follow(
        self,
        stream: StreamId,
        mut updates: tokio::sync::broadcast::Receiver<(StreamId, Cid)>,
        out: tokio::sync::mpsc::Sender<Result<v1::StreamResponse, Status>>,
    ) {
        use tokio::sync::broadcast::error::RecvError;
        /// Counts the subscription while it is open.
        struct Open(Metrics);
        impl Drop for Open {
            fn drop(&mut self) {
                self.0.subscriptions(-1);
            }
        }
        self.inner.metrics.subscriptions(1);
        let _open = Open(self.inner.metrics.clone());
        let mut last_tip = None;
        let mut changed = true;
        loop {
            if changed {
                match self.current(stream).await {
                    Ok(Some(state)) if Some(state.tip()) != last_tip => {
                        last_tip = Some(state.tip());
                        let response = v1::StreamResponse { state: Some(to_proto_state(&state)) };
                        if out.send(Ok(response)).await.is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(status) => {
                        let _ = out.send(Err(status)).await;
                        return;
                    }
                }
            }
            changed = tokio::select! {
                () = out.closed() => return,
                received = updates.recv() => match received {
                    Ok((id, _)) => id == stream,
                    // Fell behind: the latest state is what matters.
                    Err(RecvError::Lagged(_)) => true,
                    Err(RecvError::Closed) => return,
                },
            };
        }
    }

    /// The engine (for other front ends over the same node, e.g. the HTTP API).
    pub fn engine(&self) -> &Arc<Engine> {
        &self.inner.engine
    }

    /// The storage the engine was built on (for other front ends, e.g. the HTTP API).
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.inner.storage
    }

    /// What `NodeInfo` reports.
    pub fn info(&self) -> &Info {
        &self.inner.info
    }

    /// The tonic server for this service, to add to a `tonic::transport::Server`.
    pub fn into_server(self) -> NodeServer<Self> {
        NodeServer::new(self)
    }

    /// Runs `f` on the blocking pool (engine and storage calls are synchronous). Dropping the
    /// returned future midway is safe: the call runs to completion, and each engine and storage
    /// write is one atomic batch.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner) -> Result<T, Status> + Send + 'static,
    ) -> Result<T, Status> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner)).await.map_err(status::join)?
    }

    /// A client write, counted in the metrics.
    async fn write(
        &self,
        request: v1::CommitRequest,
        genesis_only: bool,
    ) -> Result<v1::StreamResponse, Status> {
        let result = self.apply_write(request, genesis_only).await;
        match &result {
            Ok(_) => self.inner.metrics.commits_applied(1),
            Err(status) => self.inner.metrics.write_rejected(&format!("{:?}", status.code())),
        }
        result
    }

    async fn apply_write(
        &self,
        request: v1::CommitRequest,
        genesis_only: bool,
    ) -> Result<v1::StreamResponse, Status> {
        let stream_type = StreamType::new(request.stream_type);
        let commit = parse_cid("commit", &request.commit)?;
        let blocks = parse_blocks(request.blocks)?;
        let state = self
            .blocking(move |inner| {
                let given: HashMap<Cid, &Block> = blocks.iter().map(|b| (*b.cid(), b)).collect();
                let lookup = |cid: &Cid| match given.get(cid) {
                    Some(block) => Some(block.data().to_vec()),
                    None => inner.storage.block(cid).ok().flatten().map(|b| b.into_parts().1),
                };
                let target = target(stream_type, commit, lookup);
                if genesis_only && let Some(Target::Change(stream)) = target {
                    return Err(Status::invalid_argument(format!(
                        "commit {commit} is an update of {stream}, not a genesis: use ApplyCommit"
                    )));
                }
                inner
                    .engine
                    .apply_commit(stream_type, commit, &blocks)
                    .map_err(|e| status::apply(e, Op::Write))
            })
            .await?;
        Ok(v1::StreamResponse { state: Some(to_proto_state(&state)) })
    }

    /// Loads from the engine; a stream the node does not have is first looked for on the
    /// network when a loader is set.
    async fn load(&self, id: &str, at_time: Option<u64>) -> Result<StreamState, Status> {
        let parsed = parse_ref("id", id)?;
        match self.load_local(parsed, at_time).await {
            Err(status) if status.code() == tonic::Code::NotFound => {
                let Some(loader) = self.inner.network.get().cloned() else { return Err(status) };
                let stream = parsed.stream_id();
                let stored = self.current(stream).await?.is_some();
                if stored {
                    // The stream is here; what is missing (a commit) is not the network's to find.
                    return Err(status);
                }
                match loader.load(stream).await {
                    Ok(true) => self.load_local(parsed, at_time).await,
                    Ok(false) => Err(status),
                    Err(reason) => {
                        tracing::debug!(%stream, %reason, "network load failed");
                        Err(status)
                    }
                }
            }
            other => other,
        }
    }

    async fn load_local(&self, id: StreamRef, at_time: Option<u64>) -> Result<StreamState, Status> {
        self.blocking(move |inner| {
            let loaded = match (id, at_time) {
                (StreamRef::Stream(id), None) => inner.engine.load(&id),
                (StreamRef::Stream(id), Some(at)) => inner.engine.load_at_time(&id, at),
                (StreamRef::Commit(id), None) => inner.engine.load_at_commit(&id),
                (StreamRef::Commit(_), Some(_)) => {
                    return Err(Status::invalid_argument(
                        "at_time needs a StreamID: a CommitID already names one state",
                    ));
                }
            };
            loaded.map_err(|e| status::apply(e, Op::Read))
        })
        .await
    }
}

/// The stream of states `Subscribe` answers with.
pub type SubscribeStream = std::pin::Pin<
    Box<dyn tonic::codegen::tokio_stream::Stream<Item = Result<v1::StreamResponse, Status>> + Send>,
>;

#[tonic::async_trait]
impl Node for NodeService {
    type SubscribeStream = SubscribeStream;

    async fn request_anchor(
        &self,
        request: Request<v1::AnchorStreamRequest>,
    ) -> Result<Response<v1::AnchorStreamResponse>, Status> {
        let stream = parse_ref("stream_id", &request.into_inner().stream_id)?.stream_id();
        let Some(requester) = self.inner.anchor_requester.get().cloned() else {
            return Err(Status::unimplemented("this node has no anchoring configured"));
        };
        let state = self.load(&stream.to_string(), None).await?;
        let status = requester.request_anchor(stream, state.tip()).await.map_err(|e| match e {
            AnchorRequestError::Unavailable(_) => Status::unavailable(e.to_string()),
            AnchorRequestError::Refused(_) => Status::invalid_argument(e.to_string()),
        })?;
        Ok(Response::new(v1::AnchorStreamResponse {
            stream_id: stream.to_string(),
            tip: state.tip().to_string(),
            anchor_status: status.name().to_owned(),
        }))
    }

    async fn subscribe(
        &self,
        request: Request<v1::SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let stream = parse_ref("stream_id", &request.into_inner().stream_id)?.stream_id();
        // Listen before reading the current state, so no tip in between is missed.
        let updates = self.inner.updates.subscribe();
        let (out, receiver) = tokio::sync::mpsc::channel(16);
        tokio::spawn(self.clone().follow(stream, updates, out));
        let states = tonic::codegen::tokio_stream::wrappers::ReceiverStream::new(receiver);
        Ok(Response::new(Box::pin(states)))
    }

    async fn create_stream(
        &self,
        request: Request<v1::CommitRequest>,
    ) -> Result<Response<v1::StreamResponse>, Status> {
        self.write(request.into_inner(), true).await.map(Response::new)
    }

    async fn apply_commit(
        &self,
        request: Request<v1::CommitRequest>,
    ) -> Result<Response<v1::StreamResponse>, Status> {
        self.write(request.into_inner(), false).await.map(Response::new)
    }

    async fn load_stream(
        &self,
        request: Request<v1::LoadStreamRequest>,
    ) -> Result<Response<v1::StreamResponse>, Status> {
        let request = request.into_inner();
        let state = self.load(&request.id, request.at_time).await?;
        Ok(Response::new(v1::StreamResponse { state: Some(to_proto_state(&state)) }))
    }

    async fn list_commits(
        &self,
        request: Request<v1::ListCommitsRequest>,
    ) -> Result<Response<v1::ListCommitsResponse>, Status> {
        let state = self.load(&request.into_inner().id, None).await?;
        let stream = state.stream_id();
        let commits = state
            .log()
            .iter()
            .map(|entry| v1::LogEntry {
                cid: entry.cid.to_string(),
                commit_id: stream.at_commit(entry.cid).map(|c| c.to_string()).unwrap_or_default(),
                kind: match entry.kind {
                    CommitKind::Genesis => v1::CommitKind::Genesis,
                    CommitKind::Data => v1::CommitKind::Data,
                    CommitKind::Anchor => v1::CommitKind::Anchor,
                }
                .into(),
                timestamp: entry.timestamp,
            })
            .collect();
        Ok(Response::new(v1::ListCommitsResponse { stream_id: stream.to_string(), commits }))
    }

    async fn pin(
        &self,
        request: Request<v1::PinRequest>,
    ) -> Result<Response<v1::PinResponse>, Status> {
        let id = parse_ref("stream_id", &request.into_inner().stream_id)?.stream_id();
        self.blocking(move |inner| inner.storage.pin(&id).map_err(|e| status::storage(&e))).await?;
        Ok(Response::new(v1::PinResponse {}))
    }

    async fn unpin(
        &self,
        request: Request<v1::UnpinRequest>,
    ) -> Result<Response<v1::UnpinResponse>, Status> {
        let id = parse_ref("stream_id", &request.into_inner().stream_id)?.stream_id();
        let was_pinned = self
            .blocking(move |inner| inner.storage.unpin(&id).map_err(|e| status::storage(&e)))
            .await?;
        Ok(Response::new(v1::UnpinResponse { was_pinned }))
    }

    async fn list_pins(
        &self,
        request: Request<v1::ListPinsRequest>,
    ) -> Result<Response<v1::StreamPage>, Status> {
        let request = request.into_inner();
        let after = parse_after(&request.after)?;
        let limit = page_limit(request.limit);
        let page = self
            .blocking(move |inner| {
                inner.storage.pins(after.as_ref(), limit).map_err(|e| status::storage(&e))
            })
            .await?;
        Ok(Response::new(to_proto_page(page)))
    }

    async fn list_streams(
        &self,
        request: Request<v1::ListStreamsRequest>,
    ) -> Result<Response<v1::StreamPage>, Status> {
        let request = request.into_inner();
        let after = parse_after(&request.after)?;
        let limit = page_limit(request.limit);
        let page = self
            .blocking(move |inner| {
                let after = after.as_ref();
                let storage = &inner.storage;
                match &request.filter {
                    None => storage.streams(after, limit),
                    Some(Filter::Controller(c)) => storage.list_by_controller(c, after, limit),
                    Some(Filter::Family(f)) => storage.list_by_family(f, after, limit),
                    Some(Filter::Tag(t)) => storage.list_by_tag(t, after, limit),
                }
                .map_err(|e| status::storage(&e))
            })
            .await?;
        Ok(Response::new(to_proto_page(page)))
    }

    async fn node_info(
        &self,
        _request: Request<v1::NodeInfoRequest>,
    ) -> Result<Response<v1::NodeInfoResponse>, Status> {
        let info = &self.inner.info;
        Ok(Response::new(v1::NodeInfoResponse {
            version: env!("CARGO_PKG_VERSION").to_string(),
            network: info.network.clone(),
            doctypes: info
                .doctypes
                .iter()
                .map(|(t, name)| v1::Doctype { stream_type: t.code(), name: (*name).to_string() })
                .collect(),
            anchor_verifier: info.anchor_verifier.clone(),
        }))
    }

    async fn health(
        &self,
        _request: Request<v1::HealthRequest>,
    ) -> Result<Response<v1::HealthResponse>, Status> {
        // One read of the store: the node serves if its storage answers.
        let read = self.blocking(|inner| Ok(inner.storage.streams(None, 1).err())).await?;
        let (status, reason) = match read {
            None => (v1::ServingStatus::Serving, String::new()),
            Some(e) => {
                tracing::warn!(error = %e, "health check: storage failed");
                (v1::ServingStatus::NotServing, e.to_string())
            }
        };
        Ok(Response::new(v1::HealthResponse { status: status.into(), reason }))
    }
}

fn parse_cid(what: &str, text: &str) -> Result<Cid, Status> {
    if text.is_empty() {
        return Err(invalid(what, "missing"));
    }
    Cid::try_from(text).map_err(|e| invalid(what, e))
}

fn parse_ref(what: &str, text: &str) -> Result<StreamRef, Status> {
    text.parse::<StreamRef>().map_err(|e| invalid(what, e))
}

/// A page's `after`: empty for the first page, else a StreamID.
fn parse_after(text: &str) -> Result<Option<StreamId>, Status> {
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<StreamId>().map(Some).map_err(|e| invalid("after", e))
}

fn page_limit(limit: u32) -> usize {
    match usize::try_from(limit) {
        Ok(0) => DEFAULT_PAGE,
        Ok(n) => n.min(MAX_PAGE),
        Err(_) => MAX_PAGE,
    }
}

/// Checks each block's size and hash.
fn parse_blocks(blocks: Vec<v1::Block>) -> Result<Vec<Block>, Status> {
    if blocks.len() > MAX_BLOCKS {
        return Err(invalid("blocks", format!("{} blocks, at most {MAX_BLOCKS}", blocks.len())));
    }
    blocks
        .into_iter()
        .enumerate()
        .map(|(i, block)| {
            let what = format!("blocks[{i}]");
            if block.data.len() > MAX_BLOCK_SIZE {
                return Err(invalid(
                    &what,
                    format!("{} bytes, at most {MAX_BLOCK_SIZE}", block.data.len()),
                ));
            }
            let cid = parse_cid(&format!("{what}.cid"), &block.cid)?;
            Block::new(cid, block.data).map_err(|e| invalid(&what, e))
        })
        .collect()
}

fn to_proto_state(state: &StreamState) -> v1::StreamState {
    let stream = state.stream_id();
    let tip = state.tip();
    v1::StreamState {
        stream_id: stream.to_string(),
        stream_type: stream.stream_type().code(),
        tip: tip.to_string(),
        tip_commit_id: stream.at_commit(tip).map(|c| c.to_string()).unwrap_or_default(),
        log_length: u64::try_from(state.log().len()).unwrap_or(u64::MAX),
        state_json: state.to_js_json().to_string(),
    }
}

fn to_proto_page(page: Page) -> v1::StreamPage {
    v1::StreamPage {
        stream_ids: page.streams.iter().map(ToString::to_string).collect(),
        next: page.next.map(|id| id.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_limits_default_and_cap() {
        assert_eq!(page_limit(0), DEFAULT_PAGE);
        assert_eq!(page_limit(7), 7);
        assert_eq!(page_limit(u32::MAX), MAX_PAGE);
    }

    #[test]
    fn blocks_must_hash_to_their_cid() {
        let block = Block::from_data(ceramic_codecs::Codec::DagCbor, vec![0xa0]).unwrap();
        let good = v1::Block { cid: block.cid().to_string(), data: vec![0xa0] };
        assert_eq!(parse_blocks(vec![good.clone()]).unwrap(), vec![block]);
        let bad = v1::Block { data: vec![0xa1], ..good };
        assert_eq!(parse_blocks(vec![bad]).unwrap_err().code(), tonic::Code::InvalidArgument);
        let too_many = vec![v1::Block::default(); MAX_BLOCKS + 1];
        assert_eq!(parse_blocks(too_many).unwrap_err().code(), tonic::Code::InvalidArgument);
    }

    #[test]
    fn ids_that_do_not_parse_are_invalid_arguments() {
        assert_eq!(parse_ref("id", "").unwrap_err().code(), tonic::Code::InvalidArgument);
        assert_eq!(parse_ref("id", "kxyz").unwrap_err().code(), tonic::Code::InvalidArgument);
        assert_eq!(parse_after("").unwrap(), None);
        assert_eq!(parse_cid("commit", "nope").unwrap_err().code(), tonic::Code::InvalidArgument);
    }
}
