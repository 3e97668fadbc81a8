//! A full disk on a real (tiny) file system: a 32 MiB tmpfs the test mounts. Writes below the
//! reserve are refused before RocksDB sees them; a "no space left" that slips past the guard
//! (the disk filled between two measures) leaves the store read-only instead of aborting the
//! process; a store opened on a full disk opens read-only; writes resume once space is freed.
//!
//! Mounting needs root (CI runs as root); where it is not permitted these tests say so and
//! check nothing (`crates/core/tests/disk_full.rs` then still covers the guard through the
//! node, with a threshold on the real disk).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ceramic_storage::BackendErrorKind;
use ceramic_storage::kv::{Backend, Batch, Column};
use ceramic_storage_rocks::{Config, RocksStorage, free_bytes};

const MIB: u64 = 1 << 20;

/// A tmpfs of `size_mib` MiB mounted on a temporary directory, unmounted on drop.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(size_mib: u64) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mib}m"), "tmpfs"])
            .arg(dir.path())
            .output()
            .is_ok_and(|out| out.status.success());
        if !mounted {
            eprintln!("mounting a tmpfs is not permitted here: this test checks nothing");
            return None;
        }
        Some(Tmpfs(dir))
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    /// Writes a filler file until the file system has at most `leave` bytes free (0: until
    /// "no space left").
    fn fill(&self, name: &str, leave: u64) -> PathBuf {
        let filler = self.path().join(name);
        let mut file = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0x5au8; 64 * 1024];
        loop {
            let free = free_bytes(self.path()).unwrap();
            if free <= leave {
                break;
            }
            let n = chunk.len().min(usize::try_from(free - leave).unwrap());
            match std::io::Write::write_all(&mut file, &chunk[..n]) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(28) => break,
                Err(e) => panic!("writing the filler: {e}"),
            }
        }
        filler
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.0.path()).status();
    }
}

fn put(store: &RocksStorage, key: u32, len: usize) -> Result<(), ceramic_storage::BackendError> {
    let mut batch = Batch::new();
    batch.put(Column::Blocks, key.to_be_bytes().to_vec(), vec![key as u8; len]);
    store.backend().write(batch)
}

fn get(store: &RocksStorage, key: u32) -> Option<usize> {
    store.backend().get(Column::Blocks, &key.to_be_bytes()).unwrap().map(|v| v.len())
}

#[test]
fn writes_below_the_reserve_are_refused_and_resume_when_space_is_freed() {
    let Some(fs) = Tmpfs::mount(32) else { return };
    let config = Config::default().with_min_free_bytes(8 * MIB);
    let store = ceramic_storage_rocks::open(fs.path().join("store"), config).unwrap();
    put(&store, 1, 1000).unwrap();
    let filler = fs.fill("filler", 6 * MIB);
    std::thread::sleep(ceramic_storage_rocks::RECHECK * 2);
    let refused = put(&store, 2, 1000).unwrap_err();
    assert_eq!(refused.kind(), BackendErrorKind::NoSpace, "{refused}");
    assert!(refused.to_string().contains("disk is full"), "{refused}");
    assert_eq!(get(&store, 1), Some(1000), "reads are served");
    assert_eq!(get(&store, 2), None);
    std::fs::remove_file(filler).unwrap();
    std::thread::sleep(ceramic_storage_rocks::RECHECK * 2);
    put(&store, 2, 1000).unwrap();
    assert_eq!(get(&store, 2), Some(1000));
}

#[test]
fn no_space_that_slips_past_the_guard_leaves_the_store_read_only_not_aborted() {
    let Some(fs) = Tmpfs::mount(32) else { return };
    // A measure is trusted for 5 s (or 1 MiB): the filler below is not seen in time.
    let recheck = Duration::from_secs(5);
    let config = Config::default().with_min_free_bytes(4 * MIB).with_space_recheck(recheck);
    let dir = fs.path().join("store");
    let store = ceramic_storage_rocks::open(&dir, config.clone()).unwrap();
    put(&store, 1, 1000).unwrap();
    let filler = fs.fill("filler", 0);
    // RocksDB itself now meets ENOSPC: the write fails with a typed error, the process lives.
    let mut slipped = None;
    for key in 2..40 {
        if let Err(e) = put(&store, key, 16 * 1024) {
            slipped = Some(e);
            break;
        }
    }
    let slipped = slipped.expect("a write meets the full disk");
    assert!(
        matches!(slipped.kind(), BackendErrorKind::NoSpace | BackendErrorKind::Io),
        "{slipped}"
    );
    assert!(store.backend().is_read_only(), "the failed writable instance was replaced");
    assert_eq!(get(&store, 1), Some(1000), "reads are served");
    // Writes stay refused while the disk is full, by the guard now.
    let refused = put(&store, 100, 10).unwrap_err();
    assert_eq!(refused.kind(), BackendErrorKind::NoSpace, "{refused}");
    assert!(refused.to_string().contains("disk is full"), "{refused}");

    std::fs::remove_file(filler).unwrap();
    std::thread::sleep(recheck + Duration::from_millis(200));
    put(&store, 100, 10).unwrap();
    assert!(!store.backend().is_read_only());
    assert_eq!(get(&store, 100), Some(10));
    assert_eq!(get(&store, 1), Some(1000));
    drop(store);
    let again = ceramic_storage_rocks::open(&dir, config).unwrap();
    assert_eq!(get(&again, 100), Some(10));
    assert_eq!(get(&again, 1), Some(1000));
}

#[test]
fn a_store_opened_on_a_full_disk_is_read_only_until_space_returns() {
    let Some(fs) = Tmpfs::mount(32) else { return };
    let dir = fs.path().join("store");
    let config = Config::default().with_min_free_bytes(8 * MIB);
    let store = ceramic_storage_rocks::open(&dir, config.clone()).unwrap();
    put(&store, 1, 1000).unwrap();
    drop(store);
    // Completely full: not a byte left.
    let filler = fs.fill("filler", 0);
    let store = ceramic_storage_rocks::open(&dir, config.clone()).unwrap();
    assert!(store.backend().is_read_only());
    assert_eq!(get(&store, 1), Some(1000));
    let refused = put(&store, 2, 10).unwrap_err();
    assert_eq!(refused.kind(), BackendErrorKind::NoSpace, "{refused}");
    // Flushing (as the node does at shutdown) writes nothing and succeeds.
    ceramic_storage_rocks::flush(&store).unwrap();
    // A new store cannot be created there: a typed error, not an abort.
    let err = ceramic_storage_rocks::open(fs.path().join("new"), config).unwrap_err();
    assert!(err.to_string().contains("disk is full"), "{err}");

    std::fs::remove_file(filler).unwrap();
    std::thread::sleep(ceramic_storage_rocks::RECHECK * 2);
    put(&store, 2, 10).unwrap();
    assert!(!store.backend().is_read_only());
    assert_eq!((get(&store, 1), get(&store, 2)), (Some(1000), Some(10)));
}
