//! Why a Model Instance Document commit was refused.

use ceramic_doctype::ContextError;
use ceramic_doctype_model::{DefinitionError, SchemaError};
use ceramic_streamid::StreamId;

/// Why a MID commit was refused. Each variant names the rule that was broken.
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
    /// The genesis must name exactly one controller.
    #[error("exactly one controller must be specified, got {0}")]
    ControllerCount(usize),
    /// The controller must be a DID.
    #[error("attempting to create a ModelInstanceDocument with an invalid DID string: {0:?}")]
    ControllerNotDid(String),
    /// Signed by someone other than the controller.
    #[error("signed by {signer}, but the controller is {controller}")]
    NotController {
        /// The DID that signed.
        signer: String,
        /// The controller.
        controller: String,
    },
    /// A genesis with content, or any update, must be signed.
    #[error("ModelInstanceDocument commits with content must be signed")]
    Unsigned,
    /// The header has no `model`, or its bytes are not a StreamID.
    #[error("the header's model is missing or not a StreamID")]
    InvalidModel,
    /// The header's `model` is a StreamID of another type than Model.
    #[error("model for ModelInstanceDocument must refer to a StreamID of a Model stream, got {0}")]
    NotAModel(StreamId),
    /// The header's `context` bytes are not a StreamID.
    #[error("the header's context is not a StreamID")]
    InvalidContext,
    /// The header's `sep` is not `"model"`.
    #[error("the separator key must be \"model\", got {0:?}")]
    WrongSeparator(String),
    /// A header field a MID genesis may not have.
    #[error("a ModelInstanceDocument header may not have {0}")]
    ForbiddenHeader(&'static str),
    /// `unique` is text; MIDs take bytes.
    #[error("a ModelInstanceDocument's unique must be bytes")]
    UniqueNotBytes,
    /// The node does not hold the Model.
    #[error("model {0} could not be loaded: this node does not hold it")]
    ModelNotFound(StreamId),
    /// Loading the Model (or a related stream) failed.
    #[error("loading {id} failed: {source}")]
    LoadFailed {
        /// The stream.
        id: StreamId,
        /// Why.
        #[source]
        source: Box<ContextError>,
    },
    /// The Model's content is not a valid definition.
    #[error("model {model} has an invalid definition: {source}")]
    BadModel {
        /// The Model.
        model: StreamId,
        /// Why.
        #[source]
        source: DefinitionError,
    },
    /// The Model's schema does not compile.
    #[error("model {model}: {source}")]
    BadSchema {
        /// The Model.
        model: StreamId,
        /// Why.
        #[source]
        source: SchemaError,
    },
    /// Interface models have no instances.
    #[error("ModelInstanceDocument streams cannot be created on interface Models ({0})")]
    InterfaceModel(StreamId),
    /// A `single` or `set` genesis is deterministic and has no content.
    #[error(
        "deterministic genesis commits for ModelInstanceDocuments ({0} account relation) must not have content"
    )]
    DeterministicContent(&'static str),
    /// `unique` where the account relation forbids it (`single`).
    #[error(
        "ModelInstanceDocuments for models with SINGLE accountRelations must be created deterministically"
    )]
    UniqueForSingle,
    /// No `unique` where the account relation needs one (`list`, `set`).
    #[error(
        "ModelInstanceDocuments for models with {0} accountRelations must be created with a unique field"
    )]
    MissingUnique(&'static str),
    /// For a `set` model, the content's set fields do not give the header's `unique`.
    #[error(
        "unique content fields value does not match metadata: expected {expected:?}, found {found:?}"
    )]
    UniqueMismatch {
        /// The genesis `unique`, as text.
        expected: String,
        /// The set fields of the content joined by `|`.
        found: String,
    },
    /// The content is larger than [`crate::MAX_CONTENT_BYTES`].
    #[error("content has length of {size}B which exceeds maximum size of {max}B")]
    TooLarge {
        /// Its size (bytes of its JSON text).
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The content breaks the Model's schema.
    #[error("content does not match the schema of model {model}: {}", errors.join("; "))]
    SchemaViolation {
        /// The Model.
        model: StreamId,
        /// The first violations, each `path: message`.
        errors: Vec<String>,
    },
    /// A document relation field that is not a StreamID string of a MID.
    #[error("relation field {field}: {value:?} is not the StreamID of a ModelInstanceDocument")]
    BadRelation {
        /// The field.
        field: String,
        /// Its value.
        value: String,
    },
    /// A document relation to a stream this node does not hold.
    #[error("relation field {field} points to {target}, which could not be loaded")]
    RelationNotFound {
        /// The field.
        field: String,
        /// The stream.
        target: StreamId,
    },
    /// A document relation to a stream of another model.
    #[error(
        "relation on field {field} points to {target} of model {found}, but must point to a document of model {expected}"
    )]
    WrongRelationModel {
        /// The field.
        field: String,
        /// The stream.
        target: StreamId,
        /// Its model.
        found: String,
        /// The model the relation names.
        expected: StreamId,
    },
    /// An update may change only `shouldIndex` (and `modelVersion`) in its header.
    #[error("updating metadata for ModelInstanceDocument streams is not allowed ({0})")]
    HeaderChange(&'static str),
    /// An update's data is not a JSON patch.
    #[error("the update is not a JSON patch: {0}")]
    NotAPatch(String),
    /// The patch does not apply to the content.
    #[error("the patch does not apply: {0}")]
    PatchFailed(String),
    /// The data is not JSON (bytes or links).
    #[error("the data is not JSON: {0}")]
    NotJson(#[from] ceramic_doctype::JsonError),
    /// A patch writes an immutable field.
    #[error("immutable field {0:?} cannot be updated")]
    ImmutableField(String),
    /// The stream's state lacks what every MID state has (controller, model).
    #[error("the stream's state is not a ModelInstanceDocument state")]
    CorruptState,
}
