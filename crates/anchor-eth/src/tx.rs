//! EIP-1559 (type 2) transactions: RLP encoding, the signing hash, signing with `k256`, the
//! transaction hash, and Ethereum addresses of keys.
//!
//! Hand-written (about 120 lines with the RLP encoder) over `k256` and `sha3`, which the
//! workspace already builds, rather than `alloy-consensus` + `alloy-signer-local`: those bring
//! `alloy-primitives` (ruint, const-hex, a second k256 generation) for one transaction shape.
//! The encoding is checked three ways: a fixed vector, a property that decodes what we encode
//! and recovers the sender from the signature, and anvil itself, which returns the hash we
//! computed for every transaction the integration tests send.

use k256::ecdsa::{SigningKey, VerifyingKey};
use sha3::{Digest, Keccak256};

/// A 20-byte Ethereum address.
pub type Address = [u8; 20];

/// The EIP-2718 type byte of EIP-1559 transactions.
const EIP1559_TYPE: u8 = 0x02;

/// keccak-256 of `bytes`.
pub(crate) fn keccak256(bytes: &[u8]) -> [u8; 32] {
    Keccak256::digest(bytes).into()
}

/// The Ethereum address of a public key: the last 20 bytes of the keccak-256 of the
/// uncompressed point without its `0x04` tag.
pub fn address_of(key: &VerifyingKey) -> Address {
    let point = key.to_sec1_point(false);
    // An uncompressed SEC1 point is 0x04 || x || y (65 bytes).
    let hash = keccak256(point.as_bytes().get(1..).unwrap_or_default());
    let mut out = [0; 20];
    out.copy_from_slice(&hash[12..]);
    out
}

/// `0x` and the lower-case hex of `bytes` (addresses, hashes, calldata), as JSON-RPC writes them.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// An unsigned EIP-1559 transaction with an empty access list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Eip1559 {
    pub(crate) chain_id: u64,
    pub(crate) nonce: u64,
    pub(crate) max_priority_fee_per_gas: u128,
    pub(crate) max_fee_per_gas: u128,
    pub(crate) gas_limit: u64,
    /// `None` creates a contract.
    pub(crate) to: Option<Address>,
    pub(crate) value: u128,
    pub(crate) data: Vec<u8>,
}

/// A signed transaction as `eth_sendRawTransaction` takes it, and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Signed {
    pub(crate) raw: Vec<u8>,
    pub(crate) hash: [u8; 32],
}

impl Eip1559 {
    /// The RLP items of the unsigned fields, in order.
    fn fields(&self, out: &mut Vec<u8>) {
        rlp::uint(out, self.chain_id.into());
        rlp::uint(out, self.nonce.into());
        rlp::uint(out, self.max_priority_fee_per_gas);
        rlp::uint(out, self.max_fee_per_gas);
        rlp::uint(out, self.gas_limit.into());
        rlp::bytes(out, self.to.as_ref().map_or(&[][..], |to| &to[..]));
        rlp::uint(out, self.value);
        rlp::bytes(out, &self.data);
        rlp::list(out, &[]); // access list
    }

    /// The hash a sender signs: `keccak256(0x02 || rlp([chain_id, …, access_list]))`.
    pub(crate) fn signing_hash(&self) -> [u8; 32] {
        let mut fields = Vec::new();
        self.fields(&mut fields);
        let mut payload = vec![EIP1559_TYPE];
        rlp::list(&mut payload, &fields);
        keccak256(&payload)
    }

    /// Signs with `key`: `0x02 || rlp([…, y_parity, r, s])` (low `s`, as k256 signs).
    pub(crate) fn sign(&self, key: &SigningKey) -> Signed {
        let (signature, recovery) = key.sign_prehash_recoverable(&self.signing_hash());
        let (r, s) = signature.split_bytes();
        let mut fields = Vec::new();
        self.fields(&mut fields);
        rlp::uint(&mut fields, u128::from(recovery.is_y_odd()));
        rlp::uint_bytes(&mut fields, &r);
        rlp::uint_bytes(&mut fields, &s);
        let mut raw = vec![EIP1559_TYPE];
        rlp::list(&mut raw, &fields);
        let hash = keccak256(&raw);
        Signed { raw, hash }
    }
}

