//! Why a model definition or a Model commit was refused.

use ceramic_doctype::ContextError;
use ceramic_streamid::StreamId;

/// Why a model definition is invalid. Each variant names the rule that was broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DefinitionError {
    /// The definition is not a JSON object.
    #[error("a model definition must be an object")]
    NotAnObject,
    /// A key the definition (or one of its parts) may not have.
    #[error("unexpected key {key:?} in {field}")]
    UnknownKey {
        /// Where.
        field: String,
        /// The key.
        key: String,
    },
    /// A required field is absent.
    #[error("missing {field}")]
    Missing {
        /// The field.
        field: String,
    },
    /// A field has the wrong JSON type.
    #[error("{field} must be {expected}")]
    WrongType {
        /// The field.
        field: String,
        /// What it must be.
        expected: &'static str,
    },
    /// `version` is neither `"1.0"` nor `"2.0"`.
    #[error("unsupported model version {0}, this node supports 1.0 and 2.0")]
    UnsupportedVersion(String),
    /// A `type` not allowed here (e.g. `set` in a 1.0 definition).
    #[error("unsupported type {kind:?} for {field}")]
    UnknownType {
        /// The field.
        field: String,
        /// The type given.
        kind: String,
    },
    /// A string that should be a StreamID is not one.
    #[error("{field}: {value:?} is not a StreamID")]
    InvalidStreamId {
        /// The field.
        field: String,
        /// The text.
        value: String,
    },
    /// The schema's `type` is not `"object"`.
    #[error("the model's schema must be an object schema (type \"object\")")]
    SchemaNotObject,
    /// The schema breaks the draft 2020-12 meta-schema or does not compile.
    #[error("invalid schema: {0}")]
    SchemaInvalid(String),
    /// An object schema allows additional properties.
    #[error("all objects in schema need to have additional properties disabled (at {0})")]
    AdditionalPropertiesAllowed(String),
    /// A `set` account relation with no fields.
    #[error("at least one field must be defined for the SET account relation")]
    EmptySetFields,
    /// A `set` field that is not a schema property.
    #[error("field not found in schema: {0}")]
    SetFieldNotFound(String),
    /// A `set` field whose type is not boolean, integer, number or string.
    #[error("unsupported type {kind:?} for field {field} set in the account relation")]
    SetFieldType {
        /// The field.
        field: String,
        /// Its type, if any.
        kind: Option<String>,
    },
    /// A `set` field the schema does not require.
    #[error("field {0} must be required to be used for the SET account relation")]
    SetFieldNotRequired(String),
    /// A view with the name of a schema property.
    #[error("view definition {0:?} used with a property also present in schema")]
    ViewShadowsProperty(String),
    /// An interface with neither properties nor views.
    #[error("invalid interface: a least one property or view must be present")]
    EmptyInterface,
}

/// Why a Model commit was refused. Each variant names the rule that was broken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The doctype was handed a payload of the wrong kind.
    #[error("expected a {expected} commit, got a {got} commit")]
    WrongPayload {
        /// The kind this entry point takes.
        expected: &'static str,
        /// The kind it got.
        got: &'static str,
    },
    /// A Model genesis must be signed.
    #[error("Model genesis commit must be signed")]
    Unsigned,
    /// The genesis must name exactly one controller.
    #[error("exactly one controller must be specified, got {0}")]
    ControllerCount(usize),
    /// The controller must be a DID.
    #[error("controller {0:?} is not a DID")]
    ControllerNotDid(String),
    /// Signed by someone other than the controller.
    #[error("signed by {signer}, but the controller is {controller}")]
    NotController {
        /// The DID that signed.
        signer: String,
        /// The controller.
        controller: String,
    },
    /// The header's `model` is absent or not the meta-model StreamID.
    #[error("invalid 'model' metadata property in Model stream: {0}")]
    NotMetaModel(String),
    /// The header's `sep` is not `"model"`.
    #[error("the separator key must be \"model\", got {0:?}")]
    WrongSeparator(String),
    /// A header field a Model genesis may not have.
    #[error("a Model genesis header may not have {0}")]
    ForbiddenHeader(&'static str),
    /// The genesis has no data.
    #[error("a Model genesis must hold the model definition")]
    MissingDefinition,
    /// The data is not JSON (e.g. bytes or links).
    #[error("the model definition is not JSON: {0}")]
    NotJson(#[from] ceramic_doctype::JsonError),
    /// The definition is invalid.
    #[error("invalid model definition: {0}")]
    Definition(#[from] DefinitionError),
    /// A Model never changes after its genesis.
    #[error("cannot update a finalized Model")]
    Immutable,
    /// An implemented interface could not be loaded.
    #[error("interface {0} could not be loaded")]
    InterfaceNotFound(StreamId),
    /// Loading an implemented interface failed.
    #[error("loading interface {id} failed: {source}")]
    InterfaceUnavailable {
        /// The interface.
        id: StreamId,
        /// Why.
        #[source]
        source: Box<ContextError>,
    },
    /// `implements` names a stream that is not an interface Model.
    #[error("model {0} is not an interface")]
    NotAnInterface(StreamId),
    /// The model does not implement an interface it claims to.
    #[error("invalid {part} implementation of interface {interface}")]
    BadImplementation {
        /// The interface.
        interface: StreamId,
        /// What does not match: `schema`, `relations`, `views` or `immutable fields`.
        part: &'static str,
    },
}
