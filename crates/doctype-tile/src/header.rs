//! Tile's header rules beyond the SDK's shared header → metadata
//! ([`ceramic_doctype::metadata_from_header`], [`ceramic_doctype::merge_header`]).

use ceramic_codecs::Header;

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
    use ceramic_codecs::Unique;

    #[test]
    fn names_the_first_genesis_only_field() {
        assert_eq!(genesis_only_field(&Header::default()), None);
        let tags_only = Header { tags: Some(vec![]), ..Header::default() };
        assert_eq!(genesis_only_field(&tags_only), None);
        let header = Header {
            unique: Some(Unique::Text("u".into())),
            sep: Some("model".into()),
            ..Header::default()
        };
        assert_eq!(genesis_only_field(&header), Some("unique"));
        let header = Header { should_index: Some(true), ..Header::default() };
        assert_eq!(genesis_only_field(&header), Some("shouldIndex"));
    }
}
