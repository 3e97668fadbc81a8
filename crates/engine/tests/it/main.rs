//! Integration tests of `ceramic-engine` through its public API, with a small test doctype and
//! the in-memory store.

mod cacao;
mod fixtures;
mod forks;
mod models;
mod properties;
mod three_id;
mod tile;
mod writes;
