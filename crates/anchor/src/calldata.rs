//! How an Ethereum transaction names an anchor: tx hashes as CIDs, and the v0 (raw self-send)
//! and v1 (`anchorDagCbor(bytes32)` contract call) calldata that carries the Merkle root
//! (CIP-110; `specs/anchoring.md` "Transactions").

use ceramic_codecs::{Cid, Codec};
use cid::multihash::Multihash;

use crate::{Error, Result};

/// Multicodec of an Ethereum transaction (`eth-tx`).
pub const ETH_TX_CODEC: u64 = 0x93;
/// Multihash code of keccak-256.
pub const KECCAK_256: u64 = 0x1b;
/// Multihash code of sha2-256.
const SHA2_256: u64 = 0x12;

/// The `txType` of contract (v1) anchors: the contract method's argument list (CAIP-168).
pub const TX_TYPE_V1: &str = "f(bytes32)";

/// The selector of `anchorDagCbor(bytes32)`: the first four bytes of its keccak-256.
pub const ANCHOR_SELECTOR: [u8; 4] = [0x97, 0xad, 0x09, 0xeb];

/// The anchor contract, at the same address on every chain Ceramic uses
/// (`0x231055A0852D67C7107Ad0d0DFeab60278fE6AdC`, js:packages/anchor-utils/src/constants.ts).
pub const ANCHOR_CONTRACT: [u8; 20] = [
    0x23, 0x10, 0x55, 0xa0, 0x85, 0x2d, 0x67, 0xc7, 0x10, 0x7a, 0xd0, 0xd0, 0xdf, 0xea, 0xb6, 0x02,
    0x78, 0xfe, 0x6a, 0xdc,
];

/// The block after which a chain's anchors must be v1 contract calls to [`ANCHOR_CONTRACT`]
/// (js ethereum-anchor-validator.ts `BLOCK_THRESHHOLDS`; rs http.rs has the same table).
/// `None` for chains without a threshold.
pub fn v1_threshold(chain_id: &str) -> Option<u64> {
    match chain_id {
        "eip155:1" => Some(16_688_195),
        "eip155:3" => Some(1_000_000_000),
        "eip155:5" => Some(8_498_671),
        "eip155:100" => Some(26_509_835),
        "eip155:11155111" => Some(5_518_585),
        "eip155:1337" => Some(1),
        _ => None,
    }
}

/// The CID naming an Ethereum transaction: CIDv1, codec `eth-tx` (0x93), multihash keccak-256
/// (0x1b) over the 32-byte tx hash (cas anchor-service.ts `convertEthHashToCid`).
pub fn tx_hash_cid(eth_tx_hash: [u8; 32]) -> Cid {
    let hash =
        Multihash::<64>::wrap(KECCAK_256, &eth_tx_hash).expect("32 bytes fit a 64-byte multihash");
    Cid::new_v1(ETH_TX_CODEC, hash)
}

/// The 32-byte Ethereum tx hash a [`tx_hash_cid`] names.
///
/// # Errors
/// [`Error::NotEthTxHash`] for any other CID.
pub fn eth_tx_hash(cid: &Cid) -> Result<[u8; 32]> {
    let hash = cid.hash();
    if cid.version() != cid::Version::V1 || cid.codec() != ETH_TX_CODEC || hash.code() != KECCAK_256
    {
        return Err(Error::NotEthTxHash(Box::new(*cid)));
    }
    hash.digest().try_into().map_err(|_| Error::NotEthTxHash(Box::new(*cid)))
}

/// The sha2-256 digest of a dag-cbor sha2-256 CIDv1 (what a v1 anchor carries).
fn v1_digest(root: &Cid) -> Result<[u8; 32]> {
    let hash = root.hash();
    if root.version() != cid::Version::V1
        || root.codec() != Codec::DagCbor.code()
        || hash.code() != SHA2_256
    {
        return Err(Error::NotDagCborSha256(Box::new(*root)));
    }
    hash.digest().try_into().map_err(|_| Error::NotDagCborSha256(Box::new(*root)))
}

