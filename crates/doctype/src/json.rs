//! IPLD ↔ JSON with JavaScript number semantics, so that content built from JSON encodes to the
//! bytes a JS client makes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use ceramic_codecs::Ipld;
use serde_json::{Map, Number, Value};

/// The largest integer a JS number holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// Why a value cannot be converted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    /// An integer outside the 64-bit ranges JSON numbers can carry here.
    #[error("integer {0} does not fit a JSON number")]
    IntegerRange(i128),
    /// A float that is not finite.
    #[error("non-finite float")]
    NonFinite,
}

/// IPLD to JSON: links become `{"/": "<cid>"}` and bytes `{"/": {"bytes": "<base64>"}}`
/// (dag-json's forms).
///
/// # Errors
/// [`JsonError`] for integers beyond 64 bits and non-finite floats.
pub fn ipld_to_json(value: &Ipld) -> Result<Value, JsonError> {
    Ok(match value {
        Ipld::Null => Value::Null,
        Ipld::Bool(b) => Value::Bool(*b),
        Ipld::Integer(n) => {
            if let Ok(n) = i64::try_from(*n) {
                Value::from(n)
            } else if let Ok(n) = u64::try_from(*n) {
                Value::from(n)
            } else {
                return Err(JsonError::IntegerRange(*n));
            }
        }
        Ipld::Float(f) => Value::Number(Number::from_f64(*f).ok_or(JsonError::NonFinite)?),
        Ipld::String(s) => Value::String(s.clone()),
        Ipld::Bytes(b) => {
            let mut inner = Map::new();
            inner.insert("bytes".into(), Value::String(STANDARD_NO_PAD.encode(b)));
            let mut outer = Map::new();
            outer.insert("/".into(), Value::Object(inner));
            Value::Object(outer)
        }
        Ipld::List(items) => {
            Value::Array(items.iter().map(ipld_to_json).collect::<Result<_, _>>()?)
        }
        Ipld::Map(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), ipld_to_json(v)?)))
                .collect::<Result<_, JsonError>>()?,
        ),
        Ipld::Link(cid) => {
            let mut outer = Map::new();
            outer.insert("/".into(), Value::String(cid.to_string()));
            Value::Object(outer)
        }
    })
}

/// JSON to IPLD as a JS client would encode it: a number is an integer when it is integral and
/// within ±(2^53 − 1) (`Number.isSafeInteger`), a 64-bit float otherwise. Objects stay maps
/// (`{"/": …}` is not turned into a link: JS content is plain JSON).
///
/// # Errors
/// [`JsonError::NonFinite`] cannot happen for parsed JSON; kept for completeness.
pub fn json_to_ipld(value: &Value) -> Result<Ipld, JsonError> {
    Ok(match value {
        Value::Null => Ipld::Null,
        Value::Bool(b) => Ipld::Bool(*b),
        Value::Number(n) => {
            let safe = |i: i128| (i as f64).abs() <= MAX_SAFE_INTEGER;
            if let Some(i) = n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from)) {
                if safe(i) { Ipld::Integer(i) } else { Ipld::Float(i as f64) }
            } else {
                let f = n.as_f64().ok_or(JsonError::NonFinite)?;
                if f.fract() == 0.0 && f.abs() <= MAX_SAFE_INTEGER {
                    Ipld::Integer(f as i128)
                } else {
                    Ipld::Float(f)
                }
            }
        }
        Value::String(s) => Ipld::String(s.clone()),
        Value::Array(items) => {
            Ipld::List(items.iter().map(json_to_ipld).collect::<Result<_, _>>()?)
        }
        Value::Object(map) => Ipld::Map(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), json_to_ipld(v)?)))
                .collect::<Result<_, JsonError>>()?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_follow_js() {
        assert_eq!(json_to_ipld(&json!(2.0)).unwrap(), Ipld::Integer(2));
        assert_eq!(json_to_ipld(&json!(1.5)).unwrap(), Ipld::Float(1.5));
        assert_eq!(
            json_to_ipld(&json!(9007199254740991u64)).unwrap(),
            Ipld::Integer(9007199254740991)
        );
        assert_eq!(
            json_to_ipld(&json!(9007199254740993u64)).unwrap(),
            Ipld::Float(9007199254740992.0)
        );
        assert_eq!(json_to_ipld(&json!(1e20)).unwrap(), Ipld::Float(1e20));
    }

    #[test]
    fn json_round_trips_through_ipld() {
        let value = json!({"a": [1, "two", 3.5, null, true, {"k": {}}], "b": -7});
        assert_eq!(ipld_to_json(&json_to_ipld(&value).unwrap()).unwrap(), value);
    }
}
