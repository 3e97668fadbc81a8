//! One refusal per rule, with the typed error; the js state shape; dimensions.

use std::collections::HashMap;

use ceramic_codecs::{Block, Codec, DataCommit, GenesisCommit, Header, Payload, Unique};
use ceramic_doctype::{Commit, Context, ContextError, Doctype, StreamState, json_to_ipld};
use ceramic_doctype_model::{META_MODEL, Model, meta_model};
use ceramic_streamid::{CommitId, StreamId, StreamType};
use serde_json::{Value, json};

use crate::{Error, MAX_CONTENT_BYTES, ModelInstanceDocument, dimensions};

const ALICE: &str = "did:key:z6MkAlice";
const BOB: &str = "did:key:z6MkBob";

#[derive(Default)]
struct Streams(HashMap<StreamId, StreamState>);

impl Context for Streams {
    fn load_content(&self, id: &CommitId) -> Result<Value, ContextError> {
        Err(ContextError::NotFound(*id))
    }
    fn load_state(&self, stream: &StreamId) -> Result<Option<StreamState>, ContextError> {
        Ok(self.0.get(stream).cloned())
    }
}

impl Streams {
    fn add(&mut self, state: &StreamState) -> StreamId {
        self.0.insert(state.stream_id(), state.clone());
        state.stream_id()
    }
}

fn commit_of(payload: &Payload) -> ceramic_codecs::Cid {
    // Content over the block limit never arrives in one block (codecs refuse it), but it can be
    // reached by updates; the doctype is handed the commit with a stand-in CID here.
    Block::encode(Codec::DagCbor, payload)
        .map_or_else(|_| ceramic_codecs::cid_of(0x71, b"over the block limit"), |b| *b.cid())
}

/// A Model from `definition`, stored in `ctx`.
fn model(ctx: &mut Streams, definition: Value) -> StreamId {
    let payload = Payload::Genesis(GenesisCommit {
        header: Header {
            controllers: Some(vec![ALICE.into()]),
            model: Some(META_MODEL.to_vec().into()),
            sep: Some("model".into()),
            ..Header::default()
        },
        data: Some(json_to_ipld(&definition).unwrap()),
    });
    let cid = commit_of(&payload);
    let commit =
        Commit { cid, payload: &payload, signer: Some(ALICE), capability: None, timestamp: None };
    let genesis = Model.apply_genesis(&commit, ctx).unwrap();
    let state =
        StreamState::from_genesis(StreamId::new(StreamType::MODEL, cid).unwrap(), None, genesis);
    ctx.add(&state)
}

fn definition(relation: Value, extra: Value) -> Value {
    let mut d = json!({
        "version": "2.0",
        "name": "Post",
        "interface": false,
        "implements": [],
        "schema": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "title": {"type": "string", "maxLength": 100},
                "tag": {"type": "string"},
                "n": {"type": "integer"},
                "at": {"type": "string", "format": "date-time"},
                "body": {"type": "string"},
                "link": {"type": "string"}
            },
            "required": ["title"]
        },
        "accountRelation": relation
    });
    for (k, v) in extra.as_object().unwrap() {
        d[k] = v.clone();
    }
    d
}

fn list_model(ctx: &mut Streams) -> StreamId {
    model(ctx, definition(json!({"type": "list"}), json!({"immutableFields": ["tag"]})))
}

fn header(model: &StreamId, unique: Option<&[u8]>) -> Header {
    Header {
        controllers: Some(vec![ALICE.into()]),
        model: Some(model.to_bytes().into()),
        sep: Some("model".into()),
        unique: unique.map(|u| Unique::Bytes(u.to_vec())),
        ..Header::default()
    }
}

fn genesis(
    mid: &ModelInstanceDocument,
    ctx: &Streams,
    header: Header,
    content: Option<Value>,
    signer: Option<&str>,
) -> Result<StreamState, Error> {
    let payload = Payload::Genesis(GenesisCommit {
        header,
        data: content.map(|c| json_to_ipld(&c).unwrap()),
    });
    let cid = commit_of(&payload);
    let commit = Commit { cid, payload: &payload, signer, capability: None, timestamp: None };
    let genesis = mid.apply_genesis(&commit, ctx)?;
    Ok(StreamState::from_genesis(StreamId::new(StreamType::MID, cid).unwrap(), None, genesis))
}

