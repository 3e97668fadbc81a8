//! The JSON patch between two contents, operation for operation as fast-json-patch 3.1.1
//! `compare(old, new)` writes it (`_generate` in its `src/duplex.ts`), which is what
//! `TileDocument.update` (`@ceramicnetwork/stream-tile` 6.4.0) puts in an update commit. The same
//! operations in the same order give the same commit CID as the JS client for the same edit.
//!
//! Hand-written rather than `json_patch::diff`: that crate walks keys in another order and
//! compares arrays differently, so its patches differ from the JS client's. The rules, from
//! `specs/doctypes/tile.md` ("Update patches"), for two objects or two arrays:
//!
//! 1. Keys are JS `Object.keys` order: for an array its indices; for an object the array-index
//!    keys (`"0"`, `"17"`, … up to 2³² − 2, no leading zero) first, ascending, then the others in
//!    the map's order (insertion order, which `serde_json`'s `preserve_order` keeps).
//! 2. The old keys are walked **last to first**. A key the new value lacks is `remove`d. A key
//!    whose old and new values are both objects or both arrays is walked the same way (its
//!    operations come here, in place). Otherwise a value that differs by JS `!==` (numbers by
//!    value, so `1` and `1.0` are equal) is `replace`d.
//! 3. Then, unless nothing was removed and the key counts are equal, the new keys are walked
//!    first to last and each one the old value lacks is `add`ed. Arrays are objects keyed by
//!    index: growing adds the new tail in order, shrinking removes from the end backwards, and
//!    an insertion at the front replaces every element.
//!
//! Roots other than two objects or two arrays go through the same walk with JS property rules
//! (an array's or string's `length` is a property, a string's UTF-16 units are its indexed
//! properties, numbers have none). `compare()` often writes a patch there that does not turn
//! `old` into `new` (`compare({}, [])` is `[]`, `compare(5, 6)` is `[]`) or throws (a `null`
//! root); we keep its patch when it applies and gives `new`, and otherwise write the one
//! operation that does, `replace ""` (nothing when the two are equal). The vectors
//! `testdata/js-patch-compare.json` (`root-*`) hold each such case.

use std::borrow::Cow;

use serde_json::{Map, Value};

/// One operation of a patch made by [`diff`]: the three `compare()` writes.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    /// `{"op": "add", "path", "value"}`.
    Add {
        /// JSON pointer (RFC 6901) of the new member.
        path: String,
        /// The value added.
        value: Value,
    },
    /// `{"op": "remove", "path"}`.
    Remove {
        /// JSON pointer of the member removed.
        path: String,
    },
    /// `{"op": "replace", "path", "value"}`.
    Replace {
        /// JSON pointer of the member replaced (`""`: the whole document).
        path: String,
        /// The new value.
        value: Value,
    },
}

impl Operation {
    /// The JSON pointer the operation targets.
    pub fn path(&self) -> &str {
        match self {
            Operation::Add { path, .. }
            | Operation::Remove { path }
            | Operation::Replace { path, .. } => path,
        }
    }

    /// The operation as an RFC 6902 JSON object, keys in `compare()`'s order (`op`, `path`,
    /// `value`).
    pub fn into_json(self) -> Value {
        let (op, path, value) = match self {
            Operation::Add { path, value } => ("add", path, Some(value)),
            Operation::Remove { path } => ("remove", path, None),
            Operation::Replace { path, value } => ("replace", path, Some(value)),
        };
        let mut out = Map::new();
        out.insert("op".into(), Value::String(op.into()));
        out.insert("path".into(), Value::String(path));
        if let Some(value) = value {
            out.insert("value".into(), value);
        }
        Value::Object(out)
    }
}

