//! JSON patches (RFC 6902) on Tile content, with the `json-patch` crate.

use ceramic_codecs::Ipld;
use ceramic_doctype::ipld_to_json;
use serde_json::Value;

use crate::{Error, MAX_CONTENT_DEPTH, Result};

/// Reads a data commit's `data` as a JSON patch.
pub(crate) fn parse(data: Option<&Ipld>) -> Result<json_patch::Patch> {
    let data = data.ok_or(Error::MissingPatch)?;
    let json = ipld_to_json(data)?;
    serde_json::from_value(json).map_err(Error::MalformedPatch)
}

/// Applies `patch` to a copy of `content`. `content` is never touched, so a failed patch leaves
/// nothing half-applied and `patch_unsafe` (no undo log) is enough.
pub(crate) fn apply(content: &Value, patch: &json_patch::Patch) -> Result<Value> {
    let mut doc = content.clone();
    json_patch::patch_unsafe(&mut doc, patch).map_err(Error::PatchFailed)?;
    if depth(&doc) > MAX_CONTENT_DEPTH {
        return Err(Error::ContentTooDeep { limit: MAX_CONTENT_DEPTH });
    }
    Ok(doc)
}

/// The nesting depth of a JSON value (a scalar is 0), walked with a loop so that it never
/// recurses however deep the value is.
pub(crate) fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 0usize)];
    while let Some((value, level)) = stack.pop() {
        deepest = deepest.max(level);
        match value {
            Value::Array(items) => stack.extend(items.iter().map(|v| (v, level + 1))),
            Value::Object(map) => stack.extend(map.values().map(|v| (v, level + 1))),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn depth_counts_containers() {
        assert_eq!(depth(&json!(1)), 0);
        assert_eq!(depth(&json!({})), 0);
        assert_eq!(depth(&json!({"a": 1})), 1);
        assert_eq!(depth(&json!({"a": [1, {"b": []}]})), 3);
    }

    #[test]
    fn failed_patch_leaves_the_content_alone() {
        let content = json!({"a": 1});
        let patch: json_patch::Patch = serde_json::from_value(json!([
            {"op": "replace", "path": "/a", "value": 2},
            {"op": "remove", "path": "/missing"}
        ]))
        .unwrap();
        assert!(matches!(apply(&content, &patch), Err(Error::PatchFailed(_))));
        assert_eq!(content, json!({"a": 1}));
    }
}
