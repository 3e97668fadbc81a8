//! Backups: each stream as one CAR v1 file holding its whole log and its state.
//!
//! A stream's archive has two roots: the tip, and the root of its state. Its blocks are every
//! block of the log ([`Storage::log_blocks`], in log order), then the state: its js-ceramic
//! JSON cut into raw (0x55) chunks of at most [`STATE_CHUNK`] bytes, listed in order by a
//! dag-cbor root block `[chunk links]` (so a state larger than a block fits).
//!
//! Restoring reads the CAR with [`ceramic_codecs::read_car`], which checks every block's hash,
//! so a tampered file is refused ([`Error::TamperedBackup`]); then it checks that the state
//! belongs to the stream and ends at the tip, and walks the log through the archive's blocks
//! (every commit present, each `prev` the previous entry). Only the log's blocks are stored,
//! with the state, in one atomic batch, and the stream is pinned. The state's content is taken
//! from the archive: to re-derive it instead, rebuild it with the engine
//! (`Engine::state_at(stream, tip)`) once the blocks are restored.

use std::collections::HashMap;
use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use ceramic_codecs::{Block, Cid, Codec, Ipld, cid_of, read_car, write_car};
use ceramic_doctype::StreamState;
use ceramic_streamid::StreamId;

use crate::core::{decode_state_json, stream_of};
use crate::error::{Error, Result};
use crate::log::walk_log;
use crate::{MAX_PAGE, Storage};

/// The multicodec of raw bytes, for the state's chunks.
const RAW: u64 = 0x55;
/// The largest chunk of a state's JSON in an archive.
pub const STATE_CHUNK: usize = 200_000;

/// Builds the CAR archive of a stored stream (see the module docs).
///
/// # Errors
/// [`Error::NotFound`], and the errors of [`Storage::log_blocks`].
pub fn export_stream(store: &dyn Storage, stream: &StreamId) -> Result<Vec<u8>> {
    let state = store.state(stream)?.ok_or(Error::NotFound(*stream))?;
    let mut blocks = store.log_blocks(&state)?;
    let json = state.to_js_json().to_string().into_bytes();
    let mut links = Vec::new();
    for chunk in json.chunks(STATE_CHUNK) {
        let block = Block::new(cid_of(RAW, chunk), chunk.to_vec())
            .map_err(|source| Error::Archive { stream: *stream, source })?;
        links.push(Ipld::Link(*block.cid()));
        blocks.push(block);
    }
    let root = Block::encode(Codec::DagCbor, &Ipld::List(links))
        .map_err(|source| Error::Archive { stream: *stream, source })?;
    let roots = [state.tip(), *root.cid()];
    blocks.push(root);
    write_car(&roots, &blocks).map_err(|source| Error::Archive { stream: *stream, source })
}

/// Reads the state out of an archive's blocks.
fn archived_state(
    stream: &StreamId,
    state_root: &Cid,
    blocks: &HashMap<Cid, &Block>,
) -> Result<StreamState> {
    let invalid = |reason| Error::InvalidBackup { stream: *stream, reason };
    let root = blocks.get(state_root).ok_or(invalid("the state's root block is missing"))?;
    let links: Ipld = ceramic_codecs::decode(root.data(), "state root")
        .map_err(|source| Error::TamperedBackup { stream: *stream, source })?;
    let Ipld::List(links) = links else { return Err(invalid("the state's root is not a list")) };
    let mut json = Vec::new();
    for link in links {
        let Ipld::Link(cid) = link else {
            return Err(invalid("the state's root lists a non-link"));
        };
        if cid.codec() != RAW {
            return Err(invalid("a chunk of the state is not a raw block"));
        }
        let chunk = blocks.get(&cid).ok_or(invalid("a chunk of the state is missing"))?;
        json.extend_from_slice(chunk.data());
    }
    decode_state_json(stream, &json)
        .map_err(|source| Error::BackupState { stream: *stream, source })
}

