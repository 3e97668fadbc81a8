//! [`EventId`]: the Recon key of an event, as ceramic-one builds it (rust-ceramic
//! `core/src/event_id.rs`), and [`Network`].
//!
//! ```text
//! varint(0xce) varint(0x05)                        ce01 05: a CIP-124 EventID
//! varint(network id)                               00 mainnet, 01 clay, 02 dev-unstable, ff01 in-memory
//! last 8 bytes of sha256(sep key ++ sep value)     sep key "model", sep value the model StreamID bytes
//! last 8 bytes of sha256(controller DID)
//! last 4 bytes of the init event CID's bytes
//! the event CID's bytes
//! ```
//!
//! The separator hash covers the key and the value with nothing between them (the "|" in
//! rust-ceramic's module comment is not in its code, whose vectors we reproduce). EventIDs sort
//! bytewise, so a network, then a model, then a controller, then a stream, is one contiguous
//! range.

use std::fmt;
use std::str::FromStr;

use cid::Cid;
use sha2::{Digest, Sha256};

use crate::EventIdError;

/// A Ceramic network, and its id in StreamIDs and EventIDs (CIPs `tables/networkIds.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Network {
    /// `mainnet`, id 0x00.
    Mainnet,
    /// `testnet-clay`, id 0x01.
    TestnetClay,
    /// `dev-unstable`, id 0x02.
    DevUnstable,
    /// `local-<n>`, id 0x1_0000_0000 + n.
    Local(u32),
    /// `inmemory`, id 0xff.
    InMemory,
}

impl Network {
    /// The network id.
    pub const fn id(self) -> u64 {
        match self {
            Network::Mainnet => 0x00,
            Network::TestnetClay => 0x01,
            Network::DevUnstable => 0x02,
            Network::InMemory => 0xff,
            Network::Local(n) => 0x1_0000_0000 + n as u64,
        }
    }

    /// The network of an id, if it is one.
    pub fn from_id(id: u64) -> Option<Self> {
        match id {
            0x00 => Some(Network::Mainnet),
            0x01 => Some(Network::TestnetClay),
            0x02 => Some(Network::DevUnstable),
            0xff => Some(Network::InMemory),
            _ => id
                .checked_sub(0x1_0000_0000)
                .and_then(|n| u32::try_from(n).ok())
                .map(Network::Local),
        }
    }

    /// The name ceramic-one reports (`GET /ceramic/config/network`).
    pub fn name(self) -> String {
        match self {
            Network::Mainnet => "mainnet".to_owned(),
            Network::TestnetClay => "testnet-clay".to_owned(),
            Network::DevUnstable => "dev-unstable".to_owned(),
            Network::Local(n) => format!("local-{n}"),
            Network::InMemory => "inmemory".to_owned(),
        }
    }
}

/// The EventID of an event: its key in Recon and its order in a node's store.
///
/// An `EventId` exists only if its bytes parse: the prefix, a network varint, the three hashes
/// and one canonical CIDv1 with nothing after it. Ordering is bytewise, as ceramic-one's.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(Vec<u8>);

/// Bytes of the separator, controller and stream hashes.
const HASHES: usize = 8 + 8 + 4;

impl EventId {
    /// The longest EventID accepted: prefix (3), network (9), hashes (20), a CID (1 + 9 + 9 +
    /// 1 + 64 bytes at most with a 64-byte digest).
    pub const MAX_LEN: usize = 3 + 9 + HASHES + ceramic_streamid::MAX_CID_BYTES;

