//! The body of the `engine_hostile_log` cargo-fuzz target (`fuzz/fuzz_targets/`), kept here so
//! that a unit test replays the committed corpus on stable. Behind the feature `fuzzing`.
//!
//! An input is a script: each step reads a few bytes and then makes a commit or hands the engine
//! something. Commits are built and **signed** by the harness (Ed25519 keys of seeds 1–3), so a
//! hostile log reaches the doctypes instead of stopping at a signature check: genesis commits
//! of any stream type with any header (controllers, family, tags, a schema naming another
//! stream of the same input, garbage), data commits carrying JSON patches, integers or any
//! value, on any `prev` and naming any stream, anchor commits with real or mutated Merkle
//! paths on confirmed or unknown transactions, and raw blocks. Each commit is either written by
//! a client ([`Engine::apply_write`]) or held back and later offered by a peer
//! ([`Engine::handle_tip`] with every block made so far).
//!
//! Properties checked after every step:
//! - a refused write or tip changes nothing: the stored state is what it was;
//! - an accepted one is what is stored, and rebuilding the state from the stored blocks
//!   ([`Engine::state_at`] on its tip) gives the same state;
//! - a written data or anchor commit is the new tip, a tip just accepted is not accepted again
//!   ([`TipOutcome::Unchanged`]), and a state loaded at a commit ends at that commit.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use ceramic_anchor::Tree;
use ceramic_codecs::{
    AnchorCommit, AnchorProof, Block, Cid, Codec, DataCommit, GenesisCommit, Header, Ipld, Payload,
    Unique, cid_of,
};
use ceramic_did::{KeySigner, Signer, sign_commit};
use ceramic_doctype::{Registry, StreamState};
use ceramic_storage::{MapSource, MemoryStorage, Storage};
use ceramic_streamid::{StreamId, StreamType};

use crate::memory::{FakeAnchorVerifier, RecordingPublisher};
use crate::test_utils::{ADDER, signer};
use crate::{ApplyError, Engine, Expect, TipOutcome};

/// The most steps one input runs.
const MAX_STEPS: usize = 24;
/// How deep generated values nest.
const MAX_DEPTH: u8 = 3;
/// The chain id the fake verifier's anchors name.
const CHAIN: &str = "inmemory:12345";

/// Runs one input (see the module docs) on an engine over the doctypes `registry` makes.
pub fn hostile_log(data: &[u8], registry: &dyn Fn() -> Registry) {
    let mut world = World::new(registry());
    let mut input = Reader(data);
    for _ in 0..MAX_STEPS {
        if input.0.is_empty() {
            break;
        }
        world.step(&mut input);
    }
}

