//! The execution journal on SQLite (WAL). Owns the schema and every query.
//!
//! Per execution it keeps the facts (the journal proper, replayed on
//! recovery) and the history events derived from them (what
//! `GetExecutionHistory` serves). Both are appended in the same transaction
//! as the fact that produced them, so the journal and its history never
//! disagree. The `status` columns of `executions` are an index over the
//! journal's terminal event, written in that same transaction; a redrive
//! (`Batch::reopened`) sets them back to RUNNING in the transaction that
//! journals its `Redriven` fact.
//!
//! `synchronous=NORMAL` in WAL mode: a committed transaction survives a
//! process crash (`kill -9`); only an OS crash or power loss can lose the
//! last commits, never corrupt the database.

use crate::core::{Fact, Status};
use crate::history::HistoryEvent;
use crate::rules::{redrive_status, MachineType, RedriveStatus};
use crate::task::TokenSecret;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::ToSql;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("journal database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the journal was written with schema version {found}, and this build of zoomvault reads only version {SCHEMA_VERSION}; it was left as it is (use a new data directory, or the build that wrote it)")]
    SchemaVersion { found: i64 },
    #[error("journal holds malformed JSON in {what}: {source}")]
    Corrupt {
        what: String,
        source: serde_json::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The schema this build reads and writes (`PRAGMA user_version`). Nothing
/// has been released, so there are no migrations: a journal of another
/// version is refused, never changed.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS state_machines (
    arn TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    definition TEXT NOT NULL,
    role_arn TEXT NOT NULL,
    type TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1,
    tags TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS executions (
    id INTEGER PRIMARY KEY,
    arn TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    state_machine_arn TEXT NOT NULL,
    state_machine_name TEXT NOT NULL,
    definition TEXT NOT NULL,
    role_arn TEXT NOT NULL,
    input TEXT NOT NULL,
    seed INTEGER NOT NULL,
    start_ms INTEGER NOT NULL,
    status TEXT NOT NULL,
    stop_ms INTEGER,
    output TEXT,
    error TEXT,
    cause TEXT,
    redrive_count INTEGER NOT NULL DEFAULT 0,
    redrive_ms INTEGER,
    token_secret BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS executions_by_machine ON executions (state_machine_arn, status, id);
CREATE INDEX IF NOT EXISTS executions_by_status ON executions (status);
CREATE TABLE IF NOT EXISTS facts (
    execution_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (execution_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS history (
    execution_id INTEGER NOT NULL,
    id INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (execution_id, id)
) WITHOUT ROWID;
"#;

/// A row of `executions`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionRow {
    pub id: i64,
    pub arn: String,
    pub name: String,
    pub state_machine_arn: String,
    pub state_machine_name: String,
    pub definition: String,
    pub role_arn: String,
    pub input: String,
    pub seed: u64,
    /// The key of the execution's task tokens (32 bytes).
    pub token_secret: TokenSecret,
    pub start_ms: i64,
    pub status: Status,
    pub stop_ms: Option<i64>,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// Times the execution was redriven (AWS's `redriveCount`).
    pub redrive_count: u32,
    /// When it was last redriven (AWS's `redriveDate`).
    pub redrive_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StateMachineRow {
    pub arn: String,
    pub name: String,
    pub definition: String,
    pub role_arn: String,
    pub machine_type: MachineType,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub revision: i64,
}

/// Everything one driver turn commits, in one transaction.
#[derive(Debug, Default)]
pub struct Batch {
    pub new_executions: Vec<ExecutionRow>,
    pub facts: Vec<NewFact>,
    pub history: Vec<(i64, HistoryEvent)>,
    /// Applied before `closed`: a redriven state may fail again at once.
    pub reopened: Vec<Reopened>,
    pub closed: Vec<Closed>,
}

/// One fact of an execution's journal: its place in the journal, when it
/// was journaled, and what happened.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalEntry {
    pub seq: u64,
    pub at_ms: i64,
    pub fact: Fact,
}

/// A fact to journal, and whose execution it belongs to.
#[derive(Debug, Clone)]
pub struct NewFact {
    pub execution_id: i64,
    pub entry: JournalEntry,
}

/// A closed execution running again (RedriveExecution): status back to
/// RUNNING, the stop fields cleared.
#[derive(Debug, Clone)]
pub struct Reopened {
    pub execution_id: i64,
    pub redrive_count: u32,
    pub redrive_ms: i64,
}

/// An execution reaching a terminal status.
#[derive(Debug, Clone)]
pub struct Closed {
    pub execution_id: i64,
    pub status: Status,
    pub stop_ms: i64,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.new_executions.is_empty()
            && self.facts.is_empty()
            && self.history.is_empty()
            && self.reopened.is_empty()
            && self.closed.is_empty()
    }
}

/// Statuses and machine types are stored as the API names them, so the
/// journal reads plainly in `sqlite3`; a name this build does not know is
/// a corrupt journal, not a guess.
impl ToSql for Status {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.api_name()))
    }
}

