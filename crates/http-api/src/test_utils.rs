//! Proptest strategies for commits in the forms a JS client sends (feature `test-utils`).

use ceramic_codecs::test_utils::{arb_anchor_commit, arb_envelope, arb_header, arb_json_ipld};
use ceramic_codecs::{Block, Codec, DataCommit, Envelope, GenesisCommit, Header, Payload, Unique};
use ceramic_streamid::test_utils::arb_cid;
use proptest::prelude::*;

/// A header as js can serialize it: `unique` is bytes (js `serializeCommit` base64-encodes it
/// and cannot encode a text `unique`), and no `modelVersion` (js would write it as a CID object
/// that its `deserializeCommit` does not turn back into a link).
pub fn arb_js_header() -> impl Strategy<Value = Header> {
    (arb_header(), prop::option::of(prop::collection::vec(any::<u8>(), 1..16))).prop_map(
        |(header, context)| {
            let unique = match header.unique {
                Some(Unique::Text(_)) | None => None,
                Some(Unique::Bytes(b)) if b.is_empty() => None,
                bytes => bytes,
            };
            let model = header.model.filter(|m| !m.is_empty());
            Header {
                unique,
                model,
                context: context.map(Into::into),
                model_version: None,
                ..header
            }
        },
    )
}

/// Any unsigned payload a JS client can send: JSON content, JS-serializable headers.
pub fn arb_js_payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        (arb_js_header(), prop::option::of(arb_json_ipld()))
            .prop_map(|(header, data)| Payload::Genesis(GenesisCommit { header, data })),
        (
            arb_cid(),
            arb_cid(),
            prop::option::of(arb_js_header()),
            prop::option::of(arb_json_ipld())
        )
            .prop_map(|(id, prev, header, data)| Payload::Data(DataCommit {
                id,
                prev,
                header,
                data
            })),
        arb_anchor_commit().prop_map(Payload::Anchor),
    ]
}

/// A signed commit's blocks: `(envelope, payload)`, the envelope signing the payload's CID
/// (the signatures are arbitrary bytes: serialization does not verify them).
pub fn arb_signed_blocks() -> impl Strategy<Value = (Block, Block)> {
    (arb_js_payload(), arb_envelope()).prop_map(|(payload, envelope)| {
        let payload = Block::encode(Codec::DagCbor, &payload).expect("a payload encodes");
        let envelope = Envelope::new(*payload.cid(), envelope.signatures().to_vec())
            .expect("at least one signature");
        let bytes = envelope.encode().expect("an envelope encodes");
        (Block::from_data(Codec::DagJose, bytes).expect("small"), payload)
    })
}
