//! The guest ABI's data: the event JSON the host passes in, and the verdict JSON a hook may
//! answer (`specs/hooks.md`). The verdict comes from untrusted code: it is bounded, parsed
//! strictly, and fuzzed (`hooks_verdict`).

use ceramic_codecs::Cid;
use ceramic_doctype::StreamState;
use ceramic_streamid::StreamId;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::VerdictError;

/// The longest verdict a hook may answer.
pub const MAX_VERDICT_BYTES: usize = 4096;
/// The longest veto reason.
pub const MAX_REASON_BYTES: usize = 1024;
/// The event name of the call before a write is stored.
pub const BEFORE_WRITE: &str = "before_write";

/// The event a hook is called with, before it is serialized.
#[derive(Debug, Clone, Copy)]
pub struct EventJson<'a> {
    /// `before_write` or a [`HookEventKind`](ceramic_service::HookEventKind) name.
    pub event: &'a str,
    /// The hook's name.
    pub hook: &'a str,
    /// The stream.
    pub stream: Option<&'a StreamId>,
    /// The commit.
    pub commit: Option<&'a Cid>,
    /// The stream's state (proposed, for `before_write`).
    pub state: Option<&'a StreamState>,
    /// Why a write was rejected.
    pub reason: Option<&'a str>,
    /// The hook's `config` table.
    pub config: &'a Value,
}

impl EventJson<'_> {
    /// The UTF-8 JSON object the hook reads (`specs/hooks.md`, "The event").
    pub fn to_bytes(&self) -> Vec<u8> {
        let value = json!({
            "event": self.event,
            "hook": self.hook,
            "stream": self.stream.map(ToString::to_string),
            "commit": self.commit.map(ToString::to_string),
            "state": self.state.map(StreamState::to_js_json),
            "reason": self.reason,
            "config": self.config,
        });
        // A serde_json::Value always serializes.
        serde_json::to_vec(&value).unwrap_or_default()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    #[serde(default)]
    veto: Option<String>,
}

/// The reason of a veto, or `None` when the hook allows: `{}` and `{"veto": null}` allow,
/// `{"veto": "<reason>"}` vetoes. Unknown keys, other types and oversized answers are errors.
///
/// # Errors
/// [`VerdictError`].
pub fn parse_verdict(bytes: &[u8]) -> Result<Option<String>, VerdictError> {
    if bytes.len() > MAX_VERDICT_BYTES {
        return Err(VerdictError::TooLong { len: bytes.len(), max: MAX_VERDICT_BYTES });
    }
    let wire: Wire = serde_json::from_slice(bytes)
        .map_err(|e| VerdictError::Malformed { reason: e.to_string() })?;
    match wire.veto {
        None => Ok(None),
        Some(reason) if reason.is_empty() || reason.len() > MAX_REASON_BYTES => {
            Err(VerdictError::BadReason { max: MAX_REASON_BYTES })
        }
        Some(reason) => Ok(Some(reason)),
    }
}

/// The verdict JSON for a veto with `reason` (or an allow): the inverse of [`parse_verdict`].
pub fn verdict_bytes(veto: Option<&str>) -> Vec<u8> {
    serde_json::to_vec(&json!({ "veto": veto })).unwrap_or_default()
}

/// `on_event`'s result: 0 (no verdict: allow) or `(ptr << 32) | len` of the verdict bytes.
pub fn unpack(packed: i64) -> Option<(u32, u32)> {
    if packed == 0 {
        return None;
    }
    let bits = packed as u64;
    Some(((bits >> 32) as u32, bits as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        assert_eq!(parse_verdict(b"{}"), Ok(None));
        assert_eq!(parse_verdict(br#"{"veto":null}"#), Ok(None));
        assert_eq!(parse_verdict(br#"{"veto":"no"}"#), Ok(Some("no".into())));
        assert!(matches!(parse_verdict(br#"{"veto":""}"#), Err(VerdictError::BadReason { .. })));
        assert!(matches!(parse_verdict(br#"{"veto":1}"#), Err(VerdictError::Malformed { .. })));
        assert!(matches!(
            parse_verdict(br#"{"veto":"x","y":1}"#),
            Err(VerdictError::Malformed { .. })
        ));
        assert!(matches!(parse_verdict(b"\xff"), Err(VerdictError::Malformed { .. })));
        let long = vec![b' '; MAX_VERDICT_BYTES + 1];
        assert!(matches!(parse_verdict(&long), Err(VerdictError::TooLong { .. })));
        let reason = "r".repeat(MAX_REASON_BYTES + 1);
        assert!(matches!(
            parse_verdict(&verdict_bytes(Some(&reason))),
            Err(VerdictError::BadReason { .. })
        ));
    }

    #[test]
    fn verdict_bytes_parse_back() {
        for veto in [None, Some("a reason"), Some("\"quoted\" ✓")] {
            assert_eq!(parse_verdict(&verdict_bytes(veto)).unwrap().as_deref(), veto);
        }
    }

    #[test]
    fn packing() {
        assert_eq!(unpack(0), None);
        assert_eq!(unpack((16 << 32) | 9), Some((16, 9)));
        assert_eq!(unpack(-1), Some((u32::MAX, u32::MAX)));
    }
}
