//! [`Node::run`]: serves gRPC and HTTP, runs the anchor scheduler and applies finished anchors
//! (or polls the remote CAS) until `shutdown` completes (or a server fails); then stops both servers (each lets requests
//! finish for at most the shutdown grace), stops the network and flushes the store.

use std::future::Future;
use std::sync::Arc;

use ceramic_grpc::Grpc;
use ceramic_http_api::{Api, ServerStats};
use ceramic_net::NetworkHandle;
use ceramic_service::{Metrics, Service};
use ceramic_streamid::{StreamId, StreamRef};
use std::time::Duration;

use crate::anchoring::apply_anchors;
use crate::node::Anchors;
use crate::{Error, Node};

pub(crate) async fn run(
    node: Node,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), Error> {
    let Node {
        service,
        storage,
        anchors,
        verifier,
        net,
        grpc,
        http,
        config,
        pending_pins,
        backups,
        fetches,
    } = node;
    let grace = config.shutdown_grace();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until_stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };

    // Each backup target's task (on its timer and/or after anchors), and the targets that
    // run after each applied anchor batch.
    let mut backup_tasks = Vec::new();
    let mut after_anchor = Vec::new();
    for (runner, table) in backups.iter().zip(&config.backup) {
        if table.after_anchor || table.interval().is_some() {
            backup_tasks.push(tokio::spawn(runner.clone().run_forever(table.interval())));
        }
        if table.after_anchor {
            after_anchor.push(runner.clone());
        }
    }
    // The embedded anchor service's scheduler and the task applying its batches, or the
    // poller of a remote CAS.
    let (applier, scheduler) = match anchors {
        Anchors::Embedded { cas, sink } => (
            tokio::spawn(apply_anchors(
                service.clone(),
                sink.subscribe(),
                service.metrics().clone(),
                after_anchor,
            )),
            Some(tokio::spawn(cas.run_scheduler(until_stopped(stopped.clone())))),
        ),
        Anchors::Remote { requester, interval } => {
            let poller =
                crate::remote_cas::poll(requester, service.clone(), interval, after_anchor);
            (tokio::spawn(poller), None)
        }
    };
    let peers = tokio::spawn(count_peers(
        net.as_ref().map(|(handle, _)| handle.clone()),
        service.metrics().clone(),
    ));
    let fetcher = match (fetches, &net) {
        (Some(fetches), Some((handle, _))) => Some(tokio::spawn(fetches.serve(handle.clone()))),
        _ => None,
    };
    let collector = tokio::spawn(collect_garbage(service.clone(), config.gc.interval()));
    let pinner = tokio::spawn(pin_when_loaded(service.clone(), pending_pins));
    let metrics = service.metrics().clone();
    let http_stats = Arc::new(ServerStats::default());
    let rendered = Rendered {
        metrics,
        service: service.clone(),
        http: http_stats.clone(),
        net: net.as_ref().map(|(handle, _)| handle.clone()),
    };
    let router = Api::new(service.clone())
        .with_supported_chains(verifier.ids())
        .with_admin_dids(config.admin_dids.clone())
        .with_multiquery_limits(config.http.multiquery_limits())
        .with_admin_code_limits(config.http.admin_code_limits())
        .router()
        .nest("/ceramic", event_api(&service, net.as_ref().map(|(handle, _)| handle.clone())))
        .route("/metrics", axum::routing::get(move || serve_metrics(rendered.clone())));
    let mut http = tokio::spawn(ceramic_http_api::serve_with_limits(
        http,
        router,
        until_stopped(stopped.clone()),
        config.http.server_limits(grace),
        http_stats,
    ));
    let grpc = ceramic_grpc::serve(Grpc::new(service), grpc, until_stopped(stopped), grace);
    tokio::pin!(grpc, shutdown);
    let (grpc_result, http_result) = tokio::select! {
        result = &mut grpc => {
            let _ = stop.send(true);
            (result, http.await)
        }
        () = &mut shutdown => {
            let _ = stop.send(true);
            (grpc.await, http.await)
        }
        result = &mut http => {
            tracing::error!(?result, "the HTTP server stopped");
            let _ = stop.send(true);
            (grpc.await, result)
        }
    };
    let _ = stop.send(true);
    if let Some(scheduler) = scheduler {
        let _ = scheduler.await;
    }
    applier.abort();
    peers.abort();
    collector.abort();
    pinner.abort();
    let _ = collector.await;
    let _ = pinner.await;
    for task in &backup_tasks {
        task.abort();
    }
    // An aborted task drops its future (and its hold on the engine and the store) only when
    // the runtime next polls it: wait for that, so the store is closed when `run` returns and
    // the directory can be opened again at once.
    let _ = applier.await;
    let _ = peers.await;
    if let Some(fetcher) = fetcher {
        fetcher.abort();
        let _ = fetcher.await;
    }
    for task in backup_tasks {
        let _ = task.await;
    }
    if let Some((handle, task)) = net {
        handle.shutdown().await;
        let _ = task.await;
    }
    tracing::info!("servers stopped; flushing the store");
    // Requests abandoned with their connections may still be running on the blocking pool;
    // flushing alongside them is safe.
    ceramic_storage_rocks::flush(&storage)?;
    grpc_result?;
    http_result.map_err(|e| Error::Task(e.to_string()))?.map_err(Error::Http)?;
    Ok(())
}

