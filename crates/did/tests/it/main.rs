//! Integration tests of `ceramic-did` through its public API.

mod properties;
mod three_id;
mod vectors;
