//! The anchor rule every doctype shares (js-ceramic `anchor-commit-utils.ts`).

use ceramic_codecs::{AnchorProof, Cid};

use crate::{AnchorStatus, CommitKind, LogEntry, StreamState};

/// Applies a verified anchor commit `cid` (its Merkle path and chain inclusion already checked;
/// `timestamp` is the block time): the stream becomes ANCHORED with this proof, the entries
/// since the previous anchor get the timestamp, and the pending view becomes the anchored one.
pub fn apply_anchor(
    state: &StreamState,
    cid: Cid,
    proof: AnchorProof,
    timestamp: u64,
) -> StreamState {
    let mut next = state.clone();
    for entry in next.log.iter_mut().rev() {
        if entry.kind == CommitKind::Anchor {
            break;
        }
        entry.timestamp.get_or_insert(timestamp);
    }
    next.log.push(LogEntry { cid, kind: CommitKind::Anchor, timestamp: Some(timestamp) });
    next.anchor_status = AnchorStatus::Anchored;
    next.anchor_proof = Some(proof);
    // js: `if (state.next?.content) state.content = state.next.content` — only a truthy value
    // moves, so pending `null`, `false`, `0` or `""` content leaves the anchored content.
    if let Some(pending) = next.next.take() {
        if let Some(content) = pending.content.filter(js_truthy) {
            next.content = content;
        }
        if let Some(metadata) = pending.metadata {
            next.metadata = metadata;
        }
    }
    next
}

/// JavaScript truthiness of a JSON value.
fn js_truthy(value: &serde_json::Value) -> bool {
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
    use crate::{Next, SignatureStatus};
    use ceramic_streamid::StreamType;
    use serde_json::json;

    fn cid(n: u8) -> Cid {
        ceramic_codecs::cid_of(0x71, &[n])
    }

    #[test]
    fn falsy_pending_content_does_not_move() {
        for falsy in [json!(null), json!(false), json!(0), json!("")] {
            let mut state = StreamState::genesis(
                StreamType::TILE,
                cid(0),
                json!({"a": 1}),
                Default::default(),
                SignatureStatus::Signed,
            );
            state.next = Some(Next { content: Some(falsy.clone()), metadata: None });
            let proof = AnchorProof {
                chain_id: "inmemory:12345".into(),
                root: cid(0),
                tx_hash: cid(9),
                tx_type: None,
            };
            let anchored = apply_anchor(&state, cid(2), proof, 1);
            assert_eq!(anchored.content, json!({"a": 1}), "{falsy}");
            assert!(anchored.next.is_none());
        }
    }

    #[test]
    fn moves_next_into_place_and_stamps_the_log() {
        let mut state = StreamState::genesis(
            StreamType::TILE,
            cid(0),
            json!({"a": 1}),
            Default::default(),
            SignatureStatus::Signed,
        );
        state.log.push(LogEntry { cid: cid(1), kind: CommitKind::Data, timestamp: None });
        state.next = Some(Next { content: Some(json!({"a": 2})), metadata: None });
        let proof = AnchorProof {
            chain_id: "inmemory:12345".into(),
            root: cid(1),
            tx_hash: cid(9),
            tx_type: None,
        };
        let anchored = apply_anchor(&state, cid(2), proof.clone(), 100);
        assert_eq!(anchored.content, json!({"a": 2}));
        assert!(anchored.next.is_none());
        assert_eq!(anchored.anchor_status, AnchorStatus::Anchored);
        assert!(anchored.log.iter().all(|e| e.timestamp == Some(100)));

        // A second anchor stamps only the entries after the first.
        let mut later = anchored.clone();
        later.log.push(LogEntry { cid: cid(3), kind: CommitKind::Data, timestamp: None });
        let twice = apply_anchor(&later, cid(4), proof, 200);
        let stamps: Vec<_> = twice.log.iter().map(|e| e.timestamp).collect();
        assert_eq!(stamps, [Some(100), Some(100), Some(100), Some(200), Some(200)]);
        assert_eq!(twice.last_anchor_timestamp(), Some(200));
    }
}
