//! Where a [`DirObjectStore`](super::DirObjectStore) keeps things on disk,
//! and how anything becomes visible there: whole, at once and durably.
//!
//! ```text
//! <root>/objects/<key>                            the objects, nothing else
//! <root>/.multipart/<upload id>/key               the key the upload is for
//! <root>/.multipart/<upload id>/part-00042        pointer: "<etag> <crc64nvme>" of part 42's current bytes
//! <root>/.multipart/<upload id>/data-00042-<etag> part 42's bytes (uploads without a shape)
//! <root>/.multipart/<upload id>/shape             shaped uploads: "<total size> <part size>"
//! <root>/.multipart/<upload id>/object            shaped uploads: the object, parts in place
//! <root>/.tmp/                                    files being written, uploads being discarded
//! ```
//!
//! An object is written to a fresh file in `.tmp/` (a shaped upload's is
//! its own `object` file instead), fsynced, then renamed into place and its
//! directory fsynced, so `objects/` only ever holds whole objects. An
//! upload's directory is built in `.tmp/` and renamed into `.multipart/`
//! whole, so it always knows its key and shape, and it leaves in one rename
//! too. A part becomes current when a new pointer is renamed over the old
//! one, so a retried part replaces, never duplicates. The pointer also
//! holds the part's CRC64NVME, computed as its bytes were written, so
//! listing and completing an upload read no part's bytes, in this process
//! or after a restart. A crash leaves at most stray entries in `.tmp/` and
//! abandoned uploads, which are never listed and which [`Layout::sweep`]
//! removes: a `.tmp/` entry's name begins with the id of the process that
//! made it, so the first sweep after that process is gone removes it (the
//! directory store's owner sweeps when it starts), and the rest once old.
//!
//! This module must only be handed keys that passed `keys::validate_key`
//! (the store checks each first) and takes upload ids only through
//! [`Layout::upload_dir`], which checks them; it never writes a part's
//! bytes, which is `part_writer`'s job.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use super::{io_error, is_absent, DirStoreConfig, SweepReport};
use crate::checksum::{self, Crc64Nvme};
use crate::keys::{validate_key, validate_prefix};
use crate::ports::object_store::{
    CompletedPart, Error, ObjectMeta, PartInfo, PartNumber, UploadId, UploadShape,
};

/// Attempts to rename into a directory that a concurrent `delete` may have
/// pruned as empty between our `create_dir_all` and our `rename`.
const INSTALL_ATTEMPTS: usize = 3;

const KEY_FILE: &str = "key";
const SHAPE_FILE: &str = "shape";
const SHAPED_OBJECT: &str = "object";
const POINTER_PREFIX: &str = "part-";

#[derive(Debug)]
pub(super) struct Layout {
    root: PathBuf,
    objects: PathBuf,
    multipart: PathBuf,
    tmp: PathBuf,
    config: DirStoreConfig,
    /// Makes temp names and upload ids unique within the process; the
    /// process id and clock make them unique across processes sharing a
    /// root.
    counter: AtomicU64,
}

impl Layout {
    /// The layout under `root`, its directories created if needed.
    pub(super) fn create(root: PathBuf, config: DirStoreConfig) -> Result<Layout, Error> {
        let layout = Layout {
            objects: root.join("objects"),
            multipart: root.join(".multipart"),
            tmp: root.join(".tmp"),
            root,
            config,
            counter: AtomicU64::new(0),
        };
        for dir in [&layout.objects, &layout.multipart, &layout.tmp] {
            fs::create_dir_all(dir).map_err(io_error(format!("creating {}", dir.display())))?;
        }
        Ok(layout)
    }

    pub(super) fn root(&self) -> &Path {
        &self.root
    }

    pub(super) fn object_path(&self, key: &str) -> PathBuf {
        self.objects.join(key)
    }

    fn unique_suffix(&self) -> String {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let count = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("{}-{nanos}-{count}", std::process::id())
    }

    /// A new, empty file in `.tmp/`, removed again unless installed.
    pub(super) fn temp_file(&self) -> Result<(TempPath, File), Error> {
        let path = self.tmp.join(format!("{}.tmp", self.unique_suffix()));
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(io_error(format!("creating {}", path.display())))?;
        Ok((TempPath::new(path), file))
    }

