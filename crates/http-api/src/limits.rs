//! The HTTP server with a production daemon's limits ([`serve_with_limits`], [`ServerLimits`]):
//! what a hostile or careless client may hold, and for how long.
//!
//! - **Header timeout**: a request's head must arrive whole within `header_timeout` of its first
//!   byte (slowloris clients trickling a header are cut off).
//! - **Idle timeout**: a keep-alive connection with no request for `idle_timeout` is closed.
//! - **Request timeout**: a request (body read, handler, answer) may take at most
//!   `request_timeout`; then its connection is dropped (every write is atomic in the engine, so
//!   dropping a handler midway is safe).
//! - **Connection cap**: at most `max_connections` open connections. A new connection beyond it
//!   first evicts the connection that has been waiting longest with no request in flight (idle,
//!   or still sending a head); when every connection is busy it is answered
//!   `503 Service Unavailable` and closed at once, so file descriptors are never exhausted by
//!   idle clients and a healthcheck still gets through.
//! - **Per-IP cap**: at most `max_connections_per_ip` open connections from one address
//!   (IPv4-mapped IPv6 counts as IPv4); beyond it `429 Too Many Requests` and closed at once.
//! - **Shutdown** stops accepting, closes every connection with no request in flight at once,
//!   lets in-flight requests finish for at most `grace`, then drops what is left.
//!
//! Every refusal and cut is counted in [`ServerStats`] (rendered by the node at `/metrics`).
//! The handler sees the client's address as axum's `ConnectInfo<SocketAddr>`.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::service::Service as _;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// The server's limits; [`Default`] gives the node's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerLimits {
    /// How long a request's head may take from its first byte (default 10 s).
    pub header_timeout: Duration,
    /// How long a keep-alive connection may stay without a request (default 30 s).
    pub idle_timeout: Duration,
    /// How long one request may take, body and answer included (default 60 s).
    pub request_timeout: Duration,
    /// The most open connections (default 512).
    pub max_connections: usize,
    /// The most open connections from one IP address (default 64).
    pub max_connections_per_ip: usize,
    /// How long in-flight requests may finish at shutdown (default 10 s).
    pub grace: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(60),
            max_connections: 512,
            max_connections_per_ip: 64,
            grace: Duration::from_secs(10),
        }
    }
}

impl ServerLimits {
    /// Sets [`ServerLimits::header_timeout`].
    #[must_use]
    pub fn with_header_timeout(mut self, timeout: Duration) -> Self {
        self.header_timeout = timeout;
        self
    }

    /// Sets [`ServerLimits::idle_timeout`].
    #[must_use]
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Sets [`ServerLimits::request_timeout`].
    #[must_use]
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets [`ServerLimits::max_connections`] (at least 1).
    #[must_use]
    pub fn with_max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// Sets [`ServerLimits::max_connections_per_ip`] (at least 1).
    #[must_use]
    pub fn with_max_connections_per_ip(mut self, max: usize) -> Self {
        self.max_connections_per_ip = max.max(1);
        self
    }

    /// Sets [`ServerLimits::grace`].
    #[must_use]
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }
}

macro_rules! server_stats {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        /// A snapshot of [`ServerStats`].
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct ServerCounts {
            $($(#[$doc])* pub $name: u64,)*
        }

        /// Counters of what the server's limits did, shared with whoever renders metrics.
        #[derive(Debug, Default)]
        pub struct ServerStats {
            $($name: AtomicU64,)*
        }

        impl ServerStats {
            /// The counters now.
            pub fn snapshot(&self) -> ServerCounts {
                ServerCounts { $($name: self.$name.load(Ordering::Relaxed),)* }
            }
        }
    };
}

server_stats! {
    /// Connections answered 503 because every connection was busy at the cap.
    refused_at_capacity,
    /// Connections answered 429 because their address had too many open.
    refused_per_ip,
    /// Idle (or head-sending) connections closed to make room for a new one at the cap.
    evicted,
    /// Connections cut because a request head took longer than the header timeout.
    header_timeouts,
    /// Keep-alive connections closed after the idle timeout.
    idle_timeouts,
    /// Connections cut because a request took longer than the request timeout.
    request_timeouts,
    /// Connections dropped at shutdown with a request still in flight after the grace.
    shutdown_dropped,
}

fn inc(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Where a connection is in its life, for the timeouts and eviction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No request in flight and no byte of a new one, since then.
    Idle(Instant),
    /// The first byte of a request head arrived then; the head is not complete.
    Head(Instant),
    /// A request is in flight since then (`n` of them, with pipelining).
    Busy(Instant, usize),
}

/// One connection's state, shared by its I/O, its service and its watchdog.
#[derive(Debug)]
struct ConnState {
    phase: Mutex<Phase>,
    /// Wakes the watchdog: the phase changed, or the connection is to be evicted.
    changed: Notify,
    evict: std::sync::atomic::AtomicBool,
}

impl ConnState {
    fn new() -> Self {
        ConnState {
            phase: Mutex::new(Phase::Idle(Instant::now())),
            changed: Notify::new(),
            evict: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn phase(&self) -> MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn read_bytes(&self) {
        let mut phase = self.phase();
        if let Phase::Idle(_) = *phase {
            *phase = Phase::Head(Instant::now());
            drop(phase);
            self.changed.notify_one();
        }
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        let mut phase = self.phase();
        *phase = match *phase {
            Phase::Busy(since, n) => Phase::Busy(since, n + 1),
            _ => Phase::Busy(Instant::now(), 1),
        };
        drop(phase);
        self.changed.notify_one();
        InFlight(self.clone())
    }
}

/// A request in flight; dropping it (answered or abandoned) ends it.
struct InFlight(Arc<ConnState>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut phase = self.0.phase();
        *phase = match *phase {
            Phase::Busy(since, n) if n > 1 => Phase::Busy(since, n - 1),
            _ => Phase::Idle(Instant::now()),
        };
        drop(phase);
        self.0.changed.notify_one();
    }
}

/// The TCP stream, noting when the first byte of a request head arrives.
struct Tracked {
    tcp: TcpStream,
    state: Arc<ConnState>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.tcp).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.state.read_bytes();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }
}

