//! CAIP-10 account ids, in the current form `namespace:reference:address` and the legacy form
//! `address@namespace:reference` that CAIP-10 link streams use as their controller, and the
//! genesis commit of an account's link stream (`Caip10Link.makeGenesis`).

use std::fmt;
use std::str::FromStr;

use ceramic_codecs::{GenesisCommit, Header};

use crate::{Error, Result};

/// A parsed CAIP-10 account id: a CAIP-2 chain (`namespace:reference`) and an address.
///
/// Parsing checks the CAIP-2/CAIP-10 character sets (namespace `[-a-z0-9]{3,8}`, reference
/// `[-_a-zA-Z0-9]{1,32}`, address `[-.%a-zA-Z0-9]{1,128}`), like the `caip` package. The address
/// keeps its case; see [`AccountId::normalized`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountId {
    namespace: String,
    reference: String,
    address: String,
}

fn is_namespace(s: &str) -> bool {
    (3..=8).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_reference(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_address(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'%'))
}

impl AccountId {
    /// An account from its parts.
    ///
    /// # Errors
    /// [`Error::InvalidAccount`] when a part breaks the CAIP-2/CAIP-10 character rules.
    pub fn new(namespace: &str, reference: &str, address: &str) -> Result<Self> {
        if !(is_namespace(namespace) && is_reference(reference) && is_address(address)) {
            return Err(Error::InvalidAccount {
                account: format!("{namespace}:{reference}:{address}"),
            });
        }
        Ok(AccountId {
            namespace: namespace.to_owned(),
            reference: reference.to_owned(),
            address: address.to_owned(),
        })
    }

    /// Parses the legacy form `address@namespace:reference` only (a link stream's controller).
    ///
    /// # Errors
    /// [`Error::InvalidAccount`].
    pub fn from_legacy(account: &str) -> Result<Self> {
        let invalid = || Error::InvalidAccount { account: account.to_owned() };
        let (address, chain) = account.split_once('@').ok_or_else(invalid)?;
        let (namespace, reference) = chain.split_once(':').ok_or_else(invalid)?;
        Self::new(namespace, reference, address).map_err(|_| invalid())
    }

    /// Parses the CAIP-10 form `namespace:reference:address` only.
    ///
    /// # Errors
    /// [`Error::InvalidAccount`].
    pub fn from_caip10(account: &str) -> Result<Self> {
        let invalid = || Error::InvalidAccount { account: account.to_owned() };
        let mut parts = account.split(':');
        let (Some(namespace), Some(reference), Some(address), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        Self::new(namespace, reference, address).map_err(|_| invalid())
    }

    /// The CAIP-2 namespace, e.g. `eip155`.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The CAIP-2 reference, e.g. `1` for Ethereum mainnet.
    pub fn reference(&self) -> &str {
        &self.reference
    }

    /// The CAIP-2 chain id `namespace:reference`.
    pub fn chain_id(&self) -> String {
        format!("{}:{}", self.namespace, self.reference)
    }

    /// The address as written.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The same account with an eip155 address lower-cased (Ethereum addresses appear both
    /// checksummed and lower-case; `Caip10Link.makeGenesis` lower-cases them). Other namespaces
    /// keep their case: their addresses may be case-sensitive (base58).
    pub fn normalized(&self) -> Self {
        let mut out = self.clone();
        if out.namespace == "eip155" {
            out.address.make_ascii_lowercase();
        }
        out
    }

    /// The legacy form `address@namespace:reference`.
    pub fn to_legacy(&self) -> String {
        format!("{}@{}:{}", self.address, self.namespace, self.reference)
    }
}

/// Parses either form: legacy `address@namespace:reference` if it has an `@`, CAIP-10
/// `namespace:reference:address` otherwise (js `normalizeAccountId`).
impl FromStr for AccountId {
    type Err = Error;

    fn from_str(account: &str) -> Result<Self> {
        if account.contains('@') { Self::from_legacy(account) } else { Self::from_caip10(account) }
    }
}

/// The CAIP-10 form `namespace:reference:address`.
impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.namespace, self.reference, self.address)
    }
}

