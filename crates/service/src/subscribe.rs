//! [`Service::subscribe`]: a stream's state now and after each change of its tip.

use std::pin::Pin;
use std::task::{Context, Poll};

use ceramic_doctype::StreamState;
use ceramic_streamid::StreamId;
use tokio::sync::{broadcast, mpsc};

use crate::{LoadError, Metrics, Service};

/// How many states a subscriber may leave unread before the follower waits for it.
const BUFFER: usize = 16;

/// The states of one stream: the current one (once the node has the stream), then one per new
/// tip from local writes, anchors and the network. A subscriber that falls behind skips to the
/// latest state. Ends after an error, or when the node stops; dropping it ends the follower.
#[derive(Debug)]
pub struct Subscription {
    states: mpsc::Receiver<Result<StreamState, LoadError>>,
}

impl futures::Stream for Subscription {
    type Item = Result<StreamState, LoadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.states.poll_recv(cx)
    }
}

impl Service {
    /// Follows `stream`: see [`Subscription`]. Listens for new tips before reading the current
    /// state, so no tip in between is missed.
    pub fn subscribe(&self, stream: StreamId) -> Subscription {
        let updates = self.updates().subscribe();
        let (out, states) = mpsc::channel(BUFFER);
        tokio::spawn(self.clone().follow(stream, updates, out));
        Subscription { states }
    }

    async fn follow(
        self,
        stream: StreamId,
        mut updates: broadcast::Receiver<(StreamId, ceramic_codecs::Cid)>,
        out: mpsc::Sender<Result<StreamState, LoadError>>,
    ) {
        use broadcast::error::RecvError;
        /// Counts the subscription while it is open.
        struct Open(Metrics);
        impl Drop for Open {
            fn drop(&mut self) {
                self.0.subscriptions(-1);
            }
        }
        self.metrics().subscriptions(1);
        let _open = Open(self.metrics().clone());
        let mut last_tip = None;
        let mut changed = true;
        loop {
            if changed {
                match self.current(stream).await {
                    Ok(Some(state)) if Some(state.tip()) != last_tip => {
                        last_tip = Some(state.tip());
                        if out.send(Ok(state)).await.is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        let _ = out.send(Err(e)).await;
                        return;
                    }
                }
            }
            changed = tokio::select! {
                () = out.closed() => return,
                received = updates.recv() => match received {
                    Ok((id, _)) => id == stream,
                    // Fell behind: the latest state is what matters.
                    Err(RecvError::Lagged(_)) => true,
                    Err(RecvError::Closed) => return,
                },
            };
        }
    }
}
