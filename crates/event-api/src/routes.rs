//! The `/ceramic` routes over the service.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ceramic_codecs::{Block, Cid, Codec, Envelope, Ipld, Payload};
use ceramic_doctype::StreamState;
use ceramic_service::{CommitBlocks, FeedEntry, FeedFilter};
use ceramic_streamid::{StreamId, StreamType};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::error::{ApiError, Result};
use crate::request::{
    self, IncludeData, RequestError, encode_multibase, parse_cid, parse_event_body,
    parse_feed_query, parse_interest, parse_query, parse_stream_id,
};
use crate::{EventApi, PeerInfo};

/// The largest request body: a CAR of an event with its capability, as multibase JSON.
pub const MAX_BODY: usize = 1024 * 1024;

type Shared = State<Arc<Inner>>;

pub(crate) struct Inner {
    pub(crate) api: EventApi,
    /// The interests registered (`model` separator only), as `model[ controller]`.
    pub(crate) interests: Mutex<BTreeSet<String>>,
}

pub(crate) fn router(api: EventApi) -> Router {
    let inner = Arc::new(Inner { api, interests: Mutex::default() });
    Router::new()
        .route("/liveness", get(liveness))
        .route("/version", get(version).post(version))
        .route("/events", post(post_event))
        .route("/events/{event_id}", get(get_event))
        .route("/streams/{stream_id}", get(get_stream))
        .route("/feed/events", get(feed_events))
        .route("/feed/resumeToken", get(resume_token))
        .route("/feed/sse", get(feed_sse))
        .route("/interests", post(post_interest))
        .route("/interests/{sort_key}/{sort_value}", post(post_interest_path))
        .route("/config/network", get(network))
        .route("/peers", get(peers).post(connect_peers))
        .route("/extensions/instances", get(instances))
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(cors))
        .with_state(inner)
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, value: &Value) -> Response {
    let mut response = (status, value.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// CORS as ceramic-one answers it: any origin; `OPTIONS` on every path is a preflight.
async fn cors(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let preflight = request.method() == Method::OPTIONS;
    let mut response =
        if preflight { StatusCode::OK.into_response() } else { next.run(request).await };
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    if preflight {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, PUT, DELETE, OPTIONS"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Content-Type, Authorization"),
        );
    }
    response
}

fn body(raw: std::result::Result<Bytes, BytesRejection>) -> Result<Bytes> {
    raw.map_err(|e| ApiError::Request(RequestError::Body(e.body_text())))
}

async fn liveness() -> StatusCode {
    StatusCode::OK
}

async fn version(State(inner): Shared) -> Response {
    json(StatusCode::OK, &json!({ "version": inner.api.service.info().version() }))
}

async fn network(State(inner): Shared) -> Response {
    json(StatusCode::OK, &json!({ "name": inner.api.service.info().network() }))
}

/// `POST /events`: stores an event (init, data or time) given as a multibase CAR; 204.
async fn post_event(
    State(inner): Shared,
    raw: std::result::Result<Bytes, BytesRejection>,
) -> Result<StatusCode> {
    let event = parse_event_body(&body(raw)?)?;
    inner.api.apply_event(event).await?;
    Ok(StatusCode::NO_CONTENT)
}

impl EventApi {
    /// Stores an event through the service: an init event creates its stream, a data or time
    /// event applies to the stream of its init event (which must be stored: ceramic-one's rule).
    pub(crate) async fn apply_event(&self, event: ceramic_event::Event) -> Result<StreamState> {
        let stream_type = event.init_header().map(ceramic_event::InitHeader::stream_type);
        let init = event.init_cid();
        let commit = CommitBlocks::new(*event.cid(), event.blocks().to_vec())?;
        match stream_type {
            Some(stream_type) => Ok(self.service.create(stream_type, commit).await?),
            None => {
                let (stream_type, stream) = self.stream_of(init).await?;
                Ok(self.service.apply(stream_type, commit, Some(stream)).await?)
            }
        }
    }

    /// The stored stream whose init event is `init` (a MID or a Model).
    async fn stream_of(&self, init: Cid) -> Result<(StreamType, StreamId)> {
        for stream_type in [StreamType::MID, StreamType::MODEL] {
            // Any CID makes a StreamID; one that cannot (a CIDv0) names no stored stream.
            let Ok(id) = StreamId::new(stream_type, init) else { break };
            if self.service.current(id).await?.is_some() {
                return Ok((stream_type, id));
            }
        }
        Err(RequestError::InitNotStored(Box::new(init)).into())
    }
}

