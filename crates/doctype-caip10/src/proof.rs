//! Link proofs: the `data` of a CAIP-10 link commit, their validation (js
//! `blockchain-utils-validation` `validateLink`, eip155 EOA only) and their construction
//! (js `blockchain-utils-linking` `createLink` for an Ethereum EOA).

use std::collections::BTreeMap;

use ceramic_codecs::Ipld;
use k256::ecdsa::SigningKey;

use crate::eth::{eth_address, personal_sign, recover_address};
use crate::{AccountId, Error, Result};

/// The text an Ethereum wallet signs to link its account to `did` (js `getConsentMessage`):
/// `"Link this account to your identity\n\n" + did`, then `" \nTimestamp: " + timestamp` when
/// there is one.
pub fn consent_message(did: &str, timestamp: Option<u64>) -> String {
    let mut message = format!("Link this account to your identity\n\n{did}");
    if let Some(timestamp) = timestamp {
        message.push_str(&format!(" \nTimestamp: {timestamp}"));
    }
    message
}

/// `\s` of a JavaScript regular expression: ECMAScript WhiteSpace and LineTerminator. It differs
/// from [`char::is_whitespace`] (Unicode White_Space): JS counts U+FEFF and not U+0085.
fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202F}'
                | '\u{205F}'
                | '\u{3000}'
                | '\u{FEFF}'
    )
}

/// The DID a link message names: the first match of js `/(did:\S+:\S+)/` (`findDID`), or `None`
/// (an unlink message, `createLink('')`).
///
/// Hand-written rather than with `regex`, for this one pattern: a match starts at the first
/// `did:` whose following run of non-space characters holds a `:` with at least one character
/// on each side, and (the last `\S+` being greedy) runs to the end of that run.
pub fn find_did(message: &str) -> Option<&str> {
    let mut from = 0;
    while let Some(offset) = message.get(from..)?.find("did:") {
        let start = from + offset;
        let rest = message.get(start + 4..)?;
        let run_len = rest.find(is_js_whitespace).unwrap_or(rest.len());
        let run = rest.get(..run_len)?;
        // `\S+:\S+`: a colon that is neither the run's first nor its last character.
        let inner = run.char_indices().any(|(i, c)| c == ':' && i > 0 && i + 1 < run.len());
        if inner {
            return message.get(start..start + 4 + run_len);
        }
        from = start + 1;
    }
    None
}

/// A link proof (js `LinkProof`): a wallet's signature over a consent message naming a DID.
///
/// Fields are as the JS `blockchain-utils-linking` package writes them; fields it does not know
/// are ignored when reading, as js-ceramic ignores them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkProof {
    /// Proof format version: 2 for current proofs (account in CAIP-10 form); 1 or absent for
    /// older eip155 proofs, whose account comes from `address`/`chainId` or the signature.
    pub version: Option<u64>,
    /// The signed text; the DID is found in it with [`find_did`].
    pub message: String,
    /// The signature, encoded as its namespace does (eip155: `0x` + hex of `r || s || v`).
    pub signature: String,
    /// The account, CAIP-10 (`eip155:1:0x…`) or legacy (`0x…@eip155:1`).
    pub account: String,
    /// A DID field some writers add; ignored: the DID is the one in `message`.
    pub did: Option<String>,
    /// Unix seconds when the proof was made; the replay guard compares it.
    pub timestamp: Option<u64>,
    /// Version-1 eip155 proofs: the signing address.
    pub address: Option<String>,
    /// eip155: `"ethereum-eoa"` (or absent) for an externally owned account, `"erc1271"` for a
    /// contract wallet.
    pub kind: Option<String>,
    /// Version-1 eip155 proofs: the chain reference (a number or a string in JS; kept as text).
    pub chain_id: Option<String>,
}

/// A link proof whose signature was checked: the account it proves and the DID it links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedLink {
    account: AccountId,
    did: Option<String>,
    timestamp: Option<u64>,
}

