//! The `@ceramic-sdk` 0.12.0 vectors (`testdata/js-ceramic-sdk.json`, made by
//! `xtask/js-ceramic-sdk/gen.mjs`): we decode every event, re-encode it byte for byte, find the
//! same CIDs and StreamIDs, and our signers make the SDK's bytes from the same keys and payloads.

use std::collections::HashMap;

use ceramic_did::{KeySigner, KeyType, Signer};
use ceramic_event::{
    CarBase, Event, EventKind, EventPayload, InitHeader, METAMODEL_STREAM_ID, Network, set_unique,
};
use ceramic_streamid::{StreamId, StreamType};
use serde_json::Value;

use crate::{decode_text, vectors};

fn cases() -> Vec<(String, Value, Event)> {
    let cases: Vec<(String, Value, Event)> = vectors("js-ceramic-sdk.json")
        .into_iter()
        .map(|c| {
            let name = c["name"].as_str().unwrap().to_owned();
            let event = decode_text(&name, c["car"].as_str().unwrap());
            (name, c, event)
        })
        .collect();
    assert_eq!(cases.len(), 9, "every case of the generator");
    cases
}

fn seed(case: &Value, field: &str) -> KeySigner {
    let seed = hex::decode(case[field].as_str().unwrap()).unwrap();
    KeySigner::from_seed(KeyType::Ed25519, &seed).unwrap()
}

#[test]
fn decodes_and_reencodes_every_event_byte_for_byte() {
    for (name, case, event) in cases() {
        let text = case["car"].as_str().unwrap();
        assert_eq!(event.encode_multibase(CarBase::Base64).unwrap(), text, "{name}");
        assert_eq!(
            event.encode_car().unwrap(),
            ceramic_event::car_from_multibase(text).unwrap(),
            "{name}"
        );
        assert_eq!(event.cid().to_string(), case["cid"].as_str().unwrap(), "{name}");
        assert_eq!(event.signature().is_some(), case["signed"].as_bool().unwrap(), "{name}");
        let kind = match case["kind"].as_str().unwrap() {
            "init" => EventKind::Init,
            "data" => EventKind::Data,
            _ => EventKind::Time,
        };
        assert_eq!(event.kind(), kind, "{name}");
        if let Some(init) = case["init_cid"].as_str() {
            assert_eq!(event.init_cid().to_string(), init, "{name}");
        }
        if let Some(prev) = case["prev"].as_str() {
            assert_eq!(event.prev().unwrap().to_string(), prev, "{name}");
        }
    }
}

#[test]
fn finds_the_sdks_stream_ids() {
    let cases = cases();
    let inits: HashMap<String, InitHeader> = cases
        .iter()
        .filter_map(|(_, _, e)| Some((e.cid().to_string(), e.init_header()?.clone())))
        .collect();
    for (name, case, event) in &cases {
        let expected = case["stream_id"].as_str().unwrap();
        let stream_id = match event.stream_id() {
            Some(id) => id,
            None => {
                let header = &inits[&event.init_cid().to_string()];
                StreamId::new(header.stream_type(), event.init_cid()).unwrap()
            }
        };
        assert_eq!(stream_id.to_string(), expected, "{name}");
        if let (Some(header), Some(controller)) = (event.init_header(), case["controller"].as_str())
        {
            assert_eq!(header.controller, controller, "{name}");
            assert_eq!(header.model.to_string(), case["model"].as_str().unwrap(), "{name}");
            assert_eq!(header.sep(), "model");
        }
    }
    let (_, _, model) = cases.iter().find(|(n, ..)| n == "model_init").unwrap();
    let header = model.init_header().unwrap();
    assert_eq!(header.model.to_bytes(), METAMODEL_STREAM_ID);
    assert_eq!(header.stream_type(), StreamType::MODEL);
    assert_eq!(header.unique, None);
}

#[test]
fn our_did_key_signer_makes_the_sdks_bytes() {
    let mut checked = 0;
    for (name, case, event) in cases() {
        if case["signer_seed"].is_null() {
            continue;
        }
        let signer = seed(&case, "signer_seed");
        let ours = Event::sign(&signer, event.payload().clone()).unwrap();
        assert_eq!(ours.encode_car().unwrap(), event.encode_car().unwrap(), "{name}");
        let verified = event.verify_signature(&ceramic_did::KeyResolver).unwrap();
        assert_eq!(verified.did(), signer.did(), "{name}");
        checked += 1;
    }
    assert_eq!(checked, 4);
}

