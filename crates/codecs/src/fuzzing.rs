//! Bodies of the cargo-fuzz targets (`fuzz/fuzz_targets/codecs_*.rs`), kept here so that unit
//! tests replay the committed corpus on stable.

use crate::{Envelope, Payload, read_car, write_car};

/// Decodes a commit payload; a success must re-encode to the same bytes.
pub fn decode_commit(data: &[u8]) {
    if let Ok(payload) = Payload::decode(data) {
        assert_eq!(payload.encode().expect("a decoded payload encodes"), data);
    }
}

/// Decodes a dag-jose envelope; a success must re-encode to the same bytes.
pub fn decode_envelope(data: &[u8]) {
    if let Ok(envelope) = Envelope::decode(data) {
        assert_eq!(envelope.encode().expect("a decoded envelope encodes"), data);
    }
}

/// Reads a CAR; a success must write back to a CAR that reads to the same value.
pub fn read_car_bytes(data: &[u8]) {
    if let Ok(car) = read_car(data) {
        let bytes = write_car(&car.roots, &car.blocks).expect("a read CAR writes");
        assert_eq!(read_car(&bytes).expect("a written CAR reads"), car);
    }
}

#[cfg(test)]
mod tests {
    /// Replays `fuzz/corpus/<target>/` through the target bodies.
    #[test]
    fn replays_the_committed_fuzz_corpus() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
        for (target, body) in [
            ("codecs_decode_commit", super::decode_commit as fn(&[u8])),
            ("codecs_decode_envelope", super::decode_envelope),
            ("codecs_read_car", super::read_car_bytes),
        ] {
            let dir = root.join(target);
            let mut count = 0;
            for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir:?}: {e}")) {
                body(&std::fs::read(entry.unwrap().path()).unwrap());
                count += 1;
            }
            assert!(count > 0, "the corpus of {target} is empty");
        }
    }
}
