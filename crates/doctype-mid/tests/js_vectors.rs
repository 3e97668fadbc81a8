//! The verdicts of js-ceramic's ModelHandler / ModelInstanceDocumentHandler (5.4.0) and of
//! @ceramic-sdk/model-protocol 0.12.0 on the cases in
//! `crates/doctype-model/testdata/js-models.json` (made by `xtask/js-models/gen.mjs`): our
//! Model and MID doctypes must agree on every one.

use std::collections::HashMap;

use ceramic_codecs::{Block, Codec, DataCommit, GenesisCommit, Header, Payload, Unique};
use ceramic_doctype::{Commit, Context, ContextError, Doctype, StreamState, json_to_ipld};
use ceramic_doctype_mid::ModelInstanceDocument;
use ceramic_doctype_model::{META_MODEL, Model, ModelDefinition};
use ceramic_streamid::{CommitId, StreamId, StreamType};
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../doctype-model/testdata/js-models.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

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

fn cid_of(payload: &Payload) -> ceramic_codecs::Cid {
    *Block::encode(Codec::DagCbor, payload).unwrap().cid()
}

#[test]
fn definitions_agree_with_js() {
    let v = vectors();
    let cases = v["definitions"].as_array().unwrap();
    assert!(cases.len() > 40);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let ours = ModelDefinition::from_json(&case["definition"]);
        let handler = case["handler"].as_bool().unwrap();
        assert_eq!(ours.is_ok(), handler, "{name}: ours {ours:?}, js handler: {}", case["error"]);
        if !case["sdk"].as_bool().unwrap() {
            assert!(ours.is_err(), "{name}: the SDK codec refuses it");
        }
    }
}

fn model_genesis(controller: &str, definition: &Value, ctx: &Streams) -> StreamState {
    let payload = Payload::Genesis(GenesisCommit {
        header: Header {
            controllers: Some(vec![controller.into()]),
            model: Some(META_MODEL.to_vec().into()),
            sep: Some("model".into()),
            ..Header::default()
        },
        data: Some(json_to_ipld(definition).unwrap()),
    });
    let cid = cid_of(&payload);
    let commit = Commit {
        cid,
        payload: &payload,
        signer: Some(controller),
        capability: None,
        timestamp: None,
    };
    let genesis = Model.apply_genesis(&commit, ctx).unwrap();
    StreamState::from_genesis(StreamId::new(StreamType::MODEL, cid).unwrap(), None, genesis)
}

fn header_from(json: &Value) -> Header {
    let model: StreamId = json["model"].as_str().unwrap().parse().unwrap();
    Header {
        controllers: Some(vec![json["controllers"][0].as_str().unwrap().into()]),
        model: Some(model.to_bytes().into()),
        sep: json["sep"].as_str().map(str::to_owned),
        unique: json["unique"].as_str().map(|u| Unique::Bytes(hex::decode(u).unwrap())),
        ..Header::default()
    }
}

/// Applies a MID genesis and its updates; returns each verdict (stopping at the first
/// refusal, as the generator does) and the last state.
fn apply_mid(
    mid: &ModelInstanceDocument,
    ctx: &Streams,
    controller: &str,
    header: Header,
    data: Option<&Value>,
    updates: &[Value],
) -> (Vec<Result<(), String>>, Option<StreamState>) {
    let payload =
        Payload::Genesis(GenesisCommit { header, data: data.map(|d| json_to_ipld(d).unwrap()) });
    let cid = cid_of(&payload);
    let commit = Commit {
        cid,
        payload: &payload,
        signer: Some(controller),
        capability: None,
        timestamp: None,
    };
    let mut state = match mid.apply_genesis(&commit, ctx) {
        Ok(g) => StreamState::from_genesis(StreamId::new(StreamType::MID, cid).unwrap(), None, g),
        Err(e) => return (vec![Err(e.to_string())], None),
    };
    let mut verdicts = vec![Ok(())];
    for update in updates {
        let header = update.get("header").map(|h| Header {
            controllers: h.get("controllers").map(|c| {
                c.as_array().unwrap().iter().map(|d| d.as_str().unwrap().to_owned()).collect()
            }),
            should_index: h.get("shouldIndex").and_then(Value::as_bool),
            ..Header::default()
        });
        let payload = Payload::Data(DataCommit {
            id: cid,
            prev: state.tip(),
            header,
            data: Some(json_to_ipld(&update["patch"]).unwrap()),
        });
        let ucid = cid_of(&payload);
        let commit = Commit {
            cid: ucid,
            payload: &payload,
            signer: Some(controller),
            capability: None,
            timestamp: None,
        };
        match mid.apply_data(&state, &commit, ctx) {
            Ok(change) => {
                state = state.with_change(ucid, None, change);
                verdicts.push(Ok(()));
            }
            Err(e) => {
                verdicts.push(Err(e.to_string()));
                break;
            }
        }
    }
    (verdicts, Some(state))
}

#[test]
fn instances_agree_with_js() {
    let v = vectors();
    let controller = v["controller"].as_str().unwrap();
    let mut ctx = Streams::default();
    // Interfaces and plain models first: `impl` implements `iface`, `linking` names the others.
    let mut names: Vec<&String> = v["models"].as_object().unwrap().keys().collect();
    names.sort_by_key(|n| matches!(n.as_str(), "impl" | "linking"));
    for name in names {
        let state = model_genesis(controller, &v["models"][name], &ctx);
        // Same dag-cbor genesis, same StreamID as js.
        assert_eq!(state.stream_id().to_string(), v["model_ids"][name].as_str().unwrap(), "{name}");
        ctx.0.insert(state.stream_id(), state);
    }
    let mid = ModelInstanceDocument::new();
    for doc in v["related_documents"].as_array().unwrap() {
        let model = v["model_ids"][doc["model"].as_str().unwrap()].as_str().unwrap();
        let header = header_from(&serde_json::json!({
            "controllers": [controller], "model": model, "sep": "model", "unique": "070707070707070707070707"
        }));
        let (verdicts, state) =
            apply_mid(&mid, &ctx, controller, header, Some(&doc["content"]), &[]);
        assert_eq!(verdicts, [Ok(())]);
        let state = state.unwrap();
        assert_eq!(state.stream_id().to_string(), doc["id"].as_str().unwrap());
        ctx.0.insert(state.stream_id(), state);
    }
    let cases = v["instances"].as_array().unwrap();
    assert!(cases.len() > 30);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let data = case["has_data"].as_bool().unwrap().then_some(&case["data"]);
        let updates = case["updates"].as_array().unwrap();
        let (ours, state) =
            apply_mid(&mid, &ctx, controller, header_from(&case["header"]), data, updates);
        let js: Vec<bool> = case["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["ok"].as_bool().unwrap())
            .collect();
        let ours_ok: Vec<bool> = ours.iter().map(Result::is_ok).collect();
        assert_eq!(ours_ok, js, "{name}: ours {ours:?}, js {}", case["verdicts"]);
        if js.iter().all(|ok| *ok) {
            assert_eq!(state.unwrap().current_content(), &case["final_content"], "{name}");
        }
    }
}
