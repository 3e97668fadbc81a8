//! Everything the swarm task needs from the store, read off the task: block requests from peers
//! (`/ceramic-rs/blocks/1.0.0`, `specs/network.md` "Block fetch protocol"), the tip that answers a
//! QUERY, and the blocks of a new tip for Bitswap.
//!
//! The swarm task hands each [`Job`] to the worker through a bounded channel without waiting
//! (a full queue drops the job: the asking peer sees its request fail, as when a node is
//! overloaded); the worker reads the store in `spawn_blocking`, a few jobs at a time, and sends
//! each [`Done`], which carries what identifies its request (the response channel, the query
//! id), back through another bounded channel that the swarm task drains.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ceramic_codecs::{Block, Cid};
use ceramic_storage::Storage;
use ceramic_streamid::StreamId;
use libp2p::PeerId;
use libp2p::request_response::{InboundRequestId, ResponseChannel};
use serde_bytes::ByteBuf;
use tokio::sync::{Semaphore, mpsc};

use crate::blocks::{
    BlockRequest, BlockResponse, MAX_REQUEST_CIDS, MAX_RESPONSE_BYTES, envelope_link,
};
use crate::message::{Message, Response};
use crate::stats::Counters;

/// Jobs that may wait for the worker.
const JOB_QUEUE: usize = 1024;
/// Results that may wait for the swarm task.
const DONE_QUEUE: usize = 1024;
/// Jobs read from the store at once.
const READERS: usize = 8;

/// A store read for the swarm task.
#[derive(Debug)]
pub(crate) enum Job {
    /// A peer's block request.
    Serve {
        peer: PeerId,
        id: InboundRequestId,
        request: BlockRequest,
        channel: ResponseChannel<BlockResponse>,
    },
    /// A QUERY to answer if the stream is stored.
    Answer { id: String, stream: StreamId },
    /// A new tip whose blocks Bitswap should offer to peers waiting for them.
    Notify(Cid),
}

/// What the swarm task does with a finished [`Job`].
#[derive(Debug)]
pub(crate) enum Done {
    /// Send this response on the request's channel.
    Serve {
        peer: PeerId,
        id: InboundRequestId,
        channel: ResponseChannel<BlockResponse>,
        response: BlockResponse,
    },
    /// Publish this RESPONSE.
    Answer(Message),
    /// Hand these blocks to Bitswap.
    Notify(Vec<Block>),
}

/// What the worker reads with.
#[derive(Clone)]
pub(crate) struct Reader {
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) counters: Arc<Counters>,
    /// Fault injection for tests: serve blocks with their last byte flipped.
    pub(crate) corrupt: Arc<AtomicBool>,
}

/// Spawns the worker on the current runtime: the sender of jobs and the receiver of results.
/// It stops when the job sender is dropped or the result receiver is gone (the swarm task
/// stopped).
pub(crate) fn spawn(reader: Reader) -> (mpsc::Sender<Job>, mpsc::Receiver<Done>) {
    let (jobs, job_rx) = mpsc::channel(JOB_QUEUE);
    let (done_tx, done) = mpsc::channel(DONE_QUEUE);
    tokio::spawn(run(reader, job_rx, done_tx));
    (jobs, done)
}

async fn run(reader: Reader, mut jobs: mpsc::Receiver<Job>, done: mpsc::Sender<Done>) {
    let readers = Arc::new(Semaphore::new(READERS));
    while let Some(job) = jobs.recv().await {
        let Ok(permit) = readers.clone().acquire_owned().await else { break };
        if done.is_closed() {
            break;
        }
        let (reader, done) = (reader.clone(), done.clone());
        tokio::spawn(async move {
            let result = tokio::task::spawn_blocking(move || reader.run(job)).await;
            drop(permit);
            if let Ok(Some(result)) = result {
                let _ = done.send(result).await;
            }
        });
    }
}

impl Reader {
    fn run(&self, job: Job) -> Option<Done> {
        match job {
            Job::Serve { peer, id, request, channel } => {
                let blocks = serve(self.storage.as_ref(), &request, &self.counters, self.corrupt());
                Some(Done::Serve { peer, id, channel, response: BlockResponse { blocks } })
            }
            Job::Answer { id, stream } => match self.storage.state(&stream) {
                Ok(Some(state)) => {
                    let tips = [(stream, state.tip())].into_iter().collect();
                    Some(Done::Answer(Message::Response(Response { id, tips })))
                }
                Ok(None) => None,
                Err(e) => {
                    tracing::warn!(%stream, error = %e, "cannot answer QUERY");
                    None
                }
            },
            Job::Notify(tip) => {
                let mut blocks = Vec::new();
                let mut next = Some(tip);
                while let Some(cid) = next.take() {
                    if let Ok(Some(block)) = self.storage.block(&cid) {
                        next = envelope_link(&block);
                        blocks.push(block);
                    }
                }
                Some(Done::Notify(blocks))
            }
        }
    }

    fn corrupt(&self) -> bool {
        self.corrupt.load(Ordering::Relaxed)
    }
}

