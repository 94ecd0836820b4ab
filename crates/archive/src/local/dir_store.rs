//! [`DirObjectStore`]: the object store port on a local directory, for the
//! embedded mode. Every operation here on a key first checks it with
//! `keys::validate_key` (and a prefix with `validate_prefix`); an upload id
//! is checked by `layout` before it becomes part of a path. Then the work
//! is done on blocking threads: `layout` owns where things live and how
//! they are published atomically, `part_writer` how a part's bytes reach
//! the disk.
//!
//! A multipart upload comes in two kinds. Without a shape, each part is
//! staged as a file of its own and completion concatenates the listed parts
//! into a new object (a copy in the kernel). A shaped upload (its size known
//! up front, [`ObjectStore::create_multipart_shaped`]) has each part written
//! straight to its offset in the upload's own object file, and completion
//! fsyncs that file and renames it into place: the bytes are written once,
//! as a plain download would write them.
//!
//! A part that fails midway changes nothing in an upload without a shape
//! (its bytes were going to a file of their own). In a shaped upload the
//! part is overwritten in place, so its pointer is removed before the first
//! byte lands: a part that fails midway is lost rather than kept at its
//! earlier version, and completion refuses the upload until that part is
//! sent again.
//!
//! Checksums: each part's CRC64NVME is computed by `part_writer` from the
//! bytes it writes and kept with the part's pointer; a part whose declared
//! CRC differs is refused (a shaped part is then lost, as any failed part
//! is). Completion composes the object's full-object CRC from the listed
//! parts' CRCs and lengths, reading no byte, and refuses, before anything
//! is renamed into place, when the caller expected another.
//!
//! A part's etag names the exact upload of that part (a fresh unique token
//! per `put_part`), which is what completion checks; it is not an MD5 of
//! the bytes as on S3, because hashing every byte twice (on upload and on
//! completion) cost more than the whole transfer (see BENCHMARKS.md).
//!
//! Parts are not fsynced: they are staging, durable only as the completed
//! object, which is fsynced before it is renamed into place, and writing
//! parts to disk that are deleted moments later would double the disk
//! traffic of every upload. A process crash loses no part (the page cache
//! survives it); a power loss before completion may, and completion cannot
//! always tell (a shaped upload's object file has its full length from the
//! start), so an upload that outlived a power loss must be started again,
//! not completed. RetrieveFile starts a new upload on every attempt.
//!
//! This adapter must not read a part or an object into memory whole (only
//! `get`, meant for small objects, does) and must not touch a path built
//! from a key that did not pass `keys::validate_key`. It keeps no content
//! types: a directory has nowhere to put them, and local serving goes by
//! extension.

mod layout;
mod part_writer;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use tokio::io::AsyncReadExt;

use crate::checksum::Crc64Nvme;
use crate::keys::{validate_key, validate_level, validate_prefix};
use crate::ports::object_store::{
    CompletedPart, Error, ObjectMeta, ObjectStore, ObjectStream, PartBody, PartInfo, PartNumber,
    UploadId, UploadShape, MAX_PART_NUMBER, MAX_PART_SIZE, MIN_PART_SIZE,
};
use layout::{composed_checksum, install, shaped_object, upload_shape, Layout, TempPath};
use part_writer::{write_part, BackgroundFlushes, PartDestination, WrittenPart};

/// Read and copy buffer size: large enough to keep syscalls few, small
/// enough to never matter for memory.
const CHUNK: usize = 256 * 1024;

#[derive(Debug, Clone)]
pub struct DirStoreConfig {
    /// Smallest part allowed for every part but the last. S3's
    /// [`MIN_PART_SIZE`] by default, so that a plan that works locally also
    /// works on S3; tests of small files may lower it.
    pub min_part_size: u64,
}

impl Default for DirStoreConfig {
    fn default() -> DirStoreConfig {
        DirStoreConfig {
            min_part_size: MIN_PART_SIZE,
        }
    }
}

/// What [`DirObjectStore::sweep_abandoned`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub temp_entries: usize,
    pub uploads: usize,
}

