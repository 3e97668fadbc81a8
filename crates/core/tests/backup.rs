//! `[[backup]]` targets in a whole node, in process: a directory target backs up after each
//! anchor by itself; `RunBackup` sends only new commits; `ListBackups` and `/metrics` show each
//! target's status; `RestoreBackup` on a second node re-validates and stores the streams, and
//! refuses a tampered backup with `DATA_LOSS`, storing nothing.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use ceramic_codecs::{Cid, DataCommit, GenesisCommit, Header, Ipld, Payload, Unique};
use ceramic_core::{Node, NodeConfig};
use ceramic_did::{KeySigner, KeyType, Signer, sign_commit};
use ceramic_doctype_tile::Tile;
use ceramic_proto::v1::node_client::NodeClient;
use ceramic_proto::v1::{
    self, AnchorStreamRequest, CommitRequest, ListBackupsRequest, LoadStreamRequest, PinRequest,
    RestoreBackupRequest, RunBackupRequest,
};
use ceramic_streamid::StreamId;
use support::http_get;
use tonic::transport::Channel;

const TIMEOUT: Duration = Duration::from_secs(60);

struct Served {
    client: NodeClient<Channel>,
    http: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), ceramic_core::Error>>,
}

async fn serve(data: &Path, backups: &str) -> Served {
    let mut config = NodeConfig::local(data);
    config.backup = NodeConfig::parse(backups).unwrap().backup;
    let node = Node::builder(config).with_doctype(Tile::new()).start().await.unwrap();
    let (grpc, http) = (node.grpc_addr().unwrap(), node.http_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(node.run(async move {
        let _ = stopped.await;
    }));
    let client = NodeClient::connect(format!("http://{grpc}")).await.unwrap();
    Served { client, http, stop, task }
}

impl Served {
    async fn stop(self) {
        drop(self.client);
        self.stop.send(()).unwrap();
        tokio::time::timeout(TIMEOUT, self.task).await.unwrap().unwrap().unwrap();
    }

    async fn write(&mut self, signer: &KeySigner, payload: Payload) -> v1::StreamState {
        let signed = sign_commit(signer, &payload).unwrap();
        let blocks = [signed.envelope_block(), signed.payload_block()]
            .map(|b| v1::Block { cid: b.cid().to_string(), data: b.data().to_vec() })
            .to_vec();
        let commit = signed.envelope_block().cid().to_string();
        let request = CommitRequest { stream_type: 0, commit, blocks };
        let response = match payload {
            Payload::Genesis(_) => self.client.create_stream(request).await,
            _ => self.client.apply_commit(request).await,
        };
        response.unwrap().into_inner().state.unwrap()
    }

    /// A pinned Tile of `family` with one update.
    async fn tile(&mut self, signer: &KeySigner, family: &str) -> v1::StreamState {
        let genesis = Payload::Genesis(GenesisCommit {
            header: Header {
                controllers: Some(vec![signer.did().to_owned()]),
                family: Some(family.into()),
                unique: Some(Unique::Text(family.into())),
                ..Header::default()
            },
            data: Some(Ipld::Map(BTreeMap::from([("v".to_owned(), Ipld::Integer(1))]))),
        });
        let state = self.write(signer, genesis).await;
        let stream: StreamId = state.stream_id.parse().unwrap();
        let patch = BTreeMap::from([
            ("op".to_owned(), Ipld::String("replace".into())),
            ("path".to_owned(), Ipld::String("/v".into())),
            ("value".to_owned(), Ipld::Integer(2)),
        ]);
        let update = Payload::Data(DataCommit {
            id: stream.cid(),
            prev: state.tip.parse::<Cid>().unwrap(),
            header: Some(Header::default()),
            data: Some(Ipld::List(vec![Ipld::Map(patch)])),
        });
        let state = self.write(signer, update).await;
        self.client.pin(PinRequest { stream_id: state.stream_id.clone() }).await.unwrap();
        state
    }

    async fn backup(&mut self, name: &str) -> v1::BackupStatus {
        let list = self.client.list_backups(ListBackupsRequest {}).await.unwrap().into_inner();
        list.backups.into_iter().find(|b| b.name == name).unwrap()
    }

    async fn run(&mut self, name: &str) -> Result<v1::RunBackupResponse, tonic::Status> {
        let request = RunBackupRequest { target: name.into() };
        self.client.run_backup(request).await.map(tonic::Response::into_inner)
    }

    async fn restore(&mut self, name: &str) -> Result<v1::RestoreBackupResponse, tonic::Status> {
        let request = RestoreBackupRequest { target: name.into() };
        self.client.restore_backup(request).await.map(tonic::Response::into_inner)
    }

    async fn load(&mut self, stream: &str) -> Result<v1::StreamState, tonic::Status> {
        let request = LoadStreamRequest { id: stream.into(), at_time: None };
        self.client.load_stream(request).await.map(|r| r.into_inner().state.unwrap_or_default())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn targets_back_up_after_anchors_and_restore_verified_into_another_node() {
    let (a_dir, b_dir, backups) =
        (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let all = backups.path().join("all");
    let notes = backups.path().join("notes");
    let tables = format!(
        "[[backup]]\nname = \"all\"\nkind = \"dir\"\npath = {all:?}\n\n\
         [[backup]]\nname = \"notes\"\nkind = \"dir\"\npath = {notes:?}\nafter_anchor = false\n\
         streams = \"filter\"\nfamily = \"notes\"\n"
    );
    let mut a = serve(a_dir.path(), &tables).await;
    let signer = KeySigner::from_seed(KeyType::Ed25519, &[7; 32]).unwrap();

    // An anchor: the `all` target backs the stream up by itself (after_anchor).
    let anchored = a.tile(&signer, "anchored").await;
    let request = AnchorStreamRequest { stream_id: anchored.stream_id.clone() };
    a.client.request_anchor(request).await.unwrap();
    let waited = tokio::time::timeout(TIMEOUT, async {
        loop {
            let status = a.backup("all").await;
            if status.commits == 3 {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the anchor triggers a backup");
    assert_eq!((waited.streams, waited.errors, waited.pending), (1, 0, 0));
    assert_eq!(a.backup("notes").await.runs, 0);

    // A run on demand sends only what the target lacks.
    let notes_stream = a.tile(&signer, "notes").await;
    let run = a.run("all").await.unwrap();
    assert_eq!((run.streams, run.commits, run.failed), (1, 2, 0));
    assert_eq!(a.run("all").await.unwrap().commits, 0);
    let run = a.run("notes").await.unwrap();
    assert_eq!((run.streams, run.commits), (1, 2));
    assert_eq!(a.run("nope").await.unwrap_err().code(), tonic::Code::NotFound);
    let status = a.backup("all").await;
    assert_eq!((status.kind.as_str(), status.streams, status.commits), ("dir", 2, 5));
    assert!(status.last_success > 0 && status.last_error.is_empty(), "{status:?}");
    let metrics = http_get(a.http, "/metrics").await;
    for line in [
        "ceramic_backup_commits{target=\"all\"} 5",
        "ceramic_backup_streams{target=\"notes\"} 1",
        "ceramic_backup_errors_total{target=\"all\"} 0",
    ] {
        assert!(metrics.contains(line), "{line} not in {metrics}");
    }
    a.stop().await;

    // Another node restores the `notes` target: refused while a segment is altered (nothing
    // stored), then restored whole once it is intact again.
    let mut b = serve(
        b_dir.path(),
        &format!(
            "[[backup]]\nname = \"notes\"\nkind = \"dir\"\npath = {notes:?}\nafter_anchor = false\n"
        ),
    )
    .await;
    let segment =
        walk(&notes).into_iter().find(|p| p.extension().is_some_and(|e| e == "car")).unwrap();
    let intact = std::fs::read(&segment).unwrap();
    let mut altered = intact.clone();
    let last = altered.len() - 1;
    altered[last] ^= 0x01;
    std::fs::write(&segment, &altered).unwrap();
    let refused = b.restore("notes").await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::DataLoss, "{refused:?}");
    assert_eq!(b.load(&notes_stream.stream_id).await.unwrap_err().code(), tonic::Code::NotFound);

    std::fs::write(&segment, &intact).unwrap();
    let restored = b.restore("notes").await.unwrap();
    assert_eq!((restored.streams, restored.commits), (1, 2));
    let loaded = b.load(&notes_stream.stream_id).await.unwrap();
    assert_eq!((loaded.tip.as_str(), loaded.log_length), (notes_stream.tip.as_str(), 2));
    assert_eq!(loaded.state_json, notes_stream.state_json);
    b.stop().await;
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out
}
