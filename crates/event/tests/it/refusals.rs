//! Every way an event CAR can be wrong gets its typed error, and nothing panics.

use std::collections::BTreeMap;

use ceramic_codecs::{Block, Codec, Ipld, MAX_BLOCK_SIZE, write_car};
use ceramic_did::Signer;
use ceramic_event::test_utils::fixed_signer;
use ceramic_event::{
    DataPayload, Error, Event, EventPayload, InitHeader, InitPayload, MAX_CAR_SIZE, TimePayload,
};
use ceramic_streamid::StreamId;
use cid::Cid;

const MODEL: &str = "kjzl6hvfrbw6c90uwoyz8j519gxma787qbsfjtrarkr1huq1g1s224k7hopvsyg";

fn model() -> StreamId {
    MODEL.parse().unwrap()
}

fn signed_init() -> Event {
    let signer = fixed_signer();
    let payload = InitPayload {
        header: InitHeader::new(signer.did(), model()).with_unique(vec![1, 2, 3]),
        data: Some(Ipld::Map(BTreeMap::from([("a".to_owned(), Ipld::Integer(1))]))),
    };
    Event::sign(&signer, payload.into()).unwrap()
}

fn car(roots: &[Cid], blocks: &[Block]) -> Vec<u8> {
    write_car(roots, blocks).unwrap()
}

fn cbor(value: &Ipld) -> Block {
    Block::encode(Codec::DagCbor, value).unwrap()
}

