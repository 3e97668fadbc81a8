//! [`Api`]: the axum router of `/api/v0` over the node [`Service`]. Each handler parses its
//! request once, calls the service with typed values, and writes the typed answer as js-ceramic
//! does; errors become HTTP statuses in one place (`error.rs`).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use ceramic_doctype::StreamState;
use ceramic_service::{Health, Service};
use ceramic_streamid::{StreamId, StreamRef, StreamType};
use serde_json::{Value, json};

use crate::admin::{ADMIN_CODE_TTL, AdminAuth, AdminCodeLimits, AdminError};
use crate::commit::{CommitBlocks, shorten, to_json};
use crate::error::ApiError;
use crate::multiquery::MultiqueryLimits;
use crate::query::{LoadOpts, parse_query};
use crate::request::{WriteOpts, parse_apply, parse_create, parse_multiquery};

/// The largest request body, in bytes (js-ceramic's daemon: `express.json({limit: '1mb'})`).
pub const MAX_BODY: usize = 1024 * 1024;
/// The most streams one multiquery loads (queries plus the links their paths follow).
pub const MAX_MULTIQUERY_LOADS: usize = 1_000;

type Result<T, E = ApiError> = std::result::Result<T, E>;

/// The HTTP API: the node [`Service`] and the chains to report. Build it, then take its
/// [`Api::router`] (or [`serve`] it). Anchoring is the service's: `POST /streams/:id/anchor`
/// and writes whose `opts.anchor` is not `false` ask it.
#[derive(Debug, Clone)]
pub struct Api {
    service: Service,
    chains: Vec<String>,
    admin: Arc<AdminAuth>,
    multiquery: MultiqueryLimits,
}

impl Api {
    /// The API over `service`, reporting no supported chains.
    pub fn new(service: Service) -> Self {
        Api {
            service,
            chains: Vec::new(),
            admin: Arc::new(AdminAuth::new(Vec::new(), ADMIN_CODE_TTL)),
            multiquery: MultiqueryLimits::default(),
        }
    }

    /// Bounds multiqueries by `limits` (default [`MultiqueryLimits::default`]).
    pub fn with_multiquery_limits(mut self, limits: MultiqueryLimits) -> Self {
        self.multiquery = limits;
        self
    }

    /// Bounds the admin codes by `limits` (default [`AdminCodeLimits::default`]).
    pub fn with_admin_code_limits(mut self, limits: AdminCodeLimits) -> Self {
        self.admin = Arc::new(self.admin.with_limits(limits));
        self
    }

    pub(crate) fn service(&self) -> &Service {
        &self.service
    }

    /// The CAIP-2 chains `GET /node/chains` reports (e.g. `eip155:1`, `inmemory:12345`).
    pub fn with_supported_chains(mut self, chains: Vec<String>) -> Self {
        self.chains = chains;
        self
    }

    /// The DIDs allowed to use the admin API (js `adminDids`; did:key): a request is allowed when
    /// its JWS is signed by one of them. Without any, every admin request is refused (403).
    pub fn with_admin_dids(mut self, dids: Vec<String>) -> Self {
        self.admin = Arc::new(self.admin.with_dids(dids));
        self
    }

    /// How long an admin code stays valid (default [`ADMIN_CODE_TTL`]).
    pub fn with_admin_code_ttl(mut self, ttl: Duration) -> Self {
        self.admin = Arc::new(self.admin.with_ttl(ttl));
        self
    }