impl FromSql for Status {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Status> {
        let name = value.as_str()?;
        Status::from_api_name(name).ok_or_else(|| unknown_name("execution status", name))
    }
}

impl ToSql for MachineType {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.api_name()))
    }
}

impl FromSql for MachineType {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<MachineType> {
        let name = value.as_str()?;
        MachineType::from_api_name(name).ok_or_else(|| unknown_name("state machine type", name))
    }
}

fn unknown_name(what: &str, name: &str) -> FromSqlError {
    FromSqlError::Other(format!("unknown {what} {name:?}").into())
}

#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

const EXECUTION_COLUMNS: &str = "id, arn, name, state_machine_arn, state_machine_name, definition, role_arn, input, seed, start_ms, status, stop_ms, output, error, cause, redrive_count, redrive_ms, token_secret";

fn execution_row(r: &rusqlite::Row) -> rusqlite::Result<ExecutionRow> {
    Ok(ExecutionRow {
        id: r.get(0)?,
        arn: r.get(1)?,
        name: r.get(2)?,
        state_machine_arn: r.get(3)?,
        state_machine_name: r.get(4)?,
        definition: r.get(5)?,
        role_arn: r.get(6)?,
        input: r.get(7)?,
        seed: r.get::<_, i64>(8)? as u64,
        start_ms: r.get(9)?,
        status: r.get(10)?,
        stop_ms: r.get(11)?,
        output: r.get(12)?,
        error: r.get(13)?,
        cause: r.get(14)?,
        redrive_count: r.get(15)?,
        redrive_ms: r.get(16)?,
        token_secret: TokenSecret::from_bytes(r.get::<_, [u8; 32]>(17)?),
    })
}

fn state_machine_row(r: &rusqlite::Row) -> rusqlite::Result<StateMachineRow> {
    Ok(StateMachineRow {
        arn: r.get(0)?,
        name: r.get(1)?,
        definition: r.get(2)?,
        role_arn: r.get(3)?,
        machine_type: r.get(4)?,
        created_ms: r.get(5)?,
        updated_ms: r.get(6)?,
        revision: r.get(7)?,
    })
}

const STATE_MACHINE_COLUMNS: &str =
    "arn, name, definition, role_arn, type, created_ms, updated_ms, revision";

/// Tags as the `tags` column keeps them: a JSON object, in order.
fn tags_json(tags: &[(String, String)]) -> String {
    let object: serde_json::Map<String, Value> = tags
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    Value::Object(object).to_string()
}

impl Store {
    pub fn open(path: &Path) -> Result<Store> {
        let conn = Connection::open(path)?;
        Self::init(conn)
    }

