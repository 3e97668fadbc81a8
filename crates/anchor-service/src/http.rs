//! The CAS HTTP API (protocol notes §7.1; cas:src/controllers/*.ts) on axum:
//!
//! | endpoint | answer |
//! | --- | --- |
//! | `POST /api/v0/requests` | JSON `{streamId, cid, timestamp?}` or a CAR (`application/vnd.ipld.car`): **201** + the new request, **202** + the request already stored for that `cid`, **400** `{error}` for a bad body, **413** `{error}` over 1 MiB |
//! | `GET /api/v0/requests/{cid}` | **200** + the request, **404** `{error}` if unknown, **400** `{error}` for a bad CID |
//! | `GET /api/v0/service-info/supported_chains` | `{supportedChains: [chain id]}` |
//! | `GET /api/v0/healthcheck` | **200** (empty) while the store answers, **503** otherwise |
//! | `POST /api/v0/anchors` | makes a batch now: `{anchored, batch?, root?, txHash?}` |
//!
//! Request bodies are [`RequestRecord::to_json`]'s `CASResponse`. Storage and chain failures
//! are **503** `{error}` (retry); a corrupt store is **500** `{error}`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::{Cas, Error, MAX_BODY, RequestRecord, parse_body, parse_cid};

/// The API's routes over `cas`.
pub fn router(cas: Cas) -> Router {
    Router::new()
        .route("/api/v0/requests", post(create_request))
        .route("/api/v0/requests/{cid}", get(get_request))
        .route("/api/v0/service-info/supported_chains", get(supported_chains))
        .route("/api/v0/healthcheck", get(healthcheck))
        .route("/api/v0/anchors", post(trigger))
        .fallback(|| async { json_error(StatusCode::NOT_FOUND, "no such endpoint") })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(cas)
}

/// Serves the API on `listener` until `shutdown` completes, then finishes open requests.
///
/// # Errors
/// The listener's I/O error.
pub async fn serve(
    listener: tokio::net::TcpListener,
    cas: Cas,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(cas)).with_graceful_shutdown(shutdown).await
}

fn json(status: StatusCode, body: &serde_json::Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

fn json_error(status: StatusCode, error: impl std::fmt::Display) -> Response {
    json(status, &serde_json::json!({ "error": error.to_string() }))
}

fn service_error(error: &Error) -> Response {
    match error {
        Error::Body(body) => json_error(StatusCode::BAD_REQUEST, body),
        Error::Store(_) | Error::Chain(_) => {
            tracing::warn!(%error, "request failed");
            json_error(StatusCode::SERVICE_UNAVAILABLE, error)
        }
        other => {
            tracing::error!(error = %other, "request failed");
            json_error(StatusCode::INTERNAL_SERVER_ERROR, other)
        }
    }
}

fn record(status: StatusCode, record: &RequestRecord) -> Response {
    json(status, &record.to_json())
}

async fn create_request(
    State(cas): State<Cas>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return json_error(rejection.status(), rejection.body_text()),
    };
    let content_type = headers.get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap_or("invalid"));
    let new = match parse_body(content_type, &body) {
        Ok(new) => new,
        Err(error) => return json_error(StatusCode::BAD_REQUEST, error),
    };
    match cas.blocking(move |cas| cas.request(&new)).await {
        Ok(submitted) if submitted.created => record(StatusCode::CREATED, &submitted.record),
        Ok(submitted) => record(StatusCode::ACCEPTED, &submitted.record),
        Err(error) => service_error(&error),
    }
}

async fn get_request(State(cas): State<Cas>, Path(cid): Path<String>) -> Response {
    let cid = match parse_cid(&cid) {
        Ok(cid) => cid,
        Err(error) => return json_error(StatusCode::BAD_REQUEST, error),
    };
    match cas.blocking(move |cas| cas.get(&cid)).await {
        Ok(Some(found)) => record(StatusCode::OK, &found),
        Ok(None) => json_error(StatusCode::NOT_FOUND, format!("no request for {cid}")),
        Err(error) => service_error(&error),
    }
}

async fn supported_chains(State(cas): State<Cas>) -> Response {
    json(StatusCode::OK, &serde_json::json!({ "supportedChains": cas.supported_chains() }))
}

async fn healthcheck(State(cas): State<Cas>) -> Response {
    match cas.blocking(|cas| cas.in_flight()).await {
        Ok(_) => StatusCode::OK.into_response(),
        Err(error) => {
            tracing::warn!(%error, "healthcheck failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

async fn trigger(State(cas): State<Cas>) -> Response {
    match cas.blocking(Cas::trigger).await {
        Ok(Some(outcome)) => json(
            StatusCode::OK,
            &serde_json::json!({
                "anchored": outcome.requests.len(),
                "batch": outcome.id,
                "root": outcome.root.to_string(),
                "txHash": outcome.tx_hash.to_string(),
                "chainId": outcome.chain_id,
            }),
        ),
        Ok(None) => json(StatusCode::OK, &serde_json::json!({ "anchored": 0 })),
        Err(error) => service_error(&error),
    }
}
