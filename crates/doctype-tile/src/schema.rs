//! JSON-schema checks of Tile content, with compiled validators cached per schema CommitID.
//!
//! js-ceramic (`schema-utils.ts`) loads the schema tile at the CommitID in `metadata.schema` and
//! validates with Ajv 8 (`allErrors`, `strictTypes: false`, `strictTuples: false`, plus
//! `ajv-formats`), keeping up to 500 Ajv instances in an LRU keyed by the schema string. A
//! CommitID names immutable content, so caching the compiled validator by CommitID is exact.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use ceramic_doctype::Context;
use ceramic_streamid::CommitId;
use jsonschema::{Draft, Validator};
use serde_json::Value;

use crate::{Error, Result};

/// How many compiled schemas a [`crate::Tile`] keeps by default (js-ceramic's
/// `AJV_CACHE_SIZE`).
pub const DEFAULT_SCHEMA_CACHE_CAPACITY: usize = 500;

/// At most this many violations are listed in [`Error::SchemaViolation`].
pub const MAX_SCHEMA_ERRORS: usize = 16;

/// Compiled validators by schema CommitID, bounded.
pub(crate) struct SchemaCache {
    capacity: usize,
    validators: Mutex<HashMap<CommitId, Arc<Validator>>>,
}

impl std::fmt::Debug for SchemaCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaCache")
            .field("capacity", &self.capacity)
            .field("cached", &self.lock().len())
            .finish()
    }
}

impl SchemaCache {
    pub(crate) fn new(capacity: usize) -> Self {
        SchemaCache { capacity, validators: Mutex::new(HashMap::new()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CommitId, Arc<Validator>>> {
        // A panic elsewhere while holding the lock leaves the map itself intact.
        self.validators.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    /// Checks `content` against the schema named by `schema` (a CommitID string).
    pub(crate) fn check(&self, schema: &str, content: &Value, ctx: &dyn Context) -> Result<()> {
        let id: CommitId = schema
            .parse()
            .map_err(|source| Error::SchemaNotCommitId { schema: schema.to_owned(), source })?;
        let validator = self.validator(&id, schema, ctx)?;
        let errors: Vec<String> = validator
            .iter_errors(content)
            .take(MAX_SCHEMA_ERRORS)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::SchemaViolation { schema: schema.to_owned(), errors })
        }
    }

    fn validator(&self, id: &CommitId, name: &str, ctx: &dyn Context) -> Result<Arc<Validator>> {
        if let Some(found) = self.lock().get(id) {
            return Ok(Arc::clone(found));
        }
        // Load and compile without the lock: both may be slow, and a race only compiles twice.
        let schema = ctx.load_content(id).map_err(|e| Error::SchemaUnavailable(Box::new(e)))?;
        let validator = Arc::new(compile(&schema).map_err(|source| Error::SchemaInvalid {
            schema: name.to_owned(),
            source: Box::new(source),
        })?);
        let mut cache = self.lock();
        if cache.len() >= self.capacity && !cache.contains_key(id) {
            // Evict an arbitrary entry: any bounded policy is correct, and misses cost one
            // load and compile.
            if let Some(victim) = cache.keys().next().copied() {
                cache.remove(&victim);
            }
        }
        if self.capacity > 0 {
            cache.insert(*id, Arc::clone(&validator));
        }
        Ok(validator)
    }
}

/// Compiles a schema as Ajv would: draft-07 unless `$schema` names another draft, formats
/// asserted, and no `$ref` fetched from outside the document.
pub(crate) fn compile(schema: &Value) -> Result<Validator, jsonschema::ValidationError<'static>> {
    let mut options = jsonschema::options().should_validate_formats(true).offline();
    let declares_draft = schema.as_object().is_some_and(|o| o.contains_key("$schema"));
    if !declares_draft {
        options = options.with_draft(Draft::Draft7);
    }
    options.build(schema)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_to_draft_07() {
        // `dependencies` is a draft-07 keyword; 2020-12 split it into dependentRequired.
        let v = compile(&json!({"dependencies": {"a": ["b"]}})).unwrap();
        assert!(!v.is_valid(&json!({"a": 1})));
        assert!(v.is_valid(&json!({"a": 1, "b": 2})));
    }

    #[test]
    fn honours_declared_draft() {
        let v = compile(&json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "dependentRequired": {"a": ["b"]}
        }))
        .unwrap();
        assert!(!v.is_valid(&json!({"a": 1})));
    }

    #[test]
    fn checks_formats() {
        let v = compile(&json!({"type": "string", "format": "date-time"})).unwrap();
        assert!(!v.is_valid(&json!("yesterday")));
        assert!(v.is_valid(&json!("2024-01-02T03:04:05Z")));
        let v = compile(&json!({"type": "string", "format": "email"})).unwrap();
        assert!(!v.is_valid(&json!("x")));
    }

    #[test]
    fn refuses_remote_refs() {
        assert!(compile(&json!({"$ref": "http://example.com/x"})).is_err());
    }
}
