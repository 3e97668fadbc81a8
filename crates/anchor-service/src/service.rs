//! The service: storing requests (with replacement), choosing batches by the [`Policy`],
//! anchoring them on a [`Chain`], recording the results, and recovering in-flight batches after
//! a crash.
//!
//! A batch goes through three durable steps, each one atomic store write:
//! 1. **chosen**: the requests become PROCESSING and leave the pending indexes, and a batch
//!    record `{requests, root}` is stored;
//! 2. **sent**: right after the chain returns the transaction hash, it is added to the record;
//! 3. **done**: the requests become COMPLETED with their anchor commit and witness CAR, and the
//!    batch record is deleted; then the batch is handed to the [`AnchorSink`].
//!
//! At start ([`CasBuilder::open`]) and before each new batch, every stored batch record is
//! finished: one with a transaction hash is completed from it (anchor commits are a function of
//! the requests and the transaction, so nothing is sent again); one without is sent (again).
//! The window that can anchor twice is between the chain accepting a transaction and step 2.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use ceramic_anchor::{Batch, Chain, Request};
use ceramic_codecs::Cid;
use ceramic_streamid::StreamId;
use serde::{Deserialize, Serialize};

use crate::store::{Column, Op, Store};
use crate::time::{Clock, SystemClock};
use crate::{
    AnchorSink, Error, NewRequest, NoSink, Policy, Published, RequestRecord, Result, Status,
};

const NEXT_BATCH: &[u8] = b"next_batch";

/// A request as [`Cas::request`] left it: newly stored, or the one already stored for that CID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// The stored request.
    pub record: RequestRecord,
    /// Whether this call stored it (HTTP 201) or it was there already (202).
    pub created: bool,
}

/// A finished batch.
#[derive(Debug, Clone)]
pub struct BatchOutcome {
    /// The batch's id.
    pub id: u64,
    /// Its Merkle root.
    pub root: Cid,
    /// The chain it is on.
    pub chain_id: String,
    /// The transaction carrying the root.
    pub tx_hash: Cid,
    /// The COMPLETED requests, in leaf order.
    pub requests: Vec<RequestRecord>,
}

/// Where [`Cas::run_batch_until`] stops, to leave the store as a crash at that point would.
#[cfg(any(test, feature = "test-utils"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// After step 1: the batch is chosen and stored, nothing sent.
    Chosen,
    /// After step 2: the transaction is on the chain and its hash stored.
    Sent,
}

/// A batch whose transaction is sent: its record, chain id and transaction hash.
type Sent = (BatchRecord, String, Cid);

/// The stored form of an in-flight batch.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct BatchRecord {
    id: u64,
    requests: Vec<Cid>,
    root: Cid,
    created_at: u64,
    chain_id: Option<String>,
    tx_hash: Option<Cid>,
}

impl BatchRecord {
    fn encode(&self) -> Vec<u8> {
        serde_ipld_dagcbor::to_vec(self).expect("a batch record always encodes")
    }
}

/// Builds a [`Cas`].
#[derive(Debug)]
pub struct CasBuilder {
    store: Arc<dyn Store>,
    chain: Arc<dyn Chain>,
    policy: Policy,
    clock: Arc<dyn Clock>,
    sink: Arc<dyn AnchorSink>,
}

impl CasBuilder {
    /// A service over `store` anchoring on `chain`, with the default policy, the system clock
    /// and no sink.
    pub fn new(store: Arc<dyn Store>, chain: Arc<dyn Chain>) -> Self {
        CasBuilder {
            store,
            chain,
            policy: Policy::default(),
            clock: Arc::new(SystemClock),
            sink: Arc::new(NoSink),
        }
    }

    /// Sets the batching policy.
    #[must_use]
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Sets the clock.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sets where finished batches go.
    #[must_use]
    pub fn with_sink(mut self, sink: Arc<dyn AnchorSink>) -> Self {
        self.sink = sink;
        self
    }

