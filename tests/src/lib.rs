//! Harness for scenarios that cross crates (and, as the node grows, nodes): builders for signed
//! stream logs and helpers to move them between parties as CAR files.
#![forbid(unsafe_code)]

use anyhow::{Context, Result, bail};
use ceramic_codecs::{
    Block, Car, DataCommit, GenesisCommit, Header, Ipld, Payload, Unique, read_car, write_car,
};
use ceramic_did::{KeyResolver, Signer, VerifiedCommit, sign_commit, verify_commit};
use ceramic_streamid::{Cid, CommitId, StreamId, StreamType};

/// A signed stream log as its author holds it: every commit's envelope and payload blocks.
#[derive(Debug, Clone)]
pub struct SignedLog {
    /// The stream.
    pub stream_id: StreamId,
    /// Envelope CIDs in log order, genesis first.
    pub commits: Vec<Cid>,
    /// Every block of the log.
    pub blocks: Vec<Block>,
}

impl SignedLog {
    /// Starts a Tile stream with a signed genesis holding `content`.
    ///
    /// # Errors
    /// Signing or encoding errors.
    pub fn tile(signer: &dyn Signer, content: Ipld, unique: &str) -> Result<Self> {
        let genesis = GenesisCommit {
            header: Header {
                controllers: Some(vec![signer.did().to_string()]),
                unique: Some(Unique::Text(unique.to_string())),
                ..Header::default()
            },
            data: Some(content),
        };
        let signed = sign_commit(signer, &genesis.into())?;
        let cid = *signed.envelope_block().cid();
        Ok(SignedLog {
            stream_id: StreamId::new(StreamType::TILE, cid)?,
            commits: vec![cid],
            blocks: vec![signed.envelope_block().clone(), signed.payload_block().clone()],
        })
    }

    /// Appends a signed data commit with `patch` on top of the current tip.
    ///
    /// # Errors
    /// Signing or encoding errors.
    pub fn update(&mut self, signer: &dyn Signer, patch: Ipld) -> Result<CommitId> {
        let tip = *self.commits.last().context("a log has a genesis")?;
        let commit = DataCommit {
            id: self.stream_id.cid(),
            prev: tip,
            header: Some(Header::default()),
            data: Some(patch),
        };
        let signed = sign_commit(signer, &commit.into())?;
        let cid = *signed.envelope_block().cid();
        self.commits.push(cid);
        self.blocks.extend([signed.envelope_block().clone(), signed.payload_block().clone()]);
        Ok(self.stream_id.at_commit(cid)?)
    }

    /// Exports the log as a CAR whose root is the tip.
    ///
    /// # Errors
    /// Encoding errors.
    pub fn to_car(&self) -> Result<Vec<u8>> {
        let tip = *self.commits.last().context("a log has a genesis")?;
        Ok(write_car(&[tip], &self.blocks)?)
    }
}

/// What a receiving party checks when it imports a stream's CAR: every block hash (done by
/// `read_car`), every signature, and that `prev` links lead from the tip back to the genesis
/// named by the StreamID. Returns the verified commits in log order.
///
/// # Errors
/// Any codec or signature error, a missing block, or a chain that does not reach the genesis.
pub fn import_log(stream_id: &StreamId, car_bytes: &[u8]) -> Result<Vec<VerifiedCommit>> {
    let car: Car = read_car(car_bytes)?;
    let mut cid = *car.roots.first().context("the CAR has no root")?;
    let mut log = Vec::new();
    loop {
        if log.len() > car.blocks.len() {
            bail!("the prev links loop");
        }
        let envelope = car.get(&cid).with_context(|| format!("missing commit {cid}"))?;
        let link = ceramic_codecs::Envelope::decode(envelope.data())?;
        let payload =
            car.get(link.link()).with_context(|| format!("missing payload {}", link.link()))?;
        let verified = verify_commit(&KeyResolver, envelope.data(), payload.data())?;
        let prev = match verified.payload() {
            Payload::Genesis(_) => None,
            Payload::Data(d) if d.id == stream_id.cid() => Some(d.prev),
            Payload::Data(d) => bail!("commit {cid} belongs to the stream with genesis {}", d.id),
            Payload::Anchor(_) => bail!("unexpected anchor commit {cid}"),
        };
        log.push(verified);
        match prev {
            Some(prev) => cid = prev,
            None if cid == stream_id.cid() => break,
            None => bail!("the log ends at {cid}, not at the stream's genesis"),
        }
    }
    log.reverse();
    Ok(log)
}
