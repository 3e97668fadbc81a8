//! Fuzzes reading Ethereum JSON-RPC answers (envelope, transaction, block, receipt) into typed
//! values (`ceramic_anchor_eth::fuzzing::rpc_response`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ceramic_anchor_eth::fuzzing::rpc_response(data));