/// The RLP encoder (Ethereum yellow paper, appendix B): byte strings, lists and big-endian
/// integers without leading zeros.
pub(crate) mod rlp {
    /// The length header: `short + len` for up to 55 bytes, else `long + len(len)` then `len`.
    fn header(out: &mut Vec<u8>, short: u8, len: usize) {
        if len <= 55 {
            // Fits: len ≤ 55.
            out.push(short + len as u8);
        } else {
            let be = len.to_be_bytes();
            let skip = be.iter().take_while(|b| **b == 0).count();
            // At most 8 length bytes, and short + 55 + 8 ≤ 0xff for both headers.
            out.push(short + 55 + (be.len() - skip) as u8);
            out.extend_from_slice(&be[skip..]);
        }
    }

    /// A byte string.
    pub(crate) fn bytes(out: &mut Vec<u8>, bytes: &[u8]) {
        match bytes {
            [single] if *single < 0x80 => out.push(*single),
            _ => {
                header(out, 0x80, bytes.len());
                out.extend_from_slice(bytes);
            }
        }
    }

    /// An integer given as big-endian bytes: leading zeros dropped, zero is the empty string.
    pub(crate) fn uint_bytes(out: &mut Vec<u8>, be: &[u8]) {
        let skip = be.iter().take_while(|b| **b == 0).count();
        bytes(out, &be[skip..]);
    }

    /// An integer.
    pub(crate) fn uint(out: &mut Vec<u8>, value: u128) {
        uint_bytes(out, &value.to_be_bytes());
    }

    /// A list whose items are already encoded in `payload`.
    pub(crate) fn list(out: &mut Vec<u8>, payload: &[u8]) {
        header(out, 0xc0, payload.len());
        out.extend_from_slice(payload);
    }
}

#[cfg(test)]
pub(crate) mod decode {
    //! A strict RLP decoder, for tests: it reads back what [`super::rlp`] writes.

    /// An RLP item.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub(crate) enum Item {
        Bytes(Vec<u8>),
        List(Vec<Item>),
    }

    /// Reads one item filling all of `data`.
    pub(crate) fn item(data: &[u8]) -> Result<Item, String> {
        let (item, rest) = next(data)?;
        if rest.is_empty() { Ok(item) } else { Err(format!("{} trailing bytes", rest.len())) }
    }

    fn length(data: &[u8], n: usize) -> Result<(usize, &[u8]), String> {
        let (len, rest) = data.split_at_checked(n).ok_or("truncated length")?;
        if len.first() == Some(&0) {
            return Err("length with leading zero".into());
        }
        let mut value = 0usize;
        for b in len {
            value = value.checked_mul(256).ok_or("length overflows")? + usize::from(*b);
        }
        if value <= 55 {
            return Err("long form for a short length".into());
        }
        Ok((value, rest))
    }

    fn next(data: &[u8]) -> Result<(Item, &[u8]), String> {
        let (&first, rest) = data.split_first().ok_or("empty input")?;
        let (is_list, len, rest) = match first {
            0..=0x7f => return Ok((Item::Bytes(vec![first]), rest)),
            0x80..=0xb7 => (false, usize::from(first - 0x80), rest),
            0xb8..=0xbf => {
                let (len, rest) = length(rest, usize::from(first - 0xb7))?;
                (false, len, rest)
            }
            0xc0..=0xf7 => (true, usize::from(first - 0xc0), rest),
            0xf8..=0xff => {
                let (len, rest) = length(rest, usize::from(first - 0xf7))?;
                (true, len, rest)
            }
        };
        let (body, rest) = rest.split_at_checked(len).ok_or("truncated body")?;
        if !is_list {
            if let [single] = body
                && *single < 0x80
            {
                return Err("single byte below 0x80 written as a string".into());
            }
            return Ok((Item::Bytes(body.to_vec()), rest));
        }
        let mut items = Vec::new();
        let mut body = body;
        while !body.is_empty() {
            let (item, tail) = next(body)?;
            items.push(item);
            body = tail;
        }
        Ok((Item::List(items), rest))
    }
}

#[cfg(test)]
mod tests {
    use super::decode::{Item, item};
    use super::*;
    use k256::ecdsa::{RecoveryId, Signature};
    use proptest::prelude::*;

    /// anvil/hardhat account 0.
    const DEV_KEY: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

