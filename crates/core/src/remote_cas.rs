//! Anchoring through a remote CAS (`[anchoring] chain = "remote"`): the node runs no anchor
//! service of its own. [`RemoteRequester`] forwards each anchor request to the CAS
//! (`POST /api/v0/requests`) and keeps it, durably, in `<data_dir>/anchor-remote` until the CAS
//! has finished with it; [`poll`] asks the CAS about every kept request
//! (`GET /api/v0/requests/{cid}`) on the poll interval, and as soon as a request is answered
//! COMPLETED. This is js-ceramic's remote-CAS mode (js:packages/core/src/anchor/ethereum/
//! remote-cas.ts, repository.ts `handleAnchorEvent`; protocol notes §3.8 and §7.3):
//!
//! | CAS status | what the node does |
//! |---|---|
//! | PENDING, READY, PROCESSING | keeps the request; polls again |
//! | COMPLETED | reads the witness CAR, applies the anchor commit as a tip (the engine checks the proof on its chains), forgets the request; after 5 failed applications it gives up |
//! | FAILED | forgets the request (logged, counted) |
//! | REPLACED | forgets the request: a newer request of the stream took its place |
//! | unknown (404) | asks again if the commit is still the stream's tip, else forgets it |
//!
//! A CAS that cannot be reached fails new anchor requests with
//! [`AnchorRequestError::Unavailable`] (HTTP 503, gRPC `UNAVAILABLE`): the write itself is
//! stored, only its anchor request is lost, as in js-ceramic. Kept requests survive the CAS
//! being down and the node restarting. Requests are polled one after another; a poll stops at
//! the first one the CAS does not answer (the rest wait for the next poll).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ceramic_anchor::Witness;
use ceramic_anchor_service::{
    CasClient, CasResponse, ClientError, Column, NewRequest, Op, RequestRecord, Status, Store,
};
use ceramic_codecs::Cid;
use ceramic_doctype::{AnchorStatus, StreamState};
use ceramic_service::{AnchorFuture, AnchorRequestError, AnchorRequester, Metrics, Service};
use ceramic_storage::MapSource;
use ceramic_streamid::StreamId;

use crate::anchoring::{after_anchors, apply_anchor};

/// How many times an anchor commit the CAS reported is tried before the request is given up.
const MAX_APPLY_ATTEMPTS: u32 = 5;

/// The requests of this node kept at a remote CAS.
#[derive(Debug)]
struct Inner {
    client: CasClient,
    /// `Column::Requests`: commit CID bytes → [`RequestRecord`] (the CAS's last answer).
    store: Arc<dyn Store>,
    wake: tokio::sync::Notify,
    /// Failed applications of a COMPLETED request's anchor commit, by commit.
    attempts: Mutex<HashMap<Cid, u32>>,
}

/// Forwards anchor requests to a remote CAS and keeps them until the CAS is done with them.
#[derive(Debug, Clone)]
pub struct RemoteRequester(Arc<Inner>);

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl RemoteRequester {
    /// A requester for the CAS `client` talks to, keeping its requests in `store`.
    pub fn new(client: CasClient, store: Arc<dyn Store>) -> Self {
        RemoteRequester(Arc::new(Inner {
            client,
            store,
            wake: tokio::sync::Notify::new(),
            attempts: Mutex::new(HashMap::new()),
        }))
    }

    /// The CAS's client.
    pub fn client(&self) -> &CasClient {
        &self.0.client
    }

    /// The requests kept (waiting for the CAS), oldest first.
    ///
    /// # Errors
    /// The store's error, or a record that does not decode.
    pub fn pending(&self) -> Result<Vec<RequestRecord>, ceramic_anchor_service::Error> {
        let mut records = Vec::new();
        for (key, value) in self.0.store.scan(Column::Requests, &[], usize::MAX)? {
            records.push(RequestRecord::decode(&key, &value)?);
        }
        records.sort_by_key(|r| r.created_at);
        Ok(records)
    }

    /// Keeps `response` (replacing what was kept for its commit), or forgets the commit when
    /// the CAS is done with it.
    fn keep(
        &self,
        response: &CasResponse,
        created_at: u64,
    ) -> Result<(), ceramic_anchor_service::Error> {
        let key = response.cid.to_bytes();
        let op = match response.status {
            Status::Pending | Status::Ready | Status::Processing | Status::Completed => {
                let record = RequestRecord {
                    cid: response.cid,
                    stream_id: response.stream_id,
                    status: response.status,
                    message: response.message.chars().take(500).collect(),
                    timestamp: created_at,
                    created_at,
                    updated_at: now_ms(),
                    anchor_commit: response.anchor_commit,
                    witness_car: None,
                };
                Op::Put(Column::Requests, key, record.encode())
            }
            _ => Op::Delete(Column::Requests, key),
        };
        Ok(self.0.store.write(vec![op])?)
    }

    fn forget(&self, cid: &Cid) -> Result<(), ceramic_anchor_service::Error> {
        self.0.attempts.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(cid);
        Ok(self.0.store.write(vec![Op::Delete(Column::Requests, cid.to_bytes())])?)
    }

    /// Sends the request and keeps the answer (blocking).
    fn send(&self, stream: StreamId, tip: Cid) -> Result<CasResponse, AnchorRequestError> {
        let now = now_ms();
        let request = NewRequest { stream_id: stream, cid: tip, timestamp: Some(now) };
        let response = self.0.client.request(&request).map_err(|error| match error {
            ClientError::Refused { .. } => AnchorRequestError::Refused(Box::new(error)),
            other => AnchorRequestError::Unavailable(Box::new(other)),
        })?;
        if response.stream_id != stream {
            let error = format!("the CAS answered for stream {}, not {stream}", response.stream_id);
            return Err(AnchorRequestError::Unavailable(error.into()));
        }
        self.keep(&response, now).map_err(|e| AnchorRequestError::Unavailable(Box::new(e)))?;
        Ok(response)
    }
}