#[derive(Debug, Clone)]
pub struct DirObjectStore {
    layout: Arc<Layout>,
    flushes: Arc<BackgroundFlushes>,
}

impl DirObjectStore {
    /// Opens (creating if needed) a store rooted at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<DirObjectStore, Error> {
        DirObjectStore::open_with(root, DirStoreConfig::default())
    }

    pub fn open_with(
        root: impl Into<PathBuf>,
        config: DirStoreConfig,
    ) -> Result<DirObjectStore, Error> {
        Ok(DirObjectStore {
            layout: Arc::new(Layout::create(root.into(), config)?),
            flushes: Arc::default(),
        })
    }

    pub fn root(&self) -> &Path {
        self.layout.root()
    }

    /// Removes what crashed or abandoned writers left behind: temp files of
    /// processes that no longer run (at once), and temp files and multipart
    /// uploads untouched for `older_than` (S3's lifecycle rule for
    /// incomplete uploads, done by hand). Choose an age well above the
    /// longest upload, or a live upload is aborted.
    pub async fn sweep_abandoned(&self, older_than: Duration) -> Result<SweepReport, Error> {
        let layout = self.layout.clone();
        blocking(move || layout.sweep(older_than)).await
    }

    async fn create_upload(
        &self,
        key: &str,
        shape: Option<UploadShape>,
    ) -> Result<UploadId, Error> {
        validate_key(key)?;
        let layout = self.layout.clone();
        let key = key.to_owned();
        blocking(move || layout.create_upload(&key, shape)).await
    }
}

fn io_error(context: String) -> impl FnOnce(io::Error) -> Error {
    move |source| Error::Io { context, source }
}

/// Not there, or something that is not a directory where one is needed:
/// either way, no object.
fn is_absent(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory | io::ErrorKind::IsADirectory
    )
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|join| Error::Backend(Box::new(join)))?
}

#[async_trait]
impl ObjectStore for DirObjectStore {
    async fn put(&self, key: &str, body: Bytes, _content_type: &str) -> Result<ObjectMeta, Error> {
        validate_key(key)?;
        let layout = self.layout.clone();
        let key = key.to_owned();
        blocking(move || {
            layout.write_object(&key, &body)?;
            Ok(ObjectMeta {
                key,
                size: body.len() as u64,
                crc64nvme: None,
            })
        })
        .await
    }

    async fn get(&self, key: &str) -> Result<Bytes, Error> {
        validate_key(key)?;
        match tokio::fs::read(self.layout.object_path(key)).await {
            Ok(bytes) => Ok(Bytes::from(bytes)),
            Err(error) if is_absent(&error) => Err(Error::NotFound {
                key: key.to_owned(),
            }),
            Err(error) => Err(Error::Io {
                context: format!("reading {key:?}"),
                source: error,
            }),
        }
    }

