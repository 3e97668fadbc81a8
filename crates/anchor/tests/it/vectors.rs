//! The public rust-ceramic time-event vectors (rs:event/src/unvalidated/mod.rs
//! `TIME_EVENT_CAR_SINGLE_EVENT_BATCH`, `TIME_EVENT_CAR_MULTI_EVENT_BATCH`), which
//! `ceramic-codecs` keeps in `testdata/rust-ceramic-cars.json`.

use ceramic_anchor::{
    AnchorError, Error, Node, PathError, TX_TYPE_V1, Witness, eth_tx_hash, root_from_v1_calldata,
    root_to_v1_calldata, tx_hash_cid, verify_merkle_path,
};
use ceramic_codecs::{AnchorCommit, AnchorProof, Block, Cid, Codec, Payload, read_car, write_car};
use ceramic_storage::MapSource;
use serde_json::Value;

/// The CAR bytes and the expected root of a case of the codecs crate's rust-ceramic vectors.
fn case(name: &str) -> (Vec<u8>, Cid) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../codecs/testdata/rust-ceramic-cars.json");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(file["source"].is_string());
    let case = file["cases"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap();
    let (_, car) = multibase::decode(case["input"]["car_multibase"].as_str().unwrap()).unwrap();
    let root: Cid = case["expected"]["root"].as_str().unwrap().parse().unwrap();
    (car, root)
}

/// The anchor commit, its proof and a source of every block of the CAR.
fn open(name: &str) -> (AnchorCommit, AnchorProof, MapSource) {
    let (bytes, root) = case(name);
    let car = read_car(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(car.roots, [root], "{name}");
    let Payload::Anchor(commit) = Payload::decode(car.get(&root).unwrap().data()).unwrap() else {
        panic!("{name}: the root is not an anchor commit");
    };
    let proof: AnchorProof =
        ceramic_codecs::decode(car.get(&commit.proof).unwrap().data(), "proof").unwrap();
    let mut source = MapSource::default();
    source.extend(&car.blocks);
    (commit, proof, source)
}

#[test]
fn single_event_batch_path_leads_from_the_root_to_prev() {
    let name = "time-event-single-event-batch";
    let (commit, proof, source) = open(name);
    assert_eq!(commit.path, "0");
    assert_eq!(
        proof.root.to_string(),
        "bafyreid5nnnrpykqg6qy32ms7q5nd35hmyvruwmlnwocios6srr63qcq2e"
    );
    assert_eq!(proof.chain_id, "eip155:11155111");
    assert_eq!(proof.tx_type.as_deref(), Some(TX_TYPE_V1));
    let nodes = verify_merkle_path(&source, proof.root, &commit.path, commit.prev).unwrap();
    assert_eq!(nodes.len(), 1, "{name}");
    // An older CAS root: [prev, null, metadata].
    let root = Node::decode(nodes[0].data()).unwrap();
    assert_eq!((root.left, root.right), (commit.prev, None));
    assert!(root.metadata.is_some());
    assert_eq!(Node::decode(&root.encode()).unwrap(), root);
    assert_eq!(root.encode(), nodes[0].data());
}

#[test]
fn multi_event_batch_path_leads_from_the_root_to_prev() {
    let name = "time-event-multi-event-batch";
    let (commit, proof, source) = open(name);
    let steps = commit.path.split('/').count();
    assert!(steps > 1, "{name}: path {:?}", commit.path);
    let nodes = verify_merkle_path(&source, proof.root, &commit.path, commit.prev).unwrap();
    assert_eq!(nodes.len(), steps, "{name}");
    assert_eq!(*nodes[0].cid(), proof.root);
    for node in &nodes {
        let decoded = Node::decode(node.data()).unwrap_or_else(|e| panic!("{name}: {e}"));
        // Our encoder reproduces the CAS's bytes for every node on the path.
        assert_eq!(decoded.encode(), node.data(), "{name}: {}", node.cid());
    }
}

#[test]
fn vector_proofs_carry_eth_tx_hashes_and_v1_roots() {
    let (_, proof, _) = open("time-event-single-event-batch");
    let hash = eth_tx_hash(&proof.tx_hash).unwrap();
    assert_eq!(tx_hash_cid(hash), proof.tx_hash);
    assert!(proof.tx_hash.to_string().starts_with("bagjqcgza"));
    for name in ["time-event-single-event-batch", "time-event-multi-event-batch"] {
        let (_, proof, _) = open(name);
        let calldata = root_to_v1_calldata(&proof.root).unwrap();
        assert_eq!(root_from_v1_calldata(&calldata).unwrap(), proof.root, "{name}");
    }
    // rust-ceramic's multi-event vector has a placeholder tx hash: codec 0x00, sha2-256
    // (`baeabei…`), which is not an eth-tx CID.
    let (_, proof, _) = open("time-event-multi-event-batch");
    assert_eq!((proof.tx_hash.codec(), proof.tx_hash.hash().code()), (0x00, 0x12));
    assert!(matches!(eth_tx_hash(&proof.tx_hash), Err(Error::NotEthTxHash(_))));
}

#[test]
fn vector_cars_read_as_witnesses() {
    for name in ["time-event-single-event-batch", "time-event-multi-event-batch"] {
        let (bytes, root) = case(name);
        let witness = Witness::from_car(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(witness.cid(), root, "{name}");
    }
}

#[test]
fn a_wrong_path_in_the_vector_does_not_verify() {
    let (commit, proof, source) = open("time-event-multi-event-batch");
    let flipped: String = commit
        .path
        .chars()
        .map(|c| match c {
            '0' => '1',
            '1' => '0',
            c => c,
        })
        .collect();
    let err = verify_merkle_path(&source, proof.root, &flipped, commit.prev).unwrap_err();
    // Flipping every step leaves the CAR's blocks (only the path's nodes are in it).
    assert!(matches!(err, PathError::MissingBlock(_) | PathError::Anchor(_)), "{err}");
    let (commit, proof, source) = open("time-event-single-event-batch");
    let err = verify_merkle_path(&source, proof.root, "1", commit.prev).unwrap_err();
    assert!(matches!(err, PathError::Anchor(AnchorError::InvalidPath { .. })));
    let err = verify_merkle_path(&source, proof.root, "0", proof.root).unwrap_err();
    assert!(matches!(err, PathError::Anchor(AnchorError::PathMismatch { .. })));
}

#[test]
fn rejects_a_witness_whose_path_was_changed() {
    let (bytes, root) = case("time-event-single-event-batch");
    let car = read_car(&bytes).unwrap();
    let Payload::Anchor(mut commit) = Payload::decode(car.get(&root).unwrap().data()).unwrap()
    else {
        panic!("not an anchor commit");
    };
    commit.path = "1".into();
    let forged = Block::encode(Codec::DagCbor, &Payload::Anchor(commit)).unwrap();
    let blocks: Vec<&Block> =
        std::iter::once(&forged).chain(car.blocks.iter().filter(|b| *b.cid() != root)).collect();
    let forged_car = write_car(&[*forged.cid()], blocks).unwrap();
    assert!(matches!(Witness::from_car(&forged_car), Err(Error::Path(_))));
    let two_roots = write_car(&[root, root], &car.blocks).unwrap();
    assert!(matches!(Witness::from_car(&two_roots), Err(Error::WitnessRoots(2))));
    let without_proof = write_car(&[root], car.blocks.iter().take(1)).unwrap();
    assert!(matches!(Witness::from_car(&without_proof), Err(Error::MissingBlock(_))));
}