    /// The `/api/v0` router.
    pub fn router(self) -> Router {
        Router::new()
            .route("/api/v0/streams", post(create_stream))
            .route("/api/v0/streams/{id}", get(load_stream))
            .route("/api/v0/streams/{id}/content", get(load_content))
            .route("/api/v0/streams/{id}/anchor", post(request_anchor))
            .route("/api/v0/commits", post(apply_commit))
            .route("/api/v0/commits/{id}", get(list_commits))
            .route("/api/v0/multiqueries", post(multiquery))
            .route("/api/v0/node/chains", get(chains))
            .route("/api/v0/node/healthcheck", get(healthcheck))
            .route("/api/v0/pins", get(pins_moved))
            .route("/api/v0/pins/{id}", get(pins_moved).delete(pins_moved).post(pin_warning))
            .route("/api/v0/admin/getCode", get(admin_code))
            .route(ADMIN_PINS, get(admin_list_pins))
            .route(
                "/api/v0/admin/pins/{id}",
                get(admin_get_pin).post(admin_pin).delete(admin_unpin),
            )
            .route("/api/v0/admin", any(admin))
            .route("/api/v0/admin/{*rest}", any(admin))
            .fallback(no_route)
            .method_not_allowed_fallback(method_not_allowed)
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .layer(axum::middleware::from_fn(cors))
            .with_state(Arc::new(self))
    }

    pub(crate) async fn write(
        &self,
        stream_type: StreamType,
        commit: CommitBlocks,
        stream: Option<StreamId>,
        opts: WriteOpts,
    ) -> Result<Response> {
        let commit = ceramic_service::CommitBlocks::new(*commit.cid(), commit.into_blocks())?;
        let state = match stream {
            None => self.service.create_pinned(stream_type, commit, opts.pin).await?,
            Some(stream) => {
                self.service.apply_pinned(stream_type, commit, Some(stream), opts.pin).await?
            }
        };
        let anchor = opts.anchor;
        let id = state.stream_id();
        if anchor {
            // The write is done; the anchor request runs on, and its failure is logged.
            self.service.request_anchor_later(id, state.tip());
        }
        Ok(state_response(&id.to_string(), &state))
    }
}

/// `{streamId, state}` as js answers writes and loads, written straight from the typed state.
fn state_response(stream: &str, state: &StreamState) -> Response {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Answer<'a> {
        stream_id: &'a str,
        state: ceramic_doctype::JsState<'a>,
    }
    json_response(StatusCode::OK, &Answer { stream_id: stream, state: state.js() })
}

/// CORS as js-ceramic's daemon sets it up (`cors({origin: <allowed origins, all by default>,
/// credentials: true, maxAge: 7200})`): the client's `fetch` sends `credentials: 'include'`, so
/// a browser needs the request's origin echoed (not `*`) and credentials allowed. A preflight
/// (`OPTIONS` with `Access-Control-Request-Method`) is answered here, before routing.
async fn cors(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let preflight = request.method() == Method::OPTIONS
        && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let requested_headers = request.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS).cloned();
    let mut response = if preflight {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NO_CONTENT;
        let headers = response.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET,HEAD,PUT,PATCH,POST,DELETE"),
        );
        if let Some(requested) = requested_headers {
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested);
        }
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("7200"));
        response
    } else {
        next.run(request).await
    };
    if let Some(origin) = origin {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

/// A JSON response.
pub(crate) fn json_response<T: serde::Serialize + ?Sized>(
    status: StatusCode,
    value: &T,
) -> Response {
    // Only a failing `Serialize` impl or a map with non-string keys makes serde_json fail; the
    // answers here are `Value`s and typed views with string keys.
    let body = match serde_json::to_vec(value) {
        Ok(body) => body,
        Err(e) => {
            tracing::error!("an answer did not serialize to JSON: {e}");
            let mut response = Response::new(Body::from("{\"error\":\"internal error\"}"));
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            return response;
        }
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    response
}

/// js `next?.content ?? content`: pending content unless it is absent or `null`.
pub(crate) fn current_content(state: &StreamState) -> &Value {
    state
        .next()
        .and_then(|n| n.content.as_ref())
        .filter(|c| !c.is_null())
        .unwrap_or(state.content())
}

type Shared = State<Arc<Api>>;

fn body(body: Result<Bytes, BytesRejection>) -> Result<Bytes> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::BodyTooLarge { limit: MAX_BODY }
        } else {
            ApiError::Body(rejection)
        }
    })
}

fn path_id(path: Result<Path<String>, PathRejection>) -> Result<StreamRef> {
    let Path(id) = path
        .map_err(|_| ApiError::Id { id: String::new(), source: ceramic_streamid::Error::Empty })?;
    id.parse::<StreamRef>().map_err(|source| ApiError::Id { id: shorten(&id), source })
}

