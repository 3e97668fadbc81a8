//! `ceramic-node`: a Ceramic node serving gRPC and the js-ceramic compatible HTTP API.
//!
//! ```sh
//! ceramic-node [--config node.toml]
//! ```
//!
//! Thin by design: it reads the configuration file (`ceramic_core::NodeConfig`, every field
//! defaulted), offers the built-in doctypes (Tile, CAIP-10 link; the configuration's `doctypes`
//! picks among them), starts the node (`ceramic_core::Node`), prints `ceramic-node listening on
//! <addr>` (gRPC), `ceramic-node http on <addr>` (HTTP `/api/v0` and `/metrics`) and one
//! `ceramic-node p2p on <multiaddr>` line per libp2p address on standard output once bound (tests
//! and scripts wait for those lines), and serves until SIGINT or SIGTERM, then finishes
//! in-flight requests, flushes the store and exits 0. Logs go to standard error.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use ceramic_core::{Node, NodeConfig};
use clap::Parser;
use tracing_subscriber::EnvFilter;

/// A Ceramic node: stores streams and serves them over gRPC and HTTP.
#[derive(Debug, Parser)]
#[command(name = "ceramic-node", version)]
struct Args {
    /// A TOML configuration file; without one, every setting has its default.
    #[arg(long)]
    config: Option<PathBuf>,
}

fn main() -> Result<()> {
    // Threads with a stack big enough for hook calls to run on them (ceramic_core::runtime_builder).
    ceramic_core::runtime_builder().build().context("starting the runtime")?.block_on(serve())
}

async fn serve() -> Result<()> {
    let args = Args::parse();
    let config = NodeConfig::load(args.config.as_deref())?;
    init_logging(&config.log_level)?;
    let node = Node::builder(config)
        .with_doctype(ceramic_doctype_tile::Tile::new())
        .with_doctype(ceramic_doctype_caip10::Caip10Link)
        .with_doctype(ceramic_doctype_model::Model)
        .with_doctype(ceramic_doctype_mid::ModelInstanceDocument::new())
        .start()
        .await
        .context("starting the node")?;
    let shutdown = shutdown_signal()?;

    let mut stdout = std::io::stdout();
    writeln!(stdout, "ceramic-node listening on {}", node.grpc_addr()?)?;
    writeln!(stdout, "ceramic-node http on {}", node.http_addr()?)?;
    for addr in node.p2p_addrs() {
        writeln!(stdout, "ceramic-node p2p on {addr}")?;
    }
    stdout.flush()?;

    node.run(shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}

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
