//! gRPC `SubscribeEvents` and `ListInstances` end to end, in process: a node (RocksDB in a
//! temporary directory, the Tile doctype) served on `127.0.0.1:0` and a tonic client. The
//! subscription is read slowly while writes go on (back-pressure: the node buffers at most 64
//! events per subscriber and reads the rest from the durable feed), resumes from a token, keeps
//! to the streams asked for, and refuses bad filters. (`bins/node/tests/ceramic_sdk.rs` checks
//! the `model` filter and `ListInstances` with Model instances the real SDK wrote.)

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use anyhow::{Context, Result};
use ceramic_codecs::{Block, Cid, DataCommit, GenesisCommit, Header, Ipld, Payload, Unique};
use ceramic_core::{Node, NodeConfig};
use ceramic_did::{KeySigner, KeyType, Signer, sign_commit};
use ceramic_doctype_tile::Tile;
use ceramic_proto::v1::SubscribeEventsRequest;
use ceramic_proto::v1::node_client::NodeClient;
use ceramic_proto::v1::subscribe_events_request::Filter;
use ceramic_proto::v1::{self, CommitRequest, FeedEvent, ListInstancesRequest, StreamIds};
use ceramic_streamid::{StreamId, StreamType};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::Code;
use tonic::transport::Channel;

/// Every wait in this file is bounded by this.
const TIMEOUT: Duration = Duration::from_secs(60);

struct Served {
    client: NodeClient<Channel>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), ceramic_core::Error>>,
}

