//! Bodies of the cargo-fuzz targets (`fuzz/fuzz_targets/did_*.rs`), replayed by unit tests.

use crate::{DidKey, KeyResolver, ProtectedHeader, verify_commit};

/// Parses `data` as a did:key string; a success must print to the same string.
pub fn parse_did_key(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(key) = text.parse::<DidKey>() {
        assert_eq!(key.did(), text);
    }
}

/// Parses a protected header, then splits `data` in two (first byte = split point) and verifies
/// it as an envelope block and a payload block. Nothing may panic.
pub fn verify_signed_commit(data: &[u8]) {
    let _ = ProtectedHeader::parse(data);
    let Some((&split, rest)) = data.split_first() else { return };
    let split = usize::from(split).min(rest.len());
    let (envelope, payload) = rest.split_at(split);
    let _ = verify_commit(&KeyResolver, envelope, payload);
}
