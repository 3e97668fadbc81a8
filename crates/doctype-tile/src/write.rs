//! Building Tile commits as js-ceramic's `TileDocument.create` and `TileDocument.update` do:
//! a genesis payload with the controller, optional schema, family, tags and a `unique` salt,
//! and data payloads whose patch is [`crate::diff`] of the current and the new content
//! (fast-json-patch `compare()`, byte for byte the JS client's commit). Sign the payload with
//! `ceramic_did::sign_commit` to get the commit's blocks.

use ceramic_codecs::{DataCommit, GenesisCommit, Header, Payload, Unique};
use ceramic_doctype::{StreamState, json_to_ipld};
use ceramic_streamid::CommitId;
use serde_json::Value;

use crate::Error;

/// What a new tile's genesis header holds besides its controller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenesisOptions {
    /// The schema tile's CommitID: the content must validate against it.
    pub schema: Option<CommitId>,
    /// The family (deprecated in js, still accepted).
    pub family: Option<String>,
    /// Tags (deprecated in js, still accepted).
    pub tags: Vec<String>,
    /// The `unique` salt: js uses base64 of 12 random bytes; `None` makes a deterministic
    /// genesis (two with the same header and content are the same stream).
    pub unique: Option<String>,
}

/// The genesis payload of a tile controlled by `controller` with `content` (none for a
/// deterministic, empty tile).
///
/// # Errors
/// [`Error::NotJson`] when `content` holds a number IPLD cannot carry.
pub fn genesis_payload(
    controller: &str,
    content: Option<&Value>,
    options: &GenesisOptions,
) -> Result<Payload, Error> {
    let header = Header {
        controllers: Some(vec![controller.to_owned()]),
        family: options.family.clone(),
        schema: options.schema.map(|s| s.to_string()),
        tags: (!options.tags.is_empty()).then(|| options.tags.clone()),
        unique: options.unique.clone().map(Unique::Text),
        ..Header::default()
    };
    let data = content.map(json_to_ipld).transpose()?;
    Ok(Payload::Genesis(GenesisCommit { header, data }))
}

/// The data payload that changes `state`'s content into `content`, as `TileDocument.update`
/// (`makeCommit`) writes it: `id` = genesis, `prev` = tip, `header` = `{}` (Tile requires a
/// header), `data` = [`crate::diff`] of the current content and `content` (empty when nothing
/// changes). A `null` `content` means "keep the content", as in js (`newContent == null`), and
/// gives an empty patch. With the same state and content, the signed commit is byte for byte the
/// JS client's (vectors `testdata/js-patch-commits.json`).
///
/// # Errors
/// [`Error::NotJson`] when the patch holds a number IPLD cannot carry.
pub fn update_payload(state: &StreamState, content: &Value) -> Result<Payload, Error> {
    let current = state.current_content();
    let ops = if content.is_null() { Vec::new() } else { crate::diff(current, content) };
    let patch = Value::Array(ops.into_iter().map(crate::Operation::into_json).collect());
    Ok(Payload::Data(DataCommit {
        id: state.stream_id().cid(),
        prev: state.tip(),
        header: Some(Header::default()),
        data: Some(json_to_ipld(&patch)?),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tile;
    use crate::test_utils::{MemoryContext, Writer, arb_object};
    use proptest::prelude::*;
    use serde_json::json;

    fn apply(state: Option<&StreamState>, writer: &Writer, payload: Payload) -> StreamState {
        let fixture = writer.sign(payload);
        let tile = Tile::new();
        match state {
            None => fixture.apply_genesis(&tile, &MemoryContext::new()).unwrap(),
            Some(s) => fixture.apply_data(&tile, s, &MemoryContext::new()).unwrap(),
        }
    }

    #[test]
    fn genesis_carries_the_options() {
        let writer = Writer::new(3);
        let options = GenesisOptions {
            family: Some("f".into()),
            tags: vec!["a".into()],
            unique: Some("salt".into()),
            schema: None,
        };
        let payload = genesis_payload(writer.did(), Some(&json!({"x": 1})), &options).unwrap();
        let state = apply(None, &writer, payload);
        assert_eq!(state.content(), &json!({"x": 1}));
        assert_eq!(state.metadata()["family"], "f");
        assert_eq!(state.metadata()["tags"], json!(["a"]));
        assert_eq!(state.metadata()["controllers"], json!([writer.did()]));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Applying the update made from new content yields exactly that content.
        #[test]
        fn update_then_apply_gives_the_new_content(a in arb_object(), b in arb_object()) {
            let writer = Writer::new(4);
            let genesis = genesis_payload(writer.did(), Some(&a), &GenesisOptions::default())
                .unwrap();
            let state = apply(None, &writer, genesis);
            let updated = apply(Some(&state), &writer, update_payload(&state, &b).unwrap());
            // Unanchored updates go to `next`, as in js.
            prop_assert_eq!(updated.current_content(), &b);
            prop_assert_eq!(updated.log().len(), 2);
        }
    }
}
