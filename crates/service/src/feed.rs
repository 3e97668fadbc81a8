//! The event feed and queries by model: [`Service::feed`], [`Service::instances`] and
//! [`Service::follow_feed`], a subscription to the feed from a resume token with
//! back-pressure.

use std::collections::HashSet;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use ceramic_storage::{FeedEntry, FeedPage, Page, Storage};
use ceramic_streamid::StreamId;
use tokio::sync::{broadcast, mpsc};

use crate::{Metrics, Service, StoreError};

/// How many feed entries a follower may leave unread before it stops reading the feed: a slow
/// subscriber costs this much memory at most, and catches up from the durable feed.
pub const FOLLOW_BUFFER: usize = 64;
/// How many entries a follower reads from the feed at a time.
const FOLLOW_PAGE: usize = 256;
/// How long a follower at the head waits for an announcement before it reads the feed anyway
/// (writes that announce nothing, e.g. restores, still reach it).
const IDLE_POLL: Duration = Duration::from_millis(500);

/// Which feed entries a follower passes on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FeedFilter {
    /// Every entry.
    All,
    /// Entries of the streams whose current `metadata.model` is this StreamID (a model's
    /// instances; the Model StreamID of the meta-model lists models).
    Model(String),
    /// Entries of these streams.
    Streams(HashSet<StreamId>),
}

impl FeedFilter {
    fn passes(&self, storage: &dyn Storage, entry: &FeedEntry) -> Result<bool, StoreError> {
        Ok(match self {
            FeedFilter::All => true,
            FeedFilter::Streams(streams) => streams.contains(&entry.stream),
            FeedFilter::Model(model) => storage.state(&entry.stream)?.is_some_and(|state| {
                state.current_metadata().get("model").and_then(|model| model.as_str())
                    == Some(model.as_str())
            }),
        })
    }
}

/// The feed entries a [`FeedFilter`] passes, from a resume token on: first those stored
/// already, then each new one as it is stored. Ends after an error or when the node stops;
/// dropping it ends the follower. Back-pressure: the follower reads the feed only while the
/// subscriber keeps up (at most [`FOLLOW_BUFFER`] entries wait), so a slow subscriber never
/// grows memory; it reads the rest from the durable feed when it catches up.
#[derive(Debug)]
pub struct FeedFollower {
    entries: mpsc::Receiver<Result<FeedEntry, StoreError>>,
}

impl futures::Stream for FeedFollower {
    type Item = Result<FeedEntry, StoreError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.entries.poll_recv(cx)
    }
}

impl Service {
    /// The feed after `after` (0: from the start); `limit` 0 is
    /// [`DEFAULT_PAGE`](crate::DEFAULT_PAGE), larger than [`MAX_PAGE`](crate::MAX_PAGE) is
    /// lowered to it.
    ///
    /// # Errors
    /// [`StoreError`].
    pub async fn feed(&self, after: u64, limit: usize) -> Result<FeedPage, StoreError> {
        let limit = crate::service::page_limit(limit);
        Ok(self.blocking(move |inner| inner.storage.feed(after, limit)).await??)
    }

    /// The feed's highest position: the token that resumes with the next event stored.
    ///
    /// # Errors
    /// [`StoreError`].
    pub async fn feed_head(&self) -> Result<u64, StoreError> {
        Ok(self.blocking(|inner| inner.storage.feed_head()).await??)
    }

    /// A page of a model's instances (streams whose current `metadata.model` is `model`), of
    /// `controller` only when given, after `after` (limits as [`Service::pins`]).
    ///
    /// # Errors
    /// [`StoreError`].
    pub async fn instances(
        &self,
        model: String,
        controller: Option<String>,
        after: Option<StreamId>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        let limit = crate::service::page_limit(limit);
        Ok(self
            .blocking(move |inner| {
                inner.storage.list_by_model(&model, controller.as_deref(), after.as_ref(), limit)
            })
            .await??)
    }

