//! The Bitswap message: protobuf structs (hand-written prost derives, no codegen), the typed
//! [`Message`] our logic works on, CID prefixes, and unsigned-varint length-prefixed frames.
//!
//! Wire format (bitswap 1.2.0, `message.proto` of the Bitswap spec):
//! ```text
//! message Message {
//!   message Wantlist {
//!     enum WantType { Block = 0; Have = 1; }
//!     message Entry { bytes block = 1; int32 priority = 2; bool cancel = 3;
//!                     WantType wantType = 4; bool sendDontHave = 5; }
//!     repeated Entry entries = 1; bool full = 2;
//!   }
//!   message Block { bytes prefix = 1; bytes data = 2; }
//!   enum BlockPresenceType { Have = 0; DontHave = 1; }
//!   message BlockPresence { bytes cid = 1; BlockPresenceType type = 2; }
//!   Wantlist wantlist = 1;
//!   repeated bytes blocks = 2;          // 1.0.0: CIDv0 (sha2-256 dag-pb) blocks
//!   repeated Block payload = 3;         // 1.1.0+: blocks with their CID prefix
//!   repeated BlockPresence blockPresences = 4;
//!   int32 pendingBytes = 5;
//! }
//! ```

use ceramic_codecs::{Block, Cid, Codec, MAX_BLOCK_SIZE};
use multihash::Multihash;
use sha2::{Digest, Sha256};

use crate::error::DecodeError;

/// The largest message (one length-prefixed frame) we read, in bytes.
pub const MAX_MESSAGE_SIZE: usize = 4 * 1024 * 1024;
/// The size at which we split outgoing messages. helia refuses frames over 2 MiB (its
/// `maxIncomingMessageSize`), so we stay well below that.
pub const MAX_OUTGOING_MESSAGE_SIZE: usize = 1024 * 1024;
/// The most wantlist entries, blocks or presences one message may carry.
pub const MAX_ENTRIES: usize = 8192;

const SHA2_256: u64 = 0x12;
const IDENTITY: u64 = 0x00;
const DAG_PB: u64 = 0x70;

/// The protobuf structs, exactly as on the wire.
pub(crate) mod pb {
    /// `Message`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Message {
        #[prost(message, optional, tag = "1")]
        pub(crate) wantlist: Option<Wantlist>,
        #[prost(bytes = "vec", repeated, tag = "2")]
        pub(crate) blocks: Vec<Vec<u8>>,
        #[prost(message, repeated, tag = "3")]
        pub(crate) payload: Vec<Block>,
        #[prost(message, repeated, tag = "4")]
        pub(crate) block_presences: Vec<BlockPresence>,
        #[prost(int32, tag = "5")]
        pub(crate) pending_bytes: i32,
    }

    /// `Message.Wantlist`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Wantlist {
        #[prost(message, repeated, tag = "1")]
        pub(crate) entries: Vec<Entry>,
        #[prost(bool, tag = "2")]
        pub(crate) full: bool,
    }

    /// `Message.Wantlist.Entry`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Entry {
        #[prost(bytes = "vec", tag = "1")]
        pub(crate) block: Vec<u8>,
        #[prost(int32, tag = "2")]
        pub(crate) priority: i32,
        #[prost(bool, tag = "3")]
        pub(crate) cancel: bool,
        #[prost(int32, tag = "4")]
        pub(crate) want_type: i32,
        #[prost(bool, tag = "5")]
        pub(crate) send_dont_have: bool,
    }

    /// `Message.Block`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Block {
        #[prost(bytes = "vec", tag = "1")]
        pub(crate) prefix: Vec<u8>,
        #[prost(bytes = "vec", tag = "2")]
        pub(crate) data: Vec<u8>,
    }

    /// `Message.BlockPresence`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct BlockPresence {
        #[prost(bytes = "vec", tag = "1")]
        pub(crate) cid: Vec<u8>,
        #[prost(int32, tag = "2")]
        pub(crate) r#type: i32,
    }
}