    /// Opens the service and finishes the batches a previous run left in flight (blocking: it
    /// may send transactions). A batch whose transaction cannot be sent now has its requests
    /// put back to PENDING (logged), so opening still succeeds when the chain is down.
    ///
    /// # Errors
    /// Storage errors and corrupt records.
    pub fn open(self) -> Result<Cas> {
        let cas = Cas {
            inner: Arc::new(Inner {
                store: self.store,
                chain: self.chain,
                policy: self.policy,
                clock: self.clock,
                sink: self.sink,
                write_lock: Mutex::new(()),
                batch_lock: Mutex::new(()),
            }),
        };
        {
            let _batch = cas.inner.lock_batches();
            cas.resume()?;
        }
        Ok(cas)
    }
}

#[derive(Debug)]
struct Inner {
    store: Arc<dyn Store>,
    chain: Arc<dyn Chain>,
    policy: Policy,
    clock: Arc<dyn Clock>,
    sink: Arc<dyn AnchorSink>,
    /// Held by every read-modify-write of request records.
    write_lock: Mutex<()>,
    /// Held while a batch is chosen, sent and finished: one batch at a time.
    batch_lock: Mutex<()>,
}

impl Inner {
    fn lock_writes(&self) -> MutexGuard<'_, ()> {
        self.write_lock.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_batches(&self) -> MutexGuard<'_, ()> {
        self.batch_lock.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The anchor service. Cheap to clone (shared state). Its methods block (storage and chain
/// calls): call them from blocking threads, or through [`Cas::blocking`].
#[derive(Debug, Clone)]
pub struct Cas {
    inner: Arc<Inner>,
}

fn pending_key(record: &RequestRecord) -> Vec<u8> {
    let mut key = record.created_at.to_be_bytes().to_vec();
    key.extend(record.cid.to_bytes());
    key
}

fn stream_prefix(stream_id: &StreamId) -> Vec<u8> {
    let bytes = stream_id.to_bytes();
    let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
    let mut key = len.to_be_bytes().to_vec();
    key.extend(bytes);
    key
}

fn stream_key(record: &RequestRecord) -> Vec<u8> {
    let mut key = stream_prefix(&record.stream_id);
    key.extend(record.cid.to_bytes());
    key
}

fn message(status: Status) -> &'static str {
    match status {
        Status::Pending => "Request is pending.",
        Status::Processing => "Request is processing.",
        Status::Completed => "Request is completed.",
        Status::Failed => "Request failed.",
        Status::Ready => "Request is ready.",
        Status::Replaced => "Request was replaced.",
    }
}

impl Cas {
    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// The chains it anchors on (one: its chain's id), as `supported_chains` lists them.
    pub fn supported_chains(&self) -> Vec<String> {
        vec![self.inner.chain.chain_id().to_owned()]
    }

    /// Runs `f` on a blocking thread (for async callers: the HTTP and gRPC handlers).
    ///
    /// # Errors
    /// `f`'s error, or [`Error::Task`] if it panicked. Dropping the future midway is safe: the
    /// call runs to its end on its thread.
    pub async fn blocking<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Cas) -> Result<T> + Send + 'static,
    {
        let cas = self.clone();
        tokio::task::spawn_blocking(move || f(&cas))
            .await
            .map_err(|e| Error::Task(e.to_string()))?
    }

    /// The request for commit `cid`.
    ///
    /// # Errors
    /// Storage errors and corrupt records.
    pub fn get(&self, cid: &Cid) -> Result<Option<RequestRecord>> {
        let key = cid.to_bytes();
        self.inner
            .store
            .get(Column::Requests, &key)?
            .map(|bytes| RequestRecord::decode(&key, &bytes))
            .transpose()
    }

    fn get_required(&self, batch: u64, cid: &Cid) -> Result<RequestRecord> {
        self.get(cid)?.ok_or_else(|| Error::MissingRequest { batch, cid: Box::new(*cid) })
    }