/// Reads bytes from the front of the input; past the end every read is zero.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else { return 0 };
        self.0 = rest;
        b
    }

    fn below(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n.max(1)
    }

    fn u64(&mut self) -> u64 {
        (0..8).fold(0, |n, _| n << 8 | u64::from(self.byte()))
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max + 1);
        self.take(n)
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head.to_vec()
    }

    /// A short string: mostly from a few words patches and schemas use, else raw bytes.
    fn text(&mut self) -> String {
        const WORDS: [&str; 12] =
            ["a", "b", "c", "0", "1", "-", "", "~", "x/y", "name", "type", "properties"];
        match self.byte() {
            b @ 0..=199 => WORDS[usize::from(b) % WORDS.len()].to_string(),
            _ => String::from_utf8_lossy(&self.bytes(12)).into_owned(),
        }
    }

    /// A JSON-like IPLD value (no floats: dag-cbor floats are refused as content anyway).
    fn value(&mut self, depth: u8) -> Ipld {
        let leaf = depth >= MAX_DEPTH;
        match self.byte() % if leaf { 5 } else { 7 } {
            0 => Ipld::Null,
            1 => Ipld::Bool(self.byte().is_multiple_of(2)),
            2 => Ipld::Integer(i128::from(self.u64() as i64)),
            3 => Ipld::Integer(i128::from(self.byte())),
            4 => Ipld::String(self.text()),
            5 => Ipld::List((0..self.below(4)).map(|_| self.value(depth + 1)).collect()),
            _ => Ipld::Map(
                (0..self.below(4)).map(|_| (self.text(), self.value(depth + 1))).collect(),
            ),
        }
    }

    /// A JSON pointer: empty, a few segments, or raw text.
    fn pointer(&mut self) -> String {
        match self.byte() % 8 {
            0 => String::new(),
            7 => self.text(),
            n => (0..n % 4 + 1).map(|_| format!("/{}", self.text())).collect(),
        }
    }

    /// A JSON patch as a Tile data commit carries it (mostly well formed).
    fn patch(&mut self) -> Ipld {
        const OPS: [&str; 7] = ["add", "remove", "replace", "move", "copy", "test", "nope"];
        let ops = (0..self.below(5))
            .map(|_| {
                let mut op = BTreeMap::new();
                op.insert("op".to_string(), Ipld::String(OPS[self.below(OPS.len())].into()));
                op.insert("path".to_string(), Ipld::String(self.pointer()));
                match self.byte() % 4 {
                    0 => {}
                    1 => {
                        op.insert("from".to_string(), Ipld::String(self.pointer()));
                    }
                    _ => {
                        op.insert("value".to_string(), self.value(1));
                    }
                }
                Ipld::Map(op)
            })
            .collect();
        Ipld::List(ops)
    }

    /// A JSON schema (draft 7 keywords), as a schema stream's content.
    fn schema(&mut self, depth: u8) -> Ipld {
        const TYPES: [&str; 7] = ["object", "string", "integer", "array", "boolean", "null", "x"];
        const PATTERNS: [&str; 6] = ["^a+$", "(a|aa)*b", "[", "\\d{2,}", "^$", ".*"];
        const FORMATS: [&str; 6] = ["date-time", "email", "uri", "regex", "ipv4", "nope"];
        let mut schema = BTreeMap::new();
        for _ in 0..self.below(5) {
            let (key, value) = match self.byte() % 12 {
                0 => ("type", Ipld::String(TYPES[self.below(TYPES.len())].into())),
                1 if depth < MAX_DEPTH => {
                    let props = (0..self.below(3)).map(|_| (self.text(), self.schema(depth + 1)));
                    ("properties", Ipld::Map(props.collect()))
                }
                2 => (
                    "required",
                    Ipld::List((0..self.below(3)).map(|_| Ipld::String(self.text())).collect()),
                ),
                3 => ("pattern", Ipld::String(PATTERNS[self.below(PATTERNS.len())].into())),
                4 => ("format", Ipld::String(FORMATS[self.below(FORMATS.len())].into())),
                5 => ("maxLength", Ipld::Integer(i128::from(self.byte()))),
                6 => ("minimum", Ipld::Integer(i128::from(self.byte() as i8))),
                7 if depth < MAX_DEPTH => ("items", self.schema(depth + 1)),
                8 => ("additionalProperties", Ipld::Bool(self.byte().is_multiple_of(2))),
                9 => (
                    "$ref",
                    Ipld::String(
                        ["#", "#/definitions/a", "http://127.0.0.1:9/x"][self.below(3)].into(),
                    ),
                ),
                10 => (
                    "enum",
                    Ipld::List((0..self.below(3)).map(|_| self.value(MAX_DEPTH)).collect()),
                ),
                _ => ("pattern", Ipld::String(self.text())),
            };
            schema.insert(key.to_string(), value);
        }
        Ipld::Map(schema)
    }
}

/// The harness's signers (did:key, Ed25519 seeds 1, 2 and 3).
fn signers() -> &'static [KeySigner; 3] {
    static SIGNERS: OnceLock<[KeySigner; 3]> = OnceLock::new();
    SIGNERS.get_or_init(|| [signer(1), signer(2), signer(3)])
}

/// A commit made by the harness.
struct Made {
    cid: Cid,
    blocks: Vec<Block>,
}

struct World {
    engine: Engine,
    store: Arc<MemoryStorage>,
    chain: Arc<FakeAnchorVerifier>,
    /// Every block made so far: what a peer serves.
    peer: MapSource,
    /// Every commit made so far.
    commits: Vec<Cid>,
    /// Every stream a genesis was made for.
    streams: Vec<StreamId>,
    /// CommitIDs of streams, as schemas name them.
    schemas: Vec<String>,
}

impl World {
    fn new(registry: Registry) -> Self {
        let store = Arc::new(MemoryStorage::new());
        let chain = Arc::new(FakeAnchorVerifier::default());
        let engine = Engine::new(
            store.clone(),
            registry,
            chain.clone(),
            Arc::new(RecordingPublisher::default()),
        );
        World {
            engine,
            store,
            chain,
            peer: MapSource::default(),
            commits: Vec::new(),
            streams: Vec::new(),
            schemas: Vec::new(),
        }
    }