impl VerifiedLink {
    /// The account that signed.
    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// The DID the message names, `None` for an unlink (no DID in the message).
    pub fn did(&self) -> Option<&str> {
        self.did.as_deref()
    }

    /// The proof's timestamp, if it has one.
    pub fn timestamp(&self) -> Option<u64> {
        self.timestamp
    }
}

type Fields = BTreeMap<String, Ipld>;

/// A field, treating an explicit null like absence (JS reads both as falsy / `undefined`-ish).
fn field<'a>(fields: &'a Fields, name: &str) -> Option<&'a Ipld> {
    fields.get(name).filter(|v| !matches!(v, Ipld::Null))
}

fn opt_string(fields: &Fields, name: &'static str) -> Result<Option<String>> {
    match field(fields, name) {
        None => Ok(None),
        Some(Ipld::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::ProofFieldType { field: name, expected: "a string" }),
    }
}

fn string(fields: &Fields, name: &'static str) -> Result<String> {
    opt_string(fields, name)?.ok_or(Error::MissingProofField(name))
}

fn opt_u64(fields: &Fields, name: &'static str) -> Result<Option<u64>> {
    match field(fields, name) {
        None => Ok(None),
        Some(Ipld::Integer(n)) => u64::try_from(*n)
            .map(Some)
            .map_err(|_| Error::ProofFieldType { field: name, expected: "a non-negative integer" }),
        Some(_) => Err(Error::ProofFieldType { field: name, expected: "a non-negative integer" }),
    }
}

impl LinkProof {
    /// Reads a proof from a data commit's `data`.
    ///
    /// # Errors
    /// [`Error::ProofNotAMap`], [`Error::MissingProofField`] (`message`, `signature`, `account`),
    /// [`Error::ProofFieldType`].
    pub fn from_ipld(data: &Ipld) -> Result<Self> {
        let Ipld::Map(fields) = data else { return Err(Error::ProofNotAMap) };
        let chain_id = match field(fields, "chainId") {
            None => None,
            Some(Ipld::String(s)) => Some(s.clone()),
            Some(Ipld::Integer(n)) => Some(n.to_string()),
            Some(_) => {
                return Err(Error::ProofFieldType {
                    field: "chainId",
                    expected: "a string or an integer",
                });
            }
        };
        Ok(LinkProof {
            version: opt_u64(fields, "version")?,
            message: string(fields, "message")?,
            signature: string(fields, "signature")?,
            account: string(fields, "account")?,
            did: opt_string(fields, "did")?,
            timestamp: opt_u64(fields, "timestamp")?,
            address: opt_string(fields, "address")?,
            kind: opt_string(fields, "type")?,
            chain_id,
        })
    }

    /// The proof as the commit's `data`.
    pub fn to_ipld(&self) -> Ipld {
        let mut map = Fields::new();
        let mut put = |k: &str, v: Ipld| {
            map.insert(k.to_owned(), v);
        };
        if let Some(v) = self.version {
            put("version", Ipld::Integer(v.into()));
        }
        put("message", Ipld::String(self.message.clone()));
        put("signature", Ipld::String(self.signature.clone()));
        put("account", Ipld::String(self.account.clone()));
        if let Some(did) = &self.did {
            put("did", Ipld::String(did.clone()));
        }
        if let Some(t) = self.timestamp {
            put("timestamp", Ipld::Integer(t.into()));
        }
        if let Some(a) = &self.address {
            put("address", Ipld::String(a.clone()));
        }
        if let Some(k) = &self.kind {
            put("type", Ipld::String(k.clone()));
        }
        if let Some(c) = &self.chain_id {
            put("chainId", Ipld::String(c.clone()));
        }
        Ipld::Map(map)
    }

