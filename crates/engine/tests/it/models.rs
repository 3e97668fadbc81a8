//! The engine with the real Model and ModelInstanceDocument doctypes on signed commits: a Model
//! then documents of it, through `apply_commit` on the in-memory store. The MID doctype loads
//! its Model and related documents through the engine's `Context::load_state`. A refused
//! commit stores nothing.

use std::sync::Arc;

use ceramic_codecs::{Block, Codec, DataCommit, GenesisCommit, Header, Payload, Unique};
use ceramic_did::Signer as _;
use ceramic_doctype::{Registry, json_to_ipld};
use ceramic_doctype_mid::ModelInstanceDocument;
use ceramic_doctype_model::{META_MODEL, Model};
use ceramic_engine::memory::{FakeAnchorVerifier, RecordingPublisher};
use ceramic_engine::test_utils::{Made, signed, signer};
use ceramic_engine::{ApplyError, Engine};
use ceramic_storage::MemoryStorage;
use ceramic_streamid::{StreamId, StreamType};
use serde_json::{Value, json};

fn engine() -> Engine {
    let registry = Registry::new().with(Model).unwrap().with(ModelInstanceDocument::new()).unwrap();
    Engine::new(
        Arc::new(MemoryStorage::new()),
        registry,
        Arc::new(FakeAnchorVerifier::default()),
        Arc::new(RecordingPublisher::default()),
    )
}

fn model_payload(did: &str, definition: Value) -> Payload {
    Payload::Genesis(GenesisCommit {
        header: Header {
            controllers: Some(vec![did.into()]),
            model: Some(META_MODEL.to_vec().into()),
            sep: Some("model".into()),
            ..Header::default()
        },
        data: Some(json_to_ipld(&definition).unwrap()),
    })
}

fn definition(relation: &str, relations: Value) -> Value {
    json!({
        "version": "2.0", "name": "Post", "interface": false, "implements": [],
        "accountRelation": {"type": relation},
        "schema": {"type": "object", "additionalProperties": false, "required": ["title"],
            "properties": {"title": {"type": "string", "maxLength": 20}, "link": {"type": "string"}}},
        "relations": relations
    })
}

fn mid_payload(
    did: &str,
    model: &StreamId,
    unique: Option<&[u8]>,
    content: Option<Value>,
) -> Payload {
    Payload::Genesis(GenesisCommit {
        header: Header {
            controllers: Some(vec![did.into()]),
            model: Some(model.to_bytes().into()),
            sep: Some("model".into()),
            unique: unique.map(|u| Unique::Bytes(u.to_vec())),
            ..Header::default()
        },
        data: content.map(|c| json_to_ipld(&c).unwrap()),
    })
}

fn create(engine: &Engine, stream_type: StreamType, made: &Made) -> Result<StreamId, ApplyError> {
    engine.apply_commit(stream_type, made.cid, &made.blocks)?;
    Ok(StreamId::new(stream_type, made.cid).unwrap())
}

fn mid_error(err: &ApplyError) -> &ceramic_doctype_mid::Error {
    let ApplyError::Rejected { source, .. } = err else { panic!("not a doctype refusal: {err}") };
    source.downcast_ref::<ceramic_doctype_mid::Error>().unwrap_or_else(|| panic!("{err}"))
}

