//! Strict, canonical dag-cbor encoding and decoding.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Error, Ipld, MAX_BLOCK_SIZE, Result};

/// The deepest nesting of lists and maps a decoded block may have.
///
/// serde decoding recurses once per level; an unoptimised build spends over 10 KiB of stack per
/// level, so 200 levels overflow a 2 MiB thread. Blocks are checked by [`check_depth`], a loop,
/// before serde sees them.
pub const MAX_DEPTH: usize = 64;

/// Checks the size limit and the nesting limit of an untrusted block.
pub(crate) fn check_untrusted(bytes: &[u8]) -> Result<()> {
    if bytes.len() > MAX_BLOCK_SIZE {
        return Err(Error::BlockTooLarge { size: bytes.len(), max: MAX_BLOCK_SIZE });
    }
    check_depth(bytes)
}

fn check_size(size: usize) -> Result<()> {
    if size > MAX_BLOCK_SIZE {
        return Err(Error::BlockTooLarge { size, max: MAX_BLOCK_SIZE });
    }
    Ok(())
}

/// Walks the CBOR item heads of `bytes` with a loop and rejects nesting deeper than
/// [`MAX_DEPTH`]. Malformed input stops the walk without an error: the decoder that runs next
/// rejects it, and it cannot nest deeper than the walk saw before the malformed point.
fn check_depth(bytes: &[u8]) -> Result<()> {
    // Items still to read in each open list or map.
    let mut open: Vec<u64> = Vec::new();
    let mut pos = 0usize;
    loop {
        let Some(&head) = bytes.get(pos) else { return Ok(()) };
        pos += 1;
        let (major, info) = (head >> 5, head & 0x1f);
        let width = match info {
            0..=23 => 0,
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            _ => return Ok(()),
        };
        let arg = if width == 0 {
            u64::from(info)
        } else {
            let Some(raw) = bytes.get(pos..pos + width) else { return Ok(()) };
            pos += width;
            raw.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
        };
        let children = match major {
            // Byte and text strings: skip the content.
            2 | 3 => {
                let Some(end) = usize::try_from(arg).ok().and_then(|n| pos.checked_add(n)) else {
                    return Ok(());
                };
                pos = end;
                0
            }
            4 => arg,
            5 => arg.saturating_mul(2),
            // A tag's content is the next item, which completes the tagged item.
            6 => continue,
            _ => 0,
        };
        if children > 0 {
            open.push(children);
            if open.len() > MAX_DEPTH {
                return Err(Error::TooDeep { max: MAX_DEPTH });
            }
            continue;
        }
        // One item is complete: count it against the innermost open container, closing every
        // container it completes.
        loop {
            let Some(left) = open.last_mut() else { return Ok(()) };
            *left -= 1;
            if *left > 0 {
                break;
            }
            open.pop();
        }
    }
}

/// Encodes `value` as canonical dag-cbor (map keys sorted length-first, then bytewise; shortest
/// integers; 64-bit floats; CIDs as tag 42).
///
/// # Errors
/// [`Error::Encode`] for values dag-cbor cannot hold, [`Error::BlockTooLarge`] past the limit.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    let bytes = serde_ipld_dagcbor::to_vec(value)?;
    check_size(bytes.len())?;
    Ok(bytes)
}

/// Decodes canonical dag-cbor into `T` and checks that `T` re-encodes to exactly `bytes`.
///
/// `what` names the value in the [`Error::NonCanonical`] error.
///
/// # Errors
/// [`Error::BlockTooLarge`], [`Error::TooDeep`], [`Error::Decode`] for invalid or non-canonical dag-cbor and shapes
/// that do not fit `T`, [`Error::NonCanonical`] when the re-encoding differs.
pub fn decode<T: DeserializeOwned + Serialize>(bytes: &[u8], what: &'static str) -> Result<T> {
    check_untrusted(bytes)?;
    let value: T = serde_ipld_dagcbor::from_slice(bytes)?;
    check_round_trip(&value, bytes, what)?;
    Ok(value)
}

pub(crate) fn check_round_trip<T: Serialize>(
    value: &T,
    bytes: &[u8],
    what: &'static str,
) -> Result<()> {
    if serde_ipld_dagcbor::to_vec(value)? != bytes {
        return Err(Error::NonCanonical { what });
    }
    Ok(())
}

/// Renders an IPLD value as dag-json text (CIDs as `{"/": "…"}`, bytes as `{"/": {"bytes": "…"}}`).
///
/// # Errors
/// Never for values decoded from dag-cbor; a non-finite float gives [`Error::NonCanonical`].
pub fn to_dag_json(value: &Ipld) -> Result<String> {
    let bytes = serde_ipld_dagjson::to_vec(value)
        .map_err(|_| Error::NonCanonical { what: "dag-json value" })?;
    // serde_ipld_dagjson writes UTF-8 JSON.
    String::from_utf8(bytes).map_err(|_| Error::NonCanonical { what: "dag-json value" })
}

/// Serde helper: a field that is present deserializes to `Some` even when its value is null, so
/// that "absent" and "null" stay distinct and re-encode to the same bytes.
pub(crate) mod present {
    use serde::{Deserialize, Deserializer};

    pub(crate) fn deserialize<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        T::deserialize(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize) -> Vec<u8> {
        let mut bytes = vec![0x81; levels];
        bytes.push(0x00);
        bytes
    }

    #[test]
    fn accepts_nesting_up_to_the_limit() {
        assert!(decode::<Ipld>(&nested(MAX_DEPTH), "value").is_ok());
    }

    #[test]
    fn rejects_deep_nesting_before_recursing() {
        for levels in [MAX_DEPTH + 1, 10_000, 200_000] {
            let result = decode::<Ipld>(&nested(levels), "value");
            assert!(matches!(result, Err(Error::TooDeep { .. })), "{levels}: {result:?}");
        }
        // Maps count too, and tags do not hide nesting.
        let mut bytes = Vec::new();
        for _ in 0..=MAX_DEPTH {
            bytes.extend_from_slice(&[0xa1, 0x61, b'a', 0xd8, 0x2a]);
        }
        assert!(matches!(check_depth(&bytes), Err(Error::TooDeep { .. })));
    }

    #[test]
    fn walks_siblings_at_the_same_depth() {
        // [[1], [2], [3]] nested MAX_DEPTH - 1 deep stays within the limit.
        let mut bytes = vec![0x81; MAX_DEPTH - 2];
        bytes.extend_from_slice(&[0x83, 0x81, 0x01, 0x81, 0x02, 0x81, 0x03]);
        assert!(check_depth(&bytes).is_ok());
        assert!(decode::<Ipld>(&bytes, "value").is_ok());
    }
}
