//! The body of the `anchor_verify_merkle_path` cargo-fuzz target (`fuzz/fuzz_targets/`), kept
//! here so that a unit test replays the committed corpus on stable.
//!
//! The input's first byte picks one of two shapes:
//! - `0`: a real tree ([`Tree::from_ordered`]) of `1..=64` leaves, a leaf and a path (the leaf's
//!   own path or a mutated one): the leaf's own path must verify and return one node per step, a
//!   path that is no leaf's path must not, and another leaf's path leads to that leaf only.
//! - anything else: hostile blocks. The rest of the input describes up to 16 dag-cbor blocks
//!   whose items may link to blocks described after them (so links resolve), to the anchored
//!   commit or to nowhere, plus raw CBOR blocks, then a path. Whatever the verdict, an `Ok`
//!   must be a real walk: as many nodes as steps, the first the root, each node's chosen child
//!   the next node and the last one's the anchored commit.

use ceramic_codecs::{Block, Cid, Codec, Ipld, cid_of};
use ceramic_storage::MapSource;

use crate::{Node, Tree, path_for, verify_merkle_path};

/// The most hostile blocks one input describes.
const MAX_BLOCKS: usize = 16;

/// Runs one input (see the module docs).
pub fn merkle_path(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    let mut input = Reader(rest);
    if mode == 0 {
        real_tree(&mut input);
    } else {
        hostile_blocks(&mut input);
    }
}

/// Reads bytes from the front of the input; reads past the end give zeros / empty.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else { return 0 };
        self.0 = rest;
        b
    }

    fn bytes(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }
}

fn leaf(i: usize, salt: u8) -> Cid {
    cid_of(0x71, &[&i.to_be_bytes()[..], &[salt]].concat())
}

fn steps(path: &str) -> usize {
    path.split('/').count()
}

fn real_tree(input: &mut Reader<'_>) {
    let count = usize::from(input.byte() % 64) + 1;
    let salt = input.byte();
    let leaves: Vec<Cid> = (0..count).map(|i| leaf(i, salt)).collect();
    let Ok(tree) = Tree::from_ordered(leaves.clone()) else {
        unreachable!("a tree of {count} leaves builds")
    };
    let mut source = MapSource::default();
    source.extend(tree.nodes());
    let index = usize::from(input.byte()) % count;
    let Some(path) = tree.path(index) else { unreachable!("leaf {index} of {count} has a path") };
    let nodes = verify_merkle_path(&source, tree.root(), &path, leaves[index])
        .unwrap_or_else(|e| panic!("leaf {index} of {count} at {path:?}: {e}"));
    assert_eq!(nodes.len(), steps(&path), "one node per step");
    assert_eq!(nodes.first().map(Block::cid), Some(&tree.root()), "the walk starts at the root");
    for node in &nodes {
        assert_eq!(
            Node::decode(node.data()).map(|n| n.encode()).ok().as_deref(),
            Some(node.data())
        );
    }
    // A mutated path: flip, drop or add steps as the input says.
    let mut mutated: Vec<char> = path.split('/').filter_map(|s| s.chars().next()).collect();
    match input.byte() % 4 {
        0 => {
            let at = usize::from(input.byte()) % mutated.len();
            mutated[at] = if mutated[at] == '0' { '1' } else { '0' };
        }
        1 => {
            mutated.pop();
        }
        2 => mutated.push(if input.byte().is_multiple_of(2) { '0' } else { '1' }),
        _ => mutated = input.bytes(8).iter().map(|b| char::from(b'0' + b % 3)).collect(),
    }
    let mutated = mutated.iter().map(char::to_string).collect::<Vec<_>>().join("/");
    let owner = (0..count).find(|&j| path_for(j, count).as_deref() == Some(mutated.as_str()));
    for (j, leaf) in leaves.iter().enumerate() {
        let verdict = verify_merkle_path(&source, tree.root(), &mutated, *leaf);
        assert_eq!(verdict.is_ok(), owner == Some(j), "path {mutated:?} of leaf {j} of {count}");
    }
}

