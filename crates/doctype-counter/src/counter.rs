//! The [`Counter`] doctype: its genesis and update rules.

use ceramic_codecs::{Header, Ipld, Payload};
use ceramic_doctype::{
    Change, Commit, Context, Doctype, Genesis, SignatureStatus, StreamState, metadata_from_header,
    signer_is_controller,
};
use ceramic_streamid::StreamType;
use serde_json::json;

use crate::{DataError, Error, Result};

/// The stream type code of counters. Codes 0–4 are registered (CIPs `streamtypes.csv`); a
/// third-party doctype picks a code nobody else uses.
pub const STREAM_TYPE: StreamType = StreamType::new(1000);

/// The largest count: `Number.MAX_SAFE_INTEGER`, so that a JS client reads it exactly.
pub const MAX_COUNT: u64 = (1 << 53) - 1;

/// The largest amount one update may add.
pub const MAX_ADD: u64 = 1_000_000;

/// A counter stream: `{"count": n}`, changed only by its controller adding to it.
///
/// Register it with `registry.register(Counter)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counter;

/// The single key of a map, if `data` is a map with exactly that key (or none, when `optional`).
fn only_key<'a>(data: &'a Ipld, key: &str, optional: bool) -> Result<Option<&'a Ipld>, DataError> {
    let Ipld::Map(map) = data else { return Err(DataError::NotAMap) };
    if let Some(other) = map.keys().find(|k| k.as_str() != key) {
        return Err(DataError::UnknownKey(other.clone()));
    }
    match map.get(key) {
        None if optional => Ok(None),
        None => Err(DataError::MissingAdd),
        Some(value) => Ok(Some(value)),
    }
}

/// An integer in `range`, or `err`.
fn integer_in(
    value: &Ipld,
    range: std::ops::RangeInclusive<u64>,
    err: DataError,
) -> Result<u64, DataError> {
    match value {
        Ipld::Integer(n) => u64::try_from(*n).ok().filter(|n| range.contains(n)).ok_or(err),
        _ => Err(err),
    }
}

impl Doctype for Counter {
    type Error = Error;

    fn stream_type(&self) -> StreamType {
        STREAM_TYPE
    }

