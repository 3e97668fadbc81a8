//! [`Event`]: one Ceramic event with the blocks of its CAR; strict CAR decoding, encoding as
//! `@ceramic-sdk/events` does, and building (signing) events.

use std::collections::{HashMap, HashSet};

use ceramic_codecs::{Block, Codec, Envelope, Ipld, Payload as Commit, read_car, write_car};
use ceramic_did::{Cacao, ProtectedHeader, Resolver, SignedCommit, Signer, VerifiedCommit};
use ceramic_streamid::StreamId;
use cid::Cid;

use crate::event_id::{EventId, Network};
use crate::payload::{
    AnchorProof, DataPayload, EventPayload, InitHeader, InitPayload, TimePayload,
};
use crate::{Error, MAX_CAR_SIZE, MAX_PATH_DEPTH, Result};

const DAG_CBOR: u64 = 0x71;
const DAG_JOSE: u64 = 0x85;

/// The kind of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// Starts a stream; its CID names the stream.
    Init,
    /// Changes a stream's content.
    Data,
    /// Anchors an event on a blockchain.
    Time,
}

/// The signature of a signed event: its dag-jose envelope and what its protected header says.
#[derive(Debug, Clone, PartialEq)]
pub struct Signature {
    envelope: Envelope,
    header: ProtectedHeader,
    cacao: Option<Cacao>,
}

impl Signature {
    /// The dag-jose envelope (the event itself).
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The CID of the signed payload block.
    pub fn payload_cid(&self) -> &Cid {
        self.envelope.link()
    }

    /// The protected header (`alg`, `kid`, `cap`).
    pub fn header(&self) -> &ProtectedHeader {
        &self.header
    }

    /// The DID of the signing key (`kid` without its fragment): the controller, or the session
    /// key of a CACAO.
    pub fn signer_did(&self) -> &str {
        self.header.did()
    }

    /// The CACAO the `cap` header names, when a session key signed.
    pub fn cacao(&self) -> Option<&Cacao> {
        self.cacao.as_ref()
    }
}

/// One Ceramic event and the blocks of its CAR.
///
/// An `Event` exists only if it decoded strictly ([`Event::decode_car`]) or was built here, so
/// its blocks are always exactly those it needs, in the order `@ceramic-sdk/events` writes them.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    cid: Cid,
    payload: EventPayload,
    signature: Option<Signature>,
    proof: Option<AnchorProof>,
    blocks: Vec<Block>,
}

impl Event {
    /// Decodes an event CAR strictly: the single root is the event; every block the event needs
    /// is present and none other; no block is repeated; each block has the right codec, hashes
    /// to its CID and decodes as canonical dag-cbor with exactly the fields its kind has (so
    /// its bytes round-trip); an unsigned event is an init event without content or a time
    /// event whose Merkle path leads to its `prev`. Signatures are not verified here (see
    /// [`Event::verify_signature`] and the crate docs).
    ///
    /// # Errors
    /// Every way the input can be wrong has its [`Error`] variant; decoding never panics.
    pub fn decode_car(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_CAR_SIZE {
            return Err(Error::CarTooLarge { size: bytes.len(), max: MAX_CAR_SIZE });
        }
        let car = read_car(bytes).map_err(Error::Car)?;
        let [root] = car.roots.as_slice() else {
            return Err(Error::RootCount(car.roots.len()));
        };
        let mut seen = HashSet::with_capacity(car.blocks.len());
        for block in &car.blocks {
            if !seen.insert(*block.cid()) {
                return Err(Error::DuplicateBlock(Box::new(*block.cid())));
            }
        }
        let blocks: HashMap<Cid, Block> =
            car.blocks.iter().map(|b| (*b.cid(), b.clone())).collect();
        let event = decode_from(*root, &blocks)?;
        if let Some(extra) =
            car.blocks.iter().find(|b| !event.blocks.iter().any(|used| used.cid() == b.cid()))
        {
            return Err(Error::ExtraBlock(Box::new(*extra.cid())));
        }
        Ok(event)
    }

    /// Decodes the multibase text of an event CAR, as the `/ceramic` API carries it
    /// (`{"data": "<multibase CAR>"}`): `m`/`M` (base64, as `@ceramic-sdk/events` writes by
    /// default) or `u`/`U` (base64url, as js-ceramic writes).
    ///
    /// # Errors
    /// [`Error::Multibase`], then the [`Event::decode_car`] errors.
    pub fn decode_multibase(text: &str) -> Result<Self> {
        Self::decode_car(&crate::text::car_from_multibase(text)?)
    }

    /// The CAR v1 of the event: root the event, then the blocks in the order
    /// `@ceramic-sdk/events` writes them (for a signed event: CACAO, payload, envelope; for a
    /// time event, as ceramic-one: event, proof, Merkle nodes from the root down).
    ///
    /// # Errors
    /// [`Error::Encode`] only if the CAR header cannot be encoded (it always can).
    pub fn encode_car(&self) -> Result<Vec<u8>> {
        write_car(&[self.cid], &self.blocks).map_err(Error::Encode)
    }