/// The blocks of an event's CAR: the event, its payload and capability (signed events), its
/// proof and Merkle path (time events), as far as they are stored.
fn event_blocks(storage: &dyn ceramic_storage::Storage, cid: &Cid) -> Result<Option<Vec<Block>>> {
    let get = |cid: &Cid| storage.block(cid).map_err(|e| ApiError::Store(e.into()));
    let Some(root) = get(cid)? else { return Ok(None) };
    let mut blocks = vec![root.clone()];
    let payload = if cid.codec() == Codec::DagJose.code() {
        let Ok(envelope) = Envelope::decode(root.data()) else { return Ok(Some(blocks)) };
        if let Some(cap) = capability(&envelope)
            && let Some(block) = get(&cap)?
        {
            blocks.push(block);
        }
        match get(envelope.link())? {
            Some(block) => {
                blocks.insert(1, block.clone());
                block
            }
            None => return Ok(Some(blocks)),
        }
    } else {
        root
    };
    if let Ok(Payload::Anchor(time)) = Payload::decode(payload.data())
        && let Some(proof) = get(&time.proof)?
    {
        let mut node = ceramic_codecs::decode::<Ipld>(proof.data(), "anchor proof").ok().and_then(
            |p| match p {
                Ipld::Map(m) => match m.get("root") {
                    Some(Ipld::Link(root)) => Some(*root),
                    _ => None,
                },
                _ => None,
            },
        );
        blocks.push(proof);
        for step in time.path.split('/').filter(|s| !s.is_empty()) {
            let Some(at) = node else { break };
            let Some(block) = get(&at)? else { break };
            node = match (
                ceramic_codecs::decode::<Ipld>(block.data(), "Merkle node"),
                step.parse::<usize>(),
            ) {
                (Ok(Ipld::List(items)), Ok(i)) => match items.get(i) {
                    Some(Ipld::Link(next)) => Some(*next),
                    _ => None,
                },
                _ => None,
            };
            blocks.push(block);
        }
    }
    Ok(Some(blocks))
}

/// The CACAO a signed event's protected header names (`cap: "ipfs://<cid>"`).
fn capability(envelope: &Envelope) -> Option<Cid> {
    let protected = envelope.signatures().first()?.protected.as_ref()?;
    let header: Value = serde_json::from_slice(protected).ok()?;
    let cap = header.get("cap")?.as_str()?.strip_prefix("ipfs://")?;
    cap.parse().ok()
}

/// An event's CAR as multibase.
fn event_car(storage: &dyn ceramic_storage::Storage, cid: &Cid) -> Result<Option<String>> {
    let Some(blocks) = event_blocks(storage, cid)? else { return Ok(None) };
    let car = ceramic_codecs::write_car(std::slice::from_ref(cid), &blocks)
        .map_err(|e| ApiError::Request(RequestError::Car(e)))?;
    Ok(Some(encode_multibase(&car)))
}

async fn blocking<T: Send + 'static>(
    inner: &Inner,
    f: impl FnOnce(&dyn ceramic_storage::Storage) -> Result<T> + Send + 'static,
) -> Result<T> {
    let storage = inner.api.service.storage().clone();
    tokio::task::spawn_blocking(move || f(&*storage))
        .await
        .map_err(|e| ApiError::Store(ceramic_service::TaskError::from(e).into()))?
}

/// `GET /events/{event_id}`: `{id, data}` with the event's CAR.
async fn get_event(State(inner): Shared, Path(id): Path<String>) -> Result<Response> {
    let cid = parse_cid(&id)?;
    let data = blocking(&inner, move |storage| event_car(storage, &cid)).await?;
    let data = data.ok_or_else(|| ApiError::EventNotFound(request::shorten(&id)))?;
    Ok(json(StatusCode::OK, &json!({ "id": cid.to_string(), "data": data })))
}