    /// Makes a version-2 `ethereum-eoa` proof linking `key`'s address on chain
    /// `eip155:<chain_id>` to `did`, exactly as `EthereumAuthProvider.createLink` does (account
    /// lower-cased, consent message with the timestamp, `personal_sign` signature with `v` 27/28).
    ///
    /// For tests and tools; a real wallet signs in the browser. Pass an empty `did` to make an
    /// unlink proof (`clearDid`).
    pub fn sign_eoa(key: &SigningKey, did: &str, chain_id: u64, timestamp: u64) -> Self {
        let message = consent_message(did, Some(timestamp));
        LinkProof {
            version: Some(2),
            signature: personal_sign(key, &message),
            message,
            account: format!("eip155:{chain_id}:{}", eth_address(key.verifying_key())),
            did: None,
            timestamp: Some(timestamp),
            address: None,
            kind: Some("ethereum-eoa".to_owned()),
            chain_id: None,
        }
    }

    /// Checks the proof as js `validateLink` does, for eip155 externally owned accounts:
    /// recovers the `personal_sign` signer of `message` and requires it to be the proof's account.
    ///
    /// The account is the proof's `account` for version 2 (legacy or CAIP-10 form accepted). For
    /// older proofs the eip155 handler rebuilds it (js `toV2Proof`): version 1 from `address` and
    /// `chainId` (default `1`), other versions from the recovered address and `chainId`. The DID
    /// is the one in the message ([`find_did`]), not the proof's `did` field.
    ///
    /// # Errors
    /// [`Error::InvalidAccount`], [`Error::UnsupportedNamespace`] (a version ≥ 2 proof for a
    /// namespace other than eip155), [`Error::UnsupportedErc1271`], the signature errors of
    /// [`crate::recover_address`], [`Error::SignerMismatch`].
    pub fn verify(&self) -> Result<VerifiedLink> {
        let account: AccountId = self.account.parse()?;
        // js: proofs before version 2 are always eip155.
        if self.version.is_some_and(|v| v >= 2) && account.namespace() != "eip155" {
            return Err(Error::UnsupportedNamespace { namespace: account.namespace().to_owned() });
        }
        if self.kind.as_deref() == Some("erc1271") {
            return Err(Error::UnsupportedErc1271 { account: account.to_string() });
        }
        let recovered = recover_address(&self.message, &self.signature)?;
        let account = if self.version == Some(2) {
            account
        } else {
            // js `toV2Proof`: a falsy chainId (absent, 0, "") means mainnet.
            let reference = match self.chain_id.as_deref() {
                None | Some("" | "0") => "1",
                Some(reference) => reference,
            };
            let address = match self.version {
                Some(1) => self.address.as_deref().unwrap_or_default(),
                _ => &recovered,
            };
            AccountId::new("eip155", reference, address).map_err(|_| Error::InvalidAccount {
                account: format!("eip155:{reference}:{address}"),
            })?
        };
        // js compares the account's address with the lower-cased recovered one; checksummed
        // (mixed-case) addresses are the same account, so we compare case-insensitively.
        if !account.address().eq_ignore_ascii_case(&recovered) {
            return Err(Error::SignerMismatch { recovered, account: account.address().to_owned() });
        }
        Ok(VerifiedLink {
            account,
            did: find_did(&self.message).map(str::to_owned),
            timestamp: self.timestamp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_did_like_the_js_regex() {
        let cases = [
            ("Link this account to your identity\n\ndid:3:bafy \nTimestamp: 1", Some("did:3:bafy")),
            (
                "Link this account to your identity\n\ndid:3:bafysdfwefwe",
                Some("did:3:bafysdfwefwe"),
            ),
            ("Link this account to your identity\n\n \nTimestamp: 5", None),
            ("did:key:z6Mk#frag:x y", Some("did:key:z6Mk#frag:x")),
            ("did::x did:a:b", Some("did:a:b")),
            ("did:a::", Some("did:a::")),
            ("did:a: did:a:b", Some("did:a:b")),
            ("did:a did:b:c", Some("did:b:c")),
            ("xdid:pkh:eip155:1:0xab\u{A0}rest", Some("did:pkh:eip155:1:0xab")),
            ("did:a:b\u{FEFF}c", Some("did:a:b")),
            ("did:a:b\u{85}c", Some("did:a:b\u{85}c")),
            ("did:é:ü", Some("did:é:ü")),
            ("DID:a:b", None),
            ("did:", None),
            ("", None),
        ];
        for (message, expected) in cases {
            assert_eq!(find_did(message), expected, "{message:?}");
        }
    }

    #[test]
    fn consent_message_matches_js() {
        assert_eq!(
            consent_message("did:3:bafysdfwefwe", Some(1538352000)),
            "Link this account to your identity\n\ndid:3:bafysdfwefwe \nTimestamp: 1538352000"
        );
        assert_eq!(
            consent_message("did:3:bafysdfwefwe", None),
            "Link this account to your identity\n\ndid:3:bafysdfwefwe"
        );
    }

    /// js-ceramic `blockchain-utils-linking/src/__tests__/__snapshots__/ethereum.test.ts.snap`,
    /// `createLink 1` and `create ethereumEOA proof correctly 1` (ganache account
    /// 0x8fe2c4516e920425e177658aaac451ca0463ed69).
    #[test]
    fn verifies_the_js_snapshot_proofs() {
        let with_timestamp = LinkProof {
            version: Some(2),
            message: "Link this account to your identity\n\ndid:3:bafysdfwefwe \nTimestamp: 1538352000".into(),
            signature: "0x146cf11fa0472090d25b04d75c4159855c696549f2ae2ea47aea4aa89f8508a1234e3c2000622d9e3d02473bb77438d27d063024f82ec6326f1bcb6e5a3dc36b1b".into(),
            account: "eip155:1337:0x8fe2c4516e920425e177658aaac451ca0463ed69".into(),
            did: None,
            timestamp: Some(1538352000),
            address: None,
            kind: Some("ethereum-eoa".into()),
            chain_id: None,
        };
        let link = with_timestamp.verify().unwrap();
        assert_eq!(
            link.account().to_legacy(),
            "0x8fe2c4516e920425e177658aaac451ca0463ed69@eip155:1337"
        );
        assert_eq!(link.did(), Some("did:3:bafysdfwefwe"));
        assert_eq!(link.timestamp(), Some(1538352000));

        let without_timestamp = LinkProof {
            message: "Link this account to your identity\n\ndid:3:bafysdfwefwe".into(),
            signature: "0x39b83baea57e2e7ca49e904a145758d791086074cdc83d2824a65aef1a89ba397e20c32f9e60a6b1a232de3bd89b39537e3ef676ae750b1cd79266147a4312d01c".into(),
            account: "eip155:1:0x8fe2c4516e920425e177658aaac451ca0463ed69".into(),
            timestamp: None,
            ..with_timestamp.clone()
        };
        let link = without_timestamp.verify().unwrap();
        assert_eq!(link.account().chain_id(), "eip155:1");
        assert_eq!(link.timestamp(), None);

        // The same signature presented as the ERC-1271 contract's proof (the JS snapshot
        // `create erc1271 proof correctly 1`) needs chain access.
        let erc1271 = LinkProof {
            account: "eip155:1337:0xbe6c27620b271dd76f1787cdef1f4375cff3fa1f".into(),
            kind: Some("erc1271".into()),
            ..without_timestamp
        };
        assert!(matches!(erc1271.verify(), Err(Error::UnsupportedErc1271 { .. })));
    }

    #[test]
    fn reads_js_numbers_and_ignores_unknown_fields() {
        let key = SigningKey::from_slice(&[3; 32]).unwrap();
        let proof = LinkProof::sign_eoa(&key, "did:key:z6Mk", 5, 10);
        let Ipld::Map(mut map) = proof.to_ipld() else { unreachable!() };
        map.insert("extra".into(), Ipld::Bool(true));
        map.insert("chainId".into(), Ipld::Integer(5));
        map.insert("did".into(), Ipld::Null);
        let read = LinkProof::from_ipld(&Ipld::Map(map)).unwrap();
        assert_eq!(read.chain_id.as_deref(), Some("5"));
        assert_eq!(read.did, None);
    }
}