    /// The CAR as multibase text in `base` (see [`Event::decode_multibase`]).
    ///
    /// # Errors
    /// As [`Event::encode_car`].
    pub fn encode_multibase(&self, base: crate::CarBase) -> Result<String> {
        Ok(crate::text::car_to_multibase(&self.encode_car()?, base))
    }

    /// The event's CID: the CAR root (the envelope's CID for a signed event).
    pub fn cid(&self) -> &Cid {
        &self.cid
    }

    /// The blocks of the event, in CAR order: what a node stores to apply it as a commit (a
    /// signed event's CACAO, payload and envelope; an unsigned init event's block; a time
    /// event's block, proof and Merkle nodes).
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// What the event says.
    pub fn payload(&self) -> &EventPayload {
        &self.payload
    }

    /// The commit of `ceramic-codecs` the event's payload is (the engine's view of it).
    pub fn commit(&self) -> Commit {
        self.payload.to_commit()
    }

    /// The kind of event.
    pub fn kind(&self) -> EventKind {
        match self.payload {
            EventPayload::Init(_) => EventKind::Init,
            EventPayload::Data(_) => EventKind::Data,
            EventPayload::Time(_) => EventKind::Time,
        }
    }

    /// The signature, for a signed event.
    pub fn signature(&self) -> Option<&Signature> {
        self.signature.as_ref()
    }

    /// The anchor proof, for a time event.
    pub fn proof(&self) -> Option<&AnchorProof> {
        self.proof.as_ref()
    }

    /// The block a signed event's signature covers (its payload).
    pub fn payload_block(&self) -> Option<&Block> {
        let signature = self.signature.as_ref()?;
        self.blocks.iter().find(|b| b.cid() == signature.payload_cid())
    }

    /// The block of the event itself (the envelope for a signed event).
    pub fn event_block(&self) -> &Block {
        self.blocks
            .iter()
            .find(|b| b.cid() == &self.cid)
            .expect("every constructor puts the event's own block into `blocks`")
    }

    /// The CACAO block, for an event signed through a session.
    pub fn cacao_block(&self) -> Option<&Block> {
        let cap = self.signature.as_ref()?.header.cap.as_deref()?;
        let cid = ceramic_did::cap_cid(cap).ok()?;
        self.blocks.iter().find(|b| b.cid() == &cid)
    }

    /// The CID of the stream's init event: this event's own CID for an init event, `id`
    /// otherwise.
    pub fn init_cid(&self) -> Cid {
        match &self.payload {
            EventPayload::Init(_) => self.cid,
            EventPayload::Data(d) => d.id,
            EventPayload::Time(t) => t.id,
        }
    }

    /// The event this one follows (`None` for an init event).
    pub fn prev(&self) -> Option<Cid> {
        match &self.payload {
            EventPayload::Init(_) => None,
            EventPayload::Data(d) => Some(d.prev),
            EventPayload::Time(t) => Some(t.prev),
        }
    }

    /// The init header, for an init event.
    pub fn init_header(&self) -> Option<&InitHeader> {
        match &self.payload {
            EventPayload::Init(p) => Some(&p.header),
            _ => None,
        }
    }

    /// The StreamID an init event starts (Model for the meta-model, MID otherwise).
    pub fn stream_id(&self) -> Option<StreamId> {
        let header = self.init_header()?;
        StreamId::new(header.stream_type(), self.cid).ok()
    }

    /// The EventID of this event on `network`, given its stream's init header (this event's own
    /// for an init event): separator `sep` / `model`, controller, init CID, event CID.
    pub fn event_id(&self, network: Network, init: &InitHeader) -> EventId {
        EventId::new(
            network,
            init.sep(),
            &init.sep_value(),
            &init.controller,
            &self.init_cid(),
            &self.cid,
        )
    }

    /// Verifies a signed event's signature for its `kid` through `resolver` (did:key needs no
    /// I/O). Whether that DID may write the stream (controller, CACAO rules at the anchor time)
    /// is the engine's business.
    ///
    /// # Errors
    /// [`Error::Signature`] when the signature does not verify; [`Error::MissingField`]
    /// (`signature`) for an unsigned event.
    pub fn verify_signature(&self, resolver: &dyn Resolver) -> Result<VerifiedCommit> {
        let payload = self
            .payload_block()
            .ok_or(Error::MissingField { kind: "unsigned event", field: "signature" })?;
        ceramic_did::verify_commit(resolver, self.event_block().data(), payload.data())
            .map_err(Error::Signature)
    }

