//! The anchor Merkle tree exactly as the Ceramic Anchor Service builds it
//! (js:packages/anchor-utils/src/merkle/merkle-tree-factory.ts, cas:src/merkle/merkle-car-factory.ts;
//! `specs/anchoring.md`).
//!
//! * Leaves are the anchored commits' CIDs, sorted as the current CAS sorts them (see
//!   [`sort_leaves`]).
//! * The tree is built by halving: `n` leaves split into the first `n / 2` (rounded down) and
//!   the rest, each half built the same way, and the two merged. A range of one leaf is the leaf
//!   itself, except for a whole tree of one leaf, whose root is `merge(leaf, null)`.
//! * A node is the dag-cbor list `[left, right | null]`. The CAS used to add the CID of a
//!   metadata block as a third element of the root; we write no metadata, and [`Node::decode`]
//!   accepts it.
//! * A leaf's path is the list of directions from the root (`0` left, `1` right) joined by `/`;
//!   a tree of one leaf gives `"0"`.
//!
//! Nodes are encoded by hand ([`Node::encode`]): a list of two links is 80 bytes, and going
//! through serde's `Ipld` values for a million of them costs more than hashing them. The unit
//! tests check the bytes against `ceramic_codecs::encode`.

use std::cmp::Ordering;

use ceramic_codecs::{Block, Cid, Codec, Ipld};

use crate::{Error, Result};

/// A Merkle node: `[left, right | null]`, or `[left, right | null, metadata]` for the roots of
/// older CAS batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Node {
    /// The left child (a node or a leaf).
    pub left: Cid,
    /// The right child; `None` only in the root of a one-leaf tree.
    pub right: Option<Cid>,
    /// The CID of a CIP-69 `TreeMetadata` block (older CAS roots only; we never write it).
    pub metadata: Option<Cid>,
}

/// CBOR: array of 2 or 3 items, tag 42, simple value null.
const ARRAY_2: u8 = 0x82;
const ARRAY_3: u8 = 0x83;
const TAG_42: [u8; 2] = [0xd8, 0x2a];
const NULL: u8 = 0xf6;

/// The length of a link's encoding: tag, byte-string header, the `00` prefix and the CID.
fn link_len(cid: &Cid) -> usize {
    let len = cid.encoded_len() + 1;
    TAG_42.len() + bytes_header_len(len) + len
}

fn bytes_header_len(len: usize) -> usize {
    match len {
        0..24 => 1,
        24..256 => 2,
        256..65_536 => 3,
        _ => 5,
    }
}

fn push_bytes_header(out: &mut Vec<u8>, len: usize) {
    // CBOR major type 2 (byte string) with the shortest length form. A CID is at most a few
    // varints and a 64-byte digest, so only the first two arms occur; the others keep the
    // encoder total.
    match len {
        0..24 => out.push(0x40 | len as u8),
        24..256 => out.extend_from_slice(&[0x58, len as u8]),
        256..65_536 => {
            out.push(0x59);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(0x5a);
            out.extend_from_slice(&(len as u32).to_be_bytes());
        }
    }
}

/// A dag-cbor link: tag 42 over the byte string `00 || cid bytes`.
fn push_link(out: &mut Vec<u8>, cid: &Cid) {
    out.extend_from_slice(&TAG_42);
    push_bytes_header(out, cid.encoded_len() + 1);
    out.push(0);
    cid.write_bytes(&mut *out).expect("writing to a Vec cannot fail");
}

impl Node {
    /// A node without metadata, as the CAS builds today.
    pub fn new(left: Cid, right: Option<Cid>) -> Self {
        Node { left, right, metadata: None }
    }

    /// The canonical dag-cbor encoding (byte-equal to `ceramic_codecs::encode` of the `Ipld`
    /// list; see the tests).
    pub fn encode(&self) -> Vec<u8> {
        let len = 1
            + link_len(&self.left)
            + self.right.as_ref().map_or(1, link_len)
            + self.metadata.as_ref().map_or(0, link_len);
        let mut out = Vec::with_capacity(len);
        out.push(if self.metadata.is_some() { ARRAY_3 } else { ARRAY_2 });
        push_link(&mut out, &self.left);
        match &self.right {
            Some(right) => push_link(&mut out, right),
            None => out.push(NULL),
        }
        if let Some(metadata) = &self.metadata {
            push_link(&mut out, metadata);
        }
        debug_assert_eq!(out.len(), len);
        out
    }

