//! Integration tests of `ceramic-did` through its public API.

mod cacao;
mod properties;
mod three_id;
mod vectors;