fn hostile_blocks(input: &mut Reader<'_>) {
    let prev = cid_of(0x71, input.bytes(4));
    let elsewhere = cid_of(0x85, b"elsewhere");
    let count = usize::from(input.byte()) % MAX_BLOCKS + 1;
    // Described front to back, built back to front so that block i may link to any j > i.
    let shapes: Vec<(u8, Vec<u8>)> = (0..count)
        .map(|_| {
            let kind = input.byte();
            let len = usize::from(input.byte() % 8);
            (kind, input.bytes(len).to_vec())
        })
        .collect();
    let path_len = usize::from(input.byte() % 140);
    let path = String::from_utf8_lossy(input.bytes(path_len)).into_owned();
    let mut cids = vec![prev; count];
    let mut source = MapSource::default();
    for (i, (kind, items)) in shapes.iter().enumerate().rev() {
        let item = |b: u8| match b % 8 {
            0 => Ipld::Link(prev),
            1 => Ipld::Link(elsewhere),
            2 => Ipld::Null,
            3 => Ipld::Integer(i128::from(b)),
            _ => {
                let later = count - i - 1;
                if later == 0 {
                    Ipld::Link(prev)
                } else {
                    Ipld::Link(cids[i + 1 + usize::from(b) % later])
                }
            }
        };
        let block = match kind % 4 {
            // A raw CBOR block (the items are its bytes): hashes right, decodes as it may.
            0 => Block::from_data(Codec::DagCbor, items.clone()),
            // A map, not a list.
            1 => Block::encode(
                Codec::DagCbor,
                &Ipld::Map(items.iter().map(|&b| (b.to_string(), item(b))).collect()),
            ),
            _ => {
                Block::encode(Codec::DagCbor, &Ipld::List(items.iter().map(|&b| item(b)).collect()))
            }
        };
        let Ok(block) = block else { continue };
        cids[i] = *block.cid();
        // Kind 3 with an odd first item: announced but its bytes corrupted (a wrong hash).
        let mut data = block.data().to_vec();
        if kind % 4 == 3
            && items.first().is_some_and(|b| b % 2 == 1)
            && let Some(last) = data.last_mut()
        {
            *last ^= 1;
        }
        source.0.insert(cids[i], data);
    }
    let root = cids[0];
    let Ok(nodes) = verify_merkle_path(&source, root, &path, prev) else {
        return;
    };
    if path.is_empty() {
        assert_eq!(root, prev, "an empty path verifies only the root itself");
        assert!(nodes.is_empty());
        return;
    }
    assert_eq!(nodes.len(), steps(&path), "one node per step of {path:?}");
    let mut at = root;
    for (node, step) in nodes.iter().zip(path.split('/')) {
        assert_eq!(node.cid(), &at, "the walk follows the links");
        assert_eq!(source.0.get(&at).map(Vec::as_slice), Some(node.data()));
        let Ok(Ipld::List(children)) = ceramic_codecs::decode::<Ipld>(node.data(), "node") else {
            panic!("a walked node is a list");
        };
        let index = match step {
            "0" => 0,
            "1" => 1,
            other => panic!("step {other:?} was accepted"),
        };
        let Some(Ipld::Link(child)) = children.get(index) else { panic!("no link at {step}") };
        at = *child;
    }
    assert_eq!(at, prev, "the walk ends at the anchored commit");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PathError;

    /// Whether `e` is one of the typed errors a hostile path may give.
    fn typed(e: &PathError) -> bool {
        matches!(e, PathError::Anchor(_) | PathError::MissingBlock(_) | PathError::Codec { .. })
    }

    #[test]
    fn replays_the_committed_fuzz_corpus() {
        ceramic_streamid::test_utils::replay_fuzz_corpus(
            env!("CARGO_MANIFEST_DIR"),
            &[("anchor_verify_merkle_path", super::merkle_path)],
        );
    }

    #[test]
    fn every_real_tree_and_its_mutations() {
        for count in 0u8..64 {
            for index in [0, count / 2, count] {
                for mutation in 0..4 {
                    merkle_path(&[0, count, 7, index, mutation, index, 1, 2, 0, 1, 2, 0, 1, 2]);
                }
            }
        }
    }

    #[test]
    fn a_hostile_chain_of_links_verifies_only_where_it_leads() {
        // Some hostile blocks and a two-step path; then a one-link node checked directly.
        let input = [1, 9, 9, 9, 9, 1, 2, 2, 4, 2, 2, 2, 0, 0, 3, b'0', b'/', b'1'];
        merkle_path(&input);
        let mut source = MapSource::default();
        let prev = cid_of(0x71, &[9; 4]);
        let leaf = Block::encode(Codec::DagCbor, &Ipld::List(vec![Ipld::Link(prev)])).unwrap();
        source.extend([&leaf]);
        let e = verify_merkle_path(&source, *leaf.cid(), "1", prev).unwrap_err();
        assert!(typed(&e), "{e}");
        assert!(verify_merkle_path(&source, *leaf.cid(), "0", prev).is_ok());
        assert!(typed(&verify_merkle_path(&source, *leaf.cid(), "0/0", prev).unwrap_err()));
    }
}