/// A stream's state as ceramic-one's `StreamState`: `{id, event_cid, controller, dimensions,
/// data}`; `data` is multibase JSON `{metadata, content}`.
pub fn stream_state_json(state: &StreamState) -> Value {
    let metadata = state.current_metadata();
    let controller = metadata
        .get("controller")
        .and_then(Value::as_str)
        .or_else(|| state.controller())
        .unwrap_or_default()
        .to_string();
    let mut dimensions = serde_json::Map::new();
    if let Some(model) = metadata.get("model").and_then(Value::as_str)
        && let Ok(model) = parse_stream_id(model)
    {
        dimensions.insert("model".into(), Value::String(encode_multibase(&model.to_bytes())));
    }
    dimensions.insert("controller".into(), Value::String(encode_multibase(controller.as_bytes())));
    if let Some(context) = metadata.get("context").and_then(Value::as_str)
        && let Ok(context) = parse_stream_id(context)
    {
        dimensions.insert("context".into(), Value::String(encode_multibase(&context.to_bytes())));
    }
    let data = json!({ "metadata": metadata, "content": state.current_content() });
    json!({
        "id": state.stream_id().to_string(),
        "event_cid": state.tip().to_string(),
        "controller": controller,
        "dimensions": dimensions,
        "data": encode_multibase(data.to_string().as_bytes()),
    })
}

/// `GET /streams/{stream_id}`.
async fn get_stream(State(inner): Shared, Path(id): Path<String>) -> Result<Response> {
    let stream = parse_stream_id(&id)?;
    let state = inner.api.service.current(stream).await?;
    let state = state.ok_or_else(|| ApiError::StreamNotFound(stream.to_string()))?;
    Ok(json(StatusCode::OK, &stream_state_json(&state)))
}

/// `GET /feed/events?resumeAt=&limit=&includeData=`: `{events: [{id, data?}], resumeToken}`.
async fn feed_events(State(inner): Shared, RawQuery(query): RawQuery) -> Result<Response> {
    let query = parse_feed_query(query.as_deref())?;
    let page = inner.api.service.feed(query.resume_at, query.limit).await?;
    let with_data = query.include_data == IncludeData::Full;
    let entries = page.entries;
    let events = blocking(&inner, move |storage| {
        entries.iter().map(|entry| feed_event_json(storage, entry, with_data)).collect()
    })
    .await?;
    Ok(json(
        StatusCode::OK,
        &json!({ "events": Value::Array(events), "resumeToken": page.resume.to_string() }),
    ))
}

fn feed_event_json(
    storage: &dyn ceramic_storage::Storage,
    entry: &FeedEntry,
    with_data: bool,
) -> Result<Value> {
    let mut event = json!({ "id": entry.event.to_string() });
    if with_data {
        // An event whose blocks GC removed since is listed without data.
        if let Some(data) = event_car(storage, &entry.event)? {
            event["data"] = Value::String(data);
        }
    }
    Ok(event)
}

/// `GET /feed/resumeToken`: the token that resumes with the next event stored.
async fn resume_token(State(inner): Shared) -> Result<Response> {
    let head = inner.api.service.feed_head().await?;
    Ok(json(StatusCode::OK, &json!({ "resumeToken": head.to_string() })))
}