/// The open connections, by id, and the count per address.
#[derive(Debug, Default)]
struct Registry {
    next_id: u64,
    conns: HashMap<u64, (IpAddr, Arc<ConnState>)>,
    per_ip: HashMap<IpAddr, usize>,
}

impl Registry {
    fn add(&mut self, ip: IpAddr, state: Arc<ConnState>) -> u64 {
        self.next_id += 1;
        self.conns.insert(self.next_id, (ip, state));
        *self.per_ip.entry(ip).or_default() += 1;
        self.next_id
    }

    fn remove(&mut self, id: u64) {
        if let Some((ip, _)) = self.conns.remove(&id)
            && let Some(n) = self.per_ip.get_mut(&ip)
        {
            *n -= 1;
            if *n == 0 {
                self.per_ip.remove(&ip);
            }
        }
    }

    /// Marks the connection waiting longest with no request in flight for eviction and
    /// forgets it; whether there was one.
    fn evict_one(&mut self) -> bool {
        let victim = self
            .conns
            .iter()
            .filter_map(|(id, (_, state))| match *state.phase() {
                Phase::Idle(since) | Phase::Head(since) => Some((since, *id)),
                Phase::Busy(..) => None,
            })
            .min();
        let Some((_, id)) = victim else { return false };
        if let Some((_, state)) = self.conns.get(&id) {
            state.evict.store(true, Ordering::Relaxed);
            state.changed.notify_one();
        }
        self.remove(id);
        true
    }
}

/// Serves `router` on `listener` with the default [`ServerLimits`] and `grace`, until
/// `shutdown` completes (see [`serve_with_limits`]).
///
/// # Errors
/// The listener's I/O errors.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> io::Result<()> {
    let limits = ServerLimits::default().with_grace(grace);
    serve_with_limits(listener, router, shutdown, limits, Arc::default()).await
}

