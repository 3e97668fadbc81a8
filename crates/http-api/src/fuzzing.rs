//! The body of the `http_api_request` cargo-fuzz target (`fuzz/fuzz_targets/`), kept here so
//! that a unit test replays the committed corpus on stable.

use ceramic_codecs::{Block, Cid};

use crate::admin::{ADMIN_CODE_TTL, AdminAuth, parse_compact};
use crate::commit::{CommitBlocks, from_json, to_json};

/// An admin DID for the fuzzed authorizations (the did:key of the Ed25519 seed `[9; 32]`).
const FUZZ_ADMIN: &str = "did:key:z6MkwVDfCg9LbbY6xjH3EZk8YSFQZujV5Y4y1ZWeER9tDiN3";
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
    fn replays_the_committed_fuzz_corpus() {
        ceramic_streamid::test_utils::replay_fuzz_corpus(
            env!("CARGO_MANIFEST_DIR"),
            &[("http_api_request", super::request)],
        );
    }
}
