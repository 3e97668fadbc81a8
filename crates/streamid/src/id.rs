//! [`StreamId`], [`CommitId`] and [`StreamRef`]: bytes, strings and URLs.

use std::fmt;
use std::str::FromStr;

use cid::Cid;
use multibase::Base;

use crate::limits::{self, MAX_CID_TEXT_LEN, MAX_ID_BYTES, MAX_ID_TEXT_LEN, MAX_REF_TEXT_LEN};
use crate::reading::{cid as read_cid, varint, write_varint};
use crate::{Error, Result, STREAMID_CODEC, StreamType};

/// The immutable name of a stream: its type and the CID of its genesis commit.
///
/// A `StreamId` exists only if it is valid: the genesis CID is a CIDv1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId {
    stream_type: StreamType,
    cid: Cid,
}

/// The name of one version of a stream: a [`StreamId`] plus the CID of a commit in its log.
///
/// A commit equal to the genesis is normalised to the genesis marker (`0x00` in bytes), as
/// js-ceramic does, so two CommitIDs of the same version are always equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommitId {
    stream_id: StreamId,
    /// `None` is the genesis commit.
    commit: Option<Cid>,
}

/// Either kind of reference, for inputs that accept both (URLs, API paths).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamRef {
    /// A stream (its latest version).
    Stream(StreamId),
    /// One version of a stream.
    Commit(CommitId),
}

fn check_v1(cid: &Cid, field: &'static str) -> Result<()> {
    match cid.version() {
        cid::Version::V1 => Ok(()),
        cid::Version::V0 => Err(Error::UnsupportedCidVersion(0, field)),
    }
}

impl StreamId {
    /// The StreamID of the stream of `stream_type` whose genesis commit has `genesis` as CID
    /// (the dag-jose envelope CID for a signed genesis, the dag-cbor CID otherwise).
    ///
    /// # Errors
    /// [`Error::UnsupportedCidVersion`] for a CIDv0, whose bytes could not be parsed back.
    pub fn new(stream_type: StreamType, genesis: Cid) -> Result<Self> {
        check_v1(&genesis, "genesis CID")?;
        Ok(StreamId { stream_type, cid: genesis })
    }

    /// The stream type.
    pub fn stream_type(&self) -> StreamType {
        self.stream_type
    }

    /// The CID of the genesis commit.
    pub fn cid(&self) -> Cid {
        self.cid
    }

    /// The CommitID of `commit` in this stream (the genesis marker if `commit` is the genesis).
    ///
    /// # Errors
    /// [`Error::UnsupportedCidVersion`] for a CIDv0 commit.
    pub fn at_commit(&self, commit: Cid) -> Result<CommitId> {
        check_v1(&commit, "commit CID")?;
        Ok(CommitId { stream_id: *self, commit: (commit != self.cid).then_some(commit) })
    }

    /// The CommitID of the genesis commit.
    pub fn genesis_commit_id(&self) -> CommitId {
        CommitId { stream_id: *self, commit: None }
    }

    /// The binary form: `varint(0xce) varint(type) genesis-CID`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(40);
        self.write_bytes(&mut out);
        out
    }

    fn write_bytes(&self, out: &mut Vec<u8>) {
        write_varint(out, STREAMID_CODEC);
        write_varint(out, self.stream_type.code());
        // `Cid::write_bytes` into a Vec cannot fail.
        out.extend_from_slice(&self.cid.to_bytes());
    }

    /// Parses the binary form.
    ///
    /// # Errors
    /// Any [`Error`] describing the malformed field; [`Error::ExpectedStreamId`] for CommitID bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        match StreamRef::from_bytes(bytes)? {
            StreamRef::Stream(id) => Ok(id),
            StreamRef::Commit(_) => Err(Error::ExpectedStreamId),
        }
    }

    /// `ceramic://<id>`.
    pub fn to_url(&self) -> String {
        format!("ceramic://{self}")
    }
}

impl CommitId {
    /// The stream this commit belongs to.
    pub fn stream_id(&self) -> StreamId {
        self.stream_id
    }

    /// The stream type.
    pub fn stream_type(&self) -> StreamType {
        self.stream_id.stream_type
    }

    /// The commit's CID (the genesis CID for the genesis commit).
    pub fn commit(&self) -> Cid {
        self.commit.unwrap_or(self.stream_id.cid)
    }

