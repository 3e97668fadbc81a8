//! The anchor rule every doctype shares (js-ceramic `anchor-commit-utils.ts`).

use ceramic_codecs::{AnchorProof, Cid};

use crate::StreamState;

/// Applies a verified anchor commit `cid` (its Merkle path and chain inclusion already checked;
/// `timestamp` is the block time): the stream becomes ANCHORED with this proof, the entries
/// since the previous anchor get the timestamp, and the pending view becomes the anchored one.
pub fn apply_anchor(
    state: &StreamState,
    cid: Cid,
    proof: AnchorProof,
    timestamp: u64,
) -> StreamState {
    state.anchored(cid, proof, timestamp)
}

/// JavaScript truthiness of a JSON value.
pub(crate) fn js_truthy(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AnchorStatus, Change, CommitKind, Next, SignatureStatus};
    use ceramic_streamid::StreamType;
    use serde_json::json;

    fn cid(n: u8) -> Cid {
        ceramic_codecs::cid_of(0x71, &[n])
    }

    fn genesis() -> StreamState {
        StreamState::genesis(
            StreamType::TILE,
            cid(0),
            json!({"a": 1}),
            Default::default(),
            SignatureStatus::Signed,
        )
        .unwrap()
    }

    fn proof(root: u8) -> AnchorProof {
        AnchorProof {
            chain_id: "inmemory:12345".into(),
            root: cid(root),
            tx_hash: cid(9),
            tx_type: None,
        }
    }

    #[test]
    fn falsy_pending_content_does_not_move() {
        for falsy in [json!(null), json!(false), json!(0), json!("")] {
            let state = genesis().with_change(cid(1), None, Change::content(Some(falsy.clone())));
            let anchored = apply_anchor(&state, cid(2), proof(1), 1);
            assert_eq!(anchored.content(), &json!({"a": 1}), "{falsy}");
            assert!(anchored.next().is_none());
        }
    }

    #[test]
    fn moves_next_into_place_and_stamps_the_log() {
        let metadata = serde_json::Map::from_iter([("k".to_string(), json!("v"))]);
        let state = genesis().with_change(
            cid(1),
            None,
            Change::content(Some(json!({"a": 2}))).with_metadata(metadata.clone()),
        );
        assert_eq!(
            state.next(),
            Some(&Next { content: Some(json!({"a": 2})), metadata: Some(metadata.clone()) })
        );
        let anchored = apply_anchor(&state, cid(2), proof(1), 100);
        assert_eq!(anchored.content(), &json!({"a": 2}));
        assert_eq!(anchored.metadata(), &metadata);
        assert!(anchored.next().is_none());
        assert_eq!(anchored.anchor_status(), AnchorStatus::Anchored);
        assert_eq!(anchored.anchor_proof(), Some(&proof(1)));
        assert!(anchored.log().iter().all(|e| e.timestamp == Some(100)));
        assert_eq!(anchored.log().last().map(|e| e.kind), Some(CommitKind::Anchor));

        // A second anchor stamps only the entries after the first.
        let later = anchored.with_change(cid(3), None, Change::content(Some(json!({"a": 3}))));
        let twice = apply_anchor(&later, cid(4), proof(3), 200);
        let stamps: Vec<_> = twice.log().iter().map(|e| e.timestamp).collect();
        assert_eq!(stamps, [Some(100), Some(100), Some(100), Some(200), Some(200)]);
        assert_eq!(twice.last_anchor_timestamp(), Some(200));
        assert_eq!(twice.content(), &json!({"a": 3}));
    }
}