    /// Builds the EventID of `event` in the stream started by `init`, with separator `sep_key`
    /// / `sep_value` (for Models and MIDs: `"model"` and the model StreamID's bytes) and
    /// controller `controller`, on `network`.
    pub fn new(
        network: Network,
        sep_key: &str,
        sep_value: &[u8],
        controller: &str,
        init: &Cid,
        event: &Cid,
    ) -> Self {
        let mut bytes = Vec::with_capacity(72);
        bytes.extend_from_slice(&[0xce, 0x01, 0x05]);
        let mut buf = unsigned_varint::encode::u64_buffer();
        bytes.extend_from_slice(unsigned_varint::encode::u64(network.id(), &mut buf));
        let mut sep = Sha256::new();
        sep.update(sep_key.as_bytes());
        sep.update(sep_value);
        bytes.extend_from_slice(&sep.finalize()[24..]);
        bytes.extend_from_slice(&Sha256::digest(controller.as_bytes())[24..]);
        let init = init.to_bytes();
        bytes.extend_from_slice(&init[init.len().saturating_sub(4)..]);
        bytes.extend_from_slice(&event.to_bytes());
        EventId(bytes)
    }

    /// Parses EventID bytes strictly.
    ///
    /// # Errors
    /// [`EventIdError`] naming the part that is wrong.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, EventIdError> {
        Self::parts(bytes)?;
        Ok(EventId(bytes.to_vec()))
    }

    fn parts(bytes: &[u8]) -> Result<(u64, &[u8], Cid), EventIdError> {
        if bytes.len() > Self::MAX_LEN {
            return Err(EventIdError::TooLong { len: bytes.len(), max: Self::MAX_LEN });
        }
        let rest = bytes.strip_prefix(&[0xce, 0x01, 0x05]).ok_or(EventIdError::Prefix)?;
        let (network, rest) =
            unsigned_varint::decode::u64(rest).map_err(|_| EventIdError::Network)?;
        let hashes = rest.get(..HASHES).ok_or(EventIdError::Truncated("hashes"))?;
        let cid_bytes = &rest[HASHES..];
        let mut reader = cid_bytes;
        let cid = Cid::read_bytes(&mut reader).map_err(|_| EventIdError::Cid)?;
        if !reader.is_empty() || cid.version() != cid::Version::V1 || cid.to_bytes() != cid_bytes {
            return Err(EventIdError::Cid);
        }
        Ok((network, hashes, cid))
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes, owned.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.clone()
    }

    fn valid_parts(&self) -> (u64, &[u8], Cid) {
        Self::parts(&self.0).expect("an EventId holds only bytes that parsed")
    }

    /// The network id.
    pub fn network_id(&self) -> u64 {
        self.valid_parts().0
    }

    /// The separator hash (8 bytes).
    pub fn separator(&self) -> &[u8] {
        &self.valid_parts().1[..8]
    }

    /// The controller hash (8 bytes).
    pub fn controller(&self) -> &[u8] {
        &self.valid_parts().1[8..16]
    }

    /// The last 4 bytes of the init event CID.
    pub fn stream(&self) -> &[u8] {
        &self.valid_parts().1[16..20]
    }

    /// The event CID.
    pub fn cid(&self) -> Cid {
        self.valid_parts().2
    }

    /// Upper-case hex, as ceramic-one's `Display` writes it.
    pub fn to_hex(&self) -> String {
        hex::encode_upper(&self.0)
    }

    /// Multibase base16 (`f` + lower-case hex), a form the `/ceramic` API's
    /// `GET /events/{id}` decodes.
    pub fn to_multibase(&self) -> String {
        format!("f{}", hex::encode(&self.0))
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventId({})", self.to_hex())
    }
}

/// Upper-case hex (ceramic-one's `Display`).
impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Parses bare hex (either case; every EventID starts `ce01`) or any multibase text.
impl FromStr for EventId {
    type Err = EventIdError;
    fn from_str(text: &str) -> Result<Self, EventIdError> {
        if text.len() > 2 * Self::MAX_LEN + 1 {
            return Err(EventIdError::TooLong { len: text.len() / 2, max: Self::MAX_LEN });
        }
        let bytes = if text.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("ce01")) {
            hex::decode(text).map_err(|_| EventIdError::Text)?
        } else {
            multibase::decode(text).map_err(|_| EventIdError::Text)?.1
        };
        Self::from_bytes(&bytes)
    }
}

