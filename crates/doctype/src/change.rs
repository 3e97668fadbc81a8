//! What a doctype returns: [`Genesis`] (the first state's content and metadata) and [`Change`]
//! (the pending view a data commit makes). The SDK turns them into a [`crate::StreamState`]
//! ([`crate::StreamState::from_genesis`], [`crate::StreamState::with_change`]), so the log, the
//! anchored vs pending views and the anchor status are kept the same way for every doctype.

use serde_json::Value;

use crate::{Metadata, Next, SignatureStatus};

/// What a valid genesis commit makes: the stream's first content and metadata.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Genesis {
    /// The content.
    pub content: Value,
    /// The metadata (usually [`crate::metadata_from_header`] of the genesis header).
    pub metadata: Metadata,
    /// How the genesis was authenticated: [`SignatureStatus::Genesis`] when unsigned.
    pub signature: SignatureStatus,
    /// A pending view present from the start (js-ceramic's CAIP-10 genesis has
    /// `next: {content: null}`); `None` for most doctypes.
    pub next: Option<Next>,
}

impl Genesis {
    /// A genesis with this content, metadata and signature status, and no pending view.
    pub fn new(content: Value, metadata: Metadata, signature: SignatureStatus) -> Self {
        Genesis { content, metadata, signature, next: None }
    }

    /// The same genesis with a pending view from the start.
    pub fn with_next(mut self, next: Next) -> Self {
        self.next = Some(next);
        self
    }
}

/// What a valid data commit does: the new pending view (`next`). The anchored `content` and
/// `metadata` only change when an anchor commit lands ([`crate::apply_anchor`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Change {
    /// The new pending content (`next.content`); `None` leaves it unset (js `undefined`), so
    /// readers see the anchored content.
    pub content: Option<Value>,
    /// The new pending metadata (`next.metadata`); `None` keeps the state's pending metadata as
    /// it is (for a doctype whose data commits never touch metadata).
    pub metadata: Option<Metadata>,
    /// How the commit was authenticated (SIGNED for every built-in doctype).
    pub signature: SignatureStatus,
}

impl Change {
    /// A signed change of the pending content, keeping the pending metadata.
    pub fn content(content: Option<Value>) -> Self {
        Change { content, metadata: None, signature: SignatureStatus::Signed }
    }

    /// The same change, also setting the pending metadata.
    pub fn with_metadata(mut self, metadata: Metadata) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// The same change with another signature status.
    pub fn with_signature(mut self, signature: SignatureStatus) -> Self {
        self.signature = signature;
        self
    }
}
