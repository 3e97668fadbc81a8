//! `ceramic-node`: a Ceramic node serving the gRPC API of `ceramic-proto` and the js-ceramic
//! compatible HTTP API of `ceramic-http-api`.
//!
//! ```sh
//! ceramic-node [--config node.toml]
//! ```
//!
//! Thin by design: it reads the configuration (`config.rs`: data directory, listen address,
//! network name, doctypes, anchor verifier, log level; every field defaulted), registers the
//! enabled doctypes, opens the node (`ceramic_proto::NodeBuilder`: RocksDB under the data
//! directory, the engine, the service), prints `ceramic-node listening on <addr>` (gRPC) and
//! `ceramic-node http on <addr>` (HTTP `/api/v0`) on standard output once the ports are bound
//! (tests and scripts wait for those lines), and serves both until SIGINT or SIGTERM, then
//! finishes in-flight requests, flushes the store and exits 0. Logs go
//! to standard error. Anchor commits are refused until the anchor verifier lands (see
//! `ceramic_proto::AnchorVerifierKind::Fake`).

mod config;

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use ceramic_proto::{NodeBuilder, Options};
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

    let options = Options::new(&config.data_dir)
        .with_network(config.network.clone())
        .with_anchor_verifier(config.anchor_verifier.into())
        .with_sync(config.sync);
    let mut builder = NodeBuilder::new(options);
    for doctype in &config.doctypes {
        builder = match doctype {
            DoctypeName::Tile => builder.with_doctype(ceramic_doctype_tile::Tile::new())?,
            DoctypeName::Caip10Link => builder.with_doctype(ceramic_doctype_caip10::Caip10Link)?,
        };
    }
    let node = builder.open().context("opening the node")?;
    let shutdown = shutdown_signal()?;

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let http_listener = tokio::net::TcpListener::bind(config.http_listen)
        .await
        .with_context(|| format!("binding {} (http_listen)", config.http_listen))?;
    let (addr, http_addr) = (listener.local_addr()?, http_listener.local_addr()?);
    let mut stdout = std::io::stdout();
    writeln!(stdout, "ceramic-node listening on {addr}")?;
    writeln!(stdout, "ceramic-node http on {http_addr}")?;
    stdout.flush()?;

    // One signal stops both servers; so does either server failing.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until_stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let router = ceramic_http_api::Api::new(node.service().clone()).router();
    let grace = node.options().shutdown_grace;
    let mut http = tokio::spawn(ceramic_http_api::serve(
        http_listener,
        router,
        until_stopped(stopped.clone()),
        grace,
    ));
    let grpc = node.serve(listener, until_stopped(stopped));
    tokio::pin!(grpc, shutdown);
    let grpc_result = tokio::select! {
        result = &mut grpc => result,
        () = &mut shutdown => {
            let _ = stop.send(true);
            grpc.await
        }
        result = &mut http => {
            tracing::error!(?result, "the HTTP server stopped");
            let _ = stop.send(true);
            grpc.await?;
            result.context("the HTTP server's task")?.context("serving HTTP")?;
            return Ok(());
        }
    };
    let _ = stop.send(true);
    let http_result = http.await;
    grpc_result?;
    http_result.context("the HTTP server's task")?.context("serving HTTP")?;
    tracing::info!("stopped");
    Ok(())
}

/// Logs to standard error, filtered by `RUST_LOG` if set, else by the configured level.
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
