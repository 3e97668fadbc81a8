//! Errors of connecting to a chain and of its JSON-RPC answers.

/// What went wrong connecting to an Ethereum chain or configuring it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The RPC serves another chain than the one configured.
    #[error("the RPC serves chain eip155:{got}, configured for eip155:{expected}")]
    ChainIdMismatch {
        /// The configured chain id.
        expected: u64,
        /// What `eth_chainId` answered.
        got: u64,
    },
    /// A private key that is not 32 bytes of hex (with or without `0x`) or not a valid
    /// secp256k1 scalar.
    #[error("invalid private key: {0}")]
    InvalidKey(&'static str),
    /// An address that is not `0x` and 40 hex digits.
    #[error("invalid address {0:?}")]
    InvalidAddress(String),
    /// The RPC could not be reached or gave an unusable answer.
    #[error(transparent)]
    Rpc(#[from] RpcError),
}

/// The result of this crate's fallible functions.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A JSON-RPC call that failed: transport, envelope, the node's own error, or a field of its
/// answer that is not what Ethereum's JSON-RPC specification says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RpcError {
    /// The HTTP request failed (connection, TLS, timeout, HTTP status, body too large).
    #[error("{method}: {reason}")]
    Transport {
        /// The JSON-RPC method.
        method: String,
        /// What the HTTP client saw.
        reason: String,
    },
    /// The body is not JSON.
    #[error("the response is not JSON: {0}")]
    NotJson(String),
    /// The body is JSON but not a JSON-RPC response object with `result` or `error`.
    #[error("the response is not a JSON-RPC response: {0}")]
    Envelope(&'static str),
    /// The response answers another request id.
    #[error("the response has id {got}, the request had {expected}")]
    IdMismatch {
        /// The request's id.
        expected: u64,
        /// The response's id, as JSON text.
        got: String,
    },
    /// The node answered with a JSON-RPC error.
    #[error("{method} failed: {message} (code {code})")]
    Remote {
        /// The JSON-RPC method.
        method: String,
        /// The error code.
        code: i64,
        /// The error message.
        message: String,
    },
    /// A field of a result is missing or malformed.
    #[error("{object}.{field}: {problem}")]
    Field {
        /// What was being read (`transaction`, `block`, `receipt`, or a method's result).
        object: &'static str,
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        problem: FieldProblem,
    },
}

/// What is wrong with one field of a JSON-RPC result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FieldProblem {
    /// The field is absent (or `null` where a value is required).
    #[error("missing")]
    Missing,
    /// Not a JSON string, or the result is not an object.
    #[error("not a string")]
    NotString,
    /// A hex value without its `0x`.
    #[error("no 0x prefix")]
    NoPrefix,
    /// Characters that are not hex digits, or an odd number of digits in byte data.
    #[error("not hex")]
    NotHex,
    /// A quantity written with leading zeros (`0x01`), or with no digits.
    #[error("not a canonical quantity")]
    NotCanonical,
    /// A quantity too large for its type.
    #[error("more than {0} bits")]
    TooLarge(u32),
    /// Byte data of the wrong length.
    #[error("{got} bytes, expected {expected}")]
    Length {
        /// The length required.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// Byte data longer than [`crate::MAX_DATA_BYTES`].
    #[error("more than {0} bytes of data")]
    DataTooLong(usize),
    /// A value outside what the field allows (e.g. a receipt status other than 0 or 1).
    #[error("unexpected value {0}")]
    Unexpected(String),
}