    /// Stores a request for `new.cid`, or returns the one already stored for it unchanged.
    ///
    /// A stream keeps at most one PENDING request: of its PENDING requests and the new one,
    /// the newest by client timestamp (then by arrival) stays PENDING and the others become
    /// REPLACED with the message `Replaced by <cid>`.
    ///
    /// # Errors
    /// Storage errors and corrupt records; nothing is stored then.
    pub fn request(&self, new: &NewRequest) -> Result<Submitted> {
        let _writes = self.inner.lock_writes();
        if let Some(record) = self.get(&new.cid)? {
            return Ok(Submitted { record, created: false });
        }
        let now = self.inner.clock.now_ms();
        let mut record = RequestRecord {
            cid: new.cid,
            stream_id: new.stream_id,
            status: Status::Pending,
            message: message(Status::Pending).into(),
            timestamp: new.timestamp.unwrap_or(now),
            created_at: now,
            updated_at: now,
            anchor_commit: None,
            witness_car: None,
        };
        let mut others = Vec::new();
        for (key, _) in
            self.inner.store.scan(Column::Streams, &stream_prefix(&new.stream_id), usize::MAX)?
        {
            let cid_bytes = key.get(stream_prefix(&new.stream_id).len()..).unwrap_or_default();
            let cid = Cid::try_from(cid_bytes)
                .map_err(|e| Error::corrupt("stream index entry", &key, e))?;
            if let Some(other) = self.get(&cid)? {
                others.push(other);
            }
        }
        // The newest by client timestamp wins; the new request wins ties (it arrived last).
        let winner = others
            .iter()
            .map(|o| (o.timestamp, o.created_at, o.cid))
            .chain(std::iter::once((record.timestamp, u64::MAX, record.cid)))
            .max_by_key(|(timestamp, created, _)| (*timestamp, *created))
            .map(|(_, _, cid)| cid)
            .expect("the new request is a candidate");
        let mut ops = Vec::new();
        for mut other in others.into_iter().filter(|o| o.cid != winner) {
            ops.push(Op::Delete(Column::Pending, pending_key(&other)));
            ops.push(Op::Delete(Column::Streams, stream_key(&other)));
            other.status = Status::Replaced;
            other.message = format!("Replaced by {winner}");
            other.updated_at = now;
            ops.push(Op::Put(Column::Requests, other.cid.to_bytes(), other.encode()));
        }
        if winner == record.cid {
            ops.push(Op::Put(Column::Pending, pending_key(&record), Vec::new()));
            ops.push(Op::Put(Column::Streams, stream_key(&record), Vec::new()));
        } else {
            record.status = Status::Replaced;
            record.message = format!("Replaced by {winner}");
        }
        ops.push(Op::Put(Column::Requests, record.cid.to_bytes(), record.encode()));
        self.inner.store.write(ops)?;
        Ok(Submitted { record, created: true })
    }

    /// The PENDING requests, oldest first, at most `limit`.
    ///
    /// # Errors
    /// Storage errors and corrupt records.
    pub fn pending(&self, limit: usize) -> Result<Vec<RequestRecord>> {
        self.inner
            .store
            .scan(Column::Pending, &[], limit)?
            .into_iter()
            .map(|(key, _)| {
                let cid = Cid::try_from(key.get(8..).unwrap_or_default())
                    .map_err(|e| Error::corrupt("pending index entry", &key, e))?;
                self.get(&cid)?
                    .ok_or_else(|| Error::corrupt("pending index entry", &key, "no request"))
            })
            .collect()
    }

    /// How many batches are stored in flight (chosen or sent, not finished).
    ///
    /// # Errors
    /// Storage errors.
    pub fn in_flight(&self) -> Result<usize> {
        Ok(self.inner.store.scan(Column::Batches, &[], usize::MAX)?.len())
    }

    /// A scheduler tick: finishes batches left in flight, then makes a batch if the policy
    /// says one is due. `None` when no batch was made.
    ///
    /// # Errors
    /// Storage and chain errors (on a chain error the requests are PENDING again).
    pub fn tick(&self) -> Result<Option<BatchOutcome>> {
        self.run_batch(false)
    }

    /// The manual trigger (`POST /api/v0/anchors`): makes a batch of the oldest pending
    /// requests (up to the maximum batch size) whatever the thresholds. `None` when nothing is
    /// pending.
    ///
    /// # Errors
    /// As [`Cas::tick`].
    pub fn trigger(&self) -> Result<Option<BatchOutcome>> {
        self.run_batch(true)
    }

    fn run_batch(&self, force: bool) -> Result<Option<BatchOutcome>> {
        let _batch = self.inner.lock_batches();
        self.resume()?;
        let Some(record) = self.choose(force)? else { return Ok(None) };
        let sent = self.send(record)?;
        self.complete(sent).map(Some)
    }

