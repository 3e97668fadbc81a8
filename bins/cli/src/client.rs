//! The node commands: create, update, show, commits, pin, unpin, pins, gc, query, node
//! status, hooks and backup over the node's gRPC API.
//! Writes are built and signed here (the seed never leaves the machine); the node only gets
//! the commit's blocks.

use anyhow::{Context, Result, bail};
use ceramic_codecs::Block;
use ceramic_did::{KeySigner, KeyType, Signer, ThreeIdSigner, sign_commit};
use ceramic_doctype::StreamState;
use ceramic_doctype_tile::{GenesisOptions, genesis_payload, update_payload};
use ceramic_proto::v1::node_client::NodeClient;
use ceramic_proto::v1::{self, CommitRequest, ListCommitsRequest, LoadStreamRequest};
use ceramic_streamid::{CommitId, StreamType};
use serde_json::{Value, json};
use tonic::transport::Channel;

use crate::KeyArgs;

/// The node commands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum NodeCommand {
    /// Create a Tile stream signed by a did:key; prints its StreamID and state.
    Create {
        /// The content, a JSON object (`-` reads it from standard input).
        #[arg(long, default_value = "{}")]
        content: String,
        /// The CommitID of a schema tile the content must validate against.
        #[arg(long)]
        schema: Option<String>,
        /// The family.
        #[arg(long)]
        family: Option<String>,
        /// A tag (repeat for more).
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Make a deterministic genesis (no random `unique`): the same controller, content and
        /// header always give the same StreamID.
        #[arg(long)]
        deterministic: bool,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Create a 3ID: a Tile (family `3id`) controlled by the did:key, whose content lists the
    /// secp256k1 signing key; prints the did:3, the version and the `kid` to sign with.
    #[command(name = "create-3id")]
    Create3id {
        /// The 3ID's signing key: a secp256k1 seed as 64 hex characters.
        #[arg(long)]
        signing_seed: String,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Replace a Tile stream's content (signs the JSON patch from the current content).
    Update {
        /// The StreamID.
        stream: String,
        /// The new content, a JSON object (`-` reads it from standard input).
        #[arg(long)]
        content: String,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Show a stream's state (StreamID), its state at a commit (CommitID) or at a time.
    Show {
        /// A StreamID or CommitID.
        id: String,
        /// With a StreamID: the state at this unix time (seconds).
        #[arg(long)]
        at_time: Option<u64>,
    },
    /// List a stream's commits.
    Commits {
        /// A StreamID or CommitID.
        id: String,
    },
    /// Follow a stream: print its state (one JSON line) now and at every new tip.
    Subscribe {
        /// The StreamID.
        stream: String,
        /// Stop after this many states (default: until interrupted).
        #[arg(long)]
        count: Option<u64>,
    },
    /// Pin a stream on the node.
    Pin {
        /// The StreamID.
        stream: String,
    },
    /// Unpin a stream on the node.
    Unpin {
        /// The StreamID.
        stream: String,
    },
    /// The node's pins: list them (default), add or remove one.
    Pins {
        #[command(subcommand)]
        command: Option<PinsCommand>,
    },
    /// Run garbage collection on the node now; prints what it removed.
    Gc,
    /// List stored streams by first controller, family or tag (none: every stream).
    Query {
        /// Streams whose first controller is this DID.
        #[arg(long, conflicts_with_all = ["family", "tag"])]
        controller: Option<String>,
        /// Streams of this family.
        #[arg(long, conflicts_with = "tag")]
        family: Option<String>,
        /// Streams with this tag.
        #[arg(long)]
        tag: Option<String>,
        /// At most this many (default: all, fetched page by page).
        #[arg(long)]
        limit: Option<usize>,
    },
    /// The node itself.
    Node {
        #[command(subcommand)]
        command: NodeStatusCommand,
    },
    /// The node's WebAssembly hooks.
    Hooks {
        #[command(subcommand)]
        command: HooksCommand,
    },
    /// The node's backup targets (`[[backup]]` in its config): list, run, restore.
    Backup {
        #[command(subcommand)]
        command: BackupCommand,
    },
}

/// `ceramic backup …`: over gRPC on a running node (a restore re-validates every commit with
/// the node's engine and its anchor chains).
#[derive(Debug, clap::Subcommand)]
pub(crate) enum BackupCommand {
    /// Every target with its status (last run, streams and commits held, pending, errors).
    List,
    /// Run a target now: back up the commits it does not hold yet.
    Run {
        /// The target's name.
        #[arg(long)]
        target: String,
    },
    /// Restore a target's backup into the node; a tampered or invalid backup stores nothing.
    Restore {
        /// The target's name.
        #[arg(long)]
        target: String,
    },
}

/// `ceramic hooks …`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum HooksCommand {
    /// The configured hooks with their events, filter and counts (runs, failures, vetoes).
    List,
}

/// `pins` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum PinsCommand {
    /// Every pinned StreamID.
    List,
    /// Pin a stream.
    Add {
        /// The StreamID.
        stream: String,
    },
    /// Unpin a stream.
    Rm {
        /// The StreamID.
        stream: String,
    },
}

