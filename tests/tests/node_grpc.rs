//! The node's gRPC API end to end, in process: a node (RocksDB in a temporary directory, the
//! Tile doctype) served on `127.0.0.1:0`, a tonic client creating and updating a signed Tile
//! stream, loading it every way, listing its log, pinning it, querying by controller, family
//! and tag, the status code of each kind of bad request, and the data surviving a restart.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use anyhow::{Context, Result};
use ceramic_codecs::{Block, Cid, DataCommit, GenesisCommit, Header, Ipld, Payload, Unique};
use ceramic_core::{Node, NodeConfig};
use ceramic_did::{KeySigner, KeyType, Signer, sign_commit};
use ceramic_doctype_tile::Tile;
use ceramic_proto::v1::list_streams_request::Filter;
use ceramic_proto::v1::node_client::NodeClient;
use ceramic_proto::v1::{
    self, CommitKind, CommitRequest, HealthRequest, ListCommitsRequest, ListPinsRequest,
    ListStreamsRequest, LoadStreamRequest, NodeInfoRequest, PinRequest, ServingStatus,
    UnpinRequest,
};
use ceramic_streamid::{CommitId, StreamId, StreamType};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::Code;
use tonic::transport::Channel;

/// Every wait in this file is bounded by this.
const TIMEOUT: Duration = Duration::from_secs(60);

/// A node served in process; [`Served::stop`] shuts it down gracefully.
struct Served {
    client: NodeClient<Channel>,
    url: String,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), ceramic_core::Error>>,
}

impl Served {
    async fn start(dir: &std::path::Path) -> Result<Served> {
        let mut config = NodeConfig::local(dir);
        config.network = "test".into();
        config.doctypes = Some(vec!["tile".into()]);
        // Pins below are explicit: writes do not pin their streams.
        config.gc.pin_on_write = false;
        let node = Node::builder(config).with_doctype(Tile::new()).start().await?;
        let addr = node.grpc_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(node.run(async move {
            let _ = stopped.await;
        }));
        let url = format!("http://{addr}");
        let client = bounded(NodeClient::connect(url.clone())).await??;
        Ok(Served { client, url, stop, task })
    }

    async fn stop(self) -> Result<()> {
        drop(self.client);
        let _ = self.stop.send(());
        bounded(self.task).await???;
        Ok(())
    }
}

async fn bounded<F: Future>(f: F) -> Result<F::Output> {
    tokio::time::timeout(TIMEOUT, f).await.context("timed out")
}

/// A signed commit: its envelope CID and its two blocks.
struct Signed {
    cid: Cid,
    blocks: Vec<Block>,
}

fn sign(signer: &KeySigner, payload: Payload) -> Signed {
    let commit = sign_commit(signer, &payload).expect("signing");
    Signed {
        cid: *commit.envelope_block().cid(),
        blocks: vec![commit.envelope_block().clone(), commit.payload_block().clone()],
    }
}

fn genesis(signer: &KeySigner, title: &str, family: &str, unique: &str) -> Signed {
    let content = BTreeMap::from([("title".to_string(), Ipld::String(title.into()))]);
    sign(
        signer,
        Payload::Genesis(GenesisCommit {
            header: Header {
                controllers: Some(vec![signer.did().to_string()]),
                family: Some(family.into()),
                tags: Some(vec!["demo".into(), family.into()]),
                unique: Some(Unique::Text(unique.into())),
                ..Header::default()
            },
            data: Some(Ipld::Map(content)),
        }),
    )
}

fn update(signer: &KeySigner, stream: &StreamId, prev: Cid, title: &str) -> Signed {
    let op = BTreeMap::from([
        ("op".to_string(), Ipld::String("replace".into())),
        ("path".to_string(), Ipld::String("/title".into())),
        ("value".to_string(), Ipld::String(title.into())),
    ]);
    sign(
        signer,
        Payload::Data(DataCommit {
            id: stream.cid(),
            prev,
            header: Some(Header::default()),
            data: Some(Ipld::List(vec![Ipld::Map(op)])),
        }),
    )
}