#[test]
fn models_and_documents_through_the_engine() {
    let engine = engine();
    let alice = signer(1);
    let did = alice.did();
    let model = create(
        &engine,
        StreamType::MODEL,
        &signed(&alice, model_payload(did, definition("list", json!({})))),
    )
    .unwrap();
    let state = engine.load(&model).unwrap();
    assert_eq!(
        state.to_js_json()["metadata"],
        json!({"controllers": [did], "model": "kh4q0ozorrgaq2mezktnrmdwleo1d"})
    );

    // A document, then an update.
    let made =
        signed(&alice, mid_payload(did, &model, Some(&[1; 12]), Some(json!({"title": "hello"}))));
    let doc = create(&engine, StreamType::MID, &made).unwrap();
    let patch = json!([{"op": "replace", "path": "/title", "value": "edited"}]);
    let update = DataCommit {
        id: doc.cid(),
        prev: made.cid,
        header: None,
        data: Some(json_to_ipld(&patch).unwrap()),
    };
    let up = signed(&alice, update.into());
    engine.apply_commit(StreamType::MID, up.cid, &up.blocks).unwrap();
    let state = engine.load(&doc).unwrap();
    assert_eq!(state.current_content(), &json!({"title": "edited"}));
    assert_eq!(state.to_js_json()["metadata"]["model"], json!(model.to_string()));

    // Content that breaks the schema: refused, nothing stored.
    let bad = signed(&alice, mid_payload(did, &model, Some(&[2; 12]), Some(json!({"title": 7}))));
    let err = create(&engine, StreamType::MID, &bad).unwrap_err();
    assert!(matches!(mid_error(&err), ceramic_doctype_mid::Error::SchemaViolation { .. }), "{err}");
    assert!(engine.load(&StreamId::new(StreamType::MID, bad.cid).unwrap()).is_err());

    // A model this node does not hold.
    let unknown =
        StreamId::new(StreamType::MODEL, ceramic_codecs::cid_of(0x71, b"unknown")).unwrap();
    let orphan =
        signed(&alice, mid_payload(did, &unknown, Some(&[3; 12]), Some(json!({"title": "x"}))));
    let err = create(&engine, StreamType::MID, &orphan).unwrap_err();
    assert!(
        matches!(mid_error(&err), ceramic_doctype_mid::Error::ModelNotFound(id) if *id == unknown)
    );

    // Models never change.
    let data = DataCommit {
        id: model.cid(),
        prev: model.cid(),
        header: None,
        data: Some(json_to_ipld(&json!([])).unwrap()),
    };
    let change = signed(&alice, data.into());
    let err = engine.apply_commit(StreamType::MODEL, change.cid, &change.blocks).unwrap_err();
    let ApplyError::Rejected { source, .. } = &err else { panic!("{err}") };
    assert!(matches!(
        source.downcast_ref::<ceramic_doctype_model::Error>(),
        Some(ceramic_doctype_model::Error::Immutable)
    ));
}

#[test]
fn deterministic_documents_and_relations_through_the_engine() {
    let engine = engine();
    let alice = signer(2);
    let did = alice.did();
    let posts = create(
        &engine,
        StreamType::MODEL,
        &signed(&alice, model_payload(did, definition("list", json!({})))),
    )
    .unwrap();
    let profile_def =
        definition("single", json!({"link": {"type": "document", "model": posts.to_string()}}));
    let profiles =
        create(&engine, StreamType::MODEL, &signed(&alice, model_payload(did, profile_def)))
            .unwrap();

    // The single document: an unsigned genesis, the same for every writer of this account.
    let genesis = Block::encode(Codec::DagCbor, &mid_payload(did, &profiles, None, None)).unwrap();
    engine.apply_commit(StreamType::MID, *genesis.cid(), std::slice::from_ref(&genesis)).unwrap();
    let profile = StreamId::new(StreamType::MID, *genesis.cid()).unwrap();

    // A post to link to, and a profile (of the wrong model) to link to wrongly.
    let post_made =
        signed(&alice, mid_payload(did, &posts, Some(&[9; 12]), Some(json!({"title": "p"}))));
    let post = create(&engine, StreamType::MID, &post_made).unwrap();

    let write = |patch: Value| {
        let prev = engine.load(&profile).unwrap().tip();
        let d = DataCommit {
            id: profile.cid(),
            prev,
            header: None,
            data: Some(json_to_ipld(&patch).unwrap()),
        };
        let made = signed(&alice, d.into());
        engine.apply_commit(StreamType::MID, made.cid, &made.blocks)
    };
    let err = write(json!([{"op": "add", "path": "/title", "value": "me"}, {"op": "add", "path": "/link", "value": profile.to_string()}]))
        .unwrap_err();
    assert!(
        matches!(mid_error(&err), ceramic_doctype_mid::Error::WrongRelationModel { .. }),
        "{err}"
    );
    assert_eq!(engine.load(&profile).unwrap().log().len(), 1, "nothing stored");
    write(json!([{"op": "add", "path": "/title", "value": "me"}, {"op": "add", "path": "/link", "value": post.to_string()}]))
        .unwrap();
    assert_eq!(engine.load(&profile).unwrap().current_content()["link"], json!(post.to_string()));

    // A second single document with a unique: refused.
    let second = signed(&alice, mid_payload(did, &profiles, Some(&[1; 12]), None));
    let err = create(&engine, StreamType::MID, &second).unwrap_err();
    assert!(matches!(mid_error(&err), ceramic_doctype_mid::Error::UniqueForSingle), "{err}");
}