impl TryFrom<Vec<u8>> for EventId {
    type Error = EventIdError;
    fn try_from(bytes: Vec<u8>) -> Result<Self, EventIdError> {
        Self::parts(&bytes)?;
        Ok(EventId(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // rust-ceramic core/src/event_id.rs `blessing`: the same inputs on five networks.
    const MODEL: &str = "kh4q0ozorrgaq2mezktnrmdwleo1d";
    const CONTROLLER: &str = "did:key:z6MkgSV3tAuw7gUWqKCUY7ae6uWNxqYgdwPhUJbJhF9EFXm9";
    const INIT: &str = "bagcqceraplay4erv6l32qrki522uhiz7rf46xccwniw7ypmvs3cvu2b3oulq";
    const EVENT: &str = "bafyreihu557meceujusxajkaro3epfe6nnzjgbjaxsapgtml7ox5ezb5qy";
    const TAIL: &str = "ba25076d730241e745cc7c072ff729ea683b751701711220f4ef7ec208944d257025408bb647949e6b72930520bc80f34d8bfbafd2643d86";

    fn blessed(network: Network) -> EventId {
        let model = multibase::decode(MODEL).unwrap().1;
        EventId::new(
            network,
            "model",
            &model,
            CONTROLLER,
            &INIT.parse().unwrap(),
            &EVENT.parse().unwrap(),
        )
    }

    #[test]
    fn matches_rust_ceramic_vectors_on_every_network() {
        for (network, prefix) in [
            (Network::Mainnet, "fce010500"),
            (Network::TestnetClay, "fce010501"),
            (Network::DevUnstable, "fce010502"),
            (Network::InMemory, "fce0105ff01"),
            (Network::Local(0xce4a441c), "fce01059c88a9f21c"),
        ] {
            assert_eq!(blessed(network).to_multibase(), format!("{prefix}{TAIL}"), "{network:?}");
        }
    }

    #[test]
    fn exposes_its_parts() {
        let id = blessed(Network::TestnetClay);
        assert_eq!(id.network_id(), 1);
        assert_eq!(hex::encode(id.separator()), "ba25076d730241e7");
        assert_eq!(hex::encode(id.controller()), "45cc7c072ff729ea");
        assert_eq!(hex::encode(id.stream()), "683b7517");
        assert_eq!(id.cid().to_string(), EVENT);
        assert_eq!(Network::from_id(id.network_id()), Some(Network::TestnetClay));
    }

    #[test]
    fn parses_every_text_form() {
        let id = blessed(Network::Mainnet);
        for text in [id.to_hex(), id.to_hex().to_lowercase(), id.to_multibase()] {
            assert_eq!(text.parse::<EventId>().unwrap(), id, "{text}");
        }
    }

    #[test]
    fn rejects_malformed_bytes() {
        let good = blessed(Network::Mainnet).to_bytes();
        assert_eq!(EventId::from_bytes(&good[..2]), Err(EventIdError::Prefix));
        assert_eq!(EventId::from_bytes(&good[..10]), Err(EventIdError::Truncated("hashes")));
        assert_eq!(EventId::from_bytes(&good[..good.len() - 1]), Err(EventIdError::Cid));
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(EventId::from_bytes(&trailing), Err(EventIdError::Cid));
        let mut other = good.clone();
        other[2] = 0x06;
        assert_eq!(EventId::from_bytes(&other), Err(EventIdError::Prefix));
        assert!(matches!(EventId::from_bytes(&[0xce; 200]), Err(EventIdError::TooLong { .. })));
    }

    #[test]
    fn network_ids_round_trip() {
        for n in [
            Network::Mainnet,
            Network::TestnetClay,
            Network::DevUnstable,
            Network::InMemory,
            Network::Local(0),
            Network::Local(u32::MAX),
        ] {
            assert_eq!(Network::from_id(n.id()), Some(n));
        }
        assert_eq!(Network::from_id(3), None);
    }
}
