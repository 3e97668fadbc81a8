//! Fuzz entry points (`fuzz/fuzz_targets/hooks_verdict.rs`).

use crate::{parse_verdict, verdict_bytes};

/// Parses `data` as a hook's verdict; a verdict that parses re-encodes to the same verdict.
pub fn verdict(data: &[u8]) {
    if let Ok(veto) = parse_verdict(data) {
        let again = parse_verdict(&verdict_bytes(veto.as_deref()));
        assert_eq!(again.ok(), Some(veto), "a verdict re-encodes to itself");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corpus_replays() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/corpus/hooks_verdict");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).expect("the corpus exists") {
            verdict(&std::fs::read(entry.unwrap().path()).unwrap());
            seen += 1;
        }
        assert!(seen > 0, "no seeds in {}", dir.display());
    }
}
