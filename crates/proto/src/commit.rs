//! What a client's commit is about, read before the engine applies it: whether it is a
//! genesis (CreateStream accepts only those) and which stream it writes to.

use ceramic_codecs::{Cid, Codec, Envelope, Payload};
use ceramic_streamid::{StreamId, StreamType};

/// The stream a commit writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// A genesis commit: it creates this stream.
    Genesis(StreamId),
    /// A data or anchor commit naming this stream.
    Change(StreamId),
}

/// Reads commit `cid` (a dag-jose envelope and its payload, or a dag-cbor payload) through
/// `block`. `None` when a block is missing or does not decode: the engine reads the same blocks
/// with the same strict decoders, so it refuses the commit and reports why.
pub(crate) fn target(
    stream_type: StreamType,
    cid: Cid,
    block: impl Fn(&Cid) -> Option<Vec<u8>>,
) -> Option<Target> {
    let bytes = block(&cid)?;
    let payload = if cid.codec() == Codec::DagJose.code() {
        let envelope = Envelope::decode(&bytes).ok()?;
        Payload::decode(&block(envelope.link())?).ok()?
    } else {
        Payload::decode(&bytes).ok()?
    };
    match payload {
        Payload::Genesis(_) => StreamId::new(stream_type, cid).ok().map(Target::Genesis),
        Payload::Data(data) => StreamId::new(stream_type, data.id).ok().map(Target::Change),
        Payload::Anchor(anchor) => {
            anchor.id.and_then(|id| StreamId::new(stream_type, id).ok()).map(Target::Change)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ceramic_codecs::{Block, DataCommit, GenesisCommit, Header};

    #[test]
    fn tells_a_genesis_from_a_change_of_its_stream() {
        let genesis = Payload::Genesis(GenesisCommit {
            header: Header { controllers: Some(vec!["did:key:z6Mk".into()]), ..Header::default() },
            data: None,
        });
        let g = Block::encode(Codec::DagCbor, &genesis).unwrap();
        let data =
            Payload::Data(DataCommit { id: *g.cid(), prev: *g.cid(), header: None, data: None });
        let d = Block::encode(Codec::DagCbor, &data).unwrap();
        let blocks = [g.clone(), d.clone()];
        let lookup = |c: &Cid| blocks.iter().find(|b| b.cid() == c).map(|b| b.data().to_vec());
        let stream = StreamId::new(StreamType::TILE, *g.cid()).unwrap();
        assert_eq!(target(StreamType::TILE, *g.cid(), lookup), Some(Target::Genesis(stream)));
        assert_eq!(target(StreamType::TILE, *d.cid(), lookup), Some(Target::Change(stream)));
        // A block that is not given, or not a commit.
        assert_eq!(target(StreamType::TILE, ceramic_codecs::cid_of(0x71, b"?"), lookup), None);
    }
}
