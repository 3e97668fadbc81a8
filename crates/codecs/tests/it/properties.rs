//! Properties: decode∘encode = id for payloads, proofs, envelopes and CARs; decoders never
//! panic on truncated or bit-flipped valid encodings.

use ceramic_codecs::test_utils::{arb_anchor_proof, arb_envelope, arb_ipld, arb_payload};
use ceramic_codecs::{
    AnchorProof, Block, Codec, Envelope, Ipld, Payload, decode, encode, read_car, write_car,
};
use proptest::prelude::*;

fn damage(
    bytes: &[u8],
    cut: prop::sample::Index,
    at: prop::sample::Index,
    bit: u8,
) -> (Vec<u8>, Vec<u8>) {
    let truncated = bytes[..cut.index(bytes.len())].to_vec();
    let mut flipped = bytes.to_vec();
    let at = at.index(flipped.len());
    flipped[at] ^= 1 << bit;
    (truncated, flipped)
}

proptest! {
    #[test]
    fn payloads_round_trip(payload in arb_payload()) {
        let bytes = payload.encode().unwrap();
        prop_assert_eq!(Payload::decode(&bytes).unwrap(), payload);
    }

    #[test]
    fn proofs_round_trip(proof in arb_anchor_proof()) {
        let bytes = encode(&proof).unwrap();
        prop_assert_eq!(decode::<AnchorProof>(&bytes, "proof").unwrap(), proof);
    }

    #[test]
    fn ipld_round_trips(value in arb_ipld()) {
        let bytes = encode(&value).unwrap();
        prop_assert_eq!(decode::<Ipld>(&bytes, "value").unwrap(), value);
    }

    #[test]
    fn envelopes_round_trip(envelope in arb_envelope()) {
        let bytes = envelope.encode().unwrap();
        prop_assert_eq!(Envelope::decode(&bytes).unwrap(), envelope);
    }

    #[test]
    fn cars_round_trip(values in prop::collection::vec(arb_ipld(), 0..6), roots in 0usize..3) {
        let blocks: Vec<Block> = values.iter().map(|v| Block::encode(Codec::DagCbor, v).unwrap()).collect();
        let roots: Vec<_> = blocks.iter().take(roots).map(|b| *b.cid()).collect();
        let bytes = write_car(&roots, &blocks).unwrap();
        let car = read_car(&bytes).unwrap();
        prop_assert_eq!(&car.roots, &roots);
        prop_assert_eq!(&car.blocks, &blocks);
    }

    #[test]
    fn damaged_payloads_never_panic(payload in arb_payload(), cut in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(), bit in 0u8..8) {
        let bytes = payload.encode().unwrap();
        let (truncated, flipped) = damage(&bytes, cut, at, bit);
        prop_assert!(Payload::decode(&truncated).is_err());
        if let Ok(decoded) = Payload::decode(&flipped) {
            // Whatever still decodes is canonical: it re-encodes to the flipped bytes.
            prop_assert_eq!(decoded.encode().unwrap(), flipped);
        }
    }

    #[test]
    fn damaged_envelopes_never_panic(envelope in arb_envelope(), cut in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(), bit in 0u8..8) {
        let bytes = envelope.encode().unwrap();
        let (truncated, flipped) = damage(&bytes, cut, at, bit);
        prop_assert!(Envelope::decode(&truncated).is_err());
        if let Ok(decoded) = Envelope::decode(&flipped) {
            prop_assert_eq!(decoded.encode().unwrap(), flipped);
        }
    }

    #[test]
    fn damaged_cars_never_panic(values in prop::collection::vec(arb_ipld(), 1..4), cut in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(), bit in 0u8..8) {
        let blocks: Vec<Block> = values.iter().map(|v| Block::encode(Codec::DagCbor, v).unwrap()).collect();
        let bytes = write_car(&[*blocks[0].cid()], &blocks).unwrap();
        let (truncated, flipped) = damage(&bytes, cut, at, bit);
        let _ = read_car(&truncated);
        if let Ok(car) = read_car(&flipped) {
            // Every block that survived still matches its CID.
            for block in &car.blocks {
                prop_assert!(Block::new(*block.cid(), block.data().to_vec()).is_ok());
            }
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = Payload::decode(&bytes);
        let _ = Envelope::decode(&bytes);
        let _ = read_car(&bytes);
    }
}