/// The calldata of a contract (v1) anchor: [`ANCHOR_SELECTOR`] then the 32-byte sha2-256 digest
/// of the root (`rootCid.bytes.slice(4)` in the CAS).
///
/// # Errors
/// [`Error::NotDagCborSha256`]: readers rebuild `CIDv1(dag-cbor, sha2-256(digest))`, so any
/// other root could not be recovered.
pub fn root_to_v1_calldata(root: &Cid) -> Result<[u8; 36]> {
    let digest = v1_digest(root)?;
    let mut out = [0; 36];
    out[..4].copy_from_slice(&ANCHOR_SELECTOR);
    out[4..].copy_from_slice(&digest);
    Ok(out)
}

/// The root a contract (v1) anchor's calldata carries: `CIDv1(dag-cbor, sha2-256(digest))`.
///
/// Stricter than rust-ceramic, which checks only the length: the selector must be
/// [`ANCHOR_SELECTOR`] (js-ceramic decodes the calldata with the contract's ABI, which checks it).
///
/// # Errors
/// [`Error::CalldataLength`] unless 36 bytes, [`Error::WrongSelector`].
pub fn root_from_v1_calldata(calldata: &[u8]) -> Result<Cid> {
    let calldata: &[u8; 36] = calldata
        .try_into()
        .map_err(|_| Error::CalldataLength { expected: 36, got: calldata.len() })?;
    let (selector, digest) = calldata.split_at(4);
    if selector != ANCHOR_SELECTOR {
        let mut got = [0; 4];
        got.copy_from_slice(selector);
        return Err(Error::WrongSelector(got));
    }
    let hash = Multihash::<64>::wrap(SHA2_256, digest).expect("32 bytes fit a 64-byte multihash");
    Ok(Cid::new_v1(Codec::DagCbor.code(), hash))
}

/// The first byte of v0 calldata: the hex text is `"0" + "f" + hex(cid bytes)`, the `0` padding
/// the odd-length base16 multibase string `f…` to whole bytes.
const V0_PREFIX: u8 = 0x0f;

/// The data of a legacy (v0) self-send anchor, as bytes: the CAS sends
/// `"0x" + rootCid.toString(base16)`, with a `0` added when that string has odd length — which it
/// always has (`f` and two hex digits per byte) — so the bytes are `0x0f` then the CID's bytes.
pub fn root_to_v0_calldata(root: &Cid) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + root.encoded_len());
    out.push(V0_PREFIX);
    root.write_bytes(&mut out).expect("writing to a Vec cannot fail");
    out
}

/// The data of a legacy (v0) anchor as the transaction shows it: `"0x0f01711220…"`.
pub fn root_to_v0_hex(root: &Cid) -> String {
    format!("0x{}", hex::encode(root_to_v0_calldata(root)))
}

/// The root a legacy (v0) anchor's data carries.
///
/// js-ceramic strips `^0x0?`, drops one more character (the multibase `f`) without looking at
/// it and decodes the rest; we require exactly the `0x0f` byte the CAS writes, and nothing after
/// the CID.
///
/// # Errors
/// [`Error::NotV0Calldata`], [`Error::Cid`], [`Error::TrailingBytes`].
pub fn root_from_v0_calldata(data: &[u8]) -> Result<Cid> {
    let Some((&V0_PREFIX, mut rest)) = data.split_first() else {
        return Err(Error::NotV0Calldata(data.first().copied()));
    };
    let cid = Cid::read_bytes(&mut rest)?;
    if !rest.is_empty() {
        return Err(Error::TrailingBytes(rest.len()));
    }
    Ok(cid)
}

