//! The [`ModelInstanceDocument`] doctype: js-ceramic's `ModelInstanceDocumentHandler`
//! (`packages/stream-model-instance-handler`) with ceramic-one's additions
//! (`pipeline/src/aggregator/validation/model_instance.rs`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use ceramic_codecs::{Cid, Header, Ipld, Payload, Unique};
use ceramic_doctype::{
    Change, Commit, CommitKind, Context, Doctype, Genesis, Metadata, SignatureStatus, StreamState,
    ipld_to_json, signer_is_controller,
};
use ceramic_doctype_model::{AccountRelation, ModelDefinition, Relation, compile_content_schema};
use ceramic_streamid::{StreamId, StreamType};
use jsonschema::Validator;
use serde_json::{Value, json};

use crate::Error;

/// The stream type code of Model Instance Documents.
pub const STREAM_TYPE: StreamType = StreamType::MID;

/// The largest content, in bytes of its JSON text: js-ceramic's
/// `ModelInstanceDocument.MAX_DOCUMENT_SIZE` (16,000,000), measured as `object-sizeof` 2.x
/// measures an object (the UTF-8 length of `JSON.stringify(content)`).
pub const MAX_CONTENT_BYTES: usize = 16_000_000;

/// How many Models (definition and compiled schema) a [`ModelInstanceDocument`] keeps.
pub const DEFAULT_MODEL_CACHE_CAPACITY: usize = 500;

/// At most this many schema violations are listed in [`Error::SchemaViolation`].
const MAX_SCHEMA_ERRORS: usize = 16;

/// A Model as MIDs use it: its definition and compiled content schema.
struct LoadedModel {
    id: StreamId,
    definition: ModelDefinition,
    validator: Validator,
}

/// The ModelInstanceDocument doctype. Register it with
/// `registry.register(ModelInstanceDocument::new())`.
pub struct ModelInstanceDocument {
    capacity: usize,
    /// Loaded Models by StreamID and tip: a Model's content is fixed by its commit, so a cached
    /// entry is exact for that commit.
    models: Mutex<HashMap<(StreamId, Cid), Arc<LoadedModel>>>,
}

impl std::fmt::Debug for ModelInstanceDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelInstanceDocument")
            .field("capacity", &self.capacity)
            .field("cached", &self.lock().len())
            .finish()
    }
}

impl Default for ModelInstanceDocument {
    fn default() -> Self {
        ModelInstanceDocument::new()
    }
}

impl ModelInstanceDocument {
    /// The doctype with a cache of [`DEFAULT_MODEL_CACHE_CAPACITY`] Models.
    pub fn new() -> Self {
        ModelInstanceDocument::with_cache_capacity(DEFAULT_MODEL_CACHE_CAPACITY)
    }

    /// The doctype keeping at most `capacity` compiled Models (0: compile for every commit).
    pub fn with_cache_capacity(capacity: usize) -> Self {
        ModelInstanceDocument { capacity, models: Mutex::new(HashMap::new()) }
    }

