//! Properties over random leaf sets, round trips, and decoders fed arbitrary bytes.

use ceramic_anchor::test_utils::{arb_cid, arb_leaves, arb_requests};
use ceramic_anchor::{
    Batch, Node, Tree, Witness, cas_order, eth_tx_hash, root_from_v0_calldata, root_from_v0_hex,
    root_from_v1_calldata, root_to_v0_calldata, root_to_v0_hex, root_to_v1_calldata, sort_leaves,
    tx_hash_cid, verify_merkle_path,
};
use ceramic_codecs::{Cid, Codec, cid_of};
use ceramic_storage::MapSource;
use proptest::prelude::*;

/// Truncations and single bit flips of `bytes`, chosen by `cut` and `flip`.
fn mangle(bytes: &[u8], cut: usize, flip: usize) -> [Vec<u8>; 2] {
    let truncated = bytes[..cut % (bytes.len() + 1)].to_vec();
    let mut flipped = bytes.to_vec();
    if !flipped.is_empty() {
        let bit = flip % (flipped.len() * 8);
        flipped[bit / 8] ^= 1 << (bit % 8);
    }
    [truncated, flipped]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_leaf_path_verifies_and_leads_to_no_other_leaf(leaves in arb_leaves(80)) {
        let tree = Tree::build(leaves.clone()).unwrap();
        let mut source = MapSource::default();
        source.extend(tree.nodes());
        let n = tree.leaf_count();
        prop_assert_eq!(n, leaves.len());
        for (i, leaf) in tree.leaves().iter().enumerate() {
            let path = tree.path(i).unwrap();
            prop_assert!(verify_merkle_path(&source, tree.root(), &path, *leaf).is_ok());
            // Small trees: every other leaf; large ones: the neighbours and the far side.
            let others: Vec<usize> = if n <= 24 {
                (0..n).filter(|&j| j != i).collect()
            } else {
                vec![(i + 1) % n, (i + n - 1) % n, (i + n / 2) % n]
            };
            for j in others.into_iter().filter(|&j| j != i) {
                let other = tree.leaves()[j];
                prop_assert!(
                    verify_merkle_path(&source, tree.root(), &path, other).is_err(),
                    "path {} of leaf {} leads to leaf {}", path, i, j
                );
            }
        }
    }

    #[test]
    fn the_root_does_not_depend_on_the_order_given(leaves in arb_leaves(40)) {
        let root = Tree::build(leaves.clone()).unwrap().root();
        let reversed: Vec<Cid> = leaves.into_iter().rev().collect();
        prop_assert_eq!(Tree::build(reversed).unwrap().root(), root);
    }

    #[test]
    fn every_witness_car_of_a_batch_reads_back(requests in arb_requests(40)) {
        let batch = Batch::new(requests.clone()).unwrap();
        let root = batch.root();
        let anchors = batch.finish("inmemory:12345", tx_hash_cid([9; 32]), None).unwrap();
        prop_assert_eq!(anchors.anchors().len(), requests.len());
        for (i, anchor) in anchors.anchors().iter().enumerate() {
            prop_assert!(requests.contains(anchor.request()));
            let witness = Witness::from_car(&anchors.witness_car(i).unwrap()).unwrap();
            prop_assert_eq!(witness.commit(), anchor.commit());
            prop_assert_eq!(witness.proof().root, root);
        }
    }

    #[test]
    fn cas_order_is_string_order(a in arb_cid(), b in arb_cid()) {
        prop_assert_eq!(cas_order(&a, &b), a.to_string().cmp(&b.to_string()));
    }

    #[test]
    fn sort_leaves_is_string_order(mut leaves in proptest::collection::vec(arb_cid(), 0..60)) {
        // Duplicates too.
        leaves.extend(leaves.clone().into_iter().step_by(3));
        let mut expected = leaves.clone();
        expected.sort_by_key(Cid::to_string);
        sort_leaves(&mut leaves);
        prop_assert_eq!(leaves, expected);
    }

    #[test]
    fn nodes_round_trip(left in arb_cid(), right in proptest::option::of(arb_cid()),
                        metadata in proptest::option::of(arb_cid())) {
        let node = Node { left, right, metadata };
        let bytes = node.encode();
        prop_assert_eq!(Node::decode(&bytes).unwrap(), node);
        let mut items = vec![
            ceramic_codecs::Ipld::Link(left),
            right.map_or(ceramic_codecs::Ipld::Null, ceramic_codecs::Ipld::Link),
        ];
        items.extend(metadata.map(ceramic_codecs::Ipld::Link));
        prop_assert_eq!(bytes, ceramic_codecs::encode(&ceramic_codecs::Ipld::List(items)).unwrap());
    }

    #[test]
    fn calldata_and_tx_hashes_round_trip(digest in any::<[u8; 32]>(), cid in arb_cid()) {
        let root = cid_of(Codec::DagCbor.code(), &digest);
        prop_assert_eq!(root_from_v1_calldata(&root_to_v1_calldata(&root).unwrap()).unwrap(), root);
        prop_assert_eq!(root_from_v0_calldata(&root_to_v0_calldata(&cid)).unwrap(), cid);
        prop_assert_eq!(root_from_v0_hex(&root_to_v0_hex(&cid)).unwrap(), cid);
        prop_assert_eq!(eth_tx_hash(&tx_hash_cid(digest)).unwrap(), digest);
    }

    #[test]
    fn decoders_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = Node::decode(&bytes);
        let _ = root_from_v1_calldata(&bytes);
        let _ = root_from_v0_calldata(&bytes);
        let _ = root_from_v0_hex(&String::from_utf8_lossy(&bytes));
        let _ = Witness::from_car(&bytes);
    }

    #[test]
    fn decoders_never_panic_on_mangled_encodings(
        requests in arb_requests(6), cut in any::<usize>(), flip in any::<usize>()
    ) {
        let batch = Batch::new(requests).unwrap();
        let node = Node::decode(batch.tree().root_block().data()).unwrap();
        let calldata = root_to_v1_calldata(&batch.root()).unwrap();
        let v0 = root_to_v0_calldata(&batch.root());
        let anchors = batch.finish("inmemory:12345", tx_hash_cid([3; 32]), None).unwrap();
        let car = anchors.witness_car(0).unwrap();
        for bytes in mangle(&node.encode(), cut, flip) {
            let _ = Node::decode(&bytes);
        }
        for bytes in mangle(&calldata, cut, flip) {
            let _ = root_from_v1_calldata(&bytes);
        }
        for bytes in mangle(&v0, cut, flip) {
            let _ = root_from_v0_calldata(&bytes);
        }
        for bytes in mangle(&car, cut, flip) {
            let _ = Witness::from_car(&bytes);
        }
    }
}