    /// The node's block (dag-cbor, sha2-256).
    pub fn to_block(&self) -> Block {
        Block::from_data(Codec::DagCbor, self.encode())
            .expect("a node of two or three links is far below the block size limit")
    }

    /// Decodes a node strictly: canonical dag-cbor, a list of two or three elements, the first
    /// a link, the second a link or null, the third (if any) a link.
    ///
    /// # Errors
    /// [`Error::Codec`] for bytes that are not canonical dag-cbor, [`Error::InvalidNode`] for
    /// another shape.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let value: Ipld = ceramic_codecs::decode(bytes, "Merkle node")?;
        let Ipld::List(items) = value else { return Err(Error::InvalidNode("not a list")) };
        let (left, right, metadata) = match items.as_slice() {
            [left, right] => (left, right, None),
            [left, right, metadata] => (left, right, Some(metadata)),
            _ => return Err(Error::InvalidNode("not two or three elements")),
        };
        let Ipld::Link(left) = left else { return Err(Error::InvalidNode("left is not a link")) };
        let right = match right {
            Ipld::Link(right) => Some(*right),
            Ipld::Null => None,
            _ => return Err(Error::InvalidNode("right is neither a link nor null")),
        };
        let metadata = match metadata {
            None => None,
            Some(Ipld::Link(metadata)) => Some(*metadata),
            Some(_) => return Err(Error::InvalidNode("metadata is not a link")),
        };
        Ok(Node { left: *left, right, metadata })
    }

    /// The child in direction `step` (`0` left, `1` right).
    pub fn child(&self, step: u8) -> Option<&Cid> {
        match step {
            0 => Some(&self.left),
            1 => self.right.as_ref(),
            _ => None,
        }
    }
}

/// Compares two leaves as the CAS does: `a.toString().localeCompare(b.toString())`
/// (cas:src/merkle/merkle-car-factory.ts `CIDSort`).
///
/// We compare the default string forms bytewise. For CIDv1 (base32 lower: `a`–`z`, `2`–`7`)
/// ICU's collation puts digits before letters and compares character by character, which is
/// exactly the byte order, so the two agree. CIDv0 strings (base58btc, mixed case) would differ
/// from ICU's case-insensitive first pass, but Ceramic commits are always CIDv1.
pub fn cas_order(a: &Cid, b: &Cid) -> Ordering {
    sort_key(a).cmp(&sort_key(b))
}

/// RFC 4648 base32, lower case: the alphabet of CIDv1 strings (multibase prefix `b`).
const BASE32_LOWER: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// The longest CID: version, three varints of at most 10 bytes, and a 64-byte digest.
const MAX_CID_LEN: usize = 1 + 3 * 10 + 64;

/// Calls `push` with each character of a CID's default string form until it returns false.
/// CIDv1 is encoded here rather than through `Cid::to_string`, whose generic multibase encoder
/// and allocation cost more than the rest of building a million-leaf tree; the tests check the
/// two agree.
fn string_form(cid: &Cid, mut push: impl FnMut(u8) -> bool) {
    if cid.version() == cid::Version::V0 {
        for byte in cid.to_string().bytes() {
            if !push(byte) {
                return;
            }
        }
        return;
    }
    let mut buf = [0u8; MAX_CID_LEN];
    let len = cid.encoded_len().min(MAX_CID_LEN);
    cid.write_bytes(&mut buf[..len]).expect("the buffer holds any CID");
    if !push(b'b') {
        return;
    }
    let (mut acc, mut bits) = (0u16, 0u32);
    for &byte in &buf[..len] {
        acc = (acc << 8) | u16::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            if !push(BASE32_LOWER[usize::from((acc >> bits) & 31)]) {
                return;
            }
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        push(BASE32_LOWER[usize::from((acc << (5 - bits)) & 31)]);
    }
}

/// The bytes of a CID's default string form.
fn sort_key(cid: &Cid) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + (cid.encoded_len() * 8).div_ceil(5));
    string_form(cid, |c| {
        key.push(c);
        true
    });
    key
}

