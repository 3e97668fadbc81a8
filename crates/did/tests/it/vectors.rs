//! Golden vectors made by the JavaScript `dids`, `key-did-provider-*` and `stream-tile`
//! libraries (`cargo xtask vectors`): we must build the same bytes from the same inputs, accept
//! their signatures and reject damaged ones.

use std::path::PathBuf;

use base64::Engine as _;
use ceramic_codecs::{
    Block, Codec, DataCommit, Envelope, GenesisCommit, Header, Ipld, Payload, Signature, Unique,
};
use ceramic_did::{
    DidKey, Error, KeyResolver, KeySigner, KeyType, Resolver, Signer, sign_commit, verify_commit,
};
use ceramic_streamid::{Cid, StreamId, StreamType};
use serde_json::Value;

fn load(name: &str) -> Vec<Value> {
    ceramic_streamid::test_utils::load_vectors(env!("CARGO_MANIFEST_DIR"), name)
}

fn unhex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

/// JSON (dag-json) to IPLD, as the JS libraries see content.
fn ipld(v: &Value) -> Ipld {
    serde_ipld_dagjson::from_slice(v.to_string().as_bytes()).unwrap()
}

fn key_type(case: &Value) -> KeyType {
    case["input"]["key_type"].as_str().unwrap().parse().unwrap()
}

fn strings(v: &Value) -> Option<Vec<String>> {
    v.as_array().map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
}

/// The genesis header `TileDocument.makeGenesis` writes for this metadata.
fn genesis_header(metadata: &Value, did: &str, unique: Option<Unique>) -> Header {
    Header {
        controllers: Some(
            strings(&metadata["controllers"]).unwrap_or_else(|| vec![did.to_string()]),
        ),
        family: metadata["family"].as_str().map(String::from),
        schema: metadata["schema"].as_str().map(String::from),
        tags: strings(&metadata["tags"]),
        unique,
        forbid_controller_change: metadata["forbidControllerChange"].as_bool().filter(|b| *b),
        ..Header::default()
    }
}

fn check_commit(
    name: &str,
    signer: &KeySigner,
    payload: Payload,
    exp: &Value,
    stream: Option<StreamId>,
) -> Cid {
    let signed = sign_commit(signer, &payload).unwrap();
    assert_eq!(
        hex::encode(signed.payload_block().data()),
        exp["payload_hex"].as_str().unwrap(),
        "{name}: payload bytes"
    );
    assert_eq!(
        signed.payload_block().cid().to_string(),
        exp["payload_cid"].as_str().unwrap(),
        "{name}: payload CID"
    );
    let sig = &signed.jws().signatures[0];
    assert_eq!(
        String::from_utf8(sig.protected.clone()).unwrap(),
        exp["protected_json"].as_str().unwrap(),
        "{name}: header"
    );
    assert_eq!(
        hex::encode(&sig.signature),
        exp["signature_hex"].as_str().unwrap(),
        "{name}: signature"
    );
    assert_eq!(
        signed.jws().signing_input(0).unwrap(),
        exp["signing_input"].as_str().unwrap().as_bytes(),
        "{name}: signing input"
    );
    let jws = &signed.to_dag_jws_result()["jws"];
    assert_eq!(jws, &exp["jws"], "{name}: JWS JSON");
    assert_eq!(
        hex::encode(signed.envelope_block().data()),
        exp["envelope_hex"].as_str().unwrap(),
        "{name}: envelope bytes"
    );
    let envelope_cid = *signed.envelope_block().cid();
    assert_eq!(
        envelope_cid.to_string(),
        exp["envelope_cid"].as_str().unwrap(),
        "{name}: envelope CID"
    );
    let stream = stream.unwrap_or_else(|| StreamId::new(StreamType::TILE, envelope_cid).unwrap());
    assert_eq!(stream.to_string(), exp["stream_id"].as_str().unwrap(), "{name}: StreamID");
    assert_eq!(
        stream.at_commit(envelope_cid).unwrap().to_string(),
        exp["commit_id"].as_str().unwrap(),
        "{name}: CommitID"
    );

    // Their blocks decode to the same values and re-encode to the same bytes.
    let payload_bytes = unhex(&exp["payload_hex"]);
    let envelope_bytes = unhex(&exp["envelope_hex"]);
    assert_eq!(Payload::decode(&payload_bytes).unwrap(), payload, "{name}");
    assert_eq!(
        Envelope::decode(&envelope_bytes).unwrap().encode().unwrap(),
        envelope_bytes,
        "{name}"
    );
    assert_eq!(exp["js_verified"], Value::Bool(true), "{name}");

    // Our verifier accepts theirs…
    let verified = verify_commit(&KeyResolver, &envelope_bytes, &payload_bytes)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(verified.did(), signer.did(), "{name}");
    // …and rejects damaged ones.
    rejects_damage(name, &envelope_bytes, &payload_bytes, signer);
    envelope_cid
}

