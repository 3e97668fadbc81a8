//! The network as the engine's [`StreamFetcher`]: when a signature names a 3ID whose stream
//! (or `version-id` commit) this node does not store, the resolver asks the network for it
//! before calling it not found — 3ID streams are loaded as any stream is (a QUERY on the
//! pubsub topic, then the tips' blocks), within a bounded time.
//!
//! The engine asks from its synchronous work (signature checks run on the blocking pool), so
//! [`NetFetcher::fetch`] sends the request to a task that [`Node::run`](crate::Node::run)
//! serves on the runtime, and waits for the answer on a plain channel for at most
//! [`FETCH_BOUND`]: a caller never needs its own thread to make progress, and never waits
//! longer than the bound (a 3ID that nobody has is a clear `not found`, not a hang).

use std::time::Duration;

use ceramic_engine::StreamFetcher;
use ceramic_net::NetworkHandle;
use ceramic_streamid::StreamId;
use tokio::sync::mpsc;

/// The longest a signature check waits for a 3ID stream from the network. The network's own
/// bounds (`sync_timeout` for the query, `request_timeout` per block request) end a search
/// sooner; this caps the wait when the network task is stopped or overloaded.
pub const FETCH_BOUND: Duration = Duration::from_secs(30);

/// Requests waiting for the network task at most; more are answered "not found" at once.
const QUEUE: usize = 256;

type Request = (StreamId, std::sync::mpsc::SyncSender<bool>);

/// The engine's side: sends requests, waits for answers.
#[derive(Debug)]
pub(crate) struct NetFetcher {
    requests: mpsc::Sender<Request>,
}

/// The node's side: the requests, served by [`Fetches::serve`] while the node runs.
#[derive(Debug)]
pub(crate) struct Fetches(mpsc::Receiver<Request>);

/// A connected fetcher and its request queue.
pub(crate) fn channel() -> (NetFetcher, Fetches) {
    let (requests, queue) = mpsc::channel(QUEUE);
    (NetFetcher { requests }, Fetches(queue))
}

impl StreamFetcher for NetFetcher {
    fn fetch(&self, stream: &StreamId) -> bool {
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        if self.requests.try_send((*stream, reply)).is_err() {
            // Not running yet, stopped, or too many searches at once.
            return false;
        }
        answer.recv_timeout(FETCH_BOUND).unwrap_or(false)
    }
}

impl Fetches {
    /// Serves each request with a network sync of its stream, concurrently, until every
    /// [`NetFetcher`] is gone.
    pub(crate) async fn serve(mut self, network: NetworkHandle) {
        while let Some((stream, reply)) = self.0.recv().await {
            let network = network.clone();
            tokio::spawn(async move {
                let found = match tokio::time::timeout(FETCH_BOUND, network.sync(&stream)).await {
                    Ok(Ok(_)) => true,
                    Ok(Err(e)) => {
                        tracing::debug!(%stream, error = %e, "3ID stream not loaded from the network");
                        false
                    }
                    Err(_) => false,
                };
                // The caller may have stopped waiting; the channel holds the one answer.
                let _ = reply.try_send(found);
            });
        }
    }
}
