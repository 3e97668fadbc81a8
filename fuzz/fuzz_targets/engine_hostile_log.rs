//! Fuzzes the engine on hostile logs: signed genesis, data (JSON patches, schemas) and anchor
//! commits on any prev, raw blocks, client writes and peers' tips, over every doctype the node
//! runs (see `ceramic_engine::fuzzing`).
#![no_main]

fn registry() -> ceramic_doctype::Registry {
    ceramic_doctype::Registry::new()
        .with(ceramic_doctype_tile::Tile::new())
        .and_then(|r| r.with(ceramic_doctype_caip10::Caip10Link))
        .and_then(|r| r.with(ceramic_doctype_counter::Counter))
        .and_then(|r| r.with(ceramic_engine::test_utils::Adder))
        .expect("four doctypes of distinct stream types")
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| ceramic_engine::fuzzing::hostile_log(data, &registry));