    /// 32 lowercase hex digits, unique to this root: an upload id, or a
    /// part's etag.
    pub(super) fn new_upload_id(&self) -> String {
        let digest = Sha256::new()
            .chain_update(self.root.as_os_str().as_encoded_bytes())
            .chain_update(self.unique_suffix())
            .finalize();
        hex::encode(&digest[..16])
    }

    /// Removes what crashed or abandoned writers left behind: entries of
    /// `.tmp/` made by a process that no longer runs, and entries and
    /// uploads untouched for `older_than`. (An upload is not a process's:
    /// a fanned-out file's upload outlives the step that began it.)
    pub(super) fn sweep(&self, older_than: Duration) -> Result<SweepReport, Error> {
        let now = SystemTime::now();
        let is_stale = |path: &Path| {
            fs::symlink_metadata(path)
                .and_then(|meta| meta.modified())
                .map(|modified| now.duration_since(modified).unwrap_or_default() >= older_than)
                .unwrap_or(false)
        };
        let mut report = SweepReport::default();
        for path in entries_of(&self.tmp)? {
            if (is_stale(&path) || made_by_a_gone_process(&path)) && remove_any(&path).is_ok() {
                report.temp_entries += 1;
            }
        }
        for path in entries_of(&self.multipart)? {
            if is_stale(&path) && fs::remove_dir_all(&path).is_ok() {
                report.uploads += 1;
            }
        }
        Ok(report)
    }

    /// Writes `body` as the object at `key`, replacing any earlier one.
    pub(super) fn write_object(&self, key: &str, body: &[u8]) -> Result<(), Error> {
        let (temp, mut file) = self.temp_file()?;
        let context = || format!("writing {}", temp.path.display());
        file.write_all(body).map_err(io_error(context()))?;
        file.sync_all().map_err(io_error(context()))?;
        drop(file);
        install(temp, &self.object_path(key), key)
    }