fn update(
    mid: &ModelInstanceDocument,
    ctx: &Streams,
    state: &StreamState,
    patch: Value,
    header: Option<Header>,
    signer: Option<&str>,
) -> Result<StreamState, Error> {
    let payload = Payload::Data(DataCommit {
        id: state.stream_id().cid(),
        prev: state.tip(),
        header,
        data: Some(json_to_ipld(&patch).unwrap()),
    });
    let cid = commit_of(&payload);
    let commit = Commit { cid, payload: &payload, signer, capability: None, timestamp: None };
    let change = mid.apply_data(state, &commit, ctx)?;
    Ok(state.with_change(cid, None, change))
}

const UNIQUE: &[u8] = &[7; 12];

#[test]
fn list_documents_and_their_js_state() {
    let mut ctx = Streams::default();
    let m = list_model(&mut ctx);
    let mid = ModelInstanceDocument::new();
    let doc =
        genesis(&mid, &ctx, header(&m, Some(UNIQUE)), Some(json!({"title": "hi"})), Some(ALICE))
            .unwrap();
    let js = doc.to_js_json();
    assert_eq!(
        js["metadata"],
        json!({"controllers": [ALICE], "model": m.to_string(), "unique": "BwcHBwcHBwcHBwcH"})
    );
    assert_eq!(js["content"], json!({"title": "hi"}));
    assert_eq!(js["type"], json!(3));
    assert_eq!(js["signature"], json!(2));
    let doc = update(
        &mid,
        &ctx,
        &doc,
        json!([{"op": "add", "path": "/n", "value": 3}]),
        None,
        Some(ALICE),
    )
    .unwrap();
    assert_eq!(doc.current_content(), &json!({"title": "hi", "n": 3}));
    // One Model compiled once for both commits.
    assert_eq!(mid.cached_models(), 1);
}

#[test]
fn genesis_header_rules() {
    let mut ctx = Streams::default();
    let m = list_model(&mut ctx);
    let mid = ModelInstanceDocument::new();
    let content = || Some(json!({"title": "hi"}));
    let g = |h: Header, signer| genesis(&mid, &ctx, h, content(), signer);
    let mut h = header(&m, Some(UNIQUE));
    h.controllers = Some(vec![ALICE.into(), BOB.into()]);
    assert!(matches!(g(h, Some(ALICE)), Err(Error::ControllerCount(2))));
    let mut h = header(&m, Some(UNIQUE));
    h.controllers = Some(vec!["alice".into()]);
    assert!(matches!(g(h, Some(ALICE)), Err(Error::ControllerNotDid(_))));
    assert!(matches!(g(header(&m, Some(UNIQUE)), Some(BOB)), Err(Error::NotController { .. })));
    assert!(matches!(g(header(&m, Some(UNIQUE)), None), Err(Error::Unsigned)));
    let mut h = header(&m, Some(UNIQUE));
    h.model = Some(vec![1, 2, 3].into());
    assert!(matches!(g(h, Some(ALICE)), Err(Error::InvalidModel)));
    let tile = StreamId::new(StreamType::TILE, m.cid()).unwrap();
    assert!(matches!(g(header(&tile, Some(UNIQUE)), Some(ALICE)), Err(Error::NotAModel(_))));
    let unknown = StreamId::new(StreamType::MODEL, ceramic_codecs::cid_of(0x71, b"nope")).unwrap();
    assert!(matches!(
        g(header(&unknown, Some(UNIQUE)), Some(ALICE)),
        Err(Error::ModelNotFound(id)) if id == unknown
    ));
    let mut h = header(&m, Some(UNIQUE));
    h.sep = Some("other".into());
    assert!(matches!(g(h, Some(ALICE)), Err(Error::WrongSeparator(_))));
    let mut h = header(&m, Some(UNIQUE));
    h.family = Some("f".into());
    assert!(matches!(g(h, Some(ALICE)), Err(Error::ForbiddenHeader("family"))));
    let mut h = header(&m, None);
    h.unique = Some(Unique::Text("abc".into()));
    assert!(matches!(g(h, Some(ALICE)), Err(Error::UniqueNotBytes)));
    let mut h = header(&m, Some(UNIQUE));
    h.context = Some(vec![9].into());
    assert!(matches!(g(h, Some(ALICE)), Err(Error::InvalidContext)));
    let mut h = header(&m, Some(UNIQUE));
    h.context = Some(m.to_bytes().into());
    let doc = g(h, Some(ALICE)).unwrap();
    assert_eq!(doc.metadata()["context"], json!(m.to_string()));
}