    fn dev_key() -> SigningKey {
        SigningKey::from_slice(&hex::decode(DEV_KEY).unwrap()).unwrap()
    }

    fn uint(item: &Item) -> u128 {
        let Item::Bytes(b) = item else { panic!("{item:?} is a list") };
        assert!(b.first() != Some(&0), "integer with a leading zero");
        b.iter().fold(0u128, |acc, x| (acc << 8) | u128::from(*x))
    }

    fn bytes(item: &Item) -> Vec<u8> {
        let Item::Bytes(b) = item else { panic!("{item:?} is a list") };
        b.clone()
    }

    /// Decodes a signed transaction, checks its hash and returns it with the signer's address.
    fn decode_signed(signed: &Signed) -> (Eip1559, Address) {
        assert_eq!(signed.raw.first(), Some(&EIP1559_TYPE));
        assert_eq!(signed.hash, keccak256(&signed.raw));
        let Item::List(fields) = item(&signed.raw[1..]).unwrap() else { panic!("not a list") };
        assert_eq!(fields.len(), 12);
        let to = bytes(&fields[5]);
        let tx = Eip1559 {
            chain_id: uint(&fields[0]).try_into().unwrap(),
            nonce: uint(&fields[1]).try_into().unwrap(),
            max_priority_fee_per_gas: uint(&fields[2]),
            max_fee_per_gas: uint(&fields[3]),
            gas_limit: uint(&fields[4]).try_into().unwrap(),
            to: if to.is_empty() { None } else { Some(to.try_into().unwrap()) },
            value: uint(&fields[6]),
            data: bytes(&fields[7]),
        };
        assert_eq!(fields[8], Item::List(vec![]));
        let y_odd = match uint(&fields[9]) {
            0 => false,
            1 => true,
            v => panic!("y parity {v}"),
        };
        let mut rs = [0u8; 64];
        let (r, s) = (bytes(&fields[10]), bytes(&fields[11]));
        rs[32 - r.len()..32].copy_from_slice(&r);
        rs[64 - s.len()..].copy_from_slice(&s);
        let signature = Signature::from_slice(&rs).unwrap();
        assert!(signature.normalize_s() == signature, "s is low");
        let key = VerifyingKey::recover_from_prehash(
            &tx.signing_hash(),
            &signature,
            RecoveryId::new(y_odd, false),
        )
        .unwrap();
        (tx, address_of(&key))
    }

    #[test]
    fn dev_key_has_the_well_known_address() {
        assert_eq!(
            to_hex(&address_of(dev_key().verifying_key())),
            "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
        );
    }