/// The first 16 characters of a CID's string form, big-endian in a `u128`, padded with zero
/// bytes (which sort before any character, so a shorter string still sorts first). Comparing
/// prefixes orders two CIDs unless the prefixes are equal; a flat `u128` keeps the sort from
/// chasing a million heap pointers.
fn sort_prefix(cid: &Cid) -> u128 {
    let (mut prefix, mut n) = (0u128, 0);
    string_form(cid, |c| {
        prefix = (prefix << 8) | u128::from(c);
        n += 1;
        n < 16
    });
    prefix << (8 * (16 - n))
}

/// Sorts `items` by their CIDs in CAS order ([`cas_order`]), stably: by string prefix, then
/// (rarely) by whole string, then by position.
pub(crate) fn sort_by_cid<T: Copy>(items: &mut Vec<T>, cid: impl Fn(&T) -> &Cid) {
    let mut order: Vec<(u128, usize)> =
        items.iter().enumerate().map(|(i, item)| (sort_prefix(cid(item)), i)).collect();
    order.sort_unstable_by(|(pa, a), (pb, b)| {
        pa.cmp(pb)
            .then_with(|| match (items.get(*a), items.get(*b)) {
                (Some(x), Some(y)) => sort_key(cid(x)).cmp(&sort_key(cid(y))),
                _ => Ordering::Equal,
            })
            .then(a.cmp(b))
    });
    *items = order.iter().filter_map(|&(_, i)| items.get(i).copied()).collect();
}

/// Sorts leaves in CAS order ([`cas_order`]).
pub fn sort_leaves(leaves: &mut Vec<Cid>) {
    sort_by_cid(leaves, |cid| cid);
}

/// The path of leaf `index` in a halving tree of `count` leaves: directions from the root
/// (`0` left, `1` right) joined by `/` (anchor-utils `pathByIndex`). `None` when
/// `index >= count`.
pub fn path_for(index: usize, count: usize) -> Option<String> {
    if index >= count {
        return None;
    }
    if count == 1 {
        return Some("0".into());
    }
    let mut path = String::with_capacity(2 * (usize::BITS - count.leading_zeros()) as usize);
    walk(index, count, |step, _| {
        if !path.is_empty() {
            path.push('/');
        }
        path.push(if step == 0 { '0' } else { '1' });
    });
    Some(path)
}

/// Walks from the root of a tree of `count >= 2` leaves towards leaf `index < count`, calling
/// `visit(step, node)` at each node, where `node` is the node's position in the post-order
/// node list ([`Tree::nodes`]).
///
/// A subtree of `k` leaves has `k - 1` nodes; in post order they occupy `start..start + k - 1`
/// with the subtree's root last. Its left half (`k / 2` leaves) starts at `start`, its right
/// half right after the left half's nodes.
fn walk(index: usize, count: usize, mut visit: impl FnMut(u8, usize)) {
    let (mut lo, mut k, mut start) = (0, count, 0);
    while k >= 2 {
        let node = start + k - 2;
        let left = k / 2;
        if index < lo + left {
            visit(0, node);
            k = left;
        } else {
            visit(1, node);
            lo += left;
            start += left - 1;
            k -= left;
        }
    }
}

/// A built anchor Merkle tree: its leaves in tree order and every node's block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    leaves: Vec<Cid>,
    /// Post order (children before parents); the root is last.
    nodes: Vec<Block>,
}

impl Tree {
    /// Sorts the leaves in CAS order ([`sort_leaves`]) and builds the tree, as the CAS does.
    ///
    /// # Errors
    /// [`Error::EmptyBatch`] when there are no leaves.
    pub fn build(mut leaves: Vec<Cid>) -> Result<Self> {
        sort_leaves(&mut leaves);
        Self::from_ordered(leaves)
    }

    /// Builds the tree over the leaves in the order given.
    ///
    /// # Errors
    /// [`Error::EmptyBatch`] when there are no leaves.
    pub fn from_ordered(leaves: Vec<Cid>) -> Result<Self> {
        let nodes = match leaves.as_slice() {
            [] => return Err(Error::EmptyBatch),
            [leaf] => vec![Node::new(*leaf, None).to_block()],
            all => {
                let mut nodes = Vec::with_capacity(all.len() - 1);
                build_range(all, &mut nodes);
                nodes
            }
        };
        Ok(Tree { leaves, nodes })
    }

