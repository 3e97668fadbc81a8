//! The [`Caip10Link`] doctype: genesis and data-commit rules (js-ceramic
//! `stream-caip10-link-handler/src/caip10-link-handler.ts`).

use ceramic_codecs::{Ipld, Payload};
use ceramic_doctype::{
    AnchorStatus, Change, Commit, Context, Doctype, Genesis, Next, SignatureStatus, StreamState,
    metadata_from_header,
};
use ceramic_streamid::StreamType;
use serde_json::Value;

use crate::{AccountId, Error, LinkProof, Result};

/// The metadata key where a link records its proof's timestamp (js `lastUpdate`).
pub const LAST_UPDATE: &str = "lastUpdate";

/// The CAIP-10 Account Link doctype (stream type 1, `caip10-link`).
///
/// Register it with `registry.register(Caip10Link)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Caip10Link;

/// JavaScript truthiness, for js `if (commit.data)`.
fn js_truthy(value: &Ipld) -> bool {
    match value {
        Ipld::Null => false,
        Ipld::Bool(b) => *b,
        Ipld::Integer(n) => *n != 0,
        Ipld::Float(f) => *f != 0.0 && !f.is_nan(),
        Ipld::String(s) => !s.is_empty(),
        // Bytes (a Uint8Array), lists, maps and links are objects: truthy even when empty.
        Ipld::Bytes(_) | Ipld::List(_) | Ipld::Map(_) | Ipld::Link(_) => true,
    }
}

/// The controller of a link stream, lower-cased: the legacy account in `controllers[0]`.
fn controller(state: &StreamState) -> Result<String> {
    let controller = state
        .metadata()
        .get("controllers")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .and_then(Value::as_str)
        .ok_or(Error::MissingController)?;
    // js: "Controller is not following the legacy CAIP10 format".
    if !controller.contains('@') {
        return Err(Error::ControllerNotLegacy { controller: controller.to_owned() });
    }
    Ok(controller.to_lowercase())
}

/// The replay guard's lower bound for a new proof's timestamp, if any (js compares with
/// `undefined` otherwise, which never rejects).
fn replay_bound(state: &StreamState) -> Option<u64> {
    if state.signature() == SignatureStatus::Genesis {
        return None;
    }
    if state.anchor_status() == AnchorStatus::Anchored {
        state.last_anchor_timestamp()
    } else {
        state.next()?.metadata.as_ref()?.get(LAST_UPDATE)?.as_u64()
    }
}

impl Doctype for Caip10Link {
    type Error = Error;

    fn stream_type(&self) -> StreamType {
        StreamType::CAIP10_LINK
    }

