//! The object store port: where recordings, their files and metadata are
//! kept. Modelled on S3, multipart upload included, so that the local
//! directory adapter and a later S3 adapter are interchangeable under the
//! step handlers.
//!
//! Every stored object has a whole-object checksum, CRC-64/NVME
//! ([`Crc64Nvme`], S3's `CRC64NVME` with `ChecksumType: FULL_OBJECT`): the
//! store computes each part's CRC from the bytes it stored and reports it
//! with the part; a caller may declare a part's CRC, and a store refuses a
//! part that does not match; completion takes the whole object's expected
//! CRC, composes the stored parts' CRCs into the object's, and refuses the
//! upload, leaving nothing at the key, when they differ. Because CRCs
//! compose from parts, workers that each upload a few parts of one file
//! never need to read the whole file to agree on its checksum.
//!
//! This module defines the contract only; it must not know about
//! directories, S3 clients or Zoom. Implementations check every key with
//! [`crate::keys::validate_key`] before touching storage.

use std::fmt;
use std::io;
use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::Stream;
use serde::{Deserialize, Serialize};

use super::BoxError;
use crate::checksum::Crc64Nvme;
use crate::keys;

/// S3's smallest part, for every part but the last.
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// S3's largest part.
pub const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// S3's highest part number.
pub const MAX_PART_NUMBER: u32 = 10_000;

/// A body arriving in chunks, such as a ranged download from Zoom.
pub type ByteStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Key(#[from] keys::Error),
    #[error("no object at {key:?}")]
    NotFound { key: String },
    #[error("no multipart upload {upload_id} for {key:?} (never created, completed or aborted)")]
    NoSuchUpload { key: String, upload_id: UploadId },
    #[error("part number {0} is outside 1..={MAX_PART_NUMBER}")]
    InvalidPartNumber(u32),
    #[error(
        "part {part_number} declares {len} bytes, more than the {MAX_PART_SIZE} a part may hold"
    )]
    PartTooLarge { part_number: PartNumber, len: u64 },
    #[error("part {part_number} body ended after {received} of its declared {declared} bytes")]
    BodyTooShort {
        part_number: PartNumber,
        declared: u64,
        received: u64,
    },
    #[error("part {part_number} body ran past its declared {declared} bytes")]
    BodyTooLong {
        part_number: PartNumber,
        declared: u64,
    },
    #[error("part {part_number} body failed: {source}")]
    Body {
        part_number: PartNumber,
        source: io::Error,
    },
    #[error("part {part_number} cannot complete the upload: {reason}")]
    InvalidPart {
        part_number: PartNumber,
        reason: String,
    },
    #[error("a completion lists no parts")]
    NoParts,
    #[error("a completion must list parts in ascending order, each once (part {part_number} is out of place)")]
    InvalidPartOrder { part_number: PartNumber },
    #[error(
        "part {part_number} is {size} bytes; every part but the last needs at least {minimum}"
    )]
    PartTooSmall {
        part_number: PartNumber,
        size: u64,
        minimum: u64,
    },
    /// The bytes stored are not the bytes the caller vouched for: a part
    /// whose declared CRC differs from the CRC of its body (`part_number`
    /// set; S3's `BadDigest`), or a completion whose expected whole-object
    /// CRC differs from the one composed from the stored parts
    /// (`part_number` unset). Nothing is stored either way.
    #[error(
        "{key:?}{}: CRC64NVME {actual} of the stored bytes is not the expected {expected}",
        part_number.map(|n| format!(" part {n}")).unwrap_or_default()
    )]
    ChecksumMismatch {
        key: String,
        part_number: Option<PartNumber>,
        expected: Crc64Nvme,
        actual: Crc64Nvme,
    },
    /// The key cannot be stored next to an existing one; a directory store
    /// cannot hold both `a` and `a/b`. The key scheme never asks it to.
    #[error("{key:?} conflicts with an existing object: {reason}")]
    Conflict { key: String, reason: String },
    #[error("{context}: {source}")]
    Io { context: String, source: io::Error },
    /// Throttled, timed out or unavailable: worth retrying.
    #[error("object store unavailable: {0}")]
    Unavailable(#[source] BoxError),
    #[error("object store failed: {0}")]
    Backend(#[source] BoxError),
}

impl Error {
    /// Whether the same call may succeed if made again: the backend was
    /// busy, or the body's source (a download) failed or was cut short and
    /// can be fetched again. Step handlers map this to a retryable error.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Unavailable(_) | Error::Body { .. } | Error::BodyTooShort { .. } => true,
            Error::Io { source, .. } => matches!(
                source.kind(),
                io::ErrorKind::Interrupted | io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ),
            _ => false,
        }
    }

    /// Whether the store's device (or the user's quota on it) is full: the
    /// call fails until space is freed, so it is named apart from other
    /// failures.
    pub fn is_storage_full(&self) -> bool {
        match self {
            Error::Io { source, .. } => matches!(
                source.kind(),
                io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
            ),
            _ => false,
        }
    }
}

