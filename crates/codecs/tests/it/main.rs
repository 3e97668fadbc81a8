//! Integration tests of `ceramic-codecs` through its public API.

mod properties;
mod vectors;