    /// Whether this names the genesis commit.
    pub fn is_genesis(&self) -> bool {
        self.commit.is_none()
    }

    /// The binary form: the StreamID bytes followed by `00` (genesis) or the commit CID.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(80);
        self.stream_id.write_bytes(&mut out);
        match &self.commit {
            None => out.push(0),
            Some(commit) => out.extend_from_slice(&commit.to_bytes()),
        }
        out
    }

    /// Parses the binary form.
    ///
    /// # Errors
    /// Any [`Error`] describing the malformed field; [`Error::ExpectedCommitId`] for StreamID bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        match StreamRef::from_bytes(bytes)? {
            StreamRef::Commit(id) => Ok(id),
            StreamRef::Stream(_) => Err(Error::ExpectedCommitId),
        }
    }

    /// `ceramic://<id>`.
    pub fn to_url(&self) -> String {
        format!("ceramic://{self}")
    }
}

impl StreamRef {
    /// Parses StreamID or CommitID bytes: nothing after the genesis CID is a StreamID, exactly
    /// one `00` byte is the genesis CommitID, and anything else must be exactly one commit CID.
    ///
    /// # Errors
    /// [`Error::TooLong`] over [`MAX_ID_BYTES`] (checked first), else any [`Error`] describing
    /// the malformed field.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.is_empty() {
            return Err(Error::Empty);
        }
        limits::check("id bytes", bytes.len(), MAX_ID_BYTES)?;
        let (codec, rest) = varint(bytes, "multicodec")?;
        if codec != STREAMID_CODEC {
            return Err(Error::NotAStreamId(codec));
        }
        let (code, rest) = varint(rest, "stream type")?;
        let (genesis, rest) = read_cid(rest, "genesis CID")?;
        let stream_id = StreamId { stream_type: StreamType::new(code), cid: genesis };
        match rest {
            [] => Ok(StreamRef::Stream(stream_id)),
            [0] => Ok(StreamRef::Commit(stream_id.genesis_commit_id())),
            [0, more @ ..] => Err(Error::TrailingBytes(more.len())),
            _ => {
                let (commit, rest) = read_cid(rest, "commit CID")?;
                if !rest.is_empty() {
                    return Err(Error::TrailingBytes(rest.len()));
                }
                // Bytes that spell out the genesis CID as the commit are not canonical: the
                // canonical form is `00`. We accept them (as js-ceramic does) and normalise.
                Ok(StreamRef::Commit(stream_id.at_commit(commit)?))
            }
        }
    }

    /// The stream referred to.
    pub fn stream_id(&self) -> StreamId {
        match self {
            StreamRef::Stream(id) => *id,
            StreamRef::Commit(id) => id.stream_id,
        }
    }

    /// The binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            StreamRef::Stream(id) => id.to_bytes(),
            StreamRef::Commit(id) => id.to_bytes(),
        }
    }
}

/// Decodes the base36 text of one id (no URL parts). The length is checked first: base36
/// decoding is quadratic in the length, bounded here by [`MAX_ID_TEXT_LEN`].
fn decode_base36(text: &str, input: &str) -> Result<StreamRef> {
    if text.is_empty() {
        return Err(Error::Empty);
    }
    limits::check("id text", text.len(), MAX_ID_TEXT_LEN)?;
    if !text.starts_with('k') {
        return Err(Error::NotBase36(text.chars().take(200).collect()));
    }
    // The multibase crate decodes base36 case-insensitively; js-ceramic does not, and neither
    // do we: one id, one spelling (js-streamid.json "bad-uppercase-body").
    if !text.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()) {
        return Err(Error::invalid_string(input, "characters other than lower-case base36"));
    }
    let (base, bytes) =
        multibase::decode(text).map_err(|_| Error::NotBase36(text.chars().take(200).collect()))?;
    if base != Base::Base36Lower {
        return Err(Error::NotBase36(text.chars().take(200).collect()));
    }
    StreamRef::from_bytes(&bytes)
}

impl FromStr for StreamRef {
    type Err = Error;