fn load_opts(query: Option<String>) -> Result<LoadOpts> {
    Ok(LoadOpts::from_query(&parse_query(query.as_deref().unwrap_or(""))?)?)
}

async fn create_stream(State(api): Shared, raw: Result<Bytes, BytesRejection>) -> Result<Response> {
    let request = parse_create(&body(raw)?)?;
    api.write(request.stream_type, request.genesis, None, request.opts).await
}

async fn apply_commit(State(api): Shared, raw: Result<Bytes, BytesRejection>) -> Result<Response> {
    let request = parse_apply(&body(raw)?)?;
    // The engine checks, on the commit it decodes, that it updates `streamId`.
    let (stream_type, stream) = (request.stream.stream_type(), Some(request.stream));
    api.write(stream_type, request.commit, stream, request.opts).await
}

async fn load_stream(
    State(api): Shared,
    id: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Response> {
    let id = path_id(id)?;
    let opts = load_opts(query)?;
    let state = api.service.load(id, opts.at_time).await?;
    Ok(state_response(&id.stream_id().to_string(), &state))
}

async fn load_content(
    State(api): Shared,
    id: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Response> {
    let id = path_id(id)?;
    let opts = load_opts(query)?;
    let state = api.service.load(id, opts.at_time).await?;
    Ok(json_response(StatusCode::OK, current_content(&state)))
}

async fn list_commits(
    State(api): Shared,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response> {
    let id = path_id(id)?;
    let log = api.service.commits(id, true).await?;
    let read = |cid: &ceramic_codecs::Cid| log.blocks.get(cid).map(|b| b.data().to_vec());
    let commits = log
        .state
        .log()
        .iter()
        .map(|entry| {
            let value = to_json(&entry.cid, read).map_err(ApiError::Serialize)?;
            Ok(json!({ "cid": entry.cid.to_string(), "value": value }))
        })
        .collect::<Result<Vec<_>>>()?;
    let stream = log.state.stream_id().to_string();
    Ok(json_response(StatusCode::OK, &json!({ "streamId": stream, "commits": commits })))
}

async fn request_anchor(
    State(api): Shared,
    id: Result<Path<String>, PathRejection>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response> {
    let id = path_id(id)?.stream_id();
    let raw = body(raw)?;
    if !raw.is_empty() {
        // `{opts}`: checked to be JSON, otherwise unused.
        serde_json::from_slice::<Value>(&raw)
            .map_err(|e| ApiError::Request(crate::request::RequestError::Json(e)))?;
    }
    let requested = api.service.request_anchor(id).await?;
    // js answers `state.anchorStatus` as the enum's number (the client returns it as is).
    Ok(json_response(
        StatusCode::OK,
        &json!({ "streamId": id.to_string(), "anchorStatus": requested.status as u8 }),
    ))
}

async fn multiquery(State(api): Shared, raw: Result<Bytes, BytesRejection>) -> Result<Response> {
    let request = parse_multiquery(&body(raw)?)?;
    let results = crate::multiquery::run(&api, request, api.multiquery).await?;
    Ok(json_response(StatusCode::OK, &results))
}

async fn chains(State(api): Shared) -> Response {
    json_response(StatusCode::OK, &json!({ "supportedChains": api.chains }))
}

async fn healthcheck(State(api): Shared) -> Response {
    match api.service.health().await {
        Health::Serving => (StatusCode::OK, "Alive!").into_response(),
        Health::NotServing(e) => {
            (StatusCode::SERVICE_UNAVAILABLE, format!("Storage unreachable: {e}")).into_response()
        }
    }
}

async fn pins_moved() -> ApiError {
    ApiError::PinsMoved
}

async fn pin_warning() -> Response {
    json_response(
        StatusCode::OK,
        &json!({ "warn": "Pin requests have moved to the admin API /admin/pins, please make requests there. Any requests here will not pin, API returns 200 for tooling backwards compatibility, and will be removed soon." }),
    )
}

async fn admin() -> ApiError {
    ApiError::AdminNotImplemented
}

/// The path every pins request signs (js compares `requestPath` with the pins router's
/// `req.baseUrl`, and the client signs `new URL('./admin/pins', apiUrl).pathname`).
const ADMIN_PINS: &str = "/api/v0/admin/pins";

async fn admin_code(
    State(api): Shared,
    client: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
) -> Result<Response> {
    // Without a socket (the router driven in process) every caller is one client.
    let ip = client.map(|c| c.0.0.ip().to_canonical());
    let code = api.admin.issue_code(ip)?;
    Ok(json_response(StatusCode::OK, &json!({ "code": code })))
}

/// The compact JWS of `Authorization: Basic <jws>`, if the header is there.
fn basic_jws(headers: &HeaderMap) -> Result<Option<&str>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else { return Ok(None) };
    let value = value.to_str().map_err(|_| AdminError::Malformed("the header is not ASCII"))?;
    match value.split_once(' ') {
        Some((scheme, jws)) if scheme.eq_ignore_ascii_case("basic") => Ok(Some(jws.trim())),
        _ => Err(AdminError::Malformed("the Authorization scheme is not `Basic`").into()),
    }
}

/// Authorizes a GET: the header's JWS.
fn authorize_get(api: &Api, headers: &HeaderMap) -> Result<()> {
    let jws = basic_jws(headers)?.ok_or(AdminError::Missing)?;
    api.admin.authorize(jws, ADMIN_PINS)?;
    Ok(())
}

/// Authorizes a POST or DELETE: the header's JWS (the real client's pins requests, whose body
/// is the request body), or else a body `{jws}` whose payload holds `requestBody`. The request
/// body, `Null` when there is none.
fn authorize_body(api: &Api, headers: &HeaderMap, raw: &[u8]) -> Result<Value> {
    let body = if raw.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice::<Value>(raw)
            .map_err(|e| ApiError::Request(crate::request::RequestError::Json(e)))?
    };
    if let Some(jws) = basic_jws(headers)? {
        api.admin.authorize(jws, ADMIN_PINS)?;
        return Ok(body);
    }
    let jws = body.get("jws").and_then(Value::as_str).ok_or(AdminError::Missing)?;
    Ok(api.admin.authorize(jws, ADMIN_PINS)?)
}

async fn admin_list_pins(State(api): Shared, headers: HeaderMap) -> Result<Response> {
    authorize_get(&api, &headers)?;
    let mut ids = Vec::new();
    let mut after = None;
    loop {
        let page = api.service.pins(after, ceramic_service::MAX_PAGE).await?;
        ids.extend(page.streams.iter().map(ToString::to_string));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok(json_response(StatusCode::OK, &json!({ "pinnedStreamIds": ids })))
}

async fn admin_get_pin(
    State(api): Shared,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response> {
    let id = path_id(id)?.stream_id();
    authorize_get(&api, &headers)?;
    let pinned = api.service.is_pinned(id).await?;
    let ids: Vec<String> = if pinned { vec![id.to_string()] } else { Vec::new() };
    Ok(json_response(StatusCode::OK, &json!({ "pinnedStreamIds": ids })))
}

async fn admin_pin(
    State(api): Shared,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response> {
    let id = path_id(id)?.stream_id();
    let raw = body(raw)?;
    authorize_body(&api, &headers, &raw)?;
    // Loads the stream first (from the network when the node has one): 404 when unknown.
    api.service.load(StreamRef::Stream(id), None).await?;
    api.service.pin(id).await?;
    Ok(json_response(StatusCode::OK, &json!({ "streamId": id.to_string(), "isPinned": true })))
}

async fn admin_unpin(
    State(api): Shared,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response> {
    let id = path_id(id)?.stream_id();
    let raw = body(raw)?;
    authorize_body(&api, &headers, &raw)?;
    api.service.unpin(id).await?;
    Ok(json_response(StatusCode::OK, &json!({ "streamId": id.to_string(), "isPinned": false })))
}

async fn no_route(method: Method, uri: Uri) -> ApiError {
    ApiError::NoRoute { method: method.to_string(), path: shorten(uri.path()) }
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