/// `node` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum NodeStatusCommand {
    /// Version, network, doctypes, anchoring, health and what the store holds.
    Status,
}

/// The page size the listing commands ask for.
const PAGE: u32 = 1_000;

/// Runs one node command against the node at `url`.
pub(crate) async fn run(url: &str, command: NodeCommand) -> Result<Value> {
    let mut client = connect(url).await?;
    match command {
        NodeCommand::Create { content, schema, family, tags, deterministic, key } => {
            let signer = key.writer()?;
            let content = json_object(&content)?;
            let schema = schema
                .map(|s| s.parse::<CommitId>().with_context(|| format!("--schema {s:?}")))
                .transpose()?;
            let unique = if deterministic { None } else { Some(random_unique()?) };
            let options = GenesisOptions { schema, family, tags, unique };
            let payload = genesis_payload(signer.did(), Some(&content), &options)?;
            progress(&format!("creating a tile controlled by {}", signer.did()));
            let request = signed_request(signer.as_ref(), &payload)?;
            let state = client.create_stream(request).await.map_err(status)?.into_inner();
            state_json(state.state)
        }
        NodeCommand::Create3id { signing_seed, key } => {
            let controller = key.signer()?;
            let seed = hex::decode(signing_seed.trim()).context("--signing-seed is not hex")?;
            let signing = KeySigner::from_seed(KeyType::Secp256k1, &seed)?;
            let content = ceramic_did::three_id_content(&[&signing])?;
            let family = Some("3id".to_owned());
            let options =
                GenesisOptions { family, unique: Some(random_unique()?), ..Default::default() };
            let payload = genesis_payload(controller.did(), Some(&content), &options)?;
            progress(&format!("creating a 3ID controlled by {}", controller.did()));
            let request = signed_request(&controller, &payload)?;
            let version = request.commit.clone();
            let state = client.create_stream(request).await.map_err(status)?.into_inner();
            let state = state_json(state.state)?;
            let did = format!("did:3:{}", state["streamId"].as_str().unwrap_or_default());
            let signer = ThreeIdSigner::new(signing, &did, Some(version.parse()?))?;
            Ok(json!({ "did": did, "version": version, "kid": signer.kid(), "state": state }))
        }
        NodeCommand::Update { stream, content, key } => {
            let signer = key.writer()?;
            let content = json_object(&content)?;
            let current = load(&mut client, &stream, None).await?;
            let state = StreamState::from_js_json(&current["state"])
                .context("the node sent a state this client cannot read")?;
            if state.stream_type() != StreamType::TILE {
                bail!("{stream} is not a tile (stream type {})", state.stream_type().code());
            }
            let payload = update_payload(&state, &content)?;
            progress(&format!("updating {stream} on tip {}", state.tip()));
            let request = signed_request(signer.as_ref(), &payload)?;
            let state = client.apply_commit(request).await.map_err(status)?.into_inner();
            state_json(state.state)
        }
        NodeCommand::Show { id, at_time } => load(&mut client, &id, at_time).await,
        NodeCommand::Commits { id } => {
            let log =
                client.list_commits(ListCommitsRequest { id }).await.map_err(status)?.into_inner();
            let commits: Vec<Value> = log
                .commits
                .iter()
                .map(|c| {
                    json!({
                        "cid": c.cid,
                        "commitId": c.commit_id,
                        "type": kind_name(c.kind()),
                        "timestamp": c.timestamp,
                    })
                })
                .collect();
            Ok(json!({ "streamId": log.stream_id, "commits": commits }))
        }
        NodeCommand::Subscribe { stream, count } => {
            let mut states = client
                .subscribe(v1::SubscribeRequest { stream_id: stream.clone() })
                .await
                .map_err(status)?
                .into_inner();
            progress(&format!("following {stream}"));
            let mut seen = 0u64;
            while count.is_none_or(|n| seen < n) {
                let Some(response) = states.message().await.map_err(status)? else {
                    bail!("the node ended the subscription");
                };
                println!("{}", state_json(response.state)?);
                seen += 1;
            }
            Ok(json!({ "streamId": stream, "states": seen }))
        }
        NodeCommand::Pin { stream } => {
            client.pin(v1::PinRequest { stream_id: stream.clone() }).await.map_err(status)?;
            Ok(json!({ "streamId": stream, "isPinned": true }))
        }
        NodeCommand::Unpin { stream }
        | NodeCommand::Pins { command: Some(PinsCommand::Rm { stream }) } => {
            let was = client
                .unpin(v1::UnpinRequest { stream_id: stream.clone() })
                .await
                .map_err(status)?
                .into_inner();
            Ok(json!({ "streamId": stream, "isPinned": false, "wasPinned": was.was_pinned }))
        }
        NodeCommand::Pins { command: Some(PinsCommand::Add { stream }) } => {
            client.pin(v1::PinRequest { stream_id: stream.clone() }).await.map_err(status)?;
            Ok(json!({ "streamId": stream, "isPinned": true }))
        }
        NodeCommand::Pins { command: None | Some(PinsCommand::List) } => {
            let mut pins = Vec::new();
            let mut after = String::new();
            loop {
                let page = client
                    .list_pins(v1::ListPinsRequest { after, limit: PAGE })
                    .await
                    .map_err(status)?
                    .into_inner();
                pins.extend(page.stream_ids);
                match page.next {
                    Some(next) => after = next,
                    None => break,
                }
            }
            Ok(json!({ "pinnedStreamIds": pins }))
        }
        NodeCommand::Gc => {
            progress("collecting garbage");
            let r = client.run_gc(v1::RunGcRequest {}).await.map_err(status)?.into_inner();
            Ok(json!({
                "pinnedStreams": r.pinned_streams,
                "streamsRemoved": r.streams_removed,
                "blocksRemoved": r.blocks_removed,
                "blocksKept": r.blocks_kept,
                "bytesFreed": r.bytes_freed,
                "durationMs": r.duration_ms,
            }))
        }
        NodeCommand::Query { controller, family, tag, limit } => {
            use v1::list_streams_request::Filter;
            let filter = match (controller, family, tag) {
                (Some(c), _, _) => Some(Filter::Controller(c)),
                (_, Some(f), _) => Some(Filter::Family(f)),
                (_, _, Some(t)) => Some(Filter::Tag(t)),
                _ => None,
            };
            // TODO(model): `--model` once the node has a by-model index RPC (api piece).
            let mut streams = Vec::new();
            let mut after = String::new();
            while limit.is_none_or(|n| streams.len() < n) {
                let want = limit
                    .map_or(PAGE, |n| u32::try_from(n - streams.len()).unwrap_or(PAGE).min(PAGE));
                let request = v1::ListStreamsRequest { filter: filter.clone(), after, limit: want };
                let page = client.list_streams(request).await.map_err(status)?.into_inner();
                streams.extend(page.stream_ids);
                match page.next {
                    Some(next) => after = next,
                    None => break,
                }
            }
            Ok(json!({ "streamIds": streams }))
        }
        NodeCommand::Node { command: NodeStatusCommand::Status } => {
            let info = client.node_info(v1::NodeInfoRequest {}).await.map_err(status)?.into_inner();
            let health = client.health(v1::HealthRequest {}).await.map_err(status)?.into_inner();
            let stats =
                client.store_stats(v1::StoreStatsRequest {}).await.map_err(status)?.into_inner();
            let doctypes: Vec<Value> = info
                .doctypes
                .iter()
                .map(|d| json!({ "streamType": d.stream_type, "name": d.name }))
                .collect();
            let serving = health.status() == v1::ServingStatus::Serving;
            Ok(json!({
                "version": info.version,
                "network": info.network,
                "doctypes": doctypes,
                "anchoring": info.anchor_verifier,
                "health": { "serving": serving, "reason": health.reason },
                "store": {
                    "blocks": stats.blocks,
                    "streams": stats.streams,
                    "pins": stats.pins,
                    "pinOnWrite": stats.pin_on_write,
                },
            }))
        }
        NodeCommand::Hooks { command: HooksCommand::List } => {
            let hooks =
                client.list_hooks(v1::ListHooksRequest {}).await.map_err(status)?.into_inner();
            let hooks: Vec<Value> = hooks
                .hooks
                .iter()
                .map(|h| {
                    json!({
                        "name": h.name,
                        "module": h.module,
                        "events": h.events,
                        "filter": h.filter,
                        "runs": h.runs,
                        "failures": h.failures,
                        "vetoes": h.vetoes,
                    })
                })
                .collect();
            Ok(json!({ "hooks": hooks }))
        }
        NodeCommand::Backup { command } => backup(&mut client, command).await,
    }
}

