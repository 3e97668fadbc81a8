//! Connecting checks the chain id; a chain without a key verifies but cannot anchor.

use ceramic_anchor::{Chain, ChainError};
use ceramic_anchor_eth::test_utils::Anvil;
use ceramic_anchor_eth::{Config, Error, EthChain};
use ceramic_codecs::cid_of;

#[test]
fn connect_refuses_an_rpc_of_another_chain() {
    let anvil = Anvil::start();
    match EthChain::connect(Config::new(anvil.url(), 1)) {
        Err(Error::ChainIdMismatch { expected: 1, got: 1337 }) => {}
        other => panic!("{other:?}"),
    }
    assert!(EthChain::connect(Config::new(anvil.url(), 1337)).is_ok());
}

#[test]
fn a_chain_without_a_key_cannot_anchor() {
    let anvil = Anvil::start();
    let chain = EthChain::connect(Config::new(anvil.url(), Anvil::CHAIN_ID)).unwrap();
    assert_eq!(chain.sender(), None);
    assert_eq!(
        chain.anchor_root(&cid_of(0x71, b"root")),
        Err(ChainError::NoSigner("eip155:1337".into()))
    );
    let v0 = EthChain::connect(Config::new(anvil.url(), Anvil::CHAIN_ID).v0()).unwrap();
    assert_eq!(
        v0.anchor_root(&cid_of(0x71, b"root")),
        Err(ChainError::NoSigner("eip155:1337".into()))
    );
}

#[test]
fn a_v1_chain_refuses_roots_it_cannot_carry() {
    let anvil = Anvil::start();
    let chain = EthChain::connect(anvil.config()).unwrap();
    let jose = cid_of(0x85, b"not dag-cbor");
    assert_eq!(chain.anchor_root(&jose), Err(ChainError::UnsupportedRoot(Box::new(jose))));
}