impl AnchorRequester for RemoteRequester {
    fn request_anchor(&self, stream: StreamId, tip: Cid) -> AnchorFuture<'_> {
        Box::pin(async move {
            let this = self.clone();
            let response = tokio::task::spawn_blocking(move || this.send(stream, tip))
                .await
                .map_err(|e| AnchorRequestError::Unavailable(Box::new(e)))??;
            tracing::debug!(%stream, %tip, status = %response.status, "anchor requested");
            if response.status == Status::Completed {
                self.0.wake.notify_one();
            }
            Ok(match response.status {
                Status::Processing => AnchorStatus::Processing,
                Status::Failed => AnchorStatus::Failed,
                _ => AnchorStatus::Pending,
            })
        })
    }
}

/// Polls the CAS on `interval` (and when a request is answered COMPLETED at once) until
/// dropped, applying finished anchors through `service` and then running the `after_anchor`
/// backups.
pub(crate) async fn poll(
    requester: RemoteRequester,
    service: Service,
    interval: Duration,
    backups: Vec<Arc<ceramic_backup::Runner>>,
) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = requester.0.wake.notified() => {}
        }
        let (this, engine) = (requester.clone(), service.engine().clone());
        let metrics = service.metrics().clone();
        match tokio::task::spawn_blocking(move || this.poll_once(&engine, &metrics)).await {
            Ok(anchored) if !anchored.is_empty() => after_anchors(&service, anchored, &backups),
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "polling the CAS panicked"),
        }
    }
}

impl RemoteRequester {
    /// Asks the CAS about every kept request once; the anchors applied.
    pub(crate) fn poll_once(
        &self,
        engine: &ceramic_engine::Engine,
        metrics: &Metrics,
    ) -> Vec<(StreamId, Cid, StreamState)> {
        let records = match self.pending() {
            Ok(records) => records,
            Err(error) => {
                tracing::error!(%error, "reading the kept anchor requests");
                return Vec::new();
            }
        };
        let mut anchored = Vec::new();
        for record in &records {
            match self.0.client.get(&record.cid) {
                Ok(Some(response)) => {
                    if let Some(done) = self.handle(record, &response, engine, metrics) {
                        anchored.push(done);
                    }
                }
                Ok(None) => self.lost(record, engine, metrics),
                Err(error) if error.is_transient() => {
                    // The rest waits for the next poll: a CAS that does not answer would
                    // otherwise cost a timeout per kept request.
                    tracing::warn!(%error, pending = records.len(), "the CAS cannot be polled");
                    metrics.anchor_remote("unreachable");
                    break;
                }
                Err(error) => {
                    tracing::warn!(stream = %record.stream_id, cid = %record.cid, %error, "the CAS's answer is unusable");
                    metrics.anchor_remote(match error {
                        ClientError::Refused { .. } => "refused",
                        _ => "bad_response",
                    });
                }
            }
        }
        let left = self.pending().map_or(records.len(), |r| r.len());
        metrics.set_anchor_requests_pending(i64::try_from(left).unwrap_or(i64::MAX));
        anchored
    }