fn rejects_damage(name: &str, envelope_bytes: &[u8], payload_bytes: &[u8], signer: &KeySigner) {
    // A flipped bit anywhere in the envelope block.
    for at in 0..envelope_bytes.len() {
        let mut flipped = envelope_bytes.to_vec();
        flipped[at] ^= 0x01;
        assert!(
            verify_commit(&KeyResolver, &flipped, payload_bytes).is_err(),
            "{name}: envelope bit {at} flipped was accepted"
        );
    }
    // A flipped bit in the signature itself, re-encoded canonically.
    let envelope = Envelope::decode(envelope_bytes).unwrap();
    let mut sig = envelope.signatures()[0].clone();
    sig.signature[10] ^= 0x80;
    let bad = Envelope::new(*envelope.link(), vec![sig.clone()]).unwrap().encode().unwrap();
    let result = verify_commit(&KeyResolver, &bad, payload_bytes);
    assert!(matches!(result, Err(Error::BadSignature { .. })), "{name}: {result:?}");

    // A different signer claiming the same key id.
    let other =
        KeySigner::from_seed(signer.did_key().public_key().key_type(), &[0xee; 32]).unwrap();
    let input = ceramic_did::Jws {
        payload: envelope.payload().to_vec(),
        signatures: vec![ceramic_did::JwsSignature {
            protected: sig.protected.clone().unwrap().into_vec(),
            signature: vec![],
        }],
    }
    .signing_input(0)
    .unwrap();
    sig.signature = other.sign(&input).unwrap().into();
    let forged = Envelope::new(*envelope.link(), vec![sig]).unwrap().encode().unwrap();
    let result = verify_commit(&KeyResolver, &forged, payload_bytes);
    assert!(matches!(result, Err(Error::BadSignature { .. })), "{name}: other signer: {result:?}");

    // A tampered payload: it no longer hashes to the signed link.
    let mut tampered = payload_bytes.to_vec();
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    let result = verify_commit(&KeyResolver, envelope_bytes, &tampered);
    assert!(
        matches!(result, Err(Error::Codec(ceramic_codecs::Error::HashMismatch { .. }))),
        "{name}: {result:?}"
    );

    // A valid payload block that is not the one the envelope links to.
    let unrelated =
        Block::encode(Codec::DagCbor, &GenesisCommit { header: Header::default(), data: None })
            .unwrap();
    let result = verify_commit(&KeyResolver, envelope_bytes, unrelated.data());
    assert!(
        matches!(result, Err(Error::Codec(ceramic_codecs::Error::HashMismatch { .. }))),
        "{name}: {result:?}"
    );

    // An envelope with a second signature.
    let doubled = Envelope::new(*envelope.link(), vec![envelope.signatures()[0].clone(); 2])
        .unwrap()
        .encode()
        .unwrap();
    assert!(
        matches!(
            verify_commit(&KeyResolver, &doubled, payload_bytes),
            Err(Error::SignatureCount(2))
        ),
        "{name}"
    );
    let _ = Signature { header: None, protected: None, signature: vec![].into() };
}