#[test]
fn our_cacao_session_signer_makes_the_sdks_bytes() {
    let mut checked = 0;
    for (name, case, event) in cases() {
        if case["session_seed"].is_null() {
            continue;
        }
        let session = seed(&case, "session_seed");
        assert_eq!(session.did(), case["signer"].as_str().unwrap(), "{name}");
        let signature = event.signature().unwrap();
        assert_eq!(signature.signer_did(), session.did());
        let cacao = signature.cacao().expect("a session event carries its CACAO");
        assert_eq!(cacao.p.iss, case["controller"].as_str().unwrap(), "{name}");
        cacao.verify_signature().expect("the wallet signed the CACAO");
        let ours = Event::sign_with_cacao(&session, cacao, event.payload().clone()).unwrap();
        assert_eq!(ours.encode_car().unwrap(), event.encode_car().unwrap(), "{name}");
        assert_eq!(ours.blocks()[0].cid(), event.cacao_block().unwrap().cid());
        event.verify_signature(&ceramic_did::KeyResolver).unwrap();
        checked += 1;
    }
    assert_eq!(checked, 2);
}

#[test]
fn deterministic_init_events_are_unsigned_and_rebuild_identically() {
    let mut checked = 0;
    for (name, case, event) in cases() {
        if case["signed"].as_bool().unwrap() || case["kind"] != "init" {
            continue;
        }
        let EventPayload::Init(payload) = event.payload() else { panic!("{name}") };
        let expected = case["unique_hex"].as_str().map(|h| hex::decode(h).unwrap());
        assert_eq!(payload.header.unique, expected, "{name}");
        if name == "mid_set_init" {
            assert_eq!(payload.header.unique.as_deref(), Some(&set_unique(&["hello", "a"])[..]));
        }
        let rebuilt = Event::unsigned_init(payload.clone()).unwrap();
        assert_eq!(rebuilt.encode_car().unwrap(), event.encode_car().unwrap(), "{name}");
        // Same header and signer, no unique: the same stream whoever builds it.
        let header = InitHeader {
            unique: payload.header.unique.clone(),
            ..InitHeader::new(payload.header.controller.clone(), payload.header.model)
        };
        let fresh = Event::unsigned_init(ceramic_event::InitPayload {
            header,
            data: Some(ceramic_codecs::Ipld::Null),
        })
        .unwrap();
        assert_eq!(fresh.cid(), event.cid(), "{name}");
        checked += 1;
    }
    assert_eq!(checked, 2);
}

#[test]
fn time_event_rebuilds_from_its_parts() {
    let (_, case, event) = cases().into_iter().find(|(n, ..)| n == "mid_list_time").unwrap();
    let EventPayload::Time(time) = event.payload() else { panic!("not a time event") };
    assert_eq!(time.proof.to_string(), case["proof_cid"].as_str().unwrap());
    let proof = event.proof().unwrap();
    assert_eq!(proof.root.to_string(), case["root_cid"].as_str().unwrap());
    let nodes = event.blocks()[2..].to_vec();
    let rebuilt = Event::time(time.clone(), proof, nodes).unwrap();
    assert_eq!(rebuilt.encode_car().unwrap(), event.encode_car().unwrap());
}

#[test]
fn event_ids_group_a_model_then_a_controller_then_a_stream() {
    let cases = cases();
    let inits: HashMap<String, InitHeader> = cases
        .iter()
        .filter_map(|(_, _, e)| Some((e.cid().to_string(), e.init_header()?.clone())))
        .collect();
    let mut ids: Vec<(String, ceramic_event::EventId)> = cases
        .iter()
        .map(|(name, _, e)| {
            let header = &inits[&e.init_cid().to_string()];
            (name.clone(), e.event_id(Network::TestnetClay, header))
        })
        .collect();
    for (name, id) in &ids {
        let event = &cases.iter().find(|(n, ..)| n == name).unwrap().2;
        assert_eq!(id.cid(), *event.cid(), "{name}");
        assert_eq!(id.network_id(), 1);
        let init = event.init_cid().to_bytes();
        assert_eq!(id.stream(), &init[init.len() - 4..], "{name}");
    }
    ids.sort_by(|a, b| a.1.cmp(&b.1));
    // Every event of a stream is contiguous in EventID order.
    let streams: Vec<String> = ids
        .iter()
        .map(|(name, _)| cases.iter().find(|(n, ..)| n == name).unwrap().2.init_cid().to_string())
        .collect();
    let mut seen: Vec<&String> = Vec::new();
    for s in &streams {
        if seen.last() != Some(&s) {
            assert!(!seen.contains(&s), "stream {s} is split in EventID order");
            seen.push(s);
        }
    }
}