    /// Deletes the object at `key`, if there is one, and the directories
    /// that held only it.
    pub(super) fn remove_object(&self, key: &str) -> Result<(), Error> {
        let path = self.object_path(key);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(error) if is_absent(&error) => return Ok(()),
            Err(error) => {
                return Err(Error::Io {
                    context: format!("deleting {key:?}"),
                    source: error,
                })
            }
        }
        // Prune directories the delete emptied, so a purged recording
        // leaves no empty tree; `remove_dir` refuses non-empty ones.
        let mut dir = path.parent();
        while let Some(current) = dir {
            if current == self.objects || fs::remove_dir(current).is_err() {
                break;
            }
            dir = current.parent();
        }
        Ok(())
    }

    /// Lists every object under `prefix`, starting at the deepest directory
    /// the prefix names rather than at the root.
    pub(super) fn list_objects(&self, prefix: &str) -> Result<Vec<ObjectMeta>, Error> {
        let (dir_part, name_prefix) = match prefix.rfind('/') {
            Some(slash) => prefix.split_at(slash + 1),
            None => ("", prefix),
        };
        let start = self.objects.join(dir_part);
        let Some(entries) = read_dir_if_present(&start)? else {
            return Ok(Vec::new());
        };
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_error(format!("listing {}", start.display())))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.starts_with(name_prefix) {
                collect_objects(&entry, format!("{dir_part}{name}"), &mut found)?;
            }
        }
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }

    /// The directories directly under `prefix` (a level: empty or ending
    /// in `/`) as `prefix` + `name/`, in key order. A delete prunes the
    /// directories it empties, so each holds some object, short of a
    /// delete racing this listing.
    pub(super) fn list_prefixes(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let start = self.objects.join(prefix);
        let Some(entries) = read_dir_if_present(&start)? else {
            return Ok(Vec::new());
        };
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_error(format!("listing {}", start.display())))?;
            // `file_type` does not follow symlinks, as in `collect_objects`.
            if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let level = format!("{prefix}{name}/");
            if validate_prefix(&level).is_ok() {
                found.push(level);
            }
        }
        found.sort();
        Ok(found)
    }

    /// Creates an upload to `key` and returns its id. Its directory is
    /// built in `.tmp/` and renamed in whole, so an upload directory always
    /// knows its key (and its shape).
    pub(super) fn create_upload(
        &self,
        key: &str,
        shape: Option<UploadShape>,
    ) -> Result<UploadId, Error> {
        let id = self.new_upload_id();
        let staging = TempPath::new(self.tmp.join(format!("{}.upload", self.unique_suffix())));
        fs::create_dir(&staging.path)
            .map_err(io_error(format!("creating {}", staging.path.display())))?;
        write_small_file(&staging.path.join(KEY_FILE), key.as_bytes())?;
        if let Some(shape) = shape {
            let text = format!("{} {}", shape.total_size, shape.part_size);
            write_small_file(&staging.path.join(SHAPE_FILE), text.as_bytes())?;
            let object = staging.path.join(SHAPED_OBJECT);
            let context = || format!("creating {}", object.display());
            File::create(&object)
                .and_then(|f| f.set_len(shape.total_size))
                .map_err(io_error(context()))?;
        }
        sync_dir(&staging.path)?;
        install(staging, &self.multipart.join(&id), key)?;
        Ok(UploadId::new(id))
    }

    /// The staging directory of `upload_id`, if it is an upload to `key`.
    pub(super) fn upload_dir(&self, key: &str, upload_id: &UploadId) -> Result<PathBuf, Error> {
        let no_such_upload = || Error::NoSuchUpload {
            key: key.to_owned(),
            upload_id: upload_id.clone(),
        };
        let id = upload_id.as_str();
        // The id comes back from a workflow's state, so it is checked
        // before it becomes part of a path.
        let well_formed = id.len() == 32
            && id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !well_formed {
            return Err(no_such_upload());
        }
        let dir = self.multipart.join(id);
        match fs::read_to_string(dir.join(KEY_FILE)) {
            Ok(stored) if stored == key => Ok(dir),
            Ok(_) => Err(no_such_upload()),
            Err(error) if is_absent(&error) => Err(no_such_upload()),
            Err(error) => Err(Error::Io {
                context: format!("reading upload {id}"),
                source: error,
            }),
        }
    }

    /// The ids of the uploads to `key` in `.multipart/`.
    pub(super) fn uploads_to(&self, key: &str) -> Result<Vec<UploadId>, Error> {
        let mut ids = Vec::new();
        for dir in entries_of(&self.multipart)? {
            let Some(id) = dir.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
                continue;
            };
            match fs::read_to_string(dir.join(KEY_FILE)) {
                Ok(stored) if stored == key => ids.push(UploadId::new(id)),
                Ok(_) => {}
                // Completed or aborted since the listing.
                Err(error) if is_absent(&error) => {}
                Err(error) => {
                    return Err(Error::Io {
                        context: format!("reading upload {id}"),
                        source: error,
                    })
                }
            }
        }
        Ok(ids)
    }

    /// Takes an upload's staging directory out of `.multipart/` in one
    /// rename (so the upload is gone at once), then deletes it.
    pub(super) fn discard_upload(&self, dir: &Path) -> Result<(), Error> {
        let doomed = self.tmp.join(format!("{}.discarded", self.unique_suffix()));
        fs::rename(dir, &doomed).map_err(io_error(format!("discarding {}", dir.display())))?;
        if let Err(error) = fs::remove_dir_all(&doomed) {
            // The upload is already gone; what is left is garbage for the sweep.
            tracing::warn!(path = %doomed.display(), %error, "could not remove a discarded upload");
        }
        Ok(())
    }

    /// Forgets part `number` of the upload in `dir` before its bytes are
    /// overwritten in place (shaped uploads), so that a part that fails
    /// midway is missing rather than silently mixed.
    pub(super) fn forget_part(&self, dir: &Path, number: PartNumber) -> Result<(), Error> {
        let pointer = dir.join(pointer_file(number));
        match fs::remove_file(&pointer) {
            Ok(()) => Ok(()),
            Err(error) if is_absent(&error) => Ok(()),
            Err(error) => Err(Error::Io {
                context: format!("removing {}", pointer.display()),
                source: error,
            }),
        }
    }

    /// Makes `etag` (whose bytes have CRC `crc64nvme`) the current version
    /// of part `number` of the upload to `key` in `dir`: a staged part's
    /// bytes are renamed in under their etag, then the pointer is swapped in
    /// one rename, so a reader sees the old version of the part or the new
    /// one.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn record_part(
        &self,
        dir: &Path,
        key: &str,
        upload_id: &UploadId,
        number: PartNumber,
        etag: &str,
        crc64nvme: Crc64Nvme,
        staged: Option<TempPath>,
    ) -> Result<(), Error> {
        let no_such_upload = |error: io::Error| {
            if error.kind() == io::ErrorKind::NotFound {
                // Aborted or completed while this part was uploading.
                Error::NoSuchUpload {
                    key: key.to_owned(),
                    upload_id: upload_id.clone(),
                }
            } else {
                Error::Io {
                    context: format!("storing part {number}"),
                    source: error,
                }
            }
        };
        if let Some(mut staged) = staged {
            fs::rename(&staged.path, dir.join(data_file(number, etag))).map_err(no_such_upload)?;
            staged.installed = true;
        }
        let (mut pointer, mut file) = self.temp_file()?;
        let context = || format!("writing {}", pointer.path.display());
        file.write_all(format!("{etag} {crc64nvme}").as_bytes())
            .map_err(io_error(context()))?;
        drop(file);
        fs::rename(&pointer.path, dir.join(pointer_file(number))).map_err(no_such_upload)?;
        pointer.installed = true;
        Ok(())
    }

    /// The current version of each listed part, checked before anything is
    /// written: first that each is the uploaded one, then the sizes.
    pub(super) fn resolve_listed(
        &self,
        dir: &Path,
        shape: Option<UploadShape>,
        parts: &[CompletedPart],
    ) -> Result<Vec<ResolvedPart>, Error> {
        let mut resolved = Vec::with_capacity(parts.len());
        for part in parts {
            let invalid = |reason: String| Error::InvalidPart {
                part_number: part.part_number,
                reason,
            };
            let found = resolve_part(dir, shape, part.part_number)?
                .ok_or_else(|| invalid("it was never uploaded".to_owned()))?;
            if found.etag != part.etag {
                return Err(invalid(format!(
                    "etag {:?} is not the uploaded part's {:?}",
                    part.etag, found.etag
                )));
            }
            resolved.push(found);
        }
        let all_but_last = &resolved[..resolved.len().saturating_sub(1)];
        if let Some(small) = all_but_last
            .iter()
            .find(|part| part.size < self.config.min_part_size)
        {
            return Err(Error::PartTooSmall {
                part_number: small.number,
                size: small.size,
                minimum: self.config.min_part_size,
            });
        }
        Ok(resolved)
    }

    /// The parts of the upload in `dir` that have a current version, in
    /// part order.
    pub(super) fn uploaded_parts(&self, dir: &Path) -> Result<Vec<PartInfo>, Error> {
        let shape = upload_shape(dir)?;
        let mut parts = Vec::new();
        for path in entries_of(dir)? {
            let number = path
                .file_name()
                .and_then(|name| name.to_str())
                .and_then(|name| name.strip_prefix(POINTER_PREFIX))
                .and_then(|digits| digits.parse::<u32>().ok())
                .and_then(|number| PartNumber::new(number).ok());
            let Some(number) = number else { continue };
            if let Some(part) = resolve_part(dir, shape, number)? {
                parts.push(PartInfo {
                    part_number: part.number,
                    etag: part.etag,
                    size: part.size,
                    crc64nvme: Some(part.crc64nvme),
                });
            }
        }
        parts.sort_by_key(|part| part.part_number);
        Ok(parts)
    }

    /// Concatenates resolved parts into a new temp file. `io::copy` between
    /// files is `copy_file_range` on Linux: the kernel copies, no user-space
    /// buffer. Each part must still have the size it was uploaded with.
    pub(super) fn concatenate(&self, parts: &[ResolvedPart]) -> Result<(TempPath, u64), Error> {
        let (temp, mut out) = self.temp_file()?;
        let mut total = 0u64;
        for part in parts {
            let context = || format!("copying {}", part.data.display());
            let mut input = File::open(&part.data).map_err(io_error(context()))?;
            let copied = io::copy(&mut input, &mut out).map_err(io_error(context()))?;
            if copied != part.size {
                return Err(Error::InvalidPart {
                    part_number: part.number,
                    reason: format!("its staged bytes changed size ({} to {copied})", part.size),
                });
            }
            total += copied;
        }
        out.sync_all()
            .map_err(io_error(format!("syncing {}", temp.path.display())))?;
        Ok((temp, total))
    }
}