    fn stored(&self, stream: &StreamId) -> Option<StreamState> {
        self.store.state(stream).expect("the memory store answers")
    }

    fn stream(&self, input: &mut Reader<'_>) -> Option<StreamId> {
        (!self.streams.is_empty()).then(|| self.streams[input.below(self.streams.len())])
    }

    /// A commit to build on: the stored tip, any commit made, or one never made.
    fn prev(&self, input: &mut Reader<'_>, stream: &StreamId) -> Cid {
        match input.byte() % 4 {
            0 | 1 => self.stored(stream).map_or(stream.cid(), |s| s.tip()),
            2 if !self.commits.is_empty() => self.commits[input.below(self.commits.len())],
            _ => cid_of(0x71, &input.bytes(4)),
        }
    }

    fn signed(&self, input: &mut Reader<'_>, payload: Payload) -> Made {
        let author = &signers()[input.below(3)];
        let signed = sign_commit(author, &payload).expect("the harness's payloads sign");
        Made {
            cid: *signed.envelope_block().cid(),
            blocks: vec![signed.envelope_block().clone(), signed.payload_block().clone()],
        }
    }

    fn header(&self, input: &mut Reader<'_>) -> Header {
        let did = |i: usize| signers()[i % 3].did().to_string();
        let controllers = match input.byte() % 6 {
            0 => None,
            1 => Some(vec![]),
            2 => Some(vec![did(0), did(1)]),
            3 => Some(vec![input.text()]),
            n => Some(vec![did(usize::from(n))]),
        };
        let schema = match input.byte() % 4 {
            0 if !self.schemas.is_empty() => {
                Some(self.schemas[input.below(self.schemas.len())].clone())
            }
            1 => Some(input.text()),
            _ => None,
        };
        Header {
            controllers,
            family: (input.byte().is_multiple_of(3)).then(|| input.text()),
            tags: (input.byte().is_multiple_of(3))
                .then(|| (0..input.below(3)).map(|_| input.text()).collect()),
            schema,
            unique: (!input.byte().is_multiple_of(4)).then(|| Unique::Text(input.text())),
            ..Header::default()
        }
    }

    fn step(&mut self, input: &mut Reader<'_>) {
        let made = match input.byte() % 8 {
            0 | 1 => self.genesis(input),
            2 | 3 => self.data(input),
            4 => self.anchor(input),
            5 => self.raw(input),
            6 => return self.tip(input),
            _ => return self.load(input),
        };
        let Some((stream_type, made)) = made else { return };
        self.peer.extend(&made.blocks);
        self.commits.push(made.cid);
        // Held back for a peer to offer later, or written now.
        if !input.byte().is_multiple_of(4) {
            self.write(input, stream_type, &made);
        }
    }

    fn genesis(&mut self, input: &mut Reader<'_>) -> Option<(StreamType, Made)> {
        const TYPES: [StreamType; 4] =
            [StreamType::TILE, ADDER, StreamType::CAIP10_LINK, StreamType::new(1000)];
        let stream_type = match input.byte() {
            b @ 0..=239 => TYPES[usize::from(b) % TYPES.len()],
            b => StreamType::new(u64::from(b)),
        };
        let header = self.header(input);
        let data = match input.byte() % 4 {
            0 => None,
            1 => Some(input.schema(0)),
            _ => Some(input.value(0)),
        };
        let payload = Payload::Genesis(GenesisCommit { header, data });
        let made = if input.byte().is_multiple_of(4) {
            let block = Block::encode(Codec::DagCbor, &payload).ok()?;
            Made { cid: *block.cid(), blocks: vec![block] }
        } else {
            self.signed(input, payload)
        };
        let stream = StreamId::new(stream_type, made.cid).ok()?;
        self.streams.push(stream);
        if let Ok(id) = stream.at_commit(made.cid) {
            self.schemas.push(id.to_string());
        }
        Some((stream_type, made))
    }

