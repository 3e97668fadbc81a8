//! Fuzzes gRPC request messages: each `ceramic.v1` request decoded (prost) and re-encoded, then
//! handled by the gRPC front-end over a node service on an in-memory store.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ceramic_grpc::fuzzing::requests(data));