    /// Runs a batch like [`Cas::trigger`] but stops after `stage`, leaving the store as a crash
    /// right after that step would; returns the batch id.
    ///
    /// # Errors
    /// As [`Cas::trigger`].
    #[cfg(any(test, feature = "test-utils"))]
    pub fn run_batch_until(&self, stage: Stage) -> Result<Option<u64>> {
        let _batch = self.inner.lock_batches();
        let Some(record) = self.choose(true)? else { return Ok(None) };
        if stage == Stage::Sent {
            let id = record.id;
            self.send(record)?;
            return Ok(Some(id));
        }
        Ok(Some(record.id))
    }

    /// Finishes every stored batch (after a crash).
    fn resume(&self) -> Result<()> {
        for (key, bytes) in self.inner.store.scan(Column::Batches, &[], usize::MAX)? {
            let record: BatchRecord = serde_ipld_dagcbor::from_slice(&bytes)
                .map_err(|e| Error::corrupt("batch record", &key, e))?;
            tracing::info!(batch = record.id, sent = record.tx_hash.is_some(), "resuming batch");
            let sent = match (record.chain_id.clone(), record.tx_hash) {
                (Some(chain_id), Some(tx_hash)) => (record, chain_id, tx_hash),
                _ => match self.send(record) {
                    Ok(sent) => sent,
                    Err(Error::Chain(error)) => {
                        tracing::warn!(%error, "could not send a resumed batch; its requests are pending again");
                        continue;
                    }
                    Err(other) => return Err(other),
                },
            };
            self.complete(sent)?;
        }
        Ok(())
    }