#[test]
fn signed_tile_genesis_and_updates_are_byte_identical_to_js() {
    let cases = load("js-tile.json");
    assert!(cases.len() >= 3);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let input = &case["input"];
        let exp = &case["expected"];
        let mut signer = KeySigner::from_seed(key_type(&case), &unhex(&input["seed"])).unwrap();
        assert_eq!(signer.did(), exp["did"].as_str().unwrap(), "{name}: DID");
        assert_eq!(signer.kid(), exp["kid"].as_str().unwrap(), "{name}: kid");

        let unique = base64::engine::general_purpose::STANDARD_NO_PAD
            .encode(unhex(&input["unique_random_bytes"]));
        let genesis = GenesisCommit {
            header: genesis_header(&input["metadata"], signer.did(), Some(Unique::Text(unique))),
            data: Some(ipld(&input["content"])),
        };
        let genesis_cid = check_commit(
            &format!("{name}/genesis"),
            &signer,
            genesis.into(),
            &exp["genesis"],
            None,
        );
        let stream = StreamId::new(StreamType::TILE, genesis_cid).unwrap();

        let mut prev = genesis_cid;
        for (i, (update, exp)) in input["updates"]
            .as_array()
            .unwrap()
            .iter()
            .zip(exp["updates"].as_array().unwrap())
            .enumerate()
        {
            let header = Header {
                controllers: strings(&update["metadata"]["controllers"]),
                ..Header::default()
            };
            let commit = DataCommit {
                id: genesis_cid,
                prev,
                header: Some(header),
                // The JSON patch comes from fast-json-patch's diff, which is the doctype's business.
                data: Some(ipld(&exp["payload_dagjson"]["data"])),
            };
            prev = check_commit(
                &format!("{name}/update {i}"),
                &signer,
                commit.into(),
                exp,
                Some(stream),
            );
            if let Some(seed) = update["new_controller_seed"].as_str() {
                signer =
                    KeySigner::from_seed(key_type(&case), &hex::decode(seed).unwrap()).unwrap();
            }
        }
    }
}

#[test]
fn unsigned_genesis_commits_are_byte_identical_to_js() {
    for case in load("js-unsigned.json") {
        let name = case["name"].as_str().unwrap();
        let input = &case["input"];
        let exp = &case["expected"];
        let (genesis, stream_type) = match input["kind"].as_str().unwrap() {
            "tile" => {
                let signer = KeySigner::from_seed(key_type(&case), &unhex(&input["seed"])).unwrap();
                assert_eq!(signer.did(), exp["did"].as_str().unwrap(), "{name}");
                // Not deterministic: `unique` is base64 of the random bytes, as for signed genesis.
                let random = unhex(&input["unique_random_bytes"]);
                let unique = (!random.is_empty()).then(|| {
                    Unique::Text(base64::engine::general_purpose::STANDARD_NO_PAD.encode(random))
                });
                let header = genesis_header(&input["metadata"], signer.did(), unique);
                (GenesisCommit { header, data: None }, StreamType::TILE)
            }
            "caip10-link" => {
                // Caip10Link.makeGenesis: legacy CAIP-10 `address@chain`, eip155 lower-cased.
                let account = input["account"].as_str().unwrap();
                let (chain, address) = match account.split_once('@') {
                    Some((address, chain)) => (chain, address),
                    None => account.rsplit_once(':').unwrap(),
                };
                let address = if chain.starts_with("eip155:") {
                    address.to_lowercase()
                } else {
                    address.to_string()
                };
                let header = Header {
                    controllers: Some(vec![format!("{address}@{chain}")]),
                    family: Some(format!("caip10-{chain}")),
                    ..Header::default()
                };
                (GenesisCommit { header, data: None }, StreamType::CAIP10_LINK)
            }
            other => panic!("{name}: unknown kind {other}"),
        };
        let block = Block::encode(Codec::DagCbor, &genesis).unwrap();
        assert_eq!(
            hex::encode(block.data()),
            exp["payload_hex"].as_str().unwrap(),
            "{name}: bytes"
        );
        assert_eq!(block.cid().to_string(), exp["payload_cid"].as_str().unwrap(), "{name}: CID");
        let stream = StreamId::new(stream_type, *block.cid()).unwrap();
        assert_eq!(stream.to_string(), exp["stream_id"].as_str().unwrap(), "{name}: StreamID");
        assert_eq!(
            stream.genesis_commit_id().to_string(),
            exp["commit_id"].as_str().unwrap(),
            "{name}: CommitID"
        );
        assert_eq!(Payload::decode(block.data()).unwrap(), Payload::Genesis(genesis), "{name}");
    }
}