/// The genesis commit of `account`'s link stream, as `Caip10Link.makeGenesis` makes it: unsigned,
/// no data, `controllers: ["<address>@<chain>"]`, `family: "caip10-<chain>"`, with eip155
/// addresses lower-cased. Anyone can recompute it, and so the StreamID, from the account.
///
/// `account` may be CAIP-10 or legacy.
///
/// # Errors
/// [`Error::InvalidAccount`].
pub fn genesis_for_account(account: &str) -> Result<GenesisCommit> {
    let account = account.parse::<AccountId>()?.normalized();
    Ok(GenesisCommit {
        header: Header {
            controllers: Some(vec![account.to_legacy()]),
            family: Some(format!("caip10-{}", account.chain_id())),
            ..Header::default()
        },
        data: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms() {
        let caip: AccountId = "eip155:1:0xAbC".parse().unwrap();
        let legacy: AccountId = "0xAbC@eip155:1".parse().unwrap();
        assert_eq!(caip, legacy);
        assert_eq!(caip.to_string(), "eip155:1:0xAbC");
        assert_eq!(caip.to_legacy(), "0xAbC@eip155:1");
        assert_eq!(caip.normalized().address(), "0xabc");
        assert_eq!(caip.chain_id(), "eip155:1");
        let cosmos: AccountId = "cosmos:cosmoshub-3:Cosmos1X".parse().unwrap();
        assert_eq!(cosmos.normalized().address(), "Cosmos1X");
    }

    #[test]
    fn rejects_malformed_accounts() {
        for bad in [
            "",
            "eip155:1",
            "eip155:1:",
            ":1:0xabc",
            "eip155:1:0xabc:extra",
            "@eip155:1",
            "0xabc@",
            "0xabc@eip155",
            "0xabc@eip155:1@x",
            "EIP155:1:0xabc",
            "ei:1:0xabc",
            "eip155:1:0x abc",
            "eip155:1:did:key",
        ] {
            assert!(bad.parse::<AccountId>().is_err(), "{bad:?}");
        }
    }

    /// `crates/did/testdata/js-unsigned.json`, made by `Caip10Link.makeGenesis` in
    /// `@ceramicnetwork/stream-caip10-link` 6.4.0 (see the file's `source`).
    #[test]
    fn genesis_matches_the_js_vectors() {
        use ceramic_codecs::{Block, Codec};
        use ceramic_streamid::{StreamId, StreamType};

        let vectors: serde_json::Value =
            serde_json::from_str(include_str!("../../did/testdata/js-unsigned.json")).unwrap();
        let mut seen = 0;
        for case in vectors["cases"].as_array().unwrap() {
            if case["input"]["kind"] != "caip10-link" {
                continue;
            }
            let name = case["name"].as_str().unwrap();
            let expected = &case["expected"];
            let genesis = genesis_for_account(case["input"]["account"].as_str().unwrap()).unwrap();
            let block = Block::encode(Codec::DagCbor, &genesis).unwrap();
            assert_eq!(hex::encode(block.data()), expected["payload_hex"], "{name}: bytes");
            assert_eq!(block.cid().to_string(), expected["payload_cid"], "{name}: CID");
            let stream = StreamId::new(StreamType::CAIP10_LINK, *block.cid()).unwrap();
            assert_eq!(stream.to_string(), expected["stream_id"], "{name}: StreamID");
            seen += 1;
        }
        assert!(seen >= 5, "expected the caip10 cases, found {seen}");
        // The case the brief names explicitly.
        let genesis =
            genesis_for_account("eip155:1:0x8fe2C4516e920425e177658aaaC451ca0463ED69").unwrap();
        let cid = *Block::encode(Codec::DagCbor, &genesis).unwrap().cid();
        assert_eq!(
            StreamId::new(StreamType::CAIP10_LINK, cid).unwrap().to_string(),
            "k2t6wyse1ukye5hek3xb581e6hve1w2yi4svwijuf5serlo2ix6ddq9jnhx36i"
        );
    }
}