    /// Accepts `<id>`, `ceramic://<id>` and `/ceramic/<id>`, each optionally followed by
    /// `?commit=<CID or 0>` (which turns a StreamID into a CommitID). `<id>` is base36 (`k…`).
    ///
    /// Input over [`MAX_REF_TEXT_LEN`], an id part over [`MAX_ID_TEXT_LEN`] or a commit over
    /// [`MAX_CID_TEXT_LEN`] is [`Error::TooLong`] before anything is decoded, so the work done
    /// is bounded whatever the input.
    fn from_str(input: &str) -> Result<Self> {
        if input.is_empty() {
            return Err(Error::Empty);
        }
        limits::check("stream reference", input.len(), MAX_REF_TEXT_LEN)?;
        let rest = input
            .strip_prefix("ceramic://")
            .or_else(|| input.strip_prefix("/ceramic/"))
            .unwrap_or(input);
        let (id, commit) = match rest.split_once('?') {
            None => (rest, None),
            Some((id, query)) => match query.strip_prefix("commit=") {
                Some(commit) => (id, Some(commit)),
                None => {
                    return Err(Error::invalid_string(input, "the only query allowed is ?commit="));
                }
            },
        };
        let parsed = decode_base36(id, input)?;
        let Some(commit) = commit else { return Ok(parsed) };
        let StreamRef::Stream(stream_id) = parsed else {
            return Err(Error::invalid_string(
                input,
                "?commit= after an id that is already a CommitID",
            ));
        };
        if commit == "0" {
            return Ok(StreamRef::Commit(stream_id.genesis_commit_id()));
        }
        limits::check("CID text", commit.len(), MAX_CID_TEXT_LEN)?;
        // js-ceramic parses the commit with `CID.parse`, which reads base32 (`b…`) and base58btc
        // (`z…`, `Qm…`) only (js-streamid.json "bad-query-commit-base36-cid").
        let base_ok =
            commit.starts_with('b') || commit.starts_with('z') || commit.starts_with("Qm");
        if !base_ok || !commit.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Error::InvalidCommit(commit.to_owned()));
        }
        let cid = Cid::try_from(commit).map_err(|_| Error::InvalidCommit(commit.to_owned()))?;
        Ok(StreamRef::Commit(stream_id.at_commit(cid)?))
    }
}

/// Parses a CID string (any multibase the `cid` crate reads, or a CIDv0 `Qm…`) after checking
/// that it is at most [`MAX_CID_TEXT_LEN`] long: the crates above parse every CID string from
/// the outside (request fields, pubsub messages) through this, never `Cid::try_from` directly,
/// whose base58 and base36 decoding is quadratic in the length of the text.
///
/// # Errors
/// [`Error::Empty`], [`Error::TooLong`], [`Error::InvalidCid`] (holding at most 200 characters
/// of the input).
pub fn cid_from_str(text: &str) -> Result<Cid> {
    if text.is_empty() {
        return Err(Error::Empty);
    }
    limits::check("CID text", text.len(), MAX_CID_TEXT_LEN)?;
    Cid::try_from(text).map_err(|_| Error::InvalidCid(text.chars().take(200).collect()))
}

impl FromStr for StreamId {
    type Err = Error;

    /// See [`StreamRef::from_str`]; a CommitID (or `?commit=`) is [`Error::ExpectedStreamId`].
    fn from_str(input: &str) -> Result<Self> {
        match input.parse::<StreamRef>()? {
            StreamRef::Stream(id) => Ok(id),
            StreamRef::Commit(_) => Err(Error::ExpectedStreamId),
        }
    }
}

impl FromStr for CommitId {
    type Err = Error;

    /// See [`StreamRef::from_str`]; a plain StreamID is [`Error::ExpectedCommitId`].
    fn from_str(input: &str) -> Result<Self> {
        match input.parse::<StreamRef>()? {
            StreamRef::Commit(id) => Ok(id),
            StreamRef::Stream(_) => Err(Error::ExpectedCommitId),
        }
    }
}

impl TryFrom<&[u8]> for StreamId {
    type Error = Error;
    fn try_from(bytes: &[u8]) -> Result<Self> {
        StreamId::from_bytes(bytes)
    }
}

impl TryFrom<&[u8]> for CommitId {
    type Error = Error;
    fn try_from(bytes: &[u8]) -> Result<Self> {
        CommitId::from_bytes(bytes)
    }
}

fn write_base36(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    f.write_str(&multibase::encode(Base::Base36Lower, bytes))
}

impl fmt::Display for StreamId {
    /// The base36 string (`k…`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_base36(f, &self.to_bytes())
    }
}

impl fmt::Display for CommitId {
    /// The base36 string (`k…`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_base36(f, &self.to_bytes())
    }
}

impl fmt::Display for StreamRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamRef::Stream(id) => id.fmt(f),
            StreamRef::Commit(id) => id.fmt(f),
        }
    }
}

