//! How a part's bytes reach the disk: streamed from the part's body on one
//! blocking thread, fed chunk by chunk through a small channel, into either
//! a staged file of its own (an upload without a shape) or the part's place
//! in a shaped upload's object file.
//!
//! In place, where the filesystem allows it, the bytes are written with
//! `O_DIRECT`, in aligned 1 MiB blocks from a small pool of reused aligned
//! buffers; a part's last bytes that do not fill a block go through the
//! page cache, which completion's fsync covers. Writing around the page
//! cache is what makes the write as fast as the device (see
//! BENCHMARKS.md). Where `O_DIRECT` is refused (tmpfs), the part is written
//! through the page cache and a flush of the object file is started in the
//! background, so completion's fsync has little left to do; a failed flush
//! is kept for completion to report ([`BackgroundFlushes`]).
//!
//! The writing thread also computes the part's CRC64NVME from the chunks
//! it writes, so the checksum is of the bytes that reached the file, at a
//! cost (crc-fast, many GB/s) that is small beside the write itself.
//!
//! This module must not decide where a part goes or whether it counts: the
//! store picks the destination, compares a declared checksum and records
//! the part afterwards. It must not
//! hold more of a body in memory than the channel's few chunks and one write
//! buffer, and must not wait for a part to reach the disk: only
//! completion's fsync makes an upload durable.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::StreamExt;

use super::{io_error, CHUNK};
use crate::checksum::{Crc64Nvme, Crc64NvmeDigest};
use crate::ports::object_store::{Error, PartBody, PartNumber};

/// `O_DIRECT` needs buffer addresses, file offsets and lengths aligned to
/// the device's logical block; 4 KiB covers every common device.
const DIRECT_ALIGN: usize = 4096;
/// Bytes gathered before one direct write: large enough that the device,
/// not the syscall, sets the pace; small enough to cost little memory per
/// part in flight.
const DIRECT_BLOCK: usize = 1024 * 1024;
/// Direct-write blocks kept for the next part, so that each part does not
/// allocate (and the kernel zero and fault in) a fresh megabyte. A handful
/// covers the parts in flight at the default concurrency; blocks beyond
/// that are freed.
const POOLED_BLOCKS: usize = 4;
static BLOCK_POOL: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// Where a part's bytes go.
pub(super) enum PartDestination {
    /// A part of an upload without a shape: a new file of its own, written
    /// from its start.
    Staged(File),
    /// A part of a shaped upload: its range of the upload's object file.
    InPlace {
        object: PathBuf,
        offset: u64,
        buffered: File,
        /// The same file opened for `O_DIRECT`, unless the filesystem
        /// refused.
        direct: Option<File>,
    },
}

impl PartDestination {
    /// Opens a shaped upload's `object` for a part that starts at `offset`
    /// (blocking).
    pub(super) fn in_place(object: PathBuf, offset: u64) -> Result<PartDestination, Error> {
        let buffered = fs::OpenOptions::new()
            .write(true)
            .open(&object)
            .map_err(io_error(format!("opening {}", object.display())))?;
        let direct = open_direct(&object)?;
        Ok(PartDestination::InPlace {
            object,
            offset,
            buffered,
            direct,
        })
    }
}

/// Shaped uploads' object files with a flush under way or failed, shared
/// by a store's clones.
#[derive(Debug, Default)]
pub(super) struct BackgroundFlushes {
    /// Object files with a background flush under way, so parts landing
    /// meanwhile do not queue one flush each.
    flushing: Mutex<HashSet<PathBuf>>,
    /// Object files whose background flush failed. The kernel reports a
    /// writeback error once, to that flush, so completion must learn of it
    /// here rather than from its own fsync.
    failed: Mutex<HashMap<PathBuf, String>>,
}

impl BackgroundFlushes {
    /// The error of a failed background flush of `object`, once.
    pub(super) fn take_failure(&self, object: &Path) -> Option<String> {
        self.failed
            .lock()
            .ok()
            .and_then(|mut failed| failed.remove(object))
    }