/// The full-object CRC64NVME of `parts` laid end to end, from the CRCs
/// recorded with them: no byte is read.
pub(super) fn composed_checksum(parts: &[ResolvedPart]) -> Crc64Nvme {
    checksum::compose(parts.iter().map(|part| (part.crc64nvme, part.size)))
}

/// A shaped upload's object file, where its parts are written in place.
pub(super) fn shaped_object(dir: &Path) -> PathBuf {
    dir.join(SHAPED_OBJECT)
}

/// The shape of the upload staged in `dir`, if it was created shaped.
pub(super) fn upload_shape(dir: &Path) -> Result<Option<UploadShape>, Error> {
    let path = dir.join(SHAPE_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if is_absent(&error) => return Ok(None),
        Err(error) => {
            return Err(Error::Io {
                context: format!("reading {}", path.display()),
                source: error,
            })
        }
    };
    let mut numbers = text.split_whitespace().map(str::parse::<u64>);
    match (numbers.next(), numbers.next()) {
        (Some(Ok(total_size)), Some(Ok(part_size))) => Ok(Some(UploadShape {
            total_size,
            part_size,
        })),
        _ => Err(Error::Io {
            context: format!("reading {}", path.display()),
            source: io::Error::new(io::ErrorKind::InvalidData, "not \"<total> <part size>\""),
        }),
    }
}

