//! Bodies of the cargo-fuzz targets (`fuzz/fuzz_targets/net_*.rs`), kept here so that unit tests
//! replay the committed corpus on stable.

use std::collections::HashSet;

use ceramic_codecs::{Block, Cid, Codec, cid_of};
use ceramic_doctype::{SignatureStatus, StreamState};
use ceramic_storage::{MemoryStorage, Storage};
use ceramic_streamid::StreamType;
use futures::executor::block_on;
use libp2p::StreamProtocol;
use libp2p::request_response::Codec as _;

use crate::blocks::{
    BLOCKS_PROTOCOL, BlockResponse, MAX_REQUEST_CIDS, MAX_RESPONSE_BYTES, check_response, codec,
    envelope_link,
};
use crate::message::Message;
use crate::stats::Counters;

/// Parses a pubsub message; a success must re-encode to bytes that parse to the same message.
pub fn pubsub_message(data: &[u8]) {
    if let Ok(message) = Message::decode(data) {
        let again = Message::decode(&message.encode()).expect("an encoded message parses");
        assert_eq!(again, message);
    }
}

/// The node-to-node block protocol (`/ceramic-rs/blocks/1.0.0`) as the wire codec reads it.
/// The first byte picks the side:
/// - even: we serve. The next byte says how many blocks the store holds (each a flag byte, a
///   big-endian u16 length (up to 1 KiB) and bytes, stored as dag-cbor, or dag-jose when the flag
///   is odd, under the CID of its bytes); the rest is the request. A request that decodes must re-encode to the same CIDs,
///   and what we answer must be blocks that hash to their CIDs, each asked for (among the first
///   [`MAX_REQUEST_CIDS`]) or the payload of an envelope served before it, none twice, within
///   [`MAX_RESPONSE_BYTES`]; the asker's check must then accept every one of them.
/// - odd: we asked. The rest is a peer's response; when it decodes it re-encodes to the same
///   blocks, and checking it against what we asked (every other CID it carries, and one it does
///   not) keeps only blocks that were asked for (or an asked envelope's payload) and hash right,
///   each once, and counts the rest as bad.
pub fn block_protocol(data: &[u8]) {
    let Some((&side, rest)) = data.split_first() else { return };
    if side % 2 == 0 { serve_request(rest) } else { read_response(rest) }
}

fn protocol() -> StreamProtocol {
    StreamProtocol::new(BLOCKS_PROTOCOL)
}

fn serve_request(data: &[u8]) {
    let Some((&count, mut rest)) = data.split_first() else { return };
    let storage = MemoryStorage::new();
    let mut stored = Vec::new();
    for _ in 0..count % 8 {
        let [flag, hi, lo, after @ ..] = rest else { break };
        let len = usize::from(u16::from_be_bytes([*hi, *lo])) % 1025;
        let (bytes, after) = after.split_at(len.min(after.len()));
        rest = after;
        let codec = if flag % 2 == 1 { Codec::DagJose } else { Codec::DagCbor };
        if let Ok(block) = Block::from_data(codec, bytes.to_vec()) {
            stored.push(block);
        }
    }
    // The store keeps blocks with a stream's state, whose genesis block must be among them.
    let Ok(genesis) = Block::from_data(Codec::DagCbor, vec![0xa0]) else {
        unreachable!("an empty dag-cbor map is a block")
    };
    let Ok(state) = StreamState::genesis(
        StreamType::TILE,
        *genesis.cid(),
        serde_json::Value::Null,
        serde_json::Map::new(),
        SignatureStatus::Genesis,
    ) else {
        unreachable!("a CIDv1 genesis makes a stream")
    };
    stored.push(genesis);
    storage.write_commit(&stored, &state).expect("the memory store takes blocks");
    let mut cursor = futures::io::Cursor::new(rest);
    let Ok(request) = block_on(codec().read_request(&protocol(), &mut cursor)) else { return };
    let mut wire = futures::io::Cursor::new(Vec::new());
    block_on(codec().write_request(&protocol(), &mut wire, request.clone()))
        .expect("a request encodes");
    let again = block_on(
        codec().read_request(&protocol(), &mut futures::io::Cursor::new(wire.into_inner())),
    )
    .expect("an encoded request decodes");
    assert_eq!(again.cids, request.cids, "a request survives the wire");

    let counters = Counters::default();
    let served = crate::serve::serve(&storage, &request, &counters, false);
    let asked: HashSet<Cid> = request
        .cids
        .iter()
        .take(MAX_REQUEST_CIDS)
        .filter_map(|c| Cid::try_from(c.as_slice()).ok())
        .collect();
    let mut payloads = HashSet::new();
    let mut seen = HashSet::new();
    let mut size = 0;
    for (cid, data) in &served {
        let cid = Cid::try_from(cid.as_slice()).expect("a served CID parses");
        let block = Block::new(cid, data.to_vec()).expect("a served block hashes to its CID");
        assert!(seen.insert(cid), "{cid} served twice");
        assert!(asked.contains(&cid) || payloads.contains(&cid), "{cid} served unasked");
        payloads.extend(envelope_link(&block));
        size += data.len();
    }
    assert!(size <= MAX_RESPONSE_BYTES, "{size} bytes served");
    let all_asked: Vec<Cid> =
        request.cids.iter().filter_map(|c| Cid::try_from(c.as_slice()).ok()).collect();
    let response = BlockResponse { blocks: served.clone() };
    let (good, bad) = check_response(&all_asked, response);
    assert_eq!(bad, 0, "the asker refuses nothing we serve");
    assert_eq!(good.len(), served.len());
}

fn read_response(data: &[u8]) {
    let mut cursor = futures::io::Cursor::new(data);
    let Ok(response) = block_on(codec().read_response(&protocol(), &mut cursor)) else { return };
    let mut wire = futures::io::Cursor::new(Vec::new());
    block_on(codec().write_response(&protocol(), &mut wire, response.clone()))
        .expect("a response encodes");
    let again: BlockResponse = block_on(
        codec().read_response(&protocol(), &mut futures::io::Cursor::new(wire.into_inner())),
    )
    .expect("an encoded response decodes");
    assert_eq!(again.blocks, response.blocks, "a response survives the wire");

    let mut asked: Vec<Cid> = response
        .blocks
        .iter()
        .step_by(2)
        .filter_map(|(cid, _)| Cid::try_from(cid.as_slice()).ok())
        .collect();
    asked.push(cid_of(0x71, b"asked, never sent"));
    let total = response.blocks.len();
    let (good, bad) = check_response(&asked, response);
    assert_eq!(good.len() + bad, total, "every block is kept or counted bad");
    let asked: HashSet<Cid> = asked.into_iter().collect();
    let payloads: HashSet<Cid> = good.iter().filter_map(envelope_link).collect();
    let mut kept = HashSet::new();
    for block in &good {
        let cid = *block.cid();
        assert!(kept.insert(cid), "{cid} kept twice");
        assert!(asked.contains(&cid) || payloads.contains(&cid), "{cid} kept unasked");
        Block::new(cid, block.data().to_vec()).expect("a kept block hashes to its CID");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replays_the_committed_fuzz_corpus() {
        ceramic_streamid::test_utils::replay_fuzz_corpus(
            env!("CARGO_MANIFEST_DIR"),
            &[
                ("net_pubsub_message", super::pubsub_message),
                ("net_block_protocol", super::block_protocol),
            ],
        );
    }
}