    /// Starts `file` (the object file) on its way to the disk without
    /// waiting for it, unless a flush of it is already under way: parts
    /// that land meanwhile are mostly covered by that one, the rest by the
    /// next. A flush error shows up at completion.
    fn start(self: &Arc<Self>, runtime: &tokio::runtime::Handle, object: PathBuf, file: File) {
        let started = self
            .flushing
            .lock()
            .map(|mut set| set.insert(object.clone()))
            .unwrap_or(false);
        if !started {
            return;
        }
        let flushes = Arc::clone(self);
        runtime.spawn_blocking(move || {
            let flushed = file.sync_data();
            if let Err(error) = flushed {
                if let Ok(mut failed) = flushes.failed.lock() {
                    failed.insert(object.clone(), error.to_string());
                }
            }
            if let Ok(mut set) = flushes.flushing.lock() {
                set.remove(&object);
            }
        });
    }
}

/// What [`write_part`] wrote.
pub(super) struct WrittenPart {
    /// Bytes received from the body (all of them written, unless it ran
    /// past its declared length, which is an error).
    pub(super) received: u64,
    /// CRC64NVME of the bytes written.
    pub(super) crc64nvme: Crc64Nvme,
}

/// Streams a part's body to `destination` and says how many bytes came and
/// their CRC64NVME.
/// One blocking thread writes, fed chunk by chunk; a small channel keeps
/// what waits in memory to a few chunks (tokio::fs would hop to a blocking
/// thread per chunk).
pub(super) async fn write_part(
    destination: PartDestination,
    flushes: &Arc<BackgroundFlushes>,
    part_number: PartNumber,
    body: &mut PartBody,
    key: &str,
) -> Result<WrittenPart, Error> {
    let (chunks, mut to_write) = tokio::sync::mpsc::channel::<Bytes>(8);
    let context = format!("writing part {part_number} of {key:?}");
    let runtime = tokio::runtime::Handle::current();
    let flushes = Arc::clone(flushes);
    let writer_context = context.clone();
    let writer = tokio::task::spawn_blocking(move || -> Result<Crc64Nvme, Error> {
        let mut crc = Crc64NvmeDigest::new();
        let mut chunks = CheckedChunks {
            receiver: &mut to_write,
            crc: &mut crc,
        };
        match destination {
            PartDestination::Staged(file) => {
                let mut file = io::BufWriter::with_capacity(CHUNK, file);
                while let Some(chunk) = chunks.next() {
                    file.write_all(&chunk)
                        .map_err(io_error(writer_context.clone()))?;
                }
                file.flush().map_err(io_error(writer_context))?;
            }
            // Parts start at multiples of the part size, which S3's limits
            // keep to whole MiB; an odd caller's unaligned part is buffered.
            PartDestination::InPlace {
                offset,
                buffered,
                direct: Some(direct),
                ..
            } if offset % DIRECT_ALIGN as u64 == 0 => {
                write_direct(&direct, &buffered, offset, &mut chunks, &writer_context)?;
            }
            PartDestination::InPlace {
                object,
                offset,
                buffered,
                ..
            } => {
                let mut at = offset;
                while let Some(chunk) = chunks.next() {
                    buffered
                        .write_all_at(&chunk, at)
                        .map_err(io_error(writer_context.clone()))?;
                    at += chunk.len() as u64;
                }
                // Completion's fsync is what makes the object durable; a
                // flush started now, while the download goes on, leaves it
                // little to do.
                flushes.start(&runtime, object, buffered);
            }
        }
        Ok(crc.finish())
    });
    let mut received = 0u64;
    while let Some(chunk) = body.stream.next().await {
        let chunk = chunk.map_err(|source| Error::Body {
            part_number,
            source,
        })?;
        received += chunk.len() as u64;
        if received > body.len {
            return Err(Error::BodyTooLong {
                part_number,
                declared: body.len,
            });
        }
        if chunks.send(chunk).await.is_err() {
            // The writer stopped: its error says why.
            break;
        }
    }
    drop(chunks);
    let crc64nvme = writer.await.map_err(|error| Error::Io {
        context,
        source: io::Error::other(error),
    })??;
    Ok(WrittenPart {
        received,
        crc64nvme,
    })
}