    /// An unsigned init event (a deterministic stream: a Model-less `single` or `set` MID).
    ///
    /// # Errors
    /// [`Error::UnsignedInitWithData`] when the payload has content, [`Error::Encode`].
    pub fn unsigned_init(payload: InitPayload) -> Result<Self> {
        if !payload.has_no_content() {
            return Err(Error::UnsignedInitWithData);
        }
        let block = Block::encode(Codec::DagCbor, &payload.to_commit()).map_err(Error::Encode)?;
        Ok(Event {
            cid: *block.cid(),
            payload: EventPayload::Init(payload),
            signature: None,
            proof: None,
            blocks: vec![block],
        })
    }

    /// Signs an init or data event with `signer` (a did:key signs byte for byte as
    /// `@ceramic-sdk/events` `signEvent` with `key-did-provider-ed25519`).
    ///
    /// # Errors
    /// [`Error::SignedTime`] for a time payload, [`Error::Signature`], [`Error::Encode`].
    pub fn sign(signer: &dyn Signer, payload: EventPayload) -> Result<Self> {
        if matches!(payload, EventPayload::Time(_)) {
            return Err(Error::SignedTime);
        }
        let signed =
            ceramic_did::sign_commit(signer, &payload.to_commit()).map_err(Error::Signature)?;
        Self::from_signed(&signed)
    }

    /// Signs an init or data event through a CACAO session: `signer` is the session key, the
    /// CACAO names it as audience and the wallet as issuer (as `did-session` does).
    ///
    /// # Errors
    /// As [`Event::sign`]; a CACAO that does not name the signer gives [`Error::Signature`].
    pub fn sign_with_cacao(
        signer: &dyn Signer,
        cacao: &Cacao,
        payload: EventPayload,
    ) -> Result<Self> {
        if matches!(payload, EventPayload::Time(_)) {
            return Err(Error::SignedTime);
        }
        let signed = ceramic_did::sign_commit_with_cacao(signer, cacao, &payload.to_commit())
            .map_err(Error::Signature)?;
        Self::from_signed(&signed)
    }

    /// A time event from its payload, its proof and the Merkle nodes from the proof's root
    /// down its path (none when the root is `prev`).
    ///
    /// # Errors
    /// As [`Event::decode_car`] when the proof or the nodes do not fit the payload.
    pub fn time(payload: TimePayload, proof: &AnchorProof, nodes: Vec<Block>) -> Result<Self> {
        let event = Block::encode(Codec::DagCbor, &payload.to_commit()).map_err(Error::Encode)?;
        let proof = Block::encode(Codec::DagCbor, proof).map_err(Error::Encode)?;
        let mut blocks = vec![event, proof];
        blocks.extend(nodes);
        let car = write_car(&[*blocks[0].cid()], &blocks).map_err(Error::Encode)?;
        Self::decode_car(&car)
    }

    fn from_signed(signed: &SignedCommit) -> Result<Self> {
        let mut blocks = Vec::with_capacity(3);
        blocks.extend(signed.cacao_block().cloned());
        blocks.push(signed.payload_block().clone());
        blocks.push(signed.envelope_block().clone());
        let car = write_car(&[*signed.envelope_block().cid()], &blocks).map_err(Error::Encode)?;
        Self::decode_car(&car)
    }
}

fn get<'a>(blocks: &'a HashMap<Cid, Block>, cid: &Cid, what: &'static str) -> Result<&'a Block> {
    blocks.get(cid).ok_or_else(|| Error::MissingBlock { what, cid: Box::new(*cid) })
}

fn require_codec(
    block: &Block,
    what: &'static str,
    expected: &'static str,
    code: u64,
) -> Result<()> {
    match block.cid().codec() {
        c if c == code => Ok(()),
        actual => Err(Error::WrongCodec { what, expected, actual }),
    }
}

fn decode_commit(block: &Block, what: &'static str) -> Result<EventPayload> {
    let commit = Commit::decode(block.data()).map_err(|source| Error::Block { what, source })?;
    EventPayload::from_commit(commit)
}

fn decode_from(root: Cid, blocks: &HashMap<Cid, Block>) -> Result<Event> {
    let event_block = get(blocks, &root, "event")?;
    match root.codec() {
        DAG_JOSE => decode_signed(event_block, blocks),
        DAG_CBOR => decode_unsigned(event_block, blocks),
        actual => {
            Err(Error::WrongCodec { what: "event", expected: "dag-cbor or dag-jose", actual })
        }
    }
}

