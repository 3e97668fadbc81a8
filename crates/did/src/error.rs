//! Errors of DID parsing, resolution, signing and verification.

/// Why a DID, a JWS or a signed commit was rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The string is not a `did:<method>:<id>`.
    #[error("not a DID: {0:?}")]
    NotADid(String),
    /// No resolver is registered for this DID method.
    #[error("no resolver for the DID method {0:?}")]
    UnsupportedMethod(String),
    /// The did:key identifier is not `z` + base58btc.
    #[error("did:key identifier is not base58btc multibase: {0:?}")]
    InvalidMultibase(String),
    /// The did:key is longer than any key type we support can be ([`crate::MAX_DID_KEY_LEN`]);
    /// refused before its base58 (quadratic in the length) is decoded.
    #[error("did:key of {len} bytes is longer than the {max} a supported key can have")]
    DidKeyTooLong {
        /// Its length in bytes.
        len: usize,
        /// The longest allowed.
        max: usize,
    },
    /// The did:key multicodec is not a key type we support.
    #[error("unsupported did:key key type (multicodec {0:#x})")]
    UnsupportedKeyType(u64),
    /// The key bytes are not a valid key of their type.
    #[error("invalid {key_type} public key ({len} bytes)")]
    InvalidKey {
        /// The key type.
        key_type: &'static str,
        /// The length of the bytes given.
        len: usize,
    },
    /// A seed or secret key that is not 32 bytes, or not a valid scalar.
    #[error("invalid secret key seed")]
    InvalidSeed,
    /// The operating system's random number generator failed.
    #[error("random number generator failed")]
    Random,
    /// The protected header is not valid base64url / UTF-8 JSON with string `alg` and `kid`.
    #[error("invalid JWS protected header: {0}")]
    InvalidHeader(&'static str),
    /// A JWS part is not valid unpadded base64url.
    #[error("invalid base64url in the JWS {0}")]
    InvalidBase64(&'static str),
    /// The JWS algorithm is not EdDSA or ES256K.
    #[error("unsupported JWS algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// The header's `alg` does not fit the signer's key type.
    #[error("algorithm {alg} does not match the {key_type} key of {kid}")]
    AlgorithmMismatch {
        /// The header's algorithm.
        alg: String,
        /// The key type of the verification method.
        key_type: &'static str,
        /// The key id.
        kid: String,
    },
    /// No verification method of the DID document verifies the signature.
    #[error("signature does not verify against any key of {kid}")]
    BadSignature {
        /// The key id the header named.
        kid: String,
    },
    /// The envelope has more than one signature (Ceramic commits carry exactly one).
    #[error("expected exactly one signature, found {0}")]
    SignatureCount(usize),
    /// A CACAO, or a commit signed under one, was refused.
    #[error(transparent)]
    Cacao(#[from] crate::cacao::CacaoError),
    /// A did:3 (3ID) resolution or key-rotation error.
    #[error(transparent)]
    ThreeId(#[from] crate::three_id::ThreeIdError),
    /// A codec error (envelope or payload block).
    #[error(transparent)]
    Codec(#[from] ceramic_codecs::Error),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