/// Restores a stream from its archive into `store` and pins it. If the store already has the
/// stream, the archive replaces its state only when the stored log is a prefix of the
/// archive's (the archive is newer on the same branch); otherwise the stored state is kept.
/// Returns the state now stored.
///
/// # Errors
/// [`Error::TamperedBackup`] when the CAR does not parse or a block does not match its CID;
/// [`Error::InvalidBackup`], [`Error::BackupState`], and the log errors
/// ([`Error::MissingBlock`], [`Error::BrokenLog`], [`Error::Undecodable`]) for an archive that
/// does not hold `stream`'s complete log. Nothing is stored then.
pub fn import_stream(store: &dyn Storage, stream: &StreamId, car: &[u8]) -> Result<StreamState> {
    let car = read_car(car).map_err(|source| Error::TamperedBackup { stream: *stream, source })?;
    let [tip, state_root] = car.roots[..] else {
        return Err(Error::InvalidBackup {
            stream: *stream,
            reason: "the CAR does not have exactly two roots (the tip and the state)",
        });
    };
    let blocks: HashMap<Cid, &Block> = car.blocks.iter().map(|b| (*b.cid(), b)).collect();
    let state = archived_state(stream, &state_root, &blocks)?;
    if state.tip() != tip {
        return Err(Error::InvalidBackup {
            stream: *stream,
            reason: "the state's tip is not the CAR's first root",
        });
    }
    let id = stream_of(&state)?;
    let log = walk_log(&state, id, &mut |cid| Ok(blocks.get(cid).map(|b| (*b).clone())))?;
    let replace = match store.state(stream)? {
        None => true,
        Some(local) => {
            local.log().len() <= state.log().len()
                && local.log().iter().zip(state.log()).all(|(a, b)| a.cid == b.cid)
        }
    };
    let stored = if replace {
        store.write_commit(&log, &state)?;
        state
    } else {
        store.state(stream)?.ok_or(Error::NotFound(*stream))?
    };
    store.pin(stream)?;
    Ok(stored)
}

/// What a backup or restore of many streams did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Report {
    /// Streams backed up or restored.
    pub streams: usize,
    /// Archive bytes written or read.
    pub bytes: usize,
    /// The streams that failed, with why; the others were still done.
    pub failures: Vec<(StreamId, Error)>,
}

/// Where stream archives are kept. Implement [`Backup::put`], [`Backup::get`] and
/// [`Backup::list`]; the rest is provided.
pub trait Backup: Send + Sync {
    /// Stores `stream`'s archive, replacing any older one (atomically where the medium allows).
    ///
    /// # Errors
    /// [`Error::BackupIo`] or the backend's equivalent.
    fn put(&self, stream: &StreamId, car: &[u8]) -> Result<()>;

    /// `stream`'s archive, if there is one.
    ///
    /// # Errors
    /// [`Error::BackupIo`] or the backend's equivalent.
    fn get(&self, stream: &StreamId) -> Result<Option<Vec<u8>>>;

    /// The streams with an archive, in StreamID byte order.
    ///
    /// # Errors
    /// [`Error::BackupIo`] or the backend's equivalent.
    fn list(&self) -> Result<Vec<StreamId>>;

    /// Backs up one stored stream; returns the archive's size.
    ///
    /// # Errors
    /// The errors of [`export_stream`] and [`Backup::put`].
    fn backup_stream(&self, store: &dyn Storage, stream: &StreamId) -> Result<usize> {
        let car = export_stream(store, stream)?;
        self.put(stream, &car)?;
        Ok(car.len())
    }

    /// Restores one stream into `store` (see [`import_stream`]).
    ///
    /// # Errors
    /// [`Error::NoBackup`], and the errors of [`Backup::get`] and [`import_stream`].
    fn restore_stream(&self, store: &dyn Storage, stream: &StreamId) -> Result<StreamState> {
        let car = self.get(stream)?.ok_or(Error::NoBackup(*stream))?;
        import_stream(store, stream, &car)
    }

