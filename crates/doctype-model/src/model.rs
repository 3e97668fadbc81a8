//! The [`Model`] doctype: js-ceramic's `ModelHandler` (`packages/stream-model-handler`).

use ceramic_codecs::{Header, Payload};
use ceramic_doctype::{
    Change, Commit, Context, Doctype, Genesis, Metadata, SignatureStatus, StreamState,
    ipld_to_json, signer_is_controller,
};
use ceramic_streamid::{StreamId, StreamType};
use serde_json::{Value, json};

use crate::{Error, ModelDefinition};

/// The stream type code of Models.
pub const STREAM_TYPE: StreamType = StreamType::MODEL;

/// The meta-model StreamID every Model names in its header's `model`:
/// `kh4q0ozorrgaq2mezktnrmdwleo1d`, an UNLOADABLE (type 4) StreamID (js `Model.MODEL`). Its CID
/// is built as js builds it: the identity multihash of the dag-cbor string `"model-v1"`, wrapped
/// once more as the digest of a multihash whose code is dag-cbor's (0x71).
pub const META_MODEL: [u8; 18] = [
    0xce, 0x01, // StreamID multicodec
    0x04, // type 4, UNLOADABLE
    0x01, 0x71, // CIDv1, dag-cbor
    0x71, 0x0b, // "multihash" code 0x71, 11 bytes:
    0x00, 0x09, // identity multihash of 9 bytes:
    0x68, b'm', b'o', b'd', b'e', b'l', b'-', b'v', b'1', // dag-cbor text "model-v1"
];

/// [`META_MODEL`] as a StreamID.
pub fn meta_model() -> StreamId {
    // The bytes are a constant, checked by a unit test.
    #[allow(clippy::expect_used)]
    StreamId::from_bytes(&META_MODEL).expect("META_MODEL is a valid StreamID")
}

/// The Model doctype. Register it with `registry.register(Model)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Model;

/// Refuses a header field a Model genesis may not hold.
fn forbid<T>(field: &Option<T>, name: &'static str) -> Result<(), Error> {
    match field {
        Some(_) => Err(Error::ForbiddenHeader(name)),
        None => Ok(()),
    }
}

