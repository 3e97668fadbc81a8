//! Headers as metadata: the JSON object js-ceramic keeps in `state.metadata`.

use ceramic_codecs::{Header, Ipld, Unique};
use ceramic_doctype::{Metadata, ipld_to_json};
use serde_json::Value;

/// A header as the metadata object js-ceramic holds: every present field under its JSON name,
/// in the order a JS dag-cbor decoder yields them (canonical order: shorter keys first, then
/// bytewise). Text stays text; bytes (`model`, `context`, bytes `unique`) take dag-json's
/// `{"/": {"bytes": …}}` form and `modelVersion` the link form `{"/": cid}`.
pub fn header_to_metadata(header: &Header) -> Metadata {
    let bytes = |b: &[u8]| ipld_to_json(&Ipld::Bytes(b.to_vec())).unwrap_or(Value::Null);
    let strings = |v: &[String]| Value::Array(v.iter().cloned().map(Value::String).collect());
    let mut out = Metadata::new();
    // Canonical dag-cbor order of the header's keys (length, then bytes).
    if let Some(sep) = &header.sep {
        out.insert("sep".into(), Value::String(sep.clone()));
    }
    if let Some(tags) = &header.tags {
        out.insert("tags".into(), strings(tags));
    }
    if let Some(model) = &header.model {
        out.insert("model".into(), bytes(model));
    }
    if let Some(family) = &header.family {
        out.insert("family".into(), Value::String(family.clone()));
    }
    if let Some(schema) = &header.schema {
        out.insert("schema".into(), Value::String(schema.clone()));
    }
    if let Some(unique) = &header.unique {
        let value = match unique {
            Unique::Text(text) => Value::String(text.clone()),
            Unique::Bytes(b) => bytes(b),
        };
        out.insert("unique".into(), value);
    }
    if let Some(context) = &header.context {
        out.insert("context".into(), bytes(context));
    }
    if let Some(controllers) = &header.controllers {
        out.insert("controllers".into(), strings(controllers));
    }
    if let Some(should_index) = header.should_index {
        out.insert("shouldIndex".into(), Value::Bool(should_index));
    }
    if let Some(version) = &header.model_version {
        out.insert(
            "modelVersion".into(),
            ipld_to_json(&Ipld::Link(*version)).unwrap_or(Value::Null),
        );
    }
    if let Some(forbid) = header.forbid_controller_change {
        out.insert("forbidControllerChange".into(), Value::Bool(forbid));
    }
    out
}

/// `{...base, ...header}`: keys already in `base` keep their place, new ones follow in header
/// order, as JS object spread does.
pub(crate) fn merge(base: &Metadata, header: &Header) -> Metadata {
    let mut out = base.clone();
    for (key, value) in header_to_metadata(header) {
        out.insert(key, value);
    }
    out
}

/// The first present genesis-only field of an update header, by its JSON name.
pub(crate) fn genesis_only_field(header: &Header) -> Option<&'static str> {
    // `forbidControllerChange` has its own rule (it may repeat the genesis value).
    [
        ("unique", header.unique.is_some()),
        ("model", header.model.is_some()),
        ("sep", header.sep.is_some()),
        ("context", header.context.is_some()),
        ("shouldIndex", header.should_index.is_some()),
        ("modelVersion", header.model_version.is_some()),
    ]
    .into_iter()
    .find_map(|(name, present)| present.then_some(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_follow_canonical_order_and_json_names() {
        let header = Header {
            controllers: Some(vec!["did:key:z".into()]),
            family: Some("f".into()),
            schema: Some("k3y".into()),
            tags: Some(vec!["t".into()]),
            unique: Some(Unique::Text("u".into())),
            forbid_controller_change: Some(true),
            ..Header::default()
        };
        let metadata = header_to_metadata(&header);
        let keys: Vec<_> = metadata.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["tags", "family", "schema", "unique", "controllers", "forbidControllerChange"]
        );
        assert_eq!(metadata["forbidControllerChange"], json!(true));
        assert_eq!(metadata["controllers"], json!(["did:key:z"]));
    }

    #[test]
    fn merge_overrides_in_place_and_appends() {
        let base = header_to_metadata(&Header {
            controllers: Some(vec!["did:a".into()]),
            family: Some("f".into()),
            ..Header::default()
        });
        let merged = merge(
            &base,
            &Header {
                controllers: Some(vec!["did:b".into()]),
                tags: Some(vec![]),
                ..Header::default()
            },
        );
        let keys: Vec<_> = merged.keys().map(String::as_str).collect();
        assert_eq!(keys, ["family", "controllers", "tags"]);
        assert_eq!(merged["controllers"], json!(["did:b"]));
    }
}
