//! The recording index port: a queryable summary of every archived
//! recording, newest first, for the site and the CLI. The index is derived
//! data: the recording documents in the object store are the truth, and
//! the index can be cleared and rebuilt from them.
//!
//! This module defines the contract and the entry derived from a document;
//! it must not know about SQLite or DynamoDB.

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::document::RecordingDocument;
use crate::keys::{self, RecordingKeys};
use crate::ports::BoxError;

/// The most entries one `list` call returns.
pub const MAX_LIST_LIMIT: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("list limit {0} is outside 1..={MAX_LIST_LIMIT}")]
    InvalidLimit(usize),
    #[error("cursor {0:?} was not issued by this index")]
    InvalidCursor(String),
    #[error("index entry for {recording_uuid:?} cannot be stored: {reason}")]
    InvalidEntry {
        recording_uuid: String,
        reason: String,
    },
    /// Throttled, timed out or unavailable: worth retrying.
    #[error("recording index unavailable: {0}")]
    Unavailable(#[source] BoxError),
    #[error("recording index failed: {0}")]
    Backend(#[source] BoxError),
}

impl Error {
    /// Whether the same call may succeed if made again (the backend was
    /// busy or unreachable). Step handlers map this to a retryable error.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Unavailable(_))
    }
}

/// The summary of one recording document the index keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexEntry {
    pub recording_uuid: String,
    pub meeting_id: u64,
    pub topic: String,
    #[serde(with = "time::serde::rfc3339")]
    pub start_time: OffsetDateTime,
    pub duration_minutes: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_email: Option<String>,
    pub file_count: u64,
    pub total_bytes: u64,
    /// Where the full document is, derived by the one key scheme.
    pub document_key: String,
    /// When the document was written (its ingest's finish time).
    #[serde(with = "time::serde::rfc3339")]
    pub ingested_at: OffsetDateTime,
}

impl IndexEntry {
    pub fn from_document(document: &RecordingDocument) -> Result<IndexEntry, keys::Error> {
        let keys = RecordingKeys::for_document(document)?;
        Ok(IndexEntry {
            recording_uuid: document.meeting.uuid.clone(),
            meeting_id: document.meeting.id,
            topic: document.meeting.topic.clone(),
            start_time: document.meeting.start_time,
            duration_minutes: document.meeting.duration_minutes,
            host_email: document.host.email.clone(),
            file_count: document.files.len() as u64,
            total_bytes: document.total_bytes(),
            document_key: keys.document(),
            ingested_at: document.ingest.finished_at,
        })
    }
}

/// Where a listing left off; opaque, and meaningful only to the index that
/// issued it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(String);

impl Cursor {
    pub fn new(cursor: impl Into<String>) -> Cursor {
        Cursor(cursor.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One page of a listing, newest recording first (by start time, then by
/// UUID so that equal start times still have one order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// 1 to [`MAX_LIST_LIMIT`].
    pub limit: usize,
    /// The `next` cursor of the previous page.
    pub after: Option<Cursor>,
    /// Only recordings that started strictly before this instant (for
    /// retention: a purge, not built yet, is after the oldest, and paging
    /// on from the newest of those is fine).
    pub started_before: Option<OffsetDateTime>,
}

impl Default for ListQuery {
    fn default() -> ListQuery {
        ListQuery {
            limit: 100,
            after: None,
            started_before: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    pub entries: Vec<IndexEntry>,
    /// Present when more entries follow.
    pub next: Option<Cursor>,
}

#[async_trait]
pub trait RecordingIndex: Send + Sync + fmt::Debug {
    /// Inserts or replaces the entry for `entry.recording_uuid`.
    async fn upsert(&self, entry: IndexEntry) -> Result<(), Error>;

    async fn get(&self, recording_uuid: &str) -> Result<Option<IndexEntry>, Error>;

    async fn list(&self, query: ListQuery) -> Result<ListPage, Error>;

    /// Removes an entry; whether there was one.
    async fn delete(&self, recording_uuid: &str) -> Result<bool, Error>;

    /// Removes every entry, before a rebuild from the object store.
    async fn clear(&self) -> Result<(), Error>;
}