    fn data(&mut self, input: &mut Reader<'_>) -> Option<(StreamType, Made)> {
        let stream = self.stream(input)?;
        let prev = self.prev(input, &stream);
        let id = match input.byte() % 8 {
            0 => self.commits.get(input.below(self.commits.len())).copied().unwrap_or(prev),
            _ => stream.cid(),
        };
        let header = (input.byte().is_multiple_of(3)).then(|| self.header(input));
        let data = match input.byte() % 6 {
            0 => None,
            1 => Some(Ipld::Integer(i128::from(input.byte() as i8))),
            2 => Some(input.value(0)),
            _ => Some(input.patch()),
        };
        let made = self.signed(input, Payload::Data(DataCommit { id, prev, header, data }));
        Some((stream.stream_type(), made))
    }

    fn anchor(&mut self, input: &mut Reader<'_>) -> Option<(StreamType, Made)> {
        let stream = self.stream(input)?;
        let prev = self.prev(input, &stream);
        let count = input.below(8) + 1;
        let at = input.below(count);
        let leaves: Vec<Cid> = (0..count)
            .map(|i| if i == at { prev } else { cid_of(0x71, &[i as u8, input.byte()]) })
            .collect();
        let tree = Tree::from_ordered(leaves).ok()?;
        let path = match input.byte() % 6 {
            0 => input.text(),
            1 => tree.path(input.below(count)).unwrap_or_default(),
            _ => tree.path(at).unwrap_or_default(),
        };
        // The transaction's hash covers its block time: a chain never moves a transaction to
        // another time (the fake verifier would let a second confirm overwrite the first).
        let timestamp = input.u64() % 4_000_000_000;
        let tx_hash = cid_of(0x93, &[&input.bytes(4)[..], &timestamp.to_be_bytes()].concat());
        if !input.byte().is_multiple_of(4) {
            self.chain.confirm(tx_hash, timestamp);
        }
        let chain_id =
            if input.byte().is_multiple_of(8) { input.text() } else { CHAIN.to_string() };
        let proof = AnchorProof { chain_id, root: tree.root(), tx_hash, tx_type: None };
        let proof = Block::encode(Codec::DagCbor, &proof).ok()?;
        let id = match input.byte() % 6 {
            0 => None,
            1 => Some(prev),
            _ => Some(stream.cid()),
        };
        let commit = AnchorCommit { id, prev, proof: *proof.cid(), path };
        let block = Block::encode(Codec::DagCbor, &Payload::Anchor(commit)).ok()?;
        let mut blocks = vec![block.clone(), proof];
        blocks.extend(tree.nodes().cloned());
        Some((stream.stream_type(), Made { cid: *block.cid(), blocks }))
    }

    fn raw(&mut self, input: &mut Reader<'_>) -> Option<(StreamType, Made)> {
        let codec = if input.byte().is_multiple_of(2) { Codec::DagCbor } else { Codec::DagJose };
        let stream_type = self.stream(input).map_or(StreamType::TILE, |s| s.stream_type());
        // Up to 1 KiB: real commits' payloads (a few hundred bytes) fit.
        let len = usize::from(u16::from_be_bytes([input.byte(), input.byte()])) % 1025;
        let block = Block::from_data(codec, input.take(len)).ok()?;
        Some((stream_type, Made { cid: *block.cid(), blocks: vec![block] }))
    }

    /// A client write of `made`: refused without a trace, or stored as returned.
    fn write(&mut self, input: &mut Reader<'_>, stream_type: StreamType, made: &Made) {
        let expect = match input.byte() % 4 {
            0 => Expect::Genesis,
            1 => Expect::Update(self.stream(input)),
            _ => Expect::Any,
        };
        let before: Vec<(StreamId, Option<StreamState>)> =
            self.streams.iter().map(|s| (*s, self.stored(s))).collect();
        match self.engine.apply_write(stream_type, made.cid, &made.blocks, expect) {
            Ok(state) => {
                let stream = state.stream_id();
                if !self.streams.contains(&stream) {
                    self.streams.push(stream); // a raw genesis made it
                }
                assert_eq!(
                    self.stored(&stream).as_ref(),
                    Some(&state),
                    "what is stored is returned"
                );
                if stream.cid() != made.cid {
                    assert_eq!(state.tip(), made.cid, "a written update is the new tip");
                }
                self.rebuilds(&state);
                for (other, was) in before.iter().filter(|(s, _)| *s != stream) {
                    assert_eq!(self.stored(other), *was, "a write to {stream} changed {other}");
                }
            }
            Err(e) => self.unchanged(&before, &e),
        }
    }