/// What a wantlist entry asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WantType {
    /// Send the block (`Block = 0`).
    Block,
    /// Say whether you have it (`Have = 1`).
    Have,
}

/// One wantlist entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Want {
    /// The wanted block.
    pub cid: Cid,
    /// Higher first.
    pub priority: i32,
    /// The peer no longer wants it.
    pub cancel: bool,
    /// Block or presence.
    pub want_type: WantType,
    /// Answer DontHave when the block is not there.
    pub send_dont_have: bool,
}

/// A block presence: whether the sender has a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    /// The block.
    pub cid: Cid,
    /// `true` for Have, `false` for DontHave.
    pub have: bool,
}

/// A decoded Bitswap message. Every block in it hashes to its CID: the CID is rebuilt from the
/// sender's prefix and the hash of the bytes, so a block can only ever carry its own CID.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// The sender's wantlist entries.
    pub wants: Vec<Want>,
    /// The entries are the sender's whole wantlist (replace, don't merge).
    pub full: bool,
    /// Blocks.
    pub blocks: Vec<Block>,
    /// Block presences.
    pub presences: Vec<Presence>,
    /// Bytes the sender still has queued for us.
    pub pending_bytes: i32,
}

/// The CID prefix of 1.1.0+ payload blocks: CID version, codec, multihash code and digest
/// length, each an unsigned varint.
pub fn prefix_of(cid: &Cid) -> Vec<u8> {
    let mut out = Vec::with_capacity(8);
    let mut buf = unsigned_varint::encode::u64_buffer();
    for n in [cid.version() as u64, cid.codec(), cid.hash().code(), u64::from(cid.hash().size())] {
        out.extend_from_slice(unsigned_varint::encode::u64(n, &mut buf));
    }
    out
}

/// Rebuilds a block's CID from its prefix and bytes, hashing the bytes: the block is checked by
/// construction.
///
/// # Errors
/// [`DecodeError::Prefix`] for a malformed prefix, [`DecodeError::UnsupportedHash`] for a hash
/// other than sha2-256 (32-byte digest) or identity, [`DecodeError::BlockTooLarge`].
pub fn block_from_prefix(prefix: &[u8], data: Vec<u8>) -> Result<Block, DecodeError> {
    if data.len() > MAX_BLOCK_SIZE {
        return Err(DecodeError::BlockTooLarge { size: data.len(), max: MAX_BLOCK_SIZE });
    }
    let mut rest = prefix;
    let mut next = || -> Result<u64, DecodeError> {
        let (n, tail) = unsigned_varint::decode::u64(rest).map_err(|_| DecodeError::Prefix)?;
        rest = tail;
        Ok(n)
    };
    let (version, codec, code, len) = (next()?, next()?, next()?, next()?);
    if !rest.is_empty() {
        return Err(DecodeError::Prefix);
    }
    // dag-cbor and dag-jose over sha2-256 (every Ceramic block): hash once, the CID is built
    // from that hash, so the block checks by construction.
    let known = match codec {
        0x71 => Some(Codec::DagCbor),
        0x85 => Some(Codec::DagJose),
        _ => None,
    };
    if let (1, Some(known), SHA2_256, 32) = (version, known, code, len) {
        let block = Block::from_data(known, data).map_err(|e| DecodeError::Block(Box::new(e)))?;
        if prefix_of(block.cid()) != prefix {
            return Err(DecodeError::Prefix);
        }
        return Ok(block);
    }
    let hash = match (code, len) {
        (SHA2_256, 32) => Multihash::<64>::wrap(SHA2_256, &Sha256::digest(&data)),
        (IDENTITY, n) if n == data.len() as u64 && data.len() <= 64 => {
            Multihash::<64>::wrap(IDENTITY, &data)
        }
        (code, _) => return Err(DecodeError::UnsupportedHash(code)),
    }
    .map_err(|_| DecodeError::Prefix)?;
    let cid = match version {
        0 if codec == DAG_PB && code == SHA2_256 => Cid::new_v0(hash),
        1 => Ok(Cid::new_v1(codec, hash)),
        _ => return Err(DecodeError::Prefix),
    }
    .map_err(|_| DecodeError::Prefix)?;
    // Only the canonical prefix of the CID: a varint that decodes but re-encodes otherwise
    // (an overflowing 10th byte) would give two prefixes one CID.
    if prefix_of(&cid) != prefix {
        return Err(DecodeError::Prefix);
    }
    Block::new(cid, data).map_err(|e| DecodeError::Block(Box::new(e)))
}

