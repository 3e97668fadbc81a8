//! The stream-type registry (CIPs `tables/streamtypes.csv`).

use std::fmt;

/// A stream type code. Unknown codes are kept as numbers, not rejected: a node must be able to
/// name and forward streams of types it cannot load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamType(u64);

impl StreamType {
    /// TileDocument (CIP-8), code 0.
    pub const TILE: StreamType = StreamType(0);
    /// CAIP-10 account link (CIP-7), code 1.
    pub const CAIP10_LINK: StreamType = StreamType(1);
    /// ComposeDB Model, code 2.
    pub const MODEL: StreamType = StreamType(2);
    /// ComposeDB Model Instance Document, code 3.
    pub const MID: StreamType = StreamType(3);
    /// A stream not meant to be loaded (the meta-model, node ids), code 4.
    pub const UNLOADABLE: StreamType = StreamType(4);

    const NAMES: [(&'static str, StreamType); 5] = [
        ("tile", Self::TILE),
        ("caip10-link", Self::CAIP10_LINK),
        ("model", Self::MODEL),
        ("MID", Self::MID),
        ("UNLOADABLE", Self::UNLOADABLE),
    ];

    /// The type with this code, registered or not.
    pub const fn new(code: u64) -> Self {
        StreamType(code)
    }

    /// The numeric code.
    pub const fn code(self) -> u64 {
        self.0
    }

    /// The registry name as js-ceramic spells it (`tile`, `caip10-link`, `model`, `MID`,
    /// `UNLOADABLE`), or `None` for an unregistered code.
    pub fn name(self) -> Option<&'static str> {
        Self::NAMES.iter().find(|(_, t)| *t == self).map(|(n, _)| *n)
    }

    /// The type registered under `name` (exact spelling, as [`StreamType::name`] returns).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::NAMES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }
}

impl fmt::Display for StreamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "unknown({})", self.0),
        }
    }
}

impl From<u64> for StreamType {
    fn from(code: u64) -> Self {
        StreamType(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_names_round_trip() {
        for code in 0..5 {
            let t = StreamType::new(code);
            let name = t.name().expect("registered");
            assert_eq!(StreamType::from_name(name), Some(t));
        }
    }

    #[test]
    fn unknown_codes_are_kept() {
        let t = StreamType::new(300);
        assert_eq!(t.code(), 300);
        assert_eq!(t.name(), None);
        assert_eq!(t.to_string(), "unknown(300)");
        assert_eq!(StreamType::from_name("Tile"), None);
    }
}