    #[test]
    fn rlp_matches_the_yellow_paper_examples() {
        let enc = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut out = Vec::new();
            f(&mut out);
            out
        };
        assert_eq!(enc(&|o| rlp::bytes(o, b"dog")), b"\x83dog");
        assert_eq!(enc(&|o| rlp::bytes(o, b"")), [0x80]);
        assert_eq!(enc(&|o| rlp::bytes(o, &[0x0f])), [0x0f]);
        assert_eq!(enc(&|o| rlp::bytes(o, &[0x80])), [0x81, 0x80]);
        assert_eq!(enc(&|o| rlp::uint(o, 0)), [0x80]);
        assert_eq!(enc(&|o| rlp::uint(o, 1024)), [0x82, 0x04, 0x00]);
        assert_eq!(enc(&|o| rlp::list(o, &[])), [0xc0]);
        let cat_dog = enc(&|o| {
            rlp::bytes(o, b"cat");
            rlp::bytes(o, b"dog");
        });
        assert_eq!(enc(&|o| rlp::list(o, &cat_dog)), b"\xc8\x83cat\x83dog");
        let long = [b'a'; 56];
        let encoded = enc(&|o| rlp::bytes(o, &long));
        assert_eq!(encoded[..2], [0xb8, 56]);
        assert_eq!(item(&encoded).unwrap(), Item::Bytes(long.to_vec()));
    }

    /// A transaction signed by the dev key decodes to its fields and recovers to the key's
    /// address (anvil accepting the same encoding is checked by the integration tests).
    #[test]
    fn signs_a_fixed_transaction_deterministically() {
        let tx = Eip1559 {
            chain_id: 1337,
            nonce: 0,
            max_priority_fee_per_gas: 1_000_000_000,
            max_fee_per_gas: 2_000_000_000,
            gas_limit: 30_000,
            to: Some(ceramic_anchor::ANCHOR_CONTRACT),
            value: 0,
            data: vec![0x97, 0xad, 0x09, 0xeb],
        };
        let signed = tx.sign(&dev_key());
        // RFC 6979 signatures are deterministic: signing again gives the same bytes.
        assert_eq!(tx.sign(&dev_key()), signed);
        let (decoded, from) = decode_signed(&signed);
        assert_eq!(decoded, tx);
        assert_eq!(from, address_of(dev_key().verifying_key()));
    }

    /// The two transactions anvil signed with the dev key for `eth_sendTransaction`
    /// (`testdata/anvil-rpc.json`): built from their fields and signed here, they have anvil's
    /// hash, `r`, `s` and `yParity` (RFC 6979 signatures are deterministic).
    #[test]
    fn matches_the_transactions_anvil_signed() {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/anvil-rpc.json"),
        )
        .unwrap();
        let file: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut seen = 0;
        for case in file["cases"].as_array().unwrap() {
            if case["expected"]["kind"] != "transaction" {
                continue;
            }
            let name = case["name"].as_str().unwrap();
            let body = case["input"]["body"].as_str().unwrap();
            let tx: serde_json::Value =
                serde_json::from_str::<serde_json::Value>(body).unwrap()["result"].clone();
            let q = |field: &str| crate::quantity(tx[field].as_str().unwrap(), 128).unwrap();
            let unsigned = Eip1559 {
                chain_id: q("chainId").try_into().unwrap(),
                nonce: q("nonce").try_into().unwrap(),
                max_priority_fee_per_gas: q("maxPriorityFeePerGas"),
                max_fee_per_gas: q("maxFeePerGas"),
                gas_limit: q("gas").try_into().unwrap(),
                to: Some(crate::data(tx["to"].as_str().unwrap()).unwrap().try_into().unwrap()),
                value: q("value"),
                data: crate::data(tx["input"].as_str().unwrap()).unwrap(),
            };
            let signed = unsigned.sign(&dev_key());
            assert_eq!(to_hex(&signed.hash), tx["hash"].as_str().unwrap(), "{name}");
            let (_, from) = decode_signed(&signed);
            assert_eq!(to_hex(&from), tx["from"].as_str().unwrap(), "{name}");
            let Item::List(fields) = item(&signed.raw[1..]).unwrap() else { panic!("{name}") };
            assert_eq!(uint(&fields[9]), q("yParity"), "{name}");
            for (i, field) in [(10, "r"), (11, "s")] {
                let ours = hex::encode(bytes(&fields[i]));
                let theirs = tx[field].as_str().unwrap().strip_prefix("0x").unwrap();
                assert_eq!(ours.trim_start_matches('0'), theirs, "{name}: {field}");
            }
            seen += 1;
        }
        assert_eq!(seen, 2);
    }

    fn arb_tx() -> impl Strategy<Value = Eip1559> {
        (
            (any::<u64>(), any::<u64>(), any::<u128>(), any::<u128>(), any::<u64>()),
            proptest::option::of(any::<Address>()),
            any::<u128>(),
            proptest::collection::vec(any::<u8>(), 0..300),
        )
            .prop_map(|((chain_id, nonce, tip, max, gas_limit), to, value, data)| {
                Eip1559 {
                    chain_id,
                    nonce,
                    max_priority_fee_per_gas: tip,
                    max_fee_per_gas: max,
                    gas_limit,
                    to,
                    value,
                    data,
                }
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn signed_transactions_decode_to_their_fields_and_signer(
            tx in arb_tx(),
            seed in any::<[u8; 32]>(),
        ) {
            let Ok(key) = SigningKey::from_slice(&seed) else { return Ok(()) };
            let signed = tx.sign(&key);
            let (decoded, from) = decode_signed(&signed);
            prop_assert_eq!(decoded, tx);
            prop_assert_eq!(from, address_of(key.verifying_key()));
        }

        #[test]
        fn rlp_byte_strings_round_trip(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut out = Vec::new();
            rlp::bytes(&mut out, &data);
            prop_assert_eq!(item(&out).unwrap(), Item::Bytes(data));
        }
    }
}
