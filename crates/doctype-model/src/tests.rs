//! One refusal per rule, with the typed error, plus the definition round trip.

use std::collections::HashMap;

use ceramic_codecs::{Block, Codec, DataCommit, GenesisCommit, Header, Payload, Unique};
use ceramic_doctype::{Commit, Context, ContextError, Doctype, StreamState, json_to_ipld};
use ceramic_streamid::{CommitId, StreamId};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::{DefinitionError, Error, META_MODEL, Model, ModelDefinition, meta_model};

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

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name"],
        "additionalProperties": false
    })
}

fn v2(extra: Value) -> Value {
    let mut d = json!({
        "version": "2.0",
        "name": "Person",
        "interface": false,
        "implements": [],
        "schema": schema(),
        "accountRelation": {"type": "list"}
    });
    for (k, v) in extra.as_object().unwrap() {
        d[k] = v.clone();
    }
    d
}

fn header(controllers: &[&str]) -> Header {
    Header {
        controllers: Some(controllers.iter().map(|c| c.to_string()).collect()),
        model: Some(META_MODEL.to_vec().into()),
        sep: Some("model".into()),
        ..Header::default()
    }
}

fn apply(
    header: Header,
    data: Option<&Value>,
    signer: Option<&str>,
    ctx: &Streams,
) -> Result<StreamState, Error> {
    let payload =
        Payload::Genesis(GenesisCommit { header, data: data.map(|d| json_to_ipld(d).unwrap()) });
    let cid = *Block::encode(Codec::DagCbor, &payload).unwrap().cid();
    let commit = Commit { cid, payload: &payload, signer, capability: None, timestamp: None };
    let genesis = Model.apply_genesis(&commit, ctx)?;
    Ok(StreamState::from_genesis(StreamId::new(crate::STREAM_TYPE, cid).unwrap(), None, genesis))
}

fn parse_err(value: Value) -> DefinitionError {
    ModelDefinition::from_json(&value).unwrap_err()
}

#[test]
fn parses_v1_and_v2() {
    let v1 = json!({
        "version": "1.0", "name": "Old", "schema": schema(),
        "accountRelation": {"type": "single"},
        "relations": {"owner": {"type": "account"}},
        "views": {"author": {"type": "documentAccount"}}
    });
    let d = ModelDefinition::from_json(&v1).unwrap();
    assert!(matches!(d, ModelDefinition::V1(_)));
    assert_eq!(d.account_relation().name(), "single");
    let d = ModelDefinition::from_json(&v2(json!({"immutableFields": ["name"]}))).unwrap();
    assert_eq!(d.immutable_fields(), ["name"]);
}

#[test]
fn refuses_shapes() {
    assert_eq!(parse_err(json!([])), DefinitionError::NotAnObject);
    assert!(
        matches!(parse_err(v2(json!({"extra": 1}))), DefinitionError::UnknownKey { key, .. } if key == "extra")
    );
    let mut no_name = v2(json!({}));
    no_name.as_object_mut().unwrap().remove("name");
    assert!(matches!(parse_err(no_name), DefinitionError::Missing { field } if field == "name"));
    let mut no_interface = v2(json!({}));
    no_interface.as_object_mut().unwrap().remove("interface");
    assert!(
        matches!(parse_err(no_interface), DefinitionError::Missing { field } if field == "interface")
    );
    assert!(
        matches!(parse_err(v2(json!({"name": 3}))), DefinitionError::WrongType { field, .. } if field == "name")
    );
    assert!(matches!(
        parse_err(v2(json!({"version": "3.0"}))),
        DefinitionError::UnsupportedVersion(_)
    ));
    assert!(matches!(parse_err(v2(json!({"version": 2}))), DefinitionError::UnsupportedVersion(_)));
    let v1_set = json!({"version": "1.0", "name": "x", "schema": schema(),
        "accountRelation": {"type": "set", "fields": ["name"]}});
    assert!(
        matches!(parse_err(v1_set), DefinitionError::UnknownType { kind, .. } if kind == "set")
    );
    // codeco's `strict` strips unknown keys of nested objects instead of refusing them.
    ModelDefinition::from_json(&v2(json!({"accountRelation": {"type": "list", "fields": []}})))
        .unwrap();
    assert!(matches!(
        parse_err(v2(json!({"implements": ["not-a-stream-id"]}))),
        DefinitionError::InvalidStreamId { .. }
    ));
    assert!(matches!(
        parse_err(v2(json!({"relations": {"r": {"type": "document", "model": "x"}}}))),
        DefinitionError::InvalidStreamId { .. }
    ));
    assert!(matches!(
        parse_err(v2(json!({"views": {"v": {"type": "nope"}}}))),
        DefinitionError::UnknownType { kind, .. } if kind == "nope"
    ));
    // v1 relations must name their model; v2 may use null.
    let v1_null = json!({"version": "1.0", "name": "x", "schema": schema(),
        "accountRelation": {"type": "list"},
        "relations": {"r": {"type": "document", "model": null}}});
    assert!(matches!(parse_err(v1_null), DefinitionError::WrongType { .. }));
    ModelDefinition::from_json(&v2(
        json!({"relations": {"r": {"type": "document", "model": null}}}),
    ))
    .unwrap();
}

