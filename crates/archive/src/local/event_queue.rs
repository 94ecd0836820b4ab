//! [`LocalEventSink`]: the event port as a durable queue in a SQLite table,
//! with an in-process wake-up so a site builder in the same process reacts
//! at once.
//!
//! Consumption is at-least-once for a single consumer: it reads a batch
//! ([`LocalEventSink::next_batch`]), acts on it (one site rebuild serves
//! the whole batch), then acknowledges through the last sequence number it
//! handled ([`LocalEventSink::ack`]). A crash before the ack redelivers.
//! Sequence numbers only grow (`AUTOINCREMENT`), so "through" is exact.
//!
//! This adapter owns the `archive_events` table. It must not interpret
//! events; consumers do.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::params;
use tokio::sync::Notify;

use super::database::Database;
use super::Error;
use crate::ports::events::{self, ArchiveEvent, EventEntry, EventSink};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS archive_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    detail_type TEXT NOT NULL,
    detail TEXT NOT NULL
);
";

/// A queued event's place in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventSeq(pub i64);

impl fmt::Display for EventSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedEvent {
    pub seq: EventSeq,
    pub event: ArchiveEvent,
}

/// How often a waiting consumer looks for events another process queued.
pub const CROSS_PROCESS_POLL: std::time::Duration = std::time::Duration::from_secs(2);

/// Clones share the queue and its wake-up; a sink opened separately on the
/// same file shares the queue but wakes only its own consumers.
#[derive(Debug, Clone)]
pub struct LocalEventSink {
    database: Database,
    emitted: Arc<Notify>,
}

impl LocalEventSink {
    /// Opens (creating if needed) the queue in the SQLite file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<LocalEventSink, Error> {
        Ok(LocalEventSink {
            database: Database::open(path.as_ref(), SCHEMA)?,
            emitted: Arc::new(Notify::new()),
        })
    }

    /// Up to `limit` unacknowledged events, oldest first, without waiting.
    ///
    /// An event that cannot be read (written by another version) ends the
    /// batch before it; when it is first, this is
    /// [`Error::UnreadableEvent`] with its sequence number, to acknowledge.
    pub async fn pending(&self, limit: usize) -> Result<Vec<QueuedEvent>, Error> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.database
            .run(move |connection| {
                let mut statement = connection.prepare_cached(
                    "SELECT seq, detail_type, detail FROM archive_events ORDER BY seq LIMIT ?1",
                )?;
                let rows = statement.query_map([limit], |row| {
                    Ok((
                        EventSeq(row.get(0)?),
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                    ))
                })?;
                let mut batch = Vec::new();
                for row in rows {
                    let (seq, detail_type, detail) = row?;
                    let event = serde_json::from_str(&detail).and_then(|detail| {
                        ArchiveEvent::from_entry(&EventEntry {
                            detail_type,
                            detail,
                        })
                    });
                    match event {
                        Ok(event) => batch.push(QueuedEvent { seq, event }),
                        Err(source) if batch.is_empty() => {
                            return Err(Error::UnreadableEvent { seq, source })
                        }
                        Err(_) => break,
                    }
                }
                Ok(batch)
            })
            .await
    }

    /// Like [`LocalEventSink::pending`], but waits until there is at least
    /// one event. An emit through this sink (or a clone) wakes it at once;
    /// one from another process on the same file (`zoomvault reindex`
    /// beside `serve`) is seen within [`CROSS_PROCESS_POLL`].
    pub async fn next_batch(&self, limit: usize) -> Result<Vec<QueuedEvent>, Error> {
        loop {
            // Registered before looking, so an emit between the look and
            // the wait still wakes us.
            let emitted = self.emitted.notified();
            tokio::pin!(emitted);
            emitted.as_mut().enable();
            let batch = self.pending(limit).await?;
            if !batch.is_empty() {
                return Ok(batch);
            }
            let _ = tokio::time::timeout(CROSS_PROCESS_POLL, emitted).await;
        }
    }

    /// Removes every event up to and including `through`; how many.
    pub async fn ack(&self, through: EventSeq) -> Result<usize, Error> {
        self.database
            .run(move |connection| {
                Ok(
                    connection
                        .execute("DELETE FROM archive_events WHERE seq <= ?1", [through.0])?,
                )
            })
            .await
    }
}

#[async_trait]
impl EventSink for LocalEventSink {
    async fn emit(&self, event: ArchiveEvent) -> Result<(), events::Error> {
        let entry = event.to_entry()?;
        let detail = serde_json::to_string(&entry.detail).map_err(events::Error::Encode)?;
        self.database
            .run(move |connection| {
                connection.execute(
                    "INSERT INTO archive_events (detail_type, detail) VALUES (?1, ?2)",
                    params![entry.detail_type, detail],
                )?;
                Ok(())
            })
            .await
            .map_err(|error| {
                if error.is_busy() {
                    events::Error::Unavailable(Box::new(error))
                } else {
                    events::Error::Backend(Box::new(error))
                }
            })?;
        self.emitted.notify_waiters();
        Ok(())
    }
}
