//! The engine with the real Tile doctype on the commits the JavaScript libraries made
//! (`crates/did/testdata/js-tile.json`): they load from their blocks to the content JS wrote,
//! and damaged copies are refused for their own reasons.

use std::sync::Arc;

use ceramic_codecs::{Block, Cid};
use ceramic_doctype::Registry;
use ceramic_doctype_tile::Tile;
use ceramic_engine::memory::{FakeAnchorVerifier, RecordingPublisher};
use ceramic_engine::{ApplyError, Engine, TipOutcome};
use ceramic_storage::{MapSource, MemoryStorage};
use ceramic_streamid::{StreamId, StreamType};
use serde_json::Value;

fn engine() -> Engine {
    let registry = Registry::new().with(Tile::new()).unwrap();
    Engine::new(
        Arc::new(MemoryStorage::new()),
        registry,
        Arc::new(FakeAnchorVerifier::default()),
        Arc::new(RecordingPublisher::default()),
    )
}

struct JsCommit {
    envelope: Block,
    payload: Block,
    content_after: Value,
}

/// The cases, and whether each names a schema (whose stream the vectors do not hold).
fn js_cases() -> Vec<(String, Vec<JsCommit>)> {
    js_cases_with_schema()
        .into_iter()
        .filter(|(_, _, schema)| !schema)
        .map(|(n, c, _)| (n, c))
        .collect()
}

fn js_cases_with_schema() -> Vec<(String, Vec<JsCommit>, bool)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../did");
    ceramic_streamid::test_utils::load_vectors(dir, "js-tile.json")
        .into_iter()
        .map(|case| {
            let name = case["name"].as_str().unwrap().to_string();
            let schema = case["input"]["metadata"]["schema"].is_string();
            let exp = &case["expected"];
            let mut contents = vec![case["input"]["content"].clone()];
            contents.extend(
                case["input"]["updates"].as_array().unwrap().iter().map(|u| u["content"].clone()),
            );
            let commits = std::iter::once(&exp["genesis"])
                .chain(exp["updates"].as_array().unwrap())
                .zip(contents)
                .map(|(c, content_after)| {
                    let block = |cid: &str, hex: &str| {
                        Block::new(cid.parse::<Cid>().unwrap(), hex::decode(hex).unwrap()).unwrap()
                    };
                    JsCommit {
                        envelope: block(
                            c["envelope_cid"].as_str().unwrap(),
                            c["envelope_hex"].as_str().unwrap(),
                        ),
                        payload: block(
                            c["payload_cid"].as_str().unwrap(),
                            c["payload_hex"].as_str().unwrap(),
                        ),
                        content_after,
                    }
                })
                .collect();
            (name, commits, schema)
        })
        .collect()
}

#[test]
fn js_made_tiles_load_to_the_content_js_wrote() {
    let cases = js_cases();
    assert!(cases.len() >= 5);
    for (name, commits) in cases {
        // As client writes, one commit at a time.
        let by_writes = engine();
        for (i, c) in commits.iter().enumerate() {
            let state = by_writes
                .apply_commit(
                    StreamType::TILE,
                    *c.envelope.cid(),
                    &[c.envelope.clone(), c.payload.clone()],
                )
                .unwrap_or_else(|e| panic!("{name} commit {i}: {e}"));
            assert_eq!(state.current_content(), &c.content_after, "{name} commit {i}");
        }
        // As a network tip on a node that never saw the stream.
        let stream = StreamId::new(StreamType::TILE, *commits[0].envelope.cid()).unwrap();
        let mut peer = MapSource::default();
        for c in &commits {
            peer.extend([&c.envelope, &c.payload]);
        }
        let tip = *commits.last().unwrap().envelope.cid();
        let TipOutcome::Created(state) = engine().handle_tip(&stream, tip, &peer).unwrap() else {
            panic!("{name}: not created")
        };
        assert_eq!(state, by_writes.load(&stream).unwrap(), "{name}");
    }
}

#[test]
fn js_updates_applied_out_of_order_or_to_another_stream_are_refused() {
    let cases = js_cases();
    let (name, commits) = &cases[0];
    let (_, other) = &cases[1];
    let e = engine();
    let write = |c: &JsCommit| {
        e.apply_commit(
            StreamType::TILE,
            *c.envelope.cid(),
            &[c.envelope.clone(), c.payload.clone()],
        )
    };
    write(&commits[0]).unwrap();
    // The second update before the first: it does not build on the tip.
    let err = write(&commits[2]).unwrap_err();
    assert!(matches!(err, ApplyError::Stale { .. }), "{name}: {err}");
    // Another stream's update, whose stream this node does not have.
    assert!(matches!(write(&other[1]).unwrap_err(), ApplyError::NotFound(_)), "{name}");
    // Nothing changed.
    let stream = StreamId::new(StreamType::TILE, *commits[0].envelope.cid()).unwrap();
    assert_eq!(e.load(&stream).unwrap().log().len(), 1);
}