#[test]
fn refuses_schemas() {
    assert_eq!(
        parse_err(v2(json!({"schema": {"type": "string"}}))),
        DefinitionError::SchemaNotObject
    );
    assert!(matches!(
        parse_err(v2(
            json!({"schema": {"type": "object", "additionalProperties": false, "properties": 3}})
        )),
        DefinitionError::SchemaInvalid(_)
    ));
    assert_eq!(
        parse_err(v2(json!({"schema": {"type": "object"}}))),
        DefinitionError::AdditionalPropertiesAllowed("/".into())
    );
    let nested = json!({"type": "object", "additionalProperties": false,
        "properties": {"inner": {"type": "object"}}});
    assert_eq!(
        parse_err(v2(json!({"schema": nested}))),
        DefinitionError::AdditionalPropertiesAllowed("/properties/inner".into())
    );
    let remote = json!({"type": "object", "additionalProperties": false,
        "properties": {"x": {"$ref": "https://example.com/schema"}}});
    assert!(matches!(parse_err(v2(json!({"schema": remote}))), DefinitionError::SchemaInvalid(_)));
}

#[test]
fn refuses_set_fields() {
    let set = |fields: Value| v2(json!({"accountRelation": {"type": "set", "fields": fields}}));
    assert_eq!(parse_err(set(json!([]))), DefinitionError::EmptySetFields);
    assert_eq!(parse_err(set(json!(["nope"]))), DefinitionError::SetFieldNotFound("nope".into()));
    assert_eq!(parse_err(set(json!(["age"]))), DefinitionError::SetFieldNotRequired("age".into()));
    let object_field = json!({"type": "object", "additionalProperties": false, "required": ["o"],
        "properties": {"o": {"type": "array", "items": {"type": "string"}}}});
    assert!(matches!(
        parse_err(v2(json!({"schema": object_field, "accountRelation": {"type": "set", "fields": ["o"]}}))),
        DefinitionError::SetFieldType { kind: Some(k), .. } if k == "array"
    ));
    ModelDefinition::from_json(&set(json!(["name"]))).unwrap();
    // Through a local $ref.
    let with_ref = json!({"type": "object", "additionalProperties": false, "required": ["n"],
        "$defs": {"N": {"type": "string"}}, "properties": {"n": {"$ref": "#/$defs/N"}}});
    ModelDefinition::from_json(&v2(
        json!({"schema": with_ref, "accountRelation": {"type": "set", "fields": ["n"]}}),
    ))
    .unwrap();
}

#[test]
fn refuses_views_and_interfaces() {
    assert_eq!(
        parse_err(v2(json!({"views": {"name": {"type": "documentAccount"}}}))),
        DefinitionError::ViewShadowsProperty("name".into())
    );
    let empty = json!({"type": "object", "additionalProperties": false});
    assert_eq!(
        parse_err(v2(json!({"interface": true, "schema": empty}))),
        DefinitionError::EmptyInterface
    );
    ModelDefinition::from_json(&v2(json!({"interface": true, "schema": empty,
        "views": {"owner": {"type": "documentAccount"}}})))
    .unwrap();
}