fn map(entries: Vec<(&str, Ipld)>) -> Ipld {
    Ipld::Map(entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// The dag-cbor map of an unsigned init header with `extra` fields added.
fn header_with(extra: Vec<(&str, Ipld)>) -> Ipld {
    let mut entries = vec![
        ("controllers", Ipld::List(vec![Ipld::String("did:key:z6Mkabc".into())])),
        ("model", Ipld::Bytes(model().to_bytes())),
        ("sep", Ipld::String("model".into())),
    ];
    entries.extend(extra);
    map(entries)
}

fn decode_unsigned(value: &Ipld) -> Result<Event, Error> {
    let block = cbor(value);
    Event::decode_car(&car(&[*block.cid()], &[block]))
}

#[test]
fn accepts_the_well_formed_baseline() {
    let event = signed_init();
    assert_eq!(Event::decode_car(&event.encode_car().unwrap()).unwrap(), event);
    let unsigned = map(vec![("data", Ipld::Null), ("header", header_with(vec![]))]);
    assert!(decode_unsigned(&unsigned).is_ok());
}

#[test]
fn refuses_a_root_that_is_the_signed_payload() {
    let event = signed_init();
    let payload = event.payload_block().unwrap().cid();
    let result = Event::decode_car(&car(&[*payload], event.blocks()));
    assert!(
        matches!(&result, Err(Error::RootIsPayload { envelope }) if **envelope == *event.cid()),
        "{result:?}"
    );
    // Without the envelope beside it, the payload alone is an unsigned init with content.
    let alone = Event::decode_car(&car(&[*payload], &[event.payload_block().unwrap().clone()]));
    assert!(matches!(alone, Err(Error::UnsignedInitWithData)), "{alone:?}");
}

#[test]
fn refuses_a_root_that_is_not_in_the_car_or_not_one_root() {
    let event = signed_init();
    let elsewhere = *cbor(&Ipld::Integer(5)).cid();
    let result = Event::decode_car(&car(&[elsewhere], event.blocks()));
    assert!(matches!(result, Err(Error::MissingBlock { what: "event", .. })), "{result:?}");
    let two = Event::decode_car(&car(&[*event.cid(), *event.cid()], event.blocks()));
    assert!(matches!(two, Err(Error::RootCount(2))), "{two:?}");
    let none = Event::decode_car(&car(&[], event.blocks()));
    assert!(matches!(none, Err(Error::RootCount(0))), "{none:?}");
}

#[test]
fn refuses_missing_blocks() {
    let event = signed_init();
    let only_envelope = vec![event.event_block().clone()];
    let result = Event::decode_car(&car(&[*event.cid()], &only_envelope));
    assert!(
        matches!(result, Err(Error::MissingBlock { what: "signed payload", .. })),
        "{result:?}"
    );
}

#[test]
fn refuses_extra_and_repeated_blocks() {
    let event = signed_init();
    let mut blocks = event.blocks().to_vec();
    let extra = cbor(&Ipld::String("stowaway".into()));
    blocks.push(extra.clone());
    let result = Event::decode_car(&car(&[*event.cid()], &blocks));
    assert!(matches!(&result, Err(Error::ExtraBlock(cid)) if **cid == *extra.cid()), "{result:?}");

    let mut blocks = event.blocks().to_vec();
    blocks.push(blocks[0].clone());
    let result = Event::decode_car(&car(&[*event.cid()], &blocks));
    assert!(matches!(result, Err(Error::DuplicateBlock(_))), "{result:?}");
}

#[test]
fn accepts_the_needed_blocks_in_any_order_and_writes_the_sdk_order() {
    let event = signed_init();
    let mut blocks = event.blocks().to_vec();
    blocks.reverse();
    let decoded = Event::decode_car(&car(&[*event.cid()], &blocks)).unwrap();
    assert_eq!(decoded.encode_car().unwrap(), event.encode_car().unwrap());
}

#[test]
fn refuses_unknown_fields_everywhere() {
    let extra_top =
        map(vec![("data", Ipld::Null), ("header", header_with(vec![])), ("x", Ipld::Null)]);
    assert!(matches!(decode_unsigned(&extra_top), Err(Error::Block { what: "event", .. })));
    let extra_header =
        map(vec![("data", Ipld::Null), ("header", header_with(vec![("colour", Ipld::Null)]))]);
    assert!(matches!(decode_unsigned(&extra_header), Err(Error::Block { what: "event", .. })));
    // A Tile header field is known to the commit codec but not a Ceramic event field.
    let tile = map(vec![
        ("data", Ipld::Null),
        ("header", header_with(vec![("family", Ipld::String("f".into()))])),
    ]);
    let result = decode_unsigned(&tile);
    assert!(matches!(result, Err(Error::UnexpectedField { field: "family", .. })), "{result:?}");
    // In a signed payload too.
    let signer = fixed_signer();
    let commit = ceramic_codecs::Payload::decode(
        &ceramic_codecs::encode(&map(vec![
            ("data", Ipld::Null),
            ("header", header_with(vec![("tags", Ipld::List(vec![]))])),
        ]))
        .unwrap(),
    )
    .unwrap();
    let signed = ceramic_did::sign_commit(&signer, &commit).unwrap();
    let blocks = [signed.payload_block().clone(), signed.envelope_block().clone()];
    let result = Event::decode_car(&car(&[*signed.envelope_block().cid()], &blocks));
    assert!(matches!(result, Err(Error::UnexpectedField { field: "tags", .. })), "{result:?}");
}

#[test]
fn refuses_headers_that_are_not_ceramic_event_headers() {
    let two = map(vec![(
        "header",
        map(vec![
            ("controllers", Ipld::List(vec![Ipld::String("a".into()), Ipld::String("b".into())])),
            ("model", Ipld::Bytes(model().to_bytes())),
        ]),
    )]);
    assert!(matches!(decode_unsigned(&two), Err(Error::ControllerCount(2))));
    let no_model = map(vec![(
        "header",
        map(vec![("controllers", Ipld::List(vec![Ipld::String("a".into())]))]),
    )]);
    assert!(matches!(decode_unsigned(&no_model), Err(Error::MissingField { field: "model", .. })));
    let bad_model = map(vec![("header", header_with(vec![]).clone())]);
    let Ipld::Map(mut inner) = header_with(vec![]) else { unreachable!() };
    inner.insert("model".into(), Ipld::Bytes(vec![0xce, 0x01, 0x02]));
    let bad = map(vec![("header", Ipld::Map(inner))]);
    assert!(decode_unsigned(&bad_model).is_ok());
    assert!(matches!(decode_unsigned(&bad), Err(Error::InvalidStreamId { field: "model", .. })));
    let text_unique =
        map(vec![("header", header_with(vec![("unique", Ipld::String("u".into()))]))]);
    assert!(matches!(decode_unsigned(&text_unique), Err(Error::UniqueNotBytes)));
}

#[test]
fn refuses_wrong_codecs() {
    let event = signed_init();
    // The envelope's bytes under a raw (0x55) CID.
    let raw = Block::new(
        ceramic_codecs::cid_of(0x55, event.event_block().data()),
        event.event_block().data().to_vec(),
    )
    .unwrap();
    let mut blocks = event.blocks().to_vec();
    let last = blocks.len() - 1;
    blocks[last] = raw.clone();
    let result = Event::decode_car(&car(&[*raw.cid()], &blocks));
    assert!(
        matches!(result, Err(Error::WrongCodec { what: "event", actual: 0x55, .. })),
        "{result:?}"
    );
    // An unsigned init's bytes under a dag-jose CID are not an envelope.
    let init = cbor(&map(vec![("header", header_with(vec![]))]));
    let jose = Block::new(ceramic_codecs::cid_of(0x85, init.data()), init.data().to_vec()).unwrap();
    let result = Event::decode_car(&car(&[*jose.cid()], &[jose]));
    assert!(matches!(result, Err(Error::Block { what: "event envelope", .. })), "{result:?}");
}

#[test]
fn refuses_every_truncation_without_panicking() {
    let bytes = signed_init().encode_car().unwrap();
    for cut in 0..bytes.len() {
        assert!(Event::decode_car(&bytes[..cut]).is_err(), "cut at {cut}");
    }
}

#[test]
fn refuses_oversized_blocks_and_cars() {
    // A block one byte over the limit, as a CAR section: the CAR reader refuses it.
    let big = vec![0u8; MAX_BLOCK_SIZE + 1];
    let cid = ceramic_codecs::cid_of(0x71, &big);
    let mut bytes = car(&[cid], &[]);
    let mut section = cid.to_bytes();
    section.extend_from_slice(&big);
    let mut len = unsigned_varint::encode::usize_buffer();
    bytes.extend_from_slice(unsigned_varint::encode::usize(section.len(), &mut len));
    bytes.extend_from_slice(&section);
    let result = Event::decode_car(&bytes);
    assert!(
        matches!(
            result,
            Err(Error::Car(ceramic_codecs::Error::BlockTooLarge { .. })
                | Error::Car(ceramic_codecs::Error::CarLength { .. }))
        ),
        "{result:?}"
    );
    let huge = vec![0u8; MAX_CAR_SIZE + 1];
    assert!(matches!(Event::decode_car(&huge), Err(Error::CarTooLarge { .. })));
    // Content too large to sign is refused when building.
    let signer = fixed_signer();
    let payload = InitPayload {
        header: InitHeader::new(signer.did(), model()),
        data: Some(Ipld::Bytes(vec![0; MAX_BLOCK_SIZE])),
    };
    assert!(matches!(Event::sign(&signer, payload.into()), Err(Error::Signature(_))));
}

#[test]
fn decodes_a_bad_signature_but_verification_refuses_it() {
    let event = signed_init();
    let envelope = event.signature().unwrap().envelope().clone();
    let mut signatures = envelope.signatures().to_vec();
    signatures[0].signature[0] ^= 1;
    let forged = ceramic_codecs::Envelope::new(*envelope.link(), signatures).unwrap();
    let forged_block = Block::from_data(Codec::DagJose, forged.encode().unwrap()).unwrap();
    let blocks = [event.payload_block().unwrap().clone(), forged_block.clone()];
    let decoded = Event::decode_car(&car(&[*forged_block.cid()], &blocks)).unwrap();
    let result = decoded.verify_signature(&ceramic_did::KeyResolver);
    assert!(
        matches!(result, Err(Error::Signature(ceramic_did::Error::BadSignature { .. }))),
        "{result:?}"
    );
    event.verify_signature(&ceramic_did::KeyResolver).unwrap();
    // Unsigned events have nothing to verify.
    let unsigned = Event::unsigned_init(InitPayload {
        header: InitHeader::new("did:key:z6Mkabc", model()),
        data: Some(Ipld::Null),
    })
    .unwrap();
    assert!(matches!(
        unsigned.verify_signature(&ceramic_did::KeyResolver),
        Err(Error::MissingField { .. })
    ));
}

#[test]
fn refuses_unsigned_data_and_signed_time_events() {
    let id = *cbor(&Ipld::Integer(1)).cid();
    let data = DataPayload { id, prev: id, header: None, data: Some(Ipld::List(vec![])) };
    let block =
        Block::encode(Codec::DagCbor, &EventPayload::Data(data.clone()).to_commit()).unwrap();
    let result = Event::decode_car(&car(&[*block.cid()], &[block]));
    assert!(matches!(result, Err(Error::UnsignedData)), "{result:?}");

    let time = TimePayload { id, prev: id, proof: id, path: String::new() };
    assert!(matches!(
        Event::sign(&fixed_signer(), EventPayload::Time(time.clone())),
        Err(Error::SignedTime)
    ));
    let signed =
        ceramic_did::sign_commit(&fixed_signer(), &EventPayload::Time(time).to_commit()).unwrap();
    let blocks = [signed.payload_block().clone(), signed.envelope_block().clone()];
    let result = Event::decode_car(&car(&[*signed.envelope_block().cid()], &blocks));
    assert!(matches!(result, Err(Error::SignedTime)), "{result:?}");
    assert!(matches!(
        Event::unsigned_init(InitPayload {
            header: InitHeader::new("d", model()),
            data: Some(Ipld::Integer(1))
        }),
        Err(Error::UnsignedInitWithData)
    ));
}

#[test]
fn refuses_time_events_whose_path_does_not_lead_to_prev() {
    let id = *cbor(&Ipld::Integer(1)).cid();
    let prev = *cbor(&Ipld::Integer(2)).cid();
    let other = *cbor(&Ipld::Integer(3)).cid();
    let node = cbor(&Ipld::List(vec![Ipld::Link(prev), Ipld::Link(other)]));
    let tx = "bagjqcgzadp7fstu7fz5tfi474ugsjqx5h6yvevn54w5m4akayhegdsonwciq".parse().unwrap();
    let proof = ceramic_event::AnchorProof {
        chain_id: "eip155:1".into(),
        root: *node.cid(),
        tx_hash: tx,
        tx_type: Some("f(bytes32)".into()),
    };
    let proof_cid = *Block::encode(Codec::DagCbor, &proof).unwrap().cid();
    let time = |path: &str| TimePayload { id, prev, proof: proof_cid, path: path.into() };
    assert!(Event::time(time("0"), &proof, vec![node.clone()]).is_ok());
    let wrong = Event::time(time("1"), &proof, vec![node.clone()]);
    assert!(matches!(wrong, Err(Error::PathMismatch { .. })), "{wrong:?}");
    let empty = Event::time(time(""), &proof, vec![]);
    assert!(matches!(empty, Err(Error::PathMismatch { .. })), "{empty:?}");
    for bad in ["2", "0/", "/0", "0//1", "x", &["0"; 65].join("/")] {
        let result = Event::time(time(bad), &proof, vec![node.clone()]);
        assert!(matches!(result, Err(Error::InvalidPath(_))), "{bad}: {result:?}");
    }
    let deeper = Event::time(time("0/0"), &proof, vec![node.clone()]);
    assert!(matches!(deeper, Err(Error::MissingBlock { what: "Merkle node", .. })), "{deeper:?}");
    let missing = Event::time(time("0"), &proof, vec![]);
    assert!(matches!(missing, Err(Error::MissingBlock { what: "Merkle node", .. })), "{missing:?}");
    let leaf_not_list = cbor(&map(vec![("0", Ipld::Link(prev))]));
    let mut p2 = proof.clone();
    p2.root = *leaf_not_list.cid();
    let p2_cid = *Block::encode(Codec::DagCbor, &p2).unwrap().cid();
    let t2 = TimePayload { id, prev, proof: p2_cid, path: "0".into() };
    assert!(matches!(
        Event::time(t2, &p2, vec![leaf_not_list]),
        Err(Error::PathNode { index: 0, .. })
    ));
    // The proof itself is strict: an unknown field is refused.
    let bad_proof = cbor(&map(vec![
        ("chainId", Ipld::String("eip155:1".into())),
        ("root", Ipld::Link(prev)),
        ("txHash", Ipld::Link(tx)),
        ("extra", Ipld::Null),
    ]));
    let t3 = TimePayload { id, prev, proof: *bad_proof.cid(), path: String::new() };
    let event = Block::encode(Codec::DagCbor, &EventPayload::Time(t3).to_commit()).unwrap();
    let result = Event::decode_car(&car(&[*event.cid()], &[event, bad_proof]));
    assert!(matches!(result, Err(Error::Block { what: "anchor proof", .. })), "{result:?}");
}

#[test]
fn refuses_a_time_event_without_id() {
    let prev = *cbor(&Ipld::Integer(2)).cid();
    let event = cbor(&map(vec![
        ("path", Ipld::String(String::new())),
        ("prev", Ipld::Link(prev)),
        ("proof", Ipld::Link(prev)),
    ]));
    let result = Event::decode_car(&car(&[*event.cid()], &[event]));
    assert!(matches!(result, Err(Error::MissingField { field: "id", .. })), "{result:?}");
}

/// The blocks of a vector's CAR and its root.
fn vector_blocks(file: &str, name: &str) -> (Cid, Vec<Block>) {
    let case = crate::vectors(file).into_iter().find(|c| c["name"] == name).unwrap();
    let bytes = ceramic_event::car_from_multibase(case["car"].as_str().unwrap()).unwrap();
    let car = ceramic_codecs::read_car(&bytes).unwrap();
    (car.roots[0], car.blocks)
}

#[test]
fn refuses_a_session_event_without_its_cacao() {
    let (root, blocks) = vector_blocks("js-ceramic-sdk.json", "mid_cacao_data");
    assert!(Event::decode_car(&car(&[root], &blocks)).is_ok());
    let without: Vec<Block> = blocks
        .into_iter()
        .filter(|b| b.cid().codec() != 0x71 || { ceramic_did::Cacao::decode(b.data()).is_err() })
        .collect();
    let result = Event::decode_car(&car(&[root], &without));
    assert!(matches!(result, Err(Error::MissingBlock { what: "CACAO", .. })), "{result:?}");
}

#[test]
fn refuses_a_time_event_without_its_proof_or_a_node() {
    let (root, blocks) = vector_blocks("rust-ceramic.json", "TIME_EVENT_CAR_MULTI_EVENT_BATCH");
    assert!(Event::decode_car(&car(&[root], &blocks)).is_ok());
    // blocks: event, proof, then the Merkle nodes.
    let mut no_proof = blocks.clone();
    no_proof.remove(1);
    let result = Event::decode_car(&car(&[root], &no_proof));
    assert!(matches!(result, Err(Error::MissingBlock { what: "anchor proof", .. })), "{result:?}");
    let mut no_node = blocks.clone();
    no_node.remove(5);
    let result = Event::decode_car(&car(&[root], &no_node));
    assert!(matches!(result, Err(Error::MissingBlock { what: "Merkle node", .. })), "{result:?}");
}
