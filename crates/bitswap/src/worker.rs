//! Store reads and writes off the swarm's task: one thread per [`Bitswap`](crate::Bitswap)
//! runs them in arrival order and hands the results back through a channel that the
//! behaviour's `poll` drains.
//!
//! A [`BlockStore`] may be a RocksDB point read that waits on the disk; made inside `poll`, it
//! would hold up every other connection of the swarm. The thread is the behaviour's own (no
//! executor is assumed) and ends when the behaviour is dropped.

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::{Context, Poll};

use ceramic_codecs::{Block, Cid};
use futures::StreamExt;
use futures::channel::{mpsc, oneshot};
use libp2p::PeerId;
use tracing::warn;

use crate::error::GetError;
use crate::store::BlockStore;

/// Why a block was looked up.
#[derive(Debug)]
pub(crate) enum Purpose {
    /// One of our fetches: answer it from the store, else ask the network.
    Fetch(oneshot::Sender<Result<Block, GetError>>),
    /// A peer's want (the behaviour keeps the want itself until the answer).
    Serve { peer: PeerId },
}

/// What the store holds under a CID.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// The block, hash checked.
    Found(Block),
    /// Nothing.
    Missing,
    /// Bytes that do not hash to the CID (not served; counted).
    Corrupt,
}

/// A finished lookup.
#[derive(Debug)]
pub(crate) struct Done {
    pub(crate) cid: Cid,
    pub(crate) purpose: Purpose,
    pub(crate) lookup: Lookup,
}

enum Job {
    Get(Cid, Purpose),
    Put(Block),
}

/// The most jobs queued for (and answers queued from) the store thread; a lookup beyond it is
/// answered "missing" at once (a fetch then asks the network; a peer's want gets dont-have).
const CAPACITY: usize = 4096;

/// The handle the behaviour keeps.
pub(crate) struct StoreWorker {
    store: Arc<dyn BlockStore>,
    /// The thread's queue; `None` when no thread could be started or it is gone, and jobs run
    /// inline (as before this worker existed).
    jobs: Option<std::sync::mpsc::SyncSender<Job>>,
    done: mpsc::Receiver<Done>,
    inline: VecDeque<Done>,
}

impl std::fmt::Debug for StoreWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreWorker").field("thread", &self.jobs.is_some()).finish()
    }
}

impl StoreWorker {
    /// Starts the thread for `store`.
    pub(crate) fn spawn(store: Arc<dyn BlockStore>) -> Self {
        let (jobs, rx) = std::sync::mpsc::sync_channel::<Job>(CAPACITY);
        let (tx, done) = mpsc::channel(CAPACITY);
        let thread_store = Arc::clone(&store);
        let spawned = std::thread::Builder::new()
            .name("bitswap-store".into())
            .spawn(move || run(&*thread_store, &rx, tx));
        let jobs = match spawned {
            Ok(_) => Some(jobs),
            Err(error) => {
                warn!(%error, "could not start the bitswap store thread; reading the store inline");
                None
            }
        };
        StoreWorker { store, jobs, done, inline: VecDeque::new() }
    }

    /// Hands `job` to the thread (never waits), or gives it back when there is none; a job
    /// that does not fit the queue is answered as if the block were missing (or, for a put,
    /// dropped).
    fn send(&mut self, job: Job) -> Option<Job> {
        let jobs = self.jobs.as_ref()?;
        match jobs.try_send(job) {
            Ok(()) => None,
            Err(std::sync::mpsc::TrySendError::Full(job)) => {
                warn!("the bitswap store queue is full; answering without the store");
                match job {
                    Job::Get(cid, purpose) => {
                        self.inline.push_back(Done { cid, purpose, lookup: Lookup::Missing });
                    }
                    Job::Put(block) => warn!(cid = %block.cid(), "a fetched block was not stored"),
                }
                None
            }
            Err(std::sync::mpsc::TrySendError::Disconnected(job)) => {
                warn!("the bitswap store thread is gone; reading the store inline");
                self.jobs = None;
                Some(job)
            }
        }
    }

    /// Looks `cid` up; the result comes out of [`StoreWorker::poll_done`].
    pub(crate) fn get(&mut self, cid: Cid, purpose: Purpose) {
        let job = if self.jobs.is_some() {
            self.send(Job::Get(cid, purpose))
        } else {
            Some(Job::Get(cid, purpose))
        };
        if let Some(Job::Get(cid, purpose)) = job {
            let lookup = lookup(&*self.store, &cid);
            self.inline.push_back(Done { cid, purpose, lookup });
        }
    }

    /// Stores a fetched block (errors are logged).
    pub(crate) fn put(&mut self, block: Block) {
        let job =
            if self.jobs.is_some() { self.send(Job::Put(block)) } else { Some(Job::Put(block)) };
        if let Some(Job::Put(block)) = job {
            put(&*self.store, &block);
        }
    }

    /// The next finished lookup, if any (registers `cx` for the thread's next one).
    pub(crate) fn poll_done(&mut self, cx: &mut Context<'_>) -> Poll<Done> {
        if let Some(done) = self.inline.pop_front() {
            return Poll::Ready(done);
        }
        match self.done.poll_next_unpin(cx) {
            Poll::Ready(Some(done)) => Poll::Ready(done),
            // No thread (or it ended): nothing more comes from it.
            Poll::Ready(None) | Poll::Pending => Poll::Pending,
        }
    }
}

fn run(store: &dyn BlockStore, jobs: &std::sync::mpsc::Receiver<Job>, done: mpsc::Sender<Done>) {
    let mut done = done;
    while let Ok(job) = jobs.recv() {
        match job {
            Job::Get(cid, purpose) => {
                let lookup = lookup(store, &cid);
                // Waits only while the behaviour has `CAPACITY` answers it has not read.
                let sent = futures::executor::block_on(futures::SinkExt::send(
                    &mut done,
                    Done { cid, purpose, lookup },
                ));
                if sent.is_err() {
                    return;
                }
            }
            Job::Put(block) => put(store, &block),
        }
    }
}

fn lookup(store: &dyn BlockStore, cid: &Cid) -> Lookup {
    match store.get(cid) {
        Ok(Some(data)) => match Block::new(*cid, data) {
            Ok(block) => Lookup::Found(block),
            Err(error) => {
                warn!(%cid, %error, "stored block does not check out; not served");
                Lookup::Corrupt
            }
        },
        Ok(None) => Lookup::Missing,
        Err(error) => {
            warn!(%cid, %error, "block store read failed");
            Lookup::Missing
        }
    }
}

fn put(store: &dyn BlockStore, block: &Block) {
    if let Err(error) = store.put(block) {
        warn!(cid = %block.cid(), %error, "could not store a fetched block");
    }
}