#[test]
fn genesis_makes_js_state() {
    let state =
        apply(header(&[ALICE]), Some(&v2(json!({}))), Some(ALICE), &Streams::default()).unwrap();
    assert_eq!(
        state.to_js_json()["metadata"],
        json!({"controllers": [ALICE], "model": "kh4q0ozorrgaq2mezktnrmdwleo1d"})
    );
    assert_eq!(state.content(), &v2(json!({})));
    assert_eq!(state.to_js_json()["signature"], json!(2));
}

#[test]
fn genesis_rules() {
    let ctx = Streams::default();
    let d = v2(json!({}));
    assert!(matches!(apply(header(&[ALICE]), Some(&d), None, &ctx), Err(Error::Unsigned)));
    assert!(matches!(
        apply(header(&[ALICE, BOB]), Some(&d), Some(ALICE), &ctx),
        Err(Error::ControllerCount(2))
    ));
    assert!(matches!(
        apply(header(&[]), Some(&d), Some(ALICE), &ctx),
        Err(Error::ControllerCount(0))
    ));
    assert!(matches!(
        apply(header(&["alice"]), Some(&d), Some(ALICE), &ctx),
        Err(Error::ControllerNotDid(_))
    ));
    assert!(matches!(
        apply(header(&[ALICE]), Some(&d), Some(BOB), &ctx),
        Err(Error::NotController { .. })
    ));
    let mut h = header(&[ALICE]);
    h.model =
        Some(StreamId::new(crate::STREAM_TYPE, meta_model().cid()).unwrap().to_bytes().into());
    assert!(matches!(apply(h, Some(&d), Some(ALICE), &ctx), Err(Error::NotMetaModel(_))));
    let mut h = header(&[ALICE]);
    h.model = None;
    assert!(matches!(apply(h, Some(&d), Some(ALICE), &ctx), Err(Error::NotMetaModel(_))));
    let mut h = header(&[ALICE]);
    h.sep = Some("schema".into());
    assert!(matches!(apply(h, Some(&d), Some(ALICE), &ctx), Err(Error::WrongSeparator(_))));
    let mut h = header(&[ALICE]);
    h.unique = Some(Unique::Bytes(vec![1; 12]));
    assert!(matches!(apply(h, Some(&d), Some(ALICE), &ctx), Err(Error::ForbiddenHeader("unique"))));
    let mut h = header(&[ALICE]);
    h.sep = None; // pre-CIP-120 js-ceramic models have no sep
    apply(h, Some(&d), Some(ALICE), &ctx).unwrap();
    assert!(matches!(
        apply(header(&[ALICE]), None, Some(ALICE), &ctx),
        Err(Error::MissingDefinition)
    ));
    assert!(matches!(
        apply(header(&[ALICE]), Some(&json!({"version": "9.0"})), Some(ALICE), &ctx),
        Err(Error::Definition(DefinitionError::UnsupportedVersion(_)))
    ));
}

#[test]
fn models_are_immutable() {
    let state =
        apply(header(&[ALICE]), Some(&v2(json!({}))), Some(ALICE), &Streams::default()).unwrap();
    let payload = Payload::Data(DataCommit {
        id: state.stream_id().cid(),
        prev: state.tip(),
        header: None,
        data: Some(json_to_ipld(&json!([])).unwrap()),
    });
    let cid = *Block::encode(Codec::DagCbor, &payload).unwrap().cid();
    let commit =
        Commit { cid, payload: &payload, signer: Some(ALICE), capability: None, timestamp: None };
    assert!(matches!(
        Model.apply_data(&state, &commit, &Streams::default()),
        Err(Error::Immutable)
    ));
}

