//! [`SqliteIndex`]: the recording index port on a SQLite table.
//!
//! Each row keeps the entry as JSON (what `get` and `list` return, exactly
//! as upserted) beside the columns it is selected and ordered by: the start
//! second, meeting id, host email and ingest time in milliseconds (the
//! upsert's condition). Listing is newest first by (start second, UUID),
//! with one SQLite index per access pattern; the cursor is the listing's
//! filter and the position of the last entry returned, hex-encoded JSON so
//! callers treat it as opaque.
//!
//! This adapter owns the `recording_index` table and must not touch
//! anything else in the database file.

use std::path::Path;

use async_trait::async_trait;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, OptionalExtension};
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::database::Database;
use super::Error as LocalError;
use crate::ports::index::{
    Cursor, Error, IndexEntry, ListFilter, ListPage, ListQuery, RecordingIndex, Upserted,
    MAX_LIST_LIMIT,
};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS recording_index (
    recording_uuid TEXT PRIMARY KEY NOT NULL,
    start_unix INTEGER NOT NULL,
    meeting_id INTEGER NOT NULL,
    host_email TEXT,
    ingested_at_ms INTEGER NOT NULL,
    entry TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS recording_index_by_date
    ON recording_index (start_unix DESC, recording_uuid DESC);
CREATE INDEX IF NOT EXISTS recording_index_by_meeting
    ON recording_index (meeting_id, start_unix DESC, recording_uuid DESC);
CREATE INDEX IF NOT EXISTS recording_index_by_host
    ON recording_index (host_email, start_unix DESC, recording_uuid DESC)
    WHERE host_email IS NOT NULL;
";

#[derive(Debug, Clone)]
pub struct SqliteIndex {
    database: Database,
}

impl SqliteIndex {
    /// Opens (creating if needed) the index in the SQLite file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteIndex, LocalError> {
        Ok(SqliteIndex {
            database: Database::open(path.as_ref(), SCHEMA)?,
        })
    }
}

fn port_error(error: LocalError) -> Error {
    if error.is_busy() {
        Error::Unavailable(Box::new(error))
    } else {
        Error::Backend(Box::new(error))
    }
}

/// SQLite integers are signed; a meeting id is stored as its bit pattern,
/// which keeps equality (all the index asks of it).
fn meeting_column(meeting_id: u64) -> i64 {
    i64::from_ne_bytes(meeting_id.to_ne_bytes())
}

/// The filter as the cursor records it, so a cursor is refused by a
/// listing with another filter.
fn filter_tag(filter: &ListFilter) -> Value {
    match filter {
        ListFilter::All => json!(["all"]),
        ListFilter::Meeting(id) => json!(["meeting", id]),
        ListFilter::Host(email) => json!(["host", email]),
    }
}

/// The position of an entry in newest-first order, within one listing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Position {
    filter: Value,
    start_unix: i64,
    recording_uuid: String,
}

impl Position {
    fn encode(&self) -> Cursor {
        let text = json!([self.filter, self.start_unix, self.recording_uuid]).to_string();
        Cursor::new(hex::encode(text))
    }

    fn decode(cursor: &Cursor, filter: &ListFilter) -> Result<Position, Error> {
        let invalid = || Error::InvalidCursor(cursor.as_str().to_owned());
        let fields: Vec<Value> = hex::decode(cursor.as_str())
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(invalid)?;
        let [tag, Value::Number(start_unix), Value::String(recording_uuid)] = fields.as_slice()
        else {
            return Err(invalid());
        };
        let filter = filter_tag(filter);
        if *tag != filter {
            return Err(invalid());
        }
        Ok(Position {
            filter,
            start_unix: start_unix.as_i64().ok_or_else(invalid)?,
            recording_uuid: recording_uuid.clone(),
        })
    }
}

fn read_entry(json: &str, recording_uuid: &str) -> Result<IndexEntry, LocalError> {
    serde_json::from_str(json).map_err(|source| LocalError::Corrupt {
        what: format!("index entry for {recording_uuid:?}"),
        source,
    })
}

/// The first whole second at or after `time`: entries (compared by their
/// start second) started before `time` are those before this second.
fn second_at_or_after(time: OffsetDateTime) -> i64 {
    let second = time.unix_timestamp();
    if time.nanosecond() > 0 {
        second + 1
    } else {
        second
    }
}

#[async_trait]
impl RecordingIndex for SqliteIndex {
    async fn upsert(&self, entry: IndexEntry) -> Result<Upserted, Error> {
        entry.check()?;
        let json = serde_json::to_string(&entry).map_err(|error| Error::InvalidEntry {
            recording_uuid: entry.recording_uuid.clone(),
            reason: error.to_string(),
        })?;
        let ingested_at_ms = entry.ingested_at_ms();
        self.database
            .run(move |connection| {
                // The conflict branch's WHERE is the condition: a stored
                // entry ingested later makes this change nothing.
                let changed = connection.execute(
                    "INSERT INTO recording_index
                         (recording_uuid, start_unix, meeting_id, host_email, ingested_at_ms, entry)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (recording_uuid) DO UPDATE SET
                         start_unix = excluded.start_unix,
                         meeting_id = excluded.meeting_id,
                         host_email = excluded.host_email,
                         ingested_at_ms = excluded.ingested_at_ms,
                         entry = excluded.entry
                     WHERE excluded.ingested_at_ms >= recording_index.ingested_at_ms",
                    params![
                        entry.recording_uuid,
                        entry.start_time.unix_timestamp(),
                        meeting_column(entry.meeting_id),
                        entry.host_email,
                        ingested_at_ms,
                        json
                    ],
                )?;
                Ok(if changed > 0 {
                    Upserted::Written
                } else {
                    Upserted::KeptNewer
                })
            })
            .await
            .map_err(port_error)
    }

