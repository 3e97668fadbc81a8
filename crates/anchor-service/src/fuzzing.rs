//! Bodies of the cargo-fuzz targets `anchor_service_parse_body` and
//! `anchor_service_parse_response`, replayed by a unit test.

use crate::{CAR_CONTENT_TYPE, parse_car, parse_json};

/// Parses `data` as a JSON request body and as a CAR request body; neither may panic. A JSON
/// body that parses must parse again, to the same request, from the canonical JSON made of
/// its fields.
pub fn parse_body(data: &[u8]) {
    if let Ok(request) = parse_json(data) {
        let mut again = serde_json::json!({
            "streamId": request.stream_id.to_string(),
            "cid": request.cid.to_string(),
        });
        if let Some(ms) = request.timestamp {
            again["timestamp"] = crate::format_iso8601_ms(ms).into();
        }
        let reparsed = parse_json(again.to_string().as_bytes()).expect("canonical JSON parses");
        assert_eq!(reparsed, request);
    }
    let _ = parse_car(data);
    let _ = crate::parse_body(Some(CAR_CONTENT_TYPE), data);
}

/// Parses `data` as a CAS answer (a request, and the supported chains) as a node reads a
/// remote CAS's; neither may panic. A request that parses must parse again, to the same
/// response, from the JSON made of its fields.
pub fn parse_response(data: &[u8]) {
    if let Ok(response) = crate::CasResponse::from_json(data) {
        let mut again = serde_json::json!({
            "id": response.id,
            "status": response.status.name(),
            "streamId": response.stream_id.to_string(),
            "cid": response.cid.to_string(),
            "message": response.message,
        });
        if let Some(anchor) = response.anchor_commit {
            again["anchorCommit"] = serde_json::json!({ "cid": anchor.to_string() });
        }
        if let Some(car) = &response.witness_car {
            use base64::Engine as _;
            again["witnessCar"] = base64::engine::general_purpose::STANDARD.encode(car).into();
        }
        let reparsed = crate::CasResponse::from_json(again.to_string().as_bytes())
            .expect("a response made of parsed fields parses");
        assert_eq!(reparsed, response);
    }
    let _ = crate::client::parse_supported_chains(data);
}

#[cfg(test)]
mod tests {
    #[test]
    fn replays_the_committed_fuzz_corpus() {
        ceramic_streamid::test_utils::replay_fuzz_corpus(
            env!("CARGO_MANIFEST_DIR"),
            &[
                ("anchor_service_parse_body", super::parse_body),
                ("anchor_service_parse_response", super::parse_response),
            ],
        );
    }

    #[test]
    fn the_corpus_holds_valid_json_and_car_bodies() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/corpus/anchor_service_parse_body");
        let (mut json, mut car) = (0, 0);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            json += usize::from(crate::parse_json(&bytes).is_ok());
            car += usize::from(crate::parse_car(&bytes).is_ok());
        }
        assert!(json > 0 && car > 0, "valid seeds: {json} JSON, {car} CAR");
    }
}
