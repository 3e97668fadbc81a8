//! The [`Doctype`] trait, its object-safe form, the [`Context`] a doctype may consult, and the
//! [`Registry`] a node fills at start-up.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use ceramic_codecs::{Cid, Payload};
use ceramic_streamid::{CommitId, StreamId, StreamType};

use crate::{Change, Genesis, StreamState};

/// A commit as a doctype sees it: decoded strictly, its `id`/`prev` already checked against the
/// state, its signature (if any) cryptographically verified.
#[derive(Debug, Clone, Copy)]
pub struct Commit<'a> {
    /// The commit's CID: the envelope's for a signed commit, the block's otherwise.
    pub cid: Cid,
    /// The genesis or data payload.
    pub payload: &'a Payload,
    /// The DID whose signature verified, `None` for an unsigned commit. Whether it may sign is
    /// the doctype's rule.
    pub signer: Option<&'a str>,
    /// The capability (`cap`, a CACAO link) the signature was made under, if any.
    pub capability: Option<&'a str>,
    /// The timestamp of the anchor covering this commit, when the log is anchored.
    pub timestamp: Option<u64>,
}

/// Whether `signer` (a [`Commit::signer`]) may act for `controller`: the same DID, or, when the
/// controller is an Ethereum `did:pkh` (`did:pkh:eip155:…`, whose hex address is
/// case-insensitive), the same ignoring ASCII case.
///
/// The rule of the JS `dids` verifier (`issuerEquals` in dids 5.0.3, `dist/did.js`), which a
/// CACAO session reaches: current `did-session` names its issuer with the EIP-55 checksummed
/// address, older clients and many stored streams with the lowercase one, and either may write
/// to a stream whose controller is written the other way.
pub fn signer_is_controller(signer: &str, controller: &str) -> bool {
    signer == controller
        || (controller.starts_with("did:pkh:eip155:") && signer.eq_ignore_ascii_case(controller))
}

/// Why a [`Context`] could not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContextError {
    /// The stream or commit is not known.
    #[error("{0} could not be loaded")]
    NotFound(CommitId),
    /// The stream exists but loading it failed.
    #[error("loading {id} failed: {source}")]
    Failed {
        /// What was loaded.
        id: CommitId,
        /// Why it failed.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
    /// This context does not load stream states ([`Context::load_state`]'s default).
    #[error("this node cannot load the state of {0}")]
    Unsupported(StreamId),
}

/// What a doctype may ask of the node while applying a commit.
pub trait Context: Send + Sync {
    /// The content of a stream at exactly this commit (e.g. a Tile's JSON schema).
    ///
    /// # Errors
    /// [`ContextError`] when it cannot be loaded.
    // The error names the CommitID it could not load (~200 bytes); look-ups that fail are rare
    // and boxing it would burden every implementer.
    #[allow(clippy::result_large_err)]
    fn load_content(&self, id: &CommitId) -> Result<serde_json::Value, ContextError>;

    /// The latest state this node holds of a stream (e.g. a Model Instance Document's Model, or
    /// the stream a relation points to); `Ok(None)` when the node does not know the stream.
    ///
    /// The default answers [`ContextError::Unsupported`], so contexts written before this
    /// method existed still compile.
    ///
    /// # Errors
    /// [`ContextError`] when the stream is known but its state cannot be loaded.
    #[allow(clippy::result_large_err)]
    fn load_state(&self, stream: &StreamId) -> Result<Option<StreamState>, ContextError> {
        Err(ContextError::Unsupported(*stream))
    }
}

/// A stream type's rules: which genesis and data commits are valid and what they do to state.
///
/// Implement it in your own crate, depending only on this SDK; register it in the node's
/// [`Registry`]. A doctype decides and returns what a commit changes; the SDK keeps the log:
/// the engine turns a [`Genesis`] into a state with [`StreamState::from_genesis`] and a
/// [`Change`] with [`StreamState::with_change`]. Anchor commits are not the doctype's business:
/// the engine applies them with [`crate::apply_anchor`].
pub trait Doctype: Send + Sync + 'static {
    /// The doctype's own error type; each variant should name the rule that was broken.
    type Error: StdError + Send + Sync + 'static;

    /// The stream type code this doctype handles.
    fn stream_type(&self) -> StreamType;

    /// A short name for logs and errors (`tile`, `caip10-link`, …).
    fn name(&self) -> &'static str;

    /// Validates a genesis commit and returns the stream's first content and metadata.
    ///
    /// # Errors
    /// The doctype's error when the genesis breaks a rule.
    fn apply_genesis(&self, commit: &Commit<'_>, ctx: &dyn Context)
    -> Result<Genesis, Self::Error>;

    /// Validates a data commit on top of `state` and returns the new pending view it makes
    /// (the SDK appends the log entry and keeps the anchored view).
    ///
    /// # Errors
    /// The doctype's error when the commit breaks a rule.
    fn apply_data(
        &self,
        state: &StreamState,
        commit: &Commit<'_>,
        ctx: &dyn Context,
    ) -> Result<Change, Self::Error>;
}