/// What `/metrics` renders: the service's metrics, refreshed from the totals the HTTP server
/// and the network keep themselves.
#[derive(Debug, Clone)]
struct Rendered {
    metrics: Metrics,
    service: ceramic_service::Service,
    http: Arc<ServerStats>,
    net: Option<NetworkHandle>,
}

async fn serve_metrics(rendered: Rendered) -> impl axum::response::IntoResponse {
    let Rendered { metrics, service, http, net } = rendered;
    service.refresh_backup_metrics();
    let http = http.snapshot();
    metrics.set_http_connections_refused(&[
        ("capacity", http.refused_at_capacity),
        ("per_ip", http.refused_per_ip),
    ]);
    metrics.set_http_connections_cut(&[
        ("header_timeout", http.header_timeouts),
        ("idle_timeout", http.idle_timeouts),
        ("request_timeout", http.request_timeouts),
        ("evicted", http.evicted),
        ("shutdown", http.shutdown_dropped),
    ]);
    if let Some(net) = net {
        let stats = net.stats();
        metrics.set_peer_bans(stats.peers_banned);
        metrics.set_network_messages_dropped(&[
            ("malformed", stats.malformed),
            ("oversized", stats.oversized),
            ("from_banned", stats.from_banned),
            ("rate_limited", stats.rate_limited),
            ("bad_block", stats.bad_blocks),
        ]);
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.encode(),
    )
}

/// Keeps the peers gauge current (every 5 s) while the network runs.
/// The `/ceramic` API (ceramic-event-api), nested on the `/api/v0` listener so both share its
/// server limits; it lists and dials peers through the network when the node has one.
fn event_api(service: &ceramic_service::Service, net: Option<NetworkHandle>) -> axum::Router {
    let api = ceramic_event_api::EventApi::new(service.clone());
    match net {
        Some(handle) => api.with_peers(Arc::new(NetPeers(handle))),
        None => api,
    }
    .router()
}

/// The network as the `/ceramic` API lists and dials peers.
struct NetPeers(NetworkHandle);

impl ceramic_event_api::PeerSource for NetPeers {
    fn peers(
        &self,
    ) -> futures::future::BoxFuture<
        '_,
        Result<Vec<ceramic_event_api::PeerInfo>, ceramic_event_api::PeerError>,
    > {
        Box::pin(async move {
            let peers = self
                .0
                .peer_addresses()
                .await
                .map_err(|e| ceramic_event_api::PeerError::new(e.to_string()))?;
            Ok(peers
                .into_iter()
                .map(|(peer, addresses)| ceramic_event_api::PeerInfo {
                    id: peer.to_string(),
                    addresses: addresses.iter().map(ToString::to_string).collect(),
                })
                .collect())
        })
    }

    fn connect(
        &self,
        addresses: Vec<String>,
    ) -> futures::future::BoxFuture<'_, Result<(), ceramic_event_api::PeerError>> {
        Box::pin(async move {
            for address in addresses {
                let addr: ceramic_net::Multiaddr = address
                    .parse()
                    .map_err(|e| ceramic_event_api::PeerError::new(format!("{address}: {e}")))?;
                self.0
                    .dial(addr)
                    .await
                    .map_err(|e| ceramic_event_api::PeerError::new(e.to_string()))?;
            }
            Ok(())
        })
    }
}

async fn count_peers(handle: Option<NetworkHandle>, metrics: Metrics) {
    let Some(handle) = handle else { return };
    let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
    loop {
        every.tick().await;
        match handle.peers().await {
            Ok(peers) => metrics.set_peers(i64::try_from(peers.len()).unwrap_or(i64::MAX)),
            Err(_) => return,
        }
    }
}

/// Runs GC every `every` (the first one `every` after start) while the node runs; `None`:
/// never. A failed GC is logged and retried at the next tick.
async fn collect_garbage(service: Service, every: Option<Duration>) {
    let Some(every) = every else { return };
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(e) = service.gc().await {
            tracing::warn!(error = %e, "scheduled garbage collection failed");
        }
    }
}

/// Loads each configured pin the store did not have at start (from the network, when there is
/// one) and pins it; a stream that cannot be loaded is logged.
async fn pin_when_loaded(service: Service, streams: Vec<StreamId>) {
    for id in streams {
        let pinned = match service.load(StreamRef::Stream(id), None).await {
            Ok(_) => service.pin(id).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match pinned {
            Ok(()) => tracing::info!(stream = %id, "pinned (config `pins`)"),
            Err(error) => {
                tracing::warn!(stream = %id, %error, "config `pins`: stream not pinned");
            }
        }
    }
}