fn cid_from_bytes(bytes: &[u8]) -> Result<Cid, DecodeError> {
    Cid::try_from(bytes).map_err(|_| DecodeError::Cid(bytes.len()))
}

impl Message {
    /// Whether the message carries nothing.
    pub fn is_empty(&self) -> bool {
        self.wants.is_empty() && !self.full && self.blocks.is_empty() && self.presences.is_empty()
    }

    /// Decodes the protobuf bytes of one message (without the length prefix).
    ///
    /// # Errors
    /// [`DecodeError::TooLarge`], [`DecodeError::Protobuf`], [`DecodeError::TooManyEntries`],
    /// and the errors of a bad CID, prefix or block ([`block_from_prefix`]). One bad part
    /// rejects the whole message.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_MESSAGE_SIZE {
            return Err(DecodeError::TooLarge { size: bytes.len(), max: MAX_MESSAGE_SIZE });
        }
        let msg: pb::Message = prost::Message::decode(bytes).map_err(DecodeError::Protobuf)?;
        let (entries, full) = msg.wantlist.map(|w| (w.entries, w.full)).unwrap_or_default();
        let count = entries.len() + msg.blocks.len() + msg.payload.len();
        if count > MAX_ENTRIES || msg.block_presences.len() > MAX_ENTRIES {
            return Err(DecodeError::TooManyEntries { max: MAX_ENTRIES });
        }
        let wants = entries
            .into_iter()
            .map(|e| {
                Ok(Want {
                    cid: cid_from_bytes(&e.block)?,
                    priority: e.priority,
                    cancel: e.cancel,
                    want_type: match e.want_type {
                        0 => WantType::Block,
                        1 => WantType::Have,
                        other => return Err(DecodeError::UnknownWantType(other)),
                    },
                    send_dont_have: e.send_dont_have,
                })
            })
            .collect::<Result<_, DecodeError>>()?;
        // 1.0.0 blocks are CIDv0: sha2-256 dag-pb.
        let v0 = [0u8, DAG_PB as u8, SHA2_256 as u8, 32];
        let mut blocks = Vec::with_capacity(msg.blocks.len() + msg.payload.len());
        for data in msg.blocks {
            blocks.push(block_from_prefix(&v0, data)?);
        }
        for b in msg.payload {
            blocks.push(block_from_prefix(&b.prefix, b.data)?);
        }
        let presences = msg
            .block_presences
            .into_iter()
            .map(|p| {
                Ok(Presence {
                    cid: cid_from_bytes(&p.cid)?,
                    have: match p.r#type {
                        0 => true,
                        1 => false,
                        other => return Err(DecodeError::UnknownPresence(other)),
                    },
                })
            })
            .collect::<Result<_, DecodeError>>()?;
        Ok(Message { wants, full, blocks, presences, pending_bytes: msg.pending_bytes })
    }

    pub(crate) fn to_pb(&self) -> pb::Message {
        let wantlist = (!self.wants.is_empty() || self.full).then(|| pb::Wantlist {
            entries: self
                .wants
                .iter()
                .map(|w| pb::Entry {
                    block: w.cid.to_bytes(),
                    priority: w.priority,
                    cancel: w.cancel,
                    want_type: match w.want_type {
                        WantType::Block => 0,
                        WantType::Have => 1,
                    },
                    send_dont_have: w.send_dont_have,
                })
                .collect(),
            full: self.full,
        });
        pb::Message {
            wantlist,
            blocks: Vec::new(),
            payload: self
                .blocks
                .iter()
                .map(|b| pb::Block { prefix: prefix_of(b.cid()), data: b.data().to_vec() })
                .collect(),
            block_presences: self
                .presences
                .iter()
                .map(|p| pb::BlockPresence { cid: p.cid.to_bytes(), r#type: i32::from(!p.have) })
                .collect(),
            pending_bytes: self.pending_bytes,
        }
    }

    /// The protobuf bytes (without the length prefix). Blocks go in `payload` with their prefix.
    pub fn encode(&self) -> Vec<u8> {
        prost::Message::encode_to_vec(&self.to_pb())
    }

    /// One frame: the unsigned-varint length, then [`Message::encode`].
    pub fn encode_frame(&self) -> Vec<u8> {
        let body = self.encode();
        let mut buf = unsigned_varint::encode::usize_buffer();
        let len = unsigned_varint::encode::usize(body.len(), &mut buf);
        let mut out = Vec::with_capacity(len.len() + body.len());
        out.extend_from_slice(len);
        out.extend_from_slice(&body);
        out
    }

    /// Splits the message into frames of at most about [`MAX_OUTGOING_MESSAGE_SIZE`] bytes each
    /// (a single block can exceed it; it then travels alone). The wantlist and presences go in
    /// the first frame.
    pub fn encode_frames(&self) -> Vec<Vec<u8>> {
        let mut frames = Vec::new();
        let mut current = Message {
            wants: self.wants.clone(),
            full: self.full,
            blocks: Vec::new(),
            presences: self.presences.clone(),
            pending_bytes: self.pending_bytes,
        };
        let mut size = current.encode().len();
        for block in &self.blocks {
            let extra = block.data().len() + 64;
            if size + extra > MAX_OUTGOING_MESSAGE_SIZE && !current.is_empty() {
                frames.push(current.encode_frame());
                current = Message::default();
                size = 0;
            }
            size += extra;
            current.blocks.push(block.clone());
        }
        if !current.is_empty() || frames.is_empty() {
            frames.push(current.encode_frame());
        }
        frames
    }

    /// Decodes one frame from the start of `bytes`: the message and the bytes after it.
    ///
    /// # Errors
    /// [`DecodeError::Length`] for a bad or truncated length prefix,
    /// [`DecodeError::TooLarge`], [`DecodeError::Truncated`], and the errors of
    /// [`Message::decode`].
    pub fn decode_frame(bytes: &[u8]) -> Result<(Self, &[u8]), DecodeError> {
        let (len, rest) = unsigned_varint::decode::usize(bytes).map_err(|_| DecodeError::Length)?;
        if len > MAX_MESSAGE_SIZE {
            return Err(DecodeError::TooLarge { size: len, max: MAX_MESSAGE_SIZE });
        }
        let body = rest.get(..len).ok_or(DecodeError::Truncated { len, have: rest.len() })?;
        Ok((Self::decode(body)?, &rest[len..]))
    }
}

#[cfg(feature = "net")]
/// Reads one length-prefixed frame from `io`; `None` at a clean end of stream.
///
/// # Errors
/// I/O errors; [`DecodeError`] (as `InvalidData`) for a bad length or an oversized frame.
pub(crate) async fn read_frame<R>(io: &mut R) -> std::io::Result<Option<Vec<u8>>>
where
    R: futures::AsyncRead + Unpin,
{
    use futures::AsyncReadExt;
    let mut len: u64 = 0;
    for i in 0..10 {
        let mut byte = [0u8];
        let n = io.read(&mut byte).await?;
        if n == 0 {
            if i == 0 {
                return Ok(None);
            }
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        len |= u64::from(byte[0] & 0x7f) << (7 * i);
        if byte[0] & 0x80 == 0 {
            let len = usize::try_from(len).unwrap_or(usize::MAX);
            if len > MAX_MESSAGE_SIZE {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    DecodeError::TooLarge { size: len, max: MAX_MESSAGE_SIZE },
                ));
            }
            let mut body = vec![0u8; len];
            io.read_exact(&mut body).await?;
            return Ok(Some(body));
        }
    }
    Err(std::io::Error::new(std::io::ErrorKind::InvalidData, DecodeError::Length))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(n: u8) -> Block {
        Block::from_data(Codec::DagCbor, vec![0x18, n]).unwrap()
    }

    #[test]
    fn prefix_of_a_dag_cbor_sha256_cid() {
        assert_eq!(prefix_of(block(1).cid()), vec![0x01, 0x71, 0x12, 0x20]);
    }

    #[test]
    fn payload_block_gets_its_cid_from_prefix_and_hash() {
        let b = block(7);
        let got = block_from_prefix(&prefix_of(b.cid()), b.data().to_vec()).unwrap();
        assert_eq!(got, b);
    }

    #[test]
    fn rejects_unsupported_hash_and_bad_prefix() {
        assert!(matches!(
            block_from_prefix(&[1, 0x71, 0x1e, 32], vec![1]),
            Err(DecodeError::UnsupportedHash(0x1e))
        ));
        assert!(matches!(block_from_prefix(&[1, 0x71, 0x12], vec![1]), Err(DecodeError::Prefix)));
        assert!(matches!(
            block_from_prefix(&[1, 0x71, 0x12, 32, 0], vec![1]),
            Err(DecodeError::Prefix)
        ));
        assert!(matches!(
            block_from_prefix(&[1, 0x71, 0x12, 31], vec![1]),
            Err(DecodeError::UnsupportedHash(0x12))
        ));
    }

    #[test]
    fn rejects_a_prefix_whose_varint_overflows() {
        // Found by fuzzing (fuzz/seeds.py REGRESSIONS "bitswap_message"): the codec varint's
        // 10th byte carries bits past 64, which the decoder dropped.
        let prefix = [1, 0xff, 0xff, 0xca, 0xca, 0x8f, 0xff, 0xff, 0xff, 0xff, 0x75, 0x12, 0x20];
        assert!(matches!(block_from_prefix(&prefix, Vec::new()), Err(DecodeError::Prefix)));
        crate::fuzzing::message(&[&[0x41][..], &prefix].concat());
    }

    #[test]
    fn rejects_oversized_blocks() {
        let data = vec![0u8; MAX_BLOCK_SIZE + 1];
        assert!(matches!(
            block_from_prefix(&[1, 0x71, 0x12, 32], data),
            Err(DecodeError::BlockTooLarge { .. })
        ));
    }

    #[test]
    fn v0_blocks_field_decodes_as_dag_pb() {
        let raw = pb::Message { blocks: vec![vec![1, 2, 3]], ..Default::default() };
        let msg = Message::decode(&prost::Message::encode_to_vec(&raw)).unwrap();
        assert_eq!(msg.blocks[0].cid().version(), cid::Version::V0);
        assert_eq!(msg.blocks[0].data(), &[1, 2, 3]);
    }

    #[test]
    fn frames_split_large_messages() {
        let blocks: Vec<Block> =
            (0..12).map(|i| Block::from_data(Codec::DagCbor, vec![i; 200_000]).unwrap()).collect();
        let msg = Message { blocks: blocks.clone(), ..Default::default() };
        let frames = msg.encode_frames();
        assert!(frames.len() >= 3, "{} frames", frames.len());
        let mut got = Vec::new();
        for f in &frames {
            assert!(f.len() <= MAX_OUTGOING_MESSAGE_SIZE + 16);
            let (m, rest) = Message::decode_frame(f).unwrap();
            assert!(rest.is_empty());
            got.extend(m.blocks);
        }
        assert_eq!(got, blocks);
    }

    #[test]
    fn frame_length_limits() {
        let mut buf = unsigned_varint::encode::usize_buffer();
        let len = unsigned_varint::encode::usize(MAX_MESSAGE_SIZE + 1, &mut buf);
        assert!(matches!(Message::decode_frame(len), Err(DecodeError::TooLarge { .. })));
        assert!(matches!(Message::decode_frame(&[5, 0]), Err(DecodeError::Truncated { .. })));
        assert!(matches!(Message::decode_frame(&[0x80]), Err(DecodeError::Length)));
    }
}