fn request(commit: &Signed) -> CommitRequest {
    CommitRequest {
        stream_type: StreamType::TILE.code(),
        commit: commit.cid.to_string(),
        blocks: commit
            .blocks
            .iter()
            .map(|b| v1::Block { cid: b.cid().to_string(), data: b.data().to_vec() })
            .collect(),
    }
}

fn state(response: tonic::Response<v1::StreamResponse>) -> Result<(v1::StreamState, Value)> {
    let state = response.into_inner().state.context("a response has a state")?;
    let json = serde_json::from_str(&state.state_json)?;
    Ok((state, json))
}

fn load(id: impl ToString) -> LoadStreamRequest {
    LoadStreamRequest { id: id.to_string(), at_time: None }
}

fn list(filter: Option<Filter>, after: &str, limit: u32) -> ListStreamsRequest {
    ListStreamsRequest { filter, after: after.into(), limit }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_tile_stream_through_the_grpc_api() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let served = Served::start(dir.path()).await?;
    let mut client = served.client.clone();
    let author = KeySigner::from_seed(KeyType::Ed25519, &[7; 32])?;
    let did = author.did().to_string();

    // Create, then two updates.
    let g = genesis(&author, "first", "notes", "AAAA");
    let (created, json) = state(client.create_stream(request(&g)).await?)?;
    let stream = StreamId::new(StreamType::TILE, g.cid)?;
    assert_eq!(created.stream_id, stream.to_string());
    assert_eq!((created.stream_type, created.log_length), (0, 1));
    assert_eq!(created.tip, g.cid.to_string());
    assert_eq!(created.tip_commit_id, stream.genesis_commit_id().to_string());
    assert_eq!(json["content"], json!({"title": "first"}));
    assert_eq!(json["metadata"]["controllers"], json!([did]));
    assert_eq!(json["doctype"], "tile");
    // Creating it again returns it unchanged.
    let (again, _) = state(client.create_stream(request(&g)).await?)?;
    assert_eq!(again, created);

    let u1 = update(&author, &stream, g.cid, "second");
    let (after_u1, json) = state(client.apply_commit(request(&u1)).await?)?;
    assert_eq!((after_u1.log_length, after_u1.tip.as_str()), (2, u1.cid.to_string().as_str()));
    assert_eq!(json["next"]["content"], json!({"title": "second"}));
    let u2 = update(&author, &stream, u1.cid, "third");
    let (after_u2, _) = state(client.apply_commit(request(&u2)).await?)?;
    assert_eq!(after_u2.log_length, 3);
    assert_eq!(after_u2.tip_commit_id, stream.at_commit(u2.cid)?.to_string());

    // Load by StreamID (the tip), by CommitID (the state then), and at a time (no anchors
    // yet: the genesis state).
    let (current, json) = state(client.load_stream(load(stream)).await?)?;
    assert_eq!(current, after_u2);
    assert_eq!(json["next"]["content"], json!({"title": "third"}));
    let (at_u1, json) = state(client.load_stream(load(stream.at_commit(u1.cid)?)).await?)?;
    assert_eq!((at_u1.log_length, at_u1.tip.as_str()), (2, u1.cid.to_string().as_str()));
    assert_eq!(json["next"]["content"], json!({"title": "second"}));
    let at_time = LoadStreamRequest { id: stream.to_string(), at_time: Some(4_000_000_000) };
    let (then, _) = state(client.load_stream(at_time).await?)?;
    assert_eq!((then.log_length, then.tip), (1, g.cid.to_string()));

    // The log, whole and up to a commit.
    let log = client.list_commits(ListCommitsRequest { id: stream.to_string() }).await?;
    let log = log.into_inner();
    assert_eq!(log.stream_id, stream.to_string());
    let cids: Vec<&str> = log.commits.iter().map(|c| c.cid.as_str()).collect();
    assert_eq!(cids, [g.cid.to_string(), u1.cid.to_string(), u2.cid.to_string()]);
    let kinds: Vec<CommitKind> = log.commits.iter().map(|c| c.kind()).collect();
    assert_eq!(kinds, [CommitKind::Genesis, CommitKind::Data, CommitKind::Data]);
    assert!(log.commits.iter().all(|c| c.timestamp.is_none()));
    let second: CommitId = log.commits[1].commit_id.parse()?;
    assert_eq!(second, stream.at_commit(u1.cid)?);
    let id = stream.at_commit(u1.cid)?.to_string();
    let upto = client.list_commits(ListCommitsRequest { id }).await?.into_inner();
    assert_eq!(upto.commits.len(), 2);

    // Pins.
    let pins = |after: &str| ListPinsRequest { after: after.into(), limit: 0 };
    assert!(client.list_pins(pins("")).await?.into_inner().stream_ids.is_empty());
    client.pin(PinRequest { stream_id: stream.to_string() }).await?;
    client.pin(PinRequest { stream_id: stream.to_string() }).await?; // pinning twice is fine
    let page = client.list_pins(pins("")).await?.into_inner();
    assert_eq!((page.stream_ids, page.next), (vec![stream.to_string()], None));
    let unpin = UnpinRequest { stream_id: stream.to_string() };
    assert!(client.unpin(unpin.clone()).await?.into_inner().was_pinned);
    assert!(!client.unpin(unpin).await?.into_inner().was_pinned);
    assert!(client.list_pins(pins("")).await?.into_inner().stream_ids.is_empty());

    // Queries: a second stream by the same author in another family.
    let other = genesis(&author, "other", "drafts", "BBBB");
    let (other_state, _) = state(client.create_stream(request(&other)).await?)?;
    let mut both = vec![stream.to_string(), other_state.stream_id.clone()];
    both.sort_by_key(|id| id.parse::<StreamId>().map(|s| s.to_bytes()).unwrap_or_default());
    let by_controller = Some(Filter::Controller(did.clone()));
    let page = client.list_streams(list(by_controller.clone(), "", 0)).await?.into_inner();
    assert_eq!(page.stream_ids, both);
    // One at a time.
    let first = client.list_streams(list(by_controller.clone(), "", 1)).await?.into_inner();
    assert_eq!(first.stream_ids, both[..1]);
    let next = first.next.context("a next page")?;
    let rest = client.list_streams(list(by_controller, &next, 1)).await?.into_inner();
    assert_eq!((rest.stream_ids, rest.next), (both[1..].to_vec(), None));
    let by_family = Some(Filter::Family("notes".into()));
    let page = client.list_streams(list(by_family, "", 0)).await?.into_inner();
    assert_eq!(page.stream_ids, [stream.to_string()]);
    let by_tag = Some(Filter::Tag("drafts".into()));
    let page = client.list_streams(list(by_tag, "", 0)).await?.into_inner();
    assert_eq!(page.stream_ids, [other_state.stream_id.as_str()]);
    let nobody = Some(Filter::Controller("did:key:z6MkNobody".into()));
    assert!(client.list_streams(list(nobody, "", 0)).await?.into_inner().stream_ids.is_empty());
    let all = client.list_streams(list(None, "", 0)).await?.into_inner();
    assert_eq!(all.stream_ids, both);

    // The node itself.
    let health = client.health(HealthRequest {}).await?.into_inner();
    assert_eq!(health.status(), ServingStatus::Serving);
    let info = client.node_info(NodeInfoRequest {}).await?.into_inner();
    assert_eq!(
        (info.network.as_str(), info.anchor_verifier.as_str()),
        ("test", "dev (inmemory:12345)")
    );
    assert_eq!(info.doctypes, [v1::Doctype { stream_type: 0, name: "tile".into() }]);

    // Pin it, restart on the same directory: the stream, its log and its pin are still there.
    client.pin(PinRequest { stream_id: stream.to_string() }).await?;
    drop(client);
    served.stop().await?;
    let served = Served::start(dir.path()).await?;
    let mut client = served.client.clone();
    let (reloaded, _) = state(client.load_stream(load(stream)).await?)?;
    assert_eq!(reloaded, after_u2);
    let page = client.list_pins(pins("")).await?.into_inner();
    assert_eq!(page.stream_ids, [stream.to_string()]);
    drop(client);
    served.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_the_status_code_saying_what_to_do() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let served = Served::start(dir.path()).await?;
    let mut client = served.client.clone();
    let author = KeySigner::from_seed(KeyType::Ed25519, &[7; 32])?;
    let stranger = KeySigner::from_seed(KeyType::Ed25519, &[8; 32])?;
    let g = genesis(&author, "first", "notes", "AAAA");
    client.create_stream(request(&g)).await?;
    let stream = StreamId::new(StreamType::TILE, g.cid)?;
    let u1 = update(&author, &stream, g.cid, "second");
    client.apply_commit(request(&u1)).await?;

    // Ids that do not parse: InvalidArgument.
    for bad in ["", "not-a-stream-id", "kjzl6cwe1jw14", &format!("{stream} ")] {
        let err = client.load_stream(load(bad)).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{bad:?}: {err:?}");
    }
    let err = client.pin(PinRequest { stream_id: "nope".into() }).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    let bad_after = list(None, &stream.at_commit(u1.cid)?.to_string(), 0);
    let err = client.list_streams(bad_after).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "a CommitID as `after`: {err:?}");
    let commit_at_time =
        LoadStreamRequest { id: stream.at_commit(u1.cid)?.to_string(), at_time: Some(1) };
    let err = client.load_stream(commit_at_time).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");

    // Unknown streams and commits: NotFound.
    let unknown = genesis(&author, "never sent", "notes", "CCCC");
    let unknown_id = StreamId::new(StreamType::TILE, unknown.cid)?;
    let err = client.load_stream(load(unknown_id)).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    let err = client.list_commits(ListCommitsRequest { id: unknown_id.to_string() }).await;
    assert_eq!(err.unwrap_err().code(), Code::NotFound);
    let err = client.pin(PinRequest { stream_id: unknown_id.to_string() }).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    let never_applied = update(&author, &stream, u1.cid, "never applied");
    let err = client.load_stream(load(stream.at_commit(never_applied.cid)?)).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "an unknown commit of a known stream: {err:?}");
    let orphan = update(&author, &unknown_id, unknown.cid, "orphan");
    let err = client.apply_commit(request(&orphan)).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "an update of an unknown stream: {err:?}");

    // A stale write (built on the genesis, but the tip has moved on): FailedPrecondition.
    let stale = update(&author, &stream, g.cid, "stale");
    let err = client.apply_commit(request(&stale)).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(err.message().contains("stale"), "{}", err.message());

    // Invalid commits: InvalidArgument.
    let forged = update(&stranger, &stream, u1.cid, "forged");
    let err = client.apply_commit(request(&forged)).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "signed by a non-controller: {err:?}");
    let err = client.create_stream(request(&update(&author, &stream, u1.cid, "x"))).await;
    assert_eq!(err.unwrap_err().code(), Code::InvalidArgument, "CreateStream with an update");
    let mut tampered = request(&update(&author, &stream, u1.cid, "tampered"));
    tampered.blocks[1].data.push(0);
    let err = client.apply_commit(tampered).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "bytes that do not hash to the CID: {err:?}");
    let mut missing = request(&update(&author, &stream, u1.cid, "missing"));
    missing.blocks.truncate(1);
    let err = client.apply_commit(missing).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "a payload block left out: {err:?}");
    let mut unknown_type = request(&genesis(&author, "t", "notes", "DDDD"));
    unknown_type.stream_type = 1000;
    let err = client.create_stream(unknown_type).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "a stream type without a doctype: {err:?}");

    // Nothing above changed the stream.
    let (current, _) = state(client.load_stream(load(stream)).await?)?;
    assert_eq!((current.log_length, current.tip), (2, u1.cid.to_string()));
    drop(client);
    served.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_on_one_tip_let_exactly_one_win() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let served = Served::start(dir.path()).await?;
    let mut client = served.client.clone();
    let author = KeySigner::from_seed(KeyType::Ed25519, &[7; 32])?;
    let g = genesis(&author, "first", "notes", "AAAA");
    client.create_stream(request(&g)).await?;
    let stream = StreamId::new(StreamType::TILE, g.cid)?;

    // Eight different updates, all built on the genesis, sent at once.
    let writes: Vec<_> = (0..8)
        .map(|i| {
            let mut client = client.clone();
            let commit = update(&author, &stream, g.cid, &format!("writer {i}"));
            tokio::spawn(async move { client.apply_commit(request(&commit)).await })
        })
        .collect();
    let mut won = 0;
    for write in writes {
        match bounded(write).await?? {
            Ok(_) => won += 1,
            Err(status) => assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}"),
        }
    }
    assert_eq!(won, 1, "exactly one write builds on the genesis");
    let (current, _) = state(client.load_stream(load(stream)).await?)?;
    assert_eq!(current.log_length, 2);
    drop(client);
    served.stop().await
}