/// The patch `TileDocument.update` writes to turn `old` into `new`: fast-json-patch 3.1.1
/// `compare(old, new)`'s operations, in its order (see the module docs for the rules and the
/// roots where we differ). Empty when the two are equal.
///
/// Walks with an explicit stack, so any nesting depth is safe.
///
/// ```
/// use ceramic_doctype_tile::{Operation, diff};
/// use serde_json::json;
///
/// let ops = diff(&json!({"a": 1, "b": [1, 2], "c": 3}), &json!({"a": 2, "b": [1], "d": 4}));
/// let paths: Vec<&str> = ops.iter().map(Operation::path).collect();
/// // Old keys last to first (c removed, b walked, a replaced), then the added keys.
/// assert_eq!(paths, ["/c", "/b/1", "/a", "/d"]);
/// ```
pub fn diff(old: &Value, new: &Value) -> Vec<Operation> {
    let mut ops = Vec::new();
    if let Some(pair) = Pair::of(old, new) {
        walk(pair, String::new(), &mut ops);
        return ops;
    }
    if let Some(ops) = compare_root(old, new).filter(|ops| gives(old, ops, new)) {
        return ops;
    }
    if js_equal(old, new) {
        Vec::new()
    } else {
        vec![Operation::Replace { path: String::new(), value: new.clone() }]
    }
}

/// Two objects or two arrays: the values `compare()` walks into.
#[derive(Clone, Copy)]
enum Pair<'a> {
    Objects(&'a Map<String, Value>, &'a Map<String, Value>),
    Arrays(&'a [Value], &'a [Value]),
}

impl<'a> Pair<'a> {
    fn of(old: &'a Value, new: &'a Value) -> Option<Self> {
        match (old, new) {
            (Value::Object(o), Value::Object(n)) => Some(Pair::Objects(o, n)),
            (Value::Array(o), Value::Array(n)) => Some(Pair::Arrays(o, n)),
            _ => None,
        }
    }

    fn old_len(&self) -> usize {
        match self {
            Pair::Objects(o, _) => o.len(),
            Pair::Arrays(o, _) => o.len(),
        }
    }

    fn new_len(&self) -> usize {
        match self {
            Pair::Objects(_, n) => n.len(),
            Pair::Arrays(_, n) => n.len(),
        }
    }
}

/// One container pair being walked: its old keys, last to first, and whether one was removed.
struct Frame<'a> {
    pair: Pair<'a>,
    path: String,
    old_keys: OldKeys<'a>,
    deleted: bool,
}

/// The old keys still to visit, last to first (JS key order for objects).
enum OldKeys<'a> {
    Object(std::iter::Rev<std::vec::IntoIter<(&'a str, &'a Value)>>),
    Array(std::iter::Rev<std::iter::Enumerate<std::slice::Iter<'a, Value>>>),
}

impl<'a> Frame<'a> {
    fn new(pair: Pair<'a>, path: String) -> Self {
        let old_keys = match pair {
            Pair::Objects(old, _) => OldKeys::Object(js_order(old).into_iter().rev()),
            Pair::Arrays(old, _) => OldKeys::Array(old.iter().enumerate().rev()),
        };
        Frame { pair, path, old_keys, deleted: false }
    }

    /// The next old key (going backwards), its old value and its new value if the new side has
    /// the key.
    fn next_key(&mut self) -> Option<(Cow<'a, str>, &'a Value, Option<&'a Value>)> {
        match (&mut self.old_keys, self.pair) {
            (OldKeys::Object(keys), Pair::Objects(_, new)) => {
                keys.next().map(|(key, old)| (Cow::Borrowed(key), old, new.get(key)))
            }
            (OldKeys::Array(items), Pair::Arrays(_, new)) => items
                .next()
                .map(|(index, old)| (Cow::Owned(index.to_string()), old, new.get(index))),
            _ => None, // never: `new` builds the keys from the pair
        }
    }

    /// Step 3: the keys only the new value has, first to last.
    fn push_adds(&self, ops: &mut Vec<Operation>) {
        if !self.deleted && self.pair.new_len() == self.pair.old_len() {
            return;
        }
        match self.pair {
            Pair::Objects(old, new) => {
                for (key, value) in js_order(new) {
                    if !old.contains_key(key) {
                        let path = child_path(&self.path, key);
                        ops.push(Operation::Add { path, value: value.clone() });
                    }
                }
            }
            Pair::Arrays(old, new) => {
                for (index, value) in new.iter().enumerate().skip(old.len()) {
                    let path = child_path(&self.path, &index.to_string());
                    ops.push(Operation::Add { path, value: value.clone() });
                }
            }
        }
    }
}

