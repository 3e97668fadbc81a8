//! `ceramic-anchor-service`: the Ceramic Anchor Service daemon (package `ceramic-cas`).
//!
//! ```sh
//! ceramic-anchor-service [--config cas.toml]
//! ```
//!
//! Thin by design: it reads the configuration (`config.rs`: data directory, HTTP and gRPC
//! listen addresses, chain, batching policy, log level; every field defaulted, unknown keys
//! refused), opens the request store (RocksDB under `<data_dir>/requests`) and the service
//! (`ceramic_anchor_service::CasBuilder`, which first finishes batches a previous run left in
//! flight), binds both ports, prints
//!
//! ```text
//! ceramic-anchor-service http listening on 127.0.0.1:8081
//! ceramic-anchor-service grpc listening on 127.0.0.1:8082
//! ```
//!
//! on standard output once both are bound (tests and scripts wait for these lines), then serves
//! the CAS HTTP API and `ceramic.v1.AnchorService` and runs the batch scheduler until SIGINT or
//! SIGTERM, finishes open requests and exits 0. Logs go to standard error.

mod config;

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use ceramic_anchor::{Chain, DevChain};
use ceramic_anchor_service::{CasBuilder, RocksStore, grpc, http};
use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::config::{ChainName, Config};

/// The Ceramic Anchor Service: batches anchor requests and puts their Merkle roots on a chain.
#[derive(Debug, Parser)]
#[command(name = "ceramic-anchor-service", version)]
struct Args {
    /// A TOML configuration file; without one, every setting has its default.
    #[arg(long)]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let config = Config::load(args.config.as_deref())?;
    init_logging(&config.log_level)?;

    let chain: Arc<dyn Chain> = match config.chain {
        ChainName::Dev => Arc::new(DevChain::new()),
        ChainName::Eth => Arc::new(config.eth.connect().context("connecting to the eth chain")?),
    };
    let store_dir = config.data_dir.join("requests");
    std::fs::create_dir_all(&store_dir)
        .with_context(|| format!("creating {}", store_dir.display()))?;
    let store = RocksStore::open(&store_dir).context("opening the request store")?;
    let policy = config.policy.to_policy();
    let cas = tokio::task::spawn_blocking(move || {
        CasBuilder::new(Arc::new(store), chain).with_policy(policy).open()
    })
    .await?
    .context("opening the anchor service")?;
    let mut shutdown = shutdown_signal()?;

    let http_listener = tokio::net::TcpListener::bind(config.http_listen)
        .await
        .with_context(|| format!("binding {}", config.http_listen))?;
    let grpc_listener = tokio::net::TcpListener::bind(config.grpc_listen)
        .await
        .with_context(|| format!("binding {}", config.grpc_listen))?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "ceramic-anchor-service http listening on {}", http_listener.local_addr()?)?;
    writeln!(stdout, "ceramic-anchor-service grpc listening on {}", grpc_listener.local_addr()?)?;
    stdout.flush()?;
    tracing::info!(chains = ?cas.supported_chains(), ?policy, "serving");

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until_stopped = || {
        let mut stopped = stopped.clone();
        async move {
            // An error means the sender is gone: stop too.
            let _ = stopped.wait_for(|stop| *stop).await;
        }
    };
    let http = tokio::spawn(http::serve(http_listener, cas.clone(), until_stopped()));
    let grpc = tokio::spawn(grpc::serve(grpc_listener, cas.clone(), until_stopped()));
    let scheduler = tokio::spawn(cas.run_scheduler(until_stopped()));

    shutdown.as_mut().await;
    stop.send_replace(true);
    http.await?.context("the HTTP server")?;
    grpc.await?.context("the gRPC server")?;
    scheduler.await?;
    tracing::info!("stopped");
    Ok(())
}

/// Logs to standard error, filtered by `RUST_LOG` if set, else by the configured level.
fn init_logging(level: &str) -> Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(env) if !env.is_empty() => EnvFilter::try_new(env).context("RUST_LOG")?,
        _ => EnvFilter::try_new(level).with_context(|| format!("log_level {level:?}"))?,
    };
    // Colours only for a terminal: a file or a pipe (journald, docker) gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .init();
    Ok(())
}

/// A future that completes on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed before
/// the addresses are printed, so a signal sent as soon as they appear is never lost.
#[cfg(unix)]
fn shutdown_signal() -> Result<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    Ok(Box::pin(async move {
        tokio::select! {
            _ = interrupt.recv() => tracing::info!("SIGINT: shutting down"),
            _ = terminate.recv() => tracing::info!("SIGTERM: shutting down"),
        }
    }))
}

/// A future that completes on Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> Result<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>> {
    Ok(Box::pin(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!("Ctrl-C: shutting down");
        }
    }))
}