/// Whether the `.tmp/` entry at `path` was made by a process that no
/// longer runs: every name there begins with its maker's process id
/// ([`Layout::unique_suffix`]). Only where `/proc` says which processes run
/// (Linux); elsewhere, and for a name without an id, the entry waits for
/// the sweep by age. A reused id only delays the removal.
fn made_by_a_gone_process(path: &Path) -> bool {
    let proc_root = Path::new("/proc");
    let pid = path
        .file_name()
        .and_then(|name| name.to_str())
        .and_then(|name| name.split_once('-'))
        .and_then(|(pid, _)| pid.parse::<u32>().ok());
    match pid {
        Some(pid) if pid != std::process::id() && proc_root.join("self").exists() => {
            !proc_root.join(pid.to_string()).exists()
        }
        _ => false,
    }
}

fn write_small_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let context = || format!("writing {}", path.display());
    let mut file = File::create(path).map_err(io_error(context()))?;
    file.write_all(bytes).map_err(io_error(context()))?;
    file.sync_all().map_err(io_error(context()))
}

fn pointer_file(number: PartNumber) -> String {
    format!("{POINTER_PREFIX}{:05}", number.get())
}

fn data_file(number: PartNumber, etag: &str) -> String {
    format!("data-{:05}-{etag}", number.get())
}

/// A file in `.tmp/` that is deleted when dropped unless it was installed,
/// so an error or a cancelled future leaves nothing behind.
pub(super) struct TempPath {
    pub(super) path: PathBuf,
    installed: bool,
}

impl TempPath {
    pub(super) fn new(path: PathBuf) -> TempPath {
        TempPath {
            path,
            installed: false,
        }
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if !self.installed {
            let _ = remove_any(&self.path);
        }
    }
}

fn remove_any(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(error) => Err(error),
    }
}

fn entries_of(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let entries = fs::read_dir(dir).map_err(io_error(format!("listing {}", dir.display())))?;
    Ok(entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .collect())
}

fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error(format!("syncing {}", dir.display())))
}

