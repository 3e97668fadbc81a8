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
    #[test]
    fn replays_the_committed_fuzz_corpus() {
        ceramic_streamid::test_utils::replay_fuzz_corpus(
            env!("CARGO_MANIFEST_DIR"),
            &[
                ("codecs_decode_commit", super::decode_commit),
                ("codecs_decode_envelope", super::decode_envelope),
                ("codecs_read_car", super::read_car_bytes),
            ],
        );
    }
}
