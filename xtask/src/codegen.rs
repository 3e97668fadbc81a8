//! `cargo xtask codegen [--check]`: the Rust code of the node's gRPC API, generated from
//! `crates/proto/proto/**/*.proto` into the committed `crates/proto/src/generated/`.
//!
//! The `.proto` files are compiled by `protox` (a protobuf compiler in pure Rust, so no `protoc`
//! binary is needed) into a `FileDescriptorSet`, which `tonic-prost-build` turns into prost
//! messages plus a tonic client and server. The output is then formatted with the workspace's
//! `rustfmt.toml`, so `cargo fmt --check` and `codegen --check` agree on every byte.
//!
//! The encoded `FileDescriptorSet` is written next to the code as `descriptor.bin`: the node
//! serves it through gRPC reflection, so `grpcurl` can list and call the API without the
//! `.proto` files.
//!
//! * without `--check` the generated files replace the contents of `crates/proto/src/generated/`;
//! * with `--check` they are generated into a temporary directory and compared byte for byte with
//!   the committed ones; a difference, a missing file or a stale extra file is an error naming it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Where the `.proto` files live (also the include root), relative to the workspace root.
const PROTO_DIR: &str = "crates/proto/proto";
/// Where the generated Rust files are committed, relative to the workspace root.
const GENERATED_DIR: &str = "crates/proto/src/generated";
/// The encoded descriptor set's file name in [`GENERATED_DIR`].
const DESCRIPTOR: &str = "descriptor.bin";

/// Generates (or, with `check`, verifies) the committed gRPC code.
pub(crate) fn run(root: &Path, check: bool) -> Result<()> {
    let proto_dir = root.join(PROTO_DIR);
    let protos = proto_files(&proto_dir)?;
    if protos.is_empty() {
        bail!("codegen: no .proto files under {}", proto_dir.display());
    }
    let generated_dir = root.join(GENERATED_DIR);

    if !check {
        let tmp = tempfile::tempdir().context("creating a temporary directory")?;
        generate(root, &proto_dir, &protos, tmp.path())?;
        // Replace the directory's contents only once generation has succeeded.
        if generated_dir.exists() {
            for old in rust_files(&generated_dir)? {
                fs::remove_file(generated_dir.join(&old))
                    .with_context(|| format!("removing {}", old.display()))?;
            }
        }
        fs::create_dir_all(&generated_dir)
            .with_context(|| format!("creating {}", generated_dir.display()))?;
        for file in rust_files(tmp.path())? {
            fs::copy(tmp.path().join(&file), generated_dir.join(&file))
                .with_context(|| format!("writing {}", generated_dir.join(&file).display()))?;
        }
        println!("codegen: {} .proto file(s) → {}", protos.len(), generated_dir.display());
        return Ok(());
    }

    let tmp = tempfile::tempdir().context("creating a temporary directory")?;
    generate(root, &proto_dir, &protos, tmp.path())?;
    let fresh = rust_files(tmp.path())?;
    let committed = if generated_dir.exists() { rust_files(&generated_dir)? } else { Vec::new() };
    let mut problems = Vec::new();
    for file in &fresh {
        let new = fs::read(tmp.path().join(file))?;
        match fs::read(generated_dir.join(file)) {
            Ok(old) if old == new => {}
            Ok(_) => problems.push(format!("{GENERATED_DIR}/{} is out of date", file.display())),
            Err(_) => problems.push(format!("{GENERATED_DIR}/{} is missing", file.display())),
        }
    }
    for file in committed.iter().filter(|f| !fresh.contains(f)) {
        problems.push(format!("{GENERATED_DIR}/{} is not generated any more", file.display()));
    }
    if !problems.is_empty() {
        bail!("codegen --check failed (run `cargo xtask codegen`):\n  {}", problems.join("\n  "));
    }
    println!("codegen --check: {} generated file(s) up to date", fresh.len());
    Ok(())
}

/// Compiles `protos` with protox and writes formatted Rust into `out_dir`.
fn generate(root: &Path, proto_dir: &Path, protos: &[PathBuf], out_dir: &Path) -> Result<()> {
    let fds = protox::compile(protos, [proto_dir]).context("compiling the .proto files")?;
    fs::write(out_dir.join(DESCRIPTOR), prost::Message::encode_to_vec(&fds))
        .context("writing the descriptor set")?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .build_transport(true)
        .emit_rerun_if_changed(false)
        .out_dir(out_dir)
        .compile_fds(fds)
        .context("generating Rust from the descriptors")?;
    let files: Vec<_> = rust_files(out_dir)?
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "rs"))
        .collect();
    if files.is_empty() {
        bail!("codegen: tonic-prost-build wrote no files");
    }
    rustfmt(root, &files.iter().map(|f| out_dir.join(f)).collect::<Vec<_>>())
}

/// Formats `files` in place with the workspace's `rustfmt.toml`.
fn rustfmt(root: &Path, files: &[PathBuf]) -> Result<()> {
    let status = Command::new("rustfmt")
        .arg("--config-path")
        .arg(root.join("rustfmt.toml"))
        .args(files)
        .current_dir(root)
        .status()
        .context("running rustfmt (rustup component add rustfmt)")?;
    if !status.success() {
        bail!("rustfmt failed on the generated code ({status})");
    }
    Ok(())
}

/// Every `.proto` file under `dir`, sorted, as full paths.
fn proto_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(at) = pending.pop() {
        for entry in fs::read_dir(&at).with_context(|| format!("reading {}", at.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "proto") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The generated files (`.rs` and the descriptor set) directly in `dir`, sorted, as names
/// relative to it.
fn rust_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_file() && path.extension().is_some_and(|e| e == "rs" || e == "bin") {
            out.push(PathBuf::from(path.file_name().context("a file has a name")?));
        }
    }
    out.sort();
    Ok(out)
}