async fn backup(client: &mut NodeClient<Channel>, command: BackupCommand) -> Result<Value> {
    match command {
        BackupCommand::List => {
            let list =
                client.list_backups(v1::ListBackupsRequest {}).await.map_err(status)?.into_inner();
            let targets: Vec<Value> = list
                .backups
                .iter()
                .map(|b| {
                    let when = |t: u64| (t > 0).then_some(t);
                    json!({
                        "name": b.name,
                        "kind": b.kind,
                        "runs": b.runs,
                        "errors": b.errors,
                        "lastRun": when(b.last_run),
                        "lastSuccess": when(b.last_success),
                        "streams": b.streams,
                        "commits": b.commits,
                        "commitsSent": b.commits_sent,
                        "pending": b.pending,
                        "lastError": (!b.last_error.is_empty()).then_some(&b.last_error),
                        "retryAt": when(b.retry_at),
                    })
                })
                .collect();
            Ok(json!({ "backups": targets }))
        }
        BackupCommand::Run { target } => {
            progress(&format!("backing up to {target}"));
            let run = client
                .run_backup(v1::RunBackupRequest { target: target.clone() })
                .await
                .map_err(status)?
                .into_inner();
            Ok(json!({
                "target": target,
                "streams": run.streams,
                "commits": run.commits,
                "bytes": run.bytes,
                "failed": run.failed,
            }))
        }
        BackupCommand::Restore { target } => {
            progress(&format!("restoring from {target} (every commit re-validated)"));
            let restored = client
                .restore_backup(v1::RestoreBackupRequest { target: target.clone() })
                .await
                .map_err(status)?
                .into_inner();
            Ok(json!({
                "target": target,
                "streams": restored.streams,
                "commits": restored.commits,
                "bytes": restored.bytes,
            }))
        }
    }
}

