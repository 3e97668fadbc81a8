//! rust-ceramic's own event CARs (`testdata/rust-ceramic.json`, copied from
//! `event/src/unvalidated/mod.rs`), and the facts `specs/ceramic-protocol-notes.md` §1.4 and
//! §2.3 decoded from them.

use ceramic_event::{CarBase, Error, EventKind, EventPayload};

use crate::{decode_text, vectors};

fn case(name: &str) -> String {
    vectors("rust-ceramic.json")
        .into_iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no case {name}"))["car"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn decodes_and_reencodes_every_accepted_vector() {
    for c in vectors("rust-ceramic.json") {
        let name = c["name"].as_str().unwrap();
        if name == "UNSIGNED_INIT_NO_SEP_CAR" {
            continue; // refused, see below
        }
        let text = c["car"].as_str().unwrap();
        let event = decode_text(name, text);
        let bytes = ceramic_event::car_from_multibase(text).unwrap();
        assert_eq!(event.encode_car().unwrap(), bytes, "{name} does not re-encode byte for byte");
        let base = if text.starts_with('m') { CarBase::Base64 } else { CarBase::Base64Url };
        assert_eq!(event.encode_multibase(base).unwrap(), text, "{name}");
    }
}

#[test]
fn signed_init_event_names_its_stream_by_the_envelope() {
    let event = decode_text("signed init", &case("SIGNED_INIT_EVENT_CAR"));
    assert_eq!(event.kind(), EventKind::Init);
    assert_eq!(
        event.cid().to_string(),
        "bagcqcerar2aga7747dm6fota3iipogz4q55gkaamcx2weebs6emvtvie2oha"
    );
    assert_eq!(
        event.payload_block().unwrap().cid().to_string(),
        "bafyreiaroclcgqih242byss6pneufencrulmeex2ttfdzefst67agwq3im"
    );
    assert_eq!(
        event.stream_id().unwrap().to_string(),
        "kjzl6kcym7w8y8fn6y54ys70b3199rzcvycug2qf2rvmwntlnoysenmzv4ntnke"
    );
    let header = event.init_header().unwrap();
    assert_eq!(
        header.model.to_string(),
        "kjzl6hvfrbw6c90uwoyz8j519gxma787qbsfjtrarkr1huq1g1s224k7hopvsyg"
    );
    assert_eq!(header.controller, "did:key:z6MktBynAPLrEyeS7pVthbiyScmfu8n5V7boXgxyo5q3SZRR");
    assert_eq!(hex::encode(header.unique.as_ref().unwrap()), "44a6f13ab2410bbb6a8568de");
    assert_eq!(event.signature().unwrap().signer_did(), header.controller);
    event.verify_signature(&ceramic_did::KeyResolver).expect("rust-ceramic's signature verifies");
}

#[test]
fn signed_data_event_follows_the_init_event() {
    let event = decode_text("signed data", &case("SIGNED_DATA_EVENT_CAR"));
    assert_eq!(event.kind(), EventKind::Data);
    assert_eq!(
        event.cid().to_string(),
        "bagcqcerae5oqoglzjjgz53enwsttl7mqglp5eoh2llzbbvfktmzxleeiffbq"
    );
    let init = "bagcqcerar2aga7747dm6fota3iipogz4q55gkaamcx2weebs6emvtvie2oha";
    assert_eq!(event.init_cid().to_string(), init);
    assert_eq!(event.prev().unwrap().to_string(), init);
    event.verify_signature(&ceramic_did::KeyResolver).unwrap();
}

#[test]
fn unsigned_init_event_is_one_block() {
    let event = decode_text("unsigned init", &case("UNSIGNED_INIT_EVENT_CAR"));
    assert_eq!(
        event.cid().to_string(),
        "bafyreiakimdaub7m6inx2nljypdhvhu5vozjhylqukif4hjxt65qnkv6my"
    );
    assert_eq!(event.blocks().len(), 1);
    assert!(event.signature().is_none());
    let header = event.init_header().unwrap();
    assert_eq!(header.unique.as_deref(), Some(&b"foo|bar"[..]));
    assert_eq!(ceramic_event::set_unique(&["foo", "bar"]), b"foo|bar");
    assert_eq!(
        event.stream_id().unwrap().to_string(),
        "k2t6wzhkhabz0lio9stf80sos1dxs4d1yl54af6rok84xcr34h6so8p3nbq7ae"
    );
}

#[test]
fn cacao_signed_data_event_carries_its_cacao() {
    let event = decode_text("cacao", &case("CACAO_SIGNED_DATA_EVENT_CAR"));
    let signature = event.signature().unwrap();
    let cacao = signature.cacao().expect("the cap names a CACAO in the CAR");
    assert_eq!(cacao.p.resources.as_deref(), Some(&["ceramic://*".to_owned()][..]));
    assert_eq!(event.blocks().len(), 3);
    assert_eq!(event.blocks()[0].cid(), event.cacao_block().unwrap().cid());
}

#[test]
fn time_events_carry_proof_and_path() {
    let single = decode_text("single", &case("TIME_EVENT_CAR_SINGLE_EVENT_BATCH"));
    assert_eq!(
        single.cid().to_string(),
        "bafyreidsnkqg7n4hjicdpwquwu2gkstgxofsizykbsgv7ys2r3enmj654u"
    );
    let proof = single.proof().unwrap();
    assert_eq!(proof.chain_id, "eip155:11155111");
    assert_eq!(proof.tx_type.as_deref(), Some("f(bytes32)"));
    let EventPayload::Time(time) = single.payload() else { panic!("not a time event") };
    assert_eq!(time.path, "0");
    assert_eq!(single.blocks().len(), 3); // event, proof, root node

    let multi = decode_text("multi", &case("TIME_EVENT_CAR_MULTI_EVENT_BATCH"));
    let EventPayload::Time(time) = multi.payload() else { panic!("not a time event") };
    assert_eq!(time.path.split('/').count(), 10);
    assert_eq!(multi.blocks().len(), 2 + 10);
}

#[test]
fn refuses_an_unsigned_init_event_with_content() {
    // ceramic-one accepts this one (its issue #655); js-ceramic's handlers refuse content in an
    // unsigned genesis, and so do we (specs/ceramic-events.md).
    let result = ceramic_event::Event::decode_multibase(&case("UNSIGNED_INIT_NO_SEP_CAR"));
    assert!(matches!(result, Err(Error::UnsignedInitWithData)), "{result:?}");
}