    fn unchanged(&self, before: &[(StreamId, Option<StreamState>)], e: &ApplyError) {
        for (stream, was) in before {
            assert_eq!(self.stored(stream), *was, "refused ({e}) but {stream} changed");
        }
    }

    /// Rebuilding the state from the stored blocks gives the state stored.
    fn rebuilds(&self, state: &StreamState) {
        let stream = state.stream_id();
        let rebuilt = self
            .engine
            .state_at(&stream, state.tip())
            .unwrap_or_else(|e| panic!("{stream} at {} does not rebuild: {e}", state.tip()));
        assert_eq!(&rebuilt, state, "{stream} rebuilt from its stored blocks");
    }

    fn tip(&mut self, input: &mut Reader<'_>) {
        let Some(stream) = self.stream(input) else { return };
        let tip = match input.byte() % 8 {
            0 => stream.cid(),
            _ => match self.commits.len() {
                0 => return,
                n => self.commits[n - 1 - input.below(n.min(4))],
            },
        };
        let before: Vec<(StreamId, Option<StreamState>)> =
            self.streams.iter().map(|s| (*s, self.stored(s))).collect();
        match self.engine.handle_tip(&stream, tip, &self.peer) {
            Ok(TipOutcome::Unchanged) => self.unchanged(&before, &ApplyError::NotFound(stream)),
            Ok(TipOutcome::Created(state) | TipOutcome::Accepted(state)) => {
                assert_eq!(state.stream_id(), stream);
                assert_eq!(
                    self.stored(&stream).as_ref(),
                    Some(&state),
                    "what is stored is returned"
                );
                self.rebuilds(&state);
                let again = self.engine.handle_tip(&stream, tip, &self.peer);
                assert!(matches!(again, Ok(TipOutcome::Unchanged)), "{tip} taken twice: {again:?}");
                let again = self.engine.handle_tip(&stream, state.tip(), &self.peer);
                assert!(matches!(again, Ok(TipOutcome::Unchanged)), "own tip taken: {again:?}");
            }
            Err(e) => self.unchanged(&before, &e),
        }
    }

    fn load(&mut self, input: &mut Reader<'_>) {
        let Some(stream) = self.stream(input) else { return };
        if input.byte().is_multiple_of(2) {
            let _ = self.engine.load_at_time(&stream, input.u64());
            return;
        }
        let Some(&commit) = self.commits.get(input.below(self.commits.len())) else { return };
        let Ok(id) = stream.at_commit(commit) else { return };
        if let Ok(state) = self.engine.load_at_commit(&id) {
            assert_eq!(state.tip(), commit, "a state at a commit ends there");
            assert_eq!(state.stream_id(), stream);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_utils::Adder;

    fn registry() -> Registry {
        Registry::new()
            .with(Adder)
            .and_then(|r| r.with(ceramic_doctype_tile::Tile::new()))
            .expect("two doctypes")
    }

    #[test]
    fn replays_the_committed_fuzz_corpus() {
        ceramic_streamid::test_utils::replay_fuzz_corpus(
            env!("CARGO_MANIFEST_DIR"),
            &[("engine_hostile_log", |data| hostile_log(data, &registry))],
        );
    }

    #[test]
    fn a_scripted_log_runs_every_step() {
        // A signed adder genesis written, an update held back then offered as a tip, an
        // anchor, a raw block, loads; then the same with every byte shifted.
        let script: Vec<u8> = vec![
            0, 1, 5, 0, 0, 1, 0, 1, 1, 0, 2, 1, 2, 1, // genesis (adder), written
            2, 0, 0, 1, 1, 1, 5, 0, 0, // data, held back
            6, 0, 1, 0, // tip
            4, 0, 0, 2, 0, 1, 1, 2, 1, 2, 3, 4, 1, 0, 0, 0, 0, 0, 0, 0, 5, 1, 2, 2, // anchor
            5, 0, 0, 0, 3, 0xa1, 0x61, 0x61, 1, 2, // raw
            7, 0, 1, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, // loads
        ];
        hostile_log(&script, &registry);
        for shift in 1..=8u8 {
            let shifted: Vec<u8> = script.iter().map(|b| b.wrapping_add(shift)).collect();
            hostile_log(&shifted, &registry);
        }
    }
}