    fn name(&self) -> &'static str {
        "caip10-link"
    }

    /// Genesis: unsigned, no data (js-falsy allowed), exactly one controller in the legacy
    /// CAIP-10 form. State: content `null`, `next.content` `null`, metadata the header verbatim,
    /// signature GENESIS.
    fn apply_genesis(&self, commit: &Commit<'_>, _ctx: &dyn Context) -> Result<Genesis> {
        let Payload::Genesis(genesis) = commit.payload else {
            return Err(Error::WrongPayload { expected: "genesis", got: commit.payload.kind() });
        };
        if let Some(signer) = commit.signer {
            return Err(Error::SignedGenesis { signer: signer.to_owned() });
        }
        // js `if (commit.data) throw`: a present but falsy value (null, false, 0, "") passes.
        if genesis.data.as_ref().is_some_and(js_truthy) {
            return Err(Error::GenesisHasData);
        }
        let controllers = genesis.header.controllers.as_deref().unwrap_or_default();
        let [controller] = controllers else {
            return Err(Error::ControllerCount(controllers.len()));
        };
        // js checks the `@` only when an update arrives; a genesis whose controller is not an
        // account could never be linked, so we reject it up front.
        AccountId::from_legacy(controller)
            .map_err(|_| Error::ControllerNotLegacy { controller: controller.clone() })?;
        // js `metadata: {...payload.header}`, `next: {content: null}`.
        let metadata = metadata_from_header(&genesis.header);
        Ok(Genesis::new(Value::Null, metadata, SignatureStatus::Genesis)
            .with_next(Next { content: Some(Value::Null), metadata: None }))
    }

    /// Data commit: unsigned `{id, prev, data: LinkProof}`. The proof must verify
    /// ([`LinkProof::verify`]), pass the replay guard, and prove the controller's account. Any
    /// `header` is ignored, as in js.
    fn apply_data(
        &self,
        state: &StreamState,
        commit: &Commit<'_>,
        _ctx: &dyn Context,
    ) -> Result<Change> {
        let Payload::Data(data) = commit.payload else {
            return Err(Error::WrongPayload { expected: "data", got: commit.payload.kind() });
        };
        if let Some(signer) = commit.signer {
            return Err(Error::SignedUpdate { signer: signer.to_owned() });
        }
        let proof = data.data.as_ref().ok_or(Error::MissingProof)?;
        let link = LinkProof::from_ipld(proof)?.verify()?;

        // Replay guard (js "Invalid commit, proof timestamp too old"). A proof without a
        // timestamp compares false in js and so always passes.
        if let (Some(timestamp), Some(bound)) = (link.timestamp(), replay_bound(state))
            && timestamp < bound
        {
            return Err(Error::StaleProof { timestamp, bound });
        }

        let account = link.account().to_legacy().to_lowercase();
        let controller = controller(state)?;
        if account != controller {
            return Err(Error::AccountMismatch { account, controller });
        }

        // js `{...state.metadata, lastUpdate: proof.timestamp}`: an absent timestamp is
        // `undefined`, which drops the key.
        let mut metadata = state.metadata().clone();
        match link.timestamp() {
            Some(t) => metadata.insert(LAST_UPDATE.to_owned(), Value::from(t)),
            None => metadata.remove(LAST_UPDATE),
        };
        // js `next.content = proof.did`, `undefined` for an unlink message. Compatibility
        // quirk reproduced: the anchor rule copies `next.content` only when truthy, so an
        // unlink leaves the previously linked DID in `content` (see specs/doctypes/caip10-link.md).
        let did = link.did().map(|did| Value::String(did.to_owned()));
        Ok(Change::content(did).with_metadata(metadata))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_utils::{NoContext, account_of, key, link_commit};
    use crate::{LinkProof, genesis_for_account};
    use ceramic_codecs::{AnchorProof, Block, Codec, DataCommit, GenesisCommit, cid_of};
    use ceramic_doctype::{CommitKind, LogEntry, apply_anchor};
    use ceramic_streamid::StreamId;
    use serde_json::json;

    fn genesis_state(account: &str) -> StreamState {
        let genesis = genesis_for_account(account).unwrap();
        apply_genesis_commit(&genesis, None).unwrap()
    }

    fn apply_genesis_commit(genesis: &GenesisCommit, signer: Option<&str>) -> Result<StreamState> {
        let payload = Payload::Genesis(genesis.clone());
        let cid = *Block::encode(Codec::DagCbor, &payload).unwrap().cid();
        let commit = Commit { cid, payload: &payload, signer, capability: None, timestamp: None };
        let genesis = Caip10Link.apply_genesis(&commit, &NoContext)?;
        let stream = StreamId::new(StreamType::CAIP10_LINK, cid).unwrap();
        Ok(StreamState::from_genesis(stream, commit.timestamp, genesis))
    }

    fn apply(state: &StreamState, proof: &Ipld) -> Result<StreamState> {
        apply_signed(state, Some(proof.clone()), None)
    }

    fn apply_signed(
        state: &StreamState,
        proof: Option<Ipld>,
        signer: Option<&str>,
    ) -> Result<StreamState> {
        let payload = Payload::Data(DataCommit {
            id: state.stream_id().cid(),
            prev: state.tip(),
            header: None,
            data: proof,
        });
        let cid = *Block::encode(Codec::DagCbor, &payload).unwrap().cid();
        let commit = Commit { cid, payload: &payload, signer, capability: None, timestamp: None };
        let change = Caip10Link.apply_data(state, &commit, &NoContext)?;
        Ok(state.with_change(cid, commit.timestamp, change))
    }

    fn anchor(state: &StreamState, timestamp: u64) -> StreamState {
        let proof = AnchorProof {
            chain_id: "eip155:1".into(),
            root: state.tip(),
            tx_hash: cid_of(0x93, &timestamp.to_be_bytes()),
            tx_type: None,
        };
        apply_anchor(state, cid_of(0x71, &timestamp.to_le_bytes()), proof, timestamp)
    }

    fn proof(seed: u8, did: &str, chain: u64, timestamp: u64) -> Ipld {
        LinkProof::sign_eoa(&key(seed), did, chain, timestamp).to_ipld()
    }

    fn with_field(proof: &Ipld, name: &str, value: Ipld) -> Ipld {
        let Ipld::Map(mut map) = proof.clone() else { unreachable!() };
        map.insert(name.into(), value);
        Ipld::Map(map)
    }

    #[test]
    fn genesis_state_follows_js() {
        let state = genesis_state(&account_of(1, 1));
        assert_eq!(state.stream_type(), StreamType::CAIP10_LINK);
        assert_eq!(state.content(), &Value::Null);
        assert_eq!(state.next(), Some(&Next { content: Some(Value::Null), metadata: None }));
        assert_eq!(state.signature(), SignatureStatus::Genesis);
        assert_eq!(state.anchor_status(), AnchorStatus::NotRequested);
        assert_eq!(state.metadata()["family"], json!("caip10-eip155:1"));
        // js `{...header}` in the block's (canonical) key order.
        let keys: Vec<_> = state.metadata().keys().map(String::as_str).collect();
        assert_eq!(keys, ["family", "controllers"]);
        assert_eq!(
            state.controller().unwrap(),
            format!("{}@eip155:1", crate::eth_address(key(1).verifying_key()))
        );
        assert_eq!(state.log().len(), 1);
    }

    #[test]
    fn rejects_a_signed_genesis() {
        let genesis = genesis_for_account(&account_of(1, 1)).unwrap();
        let err = apply_genesis_commit(&genesis, Some("did:key:z6Mk")).unwrap_err();
        assert!(matches!(err, Error::SignedGenesis { .. }), "{err}");
    }

    #[test]
    fn rejects_a_genesis_with_data_but_allows_js_falsy_data() {
        let mut genesis = genesis_for_account(&account_of(1, 1)).unwrap();
        for truthy in [Ipld::Integer(1), Ipld::String("x".into()), Ipld::Map(Default::default())] {
            genesis.data = Some(truthy);
            assert!(matches!(apply_genesis_commit(&genesis, None), Err(Error::GenesisHasData)));
        }
        for falsy in [Ipld::Null, Ipld::Bool(false), Ipld::Integer(0), Ipld::String(String::new())]
        {
            genesis.data = Some(falsy);
            assert!(apply_genesis_commit(&genesis, None).is_ok());
        }
    }

    #[test]
    fn rejects_a_genesis_without_exactly_one_legacy_controller() {
        let mut genesis = genesis_for_account(&account_of(1, 1)).unwrap();
        genesis.header.controllers = Some(vec![]);
        assert!(matches!(apply_genesis_commit(&genesis, None), Err(Error::ControllerCount(0))));
        genesis.header.controllers = None;
        assert!(matches!(apply_genesis_commit(&genesis, None), Err(Error::ControllerCount(0))));
        genesis.header.controllers = Some(vec!["0xa@eip155:1".into(), "0xb@eip155:1".into()]);
        assert!(matches!(apply_genesis_commit(&genesis, None), Err(Error::ControllerCount(2))));
        for bad in ["did:key:z6Mk", "eip155:1:0xabc", "0xabc@eip155"] {
            genesis.header.controllers = Some(vec![bad.into()]);
            let err = apply_genesis_commit(&genesis, None).unwrap_err();
            assert!(matches!(err, Error::ControllerNotLegacy { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn rejects_payloads_of_the_wrong_kind() {
        let state = genesis_state(&account_of(1, 1));
        let genesis = Payload::Genesis(genesis_for_account(&account_of(1, 1)).unwrap());
        let commit = Commit {
            cid: state.tip(),
            payload: &genesis,
            signer: None,
            capability: None,
            timestamp: None,
        };
        assert!(matches!(
            Caip10Link.apply_data(&state, &commit, &NoContext),
            Err(Error::WrongPayload { expected: "data", got: "genesis" })
        ));
        let (_, data) = link_commit(&state, &proof(1, "did:key:z6Mk", 1, 1));
        let commit = Commit {
            cid: state.tip(),
            payload: &data,
            signer: None,
            capability: None,
            timestamp: None,
        };
        assert!(matches!(
            Caip10Link.apply_genesis(&commit, &NoContext),
            Err(Error::WrongPayload { expected: "genesis", got: "data" })
        ));
    }

    #[test]
    fn links_relinks_and_anchors() {
        let state = genesis_state(&account_of(1, 1));
        let linked = apply(&state, &proof(1, "did:key:alice", 1, 100)).unwrap();
        assert_eq!(linked.signature(), SignatureStatus::Signed);
        assert_eq!(linked.content(), &Value::Null);
        assert_eq!(linked.current_content(), &json!("did:key:alice"));
        assert_eq!(linked.current_metadata()[LAST_UPDATE], json!(100));
        assert_eq!(linked.log().len(), 2);
        assert_eq!(linked.log()[1].kind, CommitKind::Data);

        let anchored = anchor(&linked, 150);
        assert_eq!(anchored.content(), &json!("did:key:alice"));
        assert_eq!(anchored.metadata()[LAST_UPDATE], json!(100));

        let relinked = apply(&anchored, &proof(1, "did:key:bob", 1, 200)).unwrap();
        assert_eq!(relinked.content(), &json!("did:key:alice"));
        assert_eq!(relinked.current_content(), &json!("did:key:bob"));
        assert_eq!(relinked.current_metadata()[LAST_UPDATE], json!(200));
        assert_eq!(relinked.anchor_status(), AnchorStatus::NotRequested);
        assert_eq!(anchor(&relinked, 250).content(), &json!("did:key:bob"));
    }

    #[test]
    fn an_unlink_keeps_the_anchored_did_as_js_does() {
        let state = genesis_state(&account_of(1, 1));
        let linked = anchor(&apply(&state, &proof(1, "did:key:alice", 1, 100)).unwrap(), 150);
        let cleared = apply(&linked, &proof(1, "", 1, 200)).unwrap();
        let next = cleared.next().unwrap();
        assert_eq!(next.content, None);
        assert_eq!(cleared.current_content(), &json!("did:key:alice"));
        assert_eq!(anchor(&cleared, 300).content(), &json!("did:key:alice"));
    }

    #[test]
    fn rejects_a_signed_update() {
        let state = genesis_state(&account_of(1, 1));
        let err = apply_signed(&state, Some(proof(1, "did:key:a", 1, 1)), Some("did:key:z6Mk"))
            .unwrap_err();
        assert!(matches!(err, Error::SignedUpdate { .. }), "{err}");
    }

    #[test]
    fn rejects_an_update_without_a_proof() {
        let state = genesis_state(&account_of(1, 1));
        assert!(matches!(apply_signed(&state, None, None), Err(Error::MissingProof)));
        assert!(matches!(apply(&state, &Ipld::List(vec![])), Err(Error::ProofNotAMap)));
    }

    #[test]
    fn rejects_malformed_proof_fields() {
        let state = genesis_state(&account_of(1, 1));
        let good = proof(1, "did:key:a", 1, 1);
        for field in ["message", "signature", "account"] {
            let Ipld::Map(mut map) = good.clone() else { unreachable!() };
            map.remove(field);
            let err = apply(&state, &Ipld::Map(map)).unwrap_err();
            assert!(matches!(err, Error::MissingProofField(f) if f == field), "{field}: {err}");
            let err = apply(&state, &with_field(&good, field, Ipld::Integer(1))).unwrap_err();
            assert!(matches!(err, Error::ProofFieldType { field: f, .. } if f == field), "{err}");
        }
        for field in ["version", "timestamp"] {
            for bad in [Ipld::Integer(-1), Ipld::Float(1.5), Ipld::String("1".into())] {
                let err = apply(&state, &with_field(&good, field, bad)).unwrap_err();
                assert!(
                    matches!(err, Error::ProofFieldType { field: f, .. } if f == field),
                    "{err}"
                );
            }
        }
        let err = apply(&state, &with_field(&good, "chainId", Ipld::Bool(true))).unwrap_err();
        assert!(matches!(err, Error::ProofFieldType { field: "chainId", .. }), "{err}");
        let err =
            apply(&state, &with_field(&good, "account", Ipld::String("nope".into()))).unwrap_err();
        assert!(matches!(err, Error::InvalidAccount { .. }), "{err}");
    }

    #[test]
    fn rejects_malformed_signatures() {
        let state = genesis_state(&account_of(1, 1));
        let good = proof(1, "did:key:a", 1, 1);
        let Ipld::Map(map) = &good else { unreachable!() };
        let Some(Ipld::String(sig)) = map.get("signature") else { unreachable!() };
        type Check = fn(&Error) -> bool;
        let cases: [(String, Check); 4] = [
            (sig[2..].to_string(), |e| matches!(e, Error::SignatureNotHex)),
            (sig[..sig.len() - 2].to_string(), |e| matches!(e, Error::SignatureLength(64))),
            (format!("{}1d", &sig[..sig.len() - 2]), |e| {
                matches!(e, Error::SignatureRecoveryByte(29))
            }),
            (format!("0x{}1b", "ff".repeat(64)), |e| matches!(e, Error::InvalidSignature)),
        ];
        for (bad, check) in cases {
            let err =
                apply(&state, &with_field(&good, "signature", Ipld::String(bad))).unwrap_err();
            assert!(check(&err), "{err}");
        }
    }

    #[test]
    fn rejects_a_proof_signed_by_another_account() {
        let state = genesis_state(&account_of(1, 1));
        // Key 2 signs, but the proof claims key 1's account.
        let forged =
            with_field(&proof(2, "did:key:a", 1, 1), "account", Ipld::String(account_of(1, 1)));
        let err = apply(&state, &forged).unwrap_err();
        assert!(matches!(err, Error::SignerMismatch { .. }), "{err}");
    }

    #[test]
    fn rejects_a_proof_for_another_account_or_chain() {
        let state = genesis_state(&account_of(1, 1));
        let err = apply(&state, &proof(2, "did:key:a", 1, 1)).unwrap_err();
        assert!(matches!(err, Error::AccountMismatch { .. }), "{err}");
        let err = apply(&state, &proof(1, "did:key:a", 5, 1)).unwrap_err();
        assert!(matches!(err, Error::AccountMismatch { .. }), "{err}");
    }

    #[test]
    fn compares_accounts_case_insensitively_and_in_either_form() {
        let address = crate::eth_address(key(1).verifying_key());
        let checksummed = format!("0x{}", address[2..].to_uppercase());
        let state = genesis_state(&account_of(1, 1));
        for account in [format!("eip155:1:{checksummed}"), format!("{checksummed}@eip155:1")] {
            let p = with_field(&proof(1, "did:key:a", 1, 1), "account", Ipld::String(account));
            assert!(apply(&state, &p).is_ok());
        }
    }

    #[test]
    fn rejects_unsupported_proofs() {
        let state = genesis_state(&account_of(1, 1));
        let erc1271 =
            with_field(&proof(1, "did:key:a", 1, 1), "type", Ipld::String("erc1271".into()));
        assert!(matches!(apply(&state, &erc1271), Err(Error::UnsupportedErc1271 { .. })));
        let cosmos = with_field(
            &proof(1, "did:key:a", 1, 1),
            "account",
            Ipld::String("cosmos:cosmoshub-3:cosmos1t2uflqwqe0fsj0shcfkrvpukewcw40yjj6hdc0".into()),
        );
        assert!(matches!(
            apply(&state, &cosmos),
            Err(Error::UnsupportedNamespace { namespace }) if namespace == "cosmos"
        ));
    }

    #[test]
    fn older_proof_versions_take_their_account_from_the_proof_fields() {
        let address = crate::eth_address(key(1).verifying_key());
        let state = genesis_state(&format!("eip155:7:{address}"));
        // No version: the account is the recovered address on chain `chainId`.
        let p = proof(1, "did:key:a", 1, 1);
        let unversioned =
            with_field(&with_field(&p, "version", Ipld::Null), "chainId", Ipld::Integer(7));
        assert!(apply(&state, &unversioned).is_ok());
        // chainId defaults to 1, which is not this stream's chain.
        let default_chain = with_field(&p, "version", Ipld::Null);
        assert!(matches!(apply(&state, &default_chain), Err(Error::AccountMismatch { .. })));
        // Version 1: the account is `address` on `chainId`, and must be the signer.
        let v1 = with_field(&unversioned, "version", Ipld::Integer(1));
        assert!(matches!(apply(&state, &v1), Err(Error::InvalidAccount { .. })));
        let v1 =
            with_field(&v1, "address", Ipld::String(address.to_uppercase().replace("0X", "0x")));
        assert!(apply(&state, &v1).is_ok());
        let other = crate::eth_address(key(2).verifying_key());
        let v1 = with_field(&v1, "address", Ipld::String(other));
        assert!(matches!(apply(&state, &v1), Err(Error::SignerMismatch { .. })));
    }

    #[test]
    fn replay_guard_uses_last_update_until_anchored() {
        let state = genesis_state(&account_of(1, 1));
        let linked = apply(&state, &proof(1, "did:key:a", 1, 100)).unwrap();
        let err = apply(&linked, &proof(1, "did:key:b", 1, 99)).unwrap_err();
        assert!(matches!(err, Error::StaleProof { timestamp: 99, bound: 100 }), "{err}");
        assert!(apply(&linked, &proof(1, "did:key:b", 1, 100)).is_ok());
        // A proof without a timestamp is never stale (js compares with undefined).
        let untimed = with_field(&proof(1, "did:key:b", 1, 1), "timestamp", Ipld::Null);
        let relinked = apply(&linked, &untimed).unwrap();
        assert!(!relinked.current_metadata().contains_key(LAST_UPDATE));
    }

    #[test]
    fn replay_guard_uses_the_anchor_timestamp_once_anchored() {
        let state = genesis_state(&account_of(1, 1));
        let anchored = anchor(&apply(&state, &proof(1, "did:key:a", 1, 100)).unwrap(), 500);
        let err = apply(&anchored, &proof(1, "did:key:b", 1, 499)).unwrap_err();
        assert!(matches!(err, Error::StaleProof { timestamp: 499, bound: 500 }), "{err}");
        assert!(apply(&anchored, &proof(1, "did:key:b", 1, 500)).is_ok());
    }

    #[test]
    fn replay_guard_is_off_while_only_the_genesis_is_applied() {
        let state = anchor(&genesis_state(&account_of(1, 1)), 500);
        assert_eq!(state.signature(), SignatureStatus::Genesis);
        assert!(apply(&state, &proof(1, "did:key:a", 1, 1)).is_ok());
    }

    #[test]
    fn records_the_commit_timestamp_in_the_log() {
        let state = genesis_state(&account_of(1, 1));
        let (cid, payload) = link_commit(&state, &proof(1, "did:key:a", 1, 1));
        let commit =
            Commit { cid, payload: &payload, signer: None, capability: None, timestamp: Some(42) };
        let change = Caip10Link.apply_data(&state, &commit, &NoContext).unwrap();
        let next = state.with_change(cid, commit.timestamp, change);
        assert_eq!(
            next.log().last(),
            Some(&LogEntry { cid, kind: CommitKind::Data, timestamp: Some(42) })
        );
    }

    #[test]
    fn applies_the_js_snapshot_proof_to_its_stream() {
        // blockchain-utils-linking ethereum.test.ts.snap `createLink 1`.
        let state = genesis_state("eip155:1337:0x8fe2C4516e920425e177658aaaC451ca0463ED69");
        let proof = LinkProof {
            version: Some(2),
            message: "Link this account to your identity\n\ndid:3:bafysdfwefwe \nTimestamp: 1538352000".into(),
            signature: "0x146cf11fa0472090d25b04d75c4159855c696549f2ae2ea47aea4aa89f8508a1234e3c2000622d9e3d02473bb77438d27d063024f82ec6326f1bcb6e5a3dc36b1b".into(),
            account: "eip155:1337:0x8fe2c4516e920425e177658aaac451ca0463ed69".into(),
            did: None,
            timestamp: Some(1538352000),
            address: None,
            kind: Some("ethereum-eoa".into()),
            chain_id: None,
        };
        let linked = apply(&state, &proof.to_ipld()).unwrap();
        assert_eq!(linked.current_content(), &json!("did:3:bafysdfwefwe"));
        assert_eq!(linked.current_metadata()[LAST_UPDATE], json!(1538352000));
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use crate::test_utils::{NoContext, Op, account_of, arb_did, arb_ops, key, link_commit};
    use crate::{LinkProof, genesis_for_account};
    use ceramic_codecs::{AnchorProof, Block, Codec, cid_of};
    use ceramic_doctype::apply_anchor;
    use ceramic_streamid::StreamId;
    use proptest::prelude::*;

    const DIDS: [&str; 4] = ["did:key:alice", "did:key:bob", "did:pkh:eip155:1:0xabc", "did:3:kjz"];

    fn genesis() -> StreamState {
        let payload = Payload::Genesis(genesis_for_account(&account_of(1, 1)).unwrap());
        let cid = *Block::encode(Codec::DagCbor, &payload).unwrap().cid();
        let commit =
            Commit { cid, payload: &payload, signer: None, capability: None, timestamp: None };
        let genesis = Caip10Link.apply_genesis(&commit, &NoContext).unwrap();
        StreamState::from_genesis(
            StreamId::new(StreamType::CAIP10_LINK, cid).unwrap(),
            None,
            genesis,
        )
    }

    fn step(state: &StreamState, op: &Op) -> Result<StreamState> {
        match *op {
            Op::Link { did, timestamp } => {
                let proof = LinkProof::sign_eoa(&key(1), DIDS[usize::from(did)], 1, timestamp);
                let (cid, payload) = link_commit(state, &proof.to_ipld());
                let commit = Commit {
                    cid,
                    payload: &payload,
                    signer: None,
                    capability: None,
                    timestamp: None,
                };
                let change = Caip10Link.apply_data(state, &commit, &NoContext)?;
                Ok(state.with_change(cid, None, change))
            }
            Op::Anchor { timestamp } => {
                let proof = AnchorProof {
                    chain_id: "eip155:1".into(),
                    root: state.tip(),
                    tx_hash: cid_of(0x93, &timestamp.to_be_bytes()),
                    tx_type: None,
                };
                let cid = cid_of(0x71, &[state.log().len() as u8]);
                Ok(apply_anchor(state, cid, proof, timestamp))
            }
        }
    }

    /// What js-ceramic's rules predict, kept as plain values.
    #[derive(Default)]
    struct Model {
        signed: bool,
        anchored_at: Option<u64>,
        last_update: Option<u64>,
        pending: Option<String>,
        content: Option<String>,
        applied: usize,
    }

    impl Model {
        fn step(&mut self, op: &Op) {
            match *op {
                Op::Link { did, timestamp } => {
                    let bound =
                        if !self.signed { None } else { self.anchored_at.or(self.last_update) };
                    if bound.is_some_and(|b| timestamp < b) {
                        return;
                    }
                    self.signed = true;
                    self.anchored_at = None;
                    self.last_update = Some(timestamp);
                    self.pending = Some(DIDS[usize::from(did)].to_owned());
                    self.applied += 1;
                }
                Op::Anchor { timestamp } => {
                    self.anchored_at = Some(timestamp);
                    if let Some(did) = self.pending.take() {
                        self.content = Some(did);
                    }
                    self.applied += 1;
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Applying commits one at a time, skipping the rejected ones as a network load does,
        /// gives the state the js rules predict, and replaying the accepted log from the genesis
        /// gives the same state again.
        #[test]
        fn applying_one_at_a_time_matches_the_model_and_the_replay(ops in arb_ops()) {
            let mut state = genesis();
            let mut model = Model::default();
            let mut accepted = Vec::new();
            for op in &ops {
                model.step(op);
                match step(&state, op) {
                    Ok(next) => {
                        state = next;
                        accepted.push(op.clone());
                    }
                    Err(e) => prop_assert!(matches!(e, Error::StaleProof { .. }), "{e}"),
                }
            }
            prop_assert_eq!(state.log().len(), 1 + model.applied);
            let content = model.content.clone().map_or(Value::Null, Value::String);
            prop_assert_eq!(state.content(), &content);
            let current = model.pending.clone().map_or(content, Value::String);
            prop_assert_eq!(state.current_content(), &current);
            let last_update = state.current_metadata().get(LAST_UPDATE).and_then(Value::as_u64);
            prop_assert_eq!(last_update, model.last_update);

            let mut replayed = genesis();
            for op in &accepted {
                replayed = step(&replayed, op).unwrap();
            }
            prop_assert_eq!(replayed, state);
        }

        /// Flipping any bit of the signature makes the proof invalid.
        #[test]
        fn any_flipped_signature_bit_is_rejected(bit in 0usize..65 * 8, timestamp in 0u64..1 << 40) {
            let state = genesis();
            let mut proof = LinkProof::sign_eoa(&key(1), "did:key:alice", 1, timestamp);
            let mut bytes = hex::decode(&proof.signature[2..]).unwrap();
            bytes[bit / 8] ^= 1 << (bit % 8);
            proof.signature = format!("0x{}", hex::encode(bytes));
            let (cid, payload) = link_commit(&state, &proof.to_ipld());
            let commit = Commit { cid, payload: &payload, signer: None, capability: None, timestamp: None };
            prop_assert!(Caip10Link.apply_data(&state, &commit, &NoContext).is_err());
        }

        /// A proof made for any DID links exactly that DID.
        #[test]
        fn links_the_did_named_in_the_message(did in arb_did(), timestamp in any::<u64>()) {
            let proof = LinkProof::sign_eoa(&key(2), &did, 1, timestamp);
            let link = proof.verify().unwrap();
            prop_assert_eq!(link.did(), Some(did.as_str()));
            prop_assert_eq!(LinkProof::from_ipld(&proof.to_ipld()).unwrap(), proof);
        }

        /// Arbitrary proof-shaped maps never panic the doctype.
        #[test]
        fn arbitrary_proofs_do_not_panic(
            message in ".{0,64}",
            signature in prop_oneof![Just(String::new()), "0x[0-9a-f]{0,140}", ".{0,16}"],
            account in prop_oneof![Just(account_of(1, 1)), ".{0,32}"],
            version in proptest::option::of(any::<i64>()),
            timestamp in proptest::option::of(any::<i64>()),
        ) {
            let mut map = std::collections::BTreeMap::new();
            map.insert("message".to_owned(), Ipld::String(message));
            map.insert("signature".to_owned(), Ipld::String(signature));
            map.insert("account".to_owned(), Ipld::String(account));
            if let Some(v) = version {
                map.insert("version".to_owned(), Ipld::Integer(v.into()));
            }
            if let Some(t) = timestamp {
                map.insert("timestamp".to_owned(), Ipld::Integer(t.into()));
            }
            let state = genesis();
            let (cid, payload) = link_commit(&state, &Ipld::Map(map));
            let commit = Commit { cid, payload: &payload, signer: None, capability: None, timestamp: None };
            let _ = Caip10Link.apply_data(&state, &commit, &NoContext);
        }
    }
}