macro_rules! serde_as_string {
    ($ty:ty) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(
                &self,
                s: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(
                d: D,
            ) -> std::result::Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
serde_as_string!(StreamId);
serde_as_string!(CommitId);
serde_as_string!(StreamRef);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MAX_CID_BYTES, MAX_STREAM_ID_BYTES};

    const TILE_ID: &str = "kjzl6cwe1jw147dvq16zluojmraqvwdmbh61dx9e0c59i344lcrsgqfohexp60s";
    const GENESIS: &str = "bagcqcerakszw2vsovxznyp5gfnpdj4cqm2xiv76yd24wkjewhhykovorwo6a";
    const COMMIT: &str = "bagjqcgzaday6dzalvmy5ady2m5a5legq5zrbsnlxfc2bfxej532ds7htpova";

    fn genesis() -> Cid {
        Cid::try_from(GENESIS).unwrap()
    }

    #[test]
    fn builds_the_public_cip59_vector() {
        let id = StreamId::new(StreamType::TILE, genesis()).unwrap();
        assert_eq!(id.to_string(), TILE_ID);
        assert_eq!(&id.to_bytes()[..5], &[0xce, 0x01, 0x00, 0x01, 0x85]);
    }

    #[test]
    fn normalises_a_commit_equal_to_the_genesis() {
        let id = StreamId::new(StreamType::TILE, genesis()).unwrap();
        let at = id.at_commit(genesis()).unwrap();
        assert!(at.is_genesis());
        assert_eq!(at.to_bytes().last(), Some(&0));
        // Bytes that spell the genesis CID out twice parse to the same normalised id.
        let mut long = id.to_bytes();
        long.extend_from_slice(&genesis().to_bytes());
        assert_eq!(CommitId::from_bytes(&long).unwrap(), at);
    }

    #[test]
    fn rejects_a_stream_id_where_a_commit_id_is_required_and_the_reverse() {
        let id: StreamId = TILE_ID.parse().unwrap();
        let commit = id.at_commit(Cid::try_from(COMMIT).unwrap()).unwrap();
        assert_eq!(CommitId::from_str(TILE_ID), Err(Error::ExpectedCommitId));
        assert_eq!(StreamId::from_str(&commit.to_string()), Err(Error::ExpectedStreamId));
        assert_eq!(CommitId::from_bytes(&id.to_bytes()), Err(Error::ExpectedCommitId));
        assert_eq!(StreamId::from_bytes(&commit.to_bytes()), Err(Error::ExpectedStreamId));
    }

    #[test]
    fn rejects_cid_v0() {
        let v0 = Cid::try_from("QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n").unwrap();
        assert_eq!(
            StreamId::new(StreamType::TILE, v0),
            Err(Error::UnsupportedCidVersion(0, "genesis CID"))
        );
    }

    #[test]
    fn rejects_junk_around_the_id() {
        for bad in [
            format!("{TILE_ID} "),
            format!("{TILE_ID}/path"),
            format!(" {TILE_ID}"),
            format!("{TILE_ID}?version=1"),
            format!("ceramic://{TILE_ID}?commit="),
            format!("ceramic://{TILE_ID}?commit=5"),
        ] {
            assert!(StreamRef::from_str(&bad).is_err(), "{bad:?} was accepted");
        }
    }

    /// The longest id there can be: 10-byte varints for the stream type, both codecs and both
    /// hash codes, and 64-byte digests.
    fn longest_commit_id() -> CommitId {
        let cid = |fill| {
            let hash = cid::multihash::Multihash::<64>::wrap(u64::MAX, &[fill; 64]).unwrap();
            Cid::new_v1(u64::MAX, hash)
        };
        StreamId::new(StreamType::new(u64::MAX), cid(0xff)).unwrap().at_commit(cid(0xfe)).unwrap()
    }

    #[test]
    fn the_longest_valid_ids_are_exactly_at_the_limits() {
        let id = longest_commit_id();
        assert_eq!(id.stream_id().to_bytes().len(), MAX_STREAM_ID_BYTES);
        assert_eq!(id.to_bytes().len(), MAX_ID_BYTES);
        assert_eq!(id.to_string().len(), MAX_ID_TEXT_LEN);
        assert_eq!(id.commit().to_bytes().len(), MAX_CID_BYTES);
        assert_eq!(id.commit().to_string().len(), MAX_CID_TEXT_LEN);
        // Each parses back, in every accepted form.
        assert_eq!(CommitId::from_bytes(&id.to_bytes()), Ok(id));
        assert_eq!(id.to_string().parse::<CommitId>(), Ok(id));
        let query = format!("ceramic://{}?commit={}", id.stream_id(), id.commit());
        assert!(query.len() <= MAX_REF_TEXT_LEN);
        assert_eq!(query.parse::<CommitId>(), Ok(id));
        assert_eq!(cid_from_str(&id.commit().to_string()), Ok(id.commit()));
    }

    #[test]
    fn refuses_a_1_mib_id_with_the_typed_error_before_decoding_it() {
        const MIB: usize = 1024 * 1024;
        // Valid base36 digits all along: before the limit this decoded for over a minute.
        let text = format!("k{}", "z".repeat(MIB - 1));
        let too_long = |field, len, max| Error::TooLong { field, len, max };
        assert_eq!(
            text.parse::<StreamRef>(),
            Err(too_long("stream reference", MIB, MAX_REF_TEXT_LEN))
        );
        assert_eq!(
            text.parse::<StreamId>(),
            Err(too_long("stream reference", MIB, MAX_REF_TEXT_LEN))
        );
        assert_eq!(
            text.parse::<CommitId>(),
            Err(too_long("stream reference", MIB, MAX_REF_TEXT_LEN))
        );
        let bytes = vec![0xce; MIB];
        assert_eq!(StreamRef::from_bytes(&bytes), Err(too_long("id bytes", MIB, MAX_ID_BYTES)));
        assert_eq!(StreamId::from_bytes(&bytes), Err(too_long("id bytes", MIB, MAX_ID_BYTES)));
        assert_eq!(CommitId::from_bytes(&bytes), Err(too_long("id bytes", MIB, MAX_ID_BYTES)));
        let cid = format!("z{}", "2".repeat(MIB - 1));
        assert_eq!(cid_from_str(&cid), Err(too_long("CID text", MIB, MAX_CID_TEXT_LEN)));
        let err = serde_json::from_value::<StreamId>(serde_json::Value::String(text)).unwrap_err();
        assert!(err.to_string().contains("longer than the 443"), "{err}");
    }

    #[test]
    fn refuses_one_character_or_byte_over_each_limit() {
        let id = longest_commit_id();
        let mut bytes = id.to_bytes();
        bytes.push(0);
        assert_eq!(
            StreamRef::from_bytes(&bytes),
            Err(Error::TooLong { field: "id bytes", len: MAX_ID_BYTES + 1, max: MAX_ID_BYTES })
        );
        let long_id = format!("{id}0");
        let too_long =
            Error::TooLong { field: "id text", len: MAX_ID_TEXT_LEN + 1, max: MAX_ID_TEXT_LEN };
        assert_eq!(long_id.parse::<StreamRef>(), Err(too_long.clone()));
        assert_eq!(format!("ceramic://{long_id}").parse::<StreamRef>(), Err(too_long));
        let long_cid = format!("{}a", id.commit());
        let query = format!("{}?commit={long_cid}", id.stream_id());
        let too_long =
            Error::TooLong { field: "CID text", len: MAX_CID_TEXT_LEN + 1, max: MAX_CID_TEXT_LEN };
        assert_eq!(query.parse::<StreamRef>(), Err(too_long.clone()));
        assert_eq!(cid_from_str(&long_cid), Err(too_long));
        let padded = format!("ceramic://{}", "k".repeat(MAX_REF_TEXT_LEN));
        assert!(matches!(
            padded.parse::<StreamRef>(),
            Err(Error::TooLong { field: "stream reference", .. })
        ));
    }

    #[test]
    fn cid_from_str_reads_what_the_cid_crate_reads() {
        assert_eq!(cid_from_str(GENESIS), Ok(genesis()));
        let v0 = "QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n";
        assert_eq!(cid_from_str(v0), Ok(Cid::try_from(v0).unwrap()));
        assert_eq!(cid_from_str(""), Err(Error::Empty));
        assert_eq!(cid_from_str("bnope"), Err(Error::InvalidCid("bnope".into())));
    }

    #[test]
    fn serde_uses_the_string_form() {
        let id: StreamId = TILE_ID.parse().unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{TILE_ID}\""));
        assert_eq!(serde_json::from_str::<StreamId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<CommitId>(&json).is_err());
    }
}