/// `_generate` over two objects or two arrays, appending to `ops`.
fn walk(pair: Pair<'_>, path: String, ops: &mut Vec<Operation>) {
    let mut stack = vec![Frame::new(pair, path)];
    while let Some(frame) = stack.last_mut() {
        let Some((key, old, new)) = frame.next_key() else {
            frame.push_adds(ops);
            stack.pop();
            continue;
        };
        let path = child_path(&frame.path, &key);
        match new {
            None => {
                ops.push(Operation::Remove { path });
                frame.deleted = true;
            }
            Some(new) => match Pair::of(old, new) {
                Some(pair) => stack.push(Frame::new(pair, path)),
                None if js_equal(old, new) => {}
                None => ops.push(Operation::Replace { path, value: new.clone() }),
            },
        }
    }
}

/// `compare(old, new)` for roots that are not two objects or two arrays; `None` where it throws
/// (a `null` root) or writes a value no Rust string can hold (a lone UTF-16 surrogate).
fn compare_root(old: &Value, new: &Value) -> Option<Vec<Operation>> {
    if js_equal(old, new) {
        return Some(Vec::new()); // `obj === mirror`
    }
    if old.is_null() || new.is_null() {
        return None; // `obj.toJSON` / `Object.keys(null)` throw
    }
    let mut ops = Vec::new();
    let old_keys = own_keys(old);
    let new_keys = own_keys(new);
    let mut deleted = false;
    for key in old_keys.iter().rev() {
        let old_prop = property(old, key)?;
        let path = child_path("", key);
        match (old_prop, property(new, key)) {
            (Prop::Value(o), Some(Prop::Value(n))) if Pair::of(o, n).is_some() => {
                walk(Pair::of(o, n)?, path, &mut ops);
            }
            (o, Some(n)) if o.js_equal(&n) => {}
            (_, Some(n)) => ops.push(Operation::Replace { path, value: n.to_value()? }),
            (_, None) if old.is_array() == new.is_array() => {
                ops.push(Operation::Remove { path });
                deleted = true;
            }
            (_, None) => ops.push(Operation::Replace { path: String::new(), value: new.clone() }),
        }
    }
    if deleted || new_keys.len() != old_keys.len() {
        for key in &new_keys {
            if property(old, key).is_none() {
                let value = property(new, key)?.to_value()?;
                ops.push(Operation::Add { path: child_path("", key), value });
            }
        }
    }
    Some(ops)
}

/// Whether `ops` (applied strictly, as our nodes apply patches) turn `old` into `new`.
fn gives(old: &Value, ops: &[Operation], new: &Value) -> bool {
    let json = Value::Array(ops.iter().cloned().map(Operation::into_json).collect());
    let Ok(patch) = serde_json::from_value::<json_patch::Patch>(json) else {
        return false;
    };
    let mut doc = old.clone();
    json_patch::patch(&mut doc, &patch).is_ok() && js_deep_equal(&doc, new)
}

/// A JS own property of a root value.
enum Prop<'a> {
    Value(&'a Value),
    /// An array's or string's `length`.
    Length(usize),
    /// One UTF-16 unit of a string.
    Unit(u16),
}

impl Prop<'_> {
    /// `!==` negated: containers are never equal (they would be different JS objects).
    fn js_equal(&self, other: &Prop<'_>) -> bool {
        match (self, other) {
            (Prop::Value(a), Prop::Value(b)) => js_equal(a, b),
            (Prop::Length(a), Prop::Length(b)) => a == b,
            (Prop::Unit(a), Prop::Unit(b)) => a == b,
            (Prop::Length(n), Prop::Value(Value::Number(v)))
            | (Prop::Value(Value::Number(v)), Prop::Length(n)) => v.as_f64() == Some(*n as f64),
            (Prop::Unit(u), Prop::Value(Value::String(s)))
            | (Prop::Value(Value::String(s)), Prop::Unit(u)) => {
                let mut units = s.encode_utf16();
                units.next() == Some(*u) && units.next().is_none()
            }
            _ => false,
        }
    }

    fn to_value(&self) -> Option<Value> {
        match self {
            Prop::Value(v) => Some((*v).clone()),
            Prop::Length(n) => Some(Value::from(*n)),
            Prop::Unit(u) => char::from_u32(u32::from(*u)).map(|c| Value::String(c.to_string())),
        }
    }
}

