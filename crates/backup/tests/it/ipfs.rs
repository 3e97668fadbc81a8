//! The IPFS target against a real helia peer (`tools/helia/peer.mjs` with its control
//! interface): helia fetches every backed-up block over Bitswap from our node's network and
//! pins it; a restore reads the blocks back from helia.

use std::sync::Arc;
use std::time::Duration;

use ceramic_backup::{DirTarget, IpfsTarget, Manifest, Selection, Target, run_once};
use ceramic_codecs::read_car;
use ceramic_net::{Config, Network};
use ceramic_storage::Storage;
use ceramic_testkit::{Helia, Process, tools};

use crate::fixtures::{Node, assert_exactly_once, assert_same_streams};

/// helia with its HTTP control interface; returns it and the control URL.
fn helia() -> (Process, String) {
    let program = tools::node_script("helia", "peer.mjs", &["node_modules/helia"])
        .expect("cargo xtask tools")
        .arg("backup")
        .env("HELIA_CONTROL", "1")
        .stdin()
        .with_name("helia");
    let mut process = program.spawn().unwrap();
    let control = process.wait_for_prefix("CONTROL ", Helia::STARTUP).unwrap();
    process.wait_for_prefix("ADDR ", Helia::STARTUP).unwrap();
    (process, control)
}

fn pinned(control: &str, cid: &ceramic_codecs::Cid) -> bool {
    let mut response = ureq::get(format!("{control}/pinned/{cid}")).call().unwrap();
    response.body_mut().read_to_string().unwrap() == "true"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helia_fetches_and_pins_every_backed_up_block_over_bitswap() {
    let node = Node::fresh();
    let (_announcer, announcements) = ceramic_net::announcer();
    let storage: Arc<dyn Storage> = node.store.clone();
    let config = Config::new("inmemory").with_topic("/ceramic/inmemory-backup-ipfs");
    let (net, task) = Network::start(config, node.engine.clone(), storage, announcements)
        .await
        .expect("the network starts");
    let (mut helia, control) = tokio::task::spawn_blocking(helia).await.unwrap();

    let index = tempfile::tempdir().unwrap();
    let target = Arc::new(IpfsTarget::new(
        control.clone(),
        DirTarget::new(index.path()).with_sync(false),
        Duration::from_secs(90),
    ));
    target.provide_from(net.listen_addrs().iter().map(ToString::to_string).collect());

    let a = node.stream("a", None, 2);
    node.anchor(&a, 1_700_000_000);
    let b = node.stream("b", None, 1);
    let run = {
        let (store, target) = (node.store.clone(), target.clone());
        move || run_once(store.as_ref(), target.as_ref(), &Selection::Pinned)
    };
    let first = tokio::task::spawn_blocking(run.clone()).await.unwrap().unwrap();
    assert_eq!((first.streams, first.commits), (2, 4 + 2));

    // Every block of every log is pinned on helia (it had none of them before).
    let blocks: Vec<_> = [a, b]
        .iter()
        .flat_map(|id| node.store.log_blocks(&node.store.state(id).unwrap().unwrap()).unwrap())
        .collect();
    let check = {
        let (control, cids) =
            (control.clone(), blocks.iter().map(|b| *b.cid()).collect::<Vec<_>>());
        move || cids.iter().all(|cid| pinned(&control, cid))
    };
    assert!(tokio::task::spawn_blocking(check).await.unwrap());

    // Incremental: only the new segment is pinned on the second run.
    node.add(&b, 2);
    let second = tokio::task::spawn_blocking(run).await.unwrap().unwrap();
    assert_eq!((second.streams, second.commits), (1, 2));
    let tip = node.tip(&b);
    let control2 = control.clone();
    assert!(tokio::task::spawn_blocking(move || pinned(&control2, &tip)).await.unwrap());

    // The segments read back from helia are the same CARs; a restore validates them.
    let (restored, check_target) = (Node::new(node.chain.clone()), target.clone());
    let restored = tokio::task::spawn_blocking(move || {
        assert_eq!(Manifest::load(check_target.as_ref()).unwrap().streams.len(), 2);
        let segments = check_target.list("streams/").unwrap();
        assert_eq!(segments.len(), 3);
        for name in &segments {
            let car = read_car(&check_target.get(name).unwrap().unwrap()).unwrap();
            assert!(!car.blocks.is_empty(), "{name}");
        }
        ceramic_backup::restore(&restored.engine, restored.store.as_ref(), check_target.as_ref())
            .unwrap();
        restored
    })
    .await
    .unwrap();
    assert_same_streams(&node, &restored, &[a, b]);
    assert_exactly_once(&node, target.as_ref() as &dyn Target, &[a, b]);

    helia.kill();
    net.shutdown().await;
    let _ = task.await;
}