#[test]
fn account_relation_rules() {
    let mut ctx = Streams::default();
    let list = list_model(&mut ctx);
    let single = model(&mut ctx, definition(json!({"type": "single"}), json!({})));
    let set = model(&mut ctx, definition(json!({"type": "set", "fields": ["title"]}), json!({})));
    let mid = ModelInstanceDocument::new();
    let g = |h: Header, c: Option<Value>| genesis(&mid, &ctx, h, c, Some(ALICE));
    assert!(matches!(
        g(header(&list, None), Some(json!({"title": "x"}))),
        Err(Error::MissingUnique("LIST"))
    ));
    assert!(matches!(
        g(header(&list, Some(&[])), Some(json!({"title": "x"}))),
        Err(Error::MissingUnique("LIST"))
    ));
    assert!(matches!(g(header(&single, Some(UNIQUE)), None), Err(Error::UniqueForSingle)));
    assert!(matches!(
        g(header(&single, None), Some(json!({"title": "x"}))),
        Err(Error::DeterministicContent("single"))
    ));
    assert!(matches!(g(header(&set, None), None), Err(Error::MissingUnique("SET"))));
    assert!(matches!(
        g(header(&set, Some(b"a")), Some(json!({"title": "a"}))),
        Err(Error::DeterministicContent("set"))
    ));
    // The deterministic genesis needs no signature.
    let doc = genesis(&mid, &ctx, header(&single, None), None, None).unwrap();
    assert_eq!(doc.content(), &Value::Null);
    let doc = update(
        &mid,
        &ctx,
        &doc,
        json!([{"op": "add", "path": "/title", "value": "x"}]),
        None,
        Some(ALICE),
    )
    .unwrap();
    assert_eq!(doc.current_content(), &json!({"title": "x"}));
    // set: the content must give the genesis unique.
    let doc = g(header(&set, Some(b"a")), None).unwrap();
    let wrong = json!([{"op": "add", "path": "/title", "value": "b"}]);
    assert!(matches!(
        update(&mid, &ctx, &doc, wrong, None, Some(ALICE)),
        Err(Error::UniqueMismatch { expected, found }) if expected == "a" && found == "b"
    ));
    let doc = update(
        &mid,
        &ctx,
        &doc,
        json!([{"op": "add", "path": "/title", "value": "a"}]),
        None,
        Some(ALICE),
    )
    .unwrap();
    assert!(matches!(
        update(
            &mid,
            &ctx,
            &doc,
            json!([{"op": "replace", "path": "/title", "value": "c"}]),
            None,
            Some(ALICE)
        ),
        Err(Error::UniqueMismatch { .. })
    ));
}

#[test]
fn interface_models_have_no_instances() {
    let mut ctx = Streams::default();
    let iface = model(&mut ctx, definition(json!({"type": "list"}), json!({"interface": true})));
    let mid = ModelInstanceDocument::new();
    assert!(matches!(
        genesis(&mid, &ctx, header(&iface, Some(UNIQUE)), Some(json!({"title": "x"})), Some(ALICE)),
        Err(Error::InterfaceModel(id)) if id == iface
    ));
}

