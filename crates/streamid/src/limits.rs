//! The longest StreamID, CommitID and CID, in bytes and in text, derived from the binary form
//! (`specs/streamid.md` § Limits). Every parser in this crate checks the length of its input
//! against these before decoding anything, so hostile input costs one comparison: base36 and
//! base58 decoding (the `multibase` crate, through `base-x`) is quadratic in the length of the
//! text, and a 300,000-character id took 6 s of CPU before this check.
//!
//! The arithmetic (a varint of a `u64` takes at most 10 bytes; the digest length is at most 64,
//! so its varint is 1 byte):
//!
//! ```text
//! CID       = version (1, must be 1) + codec (≤ 10) + hash code (≤ 10) + digest length (1) + digest (≤ 64) =  86
//! StreamID  = varint(0xce) (2) + stream type (≤ 10) + genesis CID (≤ 86)                              =  98
//! CommitID  = StreamID (≤ 98) + commit CID (≤ 86)                                                       = 184
//! id text   = "k" + base36 digits of 184 bytes: 1 + ⌈184·8 / log2 36⌉ = 1 + ⌈284.7⌉                    = 286
//! CID text  = "b" + base32 of 86 bytes: 1 + ⌈86·8 / 5⌉ = 1 + 138 (base36: 135, base58btc: 119)         = 139
//! reference = "ceramic://" (10) + id text (286) + "?commit=" (8) + CID text (139)                       = 443
//! ```
//!
//! The first byte of every id (0xce) and of every CIDv1 (0x01) is not zero, so no valid text has
//! the leading zero digits (`0` in base36, `1` in base58btc) that would make it longer.

/// The longest binary CIDv1 an id may embed (see the module docs): 86 bytes.
pub const MAX_CID_BYTES: usize = 1 + 10 + 10 + 1 + 64;
/// The longest StreamID in bytes: 98.
pub const MAX_STREAM_ID_BYTES: usize = 2 + 10 + MAX_CID_BYTES;
/// The longest CommitID in bytes, and so the longest input [`crate::StreamRef::from_bytes`]
/// decodes: 184.
pub const MAX_ID_BYTES: usize = MAX_STREAM_ID_BYTES + MAX_CID_BYTES;
/// The longest base36 text of an id (`k` + 285 digits): 286 characters.
pub const MAX_ID_TEXT_LEN: usize = 286;
/// The longest CID text accepted (`b` + base32 of [`MAX_CID_BYTES`]): 139 characters.
pub const MAX_CID_TEXT_LEN: usize = 139;
/// The longest reference string [`crate::StreamRef`] parses (`ceramic://<id>?commit=<CID>`):
/// 443 characters.
pub const MAX_REF_TEXT_LEN: usize =
    "ceramic://".len() + MAX_ID_TEXT_LEN + "?commit=".len() + MAX_CID_TEXT_LEN;

/// `Err(TooLong)` when `len` is over `max`.
pub(crate) fn check(field: &'static str, len: usize, max: usize) -> crate::Result<()> {
    if len > max {
        return Err(crate::Error::TooLong { field, len, max });
    }
    Ok(())
}
