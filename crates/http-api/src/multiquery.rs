//! `POST /api/v0/multiqueries`, bounded: the streams load in parallel, at most
//! [`MultiqueryLimits::concurrency`] at a time, within one overall
//! [`MultiqueryLimits::deadline`]; a request with more than [`MultiqueryLimits::max_queries`]
//! queries is refused (400). As js-ceramic does for a stream that fails to load or times out
//! (`Ceramic.multiQuery` leaves it out), a stream not loaded by the deadline is left out of the
//! answer; the loads still running then are dropped (dropping a load midway is safe).

use std::collections::VecDeque;
use std::time::Duration;

use ceramic_doctype::StreamState;
use ceramic_service::Service;
use ceramic_streamid::{StreamId, StreamRef};
use serde_json::{Map, Value};
use tokio::task::JoinSet;

use crate::api::{Api, current_content};
use crate::error::ApiError;
use crate::request::{MultiQuery, PathTrie, RequestError, WriteOpts};

/// The bounds of one multiquery; [`Default`] gives the node's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MultiqueryLimits {
    /// How many streams load at once (default 16).
    pub concurrency: usize,
    /// How long the whole request may take (default 10 s).
    pub deadline: Duration,
    /// The most queries one request may hold (default 256).
    pub max_queries: usize,
}

impl Default for MultiqueryLimits {
    fn default() -> Self {
        MultiqueryLimits { concurrency: 16, deadline: Duration::from_secs(10), max_queries: 256 }
    }
}

impl MultiqueryLimits {
    /// Sets [`MultiqueryLimits::concurrency`] (at least 1).
    #[must_use]
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Sets [`MultiqueryLimits::deadline`].
    #[must_use]
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Sets [`MultiqueryLimits::max_queries`].
    #[must_use]
    pub fn with_max_queries(mut self, max: usize) -> Self {
        self.max_queries = max;
        self
    }
}

/// One load to run: the stream, the path trie to walk from it, the query's `atTime`.
struct Load {
    id: StreamRef,
    paths: PathTrie,
    at_time: Option<u64>,
}

/// A finished load: its key in the answer, its state, and the loads its paths lead to.
type Loaded = Option<(String, StreamState, Vec<Load>)>;

/// Runs a parsed multiquery under `limits`: the answer object.
pub(crate) async fn run(
    api: &Api,
    request: MultiQuery,
    limits: MultiqueryLimits,
) -> Result<Value, ApiError> {
    if request.queries.len() > limits.max_queries {
        return Err(RequestError::TooMany {
            field: "queries",
            count: request.queries.len(),
            max: limits.max_queries,
        }
        .into());
    }
    let deadline = tokio::time::Instant::now() + limits.deadline;
    let mut queue = VecDeque::new();
    for query in request.queries {
        if let Some(genesis) = query.genesis {
            // js `_ensureGenesis`: only an unsigned genesis that names the queried stream.
            let stream = query.id.stream_id();
            if genesis.is_signed() || *genesis.cid() != stream.cid() {
                tracing::debug!(%stream, "multiquery: the genesis does not name the stream");
                continue;
            }
            let created = tokio::time::timeout_at(
                deadline,
                api.write(
                    stream.stream_type(),
                    genesis,
                    None,
                    WriteOpts { anchor: false, pin: None },
                ),
            )
            .await;
            match created {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::debug!(%stream, error = %e, "multiquery: creating from genesis failed");
                    continue;
                }
                Err(_) => break,
            }
        }
        queue.push_back(Load { id: query.id, paths: query.paths, at_time: query.opts.at_time });
    }

    let mut results = Map::new();
    let mut running: JoinSet<Loaded> = JoinSet::new();
    let mut loads = 0usize;
    let service = api.service();
    loop {
        while running.len() < limits.concurrency && loads < crate::MAX_MULTIQUERY_LOADS {
            let Some(load) = queue.pop_front() else { break };
            loads += 1;
            running.spawn(load_one(service.clone(), load, request.timeout));
        }
        if running.is_empty() {
            break;
        }
        let joined = tokio::select! {
            joined = running.join_next() => joined,
            () = tokio::time::sleep_until(deadline) => {
                tracing::debug!(left = running.len() + queue.len(), "multiquery: deadline reached");
                break;
            }
        };
        if let Some(Ok(Some((key, state, next)))) = joined {
            queue.extend(next);
            results.insert(key, state.to_js_json());
        }
    }
    if loads == crate::MAX_MULTIQUERY_LOADS && !queue.is_empty() {
        tracing::debug!("multiquery: load limit reached");
    }
    Ok(Value::Object(results))
}

/// Loads one stream (at most `timeout`), and lists the linked streams its paths name.
async fn load_one(service: Service, load: Load, timeout: Duration) -> Loaded {
    let Load { id, paths, at_time } = load;
    let state = match tokio::time::timeout(timeout, service.load(id, at_time)).await {
        Ok(Ok(state)) => state,
        Ok(Err(e)) => {
            tracing::debug!(%id, error = %e, "multiquery: load failed");
            return None;
        }
        Err(_) => {
            tracing::debug!(%id, "multiquery: load timed out");
            return None;
        }
    };
    let key = match at_time {
        Some(_) => state
            .stream_id()
            .at_commit(state.tip())
            .map_or_else(|_| id.to_string(), |c| c.to_string()),
        None => id.to_string(),
    };
    let content = current_content(&state);
    let next = paths
        .children
        .into_iter()
        .filter_map(|(field, child)| {
            let linked = content.get(&field)?.as_str()?.parse::<StreamId>().ok()?;
            Some(Load { id: StreamRef::Stream(linked), paths: child, at_time })
        })
        .collect();
    Some((key, state, next))
}
