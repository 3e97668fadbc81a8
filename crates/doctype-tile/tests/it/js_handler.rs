//! `testdata/js-tile-handler.json`: the states js-ceramic's real `TileDocumentHandler` 6.4.0
//! reached after each commit of each log (serialised with `StreamUtils.serializeState`), and
//! the commits it rejected. We apply the same blocks with [`Tile`] and compare
//! `StreamState::to_js_json()` state by state.
//!
//! The harness does the engine's part itself, as the engine would: strict decoding, the
//! signature check (`ceramic_did::verify_commit`), the `id`/`prev` links, the anchor proof's
//! root for an empty path, and [`apply_anchor`] with the vector's timestamp.
//!
//! Where we reject on purpose what JS accepts, the case is listed in [`STRICTER`] with the
//! reason; `specs/doctypes/tile.md` documents each one.

use std::collections::HashMap;

use ceramic_codecs::{AnchorProof, Cid, Codec, Envelope, Payload};
use ceramic_did::{KeyResolver, verify_commit};
use ceramic_doctype::{Commit, StreamState, apply_anchor};
use ceramic_doctype_tile::Tile;
use ceramic_doctype_tile::test_utils::{MemoryContext, data_state, genesis_state};
use ceramic_streamid::CommitId;
use serde_json::Value;

/// Cases JS accepts and we reject, and why (see `specs/doctypes/tile.md`, "Where we differ").
const STRICTER: &[(&str, &str)] = &[
    ("patch-replace-missing-path", "RFC 6902: replace needs an existing target"),
    ("patch-remove-missing-path", "RFC 6902: remove needs an existing target"),
    ("patch-add-array-index-out-of-bounds", "RFC 6902: an array index past the end is an error"),
    ("patch-path-without-leading-slash", "RFC 6901: a pointer starts with '/'"),
    ("update-header-sets-unique", "genesis-only header fields are immutable"),
    ("schema-update-header-schema-null", "the strict codec rejects a null header field"),
];

/// Why our side stopped a log.
enum Rejection {
    /// The blocks do not decode strictly, or the signature does not verify (engine).
    Load(String),
    /// `id`/`prev` do not link to the state, or the anchor proof does not cover `prev` (engine).
    Link(String),
    /// The Tile doctype rejected the commit.
    Tile(ceramic_doctype_tile::Error),
}

struct Case<'a> {
    name: &'a str,
    blocks: HashMap<Cid, Vec<u8>>,
}

impl Case<'_> {
    fn block(&self, cid: &Cid) -> Result<&[u8], Rejection> {
        self.blocks
            .get(cid)
            .map(Vec::as_slice)
            .ok_or_else(|| Rejection::Load(format!("{}: no block {cid}", self.name)))
    }

    /// A genesis or data commit as the engine loads it: (payload, signer).
    fn load_change(&self, cid: &Cid) -> Result<(Payload, Option<String>), Rejection> {
        let bytes = self.block(cid)?;
        if cid.codec() == Codec::DagJose.code() {
            let envelope = Envelope::decode(bytes).map_err(|e| Rejection::Load(e.to_string()))?;
            let payload = self.block(envelope.link())?;
            let verified = verify_commit(&KeyResolver, bytes, payload)
                .map_err(|e| Rejection::Load(e.to_string()))?;
            Ok((verified.payload().clone(), Some(verified.did().to_owned())))
        } else {
            let payload = Payload::decode(bytes).map_err(|e| Rejection::Load(e.to_string()))?;
            Ok((payload, None))
        }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::Load(why) => write!(f, "load: {why}"),
            Rejection::Link(why) => write!(f, "link: {why}"),
            Rejection::Tile(e) => write!(f, "tile: {e}"),
        }
    }
}

