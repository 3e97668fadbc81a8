//! A small test doctype, builders for signed logs and anchors, and the two stores under test.
//! Also compiled into `tests/crash.rs` and `benches/store.rs` (through `#[path]`).

use std::sync::Arc;

use ceramic_did::KeySigner;
use ceramic_doctype::{Registry, StreamState};
use ceramic_engine::Engine;
use ceramic_engine::memory::{FakeAnchorVerifier, RecordingPublisher};
use ceramic_storage::Storage;
use ceramic_streamid::StreamId;

#[allow(unused_imports)] // each test binary that includes this file uses a different part
pub(crate) use ceramic_engine::test_utils::{
    ADDER, Adder, Made, add, anchor, anchor_pair, genesis, retag, signer,
};

/// An engine with the Adder doctype over `store`.
pub(crate) fn engine(store: Arc<dyn Storage>, chain: Arc<FakeAnchorVerifier>) -> Engine {
    let registry = Registry::new().with(Adder).expect("one doctype");
    Engine::new(store, registry, chain, Arc::new(RecordingPublisher::default()))
}

/// Writes a stream through `engine`: a genesis, then `commits` commits, every `anchor_every`-th
/// of them an anchor (0: none). Returns its StreamID and final state.
pub(crate) fn grow(
    engine: &Engine,
    chain: &FakeAnchorVerifier,
    author: &KeySigner,
    unique: &str,
    commits: usize,
    anchor_every: usize,
) -> (StreamId, StreamState) {
    let (stream, g) = genesis(author, unique, Some("family"), &["tag"]);
    let mut state = engine.apply_commit(ADDER, g.cid, &g.blocks).expect("genesis applies");
    for i in 1..=commits {
        let made = if anchor_every > 0 && i % anchor_every == 0 {
            anchor(chain, &stream, state.tip(), 1_000 + i as u64)
        } else {
            add(author, &stream, state.tip(), i as i64)
        };
        state = engine.apply_commit(ADDER, made.cid, &made.blocks).expect("commit applies");
    }
    (stream, state)
}

/// A seeded xorshift64* generator: deterministic randomized tests without a dependency.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value).
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// A number in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }

    /// True with probability `1/n`.
    pub(crate) fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}