    pub fn open_in_memory() -> Result<Store> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<Store> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // Checked and created in one write transaction, so the engine's
        // connections opening a new journal at once cannot see each
        // other's half-made schema.
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let has_tables: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table')",
            [],
            |r| r.get(0),
        )?;
        match (version, has_tables) {
            (SCHEMA_VERSION, _) => {}
            (0, false) => {
                tx.execute_batch(SCHEMA)?;
                tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
            }
            (found, _) => return Err(Error::SchemaVersion { found }),
        }
        tx.commit()?;
        Ok(Store { conn })
    }

    /// Commits a batch atomically.
    pub fn commit(&mut self, batch: &Batch) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut insert_execution = tx.prepare_cached(&format!(
                "INSERT INTO executions ({EXECUTION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
            ))?;
            for e in &batch.new_executions {
                insert_execution.execute(params![
                    e.id,
                    e.arn,
                    e.name,
                    e.state_machine_arn,
                    e.state_machine_name,
                    e.definition,
                    e.role_arn,
                    e.input,
                    e.seed as i64,
                    e.start_ms,
                    e.status,
                    e.stop_ms,
                    e.output,
                    e.error,
                    e.cause,
                    e.redrive_count,
                    e.redrive_ms,
                    e.token_secret.as_bytes()
                ])?;
            }
            let mut insert_fact = tx.prepare_cached(
                "INSERT INTO facts (execution_id, seq, at_ms, body) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for NewFact {
                execution_id,
                entry,
            } in &batch.facts
            {
                let body = serde_json::to_string(&entry.fact).expect("facts serialize");
                insert_fact.execute(params![execution_id, entry.seq as i64, entry.at_ms, body])?;
            }
            let mut insert_event = tx.prepare_cached(
                "INSERT INTO history (execution_id, id, body) VALUES (?1, ?2, ?3)",
            )?;
            for (exec, event) in &batch.history {
                insert_event.execute(params![exec, event.id as i64, event.to_json_string()])?;
            }
            let mut reopen = tx.prepare_cached(
                "UPDATE executions SET status = ?4, stop_ms = NULL, output = NULL, error = NULL, cause = NULL,
                 redrive_count = ?2, redrive_ms = ?3 WHERE id = ?1",
            )?;
            for r in &batch.reopened {
                reopen.execute(params![
                    r.execution_id,
                    r.redrive_count,
                    r.redrive_ms,
                    Status::Running
                ])?;
            }
            let mut close = tx.prepare_cached(
                "UPDATE executions SET status = ?2, stop_ms = ?3, output = ?4, error = ?5, cause = ?6 WHERE id = ?1",
            )?;
            for c in &batch.closed {
                close.execute(params![
                    c.execution_id,
                    c.status,
                    c.stop_ms,
                    c.output,
                    c.error,
                    c.cause
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Stops this connection from checkpointing the WAL when a commit makes
    /// it long. A checkpoint copies pages into the database and fsyncs it;
    /// run inline, that lands on whichever commit crosses the threshold,
    /// which is how a webhook's StartExecution once took 50 ms behind it.
    /// `checkpoint` on another connection does the work instead.
    pub fn disable_auto_checkpoint(&self) -> Result<()> {
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        Ok(())
    }

    /// Copies what it can of the WAL into the database without blocking
    /// writers or readers (`PASSIVE`). Returns the WAL's length and how
    /// much of it was checkpointed, in pages.
    pub fn checkpoint(&self) -> Result<(i64, i64)> {
        Ok(self
            .conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                Ok((r.get(1)?, r.get(2)?))
            })?)
    }

    pub fn next_execution_id(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM executions", [], |r| {
                r.get(0)
            })?)
    }

    pub fn running_executions(&self) -> Result<Vec<ExecutionRow>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {EXECUTION_COLUMNS} FROM executions WHERE status = ?1 ORDER BY id"
        ))?;
        let rows = stmt
            .query_map([Status::Running], execution_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The journal of one execution, in order.
    pub fn facts(&self, execution_id: i64) -> Result<Vec<JournalEntry>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, at_ms, body FROM facts WHERE execution_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt
            .query_map([execution_id], |r| {
                Ok((
                    r.get::<_, i64>(0)? as u64,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(seq, at, body)| {
                let fact = serde_json::from_str(&body).map_err(|source| Error::Corrupt {
                    what: format!("fact {seq} of execution {execution_id}"),
                    source,
                })?;
                Ok(JournalEntry {
                    seq,
                    at_ms: at,
                    fact,
                })
            })
            .collect()
    }

    pub fn execution(&self, arn: &str) -> Result<Option<ExecutionRow>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {EXECUTION_COLUMNS} FROM executions WHERE arn = ?1"
            ))?
            .query_row([arn], execution_row)
            .optional()?)
    }

    /// Executions, newest first, optionally of one state machine and status,
    /// starting below `before_id` (for pagination).
    pub fn list_executions(
        &self,
        state_machine_arn: Option<&str>,
        status: Option<Status>,
        before_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<ExecutionRow>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {EXECUTION_COLUMNS} FROM executions
             WHERE (?1 IS NULL OR state_machine_arn = ?1) AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR id < ?3)
             ORDER BY id DESC LIMIT ?4"
        ))?;
        let rows = stmt
            .query_map(
                params![state_machine_arn, status, before_id, limit as i64],
                execution_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// History events of an execution with ids in `(after, ...]`, ascending,
    /// or descending below `before` when `reverse`.
    pub fn history(
        &self,
        execution_id: i64,
        after: u64,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Value>> {
        let sql = if reverse {
            "SELECT body FROM history WHERE execution_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3"
        } else {
            "SELECT body FROM history WHERE execution_id = ?1 AND id > ?2 ORDER BY id ASC LIMIT ?3"
        };
        let bound = if reverse && after == 0 {
            i64::MAX
        } else {
            after as i64
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let bodies = stmt
            .query_map(params![execution_id, bound, limit as i64], |r| {
                r.get::<_, String>(0)
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        bodies
            .into_iter()
            .map(|b| {
                serde_json::from_str(&b).map_err(|source| Error::Corrupt {
                    what: format!("history of execution {execution_id}"),
                    source,
                })
            })
            .collect()
    }

    pub fn history_len(&self, execution_id: i64) -> Result<u64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM history WHERE execution_id = ?1",
            [execution_id],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// Whether RedriveExecution would accept the execution `row` now, by
    /// AWS's rules (`rules::redrive_status`) over its state machine's type
    /// and its history's length. A running or succeeded execution needs
    /// neither, so only a closed, unsuccessful one costs the two reads.
    pub fn redrive_status(&self, row: &ExecutionRow, now_ms: i64) -> Result<RedriveStatus> {
        if matches!(row.status, Status::Running | Status::Succeeded) {
            return Ok(redrive_status(row, None, 0, now_ms));
        }
        let machine_type = self
            .state_machine(&row.state_machine_arn)?
            .map(|m| m.machine_type);
        let history_len = self.history_len(row.id)?;
        Ok(redrive_status(row, machine_type, history_len, now_ms))
    }

    pub fn put_state_machine(
        &mut self,
        row: &StateMachineRow,
        tags: &[(String, String)],
    ) -> Result<()> {
        self.conn.execute(
            &format!("INSERT INTO state_machines ({STATE_MACHINE_COLUMNS}, tags) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
            params![
                row.arn,
                row.name,
                row.definition,
                row.role_arn,
                row.machine_type,
                row.created_ms,
                row.updated_ms,
                row.revision,
                tags_json(tags)
            ],
        )?;
        Ok(())
    }

    pub fn update_state_machine(
        &mut self,
        arn: &str,
        definition: Option<&str>,
        role_arn: Option<&str>,
        now_ms: i64,
    ) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE state_machines SET definition = COALESCE(?2, definition), role_arn = COALESCE(?3, role_arn),
             updated_ms = ?4, revision = revision + 1 WHERE arn = ?1",
            params![arn, definition, role_arn, now_ms],
        )?;
        Ok(n > 0)
    }

    pub fn state_machine(&self, arn: &str) -> Result<Option<StateMachineRow>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {STATE_MACHINE_COLUMNS} FROM state_machines WHERE arn = ?1"
            ))?
            .query_row([arn], state_machine_row)
            .optional()?)
    }

    pub fn state_machines(&self) -> Result<Vec<StateMachineRow>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {STATE_MACHINE_COLUMNS} FROM state_machines ORDER BY name"
        ))?;
        let rows = stmt
            .query_map([], state_machine_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// A state machine's tags in the order they were first set; `None` when
    /// there is no such state machine.
    pub fn state_machine_tags(&self, arn: &str) -> Result<Option<Vec<(String, String)>>> {
        let text: Option<String> = self
            .conn
            .prepare_cached("SELECT tags FROM state_machines WHERE arn = ?1")?
            .query_row([arn], |r| r.get(0))
            .optional()?;
        let Some(text) = text else {
            return Ok(None);
        };
        let object: serde_json::Map<String, Value> =
            serde_json::from_str(&text).map_err(|source| Error::Corrupt {
                what: format!("tags of {arn}"),
                source,
            })?;
        Ok(Some(
            object
                .into_iter()
                .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string()))
                .collect(),
        ))
    }

    /// Replaces a state machine's tags; false when there is no such machine.
    pub fn put_state_machine_tags(&mut self, arn: &str, tags: &[(String, String)]) -> Result<bool> {
        Ok(self.conn.execute(
            "UPDATE state_machines SET tags = ?2 WHERE arn = ?1",
            params![arn, tags_json(tags)],
        )? > 0)
    }

    pub fn delete_state_machine(&mut self, arn: &str) -> Result<bool> {
        Ok(self
            .conn
            .execute("DELETE FROM state_machines WHERE arn = ?1", [arn])?
            > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "zoomvault-store-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("journal.db");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        path
    }

    #[test]
    fn a_journal_of_another_schema_version_is_refused_and_left_alone() {
        let path = temp_path("version");
        // What the builds before schema versions left: tables, version 0.
        Connection::open(&path)
            .unwrap()
            .execute_batch(
                "CREATE TABLE executions (id INTEGER PRIMARY KEY, status TEXT NOT NULL);
                 INSERT INTO executions VALUES (1, 'FAILED');",
            )
            .unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, Error::SchemaVersion { found: 0 }), "{err}");
        assert!(err.to_string().contains("reads only version 1"), "{err}");
        let conn = Connection::open(&path).unwrap();
        let rows: i64 = conn
            .query_row("SELECT COUNT(*) FROM executions", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1, "the old journal keeps its rows");
        conn.pragma_update(None, "user_version", 2).unwrap();
        drop(conn);
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, Error::SchemaVersion { found: 2 }), "{err}");
    }

    #[test]
    fn a_new_journal_is_made_once_and_opened_again() {
        let path = temp_path("new");
        let first = Store::open(&path).unwrap();
        let second = Store::open(&path).unwrap();
        assert_eq!(second.next_execution_id().unwrap(), 1);
        drop((first, second));
        assert_eq!(Store::open(&path).unwrap().next_execution_id().unwrap(), 1);
    }

    #[test]
    fn a_new_execution_keeps_its_token_secret() {
        let mut store = Store::open_in_memory().unwrap();
        let secret = TokenSecret::generate();
        let row = ExecutionRow {
            id: 1,
            arn: "arn:e".into(),
            name: "e".into(),
            state_machine_arn: "arn:m".into(),
            state_machine_name: "m".into(),
            definition: "{}".into(),
            role_arn: "arn:r".into(),
            input: "{}".into(),
            seed: 7,
            token_secret: secret.clone(),
            start_ms: 1000,
            status: Status::Running,
            stop_ms: None,
            output: None,
            error: None,
            cause: None,
            redrive_count: 0,
            redrive_ms: None,
        };
        store
            .commit(&Batch {
                new_executions: vec![row.clone()],
                ..Batch::default()
            })
            .unwrap();
        let stored = store.execution("arn:e").unwrap().unwrap();
        assert_eq!(stored.token_secret, secret);
        assert_eq!(stored, row);
    }
}