/// `Object.keys(value)` of a non-null root.
fn own_keys(value: &Value) -> Vec<String> {
    match value {
        Value::Object(map) => js_order(map).into_iter().map(|(k, _)| k.to_owned()).collect(),
        Value::Array(items) => (0..items.len()).map(|i| i.to_string()).collect(),
        Value::String(s) => (0..s.encode_utf16().count()).map(|i| i.to_string()).collect(),
        Value::Null | Value::Bool(_) | Value::Number(_) => Vec::new(),
    }
}

/// `hasOwnProperty(value, key) ? value[key] : absent`.
fn property<'a>(value: &'a Value, key: &str) -> Option<Prop<'a>> {
    match value {
        Value::Object(map) => map.get(key).map(Prop::Value),
        Value::Array(items) if key == "length" => Some(Prop::Length(items.len())),
        Value::Array(items) => items.get(array_index(key)? as usize).map(Prop::Value),
        Value::String(s) if key == "length" => Some(Prop::Length(s.encode_utf16().count())),
        Value::String(s) => s.encode_utf16().nth(array_index(key)? as usize).map(Prop::Unit),
        Value::Null | Value::Bool(_) | Value::Number(_) => None,
    }
}

/// The object's entries in JS `Object.keys` order: array-index keys ascending, then the rest
/// in insertion order.
fn js_order(map: &Map<String, Value>) -> Vec<(&str, &Value)> {
    let mut entries: Vec<(&str, &Value)> = map.iter().map(|(k, v)| (k.as_str(), v)).collect();
    if entries.iter().any(|(k, _)| array_index(k).is_some()) {
        // Stable: the non-index keys keep their order behind the index keys.
        entries.sort_by_key(|(k, _)| array_index(k).map_or((1, 0), |i| (0, i)));
    }
    entries
}

/// The index of a JS array-index key: a canonical decimal integer below 2³² − 1.
fn array_index(key: &str) -> Option<u32> {
    let bytes = key.as_bytes();
    let canonical = match bytes {
        [b'0'] => true,
        [b'1'..=b'9', rest @ ..] => rest.len() < 10 && rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if !canonical {
        return None;
    }
    key.parse::<u32>().ok().filter(|&i| i != u32::MAX)
}

/// `path + "/" + escapePathComponent(key)` (RFC 6901: `~` → `~0`, `/` → `~1`).
fn child_path(path: &str, key: &str) -> String {
    let mut out = String::with_capacity(path.len() + key.len() + 1);
    out.push_str(path);
    out.push('/');
    if key.contains(['~', '/']) {
        for c in key.chars() {
            match c {
                '~' => out.push_str("~0"),
                '/' => out.push_str("~1"),
                c => out.push(c),
            }
        }
    } else {
        out.push_str(key);
    }
    out
}

/// JS `===` on two values that `compare()` does not walk into: scalars by value (numbers as
/// doubles), containers never (distinct JS objects).
fn js_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::String(a), Value::String(b)) => a == b,
        _ => false,
    }
}

