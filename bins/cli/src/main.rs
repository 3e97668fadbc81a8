//! `ceramic`: the command-line tool. Node commands (`create`, `update`, `show`, `commits`, `pin`,
//! `unpin`, `pins`, `gc`, `query`, `node status`) talk to a `ceramic-node` over gRPC (`--node`, `$CERAMIC_NODE`, default
//! `http://127.0.0.1:5101`); writes are signed locally with a did:key seed. Offline commands
//! read StreamIDs and CommitIDs, commit blocks, CAR files and did:key. Every command prints one
//! JSON document on stdout and progress on stderr; errors print `{"error": "..."}` on stderr
//! and exit with status 1.
//!
//! Thin by design: parsing arguments and printing; the work is in `ceramic-streamid`,
//! `ceramic-codecs`, `ceramic-did`, `ceramic-doctype-tile` (commit builders) and
//! `ceramic-proto` (the gRPC client).

mod client;
mod input;
mod inspect;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use input::{KeyArgs, read_input};

/// A Ceramic node client, and offline tools for Ceramic ids, commits, CAR files and DIDs.
#[derive(Debug, Parser)]
#[command(name = "ceramic", version)]
struct Cli {
    /// The node's gRPC URL (default: $CERAMIC_NODE, else http://127.0.0.1:5101).
    #[arg(long, global = true)]
    node: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Node(client::NodeCommand),
    /// Show what a StreamID or CommitID (string, URL or hex bytes) holds.
    Inspect {
        /// `k…`, `ceramic://k…`, `/ceramic/k…?commit=…`, or hex bytes with `--hex`.
        id: String,
        /// Read the id as hex bytes.
        #[arg(long)]
        hex: bool,
    },
    /// Decode a commit block (dag-cbor or dag-jose) or a CAR file to dag-json.
    Decode {
        /// The file to read, `-` for standard input.
        file: PathBuf,
        /// The input is a CAR v1 file.
        #[arg(long)]
        car: bool,
        /// The input is hex text rather than raw bytes.
        #[arg(long)]
        hex: bool,
    },
    /// did:key tools.
    Did {
        #[command(subcommand)]
        command: DidCommand,
    },
    /// Sign a commit payload (dag-json) with a did:key, as `DID.createDagJWS` does.
    Sign {
        /// The payload as dag-json text, e.g. '{"header":{"controllers":["did:key:…"]},"data":{}}'.
        #[arg(long)]
        payload: String,
        #[command(flatten)]
        key: KeyArgs,
    },
}

#[derive(Debug, Subcommand)]
enum DidCommand {
    /// The did:key of a 32-byte seed.
    FromSeed {
        #[command(flatten)]
        key: KeyArgs,
    },
    /// A new random did:key; prints its seed (keep it secret).
    Generate {
        /// `ed25519` or `secp256k1`.
        #[arg(long, default_value = "ed25519")]
        key_type: String,
    },
}

fn run(cli: Cli) -> Result<serde_json::Value> {
    match cli.command {
        Command::Node(command) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            runtime.block_on(client::run(&client::node_url(cli.node), command))
        }
        Command::Inspect { id, hex } => inspect::id(&id, hex),
        Command::Decode { file, car, hex } => {
            let bytes = read_input(&file, hex)?;
            if car { inspect::car(&bytes) } else { inspect::block(&bytes) }
        }
        Command::Did { command: DidCommand::FromSeed { key } } => {
            Ok(inspect::did(&key.signer()?, None))
        }
        Command::Did { command: DidCommand::Generate { key_type } } => {
            let key_type = key_type.parse()?;
            loop {
                let seed = ceramic_did::random_seed()?;
                // A secp256k1 seed outside the scalar field (probability ~2^-128): draw again.
                if let Ok(signer) = ceramic_did::KeySigner::from_seed(key_type, &seed) {
                    return Ok(inspect::did(&signer, Some(&seed)));
                }
            }
        }
        Command::Sign { payload, key } => inspect::sign(&key.signer()?, &payload),
    }
}

fn main() {
    let cli = Cli::parse();
    match run(cli) {
        Ok(value) => println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default()),
        Err(error) => {
            let message = format!("{error:#}");
            eprintln!("{}", serde_json::json!({ "error": message }));
            std::process::exit(1);
        }
    }
}
