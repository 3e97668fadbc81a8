//! Bodies of the cargo-fuzz targets (`fuzz/fuzz_targets/did_*.rs`), replayed by unit tests.

use crate::{Cacao, DidKey, KeyResolver, ProtectedHeader, SiweMessage, verify_commit};

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

/// Decodes `data` as a CACAO block; a success re-encodes to the same bytes, and its signed
/// message, signature, time and resource checks run without panicking (the message parses
/// back when the fields print unambiguously).
pub fn decode_cacao(data: &[u8]) {
    let Ok(cacao) = Cacao::decode(data) else { return };
    let block = cacao.to_block().ok();
    assert_eq!(block.as_ref().map(|b| b.data()), Some(data), "a decoded CACAO re-encodes");
    if let Ok(message) = cacao.message() {
        let text = message.to_message();
        let _ = message.to_legacy_message();
        if let Ok(parsed) = SiweMessage::parse(&text) {
            assert_eq!(parsed.to_message(), text);
        }
    }
    let _ = cacao.verify_signature();
    let _ = cacao.check_time(0);
    let _ = cacao.check_time(i64::MAX / 4);
    if let Some(block) = block {
        let _ = cacao.check_resources("kjzl", block.cid(), Some("kh4q"));
        let _ = Cacao::from_cap_block(&format!("ipfs://{}", block.cid()), data);
    }
}

/// Parses `data` as a SIWE / CAIP-122 message; a success prints back to the same text, and
/// the legacy form of the fields is built without panicking.
pub fn parse_siwe(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(message) = SiweMessage::parse(text) {
        assert_eq!(message.to_message(), text);
        let _ = message.to_legacy_message();
        let _ = crate::parse_time("iat", &message.issued_at);
    }
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
                ("did_decode_cacao", super::decode_cacao),
                ("did_parse_siwe", super::parse_siwe),
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
