//! Bodies of the cargo-fuzz targets (`fuzz/fuzz_targets/streamid_*.rs`), kept here so that unit
//! tests replay the committed corpus on stable.

use crate::StreamRef;

/// Parses `data` as StreamID/CommitID bytes; a success must re-encode to bytes that parse to the
/// same value, and its string form must parse back too.
pub fn from_bytes(data: &[u8]) {
    if let Ok(parsed) = StreamRef::from_bytes(data) {
        let bytes = parsed.to_bytes();
        assert_eq!(StreamRef::from_bytes(&bytes).as_ref(), Ok(&parsed));
        assert_eq!(parsed.to_string().parse::<StreamRef>().as_ref(), Ok(&parsed));
    }
}

/// Parses `data` (if UTF-8) as a stream reference string; a success must print to a string that
/// parses to the same value.
pub fn from_str(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(parsed) = text.parse::<StreamRef>() {
        assert_eq!(parsed.to_string().parse::<StreamRef>().as_ref(), Ok(&parsed));
        assert_eq!(StreamRef::from_bytes(&parsed.to_bytes()).as_ref(), Ok(&parsed));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replays_the_committed_fuzz_corpus() {
        crate::test_utils::replay_fuzz_corpus(
            env!("CARGO_MANIFEST_DIR"),
            &[("streamid_from_bytes", super::from_bytes), ("streamid_from_str", super::from_str)],
        );
    }
}