impl Served {
    async fn start(dir: &std::path::Path) -> Result<Served> {
        let mut config = NodeConfig::local(dir);
        config.doctypes = Some(vec!["tile".into()]);
        let node = Node::builder(config).with_doctype(Tile::new()).start().await?;
        let url = format!("http://{}", node.grpc_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(node.run(async move {
            let _ = stopped.await;
        }));
        let client = bounded(NodeClient::connect(url)).await??;
        Ok(Served { client, stop, task })
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

fn request(payload: Payload, signer: &KeySigner) -> (Cid, CommitRequest) {
    let commit = sign_commit(signer, &payload).expect("signing");
    let block = |b: &Block| v1::Block { cid: b.cid().to_string(), data: b.data().to_vec() };
    let cid = *commit.envelope_block().cid();
    let request = CommitRequest {
        stream_type: StreamType::TILE.code(),
        commit: cid.to_string(),
        blocks: vec![block(commit.envelope_block()), block(commit.payload_block())],
    };
    (cid, request)
}

fn genesis(signer: &KeySigner, n: usize) -> (Cid, CommitRequest) {
    let content = BTreeMap::from([("n".to_string(), Ipld::Integer(n as i128))]);
    let header = Header {
        controllers: Some(vec![signer.did().to_string()]),
        unique: Some(Unique::Text(format!("feed-{n}"))),
        ..Header::default()
    };
    request(Payload::Genesis(GenesisCommit { header, data: Some(Ipld::Map(content)) }), signer)
}

fn update(signer: &KeySigner, stream: &StreamId, prev: Cid, n: usize) -> (Cid, CommitRequest) {
    let op = BTreeMap::from([
        ("op".to_string(), Ipld::String("replace".into())),
        ("path".to_string(), Ipld::String("/n".into())),
        ("value".to_string(), Ipld::Integer(n as i128)),
    ]);
    let data = DataCommit {
        id: stream.cid(),
        prev,
        header: Some(Header::default()),
        data: Some(Ipld::List(vec![Ipld::Map(op)])),
    };
    request(Payload::Data(data), signer)
}

async fn next(events: &mut tonic::Streaming<FeedEvent>) -> Result<FeedEvent> {
    bounded(events.message()).await??.context("the subscription ended")
}

/// Creates `count` Tile streams one after another, numbered from `from`; their genesis CIDs.
async fn create(
    client: &mut NodeClient<Channel>,
    signer: &KeySigner,
    from: usize,
    count: usize,
) -> Result<Vec<Cid>> {
    let mut cids = Vec::with_capacity(count);
    for n in from..from + count {
        let (cid, request) = genesis(signer, n);
        client.create_stream(request).await?;
        cids.push(cid);
    }
    Ok(cids)
}

/// A subscriber reading slowly while writes go on gets every event once, in feed order: far
/// more events than the node buffers for it (64) and than one feed page (256).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_subscriber_misses_nothing_and_resumes_from_its_token() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut node = Served::start(dir.path()).await?;
    let signer = KeySigner::from_seed(KeyType::Ed25519, &[21; 32])?;
    let mut written = create(&mut node.client, &signer, 0, 400).await?;

    let mut events = node
        .client
        .subscribe_events(SubscribeEventsRequest { resume_after: 0, filter: None })
        .await?
        .into_inner();
    let mut got = vec![next(&mut events).await?];
    // The client stops reading; 300 more events are written meanwhile.
    let mut writer_client = node.client.clone();
    let writer_signer = KeySigner::from_seed(KeyType::Ed25519, &[21; 32])?;
    let writer =
        tokio::spawn(async move { create(&mut writer_client, &writer_signer, 400, 300).await });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    written.extend(bounded(writer).await???);
    while got.len() < written.len() {
        got.push(next(&mut events).await?);
        if got.len() % 100 == 0 {
            // Slow again, now and then.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let tokens: Vec<u64> = got.iter().map(|e| e.resume_token).collect();
    assert_eq!(tokens, (1..=written.len() as u64).collect::<Vec<_>>(), "gap-free, no repeats");
    let cids: Vec<String> = got.iter().map(|e| e.event_cid.clone()).collect();
    let expected: Vec<String> = written.iter().map(ToString::to_string).collect();
    assert_eq!(cids, expected, "every event, in the order written");
    for (event, cid) in got.iter().zip(&written) {
        assert_eq!(event.stream_id, StreamId::new(StreamType::TILE, *cid)?.to_string());
    }
    // At the head, a new write arrives on the open subscription.
    let late = create(&mut node.client, &signer, 700, 1).await?;
    let event = next(&mut events).await?;
    assert_eq!((event.resume_token, event.event_cid), (701, late[0].to_string()));
    drop(events);

    // Resuming from a token starts right after it.
    let mut resumed = node
        .client
        .subscribe_events(SubscribeEventsRequest { resume_after: 350, filter: None })
        .await?
        .into_inner();
    let first = next(&mut resumed).await?;
    assert_eq!((first.resume_token, first.event_cid), (351, written[350].to_string()));
    drop(resumed);
    node.stop().await
}

/// The `streams` filter sends only the named streams' events (their genesis and each update);
/// bad filters are refused with INVALID_ARGUMENT; `ListInstances` of a model with no instances is
/// empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_filtered_subscription_and_bad_requests() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut node = Served::start(dir.path()).await?;
    let signer = KeySigner::from_seed(KeyType::Ed25519, &[22; 32])?;
    let cids = create(&mut node.client, &signer, 0, 5).await?;
    let streams: Vec<StreamId> =
        cids.iter().map(|c| StreamId::new(StreamType::TILE, *c)).collect::<Result<_, _>>()?;
    let wanted = StreamIds { stream_ids: vec![streams[1].to_string(), streams[3].to_string()] };
    let mut events = node
        .client
        .subscribe_events(SubscribeEventsRequest {
            resume_after: 0,
            filter: Some(Filter::Streams(wanted)),
        })
        .await?
        .into_inner();
    let a = next(&mut events).await?;
    let b = next(&mut events).await?;
    assert_eq!((a.resume_token, a.event_cid.as_str()), (2, cids[1].to_string().as_str()));
    assert_eq!((b.resume_token, b.event_cid.as_str()), (4, cids[3].to_string().as_str()));
    // Updates: one of another stream (not sent), then one of stream 3.
    let (_, other) = update(&signer, &streams[0], cids[0], 1);
    node.client.apply_commit(other).await?;
    let (u3, mine) = update(&signer, &streams[3], cids[3], 1);
    node.client.apply_commit(mine).await?;
    let c = next(&mut events).await?;
    assert_eq!((c.resume_token, c.stream_id.as_str()), (7, streams[3].to_string().as_str()));
    assert_eq!(c.event_cid, u3.to_string());
    drop(events);

    let bad_filters = [
        Filter::Model("not a stream".into()),
        Filter::Streams(StreamIds { stream_ids: vec!["garbage".into()] }),
        Filter::Streams(StreamIds {
            stream_ids: (0..1001).map(|_| streams[0].to_string()).collect(),
        }),
    ];
    for filter in bad_filters {
        let request = SubscribeEventsRequest { resume_after: 0, filter: Some(filter) };
        let status = node.client.subscribe_events(request).await.map(|_| ()).unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{status}");
    }
    let model = "kjzl6hvfrbw6c5ajfmes842lu09vjxu5956e3xq0xk12gp2jcf9s90cagt2god9".to_string();
    let page = node
        .client
        .list_instances(ListInstancesRequest { model: model.clone(), ..Default::default() })
        .await?
        .into_inner();
    assert!(page.stream_ids.is_empty() && page.next.is_none(), "{page:?}");
    let bad = ListInstancesRequest { model: "nope".into(), ..Default::default() };
    assert_eq!(node.client.list_instances(bad).await.unwrap_err().code(), Code::InvalidArgument);
    let bad = ListInstancesRequest { model, after: "nope".into(), ..Default::default() };
    assert_eq!(node.client.list_instances(bad).await.unwrap_err().code(), Code::InvalidArgument);
    node.stop().await
}
