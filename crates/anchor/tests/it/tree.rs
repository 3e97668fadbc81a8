//! Tree shapes: every path of every small tree leads to its leaf, and a pinned root.

use ceramic_anchor::{
    Batch, DEV_CHAIN_ID, Node, Request, Tree, Witness, path_for, tx_hash_cid, verify_merkle_path,
};
use ceramic_codecs::{Block, Cid, cid_of};
use ceramic_storage::MapSource;

fn source(tree: &Tree) -> MapSource {
    let mut source = MapSource::default();
    source.extend(tree.nodes());
    source
}

#[test]
fn every_path_leads_from_the_root_to_its_leaf_for_1_to_64_leaves() {
    for n in 1..=64u8 {
        let leaves: Vec<Cid> = (0..n).map(|i| cid_of(0x85, &[n, i])).collect();
        let tree = Tree::build(leaves.clone()).unwrap();
        let source = source(&tree);
        assert_eq!(tree.nodes().len(), usize::from(n.max(2)) - 1, "n = {n}");
        assert_eq!(*tree.nodes().last().unwrap().cid(), tree.root(), "n = {n}");
        let mut sorted = tree.leaves().to_vec();
        sorted.sort_by_key(Cid::to_string);
        assert_eq!(tree.leaves(), sorted, "n = {n}: leaves in CAS order");
        let depth_max = (usize::BITS - (usize::from(n) - 1).leading_zeros()).max(1) as usize;
        let paths: Vec<String> = tree.paths().collect();
        for (i, leaf) in tree.leaves().iter().enumerate() {
            let path = tree.path(i).unwrap();
            assert_eq!(paths[i], path, "n = {n}, leaf {i}");
            assert_eq!(path_for(i, n.into()).unwrap(), path);
            let nodes = verify_merkle_path(&source, tree.root(), &path, *leaf)
                .unwrap_or_else(|e| panic!("n = {n}, leaf {i}, path {path}: {e}"));
            let witness: Vec<Block> = tree.witness(i).unwrap().into_iter().cloned().collect();
            assert_eq!(nodes, witness, "n = {n}, leaf {i}");
            assert!(nodes.len() <= depth_max, "n = {n}, leaf {i}: depth {}", nodes.len());
            for node in &nodes {
                assert_eq!(Node::decode(node.data()).unwrap().encode(), node.data());
            }
        }
        let mut unique = paths.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), paths.len(), "n = {n}: paths are distinct");
        assert_eq!(tree.path(n.into()), None);
    }
}

/// Pinned roots, computed independently of this crate by a 30-line Python script (hashlib's
/// sha256, base64's b32encode, and the CBOR bytes written out by hand:
/// `82 | d8 2a 58 25 00 <36-byte CID> | (d8 2a 58 25 00 <CID> or f6)`), following the halving
/// construction of anchor-utils `buildLevel`. Leaf `i` is `cid_of(0x71, [i])`, i.e.
/// `01 71 12 20 || sha256([i])`; the script sorts the leaves by their base32 strings.
#[test]
fn small_trees_have_the_pinned_roots() {
    let pinned = [
        (1, "bafyreigxpf5yupzhqd26b6z6iloobh4xkgdmxslb4ysp5xn4svwl6io2ry"),
        (3, "bafyreih44brxsa4pzb3jktrwymrxew5u4ewxfllu5ohmdlcvjzsdhuobmy"),
        (5, "bafyreihruozu45s4qgpmsb4w55yzue7vgsq4iiqhli5sbd7jr5glegz3bi"),
    ];
    for (n, root) in pinned {
        let leaves: Vec<Cid> = (0..n).map(|i: u8| cid_of(0x71, &[i])).collect();
        assert_eq!(Tree::build(leaves.clone()).unwrap().root().to_string(), root, "n = {n}");
        // The order the leaves come in does not matter: the tree sorts them.
        let reversed: Vec<Cid> = leaves.into_iter().rev().collect();
        assert_eq!(Tree::build(reversed).unwrap().root().to_string(), root, "n = {n}");
    }
    // The script's order of the three leaves.
    let three: Vec<String> = Tree::build((0..3u8).map(|i| cid_of(0x71, &[i])).collect())
        .unwrap()
        .leaves()
        .iter()
        .map(Cid::to_string)
        .collect();
    assert_eq!(
        three,
        [
            "bafyreicl6ujc6ncfktctxxroxognfn7d2fqavvrryoc2lv6m4i6hpbkfti",
            "bafyreidogqfzz75tpkmjzjke425xqcrmpcib2p5tg44hnbirumdbpl5adu",
            "bafyreig3yg2msah74sgvow25uxddqbabex3f3mh6hysess3w5kmgiv6zqy",
        ]
    );
}

#[test]
fn every_witness_car_of_a_batch_reads_back() {
    let requests: Vec<Request> = (0..37u8)
        .map(|i| Request { genesis: cid_of(0x71, &[i]), tip: cid_of(0x85, &[i, 1]) })
        .collect();
    let batch = Batch::new(requests).unwrap();
    let anchors = batch.finish(DEV_CHAIN_ID, tx_hash_cid([1; 32]), None).unwrap();
    for (i, anchor) in anchors.anchors().iter().enumerate() {
        let car = anchors.witness_car(i).unwrap();
        let witness = Witness::from_car(&car).unwrap_or_else(|e| panic!("leaf {i}: {e}"));
        assert_eq!(witness.cid(), anchor.cid());
        assert_eq!(witness.commit(), anchor.commit());
        assert_eq!(witness.proof(), anchors.proof());
        let expected: Vec<&Block> = anchors.witness(i).unwrap();
        assert_eq!(witness.blocks().iter().collect::<Vec<_>>(), expected);
        assert_eq!(witness.blocks().len(), 2 + anchor.commit().path.split('/').count());
    }
}
