//! `ceramic-node`: a Ceramic node serving the gRPC API of `ceramic-proto` and the js-ceramic
//! compatible HTTP API of `ceramic-http-api`.
//!
//! ```sh
//! ceramic-node [--config node.toml]
//! ```
//!
//! Thin by design: it reads the configuration (`config.rs`: data directory, listen addresses,
//! network name, doctypes, anchoring, log level; every field defaulted), registers the enabled
//! doctypes, opens the node (`ceramic_core::CoreBuilder`: RocksDB under the data directory, the
//! engine, the embedded anchor service on the dev chain or Ethereum, the APIs), prints
//! `ceramic-node listening on <addr>` (gRPC) and `ceramic-node http on <addr>` (HTTP `/api/v0`
//! and `/metrics`) on standard output once the ports are bound (tests and scripts wait for
//! those lines), and serves both until SIGINT or SIGTERM, then finishes in-flight requests,
//! flushes the store and exits 0. Logs go to standard error.

mod config;

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use ceramic_core::{CoreBuilder, CoreOptions, Listeners};
use ceramic_proto::Options;
use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::config::{Config, DoctypeName};

/// A Ceramic node: stores streams and serves them over gRPC.
#[derive(Debug, Parser)]
#[command(name = "ceramic-node", version)]
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

    let node_options =
        Options::new(&config.data_dir).with_network(config.network.clone()).with_sync(config.sync);
    let mut options = CoreOptions::new(node_options)
        .with_anchoring(config.anchoring.to_anchoring()?)
        .with_admin_dids(config.admin_dids.clone());
    if let Some(policy) = config.anchoring.policy() {
        options = options.with_policy(policy);
    }
    if let Some(network) = config.network_p2p.to_net_config(&config.network)? {
        options = options.with_network(network);
    }
    let mut builder = CoreBuilder::new(options);
    for doctype in &config.doctypes {
        builder = match doctype {
            DoctypeName::Tile => builder.with_doctype(ceramic_doctype_tile::Tile::new())?,
            DoctypeName::Caip10Link => builder.with_doctype(ceramic_doctype_caip10::Caip10Link)?,
        };
    }
    let mut node = builder.open().context("opening the node")?;
    let p2p = node.start_network().await.context("starting the network")?;
    let shutdown = shutdown_signal()?;

    let grpc = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let http = tokio::net::TcpListener::bind(config.http_listen)
        .await
        .with_context(|| format!("binding {} (http_listen)", config.http_listen))?;
    let (addr, http_addr) = (grpc.local_addr()?, http.local_addr()?);
    let mut stdout = std::io::stdout();
    writeln!(stdout, "ceramic-node listening on {addr}")?;
    writeln!(stdout, "ceramic-node http on {http_addr}")?;
    for addr in p2p.iter().flat_map(|handle| handle.listen_addrs()) {
        writeln!(stdout, "ceramic-node p2p on {addr}")?;
    }
    stdout.flush()?;

    node.serve(Listeners { grpc, http }, shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}

fn init_logging(level: &str) -> Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(env) if !env.is_empty() => EnvFilter::try_new(env).context("RUST_LOG")?,
        _ => EnvFilter::try_new(level).with_context(|| format!("log_level {level:?}"))?,
    };
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    Ok(())
}

/// A future that completes on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed here,
/// before the address is printed, so a signal sent as soon as the line appears is never lost
/// (nor does it kill the process with the default action).
#[cfg(unix)]
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()> + Send> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => tracing::info!("SIGINT: shutting down"),
            _ = terminate.recv() => tracing::info!("SIGTERM: shutting down"),
        }
    })
}

/// A future that completes on Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()> + Send> {
    Ok(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!("Ctrl-C: shutting down");
        }
    })
}