impl Rejection {
    /// The rule, in words shared with [`js_rule`].
    fn rule(&self) -> &'static str {
        use ceramic_doctype_tile::Error as E;
        match self {
            Rejection::Load(_) => "load",
            Rejection::Link(_) => "link",
            Rejection::Tile(e) => match e {
                E::UnsignedGenesisWithContent => "unsigned genesis with content",
                E::ControllerCount(_) => "controller count",
                E::ControllerNotDid(_) => "controller not a DID",
                E::NotController { .. } => "signer is not the controller",
                E::SchemaViolation { .. } => "schema violation",
                E::SchemaNotCommitId { .. } => "schema not a CommitID",
                E::ForbidControllerChangeChanged => "forbidControllerChange changed",
                E::ControllerChangeForbidden { .. } => "controller change forbidden",
                E::EmptyController => "empty controller",
                E::MissingHeader => "missing header",
                E::MalformedPatch(_) => "malformed patch",
                E::PatchFailed(_) => "patch failed",
                _ => "other",
            },
        }
    }
}

/// The rule a JS error message names, in the words of [`Rejection::rule`].
fn js_rule(message: &str) -> &'static str {
    const RULES: &[(&str, &str)] = &[
        ("Genesis commit with contents should always be signed", "unsigned genesis with content"),
        ("Exactly one controller must be specified", "controller count"),
        ("invalid DID string: 42", "load"), // a number where the codec wants a string
        ("invalid DID string", "controller not a DID"),
        ("Can not verify signature", "signer is not the controller"),
        ("Validation Error", "schema violation"),
        ("Commit missing when loading schema document", "schema not a CommitID"),
        ("Changing 'forbidControllerChange'", "forbidControllerChange changed"),
        ("Cannot change controllers since", "controller change forbidden"),
        ("Controller cannot be updated to an undefined value", "empty controller"),
        ("reading 'controllers'", "missing header"),
        ("reading 'call'", "malformed patch"), // fast-json-patch has no such op
        ("Test operation failed", "patch failed"),
        ("Cannot set properties of undefined", "patch failed"),
        ("Commit doesn't properly point to previous commit", "link"),
        ("Invalid genesis CID", "link"),
        ("points to invalid 'prev' commit", "link"),
    ];
    RULES.iter().find(|(m, _)| message.contains(m)).map_or("unmapped", |(_, rule)| rule)
}

fn links_to_state(state: &StreamState, id: Option<Cid>, prev: Cid) -> Result<(), Rejection> {
    if id.is_some_and(|id| id != state.stream_id().cid()) {
        return Err(Rejection::Link(format!("id {id:?} is not the genesis")));
    }
    if prev != state.tip() {
        return Err(Rejection::Link(format!("prev {prev} is not the tip {}", state.tip())));
    }
    Ok(())
}

/// Applies one commit of a case on top of `state` (`None` before the genesis).
fn apply(
    tile: &Tile,
    ctx: &MemoryContext,
    case: &Case<'_>,
    state: Option<&StreamState>,
    commit: &Value,
) -> Result<StreamState, Rejection> {
    let cid: Cid = commit["cid"].as_str().expect("cid").parse().expect("a CID");
    let timestamp = commit["timestamp"].as_u64();
    let Some(state) = state else {
        let (payload, signer) = case.load_change(&cid)?;
        let view = Commit {
            cid,
            payload: &payload,
            signer: signer.as_deref(),
            capability: None,
            timestamp,
        };
        return genesis_state(tile, &view, ctx).map_err(Rejection::Tile);
    };
    match commit["type"].as_u64() {
        Some(1) => {
            let (payload, signer) = case.load_change(&cid)?;
            let Payload::Data(data) = &payload else {
                return Err(Rejection::Load(format!("{cid} is not a data commit")));
            };
            links_to_state(state, Some(data.id), data.prev)?;
            let view = Commit {
                cid,
                payload: &payload,
                signer: signer.as_deref(),
                capability: None,
                timestamp,
            };
            data_state(tile, state, &view, ctx).map_err(Rejection::Tile)
        }
        Some(2) => {
            let anchor = match Payload::decode(case.block(&cid)?) {
                Ok(Payload::Anchor(anchor)) => anchor,
                other => return Err(Rejection::Load(format!("not an anchor commit: {other:?}"))),
            };
            let proof: AnchorProof =
                ceramic_codecs::decode(case.block(&anchor.proof)?, "anchor proof")
                    .map_err(|e| Rejection::Load(e.to_string()))?;
            links_to_state(state, anchor.id, anchor.prev)?;
            // Every proof in these vectors has path "": the root is the anchored commit.
            assert_eq!(anchor.path, "", "{}: only empty paths are used", case.name);
            if proof.root != anchor.prev {
                return Err(Rejection::Link(format!("proof root {} is not prev", proof.root)));
            }
            let timestamp = timestamp.expect("an anchor commit has its block time");
            Ok(apply_anchor(state, cid, proof, timestamp))
        }
        other => panic!("{}: unexpected commit type {other:?}", case.name),
    }
}

