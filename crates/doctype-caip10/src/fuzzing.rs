//! Body of the cargo-fuzz target `doctype_caip10_link_proof`, replayed by a unit test.

use ceramic_codecs::{Ipld, decode};

use crate::LinkProof;

/// Decodes `data` as a dag-cbor commit `data` value, reads it as a link proof and verifies it
/// (EIP-191 recovery). A proof that reads must write back to the same value. Nothing may panic.
pub fn link_proof(data: &[u8]) {
    let Ok(value) = decode::<Ipld>(data, "link proof") else { return };
    if let Ok(proof) = LinkProof::from_ipld(&value) {
        let _ = proof.verify();
        let again = LinkProof::from_ipld(&proof.to_ipld()).expect("a written proof reads");
        assert_eq!(again.to_ipld(), proof.to_ipld());
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replays_the_committed_fuzz_corpus() {
        ceramic_streamid::test_utils::replay_fuzz_corpus(
            env!("CARGO_MANIFEST_DIR"),
            &[("doctype_caip10_link_proof", super::link_proof)],
        );
    }

    #[test]
    fn a_valid_proof_goes_through() {
        let key = crate::test_utils::key(3);
        let proof = crate::LinkProof::sign_eoa(&key, "did:key:z6Mkabc", 1, 1_700_000_000);
        let bytes = ceramic_codecs::encode(&proof.to_ipld()).unwrap();
        super::link_proof(&bytes);
        assert!(proof.verify().is_ok());
    }
}