    /// Backs up every pinned stream. A stream that fails is reported, and the others are still
    /// backed up.
    ///
    /// # Errors
    /// Only when the pins cannot be listed.
    fn backup_pinned(&self, store: &dyn Storage) -> Result<Report> {
        let mut report = Report::default();
        let mut after = None;
        loop {
            let page = store.pins(after.as_ref(), MAX_PAGE)?;
            for stream in &page.streams {
                match self.backup_stream(store, stream) {
                    Ok(bytes) => {
                        report.streams += 1;
                        report.bytes += bytes;
                    }
                    Err(e) => report.failures.push((*stream, e)),
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(report),
            }
        }
    }

    /// Restores every archived stream into `store`. A stream that fails is reported, and the
    /// others are still restored.
    ///
    /// # Errors
    /// Only when the archives cannot be listed.
    fn restore_all(&self, store: &dyn Storage) -> Result<Report> {
        let mut report = Report::default();
        for stream in self.list()? {
            let restored = self
                .get(&stream)
                .and_then(|car| car.ok_or(Error::NoBackup(stream)))
                .and_then(|car| import_stream(store, &stream, &car).map(|_| car.len()));
            match restored {
                Ok(bytes) => {
                    report.streams += 1;
                    report.bytes += bytes;
                }
                Err(e) => report.failures.push((stream, e)),
            }
        }
        Ok(report)
    }
}

/// Archives as files `<dir>/<streamid>.car`, each written to a temporary file, synced and
/// renamed into place, so a crash leaves either the old or the new archive.
#[derive(Debug, Clone)]
pub struct DirectoryBackup {
    dir: PathBuf,
    sync: bool,
}

impl DirectoryBackup {
    /// Keeps archives in `dir`, creating it if needed. Writes are synced to disk.
    ///
    /// # Errors
    /// [`Error::BackupIo`] when the directory cannot be created.
    pub fn new(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(|source| Error::BackupIo { path: dir.clone(), source })?;
        Ok(DirectoryBackup { dir, sync: true })
    }

    /// Whether each archive (and the directory entry) is synced to disk before `put` returns.
    pub fn with_sync(mut self, sync: bool) -> Self {
        self.sync = sync;
        self
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of `stream`'s archive.
    pub fn path_of(&self, stream: &StreamId) -> PathBuf {
        self.dir.join(format!("{stream}.car"))
    }
}

impl Backup for DirectoryBackup {
    fn put(&self, stream: &StreamId, car: &[u8]) -> Result<()> {
        let path = self.path_of(stream);
        let tmp = self.dir.join(format!(".{stream}.car.tmp"));
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::BackupIo { path, source }
        };
        let mut file = fs::File::create(&tmp).map_err(io(&tmp))?;
        file.write_all(car).map_err(io(&tmp))?;
        if self.sync {
            file.sync_all().map_err(io(&tmp))?;
        }
        drop(file);
        fs::rename(&tmp, &path).map_err(io(&path))?;
        if self.sync {
            fs::File::open(&self.dir).and_then(|d| d.sync_all()).map_err(io(&self.dir))?;
        }
        Ok(())
    }

    fn get(&self, stream: &StreamId) -> Result<Option<Vec<u8>>> {
        let path = self.path_of(stream);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(source) => Err(Error::BackupIo { path, source }),
        }
    }

    /// Files named `<streamid>.car`; other files are ignored.
    fn list(&self) -> Result<Vec<StreamId>> {
        let io = |source| Error::BackupIo { path: self.dir.clone(), source };
        let mut streams = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io)? {
            let name = entry.map_err(io)?.file_name();
            let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".car")) else { continue };
            if let Ok(stream) = id.parse::<StreamId>() {
                streams.push(stream);
            }
        }
        streams.sort_by_key(StreamId::to_bytes);
        Ok(streams)
    }
}