    async fn get(&self, recording_uuid: &str) -> Result<Option<IndexEntry>, Error> {
        let recording_uuid = recording_uuid.to_owned();
        self.database
            .run(move |connection| {
                let json: Option<String> = connection
                    .query_row(
                        "SELECT entry FROM recording_index WHERE recording_uuid = ?1",
                        [&recording_uuid],
                        |row| row.get(0),
                    )
                    .optional()?;
                json.map(|json| read_entry(&json, &recording_uuid))
                    .transpose()
            })
            .await
            .map_err(port_error)
    }

    async fn list(&self, query: ListQuery) -> Result<ListPage, Error> {
        if !(1..=MAX_LIST_LIMIT).contains(&query.limit) {
            return Err(Error::InvalidLimit(query.limit));
        }
        let after = query
            .after
            .as_ref()
            .map(|cursor| Position::decode(cursor, &query.filter))
            .transpose()?;
        let before = query.started_before.map(second_at_or_after);
        let limit = query.limit;
        let filter = query.filter.clone();
        let rows = self
            .database
            .run(move |connection| {
                // One statement per access pattern, so each uses its index.
                let (condition, key) = match &filter {
                    ListFilter::All => ("?4 IS NULL", None),
                    ListFilter::Meeting(id) => (
                        "meeting_id = ?4",
                        Some(SqlValue::Integer(meeting_column(*id))),
                    ),
                    ListFilter::Host(email) => {
                        ("host_email = ?4", Some(SqlValue::Text(email.clone())))
                    }
                };
                let mut statement = connection.prepare_cached(&format!(
                    "SELECT start_unix, recording_uuid, entry FROM recording_index
                     WHERE {condition}
                       AND (?1 IS NULL OR (start_unix, recording_uuid) < (?1, ?2))
                       AND (?3 IS NULL OR start_unix < ?3)
                     ORDER BY start_unix DESC, recording_uuid DESC
                     LIMIT ?5"
                ))?;
                // One more than asked for tells whether another page follows.
                let fetch = i64::try_from(limit + 1).unwrap_or(i64::MAX);
                let rows = statement.query_map(
                    params![
                        after.as_ref().map(|p| p.start_unix),
                        after.as_ref().map(|p| p.recording_uuid.clone()),
                        before,
                        key,
                        fetch,
                    ],
                    |row| {
                        Ok((
                            row.get::<_, i64>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, String>(2)?,
                        ))
                    },
                )?;
                let mut page = Vec::new();
                for row in rows {
                    let (start_unix, recording_uuid, json) = row?;
                    let entry = read_entry(&json, &recording_uuid)?;
                    page.push((start_unix, recording_uuid, entry));
                }
                Ok(page)
            })
            .await
            .map_err(port_error)?;
        let has_more = rows.len() > limit;
        let mut entries = Vec::with_capacity(limit);
        let mut last = None;
        for (start_unix, recording_uuid, entry) in rows.into_iter().take(limit) {
            last = Some((start_unix, recording_uuid));
            entries.push(entry);
        }
        let next = match last {
            Some((start_unix, recording_uuid)) if has_more => Some(
                Position {
                    filter: filter_tag(&query.filter),
                    start_unix,
                    recording_uuid,
                }
                .encode(),
            ),
            _ => None,
        };
        Ok(ListPage { entries, next })
    }

    async fn delete(&self, recording_uuid: &str) -> Result<bool, Error> {
        let recording_uuid = recording_uuid.to_owned();
        self.database
            .run(move |connection| {
                let removed = connection.execute(
                    "DELETE FROM recording_index WHERE recording_uuid = ?1",
                    [&recording_uuid],
                )?;
                Ok(removed > 0)
            })
            .await
            .map_err(port_error)
    }

    async fn clear(&self) -> Result<(), Error> {
        self.database
            .run(|connection| {
                connection.execute("DELETE FROM recording_index", [])?;
                Ok(())
            })
            .await
            .map_err(port_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        let filter = ListFilter::Host("a:b@example.com".to_owned());
        let position = Position {
            filter: filter_tag(&filter),
            start_unix: -5,
            recording_uuid: "a:b/c==".to_owned(),
        };
        let cursor = position.encode();
        assert_eq!(Position::decode(&cursor, &filter).ok(), Some(position));
        assert!(Position::decode(&cursor, &ListFilter::All).is_err());
        assert!(Position::decode(&cursor, &ListFilter::Host("other".to_owned())).is_err());
        for forged in [
            "",
            "zz",
            &hex::encode("[1,2]"),
            &hex::encode(r#"[["all"],"x","u"]"#),
            &hex::encode(r#"[["all"],1.5,"u"]"#),
        ] {
            let result = Position::decode(&Cursor::new(forged), &ListFilter::All);
            assert!(result.is_err(), "{forged}");
        }
    }
}