#[test]
fn a_tile_whose_schema_cannot_be_loaded_is_refused() {
    let with_schema: Vec<_> = js_cases_with_schema().into_iter().filter(|(_, _, s)| *s).collect();
    assert!(!with_schema.is_empty());
    for (name, commits, _) in with_schema {
        let c = &commits[0];
        let err = engine()
            .apply_commit(
                StreamType::TILE,
                *c.envelope.cid(),
                &[c.envelope.clone(), c.payload.clone()],
            )
            .unwrap_err();
        let ApplyError::Rejected { source, .. } = &err else { panic!("{name}: {err}") };
        assert!(
            matches!(
                source.downcast_ref::<ceramic_doctype_tile::Error>(),
                Some(ceramic_doctype_tile::Error::SchemaUnavailable { .. })
            ),
            "{name}: {err}"
        );
    }
}

/// Signs `payload` with `signer` and writes it to `engine`.
fn write_signed(
    engine: &Engine,
    signer: &ceramic_did::KeySigner,
    payload: &ceramic_codecs::Payload,
) -> Result<ceramic_doctype::StreamState, ApplyError> {
    let signed = ceramic_did::sign_commit(signer, payload).unwrap();
    let blocks = [signed.envelope_block().clone(), signed.payload_block().clone()];
    engine.apply_commit(StreamType::TILE, *signed.envelope_block().cid(), &blocks)
}

#[test]
fn a_tile_whose_content_matches_its_stored_schema_is_accepted_and_one_that_breaks_it_refused() {
    use ceramic_did::Signer as _;
    use ceramic_doctype_tile::{GenesisOptions, genesis_payload, update_payload};
    use serde_json::json;

    let e = engine();
    let signer =
        ceramic_did::KeySigner::from_seed(ceramic_did::KeyType::Ed25519, &[3; 32]).unwrap();
    let did = signer.did().to_string();
    let options = |unique: &str, schema| GenesisOptions {
        unique: Some(unique.into()),
        schema,
        ..GenesisOptions::default()
    };
    // The schema is itself a Tile, loaded by the engine from its store.
    let schema = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {"title": {"type": "string"}, "n": {"type": "integer", "minimum": 0}},
        "required": ["title"],
        "additionalProperties": false
    });
    let payload = genesis_payload(&did, Some(&schema), &options("schema", None)).unwrap();
    let schema_state = write_signed(&e, &signer, &payload).unwrap();
    let schema_commit = schema_state.stream_id().genesis_commit_id();
    let schema_id = Some(schema_commit);

    // Matching content: accepted, at genesis and on update.
    let good = json!({"title": "ok", "n": 1});
    let payload = genesis_payload(&did, Some(&good), &options("good", schema_id)).unwrap();
    let state = write_signed(&e, &signer, &payload).unwrap();
    assert_eq!(state.current_content(), &good);
    let next = json!({"title": "still ok", "n": 2});
    let state = write_signed(&e, &signer, &update_payload(&state, &next).unwrap()).unwrap();
    assert_eq!(state.current_content(), &next);
    assert_eq!(e.load(&state.stream_id()).unwrap().log().len(), 2);

    // Breaking content: refused with the schema's errors, at genesis and on update.
    let refused = |err: ApplyError| {
        let ApplyError::Rejected { source, .. } = &err else { panic!("{err}") };
        match source.downcast_ref::<ceramic_doctype_tile::Error>() {
            Some(ceramic_doctype_tile::Error::SchemaViolation { schema, errors }) => {
                assert_eq!(*schema, schema_commit.to_string());
                assert!(!errors.is_empty());
            }
            _ => panic!("not a schema violation: {err}"),
        }
    };
    let bad = json!({"n": -1, "extra": true});
    let payload = genesis_payload(&did, Some(&bad), &options("bad", schema_id)).unwrap();
    refused(write_signed(&e, &signer, &payload).unwrap_err());
    let payload = update_payload(&state, &json!({"title": 5})).unwrap();
    refused(write_signed(&e, &signer, &payload).unwrap_err());
    // Nothing of the refused writes was kept.
    assert_eq!(e.load(&state.stream_id()).unwrap().log().len(), 2);
}
