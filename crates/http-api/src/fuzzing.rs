//! The body of the `http_api_request` cargo-fuzz target (`fuzz/fuzz_targets/`), kept here so
//! that a unit test replays the committed corpus on stable.

use ceramic_codecs::{Block, Cid};

use crate::commit::{CommitBlocks, from_json, to_json};
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
    fn replays_the_committed_fuzz_corpus() {
        ceramic_streamid::test_utils::replay_fuzz_corpus(
            env!("CARGO_MANIFEST_DIR"),
            &[("http_api_request", super::request)],
        );
    }
}
