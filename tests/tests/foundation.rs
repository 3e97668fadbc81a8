//! The foundation crates together: an author signs a Tile stream with streamid + codecs + did,
//! exports it as a CAR, and another party imports and verifies it.

use std::collections::BTreeMap;

use ceramic_codecs::Ipld;
use ceramic_did::{KeySigner, KeyType, Signer};
use ceramic_streamid::{CommitId, StreamId};
use ceramic_tests::{SignedLog, import_log};

fn patch(path: &str, value: i64) -> Ipld {
    let op = BTreeMap::from([
        ("op".to_string(), Ipld::String("replace".into())),
        ("path".to_string(), Ipld::String(path.into())),
        ("value".to_string(), Ipld::Integer(value.into())),
    ]);
    Ipld::List(vec![Ipld::Map(op)])
}

#[test]
fn a_signed_stream_survives_export_and_import() {
    for key_type in [KeyType::Ed25519, KeyType::Secp256k1] {
        let author = KeySigner::from_seed(key_type, &[9; 32]).unwrap();
        let mut log =
            SignedLog::tile(&author, Ipld::Map(BTreeMap::new()), "AAAAAAAAAAAAAAAA").unwrap();
        let first: CommitId = log.update(&author, patch("/n", 1)).unwrap();
        let second = log.update(&author, patch("/n", 2)).unwrap();

        // The ids travel as strings and come back equal.
        let stream: StreamId = log.stream_id.to_string().parse().unwrap();
        assert_eq!(second.to_string().parse::<CommitId>().unwrap(), second);
        assert_eq!(first.stream_id(), stream);

        let imported = import_log(&stream, &log.to_car().unwrap()).unwrap();
        assert_eq!(imported.len(), 3);
        assert!(imported.iter().all(|c| c.did() == author.did()));
    }
}

#[test]
fn import_refuses_a_log_for_another_stream_or_a_damaged_car() {
    let author = KeySigner::from_seed(KeyType::Ed25519, &[9; 32]).unwrap();
    let mut log = SignedLog::tile(&author, Ipld::Null, "AAAAAAAAAAAAAAAA").unwrap();
    log.update(&author, patch("/n", 1)).unwrap();
    let car = log.to_car().unwrap();

    let other = SignedLog::tile(&author, Ipld::Null, "BBBBBBBBBBBBBBBB").unwrap();
    assert!(import_log(&other.stream_id, &car).is_err(), "a log of another stream was accepted");

    for at in (0..car.len()).step_by(7) {
        let mut damaged = car.clone();
        damaged[at] ^= 0x20;
        assert!(import_log(&log.stream_id, &damaged).is_err(), "damage at byte {at} was accepted");
    }
}
