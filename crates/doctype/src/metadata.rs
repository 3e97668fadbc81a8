//! One header → metadata rule for every doctype: the JSON object js-ceramic keeps in
//! `state.metadata` for a genesis header, and the `{...metadata, ...header}` rule for the header
//! of a data commit.

use ceramic_codecs::{Header, Ipld, Unique};
use serde_json::Value;

use crate::{Metadata, ipld_to_json};

/// A header as the metadata object js-ceramic holds (`metadata = {...genesis.header}`): every
/// present field under its JSON name, in the order a JS dag-cbor decoder yields them (canonical
/// order: shorter keys first, then bytewise). Text stays text; bytes (`model`, `context`, bytes
/// `unique`) take dag-json's `{"/": {"bytes": …}}` form and `modelVersion` the link form
/// `{"/": cid}`.
///
/// ```
/// use ceramic_codecs::Header;
/// let header = Header {
///     controllers: Some(vec!["did:key:z6Mk".into()]),
///     family: Some("f".into()),
///     ..Header::default()
/// };
/// let metadata = ceramic_doctype::metadata_from_header(&header);
/// // js-ceramic decodes dag-cbor maps in canonical order: `family` before `controllers`.
/// assert_eq!(metadata.keys().collect::<Vec<_>>(), ["family", "controllers"]);
/// ```
pub fn metadata_from_header(header: &Header) -> Metadata {
    // Bytes and links always convert (only out-of-range integers and non-finite floats fail).
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

/// The metadata after a data commit's `header`: `{...base, ...header}` (js-ceramic's Tile rule;
/// `base` is normally [`crate::StreamState::current_metadata`]). Keys already in `base` keep
/// their place, new ones follow in header order, as JS object spread does.
pub fn merge_header(base: &Metadata, header: &Header) -> Metadata {
    let mut out = base.clone();
    for (key, value) in metadata_from_header(header) {
        out.insert(key, value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
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
        let metadata = metadata_from_header(&header);
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
        let base = metadata_from_header(&Header {
            controllers: Some(vec!["did:a".into()]),
            family: Some("f".into()),
            ..Header::default()
        });
        let merged = merge_header(
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

    fn arb_header() -> impl Strategy<Value = Header> {
        let text = "[a-z0-9:]{0,8}";
        (
            proptest::option::of(proptest::collection::vec(text, 0..3)),
            proptest::option::of(text),
            proptest::option::of(text),
            proptest::option::of(proptest::collection::vec(text, 0..3)),
            proptest::option::of(prop_oneof![
                text.prop_map(Unique::Text),
                proptest::collection::vec(any::<u8>(), 0..8).prop_map(Unique::Bytes),
            ]),
            proptest::option::of(any::<bool>()),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..8)),
            proptest::option::of(text),
            proptest::option::of(any::<bool>()),
        )
            .prop_map(
                |(controllers, family, schema, tags, unique, forbid, model, sep, should_index)| {
                    Header {
                        controllers,
                        family,
                        schema,
                        tags,
                        unique,
                        forbid_controller_change: forbid,
                        model: model.map(Into::into),
                        sep,
                        should_index,
                        ..Header::default()
                    }
                },
            )
    }

    proptest! {
        /// The metadata holds exactly what the encoded header holds, value for value, in the
        /// encoding's (canonical) key order: what a JS client reads back from the block.
        #[test]
        fn metadata_is_the_encoded_header(header in arb_header()) {
            let bytes = ceramic_codecs::encode(&header).unwrap();
            let ipld: Ipld = ceramic_codecs::decode(&bytes, "header").unwrap();
            let Value::Object(decoded) = ipld_to_json(&ipld).unwrap() else {
                panic!("a header encodes as a map")
            };
            let metadata = metadata_from_header(&header);
            prop_assert_eq!(&metadata, &decoded);
            // dag-cbor's canonical order: shorter keys first, then bytewise.
            let keys: Vec<_> = metadata.keys().collect();
            let mut canonical = keys.clone();
            canonical.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
            prop_assert_eq!(keys, canonical);
        }
    }
}