/// What a listing or `head` knows about a stored object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMeta {
    pub key: String,
    pub size: u64,
    /// The object's full-object CRC64NVME, where the store knows it without
    /// reading the object: always from
    /// [`ObjectStore::complete_multipart`]; other calls may say `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc64nvme: Option<Crc64Nvme>,
}

/// An object's body, streamed.
pub struct ObjectStream {
    pub size: u64,
    pub stream: ByteStream,
}

impl fmt::Debug for ObjectStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectStream")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// The id a store gave a multipart upload; opaque to callers, carried
/// between workflow steps as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UploadId(String);

/// The layout of an upload of known size (see
/// [`ObjectStore::create_multipart_shaped`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadShape {
    pub total_size: u64,
    pub part_size: u64,
}

impl UploadShape {
    pub fn part_count(&self) -> u64 {
        self.total_size.div_ceil(self.part_size.max(1))
    }

    /// Where part `number` starts and how long it is, if the shape has it.
    pub fn part_range(&self, number: PartNumber) -> Option<(u64, u64)> {
        let index = u64::from(number.get()) - 1;
        let offset = index.checked_mul(self.part_size)?;
        (offset < self.total_size).then(|| (offset, self.part_size.min(self.total_size - offset)))
    }
}

impl UploadId {
    pub fn new(id: impl Into<String>) -> UploadId {
        UploadId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UploadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A part number, 1 to 10,000 as in S3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct PartNumber(u16);

impl PartNumber {
    pub fn new(number: u32) -> Result<PartNumber, Error> {
        match u16::try_from(number) {
            Ok(n) if (1..=MAX_PART_NUMBER).contains(&number) => Ok(PartNumber(n)),
            _ => Err(Error::InvalidPartNumber(number)),
        }
    }

    pub fn get(self) -> u32 {
        u32::from(self.0)
    }
}

impl TryFrom<u32> for PartNumber {
    type Error = Error;

    fn try_from(number: u32) -> Result<PartNumber, Error> {
        PartNumber::new(number)
    }
}

impl From<PartNumber> for u32 {
    fn from(number: PartNumber) -> u32 {
        number.get()
    }
}

impl fmt::Display for PartNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One part's body: its exact length, declared up front as S3 needs, and
/// its bytes as a stream so a part is never held in memory whole.
pub struct PartBody {
    pub len: u64,
    pub stream: ByteStream,
    /// The CRC64NVME the caller vouches for, if it knows it before sending
    /// (a retried part, a copy). The store refuses a body whose CRC differs
    /// ([`Error::ChecksumMismatch`]).
    pub crc64nvme: Option<Crc64Nvme>,
}

impl PartBody {
    pub fn new(len: u64, stream: ByteStream) -> PartBody {
        PartBody {
            len,
            stream,
            crc64nvme: None,
        }
    }

    /// A body already in memory (tests, small parts).
    pub fn from_bytes(bytes: Bytes) -> PartBody {
        let len = bytes.len() as u64;
        PartBody::new(
            len,
            Box::pin(futures_util::stream::once(async move { Ok(bytes) })),
        )
    }

    /// The same body, declaring its CRC64NVME.
    pub fn with_crc64nvme(self, crc64nvme: Crc64Nvme) -> PartBody {
        PartBody {
            crc64nvme: Some(crc64nvme),
            ..self
        }
    }
}

impl fmt::Debug for PartBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartBody")
            .field("len", &self.len)
            .field("crc64nvme", &self.crc64nvme)
            .finish_non_exhaustive()
    }
}

