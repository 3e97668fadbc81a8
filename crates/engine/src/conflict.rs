//! js-ceramic's conflict rule between two branches of a stream (`_pickLogToAccept` in
//! packages/core/src/stream-loading/state-manipulator.ts), including its quirks. Each rule is
//! named with the vector family that pins it: `testdata/js-conflicts.json`, computed by running
//! the JavaScript function itself (`cargo xtask vectors`).

use ceramic_codecs::Cid;
use ceramic_doctype::{CommitKind, LogEntry};

/// One branch: the log entries after the fork point (the last entry both share).
pub type Branch<'a> = &'a [LogEntry];

/// Which branch the rule picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Winner {
    /// The first argument (by convention: the local branch).
    Log1,
    /// The second argument (the remote branch).
    Log2,
}

fn first_anchor(branch: Branch<'_>) -> Option<(usize, &LogEntry)> {
    branch.iter().enumerate().find(|(_, e)| e.kind == CommitKind::Anchor)
}

/// The bytes as JavaScript's `String(uint8array)` writes them: decimal bytes joined by commas.
fn js_byte_string(bytes: &[u8]) -> String {
    bytes.iter().map(u8::to_string).collect::<Vec<_>>().join(",")
}

/// JavaScript's `a < b` for two `Uint8Array`s: both become strings (`"1,113,18,…"`) and compare
/// as strings, so `[5]` sorts after `[45]` (js-conflicts.json, cases `tie-js-string-order-*`).
pub fn js_bytes_less(a: &[u8], b: &[u8]) -> bool {
    js_byte_string(a) < js_byte_string(b)
}

/// Picks the branch to accept between `log1` (local) and `log2` (remote), each holding only the
/// entries after the fork point. Returns [`Winner::Log1`] for an empty `log2` and the reverse.
pub fn pick_log_to_accept(log1: Branch<'_>, log2: Branch<'_>) -> Winner {
    let (Some(last1), Some(last2)) = (log1.last(), log2.last()) else {
        return if log2.is_empty() { Winner::Log1 } else { Winner::Log2 };
    };
    let anchor1 = first_anchor(log1);
    let anchor2 = first_anchor(log2);
    match (anchor1, anchor2) {
        // Rule 1 (js-conflicts.json "only-*-anchored"): an anchored branch beats an unanchored one.
        (Some(_), None) => return Winner::Log1,
        (None, Some(_)) => return Winner::Log2,
        // Rule 2 ("both-anchored-*"): the earlier first anchor wins.
        // A missing timestamp is `undefined` in JS, and every comparison with it is false, so
        // the length rule decides ("anchor-time-missing-*").
        (Some((_, a1)), Some((_, a2))) => {
            if let (Some(t1), Some(t2)) = (a1.timestamp, a2.timestamp) {
                if t1 < t2 {
                    return Winner::Log1;
                }
                if t2 < t1 {
                    return Winner::Log2;
                }
            }
        }
        (None, None) => {}
    }
    // Rule 3 ("length-*"): the longer branch wins; an anchored branch counts up to and including
    // its first anchor.
    let len1 = anchor1.map_or(log1.len(), |(i, _)| i + 1);
    let len2 = anchor2.map_or(log2.len(), |(i, _)| i + 1);
    if len1 > len2 {
        return Winner::Log1;
    }
    if len2 > len1 {
        return Winner::Log2;
    }
    // Rule 4 ("tie-*"): the last entries' CID bytes, compared as JavaScript compares two
    // Uint8Arrays.
    if js_bytes_less(&last1.cid.to_bytes(), &last2.cid.to_bytes()) {
        Winner::Log1
    } else {
        Winner::Log2
    }
}

/// The CID of the last entry of the winning branch.
pub(crate) fn winner_tip(winner: Winner, log1: Branch<'_>, log2: Branch<'_>) -> Option<Cid> {
    match winner {
        Winner::Log1 => log1.last().map(|e| e.cid),
        Winner::Log2 => log2.last().map(|e| e.cid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_compares_byte_arrays_as_strings() {
        assert!(js_bytes_less(&[45], &[5]));
        assert!(!js_bytes_less(&[5], &[45]));
        assert!(js_bytes_less(&[10], &[9]));
        assert!(js_bytes_less(&[1, 2], &[1, 3]));
        assert!(js_bytes_less(&[1], &[1, 0]));
    }
}