/// `serializeState` adds `doctype: "tile"`, which the SDK's `to_js_json` does not write.
/// The state JS serialized, checked to name its doctype as `to_js_json` does.
fn js_state(name: &str, expected: &Value) -> Value {
    assert_eq!(expected["doctype"], Value::from("tile"), "{name}: serializeState writes doctype");
    expected.clone()
}

#[test]
fn js_handler_states_match_ours() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/js-tile-handler.json");
    let text = std::fs::read_to_string(path).expect("js-tile-handler.json is readable");
    let file: Value = serde_json::from_str(&text).expect("JSON");
    let cases = file["cases"].as_array().expect("cases");
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let (mut matched, mut rejected_like_js, mut stricter) = (0, 0, 0);
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let input = &case["input"];
        let expected = &case["expected"];
        let blocks = input["blocks"]
            .as_array()
            .expect("blocks")
            .iter()
            .map(|b| {
                let cid: Cid = b["cid"].as_str().expect("cid").parse().expect("CID");
                (cid, hex::decode(b["hex"].as_str().expect("hex")).expect("hex"))
            })
            .collect();
        let case_data = Case { name, blocks };
        let mut ctx = MemoryContext::new();
        if let Some(schema) = input.get("schema_stream") {
            let id: CommitId =
                schema["commit_id"].as_str().expect("commit_id").parse().expect("a CommitID");
            ctx = ctx.with(id, schema["content"].clone());
        }

        let tile = Tile::new();
        let states = expected["states"].as_array().expect("states");
        let mut state: Option<StreamState> = None;
        let mut outcome = None;
        for (i, commit) in input["commits"].as_array().expect("commits").iter().enumerate() {
            match apply(&tile, &ctx, &case_data, state.as_ref(), commit) {
                Ok(next) => {
                    let Some(js) = states.get(i) else {
                        outcome = Some((i, None));
                        break;
                    };
                    assert_eq!(
                        next.to_js_json(),
                        js_state(name, js),
                        "{name}: state after commit {i}"
                    );
                    matched += 1;
                    state = Some(next);
                }
                Err(rejection) => {
                    outcome = Some((i, Some(rejection)));
                    break;
                }
            }
        }

        let js_error_at = expected["error"]["at"].as_u64().map(|n| n as usize);
        let stricter_reason = STRICTER.iter().find(|(n, _)| *n == name).map(|(_, why)| *why);
        match (outcome, js_error_at, stricter_reason) {
            (None, None, None) => {}
            (Some((i, Some(rejection))), Some(at), None) => {
                assert_eq!(i, at, "{name}: JS rejected commit {at}, we rejected {i}: {rejection}");
                let js = expected["error"]["message"].as_str().expect("message");
                assert_eq!(
                    rejection.rule(),
                    js_rule(js),
                    "{name}: rejected for another reason: ours {rejection}, JS {js:?}"
                );
                rejected_like_js += 1;
            }
            (Some((i, Some(rejection))), None, Some(why)) => {
                assert_eq!(i + 1, states.len(), "{name}: we reject the last commit ({why})");
                eprintln!("{name}: stricter than JS on purpose ({why}): {rejection}");
                stricter += 1;
            }
            (ours, js, why) => {
                let ours = ours.map(|(i, r)| (i, r.map(|r| r.to_string())));
                panic!(
                    "{name}: we stopped at {ours:?}, JS at {js:?}, listed as stricter: {why:?} (JS: {})",
                    expected["error"]["message"]
                )
            }
        }
    }
    eprintln!(
        "{} cases: {matched} states matched, {rejected_like_js} rejected like JS, {stricter} stricter on purpose",
        cases.len()
    );
    assert_eq!(stricter, STRICTER.len(), "every listed difference is exercised");
}