/// A doctype's error with the doctype's name; [`DoctypeError::downcast_ref`] recovers the
/// doctype's own error type.
#[derive(Debug)]
pub struct DoctypeError {
    doctype: &'static str,
    source: Box<dyn StdError + Send + Sync>,
}

impl DoctypeError {
    /// Wraps a doctype's error.
    pub fn new(doctype: &'static str, source: impl StdError + Send + Sync + 'static) -> Self {
        DoctypeError { doctype, source: Box::new(source) }
    }

    /// The doctype that rejected the commit.
    pub fn doctype(&self) -> &'static str {
        self.doctype
    }

    /// The doctype's own error, if it is an `E`.
    pub fn downcast_ref<E: StdError + 'static>(&self) -> Option<&E> {
        self.source.downcast_ref::<E>()
    }
}

impl fmt::Display for DoctypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} rejected the commit: {}", self.doctype, self.source)
    }
}

impl StdError for DoctypeError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(self.source.as_ref())
    }
}

/// The object-safe form of [`Doctype`], which the [`Registry`] holds.
pub trait DynDoctype: Send + Sync {
    /// See [`Doctype::stream_type`].
    fn stream_type(&self) -> StreamType;
    /// See [`Doctype::name`].
    fn name(&self) -> &'static str;
    /// See [`Doctype::apply_genesis`].
    ///
    /// # Errors
    /// The doctype's error, wrapped.
    fn apply_genesis(
        &self,
        commit: &Commit<'_>,
        ctx: &dyn Context,
    ) -> Result<Genesis, DoctypeError>;
    /// See [`Doctype::apply_data`].
    ///
    /// # Errors
    /// The doctype's error, wrapped.
    fn apply_data(
        &self,
        state: &StreamState,
        commit: &Commit<'_>,
        ctx: &dyn Context,
    ) -> Result<Change, DoctypeError>;
}

impl<D: Doctype> DynDoctype for D {
    fn stream_type(&self) -> StreamType {
        Doctype::stream_type(self)
    }
    fn name(&self) -> &'static str {
        Doctype::name(self)
    }
    fn apply_genesis(
        &self,
        commit: &Commit<'_>,
        ctx: &dyn Context,
    ) -> Result<Genesis, DoctypeError> {
        Doctype::apply_genesis(self, commit, ctx)
            .map_err(|e| DoctypeError::new(Doctype::name(self), e))
    }
    fn apply_data(
        &self,
        state: &StreamState,
        commit: &Commit<'_>,
        ctx: &dyn Context,
    ) -> Result<Change, DoctypeError> {
        Doctype::apply_data(self, state, commit, ctx)
            .map_err(|e| DoctypeError::new(Doctype::name(self), e))
    }
}

/// Why a doctype could not be registered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// Another doctype already handles this stream type.
    #[error("stream type {stream_type} is already handled by {existing}")]
    Duplicate {
        /// The stream type.
        stream_type: StreamType,
        /// The doctype registered first.
        existing: &'static str,
    },
}

/// The doctypes a node runs, by stream type.
#[derive(Clone, Default)]
pub struct Registry {
    doctypes: HashMap<StreamType, Arc<dyn DynDoctype>>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<_> = self.doctypes.values().map(|d| d.name()).collect();
        names.sort_unstable();
        f.debug_struct("Registry").field("doctypes", &names).finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Registry::default()
    }

    /// Registers a doctype.
    ///
    /// # Errors
    /// [`RegistryError::Duplicate`] when its stream type is taken.
    pub fn register(&mut self, doctype: impl Doctype) -> Result<(), RegistryError> {
        let stream_type = Doctype::stream_type(&doctype);
        if let Some(existing) = self.doctypes.get(&stream_type) {
            return Err(RegistryError::Duplicate { stream_type, existing: existing.name() });
        }
        self.doctypes.insert(stream_type, Arc::new(doctype));
        Ok(())
    }

    /// Registers a doctype, builder style.
    ///
    /// # Errors
    /// [`RegistryError::Duplicate`] when its stream type is taken.
    pub fn with(mut self, doctype: impl Doctype) -> Result<Self, RegistryError> {
        self.register(doctype)?;
        Ok(self)
    }

    /// The doctype for a stream type, if one is registered.
    pub fn get(&self, stream_type: StreamType) -> Option<&dyn DynDoctype> {
        self.doctypes.get(&stream_type).map(|d| d.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::signer_is_controller;

    #[test]
    fn signers_match_controllers_as_the_js_dids_verifier_matches_them() {
        let lower = "did:pkh:eip155:1:0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359";
        let checksummed = "did:pkh:eip155:1:0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359";
        assert!(signer_is_controller(lower, lower));
        assert!(signer_is_controller(checksummed, lower));
        assert!(signer_is_controller(lower, checksummed));
        // Another chain, another address, other methods: exact.
        assert!(!signer_is_controller(lower, &lower.replace(":1:", ":5:")));
        assert!(!signer_is_controller(lower, &lower.replace("fb69", "fb68")));
        assert!(!signer_is_controller("did:key:z6MkABC", "did:key:z6mkabc"));
        let solana = "did:pkh:solana:4sGjMW1sUnHzSxGspuhpqLDx6wiyjNtZ:AbC";
        assert!(!signer_is_controller(&solana.to_lowercase(), solana));
    }
}
