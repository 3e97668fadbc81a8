//! Multibase text of event CARs, as the `/ceramic` HTTP API carries them.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

use crate::{Error, MAX_CAR_SIZE, Result};

/// The multibase base of CAR text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CarBase {
    /// `m` + base64 without padding: `@ceramic-sdk/events`' default (`carToString`), and what
    /// ceramic-one's `GET /events/{id}` returns.
    Base64,
    /// `u` + base64url without padding: js-ceramic's `car.toString()`, and ceramic-one's
    /// `GET /streams/{id}` fields.
    Base64Url,
}

/// Decodes `m`/`M`/`u`/`U` multibase text into CAR bytes, refusing text longer than a
/// [`MAX_CAR_SIZE`] CAR could be before decoding any of it.
///
/// # Errors
/// [`Error::CarTooLarge`], [`Error::Multibase`].
pub fn car_from_multibase(text: &str) -> Result<Vec<u8>> {
    let max_text = MAX_CAR_SIZE.div_ceil(3) * 4 + 1;
    if text.len() > max_text {
        return Err(Error::CarTooLarge { size: text.len() / 4 * 3, max: MAX_CAR_SIZE });
    }
    let Some(prefix) = text.chars().next() else {
        return Err(Error::Multibase("empty text"));
    };
    let body = &text[prefix.len_utf8()..];
    let decoded = match prefix {
        'm' => STANDARD_NO_PAD.decode(body),
        'M' => STANDARD.decode(body),
        'u' => URL_SAFE_NO_PAD.decode(body),
        'U' => URL_SAFE.decode(body),
        _ => return Err(Error::Multibase("not base64 (m, M) or base64url (u, U) multibase")),
    };
    decoded.map_err(|_| Error::Multibase("invalid base64 for its multibase prefix"))
}

/// Encodes CAR bytes as multibase text in `base`.
pub fn car_to_multibase(car: &[u8], base: CarBase) -> String {
    match base {
        CarBase::Base64 => format!("m{}", STANDARD_NO_PAD.encode(car)),
        CarBase::Base64Url => format!("u{}", URL_SAFE_NO_PAD.encode(car)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_both_bases() {
        let car = vec![0xfb, 0xff, 0x01, 0x02];
        for base in [CarBase::Base64, CarBase::Base64Url] {
            assert_eq!(car_from_multibase(&car_to_multibase(&car, base)).unwrap(), car);
        }
        assert_eq!(car_to_multibase(&car, CarBase::Base64), "m+/8BAg");
        assert_eq!(car_to_multibase(&car, CarBase::Base64Url), "u-_8BAg");
        assert_eq!(car_from_multibase("M+/8BAg==").unwrap(), car);
        assert_eq!(car_from_multibase("U-_8BAg==").unwrap(), car);
    }

    #[test]
    fn rejects_other_bases_and_bad_text() {
        for text in ["", "z123", "f00", "m-_8", "u+/8", "m\u{e9}"] {
            assert!(matches!(car_from_multibase(text), Err(Error::Multibase(_))), "{text:?}");
        }
        let long = format!("m{}", "A".repeat(MAX_CAR_SIZE * 2));
        assert!(matches!(car_from_multibase(&long), Err(Error::CarTooLarge { .. })));
    }
}
