//! A full disk does not kill the node (issue 15 item 2): a node whose data directory is on a
//! tiny file system refuses writes with HTTP 503 and gRPC `UNAVAILABLE` saying the disk is full,
//! keeps serving reads, and accepts writes again by itself once space is freed; a node started
//! on a full disk starts (read-only) instead of aborting, and becomes writable when space
//! returns.
//!
//! The tiny file system is a 64 MiB tmpfs the test mounts (CI runs as root). Where mounting is
//! not permitted (an unprivileged container), the test falls back to the node's own
//! `min_free_bytes` threshold: the reserve is set a little below the real disk's free space and
//! a filler file pushes the free space under it; that exercises the same guard and the same
//! path to the client, but not a file system that is really full.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ceramic_codecs::{GenesisCommit, Header, Ipld, Payload, Unique};
use ceramic_core::{Node, NodeConfig};
use ceramic_did::{KeySigner, KeyType, SignedCommit, Signer, sign_commit};
use ceramic_doctype_tile::Tile;
use ceramic_proto::v1::node_client::NodeClient;
use ceramic_proto::v1::{self, CommitRequest};
use serde_json::{Value, json};
use support::http;

const TIMEOUT: Duration = Duration::from_secs(60);
/// How long writes may take to resume after space is freed (the guard re-measures every 100 ms).
const RESUME_WITHIN: Duration = Duration::from_secs(10);
const MIB: u64 = 1 << 20;

/// A directory on a small file system of its own: a tmpfs when mounting is permitted (unmounted
/// on drop), or else a directory on the real disk with a reserve just under its free space.
struct SmallDisk {
    dir: tempfile::TempDir,
    mounted: bool,
}

impl SmallDisk {
    fn new(size_mib: u64) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mib}m"), "tmpfs"])
            .arg(dir.path())
            .output()
            .is_ok_and(|out| out.status.success());
        if !mounted {
            eprintln!(
                "mounting a tmpfs is not permitted here: using the min_free_bytes threshold on \
                 the real disk instead"
            );
        }
        SmallDisk { dir, mounted }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The reserve to configure: 16 MiB of a tmpfs, or the real disk's free space less
    /// `headroom` (which the node's writes and the filler then use up).
    fn reserve(&self, headroom: u64) -> u64 {
        if self.mounted {
            16 * MIB
        } else {
            ceramic_storage_rocks::free_bytes(self.path()).unwrap().saturating_sub(headroom)
        }
    }

    /// A file that leaves `below` bytes less than `reserve` free.
    fn fill(&self, reserve: u64, below: u64) -> PathBuf {
        let filler = self.path().join("filler");
        let free = ceramic_storage_rocks::free_bytes(self.path()).unwrap();
        let size = free.saturating_sub(reserve.saturating_sub(below));
        let chunk = vec![0xa5u8; MIB as usize];
        let mut file = std::fs::File::create(&filler).unwrap();
        let mut written = 0;
        while written < size {
            let n = chunk.len().min(usize::try_from(size - written).unwrap());
            match std::io::Write::write_all(&mut file, &chunk[..n]) {
                Ok(()) => written += n as u64,
                Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC: full already
                Err(e) => panic!("writing the filler: {e}"),
            }
        }
        file.sync_all().unwrap();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
        }
    }
}

fn genesis(signer: &KeySigner, unique: &str) -> SignedCommit {
    let payload = Payload::Genesis(GenesisCommit {
        header: Header {
            controllers: Some(vec![signer.did().to_owned()]),
            unique: Some(Unique::Text(unique.into())),
            ..Header::default()
        },
        data: Some(Ipld::Map(BTreeMap::from([("a".to_owned(), Ipld::Integer(1))]))),
    });
    sign_commit(signer, &payload).unwrap()
}

fn create_body(commit: &SignedCommit) -> Value {
    json!({"type": 0, "genesis": commit.to_dag_jws_result(), "opts": {"anchor": false}})
}

fn grpc_request(commit: &SignedCommit) -> CommitRequest {
    let blocks = [commit.envelope_block(), commit.payload_block()]
        .map(|b| v1::Block { cid: b.cid().to_string(), data: b.data().to_vec() })
        .to_vec();
    CommitRequest { stream_type: 0, commit: commit.envelope_block().cid().to_string(), blocks }
}

