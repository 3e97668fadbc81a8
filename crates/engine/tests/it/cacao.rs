//! The engine with the real Tile doctype on commits written through CACAO sessions by the real
//! `did-session` (`crates/did/testdata/js-cacao.json`): Ethereum and Solana sessions write
//! Tiles controlled by the wallet's did:pkh; expired, wrong-audience, wrong-resource and
//! tampered sessions are refused with their typed error and store nothing.

use std::sync::Arc;

use ceramic_codecs::{Cid, read_car};
use ceramic_did::CacaoError;
use ceramic_doctype::Registry;
use ceramic_doctype_tile::Tile;
use ceramic_engine::memory::{FakeAnchorVerifier, RecordingPublisher};
use ceramic_engine::{ApplyError, Engine};
use ceramic_storage::MemoryStorage;
use ceramic_streamid::{StreamId, StreamType};
use serde_json::Value;

fn engine() -> Engine {
    Engine::new(
        Arc::new(MemoryStorage::new()),
        Registry::new().with(Tile::new()).unwrap(),
        Arc::new(FakeAnchorVerifier::default()),
        Arc::new(RecordingPublisher::default()),
    )
}

fn cases() -> Vec<Value> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../did");
    ceramic_streamid::test_utils::load_vectors(dir, "js-cacao.json")
}

fn case(name: &str) -> Value {
    cases().into_iter().find(|c| c["name"] == name).unwrap()
}

fn apply(engine: &Engine, commit: &Value) -> Result<ceramic_doctype::StreamState, ApplyError> {
    let car = read_car(&hex::decode(commit["car_hex"].as_str().unwrap()).unwrap()).unwrap();
    engine.apply_commit(StreamType::TILE, car.roots[0], &car.blocks)
}

fn stream(commit: &Value) -> StreamId {
    commit["stream_id"].as_str().unwrap().parse().unwrap()
}

#[test]
fn wallet_sessions_write_tiles_their_did_pkh_controls() {
    for name in ["ethereum-session", "solana-session", "ethereum-lowercase-message"] {
        let engine = engine();
        let case = case(name);
        let commits = case["commits"].as_array().unwrap();
        let mut state = None;
        for commit in commits {
            state = Some(apply(&engine, commit).unwrap_or_else(|e| panic!("{name}: {e}")));
        }
        let state = state.unwrap();
        assert_eq!(state.log().len(), commits.len(), "{name}");
        assert_eq!(
            state.metadata()["controllers"],
            serde_json::json!([case["controller"]]),
            "{name}"
        );
        // The CACAO block is stored with the commit: the stream loads again from the store.
        let loaded = engine.load(&stream(&commits[0])).unwrap();
        assert_eq!(loaded.tip(), state.tip());
    }
}

#[test]
fn a_session_scoped_to_one_stream_updates_that_stream() {
    let engine = engine();
    for commit in case("ethereum-session")["commits"].as_array().unwrap() {
        apply(&engine, commit).unwrap();
    }
    let update = &case("ethereum-stream-resource")["commits"][0];
    let state = apply(&engine, update).unwrap();
    assert_eq!(state.current_content()["title"], "by a stream-scoped session");
}

#[test]
fn bad_sessions_are_refused_and_change_nothing() {
    for (name, want) in [
        ("expired", "expired"),
        ("wrong-audience", "audience"),
        ("wrong-resource", "resource"),
        ("tampered-signature", "signature"),
        ("solana-tampered-signature", "signature"),
    ] {
        let engine = engine();
        let commit = &case(name)["commits"][0];
        let err = apply(&engine, commit).unwrap_err();
        let ApplyError::Signature { source: ceramic_did::Error::Cacao(cacao), .. } = &err else {
            panic!("{name}: {err}")
        };
        let ok = match want {
            "expired" => matches!(cacao, CacaoError::Expired { .. }),
            "audience" => matches!(cacao, CacaoError::WrongAudience { .. }),
            "resource" => matches!(cacao, CacaoError::ResourceNotCovered { .. }),
            _ => matches!(cacao, CacaoError::BadSignature { .. }),
        };
        assert!(ok, "{name}: {cacao:?}");
        assert!(engine.load(&stream(commit)).is_err(), "{name}: nothing stored");
    }
}

#[test]
fn a_commit_without_its_cacao_block_is_refused() {
    let engine = engine();
    let commit = &case("ethereum-session")["commits"][0];
    let car = read_car(&hex::decode(commit["car_hex"].as_str().unwrap()).unwrap()).unwrap();
    let cacao: Cid = commit["cacao_cid"].as_str().unwrap().parse().unwrap();
    let blocks: Vec<_> = car.blocks.into_iter().filter(|b| *b.cid() != cacao).collect();
    let err = engine.apply_commit(StreamType::TILE, car.roots[0], &blocks).unwrap_err();
    assert!(matches!(&err, ApplyError::MissingBlock(c) if **c == cacao), "{err}");
}
