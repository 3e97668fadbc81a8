//! The Model doctype (stream type 2): a typed [`ModelDefinition`] (versions 1.0 and 2.0) with a
//! parser that refuses unknown or invalid definitions with a typed [`DefinitionError`], and the
//! [`Model`] doctype that checks a Model stream's genesis by js-ceramic's `ModelHandler` rules.
//!
//! Layer 6 (with the other doctypes): depends on the doctype SDK, `ceramic-codecs`,
//! `ceramic-streamid` and `jsonschema` only. Spec: `specs/models.md`, which lists every rule
//! with its public source (js-ceramic `packages/stream-model`, `packages/stream-model-handler`;
//! rust-ceramic `pipeline/src/aggregator/validation/model.rs`).
//!
//! ```
//! use ceramic_doctype_model::{AccountRelation, ModelDefinition};
//! use serde_json::json;
//!
//! let definition = ModelDefinition::from_json(&json!({
//!     "version": "2.0",
//!     "name": "Note",
//!     "interface": false,
//!     "implements": [],
//!     "accountRelation": {"type": "list"},
//!     "schema": {
//!         "type": "object",
//!         "properties": {"text": {"type": "string"}},
//!         "additionalProperties": false
//!     }
//! }))?;
//! assert_eq!(definition.account_relation(), &AccountRelation::List);
//! assert!(ModelDefinition::from_json(&json!({"version": "3.0"})).is_err());
//! # Ok::<(), ceramic_doctype_model::DefinitionError>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod definition;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
mod model;
mod schema;

pub use definition::{
    AccountRelation, ModelDefinition, ModelDefinitionV1, ModelDefinitionV2, Relation, View,
};
pub use error::{DefinitionError, Error};
pub use model::{META_MODEL, Model, STREAM_TYPE, definition_of, meta_model};
pub use schema::{SchemaError, compile_content_schema};

#[cfg(test)]
mod tests;
