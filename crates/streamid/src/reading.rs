//! Reading varints and CIDs from the front of a byte slice, with a typed error per field.

use crate::{Error, Result};
use cid::Cid;
use cid::multihash::Multihash;

/// The largest multihash digest a CID may carry here (the `cid` crate's default size).
pub(crate) const MAX_DIGEST: u64 = 64;

/// Reads one minimal unsigned varint.
pub(crate) fn varint<'a>(bytes: &'a [u8], field: &'static str) -> Result<(u64, &'a [u8])> {
    use unsigned_varint::decode::Error as VarintError;
    match unsigned_varint::decode::u64(bytes) {
        Ok(ok) => Ok(ok),
        Err(VarintError::Insufficient) => Err(Error::Truncated { field }),
        Err(_) => Err(Error::InvalidVarint { field }),
    }
}

/// Reads one binary CIDv1 (`version codec mh-code mh-len digest`).
pub(crate) fn cid<'a>(bytes: &'a [u8], field: &'static str) -> Result<(Cid, &'a [u8])> {
    let (version, rest) = varint(bytes, field)?;
    if version != 1 {
        return Err(Error::UnsupportedCidVersion(version, field));
    }
    let (codec, rest) = varint(rest, field)?;
    let (hash_code, rest) = varint(rest, field)?;
    let (len, rest) = varint(rest, field)?;
    if len > MAX_DIGEST {
        return Err(Error::DigestTooLong(len));
    }
    // `len <= 64`, so the cast is lossless.
    let len = len as usize;
    let (digest, rest) = match (rest.get(..len), rest.get(len..)) {
        (Some(digest), Some(rest)) => (digest, rest),
        _ => return Err(Error::Truncated { field }),
    };
    let hash =
        Multihash::<64>::wrap(hash_code, digest).map_err(|_| Error::DigestTooLong(len as u64))?;
    Ok((Cid::new_v1(codec, hash), rest))
}

/// Appends a varint to `out`.
pub(crate) fn write_varint(out: &mut Vec<u8>, value: u64) {
    let mut buf = unsigned_varint::encode::u64_buffer();
    out.extend_from_slice(unsigned_varint::encode::u64(value, &mut buf));
}