/// [`root_from_v0_calldata`] of hex text, with or without its `0x`.
///
/// # Errors
/// [`Error::Hex`], and those of [`root_from_v0_calldata`].
pub fn root_from_v0_hex(data: &str) -> Result<Cid> {
    let digits = data.strip_prefix("0x").unwrap_or(data);
    root_from_v0_calldata(&hex::decode(digits)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ceramic_codecs::cid_of;

    /// rs:event-svc/src/blockchain/eth_rpc/http.rs tests (notes §2.6).
    const CALLDATA: &str =
        "97ad09ebd2d6207d396db6632c2b13f1aa69002af9e9d27cd36262a7061ae80bdbef1f09";
    const ROOT_BYTES: &str =
        "01711220d2d6207d396db6632c2b13f1aa69002af9e9d27cd36262a7061ae80bdbef1f09";

    #[test]
    fn v1_calldata_matches_rust_ceramic() {
        let calldata = hex::decode(CALLDATA).unwrap();
        let root = root_from_v1_calldata(&calldata).unwrap();
        assert_eq!(hex::encode(root.to_bytes()), ROOT_BYTES);
        assert_eq!(root_to_v1_calldata(&root).unwrap().as_slice(), calldata.as_slice());
    }

    #[test]
    fn v0_calldata_is_the_padded_base16_string() {
        let root = Cid::try_from(hex::decode(ROOT_BYTES).unwrap().as_slice()).unwrap();
        let text = root_to_v0_hex(&root);
        assert_eq!(text, format!("0x0f{ROOT_BYTES}"));
        // The same text built the CAS's way: "0x" + pad(base16 multibase string).
        let base16 = root.to_string_of_base(cid::multibase::Base::Base16Lower).unwrap();
        assert_eq!(base16.len() % 2, 1);
        assert_eq!(text, format!("0x0{base16}"));
        assert_eq!(root_from_v0_hex(&text).unwrap(), root);
        assert_eq!(root_from_v0_calldata(&root_to_v0_calldata(&root)).unwrap(), root);
    }

    #[test]
    fn rejects_bad_calldata() {
        let calldata = hex::decode(CALLDATA).unwrap();
        assert!(matches!(
            root_from_v1_calldata(&calldata[..35]),
            Err(Error::CalldataLength { expected: 36, got: 35 })
        ));
        let mut other = calldata.clone();
        other[0] = 0;
        assert!(matches!(root_from_v1_calldata(&other), Err(Error::WrongSelector(_))));
        let jose = cid_of(0x85, b"x");
        assert!(matches!(root_to_v1_calldata(&jose), Err(Error::NotDagCborSha256(_))));
        assert!(matches!(root_from_v0_calldata(&[]), Err(Error::NotV0Calldata(None))));
        let root = cid_of(0x71, b"x");
        let mut data = root_to_v0_calldata(&root);
        data.push(0);
        assert!(matches!(root_from_v0_calldata(&data), Err(Error::TrailingBytes(1))));
        data[0] = 0x1f;
        assert!(matches!(root_from_v0_calldata(&data), Err(Error::NotV0Calldata(Some(0x1f)))));
        assert!(matches!(root_from_v0_hex("0x0fzz"), Err(Error::Hex(_))));
    }

    #[test]
    fn tx_hash_cids_round_trip() {
        let hash = [7u8; 32];
        let cid = tx_hash_cid(hash);
        assert!(cid.to_string().starts_with("bagjqcgza"), "{cid}");
        assert_eq!(eth_tx_hash(&cid).unwrap(), hash);
        assert!(matches!(eth_tx_hash(&cid_of(0x93, b"x")), Err(Error::NotEthTxHash(_))));
        assert!(matches!(eth_tx_hash(&cid_of(0x71, b"x")), Err(Error::NotEthTxHash(_))));
    }

    #[test]
    fn contract_address_is_the_documented_one() {
        assert_eq!(
            format!("0x{}", hex::encode(ANCHOR_CONTRACT)),
            "0x231055A0852D67C7107Ad0d0DFeab60278fE6AdC".to_lowercase()
        );
        assert_eq!(v1_threshold("eip155:11155111"), Some(5_518_585));
        assert_eq!(v1_threshold("inmemory:12345"), None);
    }
}
