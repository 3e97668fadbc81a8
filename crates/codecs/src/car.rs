//! CAR v1 archives: `varint(len) header` then `varint(len) cid block` sections.
//!
//! The header is dag-cbor `{roots: [CID], version: 1}`. Reading checks every block's hash, so a
//! CAR read here holds only blocks that match their CIDs.

use cid::Cid;
use serde::{Deserialize, Serialize};

use crate::{Block, Error, MAX_BLOCK_SIZE, Result, dagcbor};

/// The largest CAR header accepted (it only lists roots).
const MAX_HEADER: u64 = 64 * 1024;
/// The largest section: a CID (at most a few varints and a 64-byte digest) plus a block.
const MAX_SECTION: u64 = MAX_BLOCK_SIZE as u64 + 128;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    roots: Vec<Cid>,
    version: u64,
}

/// A decoded CAR v1: its roots and its blocks, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Car {
    /// The root CIDs.
    pub roots: Vec<Cid>,
    /// The blocks, each checked against its CID.
    pub blocks: Vec<Block>,
}

impl Car {
    /// The block with this CID, if the CAR has it.
    pub fn get(&self, cid: &Cid) -> Option<&Block> {
        self.blocks.iter().find(|b| b.cid() == cid)
    }
}

fn read_length(bytes: &[u8], offset: usize, max: u64) -> Result<(usize, usize)> {
    let rest = bytes.get(offset..).unwrap_or_default();
    let (len, after) =
        unsigned_varint::decode::u64(rest).map_err(|_| Error::CarLength { offset })?;
    if len > max {
        return Err(Error::CarLength { offset });
    }
    // `len <= max`, which fits in usize.
    Ok((len as usize, offset + (rest.len() - after.len())))
}

/// Reads a CAR v1, checking every block against its CID.
///
/// # Errors
/// [`Error::CarLength`], [`Error::CarTruncated`], [`Error::CarVersion`], [`Error::CarCid`],
/// [`Error::Decode`] for a bad header, and the [`Block::new`] errors for a bad block.
pub fn read_car(bytes: &[u8]) -> Result<Car> {
    let (len, start) = read_length(bytes, 0, MAX_HEADER)?;
    let header_bytes = bytes
        .get(start..start + len)
        .ok_or(Error::CarTruncated { offset: bytes.len(), what: "header" })?;
    crate::dagcbor::check_untrusted(header_bytes)?;
    let header: Header = serde_ipld_dagcbor::from_slice(header_bytes)?;
    if header.version != 1 {
        return Err(Error::CarVersion(header.version));
    }
    let mut car = Car { roots: header.roots, blocks: Vec::new() };
    let mut offset = start + len;
    while offset < bytes.len() {
        let (len, start) = read_length(bytes, offset, MAX_SECTION)?;
        let section = bytes
            .get(start..start + len)
            .ok_or(Error::CarTruncated { offset: bytes.len(), what: "section" })?;
        let mut reader = section;
        let cid =
            Cid::read_bytes(&mut reader).map_err(|source| Error::CarCid { offset, source })?;
        car.blocks.push(Block::new(cid, reader.to_vec())?);
        offset = start + len;
    }
    Ok(car)
}

fn write_length(out: &mut Vec<u8>, len: usize) {
    let mut buf = unsigned_varint::encode::usize_buffer();
    out.extend_from_slice(unsigned_varint::encode::usize(len, &mut buf));
}

/// Writes a CAR v1 with these roots and blocks, in the order given.
///
/// # Errors
/// [`Error::Encode`] only if the header cannot be encoded (it always can).
pub fn write_car<'a>(
    roots: &[Cid],
    blocks: impl IntoIterator<Item = &'a Block>,
) -> Result<Vec<u8>> {
    let header = dagcbor::encode(&Header { roots: roots.to_vec(), version: 1 })?;
    let mut out = Vec::with_capacity(header.len() + 1024);
    write_length(&mut out, header.len());
    out.extend_from_slice(&header);
    for block in blocks {
        let cid = block.cid().to_bytes();
        write_length(&mut out, cid.len() + block.data().len());
        out.extend_from_slice(&cid);
        out.extend_from_slice(block.data());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Codec;

    fn blocks() -> Vec<Block> {
        (0..3u8).map(|n| Block::from_data(Codec::DagCbor, vec![n]).unwrap()).collect()
    }

    #[test]
    fn round_trips() {
        let blocks = blocks();
        let bytes = write_car(&[*blocks[0].cid()], &blocks).unwrap();
        let car = read_car(&bytes).unwrap();
        assert_eq!(car.roots, vec![*blocks[0].cid()]);
        assert_eq!(car.blocks, blocks);
        assert_eq!(write_car(&car.roots, &car.blocks).unwrap(), bytes);
    }

    #[test]
    fn rejects_a_tampered_block() {
        let blocks = blocks();
        let mut bytes = write_car(&[*blocks[0].cid()], &blocks).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(matches!(read_car(&bytes), Err(Error::HashMismatch { .. })));
    }

    #[test]
    fn rejects_truncation_everywhere() {
        let blocks = blocks();
        let bytes = write_car(&[*blocks[0].cid()], &blocks).unwrap();
        let complete: Vec<usize> = {
            // Offsets where a section ends: cutting there leaves a valid shorter CAR.
            let mut ends = vec![];
            let mut at = 0;
            let (len, start) = read_length(&bytes, 0, MAX_HEADER).unwrap();
            at += start + len;
            ends.push(at);
            while at < bytes.len() {
                let (len, start) = read_length(&bytes, at, MAX_SECTION).unwrap();
                at = start + len;
                ends.push(at);
            }
            ends
        };
        for cut in 0..bytes.len() {
            let result = read_car(&bytes[..cut]);
            assert_eq!(result.is_ok(), complete.contains(&cut), "cut at {cut}: {result:?}");
        }
    }

    #[test]
    fn rejects_other_versions() {
        let header = dagcbor::encode(&Header { roots: vec![], version: 2 }).unwrap();
        let mut bytes = vec![header.len() as u8];
        bytes.extend_from_slice(&header);
        assert!(matches!(read_car(&bytes), Err(Error::CarVersion(2))));
    }
}
