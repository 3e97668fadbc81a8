//! Why a counter commit was rejected.

/// Why a counter commit was rejected. Each variant names the rule that was broken.
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
    /// Every counter commit, genesis included, must be signed.
    #[error("counter commits must be signed by the controller")]
    Unsigned,
    /// The genesis must name exactly one controller.
    #[error("exactly one controller must be specified, got {0}")]
    ControllerCount(usize),
    /// The controller must be a DID.
    #[error("controller {0:?} is not a DID")]
    ControllerNotDid(String),
    /// The commit is signed by someone other than the controller.
    #[error("signed by {got}, but the controller is {expected}")]
    WrongSigner {
        /// The controller.
        expected: String,
        /// The DID that signed.
        got: String,
    },
    /// Updates may not change the header (controllers, family, …).
    #[error("counter updates may not change the header")]
    HeaderChange,
    /// The data is not the shape this commit kind takes.
    #[error("bad counter data: {0}")]
    BadData(#[from] DataError),
    /// The count would pass [`crate::MAX_COUNT`].
    #[error("adding {add} to {count} passes the maximum count")]
    Overflow {
        /// The count before.
        count: u64,
        /// The amount added.
        add: u64,
    },
    /// The state has no counter content (it was not made by this doctype).
    #[error("the stream state has no valid count")]
    CorruptState,
}

/// What is wrong with a commit's `data`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// `data` must be a map.
    #[error("data must be a map")]
    NotAMap,
    /// A key other than the one this commit kind takes.
    #[error("unknown key {0:?}")]
    UnknownKey(String),
    /// An update without `add`.
    #[error("an update must have `add`")]
    MissingAdd,
    /// `count` is not an integer in `0..=MAX_COUNT`.
    #[error("`count` must be an integer from 0 to 2^53 - 1")]
    BadCount,
    /// `add` is not an integer in `1..=MAX_ADD`.
    #[error("`add` must be an integer from 1 to 1000000")]
    BadAdd,
}

/// A result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
