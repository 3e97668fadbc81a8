//! The S3 target against a real S3-compatible server (s3rver from npm, `tools/s3rver`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ceramic_backup::{
    Backoff, Error, Manifest, Runner, S3Config, S3Target, Selection, Target, TargetError, run_once,
};
use ceramic_testkit::S3rver;

use crate::fixtures::{Node, assert_exactly_once, assert_same_streams};

const BUCKET: &str = "ceramic-backup";

fn config(endpoint: &str, prefix: &str) -> S3Config {
    S3Config {
        endpoint: endpoint.into(),
        bucket: BUCKET.into(),
        region: "us-east-1".into(),
        access_key: S3rver::ACCESS_KEY.into(),
        secret_key: S3rver::SECRET_KEY.into(),
        prefix: prefix.into(),
        timeout: Duration::from_secs(10),
    }
}

fn start(dir: &Path, port: u16) -> S3rver {
    // A restart on the port of a just-killed server may race its exit: try a few times.
    let mut last = None;
    for _ in 0..20 {
        match S3rver::start(dir, port, &[BUCKET]) {
            Ok(server) => return server,
            Err(e) => last = Some(e),
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("s3rver did not start: {last:?}");
}

#[test]
fn streams_are_backed_up_to_s3_and_restored() {
    let data = tempfile::tempdir().unwrap();
    let server = start(data.path(), 0);
    let target = S3Target::new(&config(server.endpoint(), "node-1/")).unwrap();
    assert_eq!(target.get("manifest.json").unwrap(), None);

    let node = Node::fresh();
    let a = node.stream("a", None, 3);
    node.anchor(&a, 1_700_000_000);
    let b = node.stream("b", None, 1);
    let first = run_once(node.store.as_ref(), &target, &Selection::Pinned).unwrap();
    assert_eq!((first.streams, first.commits), (2, 5 + 2));
    node.add(&b, 2);
    let second = run_once(node.store.as_ref(), &target, &Selection::Pinned).unwrap();
    assert_eq!((second.streams, second.commits), (1, 2));
    assert_eq!(target.list("streams/").unwrap().len(), 3);
    assert_exactly_once(&node, &target, &[a, b]);

    // The prefix keeps targets apart in one bucket; the objects are really in s3rver.
    let other = S3Target::new(&config(server.endpoint(), "node-2/")).unwrap();
    assert!(other.list("").unwrap().is_empty());
    assert!(data.path().join(BUCKET).join("node-1").exists());

    let restored = Node::new(node.chain.clone());
    let done = ceramic_backup::restore(&restored.engine, restored.store.as_ref(), &target).unwrap();
    assert_eq!((done.streams, done.commits), (2, 8));
    assert_same_streams(&node, &restored, &[a, b]);
}

#[test]
fn bad_credentials_and_endpoints_are_typed_errors() {
    let data = tempfile::tempdir().unwrap();
    let server = start(data.path(), 0);
    let mut wrong = config(server.endpoint(), "");
    wrong.secret_key = "not-the-secret".into();
    let err = S3Target::new(&wrong).unwrap().put("x", b"1").unwrap_err();
    assert!(matches!(err, TargetError::Status { op: "PUT", status: 403, .. }), "{err}");
    let missing = S3Config { bucket: "no-such-bucket".into(), ..config(server.endpoint(), "") };
    let err = S3Target::new(&missing).unwrap().list("").unwrap_err();
    assert!(matches!(err, TargetError::Status { op: "LIST", status: 404, .. }), "{err}");
    let err = S3Target::new(&config("ftp://127.0.0.1:1", "")).unwrap_err();
    assert!(matches!(err, TargetError::Endpoint { .. }), "{err}");
    let err = S3Target::new(&config(server.endpoint(), "no-slash")).unwrap_err();
    assert!(matches!(err, TargetError::Endpoint { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_is_down_catches_up_without_loss_or_duplicates() {
    let data = tempfile::tempdir().unwrap();
    let server = start(data.path(), 0);
    let port = server.port();
    let target = Arc::new(S3Target::new(&config(server.endpoint(), "")).unwrap());
    let node = Node::fresh();
    let a = node.stream("a", None, 2);
    let b = node.stream("b", None, 1);
    let backoff = Backoff { min: Duration::from_millis(100), max: Duration::from_millis(400) };
    let runner = Arc::new(
        Runner::new("s3", "s3", target.clone(), node.store.clone(), Selection::Pinned)
            .with_backoff(backoff),
    );
    runner.run_now().unwrap();
    assert_eq!(runner.status().commits, 5);

    // The server goes away: writes to the node go on, the run fails with a target error.
    server.stop();
    node.add(&a, 3);
    node.anchor(&b, 1_700_000_000);
    let c = node.stream("c", None, 1);
    let err = runner.run_now().unwrap_err();
    assert!(matches!(err, Error::Target(TargetError::Transport { .. })), "{err}");
    let status = runner.status();
    assert_eq!((status.runs, status.errors), (2, 1));
    assert!(status.pending > 0 && status.last_error.is_some(), "{status:?}");

    // The background task retries with back-off while it is down...
    let task = tokio::spawn(runner.clone().run_forever(None));
    runner.trigger();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let failing = runner.status();
    assert!(failing.errors >= 3, "{failing:?}");
    assert!(failing.retry_at.is_some(), "{failing:?}");

    // ...and catches up once it is back (same port, same data).
    let path = data.path().to_path_buf();
    let server = tokio::task::spawn_blocking(move || start(&path, port)).await.unwrap();
    let caught_up = async {
        loop {
            let status = runner.status();
            if status.retry_at.is_none() && status.last_error.is_none() {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let status = tokio::time::timeout(Duration::from_secs(60), caught_up).await.unwrap();
    task.abort();
    assert_eq!((status.streams, status.commits, status.pending), (3, 5 + 3 + 1 + 2, 0));
    let target = target.as_ref() as &dyn Target;
    assert_exactly_once(&node, target, &[a, b, c]);
    assert_eq!(Manifest::load(target).unwrap().commits(), 11);
    drop(server);
}
