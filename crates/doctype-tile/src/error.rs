//! Why the Tile doctype rejects a commit: one variant per rule.

use ceramic_doctype::{ContextError, JsonError};

/// A commit broke a Tile rule. Each message names the rule; where js-ceramic 6.4.0 has its own
/// message for the same rule, ours says the same thing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The commit is not the kind this step applies (a data commit given as genesis, …).
    #[error("expected a {expected} commit, got a {got} commit")]
    WrongCommitKind {
        /// `"genesis"` or `"data"`.
        expected: &'static str,
        /// What the payload is.
        got: &'static str,
    },
    /// An unsigned genesis carries (truthy) content.
    #[error("genesis commit with contents should always be signed")]
    UnsignedGenesisWithContent,
    /// `controllers` must hold exactly one entry.
    #[error("exactly one controller must be specified, found {0}")]
    ControllerCount(usize),
    /// The genesis controller is not a DID string.
    #[error("controller {0:?} is not a DID string (it must start with \"did:\")")]
    ControllerNotDid(String),
    /// The commit is signed by someone other than the controller.
    #[error("commit is signed by {signer}, but the stream's controller is {controller}")]
    NotController {
        /// The DID whose signature verified.
        signer: String,
        /// The DID that must sign.
        controller: String,
    },
    /// The state has no controller to check a signature against.
    #[error("controller is not set")]
    ControllerNotSet,
    /// A data commit is not signed.
    #[error("a Tile data commit must be signed")]
    UpdateNotSigned,
    /// A data commit has no header (js-ceramic reads `header.controllers` and fails).
    #[error("a Tile data commit must have a header (an empty map when nothing changes)")]
    MissingHeader,
    /// An update sets the controller to an empty string.
    #[error("controller cannot be updated to an empty value")]
    EmptyController,
    /// An update changes the controllers of a stream whose genesis set `forbidControllerChange`.
    #[error(
        "cannot change controllers since 'forbidControllerChange' is set: tried {from:?} -> {to:?}"
    )]
    ControllerChangeForbidden {
        /// The controllers in the anchored metadata.
        from: Vec<String>,
        /// The controllers the update asked for.
        to: Vec<String>,
    },
    /// An update changes `forbidControllerChange`.
    #[error("changing the 'forbidControllerChange' metadata property is not allowed")]
    ForbidControllerChangeChanged,
    /// An update header sets a field only a genesis header may set (`unique`, …).
    #[error("header field {0:?} may only be set in the genesis commit")]
    ImmutableField(&'static str),
    /// A data commit has no `data`.
    #[error("a Tile data commit must carry a JSON patch in `data`")]
    MissingPatch,
    /// The commit's data is not representable as JSON (e.g. an integer beyond 64 bits).
    #[error("commit data is not JSON: {0}")]
    NotJson(#[from] JsonError),
    /// `data` is not an RFC 6902 JSON patch.
    #[error("data is not an RFC 6902 JSON patch: {0}")]
    MalformedPatch(#[source] serde_json::Error),
    /// The JSON patch does not apply to the current content.
    #[error("the JSON patch does not apply to the content: {0}")]
    PatchFailed(#[source] json_patch::PatchError),
    /// The patched content nests deeper than [`crate::MAX_CONTENT_DEPTH`].
    #[error("content nests deeper than {limit} levels")]
    ContentTooDeep {
        /// The limit.
        limit: usize,
    },
    /// `metadata.schema` is not a CommitID string (js: "Commit missing when loading schema
    /// document"; a StreamID without a commit is rejected too).
    #[error("schema {schema:?} is not a CommitID: {source}")]
    SchemaNotCommitId {
        /// The schema string.
        schema: String,
        /// Why it did not parse as a CommitID.
        #[source]
        source: ceramic_streamid::Error,
    },
    /// The schema stream could not be loaded at that commit.
    #[error("schema could not be loaded: {0}")]
    SchemaUnavailable(#[source] Box<ContextError>),
    /// The schema document is not a valid JSON schema (or uses an unsupported `$schema`).
    #[error("schema {schema} is not a valid JSON schema: {source}")]
    SchemaInvalid {
        /// The schema's CommitID, as the metadata names it.
        schema: String,
        /// What the compiler reported.
        #[source]
        source: Box<jsonschema::ValidationError<'static>>,
    },
    /// The content does not validate against the schema.
    #[error("content does not validate against schema {schema}: {}", errors.join("; "))]
    SchemaViolation {
        /// The schema's CommitID, as the metadata names it.
        schema: String,
        /// Each violation as `<instance path>: <message>`, at most
        /// [`crate::MAX_SCHEMA_ERRORS`].
        errors: Vec<String>,
    },
}

// Errors travel by value through every apply; keep them small.
const _: () = assert!(std::mem::size_of::<Error>() <= 64);

/// A `Result` with the Tile [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