/// Creates streams over HTTP until one answers `want` (or `TIMEOUT` passes): the answer.
async fn create_until(
    addr: std::net::SocketAddr,
    signer: &KeySigner,
    tag: &str,
    want: u16,
) -> (u16, Value, SignedCommit) {
    let start = Instant::now();
    for i in 0.. {
        let commit = genesis(signer, &format!("{tag}-{i}"));
        let (status, body) =
            http(addr, "POST", "/api/v0/streams", Some(&create_body(&commit))).await;
        if status == want || start.elapsed() > TIMEOUT {
            return (status, body, commit);
        }
        assert!(status == 200 || status == 503, "{status} {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    unreachable!()
}

fn assert_disk_full(status: u16, body: &Value) {
    assert_eq!(status, 503, "{body}");
    let message = body["error"].as_str().unwrap_or_default();
    assert!(message.contains("disk is full"), "{message}");
    assert!(message.contains("min_free_bytes"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_with_503_serves_reads_and_resumes_when_space_is_freed() {
    let disk = SmallDisk::new(64);
    let mut config = NodeConfig::local(disk.path());
    let reserve = disk.reserve(256 * MIB);
    config.min_free_bytes = reserve;
    let node = Node::builder(config).with_doctype(Tile::new()).start().await.unwrap();
    let (grpc_addr, http_addr) = (node.grpc_addr().unwrap(), node.http_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(node.run(async move {
        let _ = stopped.await;
    }));
    let signer = KeySigner::from_seed(KeyType::Ed25519, &[41; 32]).unwrap();

    let (status, created, _) = create_until(http_addr, &signer, "before", 200).await;
    assert_eq!(status, 200, "{created}");
    let stream = created["streamId"].as_str().unwrap().to_owned();

    // The disk fills up: 8 MiB under the reserve (8 MiB left on the tmpfs).
    let filler = disk.fill(reserve, 8 * MIB);
    let (status, refused, refused_commit) = create_until(http_addr, &signer, "full", 503).await;
    assert_disk_full(status, &refused);
    let mut client = NodeClient::connect(format!("http://{grpc_addr}")).await.unwrap();
    let unavailable =
        client.create_stream(grpc_request(&genesis(&signer, "full-grpc"))).await.unwrap_err();
    assert_eq!(unavailable.code(), tonic::Code::Unavailable, "{unavailable:?}");
    assert!(unavailable.message().contains("disk is full"), "{}", unavailable.message());

    // Reads are served; the refused stream was not stored.
    let (status, loaded) = http(http_addr, "GET", &format!("/api/v0/streams/{stream}"), None).await;
    assert_eq!(status, 200, "{loaded}");
    assert_eq!(loaded["state"]["content"]["a"], json!(1));

    // Space is freed: the same write is accepted again, without a restart.
    std::fs::remove_file(&filler).unwrap();
    let start = Instant::now();
    let body = create_body(&refused_commit);
    let (status, resumed) = loop {
        let (status, body) = http(http_addr, "POST", "/api/v0/streams", Some(&body)).await;
        if status != 503 || start.elapsed() > RESUME_WITHIN {
            break (status, body);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status, 200, "writes did not resume within {RESUME_WITHIN:?}: {resumed}");
    let resumed_id = resumed["streamId"].as_str().unwrap().to_owned();
    let (status, loaded) =
        http(http_addr, "GET", &format!("/api/v0/streams/{resumed_id}"), None).await;
    assert_eq!(status, 200, "{loaded}");
    client.create_stream(grpc_request(&genesis(&signer, "after-grpc"))).await.unwrap();

    drop(client);
    stop.send(()).unwrap();
    tokio::time::timeout(TIMEOUT, served).await.unwrap().unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_started_on_a_full_disk_serves_reads_and_becomes_writable_when_space_returns() {
    let disk = SmallDisk::new(64);
    let signer = KeySigner::from_seed(KeyType::Ed25519, &[42; 32]).unwrap();
    let mut config = NodeConfig::local(disk.path());
    let reserve = disk.reserve(256 * MIB);
    config.min_free_bytes = reserve;

    // A first run stores a stream, then stops.
    let node = Node::builder(config.clone()).with_doctype(Tile::new()).start().await.unwrap();
    let http_addr = node.http_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(node.run(async move {
        let _ = stopped.await;
    }));
    let (status, created, _) = create_until(http_addr, &signer, "first-run", 200).await;
    assert_eq!(status, 200, "{created}");
    let stream = created["streamId"].as_str().unwrap().to_owned();
    stop.send(()).unwrap();
    tokio::time::timeout(TIMEOUT, served).await.unwrap().unwrap().unwrap();

    // The disk is full (1 MiB left on the tmpfs) when the node starts again: it starts,
    // read-only.
    let filler = disk.fill(reserve, 15 * MIB);
    let node = Node::builder(config).with_doctype(Tile::new()).start().await.unwrap();
    let http_addr = node.http_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(node.run(async move {
        let _ = stopped.await;
    }));
    let (status, loaded) = http(http_addr, "GET", &format!("/api/v0/streams/{stream}"), None).await;
    assert_eq!(status, 200, "{loaded}");
    let commit = genesis(&signer, "second-run");
    let (status, refused) =
        http(http_addr, "POST", "/api/v0/streams", Some(&create_body(&commit))).await;
    assert_disk_full(status, &refused);

    std::fs::remove_file(&filler).unwrap();
    let start = Instant::now();
    let (status, resumed) = loop {
        let (status, body) =
            http(http_addr, "POST", "/api/v0/streams", Some(&create_body(&commit))).await;
        if status != 503 || start.elapsed() > RESUME_WITHIN {
            break (status, body);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status, 200, "writes did not resume within {RESUME_WITHIN:?}: {resumed}");
    let (status, loaded) = http(http_addr, "GET", &format!("/api/v0/streams/{stream}"), None).await;
    assert_eq!(status, 200, "{loaded}");

    stop.send(()).unwrap();
    tokio::time::timeout(TIMEOUT, served).await.unwrap().unwrap().unwrap();
}