/// Renames a finished temp file to `dest` and makes the rename durable.
pub(super) fn install(mut temp: TempPath, dest: &Path, key: &str) -> Result<(), Error> {
    let conflict = |reason: &str| Error::Conflict {
        key: key.to_owned(),
        reason: reason.to_owned(),
    };
    let parent = dest.parent().ok_or_else(|| conflict("it has no parent"))?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        match fs::create_dir_all(parent) {
            Ok(()) => {}
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::NotADirectory | io::ErrorKind::AlreadyExists
                ) =>
            {
                return Err(conflict(
                    "an object is stored where a parent of it would be",
                ));
            }
            Err(error) => {
                return Err(Error::Io {
                    context: format!("creating {}", parent.display()),
                    source: error,
                })
            }
        }
        match fs::rename(&temp.path, dest) {
            Ok(()) => {
                temp.installed = true;
                return sync_dir(parent);
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound && attempt < INSTALL_ATTEMPTS => {
                continue
            }
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::IsADirectory
                        | io::ErrorKind::DirectoryNotEmpty
                        | io::ErrorKind::AlreadyExists
                ) =>
            {
                return Err(conflict("other objects are stored under it as a prefix"));
            }
            Err(error) => {
                return Err(Error::Io {
                    context: format!("renaming into {}", dest.display()),
                    source: error,
                })
            }
        }
    }
}

/// The entries of directory `dir`, or `None` when it does not exist.
fn read_dir_if_present(dir: &Path) -> Result<Option<fs::ReadDir>, Error> {
    match fs::read_dir(dir) {
        Ok(entries) => Ok(Some(entries)),
        Err(error) if is_absent(&error) => Ok(None),
        Err(error) => Err(Error::Io {
            context: format!("listing {}", dir.display()),
            source: error,
        }),
    }
}

fn collect_objects(
    entry: &fs::DirEntry,
    key: String,
    found: &mut Vec<ObjectMeta>,
) -> Result<(), Error> {
    // `file_type` does not follow symlinks: a link is not an object, and
    // following one could leave the root.
    let Ok(file_type) = entry.file_type() else {
        return Ok(());
    };
    if file_type.is_file() {
        // Names that are not valid keys could not have been stored through
        // this store and could not be addressed through it either.
        if validate_key(&key).is_ok() {
            if let Ok(meta) = entry.metadata() {
                found.push(ObjectMeta {
                    key,
                    size: meta.len(),
                    crc64nvme: None,
                });
            }
        }
    } else if file_type.is_dir() {
        let children = match fs::read_dir(entry.path()) {
            Ok(children) => children,
            // Removed since we saw it: nothing to list.
            Err(error) if is_absent(&error) => return Ok(()),
            Err(error) => {
                return Err(Error::Io {
                    context: format!("listing {}", entry.path().display()),
                    source: error,
                })
            }
        };
        for child in children {
            let child = child.map_err(io_error(format!("listing {}", entry.path().display())))?;
            let name = child.file_name();
            let Some(name) = name.to_str() else { continue };
            collect_objects(&child, format!("{key}/{name}"), found)?;
        }
    }
    Ok(())
}

pub(super) struct ResolvedPart {
    number: PartNumber,
    etag: String,
    crc64nvme: Crc64Nvme,
    data: PathBuf,
    size: u64,
}

/// The current version of an uploaded part, if any.
fn resolve_part(
    dir: &Path,
    shape: Option<UploadShape>,
    number: PartNumber,
) -> Result<Option<ResolvedPart>, Error> {
    let pointer = dir.join(pointer_file(number));
    let text = match fs::read_to_string(&pointer) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(Error::Io {
                context: format!("reading {}", pointer.display()),
                source: error,
            })
        }
    };
    let (etag, crc64nvme) = text
        .split_once(' ')
        .and_then(|(etag, crc)| Some((etag.to_owned(), crc.parse::<Crc64Nvme>().ok()?)))
        .ok_or_else(|| Error::Io {
            context: format!("reading {}", pointer.display()),
            source: io::Error::new(io::ErrorKind::InvalidData, "not \"<etag> <crc64nvme>\""),
        })?;
    if let Some(shape) = shape {
        // A shaped part lives in place in the object; its size is the
        // shape's.
        let Some((_, size)) = shape.part_range(number) else {
            return Ok(None);
        };
        return Ok(Some(ResolvedPart {
            number,
            etag,
            crc64nvme,
            data: shaped_object(dir),
            size,
        }));
    }
    let data = dir.join(data_file(number, &etag));
    let size = fs::metadata(&data)
        .map_err(io_error(format!("reading {}", data.display())))?
        .len();
    Ok(Some(ResolvedPart {
        number,
        etag,
        crc64nvme,
        data,
        size,
    }))
}