/// Deep equality with JS number semantics, walked with a loop.
pub(crate) fn js_deep_equal(a: &Value, b: &Value) -> bool {
    let mut stack = vec![(a, b)];
    while let Some((a, b)) = stack.pop() {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                if x.len() != y.len() {
                    return false;
                }
                for (k, v) in x {
                    match y.get(k) {
                        Some(w) => stack.push((v, w)),
                        None => return false,
                    }
                }
            }
            (Value::Array(x), Value::Array(y)) => {
                if x.len() != y.len() {
                    return false;
                }
                stack.extend(x.iter().zip(y));
            }
            (a, b) if !js_equal(a, b) => return false,
            _ => {}
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_utils::arb_json;
    use proptest::prelude::*;
    use serde_json::json;

    /// `ops` applied strictly (RFC 6902), as our nodes apply a commit's patch.
    fn apply(old: &Value, ops: Vec<Operation>) -> Result<Value, json_patch::PatchError> {
        let json = Value::Array(ops.into_iter().map(Operation::into_json).collect());
        let patch: json_patch::Patch = serde_json::from_value(json).unwrap();
        let mut doc = old.clone();
        json_patch::patch(&mut doc, &patch).map(|()| doc)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// Applying diff(old, new) to old gives new (numbers equal as JS numbers), for any two
        /// JSON values.
        #[test]
        fn applying_the_diff_gives_the_new_value(old in arb_json(), new in arb_json()) {
            let patched = apply(&old, diff(&old, &new));
            prop_assert!(patched.is_ok(), "{:?}", patched);
            let patched = patched.unwrap();
            prop_assert!(js_deep_equal(&patched, &new), "{} != {}", patched, new);
        }

        /// A value has nothing to change against itself.
        #[test]
        fn a_value_against_itself_is_an_empty_patch(value in arb_json()) {
            prop_assert_eq!(diff(&value, &value), vec![]);
        }
    }

    fn ops(old: Value, new: Value) -> Value {
        Value::Array(diff(&old, &new).into_iter().map(Operation::into_json).collect())
    }

    #[test]
    fn walks_old_keys_backwards_then_adds() {
        assert_eq!(
            ops(json!({"a": 1, "b": 2, "c": 3}), json!({"b": 2, "d": 4, "a": 0})),
            json!([
                {"op": "remove", "path": "/c"},
                {"op": "replace", "path": "/a", "value": 0},
                {"op": "add", "path": "/d", "value": 4}
            ])
        );
    }

    #[test]
    fn index_keys_come_first_in_js_order() {
        let old: Value = serde_json::from_str(r#"{"b": 1, "10": 2, "2": 3, "01": 4}"#).unwrap();
        assert_eq!(
            ops(old, json!({})),
            json!([
                {"op": "remove", "path": "/01"},
                {"op": "remove", "path": "/b"},
                {"op": "remove", "path": "/10"},
                {"op": "remove", "path": "/2"}
            ])
        );
        assert_eq!(array_index("4294967294"), Some(4_294_967_294));
        assert_eq!(array_index("4294967295"), None);
        assert_eq!(array_index("00"), None);
        assert_eq!(array_index("-1"), None);
    }

    #[test]
    fn arrays_compare_by_index() {
        assert_eq!(
            ops(json!([1, 2, 3]), json!([1])),
            json!([{"op": "remove", "path": "/2"}, {"op": "remove", "path": "/1"}])
        );
        assert_eq!(
            ops(json!(["a"]), json!(["x", "a"])),
            json!([
                {"op": "replace", "path": "/0", "value": "x"},
                {"op": "add", "path": "/1", "value": "a"}
            ])
        );
    }

    #[test]
    fn escapes_pointer_keys_and_compares_numbers_by_value() {
        assert_eq!(
            ops(json!({"a/b": 1, "~": 1.0}), json!({"a/b": 2, "~": 1})),
            json!([{"op": "replace", "path": "/a~1b", "value": 2}])
        );
    }

    #[test]
    fn nested_type_changes_replace() {
        assert_eq!(
            ops(json!({"v": [1]}), json!({"v": {"0": 1}})),
            json!([{"op": "replace", "path": "/v", "value": {"0": 1}}])
        );
    }

    #[test]
    fn roots_compare_gets_wrong_become_one_replace() {
        // compare({}, []) is [] and compare(5, 6) is []: neither gives the new value.
        assert_eq!(ops(json!({}), json!([])), json!([{"op": "replace", "path": "", "value": []}]));
        assert_eq!(ops(json!(5), json!(6)), json!([{"op": "replace", "path": "", "value": 6}]));
        assert_eq!(ops(json!(null), json!(null)), json!([]));
        assert_eq!(
            ops(json!({"a": 1}), json!(null)),
            json!([{"op": "replace", "path": "", "value": null}])
        );
        // compare([1, 2], 5) is two root replaces, and they give 5: kept as is.
        assert_eq!(
            ops(json!([1, 2]), json!(5)),
            json!([
                {"op": "replace", "path": "", "value": 5},
                {"op": "replace", "path": "", "value": 5}
            ])
        );
    }

    #[test]
    fn deep_nesting_does_not_recurse() {
        let mut old = json!(1);
        let mut new = json!(2);
        for _ in 0..5_000 {
            old = Value::Array(vec![old]);
            new = Value::Array(vec![new]);
        }
        let patch = diff(&old, &new);
        assert_eq!(patch.len(), 1);
        assert_eq!(patch[0].path(), "/0".repeat(5_000));
        // serde_json drops nested values recursively; unwind them by hand.
        for mut v in [old, new] {
            while let Value::Array(mut items) = v {
                v = items.pop().unwrap_or(Value::Null);
            }
        }
    }
}
