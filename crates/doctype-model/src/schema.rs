//! The JSON schema of a model: the checks js-ceramic makes of it when the Model is created
//! (`stream-model-handler/src/schema-utils.ts`, the `ObjectSchema` codec), and its compilation
//! for Model Instance Document content (`stream-model-instance-handler/src/schema-utils.ts`:
//! Ajv 2020-12 with `ajv-formats`).

use jsonschema::{Draft, Validator};
use serde_json::{Map, Value};

use crate::DefinitionError;

/// Why a model's schema could not be compiled for instance content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The schema does not compile (e.g. a `$ref` outside the document, a bad regex).
    #[error("the model's schema does not compile: {0}")]
    Compile(String),
}

/// Checks a model schema: `type: "object"`, valid against the draft 2020-12 meta-schema, and
/// every object schema in it (any nested JSON object whose `type` is `"object"`) has
/// `additionalProperties: false` (js `validateAdditionalProperties` over `recursiveMap`).
pub(crate) fn check_schema(schema: &Map<String, Value>) -> Result<(), DefinitionError> {
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        return Err(DefinitionError::SchemaNotObject);
    }
    let value = Value::Object(schema.clone());
    if let Err(e) = jsonschema::draft202012::meta::validate(&value) {
        return Err(DefinitionError::SchemaInvalid(format!("{}: {e}", e.instance_path())));
    }
    additional_properties_disabled(&value, &mut String::new())?;
    // Compiling refuses what the meta-schema lets through but no validator can use (remote
    // `$ref`s, regexes Rust cannot run); js would fail on the first instance instead.
    compile_content_schema(schema)
        .map(|_| ())
        .map_err(|SchemaError::Compile(e)| DefinitionError::SchemaInvalid(e))
}

fn additional_properties_disabled(value: &Value, path: &mut String) -> Result<(), DefinitionError> {
    match value {
        Value::Object(map) => {
            if map.get("type").and_then(Value::as_str) == Some("object")
                && map.get("additionalProperties") != Some(&Value::Bool(false))
            {
                let at = if path.is_empty() { "/".to_owned() } else { path.clone() };
                return Err(DefinitionError::AdditionalPropertiesAllowed(at));
            }
            for (key, child) in map {
                let len = path.len();
                path.push('/');
                path.push_str(key);
                additional_properties_disabled(child, path)?;
                path.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = path.len();
                path.push('/');
                path.push_str(&i.to_string());
                additional_properties_disabled(child, path)?;
                path.truncate(len);
            }
        }
        _ => {}
    }
    Ok(())
}

/// Compiles a model's schema for instance content as js-ceramic's Ajv does: draft 2020-12,
/// formats asserted (`ajv-formats`), no `$ref` fetched from outside the document.
///
/// # Errors
/// [`SchemaError::Compile`] when the schema cannot be compiled.
pub fn compile_content_schema(schema: &Map<String, Value>) -> Result<Validator, SchemaError> {
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true)
        .offline()
        .build(&Value::Object(schema.clone()))
        .map_err(|e| SchemaError::Compile(e.to_string()))
}
