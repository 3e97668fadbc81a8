//! Integration tests of the Tile doctype through its public API: the JS-made commits of
//! `crates/did/testdata/js-tile.json`, the JS handler's own states
//! (`testdata/js-tile-handler.json`), fast-json-patch `compare()` and the JS client's update
//! commits (`testdata/js-patch-*.json`), and the apply/replay property.

mod js_handler;
mod js_patch;
mod js_tile;
mod replay;
