//! Body of the cargo-fuzz target `anchor_service_parse_body`, replayed by a unit test.

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
            again["timestamp"] = iso(ms).into();
        }
        let reparsed = parse_json(again.to_string().as_bytes()).expect("canonical JSON parses");
        assert_eq!(reparsed, request);
    }
    let _ = parse_car(data);
    let _ = crate::parse_body(Some(CAR_CONTENT_TYPE), data);
}

/// Unix ms as `YYYY-MM-DDTHH:MM:SS.mmmZ` (H. Hinnant's civil-from-days).
fn iso(ms: u64) -> String {
    let secs = ms / 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn replays_the_committed_fuzz_corpus() {
        ceramic_streamid::test_utils::replay_fuzz_corpus(
            env!("CARGO_MANIFEST_DIR"),
            &[("anchor_service_parse_body", super::parse_body)],
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

    #[test]
    fn formats_what_the_parser_reads() {
        for ms in [0, 1_704_164_645_678, 951_782_400_000, 4_102_444_799_999] {
            assert_eq!(crate::parse_iso8601_ms(&super::iso(ms)), Some(ms), "{ms}");
        }
    }
}