/// `GET /feed/sse?resumeAt=&model=&streamIds=&includeData=`: the feed from a token on, then each
/// new event, as Server-Sent Events (`id:` the resume token, `data:` `{id, streamId, data?}`).
/// A reconnecting `EventSource` sends `Last-Event-ID`, which is read as `resumeAt`.
async fn feed_sse(
    State(inner): Shared,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response> {
    let mut query = parse_feed_query(query.as_deref())?;
    if let Some(last) = headers.get("last-event-id") {
        let last = last.to_str().map_err(|_| RequestError::ResumeToken("(not text)".into()))?;
        query.resume_at = request::parse_resume_token(last)?;
    }
    let filter = match (query.model, query.streams) {
        (Some(_), Some(_)) => {
            return Err(RequestError::Param {
                name: "model",
                reason: "give either model or streamIds".into(),
            }
            .into());
        }
        (Some(model), None) => FeedFilter::Model(model.to_string()),
        (None, Some(streams)) => FeedFilter::Streams(streams),
        (None, None) => FeedFilter::All,
    };
    let with_data = query.include_data == IncludeData::Full;
    let storage = inner.api.service.storage().clone();
    let events = inner.api.service.follow_feed(query.resume_at, filter).then(move |entry| {
        let storage = storage.clone();
        async move {
            let event = match entry {
                Ok(entry) => {
                    let built = tokio::task::spawn_blocking(move || {
                        let mut value = feed_event_json(&*storage, &entry, with_data)?;
                        value["streamId"] = Value::String(entry.stream.to_string());
                        Ok::<_, ApiError>((entry.position, value))
                    })
                    .await;
                    match built {
                        Ok(Ok((position, value))) => SseEvent::default()
                            .id(position.to_string())
                            .event("event")
                            .data(value.to_string()),
                        Ok(Err(e)) => error_event(&e),
                        Err(e) => error_event(&e),
                    }
                }
                Err(e) => error_event(&e),
            };
            Ok::<_, Infallible>(event)
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()).into_response())
}

fn error_event(error: &dyn std::fmt::Display) -> SseEvent {
    SseEvent::default().event("error").data(json!({ "message": error.to_string() }).to_string())
}

/// `POST /interests`: `{sep: "model", sepValue, controller?, streamId?}`; 204.
async fn post_interest(
    State(inner): Shared,
    raw: std::result::Result<Bytes, BytesRejection>,
) -> Result<StatusCode> {
    let (interest, model) = parse_interest(&body(raw)?)?;
    inner.register(model, interest.controller);
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /interests/{sort_key}/{sort_value}?controller=&streamId=`; 204.
async fn post_interest_path(
    State(inner): Shared,
    Path((sort_key, sort_value)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<StatusCode> {
    if sort_key != "model" {
        return Err(RequestError::Separator(request::shorten(&sort_key)).into());
    }
    let model = parse_stream_id(&sort_value)?;
    let params = parse_query(query.as_deref())?;
    let controller = params.iter().find(|(n, _)| n == "controller").map(|(_, v)| v.clone());
    if let Some((_, stream)) = params.iter().find(|(n, _)| n == "streamId") {
        parse_stream_id(stream)?;
    }
    inner.register(model, controller);
    Ok(StatusCode::NO_CONTENT)
}

impl Inner {
    fn register(&self, model: StreamId, controller: Option<String>) {
        let key = match controller {
            Some(controller) => format!("{model} {controller}"),
            None => model.to_string(),
        };
        self.interests.lock().unwrap_or_else(PoisonError::into_inner).insert(key);
    }
}

/// `GET /peers`: `{peers: [{id, addresses}]}`.
async fn peers(State(inner): Shared) -> Result<Response> {
    let source = inner.api.peers.as_ref().ok_or(ApiError::NoNetwork)?;
    let peers = source.peers().await.map_err(|e| {
        ApiError::Request(RequestError::Param { name: "peers", reason: e.to_string() })
    })?;
    let peers: Vec<Value> = peers
        .into_iter()
        .map(|PeerInfo { id, addresses }| json!({ "id": id, "addresses": addresses }))
        .collect();
    Ok(json(StatusCode::OK, &json!({ "peers": peers })))
}

/// `POST /peers?addresses=<multiaddr>&addresses=…`: dials them; 204.
async fn connect_peers(State(inner): Shared, RawQuery(query): RawQuery) -> Result<StatusCode> {
    let params = parse_query(query.as_deref())?;
    let addresses: Vec<String> =
        params.into_iter().filter(|(n, _)| n == "addresses").map(|(_, v)| v).collect();
    if addresses.is_empty() {
        return Err(RequestError::Param { name: "addresses", reason: "none given".into() }.into());
    }
    let source = inner.api.peers.as_ref().ok_or(ApiError::NoNetwork)?;
    source.connect(addresses).await.map_err(|e| {
        ApiError::Request(RequestError::Param { name: "addresses", reason: e.to_string() })
    })?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /extensions/instances?model=&controller=&after=&limit=`: a page of a model's instances
/// (not in ceramic-one): `{streams: [...], next}`.
async fn instances(State(inner): Shared, RawQuery(query): RawQuery) -> Result<Response> {
    let params = parse_query(query.as_deref())?;
    let get = |name: &str| params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let model =
        get("model").ok_or(RequestError::Param { name: "model", reason: "missing".into() })?;
    let model = parse_stream_id(model)?;
    let after = get("after").map(parse_stream_id).transpose()?;
    let limit = match get("limit") {
        None => request::DEFAULT_LIMIT,
        Some(text) => {
            text.parse::<usize>().ok().filter(|n| (1..=request::MAX_LIMIT).contains(n)).ok_or(
                RequestError::Param {
                    name: "limit",
                    reason: format!("not a number from 1 to {}", request::MAX_LIMIT),
                },
            )?
        }
    };
    let controller = get("controller").map(str::to_string);
    let page = inner.api.service.instances(model.to_string(), controller, after, limit).await?;
    let streams: Vec<String> = page.streams.iter().map(ToString::to_string).collect();
    Ok(json(
        StatusCode::OK,
        &json!({ "streams": streams, "next": page.next.map(|n| n.to_string()) }),
    ))
}

async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::NoRoute { method: method.to_string(), path: request::shorten(uri.path()) }
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