/// The next state a subscription sends, as (tip, content title).
async fn next_state(states: &mut tonic::Streaming<v1::StreamResponse>) -> Result<(String, Value)> {
    let response = bounded(states.message()).await??.context("the subscription ended")?;
    let state = response.state.context("a response has a state")?;
    let json: Value = serde_json::from_str(&state.state_json)?;
    let content = json["next"]["content"].clone();
    let content = if content.is_null() { json["content"].clone() } else { content };
    Ok((state.tip, content["title"].clone()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribe_sends_the_current_state_then_each_new_tip() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut node = Served::start(dir.path()).await?;
    let signer = KeySigner::from_seed(KeyType::Ed25519, &[9; 32])?;
    let g = genesis(&signer, "first", "subs", "s1");
    let stream = StreamId::new(StreamType::TILE, g.cid)?;

    // Subscribed before the stream exists: nothing until it is created.
    let mut early = node
        .client
        .subscribe(v1::SubscribeRequest { stream_id: stream.to_string() })
        .await?
        .into_inner();
    node.client.create_stream(request(&g)).await?;
    assert_eq!(next_state(&mut early).await?, (g.cid.to_string(), json!("first")));

    let u1 = update(&signer, &stream, g.cid, "second");
    node.client.apply_commit(request(&u1)).await?;
    // A late subscriber starts from the current state.
    let mut late = node
        .client
        .subscribe(v1::SubscribeRequest { stream_id: stream.to_string() })
        .await?
        .into_inner();
    assert_eq!(next_state(&mut late).await?, (u1.cid.to_string(), json!("second")));
    let u2 = update(&signer, &stream, u1.cid, "third");
    node.client.apply_commit(request(&u2)).await?;
    // Writes to another stream are not sent.
    let other = genesis(&signer, "other", "subs", "s2");
    node.client.create_stream(request(&other)).await?;

    assert_eq!(next_state(&mut early).await?, (u1.cid.to_string(), json!("second")));
    assert_eq!(next_state(&mut early).await?, (u2.cid.to_string(), json!("third")));
    assert_eq!(next_state(&mut late).await?, (u2.cid.to_string(), json!("third")));
    let u3 = update(&signer, &stream, u2.cid, "fourth");
    node.client.apply_commit(request(&u3)).await?;
    assert_eq!(next_state(&mut late).await?, (u3.cid.to_string(), json!("fourth")));

    // A rejected write sends nothing; the next accepted one arrives next.
    let stale = update(&signer, &stream, u1.cid, "stale");
    assert!(node.client.apply_commit(request(&stale)).await.is_err());
    let u4 = update(&signer, &stream, u3.cid, "fifth");
    node.client.apply_commit(request(&u4)).await?;
    assert_eq!(next_state(&mut late).await?, (u4.cid.to_string(), json!("fifth")));

    let bad = node.client.subscribe(v1::SubscribeRequest { stream_id: "nope".into() }).await;
    assert_eq!(bad.map(|_| ()).unwrap_err().code(), Code::InvalidArgument);
    drop((early, late));
    node.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_lists_and_describes_the_node_service() -> Result<()> {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let dir = tempfile::tempdir()?;
    let node = Served::start(dir.path()).await?;
    let channel = Channel::from_shared(node.url.clone())?.connect().await?;
    let mut reflection = ServerReflectionClient::new(channel);
    let ask =
        |message| ServerReflectionRequest { host: String::new(), message_request: Some(message) };
    let requests = tokio_stream_of(vec![
        ask(MessageRequest::ListServices(String::new())),
        ask(MessageRequest::FileContainingSymbol("ceramic.v1.Node".into())),
    ]);
    let mut answers = reflection.server_reflection_info(requests).await?.into_inner();
    let Some(MessageResponse::ListServicesResponse(list)) =
        bounded(answers.message()).await??.context("an answer")?.message_response
    else {
        anyhow::bail!("not a service list");
    };
    let names: Vec<_> = list.service.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"ceramic.v1.Node"), "{names:?}");
    let Some(MessageResponse::FileDescriptorResponse(files)) =
        bounded(answers.message()).await??.context("an answer")?.message_response
    else {
        anyhow::bail!("not a file descriptor");
    };
    // The descriptor is protobuf; its names are UTF-8 inside it.
    let file = String::from_utf8_lossy(&files.file_descriptor_proto[0]);
    assert!(file.contains("Subscribe") && file.contains("CreateStream"), "{file}");
    drop((answers, reflection));
    node.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_messages_are_resource_exhausted_and_long_ids_invalid_arguments() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let served = Served::start(dir.path()).await?;
    let mut client = served.client.clone();
    // Over tonic's 4 MiB receive limit: refused before any handler runs, naming the size.
    let huge = "k".repeat(5 * 1024 * 1024);
    let err = client.load_stream(load(&huge)).await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    let found = format!("found {} bytes", huge.len() + 5);
    assert!(err.message().contains(&found), "{}", err.message());
    // A 1 MiB id (and a 1 MiB CID) inside the limit: refused on its length, before decoding.
    let long = format!("k{}", "z".repeat(1024 * 1024 - 1));
    for err in [
        client.load_stream(load(&long)).await.unwrap_err(),
        client.list_commits(ListCommitsRequest { id: long.clone() }).await.unwrap_err(),
        client.pin(PinRequest { stream_id: long.clone() }).await.unwrap_err(),
        client.list_streams(list(None, &long, 1)).await.unwrap_err(),
    ] {
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
        assert!(err.message().contains("1048576 bytes is longer than"), "{}", err.message());
    }
    let author = KeySigner::from_seed(KeyType::Ed25519, &[7; 32])?;
    let mut long_cid = request(&genesis(&author, "t", "notes", "EEEE"));
    long_cid.blocks[0].cid = format!("z{}", "2".repeat(1024 * 1024 - 1));
    let err = client.create_stream(long_cid).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains("1048576 bytes is longer than"), "{}", err.message());
    // The node still answers.
    client.health(HealthRequest {}).await?;
    drop(client);
    served.stop().await
}

/// A finished request stream of `items`.
fn tokio_stream_of<T: Send + 'static>(
    items: Vec<T>,
) -> impl tonic::codegen::tokio_stream::Stream<Item = T> + Send + 'static {
    tonic::codegen::tokio_stream::iter(items)
}
