//! Properties: signing then verifying accepts; any single bit flip in either block rejects.

use ceramic_codecs::{DataCommit, Ipld, Payload};
use ceramic_did::{KeyResolver, KeySigner, KeyType, Signer, sign_commit, verify_commit};
use ceramic_streamid::test_utils::arb_cid;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn sign_then_verify_round_trips(seed in any::<[u8; 32]>(), secp in any::<bool>(), id in arb_cid(), prev in arb_cid(), n in any::<i64>()) {
        let key_type = if secp { KeyType::Secp256k1 } else { KeyType::Ed25519 };
        let Ok(signer) = KeySigner::from_seed(key_type, &seed) else { return Ok(()) };
        let payload = Payload::Data(DataCommit { id, prev, header: None, data: Some(Ipld::Integer(n.into())) });
        let signed = sign_commit(&signer, &payload).unwrap();
        let verified = verify_commit(&KeyResolver, signed.envelope_block().data(), signed.payload_block().data()).unwrap();
        prop_assert_eq!(verified.did(), signer.did());
        prop_assert_eq!(verified.payload(), &payload);
    }

    #[test]
    fn any_bit_flip_is_rejected(seed in any::<[u8; 32]>(), at in any::<prop::sample::Index>(), bit in 0u8..8, in_payload in any::<bool>()) {
        let signer = KeySigner::from_seed(KeyType::Ed25519, &seed).unwrap();
        let payload = Payload::Data(DataCommit { id: ceramic_codecs::cid_of(0x85, &seed), prev: ceramic_codecs::cid_of(0x71, &seed), header: None, data: Some(Ipld::Null) });
        let signed = sign_commit(&signer, &payload).unwrap();
        let mut envelope = signed.envelope_block().data().to_vec();
        let mut payload_bytes = signed.payload_block().data().to_vec();
        let target = if in_payload { &mut payload_bytes } else { &mut envelope };
        let i = at.index(target.len());
        target[i] ^= 1 << bit;
        prop_assert!(verify_commit(&KeyResolver, &envelope, &payload_bytes).is_err());
    }
}