    async fn get_stream(&self, key: &str) -> Result<ObjectStream, Error> {
        validate_key(key)?;
        let not_found = || Error::NotFound {
            key: key.to_owned(),
        };
        let file = match tokio::fs::File::open(self.layout.object_path(key)).await {
            Ok(file) => file,
            Err(error) if is_absent(&error) => return Err(not_found()),
            Err(error) => {
                return Err(Error::Io {
                    context: format!("opening {key:?}"),
                    source: error,
                })
            }
        };
        let meta = file
            .metadata()
            .await
            .map_err(io_error(format!("reading {key:?}")))?;
        if !meta.is_file() {
            return Err(not_found());
        }
        // The open file is the object as it was when opened, even if a new
        // version is renamed over it while the stream is read.
        let stream = futures_util::stream::try_unfold(file, |mut file| async move {
            let mut chunk = BytesMut::with_capacity(CHUNK);
            let read = file.read_buf(&mut chunk).await?;
            Ok((read > 0).then(|| (chunk.freeze(), file)))
        });
        Ok(ObjectStream {
            size: meta.len(),
            stream: Box::pin(stream),
        })
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, Error> {
        validate_key(key)?;
        match tokio::fs::metadata(self.layout.object_path(key)).await {
            Ok(meta) if meta.is_file() => Ok(Some(ObjectMeta {
                key: key.to_owned(),
                size: meta.len(),
                crc64nvme: None,
            })),
            Ok(_) => Ok(None),
            Err(error) if is_absent(&error) => Ok(None),
            Err(error) => Err(Error::Io {
                context: format!("reading {key:?}"),
                source: error,
            }),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, Error> {
        validate_prefix(prefix)?;
        let layout = self.layout.clone();
        let prefix = prefix.to_owned();
        blocking(move || layout.list_objects(&prefix)).await
    }

    async fn list_prefixes(&self, prefix: &str) -> Result<Vec<String>, Error> {
        validate_level(prefix)?;
        let layout = self.layout.clone();
        let prefix = prefix.to_owned();
        blocking(move || layout.list_prefixes(&prefix)).await
    }

    async fn delete(&self, key: &str) -> Result<(), Error> {
        validate_key(key)?;
        let layout = self.layout.clone();
        let key = key.to_owned();
        blocking(move || layout.remove_object(&key)).await
    }

    async fn create_multipart(&self, key: &str, _content_type: &str) -> Result<UploadId, Error> {
        self.create_upload(key, None).await
    }

    async fn create_multipart_shaped(
        &self,
        key: &str,
        _content_type: &str,
        shape: UploadShape,
    ) -> Result<UploadId, Error> {
        if shape.part_size == 0 || shape.part_count() > u64::from(MAX_PART_NUMBER) {
            return Err(Error::InvalidPart {
                part_number: PartNumber::new(1)?,
                reason: format!(
                    "{} bytes in parts of {} do not fit S3's part numbers",
                    shape.total_size, shape.part_size
                ),
            });
        }
        self.create_upload(key, Some(shape)).await
    }

    async fn put_part(
        &self,
        key: &str,
        upload_id: &UploadId,
        part_number: PartNumber,
        mut body: PartBody,
    ) -> Result<CompletedPart, Error> {
        validate_key(key)?;
        if body.len > MAX_PART_SIZE {
            return Err(Error::PartTooLarge {
                part_number,
                len: body.len,
            });
        }
        let layout = self.layout.clone();
        let dir = {
            let (layout, key, upload_id) = (layout.clone(), key.to_owned(), upload_id.clone());
            blocking(move || layout.upload_dir(&key, &upload_id)).await?
        };

        let shape = {
            let dir = dir.clone();
            blocking(move || upload_shape(&dir)).await?
        };
        // Where the bytes go: a new staged file, or (shaped) their place in
        // the object. The temp path stays with this future: if it is
        // dropped (the upload cancelled), the file is unlinked at once,
        // even while the writer still holds it open.
        let (staged, destination): (Option<TempPath>, PartDestination) = match shape {
            None => {
                let layout = layout.clone();
                let (temp, file) = blocking(move || layout.temp_file()).await?;
                (Some(temp), PartDestination::Staged(file))
            }
            Some(shape) => {
                let (offset, len) =
                    shape
                        .part_range(part_number)
                        .ok_or_else(|| Error::InvalidPart {
                            part_number,
                            reason: format!("the upload has {} parts", shape.part_count()),
                        })?;
                if body.len != len {
                    return Err(Error::InvalidPart {
                        part_number,
                        reason: format!("this part of the upload is {len} bytes, not {}", body.len),
                    });
                }
                let (layout, dir) = (layout.clone(), dir.clone());
                let destination = blocking(move || {
                    // The part's earlier version is overwritten in place, so
                    // it is forgotten before the first byte lands.
                    layout.forget_part(&dir, part_number)?;
                    PartDestination::in_place(shaped_object(&dir), offset)
                })
                .await?;
                (None, destination)
            }
        };
        let WrittenPart {
            received,
            crc64nvme,
        } = write_part(destination, &self.flushes, part_number, &mut body, key).await?;
        if received < body.len {
            return Err(Error::BodyTooShort {
                part_number,
                declared: body.len,
                received,
            });
        }
        if let Some(expected) = body.crc64nvme.filter(|&declared| declared != crc64nvme) {
            return Err(Error::ChecksumMismatch {
                key: key.to_owned(),
                part_number: Some(part_number),
                expected,
                actual: crc64nvme,
            });
        }

        let etag = layout.new_upload_id();
        let (key, upload_id) = (key.to_owned(), upload_id.clone());
        blocking(move || {
            layout.record_part(
                &dir,
                &key,
                &upload_id,
                part_number,
                &etag,
                crc64nvme,
                staged,
            )?;
            Ok(CompletedPart {
                part_number,
                etag,
                size: received,
                crc64nvme: Some(crc64nvme),
            })
        })
        .await
    }

    async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &UploadId,
        parts: &[CompletedPart],
        checksum: Crc64Nvme,
    ) -> Result<ObjectMeta, Error> {
        validate_key(key)?;
        crate::ports::object_store::check_part_list(parts)?;
        let (layout, flushes) = (self.layout.clone(), self.flushes.clone());
        let (key, upload_id, parts) = (key.to_owned(), upload_id.clone(), parts.to_vec());
        blocking(move || {
            let dir = layout.upload_dir(&key, &upload_id)?;
            let shape = upload_shape(&dir)?;
            let resolved = layout.resolve_listed(&dir, shape, &parts)?;
            if let Some(shape) = shape {
                // Every part must be there (the ascending order was checked
                // above), and then the object is already whole.
                if resolved.len() as u64 != shape.part_count() {
                    return Err(Error::InvalidPart {
                        part_number: PartNumber::new(resolved.len() as u32 + 1)?,
                        reason: format!(
                            "the upload has {} parts, {} were listed",
                            shape.part_count(),
                            resolved.len()
                        ),
                    });
                }
            }
            let composed = composed_checksum(&resolved);
            if composed != checksum {
                return Err(Error::ChecksumMismatch {
                    key,
                    part_number: None,
                    expected: checksum,
                    actual: composed,
                });
            }
            let (temp, size) = match shape {
                None => layout.concatenate(&resolved)?,
                Some(shape) => {
                    let object = TempPath::new(shaped_object(&dir));
                    std::fs::File::open(&object.path)
                        .and_then(|f| f.sync_all())
                        .map_err(io_error(format!("syncing {}", object.path.display())))?;
                    if let Some(error) = flushes.take_failure(&object.path) {
                        return Err(Error::Io {
                            context: format!("flushing {}", object.path.display()),
                            source: io::Error::other(error),
                        });
                    }
                    (object, shape.total_size)
                }
            };
            install(temp, &layout.object_path(&key), &key)?;
            // The object is in place; only now may the parts go. A crash in
            // between leaves the upload, and completing it again rewrites
            // the same object. Failing to discard does not undo the object,
            // so it is not the caller's error.
            if let Err(error) = layout.discard_upload(&dir) {
                tracing::warn!(%key, %upload_id, %error, "completed upload left its parts behind");
            }
            Ok(ObjectMeta {
                key,
                size,
                crc64nvme: Some(composed),
            })
        })
        .await
    }

    async fn abort_multipart(&self, key: &str, upload_id: &UploadId) -> Result<(), Error> {
        validate_key(key)?;
        let layout = self.layout.clone();
        let (key, upload_id) = (key.to_owned(), upload_id.clone());
        blocking(move || {
            let dir = layout.upload_dir(&key, &upload_id)?;
            layout.discard_upload(&dir)
        })
        .await
    }

    async fn list_uploads(&self, key: &str) -> Result<Vec<UploadId>, Error> {
        validate_key(key)?;
        let layout = self.layout.clone();
        let key = key.to_owned();
        blocking(move || layout.uploads_to(&key)).await
    }

    async fn list_parts(&self, key: &str, upload_id: &UploadId) -> Result<Vec<PartInfo>, Error> {
        validate_key(key)?;
        let layout = self.layout.clone();
        let (key, upload_id) = (key.to_owned(), upload_id.clone());
        blocking(move || {
            let dir = layout.upload_dir(&key, &upload_id)?;
            layout.uploaded_parts(&dir)
        })
        .await
    }
}
