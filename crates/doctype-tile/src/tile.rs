//! The [`Tile`] doctype: genesis and data-commit rules of js-ceramic's `TileDocumentHandler`
//! 6.4.0 (see `specs/doctypes/tile.md`).

use ceramic_codecs::{DataCommit, GenesisCommit, Ipld, Payload};
use ceramic_doctype::{
    Change, Commit, Context, Doctype, Genesis, Metadata, SignatureStatus, StreamState,
    ipld_to_json, merge_header, metadata_from_header, signer_is_controller,
};
use ceramic_streamid::StreamType;
use serde_json::Value;

use crate::header::genesis_only_field;
use crate::schema::{DEFAULT_SCHEMA_CACHE_CAPACITY, SchemaCache};
use crate::{Error, Result, patch};

/// The deepest content (nesting of arrays and objects) a patch may produce. A genesis block is
/// already limited to [`ceramic_codecs::MAX_DEPTH`]; patches could otherwise nest content
/// without bound, and every later clone, comparison and schema check recurses through it.
pub const MAX_CONTENT_DEPTH: usize = 256;

/// The Tile doctype (stream type 0). Holds the compiled-schema cache, so keep one per node.
#[derive(Debug)]
pub struct Tile {
    schemas: SchemaCache,
}

impl Default for Tile {
    fn default() -> Self {
        Tile::new()
    }
}

impl Tile {
    /// A Tile doctype caching up to [`DEFAULT_SCHEMA_CACHE_CAPACITY`] compiled schemas.
    pub fn new() -> Self {
        Tile::with_schema_cache_capacity(DEFAULT_SCHEMA_CACHE_CAPACITY)
    }

    /// A Tile doctype caching up to `capacity` compiled schemas (0 disables the cache).
    pub fn with_schema_cache_capacity(capacity: usize) -> Self {
        Tile { schemas: SchemaCache::new(capacity) }
    }

    /// How many compiled schemas are cached now.
    pub fn cached_schemas(&self) -> usize {
        self.schemas.len()
    }

    /// Runs the schema check when `metadata.schema` is set (a non-empty string, as js-ceramic's
    /// truthiness test).
    fn check_schema(&self, metadata: &Metadata, content: &Value, ctx: &dyn Context) -> Result<()> {
        match metadata.get("schema") {
            Some(Value::String(schema)) if !schema.is_empty() => {
                self.schemas.check(schema, content, ctx)
            }
            _ => Ok(()),
        }
    }
}

/// JavaScript truthiness of commit data (`payload.data || {}` in js-ceramic): null, false, 0,
/// NaN and "" are falsy; every list and map, even empty, is truthy.
fn truthy(data: &Ipld) -> bool {
    match data {
        Ipld::Null => false,
        Ipld::Bool(b) => *b,
        Ipld::Integer(n) => *n != 0,
        Ipld::Float(f) => *f != 0.0 && !f.is_nan(),
        Ipld::String(s) => !s.is_empty(),
        Ipld::Bytes(_) | Ipld::List(_) | Ipld::Map(_) | Ipld::Link(_) => true,
    }
}

/// `controllers[0]` of a metadata object, if it is a non-empty string (js `||` truthiness).
fn first_controller(metadata: &Metadata) -> Option<&str> {
    metadata.get("controllers")?.as_array()?.first()?.as_str().filter(|c| !c.is_empty())
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| items.iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect())
        .unwrap_or_default()
}

fn genesis_payload<'a>(commit: &Commit<'a>) -> Result<&'a GenesisCommit> {
    match commit.payload {
        Payload::Genesis(genesis) => Ok(genesis),
        other => Err(Error::WrongCommitKind { expected: "genesis", got: other.kind() }),
    }
}

fn data_payload<'a>(commit: &Commit<'a>) -> Result<&'a DataCommit> {
    match commit.payload {
        Payload::Data(data) => Ok(data),
        other => Err(Error::WrongCommitKind { expected: "data", got: other.kind() }),
    }
}

impl Doctype for Tile {
    type Error = Error;

    fn stream_type(&self) -> StreamType {
        StreamType::TILE
    }

