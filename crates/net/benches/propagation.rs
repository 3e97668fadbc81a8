//! Update propagation through gossip on loopback: three in-process nodes A, B, C (B and C dial
//! A), each with its own engine over `MemoryStorage`; B and C follow a stream written on A.
//!
//! 1. Latency: 1,000 updates one after another; for each, the time from A's write to B and to C
//!    storing the new tip (observed through their engines' publisher, not by polling). Prints
//!    p50, p99 and max over the 2,000 (node, update) pairs.
//! 2. Throughput: 2,000 pre-signed updates over 100 streams (20 each, round robin) written on
//!    A as fast as A applies them; prints updates/s until B and C have every stream's last tip.
//!
//! Not criterion: criterion reports means, and the target is a percentile.
//! Run: `cargo bench -p ceramic-net --bench propagation` (`-- --quick` for 100 / 200 updates;
//! under `cargo test --all-targets` it runs 20 / 100 as a smoke test).

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::{Duration, Instant};

use ceramic_codecs::Cid;
use ceramic_doctype::Registry;
use ceramic_engine::memory::FakeAnchorVerifier;
use ceramic_engine::test_utils::{ADDER, Adder, Made, add, genesis, signer};
use ceramic_engine::{Engine, Publisher};
use ceramic_net::{Announcer, Config, Multiaddr, Network, NetworkHandle};
use ceramic_storage::{MemoryStorage, Storage};
use ceramic_streamid::StreamId;

/// Forwards to the network and reports each new tip with the time it was stored.
struct Tee {
    announcer: Announcer,
    seen: SyncSender<(Cid, Instant)>,
}

impl Publisher for Tee {
    fn publish_update(&self, stream: &StreamId, tip: &Cid) {
        let _ = self.seen.try_send((*tip, Instant::now()));
        self.announcer.publish_update(stream, tip);
    }
}

struct Node {
    net: NetworkHandle,
    engine: Arc<Engine>,
    storage: Arc<MemoryStorage>,
    seen: Receiver<(Cid, Instant)>,
}

async fn start(bootstrap: Vec<Multiaddr>) -> Node {
    let storage = Arc::new(MemoryStorage::new());
    let (announcer, announcements) = ceramic_net::announcer();
    let (tx, seen) = sync_channel(100_000);
    let mut registry = Registry::new();
    registry.register(Adder).expect("one doctype");
    let engine = Arc::new(Engine::new(
        storage.clone(),
        registry,
        Arc::new(FakeAnchorVerifier::default()),
        Arc::new(Tee { announcer, seen: tx }),
    ));
    let config =
        Config::new("inmemory").with_topic("/ceramic/inmemory-bench").with_bootstrap(bootstrap);
    let dyn_storage: Arc<dyn Storage> = storage.clone();
    let (net, _task) =
        Network::start(config, engine.clone(), dyn_storage, announcements).await.expect("starts");
    Node { net, engine, storage, seen }
}

/// Waits until `node` reports `tip`; returns when it stored it.
fn wait_for(node: &Node, tip: Cid) -> Instant {
    loop {
        match node.seen.recv_timeout(Duration::from_secs(30)) {
            Ok((cid, at)) if cid == tip => return at,
            Ok(_) => {}
            Err(e) => panic!("tip {tip} never arrived: {e}"),
        }
    }
}

/// Waits until `node` reports every tip of `tips`; returns when it stored the last of them.
fn wait_all(node: &Node, mut tips: std::collections::HashSet<Cid>) -> Instant {
    let mut last = Instant::now();
    while !tips.is_empty() {
        match node.seen.recv_timeout(Duration::from_secs(30)) {
            Ok((cid, at)) => {
                if tips.remove(&cid) {
                    last = at;
                }
            }
            Err(e) => panic!("{} tips never arrived: {e}", tips.len()),
        }
    }
    last
}

fn drain(node: &Node) {
    while node.seen.try_recv().is_ok() {}
}

fn chain(author: &ceramic_did::KeySigner, stream: &StreamId, mut prev: Cid, n: usize) -> Vec<Made> {
    (0..n)
        .map(|k| {
            let made = add(author, stream, prev, i64::try_from(k).unwrap_or(0) + 1);
            prev = made.cid;
            made
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes `--bench`; `cargo test --all-targets` does not: a smoke run then.
    let (latency_n, burst_n) = if !args.iter().any(|a| a == "--bench") {
        (20, 100)
    } else if args.iter().any(|a| a == "--quick") {
        (100, 200)
    } else {
        (1_000, 2_000)
    };
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let a = start(vec![]).await;
        let b = start(a.net.listen_addrs()).await;
        let c = start(a.net.listen_addrs()).await;
        for (node, n) in [(&a, 2), (&b, 1), (&c, 1)] {
            while node.net.topic_peers().await.expect("running").len() < n {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        let author = signer(9);
        let (stream, g) = genesis(&author, "bench", None, &[]);
        a.engine.apply_commit(ADDER, g.cid, &g.blocks).expect("genesis");
        for node in [&b, &c] {
            node.net.load(&stream).await.expect("loads");
            node.storage.pin(&stream).expect("pins");
        }
        let latency = chain(&author, &stream, g.cid, latency_n);
        let last = latency.last().expect("updates").cid;
        let _ = last;
        tokio::task::spawn_blocking(move || {
            drain(&b);
            drain(&c);
            let mut samples = Vec::with_capacity(2 * latency.len());
            for made in &latency {
                let start = Instant::now();
                a.engine.apply_commit(ADDER, made.cid, &made.blocks).expect("applies");
                samples.push(wait_for(&b, made.cid) - start);
                samples.push(wait_for(&c, made.cid) - start);
            }
            samples.sort();
            println!(
                "latency A -> B, C over {} updates: p50 {:.2?}, p99 {:.2?}, max {:.2?}",
                latency.len(),
                percentile(&samples, 50),
                percentile(&samples, 99),
                samples.last().expect("samples"),
            );

            // The burst spreads over 100 streams (all three nodes have their genesis), so that it
            // measures gossip and fetching rather than the cost of one ever longer log.
            let mut streams = Vec::new();
            for i in 0..100 {
                let (s, g) = genesis(&author, &format!("burst-{i}"), None, &[]);
                for node in [&a, &b, &c] {
                    node.engine.apply_commit(ADDER, g.cid, &g.blocks).expect("genesis");
                }
                streams.push(chain(&author, &s, g.cid, burst_n / 100));
            }
            let mut burst = Vec::new();
            for round in 0..burst_n / 100 {
                burst.extend(streams.iter().map(|updates| updates[round].clone()));
            }
            let last_tips: std::collections::HashSet<Cid> =
                streams.iter().filter_map(|updates| updates.last().map(|m| m.cid)).collect();
            std::thread::sleep(Duration::from_secs(2)); // let the genesis UPDATEs settle
            drain(&b);
            drain(&c);
            let start = Instant::now();
            for made in &burst {
                a.engine.apply_commit(ADDER, made.cid, &made.blocks).expect("applies");
            }
            let written = start.elapsed();
            let done = wait_all(&b, last_tips.clone()).max(wait_all(&c, last_tips)) - start;
            println!(
                "throughput: {} updates written on A in {written:.2?}, on B and C after {done:.2?}: {:.0} updates/s",
                burst.len(),
                burst.len() as f64 / done.as_secs_f64(),
            );
            let stats = (b.net.stats(), c.net.stats());
            println!("B: {:?}\nC: {:?}", stats.0, stats.1);
        })
        .await
        .expect("measures");
    });
}