/// Serves `router` on `listener` under `limits` (see the module docs) until `shutdown`
/// completes, counting refusals and cuts in `stats`. Returns once every connection is closed:
/// at once for idle ones, after at most `limits.grace` for those with a request in flight.
///
/// # Errors
/// None today (accept errors are logged and retried); the signature keeps `io::Result` for
/// listener failures.
pub async fn serve_with_limits(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: ServerLimits,
    stats: Arc<ServerStats>,
) -> io::Result<()> {
    let registry = Arc::new(Mutex::new(Registry::default()));
    let (stop, stopped) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut accept_errors = LogEvery::new(Duration::from_secs(10));
    tokio::pin!(shutdown);
    loop {
        while tasks.try_join_next().is_some() {}
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors (EMFILE/ENFILE) or a connection that died in the
                // queue: wait a little rather than spin, and log once in a while.
                if let Some(more) = accept_errors.tick() {
                    tracing::warn!(%error, more, "HTTP accept failed");
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
        let ip = peer.ip().to_canonical();
        let state = Arc::new(ConnState::new());
        let admitted = {
            let mut registry = registry.lock().unwrap_or_else(|p| p.into_inner());
            if registry.per_ip.get(&ip).copied().unwrap_or(0) >= limits.max_connections_per_ip {
                Err(Refusal::PerIp)
            } else if registry.conns.len() >= limits.max_connections && !registry.evict_one() {
                Err(Refusal::Capacity)
            } else {
                Ok(registry.add(ip, state.clone()))
            }
        };
        let id = match admitted {
            Ok(id) => id,
            Err(refusal) => {
                refusal.answer(&tcp, &stats);
                continue;
            }
        };
        let registry = registry.clone();
        let stats = stats.clone();
        let router = router.clone();
        let stopped = stopped.clone();
        tasks.spawn(async move {
            connection(tcp, peer, state, router, limits, &stats, stopped).await;
            registry.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    let drained = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(limits.grace, drained).await.is_err() {
        let left = tasks.len();
        stats.shutdown_dropped.fetch_add(left as u64, Ordering::Relaxed);
        tracing::warn!(grace = ?limits.grace, left, "HTTP requests still running after the grace period: dropped");
        tasks.shutdown().await;
    }
    Ok(())
}

/// Why a new connection is turned away.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    Capacity,
    PerIp,
}

impl Refusal {
    /// The answer's status line and message.
    fn text(self) -> (&'static str, &'static str) {
        match self {
            Refusal::Capacity => ("503 Service Unavailable", "too many connections: retry later"),
            Refusal::PerIp => ("429 Too Many Requests", "too many connections from this address"),
        }
    }

    /// Writes a short answer if the socket takes it at once (never waits), then closes.
    fn answer(self, tcp: &TcpStream, stats: &ServerStats) {
        inc(match self {
            Refusal::Capacity => &stats.refused_at_capacity,
            Refusal::PerIp => &stats.refused_per_ip,
        });
        let (status, message) = self.text();
        let body = serde_json::json!({ "error": message }).to_string();
        let answer = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json; charset=utf-8\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        let _ = tcp.try_write(answer.as_bytes());
    }
}

/// Serves one connection under the timeouts until it ends, is cut, evicted or shut down.
async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    state: Arc<ConnState>,
    router: Router,
    limits: ServerLimits,
    stats: &ServerStats,
    mut stopped: watch::Receiver<bool>,
) {
    let io = TokioIo::new(Tracked { tcp, state: state.clone() });
    let service = TowerToHyperService::new(router);
    let on_request = state.clone();
    let handler = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        let in_flight = on_request.begin();
        request.extensions_mut().insert(ConnectInfo(peer));
        let answer = service.call(request);
        async move {
            let answered = answer.await;
            drop(in_flight);
            answered
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.keep_alive(true);
    let conn = builder.serve_connection(io, handler);
    tokio::pin!(conn);
    let mut shutting_down = false;
    loop {
        if state.evict.load(Ordering::Relaxed) {
            inc(&stats.evicted);
            return;
        }
        let phase = *state.phase();
        if shutting_down && !matches!(phase, Phase::Busy(..)) {
            return;
        }
        let (deadline, counter) = match phase {
            Phase::Idle(since) => (since + limits.idle_timeout, &stats.idle_timeouts),
            Phase::Head(since) => (since + limits.header_timeout, &stats.header_timeouts),
            Phase::Busy(since, _) => (since + limits.request_timeout, &stats.request_timeouts),
        };
        tokio::select! {
            _ = conn.as_mut() => return,
            () = state.changed.notified() => {}
            () = tokio::time::sleep_until(deadline) => {
                if *state.phase() == phase {
                    inc(counter);
                    tracing::debug!(%peer, ?phase, "HTTP connection cut by a timeout");
                    return;
                }
            }
            changed = stopped.wait_for(|stop| *stop), if !shutting_down => {
                let _ = changed;
                shutting_down = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Rate-limited logging: `tick` says when to log, with how many events were not logged since.
#[derive(Debug)]
pub(crate) struct LogEvery {
    every: Duration,
    last: Option<Instant>,
    skipped: u64,
}

impl Default for LogEvery {
    /// Once a minute.
    fn default() -> Self {
        LogEvery::new(Duration::from_secs(60))
    }
}

impl LogEvery {
    pub(crate) fn new(every: Duration) -> Self {
        LogEvery { every, last: None, skipped: 0 }
    }

    /// `Some(events not logged since the last time)` when this one should be logged.
    pub(crate) fn tick(&mut self) -> Option<u64> {
        let now = Instant::now();
        match self.last {
            Some(last) if now.duration_since(last) < self.every => {
                self.skipped += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.skipped))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_every_aggregates() {
        let mut log = LogEvery::new(Duration::from_millis(300));
        assert_eq!(log.tick(), Some(0));
        assert_eq!(log.tick(), None);
        assert_eq!(log.tick(), None);
        std::thread::sleep(Duration::from_millis(350));
        assert_eq!(log.tick(), Some(2));
        assert_eq!(log.tick(), None);
    }

    #[test]
    fn eviction_picks_the_longest_waiting_connection_not_busy() {
        let mut registry = Registry::default();
        let ip = IpAddr::from([127, 0, 0, 1]);
        let (a, b) = (Arc::new(ConnState::new()), Arc::new(ConnState::new()));
        let _busy = a.begin();
        registry.add(ip, a.clone());
        registry.add(ip, b.clone());
        assert!(registry.evict_one());
        assert!(b.evict.load(Ordering::Relaxed));
        assert!(!a.evict.load(Ordering::Relaxed));
        assert_eq!(registry.per_ip[&ip], 1);
        assert!(!registry.evict_one(), "the busy one stays");
    }
}