fn decode_signed(event_block: &Block, blocks: &HashMap<Cid, Block>) -> Result<Event> {
    let envelope = Envelope::decode(event_block.data())
        .map_err(|source| Error::Block { what: "event envelope", source })?;
    let [signature] = envelope.signatures() else {
        return Err(Error::SignatureCount(envelope.signatures().len()));
    };
    let protected = signature.protected.as_ref().ok_or(Error::ProtectedHeader(
        ceramic_did::Error::InvalidHeader("missing protected header"),
    ))?;
    let header = ProtectedHeader::parse(protected).map_err(Error::ProtectedHeader)?;
    let payload_block = get(blocks, envelope.link(), "signed payload")?;
    require_codec(payload_block, "signed payload", "dag-cbor", DAG_CBOR)?;
    let payload = decode_commit(payload_block, "signed payload")?;
    if matches!(payload, EventPayload::Time(_)) {
        return Err(Error::SignedTime);
    }
    let mut used = Vec::with_capacity(3);
    let cacao = match header.cap.as_deref() {
        None => None,
        Some(cap) => {
            let cid = ceramic_did::cap_cid(cap).map_err(Error::Cacao)?;
            let block = get(blocks, &cid, "CACAO")?;
            require_codec(block, "CACAO", "dag-cbor", DAG_CBOR)?;
            let cacao = Cacao::decode(block.data()).map_err(Error::Cacao)?;
            used.push(block.clone());
            Some(cacao)
        }
    };
    used.push(payload_block.clone());
    used.push(event_block.clone());
    Ok(Event {
        cid: *event_block.cid(),
        payload,
        signature: Some(Signature { envelope, header, cacao }),
        proof: None,
        blocks: used,
    })
}

fn decode_unsigned(event_block: &Block, blocks: &HashMap<Cid, Block>) -> Result<Event> {
    let root = *event_block.cid();
    // A CAR whose root is a signed event's payload (with the envelope beside it) names the
    // wrong block as the event: say so rather than "unsigned" or "extra block".
    for block in blocks.values().filter(|b| b.cid().codec() == DAG_JOSE) {
        if let Ok(envelope) = Envelope::decode(block.data())
            && envelope.link() == &root
        {
            return Err(Error::RootIsPayload { envelope: Box::new(*block.cid()) });
        }
    }
    let payload = decode_commit(event_block, "event")?;
    match payload {
        EventPayload::Init(init) => {
            if !init.has_no_content() {
                return Err(Error::UnsignedInitWithData);
            }
            Ok(Event {
                cid: root,
                payload: EventPayload::Init(init),
                signature: None,
                proof: None,
                blocks: vec![event_block.clone()],
            })
        }
        EventPayload::Data(_) => Err(Error::UnsignedData),
        EventPayload::Time(time) => {
            let proof_block = get(blocks, &time.proof, "anchor proof")?;
            require_codec(proof_block, "anchor proof", "dag-cbor", DAG_CBOR)?;
            let proof: AnchorProof = ceramic_codecs::decode(proof_block.data(), "anchor proof")
                .map_err(|source| Error::Block { what: "anchor proof", source })?;
            let mut used = vec![event_block.clone(), proof_block.clone()];
            walk_path(&time, &proof, blocks, &mut used)?;
            Ok(Event {
                cid: root,
                payload: EventPayload::Time(time),
                signature: None,
                proof: Some(proof),
                blocks: used,
            })
        }
    }
}

/// Follows a time event's path from the proof's root through the CAR's Merkle nodes, checking
/// that it ends at `prev`, and appends the nodes to `used`.
fn walk_path(
    time: &TimePayload,
    proof: &AnchorProof,
    blocks: &HashMap<Cid, Block>,
    used: &mut Vec<Block>,
) -> Result<()> {
    let mut at = proof.root;
    if !time.path.is_empty() {
        let steps: Vec<&str> = time.path.split('/').collect();
        if steps.len() > MAX_PATH_DEPTH || steps.iter().any(|s| !matches!(*s, "0" | "1")) {
            return Err(Error::InvalidPath(time.path.chars().take(200).collect()));
        }
        for step in steps {
            let index = usize::from(step == "1");
            let node = get(blocks, &at, "Merkle node")?;
            require_codec(node, "Merkle node", "dag-cbor", DAG_CBOR)?;
            let value: Ipld = ceramic_codecs::decode(node.data(), "Merkle node")
                .map_err(|source| Error::Block { what: "Merkle node", source })?;
            let next = match &value {
                Ipld::List(items) => match items.get(index) {
                    Some(Ipld::Link(cid)) => *cid,
                    _ => return Err(Error::PathNode { node: Box::new(at), index }),
                },
                _ => return Err(Error::PathNode { node: Box::new(at), index }),
            };
            used.push(node.clone());
            at = next;
        }
    }
    if at != time.prev {
        return Err(Error::PathMismatch { expected: Box::new(time.prev), found: Box::new(at) });
    }
    Ok(())
}

impl From<InitPayload> for EventPayload {
    fn from(p: InitPayload) -> Self {
        EventPayload::Init(p)
    }
}

impl From<DataPayload> for EventPayload {
    fn from(p: DataPayload) -> Self {
        EventPayload::Data(p)
    }
}