    /// Step 1: chooses the requests and stores the batch.
    fn choose(&self, force: bool) -> Result<Option<BatchRecord>> {
        let _writes = self.inner.lock_writes();
        let policy = &self.inner.policy;
        let max_batch = policy.max_batch.max(1);
        let candidates = self.pending(max_batch.max(policy.min_streams))?;
        let now = self.inner.clock.now_ms();
        let oldest = candidates.first().map(|r| r.created_at);
        if candidates.is_empty() || !(force || policy.is_due(candidates.len(), oldest, now)) {
            return Ok(None);
        }
        let mut streams = HashSet::new();
        let mut chosen = Vec::new();
        for record in candidates {
            if chosen.len() == max_batch {
                break;
            }
            // A stream has at most one PENDING request (see `request`); keep that true here.
            if streams.insert(record.stream_id) {
                chosen.push(record);
            }
        }
        let requests =
            chosen.iter().map(|r| Request { genesis: r.stream_id.cid(), tip: r.cid }).collect();
        let batch = Batch::new(requests)?;
        let id = match self.inner.store.get(Column::Meta, NEXT_BATCH)? {
            Some(bytes) => u64::from_be_bytes(
                bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| Error::corrupt("batch counter", NEXT_BATCH, "not 8 bytes"))?,
            ),
            None => 1,
        };
        let record = BatchRecord {
            id,
            requests: batch.requests().iter().map(|r| r.tip).collect(),
            root: batch.root(),
            created_at: now,
            chain_id: None,
            tx_hash: None,
        };
        let mut ops = vec![
            Op::Put(Column::Meta, NEXT_BATCH.to_vec(), (id + 1).to_be_bytes().to_vec()),
            Op::Put(Column::Batches, id.to_be_bytes().to_vec(), record.encode()),
        ];
        for mut request in chosen {
            ops.push(Op::Delete(Column::Pending, pending_key(&request)));
            ops.push(Op::Delete(Column::Streams, stream_key(&request)));
            request.status = Status::Processing;
            request.message = message(Status::Processing).into();
            request.updated_at = now;
            ops.push(Op::Put(Column::Requests, request.cid.to_bytes(), request.encode()));
        }
        self.inner.store.write(ops)?;
        tracing::info!(batch = id, requests = record.requests.len(), root = %record.root, "batch chosen");
        Ok(Some(record))
    }

    /// Step 2: puts the root on the chain and stores the transaction hash. On a chain error the
    /// requests are PENDING again and the batch is dropped.
    fn send(&self, mut record: BatchRecord) -> Result<Sent> {
        match self.inner.chain.anchor_root(&record.root) {
            Ok(tx_hash) => {
                record.chain_id = Some(self.inner.chain.chain_id().to_owned());
                record.tx_hash = Some(tx_hash);
                self.inner.store.write(vec![Op::Put(
                    Column::Batches,
                    record.id.to_be_bytes().to_vec(),
                    record.encode(),
                )])?;
                tracing::info!(batch = record.id, %tx_hash, "root anchored");
                let chain_id = self.inner.chain.chain_id().to_owned();
                Ok((record, chain_id, tx_hash))
            }
            Err(error) => {
                let _writes = self.inner.lock_writes();
                let now = self.inner.clock.now_ms();
                let mut ops = vec![Op::Delete(Column::Batches, record.id.to_be_bytes().to_vec())];
                for cid in &record.requests {
                    let mut request = self.get_required(record.id, cid)?;
                    request.status = Status::Pending;
                    request.message =
                        format!("Request is pending: anchoring failed, will retry ({error})");
                    request.updated_at = now;
                    ops.push(Op::Put(Column::Pending, pending_key(&request), Vec::new()));
                    ops.push(Op::Put(Column::Streams, stream_key(&request), Vec::new()));
                    ops.push(Op::Put(Column::Requests, cid.to_bytes(), request.encode()));
                }
                self.inner.store.write(ops)?;
                tracing::warn!(batch = record.id, %error, "anchoring failed");
                Err(error.into())
            }
        }
    }

    /// Step 3: builds the anchor commits from the stored transaction, stores the requests
    /// COMPLETED, drops the batch and publishes it.
    fn complete(&self, (record, chain_id, tx_hash): Sent) -> Result<BatchOutcome> {
        let writes = self.inner.lock_writes();
        let mut by_tip = HashMap::new();
        for cid in &record.requests {
            by_tip.insert(*cid, self.get_required(record.id, cid)?);
        }
        let requests =
            by_tip.values().map(|r| Request { genesis: r.stream_id.cid(), tip: r.cid }).collect();
        let batch = Batch::new(requests)?;
        if batch.root() != record.root {
            return Err(Error::RootMismatch {
                batch: record.id,
                recorded: Box::new(record.root),
                rebuilt: Box::new(batch.root()),
            });
        }
        let tx_type =
            if chain_id == self.inner.chain.chain_id() { self.inner.chain.tx_type() } else { None };
        let anchors = batch.finish(&chain_id, tx_hash, tx_type)?;
        let now = self.inner.clock.now_ms();
        let mut completed = Vec::with_capacity(anchors.anchors().len());
        let mut ops = vec![Op::Delete(Column::Batches, record.id.to_be_bytes().to_vec())];
        for (i, anchor) in anchors.anchors().iter().enumerate() {
            let mut request = by_tip
                .remove(&anchor.request().tip)
                .expect("every anchor answers one of the batch's requests");
            request.status = Status::Completed;
            request.message = message(Status::Completed).into();
            request.updated_at = now;
            request.anchor_commit = Some(anchor.cid());
            request.witness_car = Some(anchors.witness_car(i)?);
            ops.push(Op::Put(Column::Requests, request.cid.to_bytes(), request.encode()));
            completed.push(request);
        }
        self.inner.store.write(ops)?;
        drop(writes);
        tracing::info!(batch = record.id, requests = completed.len(), "batch completed");
        let published = Arc::new(Published { anchors, requests: completed.clone() });
        self.inner.sink.publish(&published);
        Ok(BatchOutcome {
            id: record.id,
            root: record.root,
            chain_id,
            tx_hash,
            requests: completed,
        })
    }

    /// Runs the scheduler: a [`Cas::tick`] every policy interval until `shutdown` completes.
    /// Errors are logged and the next tick tries again. Dropping the future stops the loop; a
    /// tick already running finishes on its blocking thread.
    pub async fn run_scheduler(self, shutdown: impl std::future::Future<Output = ()>) {
        let mut interval = tokio::time::interval(
            self.inner.policy.interval.max(std::time::Duration::from_millis(1)),
        );
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                _ = interval.tick() => {
                    match self.blocking(Cas::tick).await {
                        Ok(Some(outcome)) => tracing::info!(batch = outcome.id, "scheduled batch anchored"),
                        Ok(None) => {}
                        Err(error) => tracing::warn!(%error, "scheduled batch failed"),
                    }
                }
            }
        }
    }
}