#[test]
fn content_rules() {
    let mut ctx = Streams::default();
    let m = list_model(&mut ctx);
    let mid = ModelInstanceDocument::new();
    let g = |c: Value| genesis(&mid, &ctx, header(&m, Some(UNIQUE)), Some(c), Some(ALICE));
    assert!(matches!(g(json!({"title": 3})), Err(Error::SchemaViolation { .. })));
    assert!(matches!(g(json!({"title": "x", "extra": 1})), Err(Error::SchemaViolation { .. })));
    assert!(matches!(g(json!({"n": 1})), Err(Error::SchemaViolation { .. })));
    assert!(matches!(
        g(json!({"title": "x", "at": "yesterday"})),
        Err(Error::SchemaViolation { .. })
    ));
    g(json!({"title": "x", "at": "2024-01-02T03:04:05Z"})).unwrap();
    // A list document without content is not an object: js validates `null` and fails too.
    assert!(matches!(
        genesis(&mid, &ctx, header(&m, Some(UNIQUE)), None, Some(ALICE)),
        Err(Error::SchemaViolation { .. })
    ));
    // 16,000,000 bytes of JSON text at most.
    let body = "x".repeat(MAX_CONTENT_BYTES);
    assert!(matches!(
        g(json!({"title": "x", "body": body})),
        Err(Error::TooLarge { max: MAX_CONTENT_BYTES, .. })
    ));
    let fits = "x".repeat(MAX_CONTENT_BYTES - r#"{"title":"x","body":""}"#.len());
    g(json!({"title": "x", "body": fits})).unwrap();
}

#[test]
fn relation_rules() {
    let mut ctx = Streams::default();
    let target_model = list_model(&mut ctx);
    let other_model =
        model(&mut ctx, definition(json!({"type": "list"}), json!({"name": "Other"})));
    let iface = model(
        &mut ctx,
        definition(json!({"type": "list"}), json!({"interface": true, "name": "I"})),
    );
    let implementing = model(
        &mut ctx,
        definition(
            json!({"type": "list"}),
            json!({"implements": [iface.to_string()], "name": "Impl"}),
        ),
    );
    let mid = ModelInstanceDocument::new();
    let make = |ctx: &mut Streams, m: &StreamId| {
        let doc =
            genesis(&mid, ctx, header(m, Some(UNIQUE)), Some(json!({"title": "t"})), Some(ALICE))
                .unwrap();
        ctx.add(&doc)
    };
    let target = make(&mut ctx, &target_model);
    let other = make(&mut ctx, &other_model);
    let impl_doc = make(&mut ctx, &implementing);
    let linking = model(
        &mut ctx,
        definition(
            json!({"type": "list"}),
            json!({"relations": {
                "link": {"type": "document", "model": target_model.to_string()},
                "tag": {"type": "document", "model": iface.to_string()},
                "body": {"type": "document", "model": null}
            }}),
        ),
    );
    let g = |c: Value| genesis(&mid, &ctx, header(&linking, Some(UNIQUE)), Some(c), Some(ALICE));
    g(json!({"title": "x", "link": target.to_string()})).unwrap();
    g(json!({"title": "x", "tag": impl_doc.to_string(), "body": other.to_string()})).unwrap();
    assert!(matches!(
        g(json!({"title": "x", "link": other.to_string()})),
        Err(Error::WrongRelationModel { field, .. }) if field == "link"
    ));
    assert!(matches!(
        g(json!({"title": "x", "tag": target.to_string()})),
        Err(Error::WrongRelationModel { field, .. }) if field == "tag"
    ));
    assert!(matches!(
        g(json!({"title": "x", "link": "not an id"})),
        Err(Error::BadRelation { .. })
    ));
    assert!(matches!(
        g(json!({"title": "x", "link": target_model.to_string()})),
        Err(Error::BadRelation { .. })
    ));
    let missing = StreamId::new(StreamType::MID, ceramic_codecs::cid_of(0x71, b"gone")).unwrap();
    assert!(matches!(
        g(json!({"title": "x", "link": missing.to_string()})),
        Err(Error::RelationNotFound { target, .. }) if target == missing
    ));
}

#[test]
fn update_rules() {
    let mut ctx = Streams::default();
    let m = list_model(&mut ctx);
    let mid = ModelInstanceDocument::new();
    let doc = genesis(
        &mid,
        &ctx,
        header(&m, Some(UNIQUE)),
        Some(json!({"title": "t", "tag": "a"})),
        Some(ALICE),
    )
    .unwrap();
    let up = |patch: Value, h: Option<Header>, signer| update(&mid, &ctx, &doc, patch, h, signer);
    let ok = json!([{"op": "replace", "path": "/title", "value": "u"}]);
    assert!(matches!(up(ok.clone(), None, None), Err(Error::Unsigned)));
    assert!(matches!(up(ok.clone(), None, Some(BOB)), Err(Error::NotController { .. })));
    let h = Header { controllers: Some(vec![BOB.into()]), ..Header::default() };
    assert!(matches!(
        up(ok.clone(), Some(h), Some(ALICE)),
        Err(Error::HeaderChange("controllers"))
    ));
    let h = Header { unique: Some(Unique::Bytes(vec![1])), ..Header::default() };
    assert!(matches!(up(ok.clone(), Some(h), Some(ALICE)), Err(Error::HeaderChange("unique"))));
    assert!(matches!(up(json!({"title": "u"}), None, Some(ALICE)), Err(Error::NotAPatch(_))));
    assert!(matches!(
        up(json!([{"op": "remove", "path": "/nope"}]), None, Some(ALICE)),
        Err(Error::PatchFailed(_))
    ));
    assert!(matches!(
        up(json!([{"op": "replace", "path": "/tag", "value": "b"}]), None, Some(ALICE)),
        Err(Error::ImmutableField(f)) if f == "tag"
    ));
    assert!(matches!(
        up(json!([{"op": "remove", "path": "/title"}]), None, Some(ALICE)),
        Err(Error::SchemaViolation { .. })
    ));
    // `header: {}` and shouldIndex are fine; shouldIndex lands in the metadata.
    up(ok.clone(), Some(Header::default()), Some(ALICE)).unwrap();
    let h = Header { should_index: Some(false), ..Header::default() };
    let next = up(json!([]), Some(h), Some(ALICE)).unwrap();
    assert_eq!(next.current_metadata()["shouldIndex"], json!(false));
    assert_eq!(next.current_metadata()["model"], json!(m.to_string()));
}

#[test]
fn immutable_fields_are_free_in_the_first_update_of_a_deterministic_document() {
    let mut ctx = Streams::default();
    let single =
        model(&mut ctx, definition(json!({"type": "single"}), json!({"immutableFields": ["tag"]})));
    let mid = ModelInstanceDocument::new();
    let doc = genesis(&mid, &ctx, header(&single, None), None, None).unwrap();
    let first = json!([{"op": "add", "path": "/title", "value": "t"}, {"op": "add", "path": "/tag", "value": "a"}]);
    let doc = update(&mid, &ctx, &doc, first, None, Some(ALICE)).unwrap();
    assert!(matches!(
        update(
            &mid,
            &ctx,
            &doc,
            json!([{"op": "replace", "path": "/tag", "value": "b"}]),
            None,
            Some(ALICE)
        ),
        Err(Error::ImmutableField(_))
    ));
}

#[test]
fn dimensions_of_a_document() {
    let mut ctx = Streams::default();
    let m = list_model(&mut ctx);
    let mid = ModelInstanceDocument::new();
    let doc =
        genesis(&mid, &ctx, header(&m, Some(UNIQUE)), Some(json!({"title": "t"})), Some(ALICE))
            .unwrap();
    let d = dimensions(&doc).unwrap();
    assert_eq!(d.model, m.to_bytes());
    assert_eq!(d.controller, ALICE.as_bytes());
    assert_eq!(d.unique, UNIQUE);
    assert_eq!(d.context, None);
    let model_state = ctx.0[&m].clone();
    assert_eq!(dimensions(&model_state).unwrap().model, meta_model().to_bytes());
}
