//! Integration tests of `ceramic-streamid` through its public API.

mod properties;
mod vectors;