async fn connect(url: &str) -> Result<NodeClient<Channel>> {
    let endpoint = Channel::from_shared(url.to_owned())
        .with_context(|| format!("--node {url:?} is not a URL"))?
        .connect_timeout(std::time::Duration::from_secs(10));
    let channel = endpoint
        .connect()
        .await
        .with_context(|| format!("cannot reach the node at {url} (is `ceramic-node` running?)"))?;
    Ok(NodeClient::new(channel))
}

/// A gRPC status as an error that says what the node said.
fn status(status: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("node refused: {:?}: {}", status.code(), status.message())
}

fn progress(message: &str) {
    eprintln!("ceramic: {message}");
}

fn json_object(text: &str) -> Result<Value> {
    let text = if text == "-" {
        let mut input = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut input)
            .context("reading standard input")?;
        input
    } else {
        text.to_owned()
    };
    let value: Value = serde_json::from_str(&text).context("--content is not JSON")?;
    if !value.is_object() {
        bail!("--content must be a JSON object");
    }
    Ok(value)
}

/// js `TileDocument.create`'s salt: base64 of 12 random bytes.
fn random_unique() -> Result<String> {
    use base64::Engine as _;
    let seed = ceramic_did::random_seed()?;
    Ok(base64::engine::general_purpose::STANDARD.encode(&seed[..12]))
}

fn signed_request(signer: &dyn Signer, payload: &ceramic_codecs::Payload) -> Result<CommitRequest> {
    let signed = sign_commit(signer, payload)?;
    let block = |b: &Block| v1::Block { cid: b.cid().to_string(), data: b.data().to_vec() };
    Ok(CommitRequest {
        stream_type: StreamType::TILE.code(),
        commit: signed.envelope_block().cid().to_string(),
        blocks: vec![block(signed.envelope_block()), block(signed.payload_block())],
    })
}

async fn load(client: &mut NodeClient<Channel>, id: &str, at_time: Option<u64>) -> Result<Value> {
    let response = client
        .load_stream(LoadStreamRequest { id: id.to_owned(), at_time })
        .await
        .map_err(status)?
        .into_inner();
    state_json(response.state)
}

/// `{streamId, state}` as js-ceramic's HTTP API answers.
fn state_json(state: Option<v1::StreamState>) -> Result<Value> {
    let state = state.context("the node sent no state")?;
    let parsed: Value = serde_json::from_str(&state.state_json)
        .context("the node sent a state that is not JSON")?;
    Ok(json!({ "streamId": state.stream_id, "tip": state.tip, "state": parsed }))
}

fn kind_name(kind: v1::CommitKind) -> &'static str {
    match kind {
        v1::CommitKind::Genesis => "genesis",
        v1::CommitKind::Data => "data",
        v1::CommitKind::Anchor => "anchor",
        v1::CommitKind::Unspecified => "unknown",
    }
}

/// Where the node is: `--node`, else `$CERAMIC_NODE`, else the node's default address.
pub(crate) fn node_url(flag: Option<String>) -> String {
    flag.or_else(|| std::env::var("CERAMIC_NODE").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "http://127.0.0.1:5101".to_owned())
}