#[test]
fn implements_interfaces() {
    let mut ctx = Streams::default();
    let interface = v2(json!({
        "interface": true,
        "schema": {"type": "object", "additionalProperties": false,
            "properties": {"name": {"type": "string"}}, "required": ["name"]},
        "immutableFields": ["name"]
    }));
    let iface = apply(header(&[ALICE]), Some(&interface), Some(ALICE), &ctx).unwrap();
    let not_iface = apply(header(&[BOB]), Some(&v2(json!({}))), Some(BOB), &ctx).unwrap();
    let (iface_id, other_id) = (iface.stream_id(), not_iface.stream_id());
    let implementing = |ids: &[StreamId], extra: Value| {
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let mut d = v2(json!({"implements": ids}));
        for (k, v) in extra.as_object().unwrap() {
            d[k] = v.clone();
        }
        d
    };
    let good = implementing(&[iface_id], json!({"immutableFields": ["name"]}));
    assert!(matches!(
        apply(header(&[ALICE]), Some(&good), Some(ALICE), &ctx),
        Err(Error::InterfaceNotFound(id)) if id == iface_id
    ));
    ctx.0.insert(iface_id, iface);
    ctx.0.insert(other_id, not_iface);
    apply(header(&[ALICE]), Some(&good), Some(ALICE), &ctx).unwrap();
    assert!(matches!(
        apply(header(&[ALICE]), Some(&implementing(&[other_id], json!({}))), Some(ALICE), &ctx),
        Err(Error::NotAnInterface(id)) if id == other_id
    ));
    assert!(matches!(
        apply(header(&[ALICE]), Some(&implementing(&[iface_id], json!({}))), Some(ALICE), &ctx),
        Err(Error::BadImplementation { part: "immutable fields", .. })
    ));
    let wrong_type = implementing(
        &[iface_id],
        json!({"immutableFields": ["name"],
        "schema": {"type": "object", "additionalProperties": false,
            "properties": {"name": {"type": "integer"}}, "required": ["name"]}}),
    );
    assert!(matches!(
        apply(header(&[ALICE]), Some(&wrong_type), Some(ALICE), &ctx),
        Err(Error::BadImplementation { part: "schema", .. })
    ));
}

fn arb_definition() -> impl Strategy<Value = Value> {
    let fields = proptest::sample::subsequence(vec!["a", "b", "c"], 0..=3);
    (
        any::<bool>(),
        "[a-zA-Z ]{1,12}",
        proptest::option::of("[a-z ]{0,12}"),
        0..4usize,
        fields,
        any::<bool>(),
    )
        .prop_map(|(is_v2, name, description, relation, immutable, with_extras)| {
            let schema = json!({
                "type": "object",
                "additionalProperties": false,
                "properties": {"a": {"type": "string"}, "b": {"type": "integer"}, "c": {"type": "boolean"}},
                "required": ["a", "b"]
            });
            let relation = match (is_v2, relation) {
                (_, 0) => json!({"type": "list"}),
                (_, 1) | (false, _) => json!({"type": "single"}),
                (true, 2) => json!({"type": "none"}),
                (true, _) => json!({"type": "set", "fields": ["a", "b"]}),
            };
            let mut d = json!({"version": if is_v2 { "2.0" } else { "1.0" }, "name": name,
                "schema": schema, "accountRelation": relation});
            if let Some(description) = description {
                d["description"] = json!(description);
            }
            if is_v2 {
                d["interface"] = json!(false);
                d["implements"] = json!([]);
                d["immutableFields"] = json!(immutable);
            }
            if with_extras {
                let model = StreamId::new(crate::STREAM_TYPE, ceramic_codecs::cid_of(0x71, b"m"))
                    .unwrap()
                    .to_string();
                d["relations"] = json!({"a": {"type": "account"}, "c": {"type": "document", "model": model}});
                d["views"] = json!({"author": {"type": "documentAccount"}, "v": {"type": "documentVersion"},
                    "from": {"type": "relationFrom", "model": model, "property": "a"}});
            }
            d
        })
}

proptest! {
    #[test]
    fn definitions_round_trip(value in arb_definition()) {
        let parsed = ModelDefinition::from_json(&value).unwrap();
        let again = ModelDefinition::from_json(&parsed.to_json()).unwrap();
        prop_assert_eq!(&again, &parsed);
        prop_assert_eq!(parsed.to_json(), again.to_json());
    }

    #[test]
    fn parser_never_panics(value in arb_json()) {
        let _ = ModelDefinition::from_json(&value);
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            Just("object".to_string()),
            Just("1.0".into()),
            Just("2.0".into()),
            "[a-z]{0,4}"
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec(
                (
                    prop_oneof![
                        Just("version".to_string()),
                        Just("schema".into()),
                        Just("type".into()),
                        Just("name".into()),
                        Just("accountRelation".into()),
                        "[a-z]{1,3}"
                    ],
                    inner
                ),
                0..5
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}
