//! dag-jose envelopes (codec 0x85): a JWS in general serialization whose payload is the CID of
//! the signed commit's dag-cbor block.
//!
//! Encoded as `{payload: bytes, signatures: [{protected?: bytes, header?: map, signature: bytes}]}`.
//! The protected header is kept as the exact bytes received: verifiers sign over them, and two
//! JSON texts of the same header are different signatures.

use std::collections::BTreeMap;

use cid::Cid;
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

use crate::dagcbor::present;
use crate::{Error, Ipld, Result, dagcbor};

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    /// The unprotected header (Ceramic never writes one).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present::deserialize"
    )]
    pub header: Option<BTreeMap<String, Ipld>>,
    /// The protected header: UTF-8 JSON bytes exactly as signed.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present::deserialize"
    )]
    pub protected: Option<ByteBuf>,
    /// The raw signature (64 bytes for EdDSA and ES256K).
    pub signature: ByteBuf,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvelope {
    payload: ByteBuf,
    signatures: Vec<Signature>,
}

/// A signed dag-jose envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    link: Cid,
    payload: Vec<u8>,
    signatures: Vec<Signature>,
}

impl Envelope {
    /// An envelope over the payload block `link` with these signatures.
    ///
    /// # Errors
    /// [`Error::NoSignatures`] for an empty list.
    pub fn new(link: Cid, signatures: Vec<Signature>) -> Result<Self> {
        if signatures.is_empty() {
            return Err(Error::NoSignatures);
        }
        Ok(Envelope { payload: link.to_bytes(), link, signatures })
    }

    /// Decodes a dag-jose block strictly: canonical dag-cbor, a payload that is exactly one CID,
    /// at least one signature, no JWE fields.
    ///
    /// # Errors
    /// [`Error::Decode`], [`Error::InvalidPayloadLink`], [`Error::NoSignatures`],
    /// [`Error::NonCanonical`], [`Error::BlockTooLarge`].
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let raw: RawEnvelope = dagcbor::decode(bytes, "dag-jose envelope")?;
        if raw.signatures.is_empty() {
            return Err(Error::NoSignatures);
        }
        let payload = raw.payload.into_vec();
        let link = Cid::try_from(payload.as_slice()).map_err(Error::InvalidPayloadLink)?;
        if link.to_bytes() != payload {
            return Err(Error::NonCanonical { what: "dag-jose payload CID" });
        }
        Ok(Envelope { link, payload, signatures: raw.signatures })
    }

    /// Encodes the envelope as a dag-jose block.
    ///
    /// # Errors
    /// See [`crate::encode`].
    pub fn encode(&self) -> Result<Vec<u8>> {
        dagcbor::encode(&RawEnvelope {
            payload: ByteBuf::from(self.payload.clone()),
            signatures: self.signatures.clone(),
        })
    }

    /// The CID of the signed payload block.
    pub fn link(&self) -> &Cid {
        &self.link
    }

    /// The JWS payload: the payload CID's bytes.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The signatures (never empty).
    pub fn signatures(&self) -> &[Signature] {
        &self.signatures
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Block, Codec};

    fn envelope() -> Envelope {
        let link = *Block::from_data(Codec::DagCbor, vec![0xa0]).unwrap().cid();
        let signature = Signature {
            header: None,
            protected: Some(ByteBuf::from(br#"{"alg":"EdDSA","kid":"did:key:z#z"}"#.to_vec())),
            signature: ByteBuf::from(vec![7; 64]),
        };
        Envelope::new(link, vec![signature]).unwrap()
    }

    #[test]
    fn round_trips() {
        let env = envelope();
        assert_eq!(Envelope::decode(&env.encode().unwrap()).unwrap(), env);
    }

    #[test]
    fn rejects_an_envelope_without_signatures() {
        let raw = RawEnvelope { payload: ByteBuf::from(envelope().payload), signatures: vec![] };
        let bytes = dagcbor::encode(&raw).unwrap();
        assert!(matches!(Envelope::decode(&bytes), Err(Error::NoSignatures)));
    }

    #[test]
    fn rejects_a_payload_that_is_not_one_cid() {
        let mut payload = envelope().payload;
        payload.push(0);
        let raw =
            RawEnvelope { payload: ByteBuf::from(payload), signatures: envelope().signatures };
        let bytes = dagcbor::encode(&raw).unwrap();
        assert!(Envelope::decode(&bytes).is_err());
    }

    #[test]
    fn rejects_jwe_fields() {
        let mut map = BTreeMap::new();
        map.insert("ciphertext".to_string(), Ipld::Bytes(vec![1]));
        map.insert("payload".to_string(), Ipld::Bytes(envelope().payload));
        map.insert("signatures".to_string(), Ipld::List(vec![]));
        let bytes = dagcbor::encode(&Ipld::Map(map)).unwrap();
        assert!(matches!(Envelope::decode(&bytes), Err(Error::Decode(_))));
    }
}