    /// How many Models are cached.
    pub fn cached_models(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<(StreamId, Cid), Arc<LoadedModel>>> {
        // A panic elsewhere while holding the lock leaves the map itself intact.
        self.models.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The Model `id` as this node holds it, compiled.
    fn model(&self, id: &StreamId, ctx: &dyn Context) -> Result<Arc<LoadedModel>, Error> {
        let state = load(id, ctx)?.ok_or(Error::ModelNotFound(*id))?;
        if state.stream_type() != ceramic_doctype_model::STREAM_TYPE {
            return Err(Error::NotAModel(*id));
        }
        let key = (*id, state.tip());
        if let Some(found) = self.lock().get(&key) {
            return Ok(Arc::clone(found));
        }
        // Parse and compile without the lock: a race only compiles twice.
        let definition = ModelDefinition::from_json(state.content())
            .map_err(|source| Error::BadModel { model: *id, source })?;
        let validator = compile_content_schema(definition.schema())
            .map_err(|source| Error::BadSchema { model: *id, source })?;
        let loaded = Arc::new(LoadedModel { id: *id, definition, validator });
        let mut cache = self.lock();
        if cache.len() >= self.capacity && !cache.contains_key(&key) {
            // Any bounded policy is correct; a miss costs one parse and compile.
            if let Some(victim) = cache.keys().next().copied() {
                cache.remove(&victim);
            }
        }
        if self.capacity > 0 {
            cache.insert(key, Arc::clone(&loaded));
        }
        Ok(loaded)
    }
}

fn load(id: &StreamId, ctx: &dyn Context) -> Result<Option<StreamState>, Error> {
    ctx.load_state(id).map_err(|source| Error::LoadFailed { id: *id, source: Box::new(source) })
}

fn forbid<T>(field: &Option<T>, name: &'static str) -> Result<(), Error> {
    match field {
        Some(_) => Err(Error::ForbiddenHeader(name)),
        None => Ok(()),
    }
}

/// The content rules every write checks: size, schema, relations (js `_validateContent`).
fn check_content(model: &LoadedModel, content: &Value, ctx: &dyn Context) -> Result<(), Error> {
    // serde_json writes JSON.stringify's text for JSON values: no spaces, non-ASCII unescaped.
    let size = serde_json::to_vec(content).map_or(usize::MAX, |v| v.len());
    if size > MAX_CONTENT_BYTES {
        return Err(Error::TooLarge { size, max: MAX_CONTENT_BYTES });
    }
    if !model.validator.is_valid(content) {
        let errors = model
            .validator
            .iter_errors(content)
            .take(MAX_SCHEMA_ERRORS)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        return Err(Error::SchemaViolation { model: model.id, errors });
    }
    check_relations(&model.definition, content, ctx)
}

/// js `_validateRelationsContent` (rs `validate_relation`): a document relation field, when
/// set, holds the StreamID of a MID this node holds, of the relation's model or of a model
/// implementing it.
fn check_relations(
    definition: &ModelDefinition,
    content: &Value,
    ctx: &dyn Context,
) -> Result<(), Error> {
    let Some(relations) = definition.relations() else { return Ok(()) };
    for (field, relation) in relations {
        let Relation::Document { model: expected } = relation else { continue };
        let value = match content.get(field) {
            None | Some(Value::Null) => continue,
            Some(value) => value,
        };
        let bad = || Error::BadRelation { field: field.clone(), value: value.to_string() };
        let target: StreamId = value.as_str().ok_or_else(bad)?.parse().map_err(|_| bad())?;
        if target.stream_type() != STREAM_TYPE {
            return Err(bad());
        }
        let related = load(&target, ctx)?
            .ok_or_else(|| Error::RelationNotFound { field: field.clone(), target })?;
        let Some(expected) = expected else { continue };
        let found = related.current_metadata().get("model").and_then(Value::as_str);
        let found = found.ok_or(Error::CorruptState)?;
        if found == expected.to_string() {
            continue;
        }
        // Another model: fine if it implements the expected interface.
        let implements = found
            .parse::<StreamId>()
            .ok()
            .and_then(|m| load(&m, ctx).ok().flatten())
            .and_then(|state| ModelDefinition::from_json(state.content()).ok())
            .is_some_and(|d| d.implements().contains(expected));
        if !implements {
            return Err(Error::WrongRelationModel {
                field: field.clone(),
                target,
                found: found.to_owned(),
                expected: *expected,
            });
        }
    }
    Ok(())
}

/// The `unique` a `set` document's content gives: its set fields' values joined by `|`
/// (strings as they are, numbers and booleans as text, anything else empty), as ceramic-one
/// computes it.
fn set_unique(fields: &[String], content: &Value) -> String {
    fields
        .iter()
        .map(|f| match content.get(f) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Bool(b)) => b.to_string(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        })
        .collect::<Vec<_>>()
        .join("|")
}

/// The state's model, from its metadata.
fn state_model(state: &StreamState) -> Result<StreamId, Error> {
    state
        .current_metadata()
        .get("model")
        .and_then(Value::as_str)
        .and_then(|m| m.parse().ok())
        .ok_or(Error::CorruptState)
}

/// The state's `unique` bytes, from its metadata (base64, as js serializes it).
fn state_unique(state: &StreamState) -> Option<Vec<u8>> {
    let text = state.current_metadata().get("unique")?.as_str()?;
    STANDARD_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

impl Doctype for ModelInstanceDocument {
    type Error = Error;

    fn stream_type(&self) -> StreamType {
        STREAM_TYPE
    }

    /// js `ModelInstanceDocument.STREAM_TYPE_NAME`.
    fn name(&self) -> &'static str {
        "MID"
    }

    /// Genesis (js `_applyGenesis`, rs `validate_account_relation`): one DID controller; a
    /// `model` header naming a Model this node holds that is not an interface; `sep` (when
    /// present) `"model"`; no Tile header fields; signed by the controller when it has
    /// content; for `single`/`set` models no content, otherwise content valid for the Model;
    /// `unique` absent for `single`, present for `list` and `set`.
    fn apply_genesis(&self, commit: &Commit<'_>, ctx: &dyn Context) -> Result<Genesis, Error> {
        let Payload::Genesis(genesis) = commit.payload else {
            return Err(Error::WrongPayload { expected: "genesis", got: commit.payload.kind() });
        };
        let header = &genesis.header;
        let controllers = header.controllers.as_deref().unwrap_or_default();
        let [controller] = controllers else {
            return Err(Error::ControllerCount(controllers.len()));
        };
        if !controller.starts_with("did:") {
            return Err(Error::ControllerNotDid(controller.clone()));
        }
        let model_bytes = header.model.as_deref().ok_or(Error::InvalidModel)?;
        let model_id = StreamId::from_bytes(model_bytes).map_err(|_| Error::InvalidModel)?;
        if model_id.stream_type() != ceramic_doctype_model::STREAM_TYPE {
            return Err(Error::NotAModel(model_id));
        }
        if let Some(sep) = &header.sep
            && sep != "model"
        {
            return Err(Error::WrongSeparator(sep.clone()));
        }
        forbid(&header.family, "family")?;
        forbid(&header.schema, "schema")?;
        forbid(&header.tags, "tags")?;
        forbid(&header.forbid_controller_change, "forbidControllerChange")?;
        let unique = match &header.unique {
            None => None,
            Some(Unique::Bytes(b)) => Some(b.as_slice()),
            Some(Unique::Text(_)) => return Err(Error::UniqueNotBytes),
        };
        let context = header
            .context
            .as_deref()
            .map(|c| StreamId::from_bytes(c).map_err(|_| Error::InvalidContext))
            .transpose()?;
        let content = match &genesis.data {
            None => Value::Null,
            Some(data) => ipld_to_json(data)?,
        };
        match commit.signer {
            Some(signer) if !signer_is_controller(signer, controller) => {
                return Err(Error::NotController {
                    signer: signer.to_owned(),
                    controller: controller.clone(),
                });
            }
            None if !content.is_null() => return Err(Error::Unsigned),
            _ => {}
        }
        let model = self.model(&model_id, ctx)?;
        if model.definition.is_interface() {
            return Err(Error::InterfaceModel(model_id));
        }
        let relation = model.definition.account_relation();
        if relation.is_deterministic() {
            if !content.is_null() {
                return Err(Error::DeterministicContent(relation.name()));
            }
        } else {
            check_content(&model, &content, ctx)?;
        }
        let has_unique = unique.is_some_and(|u| !u.is_empty());
        match relation {
            AccountRelation::Single if has_unique => return Err(Error::UniqueForSingle),
            AccountRelation::List if !has_unique => return Err(Error::MissingUnique("LIST")),
            AccountRelation::Set { .. } if !has_unique => return Err(Error::MissingUnique("SET")),
            _ => {}
        }
        // js: `{controllers: [controller], model, unique, context?}`, serialized with the
        // StreamIDs as strings and `unique` in base64.
        let mut metadata = Metadata::new();
        metadata.insert("controllers".into(), json!([controller]));
        metadata.insert("model".into(), json!(model_id.to_string()));
        if let Some(unique) = unique {
            metadata.insert("unique".into(), json!(STANDARD_NO_PAD.encode(unique)));
        }
        if let Some(context) = context {
            metadata.insert("context".into(), json!(context.to_string()));
        }
        // js marks every MID genesis SIGNED, deterministic ones included.
        Ok(Genesis::new(content, metadata, SignatureStatus::Signed))
    }

    /// Update (js `_applySigned`): signed by the controller; header only `shouldIndex` (and
    /// ceramic-one's `modelVersion`); data a JSON patch whose result is valid content for the
    /// Model; immutable fields untouched (except by the first update of a deterministic
    /// document, which writes its first content); for `set` models the set fields still give
    /// the genesis `unique`.
    fn apply_data(
        &self,
        state: &StreamState,
        commit: &Commit<'_>,
        ctx: &dyn Context,
    ) -> Result<Change, Error> {
        let Payload::Data(data) = commit.payload else {
            return Err(Error::WrongPayload { expected: "data", got: commit.payload.kind() });
        };
        let controller = state.controller().ok_or(Error::CorruptState)?;
        let signer = commit.signer.ok_or(Error::Unsigned)?;
        if !signer_is_controller(signer, controller) {
            return Err(Error::NotController {
                signer: signer.to_owned(),
                controller: controller.to_owned(),
            });
        }
        let should_index = match &data.header {
            None => None,
            Some(header) => check_update_header(header)?,
        };
        let patch_json = ipld_to_json(data.data.as_ref().unwrap_or(&Ipld::List(Vec::new())))?;
        let patch: json_patch::Patch =
            serde_json::from_value(patch_json).map_err(|e| Error::NotAPatch(e.to_string()))?;
        let mut content = match state.current_content() {
            Value::Null => json!({}),
            other => other.clone(),
        };
        json_patch::patch(&mut content, &patch).map_err(|e| Error::PatchFailed(e.to_string()))?;

        let model = self.model(&state_model(state)?, ctx)?;
        let relation = model.definition.account_relation();
        let first_data = !state.log().iter().any(|e| e.kind == CommitKind::Data);
        check_content(&model, &content, ctx)?;
        if !(relation.is_deterministic() && first_data) {
            for op in &patch.0 {
                // The first token of the path (js: `path.slice(1).split('/').shift()`).
                let Some(first) = op_path(op).first() else { continue };
                let first = first.decoded().into_owned();
                if model.definition.immutable_fields().contains(&first) {
                    return Err(Error::ImmutableField(first));
                }
            }
        }
        if let AccountRelation::Set { fields } = relation {
            let expected =
                String::from_utf8_lossy(&state_unique(state).unwrap_or_default()).into_owned();
            let found = set_unique(fields, &content);
            if expected != found {
                return Err(Error::UniqueMismatch { expected, found });
            }
        }
        let mut change = Change::content(Some(content)).with_signature(SignatureStatus::Signed);
        if let Some(should_index) = should_index {
            let mut metadata = state.current_metadata().clone();
            metadata.insert("shouldIndex".into(), Value::Bool(should_index));
            change = change.with_metadata(metadata);
        }
        Ok(change)
    }
}

/// The path a patch operation writes.
fn op_path(op: &json_patch::PatchOperation) -> &json_patch::jsonptr::Pointer {
    use json_patch::PatchOperation as Op;
    match op {
        Op::Add(o) => &o.path,
        Op::Remove(o) => &o.path,
        Op::Replace(o) => &o.path,
        Op::Move(o) => &o.path,
        Op::Copy(o) => &o.path,
        Op::Test(o) => &o.path,
    }
}

/// js: an update header may hold only `shouldIndex`; ceramic-one also lets `modelVersion`
/// through. Returns the new `shouldIndex`, if any.
fn check_update_header(header: &Header) -> Result<Option<bool>, Error> {
    let Header {
        controllers,
        family,
        schema,
        tags,
        unique,
        forbid_controller_change,
        model,
        sep,
        context,
        should_index,
        model_version: _,
    } = header;
    let change = |field: &Option<_>, name| match field {
        Some(_) => Err(Error::HeaderChange(name)),
        None => Ok(()),
    };
    change(&controllers.as_ref().map(|_| ()), "controllers")?;
    change(&family.as_ref().map(|_| ()), "family")?;
    change(&schema.as_ref().map(|_| ()), "schema")?;
    change(&tags.as_ref().map(|_| ()), "tags")?;
    change(&unique.as_ref().map(|_| ()), "unique")?;
    change(&forbid_controller_change.map(|_| ()), "forbidControllerChange")?;
    change(&model.as_ref().map(|_| ()), "model")?;
    change(&sep.as_ref().map(|_| ()), "sep")?;
    change(&context.as_ref().map(|_| ()), "context")?;
    Ok(*should_index)
}