/// What completing an upload needs to know about one uploaded part, as
/// `put_part` returns it. Serialisable, so a worker that uploaded a batch
/// of parts can hand them to the one that completes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletedPart {
    pub part_number: PartNumber,
    pub etag: String,
    /// Bytes the store stored for the part.
    pub size: u64,
    /// CRC64NVME of those bytes, computed by the store: always given by
    /// `put_part`; `None` for a part rebuilt from a listing that omits
    /// part checksums (moto's does, see [`PartInfo`]). Completion does not
    /// depend on it: the store composes the whole object's CRC from what it
    /// stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc64nvme: Option<Crc64Nvme>,
}

impl From<PartInfo> for CompletedPart {
    /// A part as a listing reports it, for completing the upload (as the
    /// worker that completes a fanned-out file does).
    fn from(part: PartInfo) -> CompletedPart {
        CompletedPart {
            part_number: part.part_number,
            etag: part.etag,
            size: part.size,
            crc64nvme: part.crc64nvme,
        }
    }
}

/// What every store checks first when completing: at least one part, in
/// ascending part order, each once ([`Error::NoParts`],
/// [`Error::InvalidPartOrder`]).
pub fn check_part_list(parts: &[CompletedPart]) -> Result<(), Error> {
    if parts.is_empty() {
        return Err(Error::NoParts);
    }
    match parts
        .windows(2)
        .find(|pair| pair[1].part_number <= pair[0].part_number)
    {
        Some(pair) => Err(Error::InvalidPartOrder {
            part_number: pair[1].part_number,
        }),
        None => Ok(()),
    }
}

/// An uploaded part as `list_parts` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartInfo {
    pub part_number: PartNumber,
    pub etag: String,
    pub size: u64,
    /// CRC64NVME of the part's stored bytes, computed by the store. The
    /// directory store and S3 always report it; `None` only where a
    /// backend's ListParts omits part checksums (moto's does), since a
    /// store cannot read back a part of an incomplete upload to compute
    /// it. Completion does not depend on it.
    pub crc64nvme: Option<Crc64Nvme>,
}

/// Durable storage of objects under keys.
///
/// Semantics follow S3: a `put` or a completed upload replaces the object
/// whole and atomically (readers see the old object or the new one, never
/// a mix); `delete` of a missing key succeeds. `list` returns every match,
/// however many (a store that pages, as S3 does by 1,000, follows the
/// pages). The checks in [`crate::port_tests::object_store`] are this
/// contract, executable.
#[async_trait]
pub trait ObjectStore: Send + Sync + fmt::Debug {
    /// Stores a small object in one request.
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> Result<ObjectMeta, Error>;

    /// Reads a small object whole. [`Error::NotFound`] when absent.
    async fn get(&self, key: &str) -> Result<Bytes, Error>;

    /// Reads an object as a stream, for large files (checksumming,
    /// serving). [`Error::NotFound`] when absent.
    async fn get_stream(&self, key: &str) -> Result<ObjectStream, Error>;

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, Error>;

    /// Every object whose key starts with `prefix`, in key order.
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, Error>;

    /// One level of the key tree below `prefix` (empty, or ending in `/`):
    /// each distinct `prefix` + `name/` under which some object's key
    /// continues, in key order, as S3's ListObjectsV2 with delimiter `/`
    /// gives its common prefixes. Objects directly at this level are not
    /// listed. Walks of the whole archive (a rebuild of the index) go one
    /// level at a time with it, rather than holding every key at once.
    async fn list_prefixes(&self, prefix: &str) -> Result<Vec<String>, Error>;