fn check_header(header: &Header) -> Result<String, Error> {
    let controllers = header.controllers.as_deref().unwrap_or_default();
    let [controller] = controllers else {
        return Err(Error::ControllerCount(controllers.len()));
    };
    if !controller.starts_with("did:") {
        return Err(Error::ControllerNotDid(controller.clone()));
    }
    match header.model.as_deref() {
        Some(model) if model.as_slice() == META_MODEL => {}
        Some(model) => {
            let shown = StreamId::from_bytes(model)
                .map_or_else(|_| format!("0x{}", to_hex(model)), |id| id.to_string());
            return Err(Error::NotMetaModel(shown));
        }
        None => return Err(Error::NotMetaModel("nothing".into())),
    }
    if let Some(sep) = &header.sep
        && sep != "model"
    {
        return Err(Error::WrongSeparator(sep.clone()));
    }
    forbid(&header.unique, "unique")?;
    forbid(&header.family, "family")?;
    forbid(&header.schema, "schema")?;
    forbid(&header.tags, "tags")?;
    forbid(&header.context, "context")?;
    forbid(&header.should_index, "shouldIndex")?;
    forbid(&header.model_version, "modelVersion")?;
    forbid(&header.forbid_controller_change, "forbidControllerChange")?;
    Ok(controller.clone())
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The metadata js-ceramic keeps for a Model: `{controllers: [c], model: META_MODEL}` (the
/// StreamID as a string, as `StreamUtils.serializeState` writes it).
pub(crate) fn model_metadata(controller: &str) -> Metadata {
    let mut metadata = Metadata::new();
    metadata.insert("controllers".into(), json!([controller]));
    metadata.insert("model".into(), json!(meta_model().to_string()));
    metadata
}

/// Loads an implemented interface and checks it is one.
fn load_interface(id: &StreamId, ctx: &dyn Context) -> Result<ModelDefinition, Error> {
    if id.stream_type() != STREAM_TYPE {
        return Err(Error::NotAnInterface(*id));
    }
    let state = ctx
        .load_state(id)
        .map_err(|source| Error::InterfaceUnavailable { id: *id, source: Box::new(source) })?
        .ok_or(Error::InterfaceNotFound(*id))?;
    let definition =
        ModelDefinition::from_json(state.content()).map_err(|_| Error::NotAnInterface(*id))?;
    if !definition.is_interface() {
        return Err(Error::NotAnInterface(*id));
    }
    Ok(definition)
}

/// js `validateInterfaceImplementation`, for the parts this node checks: every relation and
/// view of the interface is in the model unchanged, every immutable field of the interface is
/// immutable in the model, and every property of the interface's schema is a property of the
/// model's (with the same `type`, required when the interface requires it).
fn check_implementation(
    id: &StreamId,
    expected: &ModelDefinition,
    implemented: &ModelDefinition,
) -> Result<(), Error> {
    let bad = |part| Error::BadImplementation { interface: *id, part };
    let (exp_schema, imp_schema) = (expected.schema(), implemented.schema());
    let props = |s: &serde_json::Map<String, Value>| s.get("properties").cloned();
    if let Some(Value::Object(exp_props)) = props(exp_schema) {
        let imp_props = props(imp_schema).unwrap_or(Value::Null);
        for (name, exp) in &exp_props {
            let Some(imp) = imp_props.get(name) else { return Err(bad("schema")) };
            if exp.get("type").is_some() && exp.get("type") != imp.get("type") {
                return Err(bad("schema"));
            }
        }
        let required = |s: &serde_json::Map<String, Value>| {
            s.get("required").and_then(Value::as_array).cloned().unwrap_or_default()
        };
        let imp_required = required(imp_schema);
        if required(exp_schema).iter().any(|r| !imp_required.contains(r)) {
            return Err(bad("schema"));
        }
    }
    if let Some(relations) = expected.relations() {
        let imp = implemented.relations();
        if relations.iter().any(|(k, v)| imp.and_then(|m| m.get(k)) != Some(v)) {
            return Err(bad("relations"));
        }
    }
    if let Some(views) = expected.views() {
        let imp = implemented.views();
        if views.iter().any(|(k, v)| imp.and_then(|m| m.get(k)) != Some(v)) {
            return Err(bad("views"));
        }
    }
    let imp_immutable = implemented.immutable_fields();
    if expected.immutable_fields().iter().any(|f| !imp_immutable.contains(f)) {
        return Err(bad("immutable fields"));
    }
    Ok(())
}

impl Doctype for Model {
    type Error = Error;

    fn stream_type(&self) -> StreamType {
        STREAM_TYPE
    }

    fn name(&self) -> &'static str {
        "model"
    }

    /// Genesis: signed by its one controller; header `{controllers: [did], model:
    /// META_MODEL, sep?: "model"}` and nothing else; data a valid [`ModelDefinition`] whose
    /// implemented interfaces this node holds and the model implements.
    fn apply_genesis(&self, commit: &Commit<'_>, ctx: &dyn Context) -> Result<Genesis, Error> {
        let Payload::Genesis(genesis) = commit.payload else {
            return Err(Error::WrongPayload { expected: "genesis", got: commit.payload.kind() });
        };
        let signer = commit.signer.ok_or(Error::Unsigned)?;
        let controller = check_header(&genesis.header)?;
        if !signer_is_controller(signer, &controller) {
            return Err(Error::NotController { signer: signer.to_owned(), controller });
        }
        let data = genesis.data.as_ref().ok_or(Error::MissingDefinition)?;
        let content = ipld_to_json(data)?;
        let definition = ModelDefinition::from_json(&content)?;
        for id in definition.implements() {
            let interface = load_interface(id, ctx)?;
            check_implementation(id, &interface, &definition)?;
        }
        Ok(Genesis::new(content, model_metadata(&controller), SignatureStatus::Signed))
    }

    /// A Model never changes after its genesis (js: "Cannot update a finalized Model").
    /// rust-ceramic allows compatible v2 updates; this node follows js-ceramic.
    fn apply_data(
        &self,
        _state: &StreamState,
        _commit: &Commit<'_>,
        _ctx: &dyn Context,
    ) -> Result<Change, Error> {
        Err(Error::Immutable)
    }
}

/// The definition of a Model stream's state, as the Model doctype accepted it.
///
/// # Errors
/// [`crate::DefinitionError`] when the state's content is not a valid definition (not a Model
/// stream, or a corrupt state).
pub fn definition_of(state: &StreamState) -> Result<ModelDefinition, crate::DefinitionError> {
    ModelDefinition::from_json(state.content())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_model_is_the_js_constant() {
        assert_eq!(meta_model().to_string(), "kh4q0ozorrgaq2mezktnrmdwleo1d");
        assert_eq!(meta_model().stream_type(), StreamType::UNLOADABLE);
    }
}