    fn name(&self) -> &'static str {
        "tile"
    }

    /// `_applyGenesis`: the signer (if any) is `controllers[0]`; an unsigned genesis has no
    /// truthy content; exactly one controller, a `did:` string; content `data || {}`,
    /// metadata the header; then the schema check.
    fn apply_genesis(&self, commit: &Commit<'_>, ctx: &dyn Context) -> Result<Genesis> {
        let genesis = genesis_payload(commit)?;
        let header = &genesis.header;
        let controllers = header.controllers.as_deref().unwrap_or_default();
        match commit.signer {
            Some(signer) => {
                // js verifies the signature against controllers[0] before counting them.
                let controller = controllers.first().ok_or(Error::ControllerCount(0))?;
                if !signer_is_controller(signer, controller) {
                    return Err(Error::NotController {
                        signer: signer.to_owned(),
                        controller: controller.clone(),
                    });
                }
            }
            None if genesis.data.as_ref().is_some_and(truthy) => {
                return Err(Error::UnsignedGenesisWithContent);
            }
            None => {}
        }
        let [controller] = controllers else {
            return Err(Error::ControllerCount(controllers.len()));
        };
        if !controller.starts_with("did:") {
            return Err(Error::ControllerNotDid(controller.clone()));
        }
        let content = match &genesis.data {
            Some(data) if truthy(data) => ipld_to_json(data)?,
            _ => Value::Object(Default::default()),
        };
        let metadata = metadata_from_header(header);
        self.check_schema(&metadata, &content, ctx)?;
        let signature = if commit.signer.is_some() {
            SignatureStatus::Signed
        } else {
            SignatureStatus::Genesis
        };
        Ok(Genesis::new(content, metadata, signature))
    }

    /// `_applySigned`: signed by `next.metadata.controllers[0] || metadata.controllers[0]`;
    /// header rules; the patch applies to `next.content ?? content`; the new metadata is
    /// `{...(next.metadata ?? metadata), ...header}`; then the schema check.
    fn apply_data(
        &self,
        state: &StreamState,
        commit: &Commit<'_>,
        ctx: &dyn Context,
    ) -> Result<Change> {
        let data = data_payload(commit)?;
        let pending_metadata = state.next().and_then(|n| n.metadata.as_ref());
        let controller = pending_metadata
            .and_then(first_controller)
            .or_else(|| first_controller(state.metadata()))
            .ok_or(Error::ControllerNotSet)?;
        let signer = commit.signer.ok_or(Error::UpdateNotSigned)?;
        if !signer_is_controller(signer, controller) {
            return Err(Error::NotController {
                signer: signer.to_owned(),
                controller: controller.to_owned(),
            });
        }
        let header = data.header.as_ref().ok_or(Error::MissingHeader)?;
        if let Some(controllers) = &header.controllers {
            let [new_controller] = controllers.as_slice() else {
                return Err(Error::ControllerCount(controllers.len()));
            };
            if new_controller.is_empty() {
                return Err(Error::EmptyController);
            }
            // js compares with the anchored metadata, not the pending one.
            let current = string_list(state.metadata().get("controllers"));
            if state.metadata().get("forbidControllerChange") == Some(&Value::Bool(true))
                && *controllers != current
            {
                return Err(Error::ControllerChangeForbidden {
                    from: current,
                    to: controllers.clone(),
                });
            }
        }
        if let Some(forbid) = header.forbid_controller_change {
            // Repeating the genesis value is allowed (js: `!==` against the anchored metadata).
            if state.metadata().get("forbidControllerChange") != Some(&Value::Bool(forbid)) {
                return Err(Error::ForbidControllerChangeChanged);
            }
        }
        if let Some(field) = genesis_only_field(header) {
            return Err(Error::ImmutableField(field));
        }
        let patch = patch::parse(data.data.as_ref())?;
        // `state.next?.content ?? state.content`: a pending `null` falls back to the anchored
        // content, as `??` does in js.
        let base = match state.next().and_then(|n| n.content.as_ref()) {
            Some(pending) if !pending.is_null() => pending,
            _ => state.content(),
        };
        let content = patch::apply(base, &patch)?;
        // `{...(next.metadata ?? metadata), ...header}`, the SDK's rule for a data header.
        let metadata = merge_header(state.current_metadata(), header);
        self.check_schema(&metadata, &content, ctx)?;
        Ok(Change::content(Some(content)).with_metadata(metadata))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::test_utils::{Fixture, MemoryContext, Writer, data_payload};
    use ceramic_codecs::{Header, Unique, cid_of};
    use ceramic_doctype::{AnchorStatus, CommitKind, ContextError, LogEntry, apply_anchor};
    use ceramic_streamid::{CommitId, StreamId};
    use serde_json::json;

    fn schema_id(n: u8) -> CommitId {
        StreamId::new(StreamType::TILE, cid_of(0x71, &[n, 0]))
            .unwrap()
            .at_commit(cid_of(0x71, &[n, 1]))
            .unwrap()
    }

    fn person_schema() -> Value {
        json!({
            "type": "object",
            "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
            "required": ["name"]
        })
    }

    fn schema_ctx() -> MemoryContext {
        MemoryContext::new()
            .with(schema_id(1), person_schema())
            .with(schema_id(2), json!({"type": 5}))
    }

    /// A signed genesis with `{"a": 1}` and the state it makes.
    fn started(writer: &Writer, header: Header) -> StreamState {
        let genesis = writer.genesis(header, Some(json!({"a": 1})));
        genesis.apply_genesis(&Tile::new(), &MemoryContext::new()).unwrap()
    }

    fn rejects_data(state: &StreamState, fixture: &Fixture, ctx: &dyn Context) -> Error {
        fixture.apply_data(&Tile::new(), state, ctx).unwrap_err()
    }

    fn replace_a(value: Value) -> Value {
        json!([{"op": "replace", "path": "/a", "value": value}])
    }

    // ---- genesis ----

    #[test]
    fn applies_signed_genesis() {
        let writer = Writer::new(1);
        let header = Header { family: Some("fam".into()), ..writer.header() };
        let mut genesis = writer.genesis(header, Some(json!({"a": 1})));
        genesis.timestamp = Some(1_700_000_000);
        let state = genesis.apply_genesis(&Tile::new(), &MemoryContext::new()).unwrap();
        assert_eq!(state.content(), &json!({"a": 1}));
        assert_eq!(state.signature(), SignatureStatus::Signed);
        assert_eq!(state.anchor_status(), AnchorStatus::NotRequested);
        assert_eq!(
            Value::Object(state.metadata().clone()),
            json!({"family": "fam", "unique": "AAAAAAAAAAAAAAAA", "controllers": [writer.did()]})
        );
        assert_eq!(
            state.log(),
            [LogEntry {
                cid: genesis.cid,
                kind: CommitKind::Genesis,
                timestamp: Some(1_700_000_000)
            }]
        );
        assert!(state.next().is_none());
    }

    #[test]
    fn applies_unsigned_genesis_without_content() {
        let writer = Writer::new(1);
        let header = Header { unique: None, family: Some("f".into()), ..writer.header() };
        let genesis = Fixture::unsigned(Payload::Genesis(GenesisCommit { header, data: None }));
        let state = genesis.apply_genesis(&Tile::new(), &MemoryContext::new()).unwrap();
        assert_eq!(state.content(), &json!({}));
        assert_eq!(state.signature(), SignatureStatus::Genesis);
    }

    #[test]
    fn unsigned_genesis_with_falsy_data_gets_empty_content() {
        // js: `payload.data` is falsy, so no signature is required and content is `{}`.
        let header = Writer::new(1).header();
        for data in [Ipld::Null, Ipld::Bool(false), Ipld::Integer(0), Ipld::String(String::new())] {
            let genesis = Fixture::unsigned(Payload::Genesis(GenesisCommit {
                header: header.clone(),
                data: Some(data.clone()),
            }));
            let state = genesis.apply_genesis(&Tile::new(), &MemoryContext::new()).unwrap();
            assert_eq!(state.content(), &json!({}), "{data:?}");
        }
    }

    #[test]
    fn rejects_unsigned_genesis_with_content() {
        let header = Writer::new(1).header();
        for data in [Ipld::Map(Default::default()), Ipld::Integer(1), Ipld::List(vec![])] {
            let genesis = Fixture::unsigned(Payload::Genesis(GenesisCommit {
                header: header.clone(),
                data: Some(data),
            }));
            let err = genesis.apply_genesis(&Tile::new(), &MemoryContext::new()).unwrap_err();
            assert!(matches!(err, Error::UnsignedGenesisWithContent), "{err}");
        }
    }

    #[test]
    fn rejects_genesis_signed_by_non_controller() {
        let (writer, other) = (Writer::new(1), Writer::new(2));
        let genesis = other.genesis(writer.header(), Some(json!({"a": 1})));
        let err = genesis.apply_genesis(&Tile::new(), &MemoryContext::new()).unwrap_err();
        assert!(
            matches!(&err, Error::NotController { signer, controller } if signer == other.did() && controller == writer.did()),
            "{err}"
        );
    }

    #[test]
    fn an_ethereum_controller_is_matched_ignoring_case_as_js_does() {
        let writer = Writer::new(1);
        let lower = "did:pkh:eip155:1:0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359";
        let checksummed = "did:pkh:eip155:1:0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359";
        for (controller, signer) in [(lower, checksummed), (checksummed, lower)] {
            let header = Header { controllers: Some(vec![controller.into()]), ..writer.header() };
            let mut genesis = writer.genesis(header, Some(json!({"a": 1})));
            genesis.signer = Some(signer.into());
            let state = genesis.apply_genesis(&Tile::new(), &MemoryContext::new()).unwrap();
            assert_eq!(state.content(), &json!({"a": 1}));
        }
        // did:key is case-sensitive.
        let header = Header {
            controllers: Some(vec![writer.did().to_uppercase().replace("DID:KEY", "did:key")]),
            ..writer.header()
        };
        let genesis = writer.genesis(header, Some(json!({"a": 1})));
        let err = genesis.apply_genesis(&Tile::new(), &MemoryContext::new()).unwrap_err();
        assert!(matches!(err, Error::NotController { .. }), "{err}");
    }

    #[test]
    fn rejects_genesis_without_exactly_one_controller() {
        let writer = Writer::new(1);
        let two = Header {
            controllers: Some(vec![writer.did().into(), "did:key:other".into()]),
            ..writer.header()
        };
        let genesis = writer.genesis(two, None);
        let err = genesis.apply_genesis(&Tile::new(), &MemoryContext::new()).unwrap_err();
        assert!(matches!(err, Error::ControllerCount(2)), "{err}");

        for controllers in [None, Some(vec![])] {
            let header = Header { controllers, ..writer.header() };
            let genesis = Fixture::unsigned(Payload::Genesis(GenesisCommit { header, data: None }));
            let err = genesis.apply_genesis(&Tile::new(), &MemoryContext::new()).unwrap_err();
            assert!(matches!(err, Error::ControllerCount(0)), "{err}");
        }
    }

    #[test]
    fn rejects_genesis_controller_that_is_not_a_did() {
        let header =
            Header { controllers: Some(vec!["0xabc@eip155:1".into()]), ..Header::default() };
        let genesis = Fixture::unsigned(Payload::Genesis(GenesisCommit { header, data: None }));
        let err = genesis.apply_genesis(&Tile::new(), &MemoryContext::new()).unwrap_err();
        assert!(matches!(&err, Error::ControllerNotDid(c) if c == "0xabc@eip155:1"), "{err}");
    }

    #[test]
    fn rejects_a_data_commit_as_genesis() {
        let writer = Writer::new(1);
        let state = started(&writer, writer.header());
        let update = writer.update(&state, Header::default(), replace_a(json!(2)));
        let err = update.apply_genesis(&Tile::new(), &MemoryContext::new()).unwrap_err();
        assert!(
            matches!(err, Error::WrongCommitKind { expected: "genesis", got: "data" }),
            "{err}"
        );
    }

    #[test]
    fn genesis_content_must_match_the_schema() {
        let writer = Writer::new(1);
        let with_schema = |schema: String| Header { schema: Some(schema), ..writer.header() };
        let tile = Tile::new();
        let ok = writer.genesis(with_schema(schema_id(1).to_string()), Some(json!({"name": "x"})));
        ok.apply_genesis(&tile, &schema_ctx()).unwrap();

        let bad = writer.genesis(with_schema(schema_id(1).to_string()), Some(json!({"age": -1})));
        let err = bad.apply_genesis(&tile, &schema_ctx()).unwrap_err();
        let Error::SchemaViolation { schema, errors } = &err else { panic!("{err}") };
        assert_eq!(*schema, schema_id(1).to_string());
        assert_eq!(errors.len(), 2, "allErrors: both violations are listed: {errors:?}");
    }

    #[test]
    fn rejects_a_schema_that_is_not_a_commit_id() {
        let writer = Writer::new(1);
        let stream_only = schema_id(1).stream_id().to_string();
        for schema in [stream_only, "not-an-id".to_string()] {
            let header = Header { schema: Some(schema.clone()), ..writer.header() };
            let genesis = writer.genesis(header, Some(json!({"name": "x"})));
            let err = genesis.apply_genesis(&Tile::new(), &schema_ctx()).unwrap_err();
            assert!(
                matches!(&err, Error::SchemaNotCommitId { schema: s, .. } if *s == schema),
                "{err}"
            );
        }
    }

    #[test]
    fn an_empty_schema_string_means_no_schema() {
        // js tests `if (metadata.schema)`, and "" is falsy.
        let writer = Writer::new(1);
        let header = Header { schema: Some(String::new()), ..writer.header() };
        let genesis = writer.genesis(header, Some(json!({"anything": true})));
        genesis.apply_genesis(&Tile::new(), &MemoryContext::new()).unwrap();
    }

    #[test]
    fn rejects_when_the_schema_cannot_be_loaded() {
        let writer = Writer::new(1);
        let header = Header { schema: Some(schema_id(9).to_string()), ..writer.header() };
        let genesis = writer.genesis(header, Some(json!({"name": "x"})));
        let err = genesis.apply_genesis(&Tile::new(), &schema_ctx()).unwrap_err();
        assert!(
            matches!(&err, Error::SchemaUnavailable(e) if matches!(**e, ContextError::NotFound(id) if id == schema_id(9))),
            "{err}"
        );
    }

    #[test]
    fn rejects_an_invalid_schema_document() {
        let writer = Writer::new(1);
        let header = Header { schema: Some(schema_id(2).to_string()), ..writer.header() };
        let genesis = writer.genesis(header, Some(json!({"name": "x"})));
        let err = genesis.apply_genesis(&Tile::new(), &schema_ctx()).unwrap_err();
        assert!(
            matches!(&err, Error::SchemaInvalid { schema, .. } if *schema == schema_id(2).to_string()),
            "{err}"
        );
    }

    #[test]
    fn compiles_each_schema_once() {
        struct Counting(MemoryContext, AtomicUsize);
        impl Context for Counting {
            fn load_content(&self, id: &CommitId) -> Result<Value, ContextError> {
                self.1.fetch_add(1, Ordering::SeqCst);
                self.0.load_content(id)
            }
        }
        let ctx = Counting(schema_ctx(), AtomicUsize::new(0));
        let writer = Writer::new(1);
        let header = Header { schema: Some(schema_id(1).to_string()), ..writer.header() };
        let tile = Tile::new();
        let genesis = writer.genesis(header, Some(json!({"name": "x"})));
        let state = genesis.apply_genesis(&tile, &ctx).unwrap();
        let update = writer.update(
            &state,
            Header::default(),
            json!([{"op": "add", "path": "/age", "value": 3}]),
        );
        update.apply_data(&tile, &state, &ctx).unwrap();
        assert_eq!(ctx.1.load(Ordering::SeqCst), 1);
        assert_eq!(tile.cached_schemas(), 1);

        // A bounded cache stays bounded.
        let tiny = Tile::with_schema_cache_capacity(1);
        let ctx = MemoryContext::new().with(schema_id(1), json!({})).with(schema_id(3), json!({}));
        for id in [schema_id(1), schema_id(3), schema_id(1)] {
            let header = Header { schema: Some(id.to_string()), ..writer.header() };
            writer.genesis(header, None).apply_genesis(&tiny, &ctx).unwrap();
            assert_eq!(tiny.cached_schemas(), 1);
        }
    }

    // ---- data commits ----

    #[test]
    fn applies_a_signed_update() {
        let writer = Writer::new(1);
        let state = started(&writer, writer.header());
        let mut update = writer.update(
            &state,
            Header { tags: Some(vec!["t".into()]), ..Header::default() },
            json!([{"op": "replace", "path": "/a", "value": 2}, {"op": "add", "path": "/b", "value": [1]}]),
        );
        update.timestamp = Some(5);
        let next = update.apply_data(&Tile::new(), &state, &MemoryContext::new()).unwrap();
        assert_eq!(next.content(), &json!({"a": 1}), "the anchored content waits for an anchor");
        assert_eq!(next.current_content(), &json!({"a": 2, "b": [1]}));
        assert_eq!(next.current_metadata()["tags"], json!(["t"]));
        assert_eq!(next.metadata(), state.metadata());
        assert_eq!(next.signature(), SignatureStatus::Signed);
        assert_eq!(next.anchor_status(), AnchorStatus::NotRequested);
        assert_eq!(next.log().len(), 2);
        assert_eq!(
            next.log()[1],
            LogEntry { cid: update.cid, kind: CommitKind::Data, timestamp: Some(5) }
        );
    }

    #[test]
    fn rejects_an_unsigned_update() {
        let writer = Writer::new(1);
        let state = started(&writer, writer.header());
        let update = Fixture::unsigned(data_payload(
            &state,
            Some(Header::default()),
            Some(replace_a(json!(2))),
        ));
        assert!(matches!(
            rejects_data(&state, &update, &MemoryContext::new()),
            Error::UpdateNotSigned
        ));
    }

    #[test]
    fn rejects_update_signed_by_non_controller() {
        let (writer, other) = (Writer::new(1), Writer::new(2));
        let state = started(&writer, writer.header());
        let update = other.update(&state, Header::default(), replace_a(json!(2)));
        let err = rejects_data(&state, &update, &MemoryContext::new());
        assert!(
            matches!(&err, Error::NotController { signer, .. } if signer == other.did()),
            "{err}"
        );
    }

    #[test]
    fn rejects_update_when_no_controller_is_set() {
        let writer = Writer::new(1);
        let mut metadata = metadata_from_header(&writer.header());
        metadata.insert("controllers".into(), json!([""]));
        let cid = cid_of(0x71, b"genesis");
        let state = StreamState::genesis(
            StreamType::TILE,
            cid,
            json!({}),
            metadata,
            SignatureStatus::Signed,
        )
        .unwrap();
        let update = writer.update(&state, Header::default(), replace_a(json!(2)));
        assert!(matches!(
            rejects_data(&state, &update, &MemoryContext::new()),
            Error::ControllerNotSet
        ));
    }

    #[test]
    fn a_pending_controller_change_takes_effect_at_once() {
        let (first, second) = (Writer::new(1), Writer::new(2));
        let tile = Tile::new();
        let ctx = MemoryContext::new();
        let state = started(&first, first.header());
        let handover = first.update(
            &state,
            Header { controllers: Some(vec![second.did().into()]), ..Header::default() },
            json!([]),
        );
        let state = handover.apply_data(&tile, &state, &ctx).unwrap();
        assert_eq!(state.controller(), Some(second.did()));
        assert_eq!(
            state.metadata()["controllers"],
            json!([first.did()]),
            "anchored view unchanged"
        );

        let by_first = first.update(&state, Header::default(), replace_a(json!(2)));
        assert!(matches!(rejects_data(&state, &by_first, &ctx), Error::NotController { .. }));
        let by_second = second.update(&state, Header::default(), replace_a(json!(3)));
        let state = by_second.apply_data(&tile, &state, &ctx).unwrap();
        assert_eq!(state.current_content(), &json!({"a": 3}));
    }

    #[test]
    fn rejects_update_without_header() {
        let writer = Writer::new(1);
        let state = started(&writer, writer.header());
        let update = writer.sign(data_payload(&state, None, Some(replace_a(json!(2)))));
        assert!(matches!(
            rejects_data(&state, &update, &MemoryContext::new()),
            Error::MissingHeader
        ));
    }

    #[test]
    fn rejects_update_without_exactly_one_controller() {
        let writer = Writer::new(1);
        let state = started(&writer, writer.header());
        for (controllers, n) in [(vec![], 0), (vec!["did:a".to_string(), "did:b".to_string()], 2)] {
            let header = Header { controllers: Some(controllers), ..Header::default() };
            let update = writer.update(&state, header, json!([]));
            let err = rejects_data(&state, &update, &MemoryContext::new());
            assert!(matches!(err, Error::ControllerCount(got) if got == n), "{err}");
        }
    }

    #[test]
    fn rejects_update_to_an_empty_controller() {
        let writer = Writer::new(1);
        let state = started(&writer, writer.header());
        let header = Header { controllers: Some(vec![String::new()]), ..Header::default() };
        let update = writer.update(&state, header, json!([]));
        assert!(matches!(
            rejects_data(&state, &update, &MemoryContext::new()),
            Error::EmptyController
        ));
    }

    #[test]
    fn rejects_controller_change_when_forbidden() {
        let writer = Writer::new(1);
        let header = Header { forbid_controller_change: Some(true), ..writer.header() };
        let state = started(&writer, header);
        let change =
            Header { controllers: Some(vec!["did:key:other".into()]), ..Header::default() };
        let update = writer.update(&state, change, json!([]));
        let err = rejects_data(&state, &update, &MemoryContext::new());
        assert!(
            matches!(&err, Error::ControllerChangeForbidden { to, .. } if to == &["did:key:other"]),
            "{err}"
        );

        // Restating the same controller is not a change.
        let same = Header { controllers: Some(vec![writer.did().into()]), ..Header::default() };
        let update = writer.update(&state, same, json!([]));
        update.apply_data(&Tile::new(), &state, &MemoryContext::new()).unwrap();
    }

    #[test]
    fn rejects_changing_forbid_controller_change() {
        let writer = Writer::new(1);
        let ctx = MemoryContext::new();
        let forbidden =
            started(&writer, Header { forbid_controller_change: Some(true), ..writer.header() });
        let free = started(&writer, writer.header());
        for (state, value) in [(&forbidden, false), (&free, true), (&free, false)] {
            let header = Header { forbid_controller_change: Some(value), ..Header::default() };
            let update = writer.update(state, header, json!([]));
            let err = rejects_data(state, &update, &ctx);
            assert!(matches!(err, Error::ForbidControllerChangeChanged), "{value}: {err}");
        }
        // js compares with `!==`: repeating the genesis value passes.
        let header = Header { forbid_controller_change: Some(true), ..Header::default() };
        let update = writer.update(&forbidden, header, json!([]));
        update.apply_data(&Tile::new(), &forbidden, &ctx).unwrap();
    }

    #[test]
    fn rejects_genesis_only_fields_in_an_update() {
        let writer = Writer::new(1);
        let state = started(&writer, writer.header());
        let cases: [(Header, &str); 3] = [
            (Header { unique: Some(Unique::Text("x".into())), ..Header::default() }, "unique"),
            (Header { sep: Some("model".into()), ..Header::default() }, "sep"),
            (Header { should_index: Some(true), ..Header::default() }, "shouldIndex"),
        ];
        for (header, field) in cases {
            let update = writer.update(&state, header, json!([]));
            let err = rejects_data(&state, &update, &MemoryContext::new());
            assert!(matches!(err, Error::ImmutableField(f) if f == field), "{err}");
        }
    }

    #[test]
    fn rejects_a_missing_patch() {
        let writer = Writer::new(1);
        let state = started(&writer, writer.header());
        let update = writer.sign(data_payload(&state, Some(Header::default()), None));
        assert!(matches!(
            rejects_data(&state, &update, &MemoryContext::new()),
            Error::MissingPatch
        ));
    }

    #[test]
    fn rejects_a_malformed_patch() {
        let writer = Writer::new(1);
        let state = started(&writer, writer.header());
        for data in [
            json!(null),
            json!({"op": "add", "path": "/a", "value": 1}),
            json!([{"op": "frob", "path": "/a"}]),
            json!([{"op": "add", "path": "/a"}]),
            json!([{"op": "add", "path": "a", "value": 1}]),
        ] {
            let update = writer.update(&state, Header::default(), data.clone());
            let err = rejects_data(&state, &update, &MemoryContext::new());
            assert!(matches!(err, Error::MalformedPatch(_)), "{data}: {err}");
        }
    }

    #[test]
    fn rejects_a_patch_that_does_not_apply() {
        let writer = Writer::new(1);
        let state = started(&writer, writer.header());
        for data in [
            json!([{"op": "remove", "path": "/missing"}]),
            json!([{"op": "replace", "path": "/x/y", "value": 1}]),
            json!([{"op": "test", "path": "/a", "value": 2}]),
            json!([{"op": "add", "path": "/a/b", "value": 1}]),
        ] {
            let update = writer.update(&state, Header::default(), data.clone());
            let err = rejects_data(&state, &update, &MemoryContext::new());
            assert!(matches!(err, Error::PatchFailed(_)), "{data}: {err}");
        }
    }

    #[test]
    fn rejects_content_nested_too_deep() {
        let writer = Writer::new(1);
        let state = started(&writer, writer.header());
        let mut deep = json!(1);
        for _ in 0..MAX_CONTENT_DEPTH {
            deep = json!([deep]);
        }
        // A pending view this deep (as another implementation could have stored it).
        let change = Change::content(Some(json!({"a": deep})));
        let state = state.with_change(cid_of(0x71, b"deep"), None, change);
        let update = writer.update(&state, Header::default(), json!([]));
        let err = rejects_data(&state, &update, &MemoryContext::new());
        assert!(matches!(err, Error::ContentTooDeep { .. }), "{err}");
    }

    #[test]
    fn rejects_an_update_that_breaks_the_schema() {
        let writer = Writer::new(1);
        let tile = Tile::new();
        let ctx = schema_ctx();
        let header = Header { schema: Some(schema_id(1).to_string()), ..writer.header() };
        let genesis = writer.genesis(header, Some(json!({"name": "x"})));
        let state = genesis.apply_genesis(&tile, &ctx).unwrap();
        let update =
            writer.update(&state, Header::default(), json!([{"op": "remove", "path": "/name"}]));
        let err = rejects_data(&state, &update, &ctx);
        assert!(matches!(err, Error::SchemaViolation { .. }), "{err}");
    }

    #[test]
    fn a_schema_set_by_an_update_applies_to_the_new_content() {
        let writer = Writer::new(1);
        let ctx = schema_ctx();
        let state = started(&writer, writer.header());
        let header = Header { schema: Some(schema_id(1).to_string()), ..Header::default() };
        let update = writer.update(&state, header.clone(), json!([]));
        let err = rejects_data(&state, &update, &ctx);
        assert!(matches!(err, Error::SchemaViolation { .. }), "{{a: 1}} has no name: {err}");
        let update =
            writer.update(&state, header, json!([{"op": "add", "path": "/name", "value": "n"}]));
        let next = update.apply_data(&Tile::new(), &state, &ctx).unwrap();
        assert_eq!(next.current_metadata()["schema"], json!(schema_id(1).to_string()));
    }

    #[test]
    fn updates_after_an_anchor_start_from_the_anchored_view() {
        let writer = Writer::new(1);
        let tile = Tile::new();
        let ctx = MemoryContext::new();
        let state = started(&writer, writer.header());
        let update = writer.update(&state, Header::default(), replace_a(json!(2)));
        let state = update.apply_data(&tile, &state, &ctx).unwrap();
        let proof = ceramic_doctype::AnchorProof {
            chain_id: "inmemory:12345".into(),
            root: update.cid,
            tx_hash: cid_of(0x71, b"tx"),
            tx_type: None,
        };
        let state = apply_anchor(&state, cid_of(0x71, b"anchor"), proof, 100);
        assert_eq!(state.content(), &json!({"a": 2}));
        let update = writer.update(&state, Header::default(), replace_a(json!(3)));
        let state = update.apply_data(&tile, &state, &ctx).unwrap();
        assert_eq!(state.current_content(), &json!({"a": 3}));
        assert_eq!(state.content(), &json!({"a": 2}));
    }

    #[test]
    fn a_pending_null_content_falls_back_to_the_anchored_content() {
        // js: `state.next?.content ?? cloneDeep(state.content)`.
        let writer = Writer::new(1);
        let tile = Tile::new();
        let ctx = MemoryContext::new();
        let state = started(&writer, writer.header());
        let to_null = writer.update(
            &state,
            Header::default(),
            json!([{"op": "replace", "path": "", "value": null}]),
        );
        let state = to_null.apply_data(&tile, &state, &ctx).unwrap();
        assert_eq!(state.current_content(), &Value::Null);
        let update = writer.update(&state, Header::default(), replace_a(json!(5)));
        let state = update.apply_data(&tile, &state, &ctx).unwrap();
        assert_eq!(state.current_content(), &json!({"a": 5}));
    }

    #[test]
    fn rejects_data_that_is_not_json() {
        // dag-cbor integers reach -2^64; JSON numbers here stop at i64.
        let writer = Writer::new(1);
        let huge = Ipld::Integer(-(1i128 << 64));
        let data = Ipld::Map([("a".to_string(), huge.clone())].into_iter().collect());
        let genesis = writer
            .sign(Payload::Genesis(GenesisCommit { header: writer.header(), data: Some(data) }));
        let err = genesis.apply_genesis(&Tile::new(), &MemoryContext::new()).unwrap_err();
        assert!(matches!(err, Error::NotJson(_)), "{err}");

        let state = started(&writer, writer.header());
        let mut payload = data_payload(&state, Some(Header::default()), None);
        if let Payload::Data(d) = &mut payload {
            d.data = Some(Ipld::List(vec![huge]));
        }
        let update = writer.sign(payload);
        assert!(matches!(rejects_data(&state, &update, &MemoryContext::new()), Error::NotJson(_)));
    }

    #[test]
    fn rejects_a_genesis_given_as_update() {
        let writer = Writer::new(1);
        let state = started(&writer, writer.header());
        let genesis = writer.genesis(writer.header(), None);
        let err = rejects_data(&state, &genesis, &MemoryContext::new());
        assert!(
            matches!(err, Error::WrongCommitKind { expected: "data", got: "genesis" }),
            "{err}"
        );
    }
}
