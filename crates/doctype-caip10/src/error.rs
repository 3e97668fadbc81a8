//! Why a CAIP-10 link commit, proof or account was rejected.

/// Why a CAIP-10 link commit, link proof or account id was rejected. Each variant names the rule
/// that was broken (js-ceramic `caip10-link-handler.ts` and `blockchain-utils-validation`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The doctype was handed a payload of the wrong kind (e.g. an anchor commit as data).
    #[error("expected a {expected} commit, got a {got} commit")]
    WrongPayload {
        /// The kind this entry point takes.
        expected: &'static str,
        /// The kind it got.
        got: &'static str,
    },
    /// A CAIP-10 genesis is plain dag-cbor; this one was signed.
    #[error("a caip10-link genesis must be unsigned, this one is signed by {signer}")]
    SignedGenesis {
        /// The DID that signed it.
        signer: String,
    },
    /// "Caip10Link genesis commit cannot have data": `data` must be absent or JS-falsy.
    #[error("a caip10-link genesis commit cannot have data")]
    GenesisHasData,
    /// "Exactly one controller must be specified".
    #[error("exactly one controller must be specified, got {0}")]
    ControllerCount(usize),
    /// The controller is not a legacy CAIP-10 account `address@namespace:reference`.
    #[error(
        "controller {controller:?} is not a legacy CAIP-10 account (address@namespace:reference)"
    )]
    ControllerNotLegacy {
        /// The controller as written.
        controller: String,
    },
    /// The state has no controller to compare the proof with (it was not made by this doctype).
    #[error("the stream state has no controller")]
    MissingController,
    /// CAIP-10 data commits are unsigned dag-cbor; the proof is the authentication.
    #[error("caip10-link data commits must be unsigned, this one is signed by {signer}")]
    SignedUpdate {
        /// The DID that signed it.
        signer: String,
    },
    /// The data commit has no `data` (the link proof).
    #[error("the data commit has no link proof in `data`")]
    MissingProof,
    /// The link proof is not a map.
    #[error("the link proof is not a map")]
    ProofNotAMap,
    /// A required link-proof field is absent (or null).
    #[error("the link proof has no `{0}`")]
    MissingProofField(&'static str),
    /// A link-proof field has the wrong type or range.
    #[error("the link proof's `{field}` must be {expected}")]
    ProofFieldType {
        /// The field.
        field: &'static str,
        /// What it must be.
        expected: &'static str,
    },
    /// An account id is neither CAIP-10 `namespace:reference:address` nor legacy
    /// `address@namespace:reference`, or breaks the CAIP-2/CAIP-10 character rules.
    #[error("{account:?} is not a CAIP-10 account id")]
    InvalidAccount {
        /// The account as written.
        account: String,
    },
    /// Proofs are validated by namespace; only `eip155` is implemented.
    #[error("proofs for namespace {namespace:?} are not supported (only eip155)")]
    UnsupportedNamespace {
        /// The account's CAIP-2 namespace.
        namespace: String,
    },
    /// ERC-1271 contract-wallet proofs need an `isValidSignature` call on chain, which this
    /// crate cannot make.
    #[error(
        "ERC-1271 contract-wallet proof for {account} is not supported (it needs chain access)"
    )]
    UnsupportedErc1271 {
        /// The contract account.
        account: String,
    },
    /// The signature is not `0x` followed by hex.
    #[error("the signature is not 0x-prefixed hex")]
    SignatureNotHex,
    /// The signature is not 65 bytes (`r || s || v`).
    #[error("the signature is {0} bytes, expected 65 (r || s || v)")]
    SignatureLength(usize),
    /// The recovery byte `v` is not 27, 28, 0 or 1.
    #[error("the signature's recovery byte is {0}, expected 27, 28, 0 or 1")]
    SignatureRecoveryByte(u8),
    /// No public key could be recovered (`r` or `s` out of range, or no curve point).
    #[error("no public key can be recovered from the signature")]
    InvalidSignature,
    /// The address that signed the message is not the proof's account.
    #[error("the proof was signed by {recovered}, not by its account {account}")]
    SignerMismatch {
        /// The address recovered from the signature.
        recovered: String,
        /// The account's address.
        account: String,
    },
    /// "Invalid commit, proof timestamp too old": replay guard against older proofs.
    #[error("proof timestamp {timestamp} is older than {bound}")]
    StaleProof {
        /// The proof's timestamp.
        timestamp: u64,
        /// The last anchor's timestamp (anchored) or the pending `lastUpdate`.
        bound: u64,
    },
    /// The proof's account is not the stream's controller.
    #[error(
        "address {account:?} used to sign the update does not match stream controller {controller:?}"
    )]
    AccountMismatch {
        /// The proof's account, legacy form, lower-cased.
        account: String,
        /// The controller, lower-cased.
        controller: String,
    },
    /// A value in the genesis header does not fit JSON metadata.
    #[error(transparent)]
    Json(#[from] ceramic_doctype::JsonError),
}

/// A result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
