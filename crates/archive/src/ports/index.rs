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

impl IndexEntry {
    /// Whether the index can keep this entry as it is: a non-empty UUID, a
    /// host email that is absent or non-empty (an index by host cannot
    /// hold an empty key), and start and ingest times in the years
    /// 1..=9999, so they have one fixed-width text form. Every adapter
    /// refuses an entry that fails this with [`Error::InvalidEntry`].
    pub fn check(&self) -> Result<(), Error> {
        let invalid = |reason: &str| {
            Err(Error::InvalidEntry {
                recording_uuid: self.recording_uuid.clone(),
                reason: reason.to_owned(),
            })
        };
        if self.recording_uuid.is_empty() {
            return invalid("the recording UUID is empty");
        }
        if self.host_email.as_deref() == Some("") {
            return invalid("the host email is empty (leave it out instead)");
        }
        for (what, time) in [
            ("start time", self.start_time),
            ("ingest time", self.ingested_at),
        ] {
            let year = time.to_offset(time::UtcOffset::UTC).year();
            if !(1..=9999).contains(&year) {
                return invalid(&format!("the {what} is outside the years 1 to 9999"));
            }
        }
        Ok(())
    }

    /// The ingest time as the index compares it: whole milliseconds since
    /// the Unix epoch.
    pub fn ingested_at_ms(&self) -> i64 {
        // Years 1..=9999 (checked) are well within i64 milliseconds.
        i64::try_from(self.ingested_at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }
}

/// Where a listing left off; opaque, and meaningful only to the index that
/// issued it, for the same [`ListFilter`].
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

/// Which recordings a listing walks: one access pattern each. They are
/// alternatives rather than combinable filters because each is one index
/// the backend reads in order (DynamoDB: one global secondary index), so
/// every page is full and costs what it returns.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum ListFilter {
    /// Every recording.
    #[default]
    All,
    /// Every instance of one Zoom meeting (a recurring meeting's
    /// occurrences share its id).
    Meeting(u64),
    /// Every recording whose host has this email, compared exactly.
    /// Entries without a host email are never listed here.
    Host(String),
}

/// One page of a listing, newest recording first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// 1 to [`MAX_LIST_LIMIT`].
    pub limit: usize,
    /// The `next` cursor of the previous page of a listing with the same
    /// `filter`.
    pub after: Option<Cursor>,
    /// Only recordings that started strictly before this instant, at
    /// whole-second precision (for retention: a purge walks from the
    /// newest recording older than its cut-off).
    pub started_before: Option<OffsetDateTime>,
    pub filter: ListFilter,
}

impl Default for ListQuery {
    fn default() -> ListQuery {
        ListQuery {
            limit: 100,
            after: None,
            started_before: None,
            filter: ListFilter::All,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    pub entries: Vec<IndexEntry>,
    /// Present exactly when more matching entries follow.
    pub next: Option<Cursor>,
}

/// What [`RecordingIndex::upsert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    /// The entry is stored (there was none, or the stored one was ingested
    /// at the same time or earlier).
    Written,
    /// The stored entry was ingested later, so it was kept and this one
    /// dropped: a retried or late task never undoes a newer ingest.
    KeptNewer,
}

/// The recording index.
///
/// The contract every adapter keeps (checked by
/// [`crate::port_tests::index`], run against each adapter):
///
/// - **Conditional upsert.** [`RecordingIndex::upsert`] writes the entry
///   unless the stored entry for the same UUID has a later `ingested_at`
///   (compared in whole milliseconds); an equal `ingested_at` rewrites, so
///   a reindex that keeps the ingest time replaces the entry. It says which
///   happened. An entry failing [`IndexEntry::check`] is refused.
/// - **Order.** Listings are newest first by start time at whole-second
///   precision (Zoom's own precision), then by recording UUID descending
///   (byte order), so equal start times still have one order.
/// - **Access patterns.** By recording ([`RecordingIndex::get`]); by date,
///   by meeting and by host email ([`ListFilter`]), each optionally only
///   before a start time.
/// - **Paging.** `limit` is 1..=[`MAX_LIST_LIMIT`], else
///   [`Error::InvalidLimit`]. A page holds `limit` entries unless it is the
///   last; `next` is present exactly when more follow, and following it
///   visits every matching entry once. A cursor is opaque and valid
///   only for a listing with the filter that issued it; any other is
///   [`Error::InvalidCursor`].
/// - **Derived data.** `clear` empties the index before a rebuild from the
///   object store; `delete` removes one entry.
#[async_trait]
pub trait RecordingIndex: Send + Sync + fmt::Debug {
    /// Stores the entry for `entry.recording_uuid` unless a later-ingested
    /// one is stored (see the trait's contract).
    async fn upsert(&self, entry: IndexEntry) -> Result<Upserted, Error>;

    async fn get(&self, recording_uuid: &str) -> Result<Option<IndexEntry>, Error>;

    async fn list(&self, query: ListQuery) -> Result<ListPage, Error>;

    /// Removes an entry; whether there was one.
    async fn delete(&self, recording_uuid: &str) -> Result<bool, Error>;

    /// Removes every entry, before a rebuild from the object store.
    async fn clear(&self) -> Result<(), Error>;
}