    async fn delete(&self, key: &str) -> Result<(), Error>;

    /// Starts a multipart upload to `key`. Nothing is visible at `key`
    /// until [`ObjectStore::complete_multipart`].
    async fn create_multipart(&self, key: &str, content_type: &str) -> Result<UploadId, Error>;

    /// Starts a multipart upload whose size is known: every part but the
    /// last is `shape.part_size` bytes, and each `put_part` must carry
    /// exactly its part's length. A store may use the shape to put parts
    /// where they belong as they arrive, so completion copies nothing (the
    /// directory store does); by default it is a plain upload (S3 needs no
    /// hint).
    async fn create_multipart_shaped(
        &self,
        key: &str,
        content_type: &str,
        shape: UploadShape,
    ) -> Result<UploadId, Error> {
        let _ = shape;
        self.create_multipart(key, content_type).await
    }

    /// Uploads one part, streaming `body`. Uploading a part number again
    /// replaces that part (so a retried part never duplicates). A body that
    /// fails, or turns out shorter or longer than `body.len`, is an error
    /// and leaves the upload as it was before the call, with one exception:
    /// a store that writes a shaped upload's parts in place may lose that
    /// part's earlier version (the directory store does), and then the part
    /// must be sent again before completion.
    ///
    /// The store computes the CRC64NVME of the bytes as it stores them and
    /// returns it, with the size, in the [`CompletedPart`]. When
    /// `body.crc64nvme` is set and differs, the part is refused with
    /// [`Error::ChecksumMismatch`] (with its part number), under the same
    /// rule as a failed body.
    async fn put_part(
        &self,
        key: &str,
        upload_id: &UploadId,
        part_number: PartNumber,
        body: PartBody,
    ) -> Result<CompletedPart, Error>;

    /// Joins the listed parts, in ascending part order, into the object at
    /// `key`, atomically, and ends the upload; unlisted parts are
    /// discarded. Every part but the last must be at least
    /// [`MIN_PART_SIZE`] (the directory store can be configured lower, for
    /// tests) and every etag must match its part.
    ///
    /// `checksum` is the whole object's expected full-object CRC64NVME. The
    /// store composes the object's CRC from the CRCs of the parts it stored
    /// (not from what `parts` claims) and, if it differs, refuses with
    /// [`Error::ChecksumMismatch`] (no part number) and the new object is
    /// not left at `key`. (The directory store never installs it; S3
    /// refuses it itself; where a backend does not check, the S3 adapter
    /// deletes what it completed, and an earlier object at `key` goes with
    /// it.) The returned meta carries the composed CRC.
    ///
    /// As in S3, completing an upload that has already completed fails with
    /// [`Error::NoSuchUpload`]; a retried completion should then check the
    /// object with `head`.
    async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &UploadId,
        parts: &[CompletedPart],
        checksum: Crc64Nvme,
    ) -> Result<ObjectMeta, Error>;

    /// Ends an upload and discards its parts.
    async fn abort_multipart(&self, key: &str, upload_id: &UploadId) -> Result<(), Error>;

    /// The uploads to exactly `key` that are neither completed nor aborted
    /// (S3's ListMultipartUploads), in no particular order: so that a step
    /// whose earlier attempt was cut short (a crash, a killed process) can
    /// find and discard the upload that attempt left.
    async fn list_uploads(&self, key: &str) -> Result<Vec<UploadId>, Error>;

    /// The parts uploaded so far, in part order, each with its size and
    /// CRC64NVME: to resume an upload, or to complete one whose parts were
    /// uploaded by other workers. [`Error::NoSuchUpload`] once the upload
    /// is completed or aborted.
    async fn list_parts(&self, key: &str, upload_id: &UploadId) -> Result<Vec<PartInfo>, Error>;
}