    fn name(&self) -> &'static str {
        "counter"
    }

    /// Genesis: signed by its one controller (a DID); `data` absent, null, or
    /// `{"count": n}` with `0 ≤ n ≤ MAX_COUNT`. Content `{"count": n}` (n defaults to 0).
    fn apply_genesis(&self, commit: &Commit<'_>, _ctx: &dyn Context) -> Result<Genesis> {
        let Payload::Genesis(genesis) = commit.payload else {
            return Err(Error::WrongPayload { expected: "genesis", got: commit.payload.kind() });
        };
        let signer = commit.signer.ok_or(Error::Unsigned)?;
        let controllers = genesis.header.controllers.as_deref().unwrap_or_default();
        let [controller] = controllers else {
            return Err(Error::ControllerCount(controllers.len()));
        };
        if !controller.starts_with("did:") {
            return Err(Error::ControllerNotDid(controller.clone()));
        }
        if !signer_is_controller(signer, controller) {
            return Err(Error::WrongSigner {
                expected: controller.clone(),
                got: signer.to_owned(),
            });
        }
        let count = match &genesis.data {
            None | Some(Ipld::Null) => 0,
            Some(data) => match only_key(data, "count", true)? {
                None => 0,
                Some(n) => integer_in(n, 0..=MAX_COUNT, DataError::BadCount)?,
            },
        };
        // The metadata is the header, by the SDK's one rule for every doctype.
        let metadata = metadata_from_header(&genesis.header);
        Ok(Genesis::new(json!({ "count": count }), metadata, SignatureStatus::Signed))
    }

    /// Update: signed by the controller, no header changes, `data` exactly `{"add": k}` with
    /// `1 ≤ k ≤ MAX_ADD`. The pending view's count grows by `k` (the anchored `content` moves
    /// when an anchor lands, as for every doctype). Returns only that new pending content: the
    /// SDK appends the log entry and keeps the pending metadata.
    fn apply_data(
        &self,
        state: &StreamState,
        commit: &Commit<'_>,
        _ctx: &dyn Context,
    ) -> Result<Change> {
        let Payload::Data(data) = commit.payload else {
            return Err(Error::WrongPayload { expected: "data", got: commit.payload.kind() });
        };
        let signer = commit.signer.ok_or(Error::Unsigned)?;
        let controller = state.controller().ok_or(Error::CorruptState)?;
        if !signer_is_controller(signer, controller) {
            return Err(Error::WrongSigner {
                expected: controller.to_owned(),
                got: signer.to_owned(),
            });
        }
        // js-ceramic clients write `header: {}` when nothing changes; anything else is a change.
        if data.header.as_ref().is_some_and(|h| *h != Header::default()) {
            return Err(Error::HeaderChange);
        }
        let add = only_key(data.data.as_ref().unwrap_or(&Ipld::Null), "add", false)?
            .ok_or(DataError::MissingAdd)?;
        let add = integer_in(add, 1..=MAX_ADD, DataError::BadAdd)?;
        let count = state.current_content()["count"].as_u64().ok_or(Error::CorruptState)?;
        let total = count.checked_add(add).filter(|t| *t <= MAX_COUNT);
        let total = total.ok_or(Error::Overflow { count, add })?;
        Ok(Change::content(Some(json!({ "count": total }))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ceramic_codecs::{AnchorProof, Block, Codec, DataCommit, GenesisCommit, cid_of};
    use ceramic_doctype::{CommitKind, ContextError, apply_anchor};
    use ceramic_streamid::{CommitId, StreamId};
    use proptest::prelude::*;
    use serde_json::Value;

    const ALICE: &str = "did:key:z6MkAlice";
    const BOB: &str = "did:key:z6MkBob";

    struct NoContext;
    impl Context for NoContext {
        fn load_content(&self, id: &CommitId) -> Result<Value, ContextError> {
            Err(ContextError::NotFound(*id))
        }
    }

    fn genesis_commit(controllers: &[&str], data: Option<Ipld>) -> Payload {
        Payload::Genesis(GenesisCommit {
            header: Header {
                controllers: Some(controllers.iter().map(|c| c.to_string()).collect()),
                ..Header::default()
            },
            data,
        })
    }

    fn genesis_with(payload: &Payload, signer: Option<&str>) -> Result<StreamState> {
        let cid = *Block::encode(Codec::DagCbor, payload).unwrap().cid();
        let commit = Commit { cid, payload, signer, capability: None, timestamp: None };
        let stream = StreamId::new(STREAM_TYPE, cid).unwrap();
        let genesis = Counter.apply_genesis(&commit, &NoContext)?;
        Ok(StreamState::from_genesis(stream, commit.timestamp, genesis))
    }

    fn genesis(count: Option<i128>) -> StreamState {
        let data = count.map(|n| Ipld::Map([("count".to_string(), Ipld::Integer(n))].into()));
        genesis_with(&genesis_commit(&[ALICE], data), Some(ALICE)).unwrap()
    }

    fn update(
        state: &StreamState,
        data: Option<Ipld>,
        header: Option<Header>,
        signer: Option<&str>,
    ) -> Result<StreamState> {
        let id = state.stream_id().cid();
        let payload = Payload::Data(DataCommit { id, prev: state.tip(), header, data });
        let cid = *Block::encode(Codec::DagCbor, &payload).unwrap().cid();
        let commit = Commit { cid, payload: &payload, signer, capability: None, timestamp: None };
        let change = Counter.apply_data(state, &commit, &NoContext)?;
        Ok(state.with_change(cid, commit.timestamp, change))
    }

    fn add_data(k: i128) -> Ipld {
        Ipld::Map([("add".to_string(), Ipld::Integer(k))].into())
    }

    fn add(state: &StreamState, k: i128) -> Result<StreamState> {
        update(state, Some(add_data(k)), None, Some(ALICE))
    }

    fn anchor(state: &StreamState, t: u64) -> StreamState {
        let proof = AnchorProof {
            chain_id: "inmemory:1".into(),
            root: state.tip(),
            tx_hash: cid_of(0x93, &t.to_be_bytes()),
            tx_type: None,
        };
        apply_anchor(state, cid_of(0x71, &[state.log().len() as u8]), proof, t)
    }

    fn count(state: &StreamState) -> u64 {
        state.current_content()["count"].as_u64().unwrap()
    }

    #[test]
    fn genesis_count_defaults_to_zero() {
        let state = genesis(None);
        assert_eq!(state.content(), &json!({"count": 0}));
        assert_eq!(state.stream_type(), STREAM_TYPE);
        assert_eq!(state.signature(), SignatureStatus::Signed);
        assert_eq!(state.controller(), Some(ALICE));
        assert_eq!(genesis(Some(7)).content(), &json!({"count": 7}));
        let empty = genesis_commit(&[ALICE], Some(Ipld::Map(Default::default())));
        assert_eq!(genesis_with(&empty, Some(ALICE)).unwrap().content(), &json!({"count": 0}));
        let null = genesis_commit(&[ALICE], Some(Ipld::Null));
        assert_eq!(genesis_with(&null, Some(ALICE)).unwrap().content(), &json!({"count": 0}));
    }

    #[test]
    fn rejects_an_unsigned_genesis() {
        let payload = genesis_commit(&[ALICE], None);
        assert!(matches!(genesis_with(&payload, None), Err(Error::Unsigned)));
    }

    #[test]
    fn rejects_a_genesis_signed_by_a_non_controller() {
        let payload = genesis_commit(&[ALICE], None);
        assert!(matches!(genesis_with(&payload, Some(BOB)), Err(Error::WrongSigner { .. })));
    }

    #[test]
    fn rejects_a_genesis_without_exactly_one_did_controller() {
        let none = genesis_commit(&[], None);
        assert!(matches!(genesis_with(&none, Some(ALICE)), Err(Error::ControllerCount(0))));
        let two = genesis_commit(&[ALICE, BOB], None);
        assert!(matches!(genesis_with(&two, Some(ALICE)), Err(Error::ControllerCount(2))));
        let account = genesis_commit(&["0xabc@eip155:1"], None);
        assert!(matches!(
            genesis_with(&account, Some("0xabc@eip155:1")),
            Err(Error::ControllerNotDid(_))
        ));
    }

    #[test]
    fn rejects_bad_genesis_data() {
        let cases = [
            (Ipld::Integer(3), DataError::NotAMap),
            (Ipld::Map([("count".to_string(), Ipld::Integer(-1))].into()), DataError::BadCount),
            (Ipld::Map([("count".to_string(), Ipld::Float(1.5))].into()), DataError::BadCount),
            (
                Ipld::Map([("count".to_string(), Ipld::Integer(i128::from(MAX_COUNT) + 1))].into()),
                DataError::BadCount,
            ),
            (
                Ipld::Map([("other".to_string(), Ipld::Integer(1))].into()),
                DataError::UnknownKey("other".into()),
            ),
        ];
        for (data, expected) in cases {
            let payload = genesis_commit(&[ALICE], Some(data.clone()));
            match genesis_with(&payload, Some(ALICE)) {
                Err(Error::BadData(e)) => assert_eq!(e, expected, "{data:?}"),
                other => panic!("{data:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn adds_to_the_pending_count_until_anchored() {
        let state = add(&genesis(Some(10)), 5).unwrap();
        assert_eq!(state.content(), &json!({"count": 10}));
        assert_eq!(count(&state), 15);
        assert_eq!(state.log().len(), 2);
        assert_eq!(state.log()[1].kind, CommitKind::Data);
        assert_eq!(state.next().and_then(|n| n.metadata.as_ref()), None, "no pending metadata");
        let state = add(&state, 1).unwrap();
        assert_eq!(count(&state), 16);
        let anchored = anchor(&state, 100);
        assert_eq!(anchored.content(), &json!({"count": 16}));
        assert_eq!(count(&add(&anchored, 4).unwrap()), 20);
    }

    #[test]
    fn rejects_an_unsigned_update() {
        let err = update(&genesis(None), Some(add_data(1)), None, None).unwrap_err();
        assert!(matches!(err, Error::Unsigned), "{err}");
    }

    #[test]
    fn rejects_an_update_signed_by_a_non_controller() {
        let err = update(&genesis(None), Some(add_data(1)), None, Some(BOB)).unwrap_err();
        assert!(matches!(err, Error::WrongSigner { .. }), "{err}");
    }

    #[test]
    fn rejects_a_header_change_but_allows_an_empty_header() {
        let state = genesis(None);
        let change = Header { controllers: Some(vec![BOB.into()]), ..Header::default() };
        let err = update(&state, Some(add_data(1)), Some(change), Some(ALICE)).unwrap_err();
        assert!(matches!(err, Error::HeaderChange), "{err}");
        assert!(update(&state, Some(add_data(1)), Some(Header::default()), Some(ALICE)).is_ok());
    }

    #[test]
    fn rejects_bad_update_data() {
        let state = genesis(None);
        let cases = [
            (None, DataError::NotAMap),
            (Some(Ipld::List(vec![])), DataError::NotAMap),
            (Some(Ipld::Map(Default::default())), DataError::MissingAdd),
            (Some(add_data(0)), DataError::BadAdd),
            (Some(add_data(-3)), DataError::BadAdd),
            (Some(add_data(i128::from(MAX_ADD) + 1)), DataError::BadAdd),
            (
                Some(Ipld::Map([("add".to_string(), Ipld::String("1".into()))].into())),
                DataError::BadAdd,
            ),
            (
                Some(Ipld::Map(
                    [("add".to_string(), Ipld::Integer(1)), ("sub".to_string(), Ipld::Integer(1))]
                        .into(),
                )),
                DataError::UnknownKey("sub".into()),
            ),
        ];
        for (data, expected) in cases {
            match update(&state, data.clone(), None, Some(ALICE)) {
                Err(Error::BadData(e)) => assert_eq!(e, expected, "{data:?}"),
                other => panic!("{data:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn rejects_an_overflow() {
        let state = genesis(Some(i128::from(MAX_COUNT) - 1));
        let state = add(&state, 1).unwrap();
        let err = add(&state, 1).unwrap_err();
        assert!(matches!(err, Error::Overflow { count: MAX_COUNT, add: 1 }), "{err}");
    }

    #[test]
    fn rejects_payloads_of_the_wrong_kind() {
        let state = genesis(None);
        let g = genesis_commit(&[ALICE], None);
        let commit = Commit {
            cid: state.tip(),
            payload: &g,
            signer: Some(ALICE),
            capability: None,
            timestamp: None,
        };
        assert!(matches!(
            Counter.apply_data(&state, &commit, &NoContext),
            Err(Error::WrongPayload { expected: "data", .. })
        ));
    }

    proptest! {
        /// Adding `k1, k2, …` one commit at a time gives the same count as adding their sum in
        /// one commit, whatever anchors land in between.
        #[test]
        fn many_adds_equal_one_add_of_the_sum(
            start in 0u64..1_000_000,
            adds in proptest::collection::vec((1u64..=100_000, any::<bool>()), 1..10),
        ) {
            let sum: u64 = adds.iter().map(|(k, _)| k).sum();
            prop_assume!(sum <= MAX_ADD);
            let mut many = genesis(Some(start.into()));
            for (i, (k, anchor_after)) in adds.iter().enumerate() {
                many = add(&many, (*k).into()).unwrap();
                if *anchor_after {
                    many = anchor(&many, i as u64);
                }
            }
            let one = add(&genesis(Some(start.into())), sum.into()).unwrap();
            prop_assert_eq!(count(&many), start + sum);
            prop_assert_eq!(count(&one), start + sum);
            let (many, one) = (anchor(&many, 1000), anchor(&one, 1000));
            prop_assert_eq!(many.content(), one.content());
        }
    }
}