    /// The root's CID.
    pub fn root(&self) -> Cid {
        *self.root_block().cid()
    }

    /// The root's block.
    pub fn root_block(&self) -> &Block {
        self.nodes.last().expect("a tree has at least one node")
    }

    /// The leaves, in tree order (leaf `i` is the `i`th from the left).
    pub fn leaves(&self) -> &[Cid] {
        &self.leaves
    }

    /// How many leaves the tree has (at least one).
    pub fn leaf_count(&self) -> usize {
        self.leaves.len()
    }

    /// The path from the root to leaf `index`, or `None` if there is no such leaf.
    pub fn path(&self, index: usize) -> Option<String> {
        path_for(index, self.leaves.len())
    }

    /// Every leaf's path, in leaf order.
    pub fn paths(&self) -> impl ExactSizeIterator<Item = String> + '_ {
        let count = self.leaves.len();
        (0..count).map(move |i| path_for(i, count).unwrap_or_default())
    }

    /// Every node's block, children before their parents; the root is last.
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = &Block> {
        self.nodes.iter()
    }

    /// The blocks of the nodes on leaf `index`'s path, from the root down to the leaf's parent
    /// (what a witness needs besides the anchor commit and the proof), or `None` if there is no
    /// such leaf.
    pub fn witness(&self, index: usize) -> Option<Vec<&Block>> {
        let count = self.leaves.len();
        if index >= count {
            return None;
        }
        if count == 1 {
            return Some(vec![self.root_block()]);
        }
        let mut blocks = Vec::with_capacity(usize::BITS as usize);
        walk(index, count, |_, node| blocks.extend(self.nodes.get(node)));
        Some(blocks)
    }
}

/// Builds the subtree over `leaves` (at least two), pushing its nodes in post order, and
/// returns its root. Recursion depth is log2 of the leaf count (at most 64).
fn build_range(leaves: &[Cid], nodes: &mut Vec<Block>) -> Cid {
    if let [leaf] = leaves {
        return *leaf;
    }
    let (left, right) = leaves.split_at(leaves.len() / 2);
    let left = build_range(left, nodes);
    let right = build_range(right, nodes);
    let block = Node::new(left, Some(right)).to_block();
    let cid = *block.cid();
    nodes.push(block);
    cid
}

#[cfg(test)]
mod tests {
    use super::*;
    use ceramic_codecs::cid_of;

    fn cid(n: u32) -> Cid {
        cid_of(0x71, &n.to_be_bytes())
    }

    fn ipld(node: &Node) -> Ipld {
        let mut items = vec![Ipld::Link(node.left), node.right.map_or(Ipld::Null, Ipld::Link)];
        items.extend(node.metadata.map(Ipld::Link));
        Ipld::List(items)
    }

    #[test]
    fn hand_encoding_matches_the_codec() {
        let jose = cid_of(0x85, b"envelope");
        let v0 = Cid::new_v0(*cid(9).hash()).unwrap();
        let nodes = [
            Node::new(cid(1), Some(cid(2))),
            Node::new(cid(1), None),
            Node::new(jose, Some(cid(2))),
            Node::new(v0, Some(jose)),
            Node { left: cid(1), right: None, metadata: Some(cid(3)) },
            Node { left: cid(1), right: Some(jose), metadata: Some(cid(3)) },
        ];
        for node in nodes {
            let expected = ceramic_codecs::encode(&ipld(&node)).unwrap();
            assert_eq!(node.encode(), expected, "{node:?}");
            assert_eq!(Node::decode(&expected).unwrap(), node);
        }
    }

    #[test]
    fn rejects_nodes_of_another_shape() {
        let shapes = [
            Ipld::Map(Default::default()),
            Ipld::List(vec![Ipld::Link(cid(1))]),
            Ipld::List(vec![Ipld::Null, Ipld::Link(cid(1))]),
            Ipld::List(vec![Ipld::Link(cid(1)), Ipld::Integer(1)]),
            Ipld::List(vec![Ipld::Link(cid(1)), Ipld::Null, Ipld::Null]),
            Ipld::List(vec![Ipld::Link(cid(1)); 4]),
        ];
        for shape in shapes {
            let bytes = ceramic_codecs::encode(&shape).unwrap();
            assert!(matches!(Node::decode(&bytes), Err(Error::InvalidNode(_))), "{shape:?}");
        }
    }

