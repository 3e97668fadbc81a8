//! Bodies of the cargo-fuzz targets (`fuzz/fuzz_targets/did_*.rs`), replayed by unit tests.

use crate::{DidKey, KeyResolver, ProtectedHeader, verify_commit};

/// Parses `data` as a did:key string; a success must print to the same string.
pub fn parse_did_key(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(key) = text.parse::<DidKey>() {
        assert_eq!(key.did(), text);
    }
}

/// Parses `data` as a protected header, then reads it as `u16 BE envelope length ‖ envelope ‖
/// payload` and verifies the two blocks as a signed commit. Nothing may panic.
pub fn verify_signed_commit(data: &[u8]) {
    let _ = ProtectedHeader::parse(data);
    let Some((len, rest)) = data.split_first_chunk::<2>() else { return };
    let split = usize::from(u16::from_be_bytes(*len)).min(rest.len());
    let (envelope, payload) = rest.split_at(split);
    let _ = verify_commit(&KeyResolver, envelope, payload);
}

/// Parses `data` as a did:3 DID URL (a JWS `kid`), as a query's `versionTime`, and as 3ID
/// content to wrap into a DID document. Nothing may panic; a parsed URL's DID is the input's
/// prefix.
pub fn parse_three_id(data: &[u8]) {
    crate::three_id::fuzz_parse(data);
}

#[cfg(test)]
mod tests {
    #[test]
    fn replays_the_committed_fuzz_corpus() {
        ceramic_streamid::test_utils::replay_fuzz_corpus(
            env!("CARGO_MANIFEST_DIR"),
            &[
                ("did_parse_did_key", super::parse_did_key),
                ("did_verify_signed_commit", super::verify_signed_commit),
            ],
        );
    }

    #[test]
    fn a_seed_of_a_valid_commit_verifies() {
        // The seed layout is what the fuzzer mutates: make sure valid input reaches the verifier.
        let signer = crate::KeySigner::from_seed(crate::KeyType::Ed25519, &[1; 32]).unwrap();
        let genesis = ceramic_codecs::GenesisCommit { header: Default::default(), data: None };
        let signed = crate::sign_commit(&signer, &genesis.into()).unwrap();
        let env = signed.envelope_block().data();
        let mut data = (env.len() as u16).to_be_bytes().to_vec();
        data.extend_from_slice(env);
        data.extend_from_slice(signed.payload_block().data());
        let split = usize::from(u16::from_be_bytes([data[0], data[1]]));
        assert!(
            crate::verify_commit(&crate::KeyResolver, &data[2..2 + split], &data[2 + split..])
                .is_ok()
        );
        super::verify_signed_commit(&data);
    }
}
