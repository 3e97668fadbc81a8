//! Anchor requests as the service stores them ([`RequestRecord`], keyed by the commit CID) and
//! shows them (the CAS `CASResponse` JSON, [`RequestRecord::to_json`]).

use base64::Engine as _;
use ceramic_codecs::Cid;
use ceramic_streamid::StreamId;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A request's status, with the CAS database codes (cas:src/models/request.ts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// Waiting for a batch.
    Pending = 0,
    /// In a batch whose transaction is being sent or confirmed.
    Processing = 1,
    /// Anchored: the request has an anchor commit and a witness CAR.
    Completed = 2,
    /// Could not be anchored (its anchor commit could not be built).
    Failed = 3,
    /// Chosen for a batch (the CAS marks requests READY before processing them; this service
    /// goes from PENDING to PROCESSING in one step, so it never stores READY).
    Ready = 4,
    /// A newer request for the same stream superseded it before it was anchored.
    Replaced = 5,
}

impl Status {
    /// Every status, by code.
    pub const ALL: [Status; 6] = [
        Status::Pending,
        Status::Processing,
        Status::Completed,
        Status::Failed,
        Status::Ready,
        Status::Replaced,
    ];

    /// The CAS database code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The status with this code.
    pub fn from_code(code: u8) -> Option<Status> {
        Status::ALL.get(usize::from(code)).copied()
    }

    /// The name the CAS API shows (`PENDING`, …).
    pub fn name(self) -> &'static str {
        match self {
            Status::Pending => "PENDING",
            Status::Processing => "PROCESSING",
            Status::Completed => "COMPLETED",
            Status::Failed => "FAILED",
            Status::Ready => "READY",
            Status::Replaced => "REPLACED",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A stored anchor request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// The commit to anchor (the key: a request is unique on its CID).
    pub cid: Cid,
    /// The stream it belongs to.
    pub stream_id: StreamId,
    /// Its status.
    pub status: Status,
    /// A human-readable note ("Request is pending.", "Replaced by <cid>", …).
    pub message: String,
    /// The client's timestamp (unix ms): the newest request of a stream wins.
    pub timestamp: u64,
    /// When the service stored it (unix ms).
    pub created_at: u64,
    /// When its status last changed (unix ms).
    pub updated_at: u64,
    /// The anchor commit's CID, once COMPLETED.
    pub anchor_commit: Option<Cid>,
    /// The anchor commit's witness CAR, once COMPLETED.
    pub witness_car: Option<Vec<u8>>,
}

/// The stored form: dag-cbor of this struct, versioned.
#[derive(Serialize, Deserialize)]
struct Stored {
    v: u8,
    cid: Cid,
    #[serde(with = "serde_bytes")]
    stream_id: Vec<u8>,
    status: u8,
    message: String,
    timestamp: u64,
    created_at: u64,
    updated_at: u64,
    anchor_commit: Option<Cid>,
    witness_car: Option<serde_bytes::ByteBuf>,
}

const VERSION: u8 = 1;

impl RequestRecord {
    /// Encodes the record for the store (dag-cbor).
    pub fn encode(&self) -> Vec<u8> {
        let stored = Stored {
            v: VERSION,
            cid: self.cid,
            stream_id: self.stream_id.to_bytes(),
            status: self.status.code(),
            message: self.message.clone(),
            timestamp: self.timestamp,
            created_at: self.created_at,
            updated_at: self.updated_at,
            anchor_commit: self.anchor_commit,
            witness_car: self.witness_car.clone().map(serde_bytes::ByteBuf::from),
        };
        serde_ipld_dagcbor::to_vec(&stored).expect("a request record always encodes")
    }

    /// Decodes a stored record.
    ///
    /// # Errors
    /// [`Error::Corrupt`] naming `key` when the bytes are not a record of this version.
    pub fn decode(key: &[u8], bytes: &[u8]) -> Result<Self> {
        let stored: Stored = serde_ipld_dagcbor::from_slice(bytes)
            .map_err(|e| Error::corrupt("request record", key, e))?;
        if stored.v != VERSION {
            return Err(Error::corrupt("request record", key, format!("version {}", stored.v)));
        }
        let stream_id = StreamId::from_bytes(&stored.stream_id)
            .map_err(|e| Error::corrupt("request record", key, e))?;
        let status = Status::from_code(stored.status).ok_or_else(|| {
            Error::corrupt("request record", key, format!("status code {}", stored.status))
        })?;
        Ok(RequestRecord {
            cid: stored.cid,
            stream_id,
            status,
            message: stored.message,
            timestamp: stored.timestamp,
            created_at: stored.created_at,
            updated_at: stored.updated_at,
            anchor_commit: stored.anchor_commit,
            witness_car: stored.witness_car.map(serde_bytes::ByteBuf::into_vec),
        })
    }

    /// The CAS response body (js:packages/codecs/src/anchor.ts `CASResponse`):
    /// `{id, status, streamId, cid, message, createdAt, updatedAt, anchorCommit?: {cid},
    /// witnessCar?}`, the witness CAR in standard base64 without padding. `id` is the commit
    /// CID (the CAS uses a UUID; clients only echo it).
    pub fn to_json(&self) -> serde_json::Value {
        let mut body = serde_json::json!({
            "id": self.cid.to_string(),
            "status": self.status.name(),
            "streamId": self.stream_id.to_string(),
            "cid": self.cid.to_string(),
            "message": self.message,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        });
        if let Some(anchor) = self.anchor_commit {
            body["anchorCommit"] = serde_json::json!({ "cid": anchor.to_string() });
        }
        if let Some(car) = &self.witness_car {
            body["witnessCar"] =
                base64::engine::general_purpose::STANDARD_NO_PAD.encode(car).into();
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_the_cas_ones() {
        let names: Vec<_> = Status::ALL.iter().map(|s| (s.code(), s.name())).collect();
        assert_eq!(
            names,
            [
                (0, "PENDING"),
                (1, "PROCESSING"),
                (2, "COMPLETED"),
                (3, "FAILED"),
                (4, "READY"),
                (5, "REPLACED")
            ]
        );
        assert_eq!(Status::from_code(6), None);
        for status in Status::ALL {
            assert_eq!(Status::from_code(status.code()), Some(status));
        }
    }

    #[test]
    fn refuses_garbage_and_other_versions() {
        assert!(matches!(RequestRecord::decode(b"k", b"\xa0"), Err(Error::Corrupt { .. })));
        assert!(matches!(RequestRecord::decode(b"k", b""), Err(Error::Corrupt { .. })));
    }
}
