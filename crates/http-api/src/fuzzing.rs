//! The bodies of the `http_api_request` and `http_api_query` cargo-fuzz targets
//! (`fuzz/fuzz_targets/`), kept here so that a unit test replays the committed corpus on stable.

use ceramic_codecs::{Block, Cid};

use crate::admin::{ADMIN_CODE_TTL, AdminAuth, parse_compact};
use crate::commit::{CommitBlocks, from_json, to_json};

/// An admin DID for the fuzzed authorizations (the did:key of the Ed25519 seed `[9; 32]`).
const FUZZ_ADMIN: &str = "did:key:z6MkwVDfCg9LbbY6xjH3EZk8YSFQZujV5Y4y1ZWeER9tDiN3";
use crate::query::{LoadOpts, QueryValue, Sync, parse_query};
use crate::request::{parse_apply, parse_create, parse_multiquery};

/// Parses `data` as each POST body and as a bare serialized commit. A commit that parses must
/// serialize back (from its own blocks) to JSON that parses to the same commit.
pub fn request(data: &[u8]) {
    if let Ok(request) = parse_create(data) {
        check_round_trip(&request.genesis);
    }
    if let Ok(request) = parse_apply(data) {
        check_round_trip(&request.commit);
    }
    if let Ok(query) = parse_multiquery(data) {
        for genesis in query.queries.iter().filter_map(|q| q.genesis.as_ref()) {
            check_round_trip(genesis);
        }
    }
    // As an admin JWS (the `Authorization: Basic` value): no code was issued, so nothing may be
    // authorized, whatever the bytes.
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_compact(text);
        let auth = AdminAuth::new(vec![FUZZ_ADMIN.into()], ADMIN_CODE_TTL);
        assert!(auth.authorize(text, "/api/v0/admin/pins").is_err(), "authorized without a code");
    }
    if let Ok(value) = serde_json::from_slice(data)
        && let Ok(commit) = from_json(&value)
    {
        check_round_trip(&commit);
    }
}

/// Parses `data` as the query string of a `/api/v0` load (`GET /streams/:id?…`,
/// `/streams/:id/content?…`): the typed values must survive being percent-encoded again, keys
/// are distinct, and load options picked out of them must say what the values said.
pub fn query(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(values) = parse_query(text) else { return };
    for (i, (key, _)) in values.iter().enumerate() {
        assert!(values[..i].iter().all(|(k, _)| k != key), "key {key:?} twice");
    }
    let encoded: Vec<String> =
        values.iter().map(|(k, v)| format!("{}={}", encode(k), encode(&value_text(v)))).collect();
    let again = parse_query(&encoded.join("&")).expect("re-encoded values parse");
    assert_eq!(again, values, "the values survive a round trip");
    let Ok(opts) = LoadOpts::from_query(&values) else { return };
    let int = |key: &str| {
        values.iter().find(|(k, _)| k == key).map(|(_, v)| match v {
            QueryValue::Int(n) => *n,
            other => panic!("{key} accepted as {other:?}"),
        })
    };
    let sync = match int("sync") {
        None => Sync::PreferCache,
        Some(0) => Sync::PreferCache,
        Some(1) => Sync::SyncAlways,
        Some(2) => Sync::NeverSync,
        Some(3) => Sync::SyncOnError,
        Some(n) => panic!("sync={n} accepted"),
    };
    assert_eq!(opts.sync, sync);
    let unsigned = |key| int(key).map(|n| u64::try_from(n).expect("a negative value accepted"));
    assert_eq!(opts.at_time, unsigned("atTime"));
    assert_eq!(opts.sync_timeout_seconds, unsigned("syncTimeoutSeconds"));
}

/// The text a typed query value was read from (up to JSON formatting).
fn value_text(value: &QueryValue) -> String {
    match value {
        QueryValue::Bool(b) => b.to_string(),
        QueryValue::Int(n) => n.to_string(),
        QueryValue::Json(v) => v.to_string(),
        QueryValue::Text(t) => t.clone(),
    }
}

/// Percent-encodes every byte but unreserved ones (so `+`, `&`, `=` and `%` survive).
fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn check_round_trip(commit: &CommitBlocks) {
    let lookup = |cid: &Cid| commit.block(cid).map(|b| b.data().to_vec());
    // A bare JWS comes without its payload block: there is nothing to serialize it from.
    let Ok(json) = to_json(commit.cid(), lookup) else {
        assert!(commit.is_signed(), "an unsigned commit serializes from its own block");
        return;
    };
    let again = from_json(&json).expect("a serialized commit parses");
    assert_eq!(again.cid(), commit.cid(), "the commit's CID survives a round trip");
    let kept = |b: &&Block| commit.blocks().contains(b);
    assert!(again.blocks().iter().all(|b| kept(&b)), "no new blocks appear");
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fuzz_admin_is_the_did_key_of_seed_9() {
        let signer = ceramic_did::KeySigner::from_seed(ceramic_did::KeyType::Ed25519, &[9; 32]);
        assert_eq!(signer.unwrap().did_key().did(), super::FUZZ_ADMIN);
    }

    #[test]
    fn query_strings_round_trip_and_options_agree() {
        for text in [
            "sync=0&a=true&b=false&c=%7B%22x%22%3A1%7D&d=hello+world&e",
            "atTime=1700000000&syncTimeoutSeconds=0&sync=3",
            "x=%2B%26%3D%25&=&&&y=-0&z=007&w=%7B%7D",
            "sync=9",
            "a=1&a=2",
        ] {
            super::query(text.as_bytes());
        }
    }

    #[test]
    fn replays_the_committed_fuzz_corpus() {
        ceramic_streamid::test_utils::replay_fuzz_corpus(
            env!("CARGO_MANIFEST_DIR"),
            &[("http_api_request", super::request), ("http_api_query", super::query)],
        );
    }
}