    /// Acts on the CAS's answer for `record`; the anchor applied, if any.
    fn handle(
        &self,
        record: &RequestRecord,
        response: &CasResponse,
        engine: &ceramic_engine::Engine,
        metrics: &Metrics,
    ) -> Option<(StreamId, Cid, StreamState)> {
        let (stream, cid) = (record.stream_id, record.cid);
        let result = match response.status {
            Status::Completed => return self.complete(record, response, engine, metrics),
            Status::Failed => {
                tracing::warn!(%stream, %cid, message = %response.message, "the CAS failed to anchor");
                metrics.anchor_remote("failed");
                self.forget(&cid)
            }
            Status::Replaced => {
                tracing::debug!(%stream, %cid, "anchor request replaced by a newer one");
                metrics.anchor_remote("replaced");
                self.forget(&cid)
            }
            status if status != record.status => self.keep(response, record.created_at),
            _ => Ok(()),
        };
        if let Err(error) = result {
            tracing::error!(%stream, %cid, %error, "updating a kept anchor request");
        }
        None
    }

    /// Applies a COMPLETED request's anchor commit from its witness CAR.
    fn complete(
        &self,
        record: &RequestRecord,
        response: &CasResponse,
        engine: &ceramic_engine::Engine,
        metrics: &Metrics,
    ) -> Option<(StreamId, Cid, StreamState)> {
        let (stream, cid) = (record.stream_id, record.cid);
        let applied = match witness(response) {
            Ok((anchor, source)) => {
                apply_anchor(engine, &stream, anchor, &source, record.created_at, metrics)
                    .map(|state| state.map(|state| (stream, anchor, state)))
                    .map_err(|e| e.to_string())
            }
            Err(reason) => Err(reason),
        };
        match applied {
            Ok(done) => {
                metrics.anchor_remote("anchored");
                if let Err(error) = self.forget(&cid) {
                    tracing::error!(%stream, %cid, %error, "forgetting an anchored request");
                }
                done
            }
            Err(reason) => {
                metrics.anchor_remote("not_applied");
                let tries = {
                    let mut attempts =
                        self.0.attempts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    let tries = attempts.entry(cid).or_insert(0);
                    *tries += 1;
                    *tries
                };
                if tries >= MAX_APPLY_ATTEMPTS {
                    tracing::error!(%stream, %cid, %reason, tries, "giving up the CAS's anchor commit");
                    if let Err(error) = self.forget(&cid) {
                        tracing::error!(%stream, %cid, %error, "forgetting a request");
                    }
                } else {
                    tracing::warn!(%stream, %cid, %reason, tries, "the CAS's anchor commit is not applied yet");
                }
                None
            }
        }
    }

    /// The CAS does not know the request: ask again while the commit is the stream's tip.
    fn lost(&self, record: &RequestRecord, engine: &ceramic_engine::Engine, metrics: &Metrics) {
        metrics.anchor_remote("lost");
        let still_tip =
            matches!(engine.load(&record.stream_id), Ok(state) if state.tip() == record.cid);
        let result = if still_tip {
            tracing::warn!(stream = %record.stream_id, cid = %record.cid, "the CAS lost an anchor request: asking again");
            self.send(record.stream_id, record.cid).map(drop).map_err(|e| e.to_string())
        } else {
            self.forget(&record.cid).map_err(|e| e.to_string())
        };
        if let Err(error) = result {
            tracing::warn!(stream = %record.stream_id, cid = %record.cid, %error, "a lost anchor request");
        }
    }
}

/// The anchor commit and the blocks of a COMPLETED answer's witness CAR, which must be rooted
/// at the answer's anchor commit.
fn witness(response: &CasResponse) -> Result<(Cid, MapSource), String> {
    let car = response.witness_car.as_deref().ok_or("the CAS sent no witness CAR")?;
    let witness = Witness::from_car(car).map_err(|e| format!("the witness CAR: {e}"))?;
    if Some(witness.cid()) != response.anchor_commit {
        return Err(format!(
            "the witness CAR is rooted at {}, not the anchor commit",
            witness.cid()
        ));
    }
    let mut source = MapSource::default();
    source.extend(witness.blocks());
    Ok((witness.cid(), source))
}