/// The blocks of a request that the store has (each dag-jose envelope followed by its payload,
/// which the asker will want next), at most [`MAX_REQUEST_CIDS`] asked for and
/// [`MAX_RESPONSE_BYTES`] in all; with `corrupt`, each block's last byte flipped.
pub(crate) fn serve(
    storage: &dyn Storage,
    request: &BlockRequest,
    counters: &Counters,
    corrupt: bool,
) -> Vec<(ByteBuf, ByteBuf)> {
    let mut blocks = Vec::new();
    let mut size = 0;
    let mut queue: VecDeque<Cid> = request
        .cids
        .iter()
        .take(MAX_REQUEST_CIDS)
        .filter_map(|c| Cid::try_from(c.as_slice()).ok())
        .collect();
    let mut sent = HashSet::new();
    while let Some(cid) = queue.pop_front() {
        if !sent.insert(cid) {
            continue;
        }
        let block = match storage.block(&cid) {
            Ok(Some(block)) => block,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(%cid, error = %e, "cannot serve block");
                continue;
            }
        };
        size += block.data().len();
        if size > MAX_RESPONSE_BYTES {
            break;
        }
        if let Some(payload) = envelope_link(&block) {
            queue.push_front(payload);
        }
        Counters::inc(&counters.blocks_served);
        let mut data = block.data().to_vec();
        if corrupt && let Some(last) = data.last_mut() {
            *last ^= 1;
        }
        blocks.push((ByteBuf::from(cid.to_bytes()), ByteBuf::from(data)));
    }
    blocks
}

#[cfg(test)]
mod tests {
    use ceramic_codecs::Codec;
    use ceramic_engine::test_utils::{ADDER, Adder, Made, genesis, signer};
    use ceramic_storage::MemoryStorage;

    use super::*;

    /// A store holding one stream's genesis (envelope and payload).
    fn stored() -> (Arc<MemoryStorage>, StreamId, Made) {
        let storage = Arc::new(MemoryStorage::new());
        let (stream, made) = genesis(&signer(3), "serve", None, &[]);
        let mut registry = ceramic_doctype::Registry::new();
        registry.register(Adder).unwrap();
        let engine = ceramic_engine::Engine::new(
            storage.clone(),
            registry,
            Arc::new(ceramic_engine::memory::FakeAnchorVerifier::default()),
            Arc::new(crate::announcer().0),
        );
        engine.apply_commit(ADDER, made.cid, &made.blocks).unwrap();
        (storage, stream, made)
    }

    fn request(cids: &[Cid]) -> BlockRequest {
        BlockRequest { cids: cids.iter().map(|c| ByteBuf::from(c.to_bytes())).collect() }
    }

    fn wire(block: &Block) -> (ByteBuf, ByteBuf) {
        (ByteBuf::from(block.cid().to_bytes()), ByteBuf::from(block.data()))
    }

    #[test]
    fn serves_an_envelope_then_its_payload_and_skips_what_it_lacks() {
        let (storage, _, made) = stored();
        let counters = Counters::default();
        let absent = Block::from_data(Codec::DagCbor, vec![0x09]).unwrap();
        let (envelope, payload) = (&made.blocks[0], &made.blocks[1]);
        let asked = request(&[*absent.cid(), *envelope.cid(), *payload.cid()]);
        let blocks = serve(storage.as_ref(), &asked, &counters, false);
        // The payload comes right after its envelope, and only once.
        assert_eq!(blocks, vec![wire(envelope), wire(payload)]);
        assert_eq!(counters.snapshot().blocks_served, 2);
    }

    #[test]
    fn serves_at_most_the_first_64_cids_asked_for() {
        let (storage, _, made) = stored();
        let payload = &made.blocks[1];
        let filler: Vec<Cid> = (0..MAX_REQUEST_CIDS as u8)
            .map(|n| *Block::from_data(Codec::DagCbor, vec![n]).unwrap().cid())
            .collect();
        let mut cids = filler.clone();
        cids.push(*payload.cid());
        let blocks = serve(storage.as_ref(), &request(&cids), &Counters::default(), false);
        assert!(blocks.is_empty(), "the 65th CID is not looked at");
        cids.remove(0);
        let blocks = serve(storage.as_ref(), &request(&cids), &Counters::default(), false);
        assert_eq!(blocks, vec![wire(payload)]);
    }

    #[test]
    fn corrupt_serving_flips_the_last_byte() {
        let (storage, _, made) = stored();
        let payload = &made.blocks[1];
        let blocks =
            serve(storage.as_ref(), &request(&[*payload.cid()]), &Counters::default(), true);
        let (_, data) = &blocks[0];
        assert_eq!(data.len(), payload.data().len());
        assert!(Block::new(*payload.cid(), data.to_vec()).is_err());
    }

    fn reader(storage: Arc<MemoryStorage>) -> Reader {
        Reader {
            storage,
            counters: Arc::new(Counters::default()),
            corrupt: Arc::new(AtomicBool::new(false)),
        }
    }

    #[test]
    fn answers_a_query_only_for_a_stored_stream() {
        let (storage, stream, made) = stored();
        let reader = reader(storage);
        let Some(Done::Answer(message)) = reader.run(Job::Answer { id: "q".into(), stream }) else {
            panic!("a stored stream is answered");
        };
        let tips = [(stream, made.cid)].into_iter().collect();
        assert_eq!(message, Message::Response(Response { id: "q".into(), tips }));
        let (other, _) = genesis(&signer(4), "elsewhere", None, &[]);
        assert!(reader.run(Job::Answer { id: "q".into(), stream: other }).is_none());
    }

    #[tokio::test]
    async fn the_worker_reads_a_new_tips_blocks_for_bitswap_off_the_caller() {
        let (storage, _, made) = stored();
        let (jobs, mut done) = spawn(reader(storage));
        jobs.try_send(Job::Notify(made.cid)).unwrap();
        let Some(Done::Notify(blocks)) = done.recv().await else { panic!("a Notify result") };
        assert_eq!(blocks, made.blocks, "the envelope and its payload");
    }
}
