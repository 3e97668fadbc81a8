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
    fn survives_samples() {
        for sample in [&b""[..], b"{}", b"{\"data\":\"u\"}", b"resumeAt=1&limit=2", b"\xff\xfe"] {
            super::request(sample);
        }
    }
}
