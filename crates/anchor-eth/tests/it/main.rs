//! Integration tests of `ceramic-anchor-eth` through its public API, all against a real anvil
//! (`tools/anvil/`, installed by `cargo xtask tools`): anchoring batches and verifying their
//! witnesses, the rules a proof must meet, and connecting.

mod anchoring;
mod connect;
mod rules;
mod vectors;

use ceramic_anchor::{Batch, Request};
use ceramic_codecs::cid_of;

/// A batch of `n` requests with distinct tips (dag-jose tips, dag-cbor geneses), made
/// distinct across batches by `salt`.
pub(crate) fn batch(n: u16, salt: u8) -> Batch {
    let requests = (0..n)
        .map(|i| {
            let [a, b] = i.to_be_bytes();
            Request { genesis: cid_of(0x71, &[salt, a, b]), tip: cid_of(0x85, &[salt, a, b, 1]) }
        })
        .collect();
    Batch::new(requests).expect("a batch of at least one request")
}