    #[test]
    fn paths_follow_the_halving_construction() {
        assert_eq!(path_for(0, 1).unwrap(), "0");
        assert_eq!(path_for(0, 2).unwrap(), "0");
        assert_eq!(path_for(1, 2).unwrap(), "1");
        // Three leaves: [leaf0, [leaf1, leaf2]].
        let three: Vec<_> = (0..3).map(|i| path_for(i, 3).unwrap()).collect();
        assert_eq!(three, ["0", "1/0", "1/1"]);
        // Five: [[0, 1], [2, [3, 4]]].
        let five: Vec<_> = (0..5).map(|i| path_for(i, 5).unwrap()).collect();
        assert_eq!(five, ["0/0", "0/1", "1/0", "1/1/0", "1/1/1"]);
        assert_eq!(path_for(3, 3), None);
        assert_eq!(path_for(0, 0), None);
    }

    #[test]
    fn builds_a_three_leaf_tree_by_hand() {
        let leaves = vec![cid(1), cid(2), cid(3)];
        let tree = Tree::from_ordered(leaves.clone()).unwrap();
        let right = Node::new(cid(2), Some(cid(3))).to_block();
        let root = Node::new(cid(1), Some(*right.cid())).to_block();
        assert_eq!(tree.root(), *root.cid());
        assert_eq!(tree.nodes().collect::<Vec<_>>(), [&right, &root]);
        assert_eq!(tree.witness(0).unwrap(), [&root]);
        assert_eq!(tree.witness(2).unwrap(), [&root, &right]);
        assert_eq!(tree.witness(3), None);
    }

    #[test]
    fn a_single_leaf_is_merged_with_null() {
        let tree = Tree::build(vec![cid(1)]).unwrap();
        assert_eq!(tree.root_block(), &Node::new(cid(1), None).to_block());
        assert_eq!(tree.path(0).unwrap(), "0");
        assert_eq!(tree.witness(0).unwrap(), [tree.root_block()]);
    }

    #[test]
    fn rejects_an_empty_tree() {
        assert!(matches!(Tree::build(vec![]), Err(Error::EmptyBatch)));
    }

    #[test]
    fn sorts_like_string_comparison() {
        let mut leaves: Vec<Cid> = (0..50).map(cid).collect();
        leaves.push(cid_of(0x85, b"jose"));
        sort_leaves(&mut leaves);
        let strings: Vec<String> = leaves.iter().map(Cid::to_string).collect();
        let mut sorted = strings.clone();
        sorted.sort();
        assert_eq!(strings, sorted);
        assert!(strings.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(cas_order(&leaves[0], &leaves[1]), Ordering::Less);
    }

    #[test]
    fn sort_keys_are_the_default_strings() {
        let v0 = Cid::new_v0(*cid(9).hash()).unwrap();
        let mut cids = vec![v0, cid_of(0x85, b"jose"), crate::tx_hash_cid([3; 32])];
        cids.extend((0..40).map(cid));
        // Other lengths: every remainder of bits modulo 5.
        for len in 0..8 {
            let hash = cid::multihash::Multihash::<64>::wrap(0, &vec![0xa5; len]).unwrap();
            cids.push(Cid::new_v1(0x55, hash));
        }
        for cid in &cids {
            let string = cid.to_string();
            assert_eq!(sort_key(cid), string.as_bytes(), "{cid}");
            let mut prefix = [0u8; 16];
            let n = string.len().min(16);
            prefix[..n].copy_from_slice(&string.as_bytes()[..n]);
            assert_eq!(sort_prefix(cid), u128::from_be_bytes(prefix), "{cid}");
        }
        // Many CIDs sharing their first 16 characters, and duplicates, sort as strings do.
        let mut shared: Vec<Cid> = (0..60u8)
            .map(|i| {
                let hash =
                    cid::multihash::Multihash::<64>::wrap(0, &[0, 0, 0, 0, 0, 0, 0, 0, i % 7, i])
                        .unwrap();
                Cid::new_v1(0x55, hash)
            })
            .chain(cids.iter().copied())
            .chain(cids.iter().copied())
            .collect();
        let mut expected = shared.clone();
        expected.sort_by_key(Cid::to_string);
        sort_leaves(&mut shared);
        assert_eq!(shared, expected);
    }
}