#[test]
fn did_keys_match_js() {
    for case in load("js-didkey.json") {
        let name = case["name"].as_str().unwrap();
        let input = &case["input"];
        let exp = &case["expected"];
        match input["kind"].as_str().unwrap() {
            "didkey" => {
                let signer = KeySigner::from_seed(key_type(&case), &unhex(&input["seed"])).unwrap();
                assert_eq!(signer.did(), exp["did"].as_str().unwrap(), "{name}");
                assert_eq!(
                    hex::encode(signer.did_key().public_key().to_bytes()),
                    exp["public_key"].as_str().unwrap(),
                    "{name}"
                );
            }
            "resolve" => {
                let url = input["did"].as_str().unwrap();
                let did = url.split(['#', '?']).next().unwrap();
                let doc = KeyResolver.resolve(did).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(doc.id, exp["did"].as_str().unwrap(), "{name}");
                let vm = &doc.verification_methods[0];
                assert_eq!(vm.id, exp["verification_method_id"].as_str().unwrap(), "{name}");
                assert_eq!(
                    hex::encode(vm.public_key.to_bytes()),
                    exp["public_key"].as_str().unwrap(),
                    "{name}"
                );
                assert_eq!(did.parse::<DidKey>().unwrap().did(), did, "{name}");
            }
            "bad" | "js-lenient" => {
                // key-did-resolver does not check secp256k1 points; we do.
                let did = input["did"].as_str().unwrap();
                let did = did.split(['#', '?']).next().unwrap();
                assert!(KeyResolver.resolve(did).is_err(), "{name}: accepted {did}");
            }
            other => panic!("{name}: unknown kind {other}"),
        }
    }
}

/// rust-ceramic's public CAR vectors (see `../codecs/testdata/rust-ceramic-cars.json`): events
/// made by another implementation decode strictly, and their signatures verify.
#[test]
fn rust_ceramic_events_decode_and_verify() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../codecs/testdata/rust-ceramic-cars.json");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = file["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 8);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let exp = &case["expected"];
        let (_, bytes) =
            multibase::decode(case["input"]["car_multibase"].as_str().unwrap()).unwrap();
        let car = ceramic_codecs::read_car(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let root = car.roots[0];
        assert_eq!(root.to_string(), exp["root"].as_str().unwrap(), "{name}: root");
        let cids: Vec<String> = car.blocks.iter().map(|b| b.cid().to_string()).collect();
        assert_eq!(Value::from(cids), exp["block_cids"], "{name}: blocks");
        let root_block = car.get(&root).unwrap().data();
        match exp["kind"].as_str().unwrap() {
            "signed-init" | "signed-data" | "cacao-signed-data" => {
                let envelope = Envelope::decode(root_block).unwrap();
                let payload = car.get(envelope.link()).unwrap().data();
                assert_eq!(
                    envelope.link().to_string(),
                    exp["payload_cid"].as_str().unwrap(),
                    "{name}"
                );
                let verified = verify_commit(&KeyResolver, root_block, payload)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(verified.did(), exp["signer"].as_str().unwrap(), "{name}: signer");
                let expected_kind = if exp["payload_type"] == "init" || exp["kind"] == "signed-init"
                {
                    "genesis"
                } else {
                    "data"
                };
                assert_eq!(verified.payload().kind(), expected_kind, "{name}");
                if exp["kind"] == "cacao-signed-data" {
                    assert!(
                        verified.signer().header.cap.as_deref().unwrap().starts_with("ipfs://"),
                        "{name}: cap"
                    );
                }
            }
            "unsigned-init" => {
                assert!(
                    matches!(Payload::decode(root_block).unwrap(), Payload::Genesis(_)),
                    "{name}"
                );
            }
            "time" => {
                let Payload::Anchor(anchor) = Payload::decode(root_block).unwrap() else {
                    panic!("{name}: not an anchor")
                };
                let proof = car.get(&anchor.proof).unwrap().data();
                let proof: ceramic_codecs::AnchorProof =
                    ceramic_codecs::decode(proof, "proof").unwrap();
                assert!(proof.chain_id.starts_with("eip155:"), "{name}");
            }
            other => panic!("{name}: unknown kind {other}"),
        }
    }
}