    /// Follows the feed after `after`: see [`FeedFollower`].
    pub fn follow_feed(&self, after: u64, filter: FeedFilter) -> FeedFollower {
        // Listen before the first read, so nothing stored in between waits for the poll.
        let updates = self.updates().subscribe();
        let (out, entries) = mpsc::channel(FOLLOW_BUFFER);
        tokio::spawn(self.clone().follow_feed_task(after, filter, updates, out));
        FeedFollower { entries }
    }

    async fn follow_feed_task(
        self,
        mut after: u64,
        filter: FeedFilter,
        mut updates: broadcast::Receiver<(StreamId, ceramic_codecs::Cid)>,
        out: mpsc::Sender<Result<FeedEntry, StoreError>>,
    ) {
        /// Counts the subscription while it is open.
        struct Open(Metrics);
        impl Drop for Open {
            fn drop(&mut self) {
                self.0.subscriptions(-1);
            }
        }
        self.metrics().subscriptions(1);
        let _open = Open(self.metrics().clone());
        let filter = std::sync::Arc::new(filter);
        loop {
            let read = {
                let filter = filter.clone();
                self.blocking(move |inner| {
                    let page = inner.storage.feed(after, FOLLOW_PAGE)?;
                    let mut passed = Vec::new();
                    for entry in &page.entries {
                        if filter.passes(&*inner.storage, entry)? {
                            passed.push(*entry);
                        }
                    }
                    Ok::<_, StoreError>((page.resume, page.entries.len(), passed))
                })
                .await
            };
            let (resume, read, passed) = match read {
                Ok(Ok(read)) => read,
                Ok(Err(e)) => {
                    let _ = out.send(Err(e)).await;
                    return;
                }
                Err(e) => {
                    let _ = out.send(Err(e.into())).await;
                    return;
                }
            };
            for entry in passed {
                // Waits while the subscriber is FOLLOW_BUFFER entries behind: back-pressure.
                if out.send(Ok(entry)).await.is_err() {
                    return;
                }
            }
            after = resume;
            if read == FOLLOW_PAGE {
                continue;
            }
            tokio::select! {
                () = out.closed() => return,
                received = updates.recv() => {
                    if matches!(received, Err(broadcast::error::RecvError::Closed)) {
                        // No more announcements: poll.
                        tokio::time::sleep(IDLE_POLL).await;
                    }
                }
                () = tokio::time::sleep(IDLE_POLL) => {}
            }
            // Announcements that queued up meanwhile are all answered by the next read.
            while updates.try_recv().is_ok() {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use ceramic_doctype::Registry;
    use ceramic_engine::Engine;
    use ceramic_engine::memory::FakeAnchorVerifier;
    use ceramic_engine::test_utils::{ADDER, Adder, add, genesis, signer};
    use ceramic_storage::MemoryStorage;
    use futures::StreamExt;

    use super::*;
    use crate::Updates;

    fn service() -> (Service, Arc<Engine>) {
        let storage = Arc::new(MemoryStorage::new());
        let updates = Updates::new();
        let engine = Arc::new(Engine::new(
            storage.clone(),
            Registry::new().with(Adder).unwrap(),
            Arc::new(FakeAnchorVerifier::default()),
            Arc::new(updates.clone()),
        ));
        let service = Service::builder(engine.clone(), storage as Arc<dyn Storage>)
            .with_updates(updates)
            .build();
        (service, engine)
    }

    /// Writes `n` streams (genesis and one data commit each); returns their ids.
    fn write(engine: &Engine, from: usize, n: usize) -> Vec<StreamId> {
        let author = signer(1);
        (from..from + n)
            .map(|i| {
                let (id, g) = genesis(&author, &format!("s{i}"), None, &[]);
                let state = engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
                let c = add(&author, &id, state.tip(), 1);
                engine.apply_commit(ADDER, c.cid, &c.blocks).unwrap();
                id
            })
            .collect()
    }

    async fn next(follower: &mut FeedFollower) -> FeedEntry {
        tokio::time::timeout(Duration::from_secs(10), follower.next())
            .await
            .expect("an entry in time")
            .expect("open")
            .expect("no error")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_follower_gets_the_stored_entries_then_new_ones_once_each() {
        let (service, engine) = service();
        let first = write(&engine, 0, 3);
        let mut follower = service.follow_feed(2, FeedFilter::All);
        let mut seen = Vec::new();
        for _ in 0..4 {
            seen.push(next(&mut follower).await);
        }
        // New writes reach the open follower.
        let engine2 = engine.clone();
        tokio::task::spawn_blocking(move || write(&engine2, 3, 2)).await.unwrap();
        for _ in 0..4 {
            seen.push(next(&mut follower).await);
        }
        let positions: Vec<u64> = seen.iter().map(|e| e.position).collect();
        assert_eq!(positions, (3..=10).collect::<Vec<_>>());
        assert_eq!(seen[0].stream, first[1]);
        assert_eq!(service.feed_head().await.unwrap(), 10);
        assert!(tokio::time::timeout(Duration::from_millis(700), follower.next()).await.is_err());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_follower_passes_only_the_streams_it_follows() {
        let (service, engine) = service();
        let ids = write(&engine, 0, 4);
        let wanted: HashSet<StreamId> = [ids[1], ids[3]].into_iter().collect();
        let mut follower = service.follow_feed(0, FeedFilter::Streams(wanted.clone()));
        for _ in 0..4 {
            assert!(wanted.contains(&next(&mut follower).await.stream));
        }
    }

    /// Back-pressure: a subscriber that reads nothing holds at most FOLLOW_BUFFER entries; the
    /// follower waits, and reading on gives every entry in order.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_slow_follower_is_held_at_the_buffer_and_misses_nothing() {
        let (service, engine) = service();
        let engine2 = engine.clone();
        tokio::task::spawn_blocking(move || write(&engine2, 0, FOLLOW_BUFFER * 3)).await.unwrap();
        let mut follower = service.follow_feed(0, FeedFilter::All);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(follower.entries.len() <= FOLLOW_BUFFER, "{}", follower.entries.len());
        let mut expected = 1;
        while expected <= (FOLLOW_BUFFER * 6) as u64 {
            assert_eq!(next(&mut follower).await.position, expected);
            expected += 1;
        }
    }

    #[tokio::test]
    async fn pages_a_models_instances_by_controller() {
        use ceramic_codecs::{Block, Codec, GenesisCommit, Header, Payload};
        let (service, _) = service();
        let mut alices = Vec::new();
        for i in 0..5 {
            let controller = if i % 2 == 0 { "did:key:alice" } else { "did:key:bob" };
            let header = Header {
                controllers: Some(vec![controller.into()]),
                family: Some(format!("{i}")),
                ..Header::default()
            };
            let payload = Payload::Genesis(GenesisCommit { header, data: None });
            let block = Block::encode(Codec::DagCbor, &payload).unwrap();
            let metadata = serde_json::json!({"controller": controller, "model": "kjzl6model"});
            let state = ceramic_doctype::StreamState::genesis(
                ceramic_streamid::StreamType::MID,
                *block.cid(),
                serde_json::json!({}),
                metadata.as_object().cloned().unwrap_or_default(),
                ceramic_doctype::SignatureStatus::Genesis,
            )
            .unwrap();
            service.storage().write_commit(&[block], &state).unwrap();
            if i % 2 == 0 {
                alices.push(state.stream_id());
            }
        }
        alices.sort_by_key(StreamId::to_bytes);
        let all = service.instances("kjzl6model".into(), None, None, 0).await.unwrap();
        assert_eq!(all.streams.len(), 5);
        let first = service.instances("kjzl6model".into(), Some("did:key:alice".into()), None, 2);
        let first = first.await.unwrap();
        assert_eq!(first.streams, alices[..2]);
        let rest = service
            .instances("kjzl6model".into(), Some("did:key:alice".into()), first.next, 2)
            .await
            .unwrap();
        assert_eq!(rest.streams, alices[2..]);
        assert_eq!(rest.next, None);
        assert_eq!(service.feed(0, 0).await.unwrap().entries.len(), 5);
    }
}
