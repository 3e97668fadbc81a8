//! The ModelInstanceDocument doctype (stream type 3, "MID"): JSON content that its Model's
//! schema, relations, account relation and immutable fields constrain, changed by JSON patches
//! signed by its one controller.
//!
//! Layer 6 (with the other doctypes): depends on the doctype SDK, `ceramic-doctype-model`,
//! `ceramic-codecs`, `ceramic-streamid`, `jsonschema` and `json-patch`. A MID needs its Model:
//! it loads it through [`ceramic_doctype::Context::load_state`] (a MID for a Model this node
//! does not hold is refused with [`Error::ModelNotFound`]) and keeps the compiled schema per
//! Model commit. Spec: `specs/models.md`, which lists every rule with its public source
//! (js-ceramic `packages/stream-model-instance-handler`; rust-ceramic
//! `pipeline/src/aggregator/validation/model_instance.rs`).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]
// Errors name StreamIds and carry the definition error that refused a model (~200 bytes). They
// are returned only when a commit is refused, so boxing them would cost the valid path nothing
// and every caller a dereference.
#![allow(clippy::result_large_err)]

mod dimensions;
mod error;
mod mid;

pub use dimensions::{Dimensions, DimensionsError, dimensions};
pub use error::Error;
pub use mid::{
    DEFAULT_MODEL_CACHE_CAPACITY, MAX_CONTENT_BYTES, ModelInstanceDocument, STREAM_TYPE,
};

#[cfg(test)]
mod tests;
