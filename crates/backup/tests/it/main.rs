//! ceramic-backup's tests with real components: a real directory, a real S3-compatible server
//! (s3rver from npm, `tools/s3rver`), a real helia peer fetching over Bitswap from our node
//! (`tools/helia`), the real engine re-validating restores.

mod dir;
mod fixtures;
mod ipfs;
mod restore;
mod s3;
