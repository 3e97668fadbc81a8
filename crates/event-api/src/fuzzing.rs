//! The body of the `event_api_request` cargo-fuzz target: every request parser on arbitrary
//! input, none of which may panic.

use crate::request;

/// Runs every parser of [`request`] on `data`.
pub fn request(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = request::parse_feed_query(Some(&text));
    let _ = request::parse_query(Some(&text));
    let _ = request::parse_resume_token(&text);
    let _ = request::decode_multibase(&text);
    let _ = request::parse_interest(data);
    let _ = request::parse_cid(&text);
    let _ = request::parse_stream_id(&text);
    let _ = request::parse_event_body(data);
    let _ = request::parse_event_car(data);
}

#[cfg(test)]
mod tests {
    #[test]
    fn replays_the_committed_fuzz_corpus() {
        ceramic_streamid::test_utils::replay_fuzz_corpus(
            env!("CARGO_MANIFEST_DIR"),
            &[("event_api_request", super::request)],
        );
    }

    #[test]
    fn the_corpus_holds_bodies_the_api_accepts() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/corpus/event_api_request");
        let (mut events, mut interests) = (0, 0);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            events += usize::from(crate::request::parse_event_body(&bytes).is_ok());
            interests += usize::from(crate::request::parse_interest(&bytes).is_ok());
        }
        assert!(events > 0 && interests > 0, "valid seeds: {events} events, {interests} interests");
    }

    #[test]
    fn survives_samples() {
        for sample in [&b""[..], b"{}", b"{\"data\":\"u\"}", b"resumeAt=1&limit=2", b"\xff\xfe"] {
            super::request(sample);
        }
    }
}