/// The writer's side of the channel: each chunk, as it is taken for
/// writing, is added to the part's CRC.
struct CheckedChunks<'a> {
    receiver: &'a mut tokio::sync::mpsc::Receiver<Bytes>,
    crc: &'a mut Crc64NvmeDigest,
}

impl CheckedChunks<'_> {
    fn next(&mut self) -> Option<Bytes> {
        let chunk = self.receiver.blocking_recv()?;
        self.crc.update(&chunk);
        Some(chunk)
    }
}

/// Opens a shaped upload's object for direct writes, or `None` where the
/// filesystem refuses `O_DIRECT` (tmpfs answers `EINVAL`).
fn open_direct(object: &Path) -> Result<Option<File>, Error> {
    use std::os::unix::fs::OpenOptionsExt;
    match fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_DIRECT)
        .open(object)
    {
        Ok(file) => Ok(Some(file)),
        Err(error) if error.raw_os_error() == Some(libc::EINVAL) => Ok(None),
        Err(error) => Err(Error::Io {
            context: format!("opening {} for direct writes", object.display()),
            source: error,
        }),
    }
}

/// A buffer whose start is aligned for `O_DIRECT`, carved out of a slightly
/// larger `Vec` (so no allocator tricks are needed). Taken from a small
/// pool and given back to it when dropped.
struct AlignedBlock {
    storage: Vec<u8>,
    start: usize,
    len: usize,
}

impl AlignedBlock {
    fn new() -> AlignedBlock {
        let pooled = BLOCK_POOL.lock().ok().and_then(|mut pool| pool.pop());
        let storage = pooled.unwrap_or_else(|| vec![0u8; DIRECT_BLOCK + DIRECT_ALIGN]);
        let start = storage.as_ptr().align_offset(DIRECT_ALIGN);
        AlignedBlock {
            storage,
            start,
            len: 0,
        }
    }

    /// Copies as much of `data` as fits; returns how much that was.
    fn fill(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(DIRECT_BLOCK - self.len);
        let at = self.start + self.len;
        self.storage[at..at + n].copy_from_slice(&data[..n]);
        self.len += n;
        n
    }

    fn filled(&self) -> &[u8] {
        &self.storage[self.start..self.start + self.len]
    }
}

impl Drop for AlignedBlock {
    fn drop(&mut self) {
        if let Ok(mut pool) = BLOCK_POOL.lock() {
            if pool.len() < POOLED_BLOCKS {
                pool.push(std::mem::take(&mut self.storage));
            }
        }
    }
}

/// Writes a shaped part from `at` (block-aligned: parts are MiB multiples)
/// through `direct` in aligned blocks; the last bytes that do not fill a
/// block go through `buffered`, which completion's fsync covers.
fn write_direct(
    direct: &File,
    buffered: &File,
    mut at: u64,
    chunks: &mut CheckedChunks<'_>,
    context: &str,
) -> Result<(), Error> {
    let mut block = AlignedBlock::new();
    while let Some(chunk) = chunks.next() {
        let mut data = &chunk[..];
        while !data.is_empty() {
            let n = block.fill(data);
            data = &data[n..];
            if block.len == DIRECT_BLOCK {
                direct
                    .write_all_at(block.filled(), at)
                    .map_err(io_error(context.to_string()))?;
                at += DIRECT_BLOCK as u64;
                block.len = 0;
            }
        }
    }
    let whole = block.len / DIRECT_ALIGN * DIRECT_ALIGN;
    let filled = block.filled();
    if whole > 0 {
        direct
            .write_all_at(&filled[..whole], at)
            .map_err(io_error(context.to_string()))?;
    }
    if whole < filled.len() {
        buffered
            .write_all_at(&filled[whole..], at + whole as u64)
            .map_err(io_error(context.to_string()))?;
    }
    Ok(())
}
