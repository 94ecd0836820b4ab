//! [`SqliteIndex`]: the recording index port on a SQLite table.
//!
//! Each row keeps the entry as JSON (what `get` and `list` return, exactly
//! as upserted) beside the columns it is ordered by. Listing is newest
//! first by (start time, UUID); the cursor is that triple of the last entry
//! returned, hex-encoded so callers treat it as opaque.
//!
//! This adapter owns the `recording_index` table and must not touch
//! anything else in the database file.

use std::path::Path;

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};
use time::OffsetDateTime;

use super::database::Database;
use super::Error as LocalError;
use crate::ports::index::{
    Cursor, Error, IndexEntry, ListPage, ListQuery, RecordingIndex, MAX_LIST_LIMIT,
};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS recording_index (
    recording_uuid TEXT PRIMARY KEY NOT NULL,
    start_unix INTEGER NOT NULL,
    start_nanos INTEGER NOT NULL,
    entry TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS recording_index_newest_first
    ON recording_index (start_unix DESC, start_nanos DESC, recording_uuid DESC);
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

/// The position of an entry in newest-first order.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Position {
    start_unix: i64,
    start_nanos: u32,
    recording_uuid: String,
}

impl Position {
    fn encode(&self) -> Cursor {
        Cursor::new(hex::encode(format!(
            "{}:{}:{}",
            self.start_unix, self.start_nanos, self.recording_uuid
        )))
    }

    fn decode(cursor: &Cursor) -> Result<Position, Error> {
        let invalid = || Error::InvalidCursor(cursor.as_str().to_owned());
        let text = hex::decode(cursor.as_str())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(invalid)?;
        let mut fields = text.splitn(3, ':');
        let (Some(unix), Some(nanos), Some(uuid)) = (fields.next(), fields.next(), fields.next())
        else {
            return Err(invalid());
        };
        Ok(Position {
            start_unix: unix.parse().map_err(|_| invalid())?,
            start_nanos: nanos.parse().map_err(|_| invalid())?,
            recording_uuid: uuid.to_owned(),
        })
    }
}

fn read_entry(json: &str, recording_uuid: &str) -> Result<IndexEntry, LocalError> {
    serde_json::from_str(json).map_err(|source| LocalError::Corrupt {
        what: format!("index entry for {recording_uuid:?}"),
        source,
    })
}

fn sort_key(time: OffsetDateTime) -> (i64, u32) {
    (time.unix_timestamp(), time.nanosecond())
}

#[async_trait]
impl RecordingIndex for SqliteIndex {
    async fn upsert(&self, entry: IndexEntry) -> Result<(), Error> {
        let json = serde_json::to_string(&entry).map_err(|error| Error::InvalidEntry {
            recording_uuid: entry.recording_uuid.clone(),
            reason: error.to_string(),
        })?;
        let (start_unix, start_nanos) = sort_key(entry.start_time);
        self.database
            .run(move |connection| {
                connection.execute(
                    "INSERT INTO recording_index (recording_uuid, start_unix, start_nanos, entry)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (recording_uuid) DO UPDATE SET
                         start_unix = excluded.start_unix,
                         start_nanos = excluded.start_nanos,
                         entry = excluded.entry",
                    params![entry.recording_uuid, start_unix, start_nanos, json],
                )?;
                Ok(())
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
        let after = query.after.as_ref().map(Position::decode).transpose()?;
        let before = query.started_before.map(sort_key);
        let limit = query.limit;
        let rows = self
            .database
            .run(move |connection| {
                let mut statement = connection.prepare_cached(
                    "SELECT start_unix, start_nanos, recording_uuid, entry FROM recording_index
                     WHERE (?1 IS NULL OR (start_unix, start_nanos, recording_uuid) < (?1, ?2, ?3))
                       AND (?4 IS NULL OR (start_unix, start_nanos) < (?4, ?5))
                     ORDER BY start_unix DESC, start_nanos DESC, recording_uuid DESC
                     LIMIT ?6",
                )?;
                // One more than asked for tells whether another page follows.
                let fetch = i64::try_from(limit + 1).unwrap_or(i64::MAX);
                let rows = statement.query_map(
                    params![
                        after.as_ref().map(|p| p.start_unix),
                        after.as_ref().map(|p| p.start_nanos),
                        after.as_ref().map(|p| p.recording_uuid.clone()),
                        before.map(|(unix, _)| unix),
                        before.map(|(_, nanos)| nanos),
                        fetch,
                    ],
                    |row| {
                        Ok((
                            Position {
                                start_unix: row.get(0)?,
                                start_nanos: row.get(1)?,
                                recording_uuid: row.get(2)?,
                            },
                            row.get::<_, String>(3)?,
                        ))
                    },
                )?;
                let mut page = Vec::new();
                for row in rows {
                    let (position, json) = row?;
                    let entry = read_entry(&json, &position.recording_uuid)?;
                    page.push((position, entry));
                }
                Ok(page)
            })
            .await
            .map_err(port_error)?;
        let has_more = rows.len() > limit;
        let mut entries = Vec::with_capacity(limit);
        let mut last = None;
        for (position, entry) in rows.into_iter().take(limit) {
            last = Some(position);
            entries.push(entry);
        }
        let next = if has_more {
            last.map(|position| position.encode())
        } else {
            None
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
        let position = Position {
            start_unix: -5,
            start_nanos: 7,
            recording_uuid: "a:b/c==".to_owned(),
        };
        assert_eq!(Position::decode(&position.encode()).ok(), Some(position));
        for forged in ["", "zz", &hex::encode("1:2"), &hex::encode("x:2:u")] {
            assert!(Position::decode(&Cursor::new(forged)).is_err(), "{forged}");
        }
    }
}
