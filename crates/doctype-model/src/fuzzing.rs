//! Body of the cargo-fuzz target `model_definition_parse`, replayed by a unit test.

use ceramic_codecs::{Ipld, decode};
use ceramic_doctype::ipld_to_json;
use serde_json::Value;

use crate::ModelDefinition;

/// Reads `data` as a model definition, both as JSON text and as dag-cbor (how a genesis
/// carries it). A definition that parses writes back to JSON that parses to the same
/// definition and the same JSON. Nothing may panic.
pub fn model_definition_parse(data: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        check(&value);
    }
    if let Ok(ipld) = decode::<Ipld>(data, "model definition")
        && let Ok(value) = ipld_to_json(&ipld)
    {
        check(&value);
    }
}

fn check(value: &Value) {
    if let Ok(definition) = ModelDefinition::from_json(value) {
        let json = definition.to_json();
        let again = ModelDefinition::from_json(&json).expect("a written definition parses");
        assert_eq!(again, definition);
        assert_eq!(again.to_json(), json);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replays_the_committed_fuzz_corpus() {
        ceramic_streamid::test_utils::replay_fuzz_corpus(
            env!("CARGO_MANIFEST_DIR"),
            &[("model_definition_parse", super::model_definition_parse)],
        );
    }

    #[test]
    fn a_valid_definition_goes_through() {
        let text = br#"{"version":"1.0","name":"N","accountRelation":{"type":"list"},
            "schema":{"type":"object","additionalProperties":false}}"#;
        super::model_definition_parse(text);
        assert!(crate::ModelDefinition::from_json(&serde_json::from_slice(text).unwrap()).is_ok());
    }
}
