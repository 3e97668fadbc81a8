//! Integration tests of `ceramic-net`: in-process nodes on 127.0.0.1 over the public API.

mod bad_input;
mod bitswap;
mod harness;
mod interop;
mod partition;
mod propagation;
mod providers;
