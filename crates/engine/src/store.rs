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
//! Durable by default ([`Durability::Full`], `synchronous=FULL` in WAL
//! mode): a commit is on disk (the log fsynced) before `commit` returns, so
//! a StartExecution or webhook answered after it survives a power loss.
//! [`Durability::Normal`] (`synchronous=NORMAL`) is an explicit opt-in: a
//! commit survives a process crash (`kill -9`), but an OS crash or power
//! loss can lose the last ones (never corrupt the database).
//!
//! The files stay bounded: closed executions leave the journal in batches
//! (`closed_before`, `delete_closed_executions`, driven by the engine's
//! retention sweep), a new journal gives the pages they free back to the
//! file system (`auto_vacuum=INCREMENTAL`, `return_free_pages`), and a
//! write-ahead log left larger than `WAL_SIZE_LIMIT` is truncated once the
//! engine falls quiet (`truncate_wal`, from the upkeep thread), and under
//! commits that never pause the engine thread copies the log itself past
//! `WAL_RESTART_PAGES`, so it starts over rather than grow. A journal created before retention existed keeps
//! `auto_vacuum=NONE`: its free pages are reused by new executions, so it
//! stops growing but does not shrink until converted offline (`PRAGMA
//! auto_vacuum=INCREMENTAL; VACUUM;` with the engine stopped).

use crate::core::{Fact, Status};

/// How durable a commit is when it returns (see the module documentation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Durability {
    /// On disk before the commit returns: survives a power loss.
    #[default]
    Full,
    /// Survives a process crash; an OS crash or power loss may lose the
    /// last commits. Faster where fsync is slow; an explicit opt-in.
    Normal,
}

impl Durability {
    /// SQLite's `synchronous` setting for it.
    fn synchronous(self) -> &'static str {
        match self {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        }
    }
}
use crate::history::HistoryEvent;
use crate::rules::{redrive_status, MachineType, RedriveStatus};
use crate::task::TokenSecret;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::ToSql;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;
use std::path::Path;

mod map_runs;
pub use map_runs::{ChildLink, MapRunCounts, MapRunRow, MapRunWrite};

/// How large the write-ahead log file may stay once everything in it is
/// in the database. SQLite keeps the file at its high-water mark forever,
/// since overwriting is cheaper than growing: one burst of 10,000
/// executions left 128 MB behind. A larger file is truncated by the upkeep
/// thread (`truncate_wal`), not by `PRAGMA journal_size_limit`, whose cut
/// falls on the first commit after the log restarts and cost that commit
/// 20-110 ms on the bench machine.
pub const WAL_SIZE_LIMIT: u64 = 16 << 20;

/// How many pages of write-ahead log the engine thread lets pile up before
/// it copies the log into the database itself, in the commit that passes
/// this (SQLite's automatic checkpoint, `PASSIVE`; 64 MiB of 4 KiB pages).
/// The upkeep thread's copies every 500 ms keep the log well below this
/// while the engine has pauses, and the log then starts over on its own;
/// under commits that never pause, those copies never catch up (commits
/// land while they run), and without this the log grew by 35 MB/s under
/// 1,000 webhooks a second until the disk was full. The engine thread's
/// own copy runs between two of its commits, so it catches up, the next
/// commit starts the log over, and the file stays about this size.
pub const WAL_RESTART_PAGES: u32 = 16_384;

/// How long a connection waits for a lock another holds.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("journal database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the journal was written with schema version {found}, and this build of zoomvault reads only version {SCHEMA_VERSION}; it was left as it is (use a new data directory, or the build that wrote it)")]
    SchemaVersion { found: i64 },
    #[error("journal file {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
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
const SCHEMA_VERSION: i64 = 3;

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
-- A distributed Map's runs and their child executions (store/map_runs.rs).
CREATE TABLE IF NOT EXISTS map_runs (
    arn TEXT PRIMARY KEY,
    execution_id INTEGER NOT NULL,
    start_ms INTEGER NOT NULL,
    stop_ms INTEGER,
    status TEXT NOT NULL,
    max_concurrency INTEGER NOT NULL,
    tolerated_failure_count INTEGER NOT NULL,
    tolerated_failure_percentage REAL NOT NULL,
    items INTEGER NOT NULL,
    executions INTEGER NOT NULL DEFAULT 0,
    redrive_count INTEGER NOT NULL DEFAULT 0,
    redrive_ms INTEGER
);
CREATE INDEX IF NOT EXISTS map_runs_by_execution ON map_runs (execution_id);
CREATE TABLE IF NOT EXISTS map_run_children (
    execution_id INTEGER PRIMARY KEY,
    map_run_arn TEXT NOT NULL,
    parent_id INTEGER NOT NULL,
    parent_key INTEGER NOT NULL,
    items INTEGER NOT NULL,
    -- Did not succeed and waits to be redriven with its redriven run.
    pending_redrive INTEGER NOT NULL DEFAULT 0,
    -- Replaced by a new child when its run was redriven (EXPRESS).
    replaced INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS map_run_children_by_run ON map_run_children (map_run_arn, execution_id);
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
    /// Child executions of Map Runs started in this batch.
    pub children: Vec<ChildLink>,
    pub map_runs: Vec<MapRunWrite>,
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
            && self.children.is_empty()
            && self.map_runs.is_empty()
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

/// The statuses of a closed execution.
const CLOSED: [Status; 4] = [
    Status::Succeeded,
    Status::Failed,
    Status::TimedOut,
    Status::Aborted,
];

/// When the execution of the enclosing `executions` row journaled its last
/// fact: for a closed execution, its stop time (see `Store::closed_before`).
const LAST_FACT_MS: &str =
    "(SELECT at_ms FROM facts WHERE execution_id = executions.id ORDER BY seq DESC LIMIT 1)";

/// The journal's size on disk and what it holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalStats {
    /// The database file, in bytes.
    pub database_bytes: u64,
    /// The write-ahead log file, in bytes (0 when there is none).
    pub wal_bytes: u64,
    /// Free pages inside the database file, in bytes: room new executions
    /// reuse before the file grows.
    pub free_bytes: u64,
    /// Whether deleting executions gives their pages back to the file
    /// system (`auto_vacuum=INCREMENTAL`). False for a journal created
    /// before retention existed: its free pages are only reused.
    pub returns_free_pages: bool,
    /// Executions in the journal, of any status.
    pub executions: u64,
    pub running: u64,
    /// SUCCEEDED, FAILED, TIMED_OUT or ABORTED.
    pub closed: u64,
    /// When the longest-closed execution stopped (ms since the epoch).
    pub oldest_closed_stop_ms: Option<i64>,
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
    /// Opens (or creates) the journal at `path`, durable.
    pub fn open(path: &Path) -> Result<Store> {
        Self::open_with(path, Durability::Full)
    }

    /// Opens (or creates) the journal at `path`, its commits as durable as
    /// `durability` says.
    pub fn open_with(path: &Path, durability: Durability) -> Result<Store> {
        let conn = Connection::open(path)?;
        Self::init(conn, durability)
    }

    pub fn open_in_memory() -> Result<Store> {
        Self::init(Connection::open_in_memory()?, Durability::Full)
    }

    fn init(mut conn: Connection, durability: Durability) -> Result<Store> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Before the journal mode, whose switch writes the database's first
        // page: a database chooses its vacuum mode only until then. On a
        // journal that already exists this changes nothing.
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", durability.synchronous())?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
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
            map_runs::commit(&tx, &batch.children, &batch.map_runs)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Stops this connection from checkpointing the WAL when a commit makes
    /// it long. A checkpoint copies pages into the database and fsyncs it;
    /// run inline, that lands on whichever commit crosses the threshold,
    /// which is how a webhook's StartExecution once took 50 ms behind it.
    /// `checkpoint` on another connection does the work instead.
    /// Copies the log into the database in the commit that leaves more than
    /// `pages` pages in it since it last started over (SQLite's automatic
    /// checkpoint, `PASSIVE`, on this connection).
    pub fn auto_checkpoint_after(&self, pages: u32) -> Result<()> {
        self.conn.pragma_update(None, "wal_autocheckpoint", pages)?;
        Ok(())
    }

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

    /// Copies the rest of the WAL into the database and truncates the log
    /// file to zero bytes (`TRUNCATE`), if it can at once. It takes the lock
    /// commits take and needs no reader on an older snapshot; waiting for
    /// those would hold commits back (a TRUNCATE that waited stalled
    /// StartExecution for 240 ms), so it does not wait, and returns false
    /// when something was in the way.
    pub fn truncate_wal(&self) -> Result<bool> {
        self.conn.busy_timeout(std::time::Duration::ZERO)?;
        let busy = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                r.get::<_, i64>(0)
            });
        self.conn.busy_timeout(BUSY_TIMEOUT)?;
        Ok(busy? == 0)
    }

    /// Closed executions whose journal ended before `closed_before_ms`,
    /// lowest id first: what a retention sweep removes.
    ///
    /// Only indexes are read. The time of an execution's last fact is its
    /// stop time (the fact that closes an execution is its last, journaled
    /// at the stop time), and it sits in the small `facts` rows, while
    /// `stop_ms` lies behind the definition and input in the execution's
    /// row: reading it would read every closed execution's overflow pages
    /// (some 13 KB each for the ingest machine). `delete_closed_executions`
    /// checks `status` and `stop_ms` themselves before deleting.
    pub fn closed_before(&self, closed_before_ms: i64) -> Result<Vec<i64>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT id FROM executions
             WHERE status IN (?2, ?3, ?4, ?5) AND {LAST_FACT_MS} < ?1
             ORDER BY id"
        ))?;
        let [s, f, t, a] = CLOSED;
        let ids = stmt
            .query_map(params![closed_before_ms, s, f, t, a], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        Ok(ids)
    }

    /// Deletes those of the executions `ids` that are closed and stopped
    /// before `closed_before_ms`, with their facts and history, in one
    /// transaction; one that runs again (redriven since it was chosen) is
    /// kept. Callers keep `ids` to a hundred or so, so the write lock is held
    /// briefly. Their pages go to the free list, where new rows reuse them
    /// and `return_free_pages` finds them. Returns how many executions were
    /// deleted.
    pub fn delete_closed_executions(&mut self, ids: &[i64], closed_before_ms: i64) -> Result<u64> {
        let tx = self.conn.transaction()?;
        let mut deleted = 0;
        {
            let mut execution = tx.prepare_cached(
                "DELETE FROM executions WHERE id = ?1 AND status != ?2 AND stop_ms < ?3",
            )?;
            let mut facts = tx.prepare_cached("DELETE FROM facts WHERE execution_id = ?1")?;
            let mut history = tx.prepare_cached("DELETE FROM history WHERE execution_id = ?1")?;
            for &id in ids {
                if execution.execute(params![id, Status::Running, closed_before_ms])? == 0 {
                    continue;
                }
                facts.execute([id])?;
                history.execute([id])?;
                map_runs::forget(&tx, id)?;
                deleted += 1;
            }
        }
        tx.commit()?;
        Ok(deleted)
    }

    /// Gives up to `max_pages` free pages back to the file system, moving
    /// pages from the end of the file into the holes (`incremental_vacuum`),
    /// and returns how many are left to give back. A journal created before
    /// retention (`auto_vacuum=NONE`) gives back none and returns 0: it
    /// keeps its free pages for new rows.
    ///
    /// Run once a sweep has deleted everything it will: vacuuming after
    /// each batch moved pages of executions the next batches deleted, and
    /// wrote the log several times over.
    pub fn return_free_pages(&mut self, max_pages: u32) -> Result<u64> {
        if !self.returns_free_pages()? {
            return Ok(0);
        }
        // Each step of this pragma frees one page and yields a row, so it
        // runs to its end only when every row is read.
        let mut vacuum = self
            .conn
            .prepare(&format!("PRAGMA incremental_vacuum({max_pages})"))?;
        let mut pages = vacuum.query([])?;
        while pages.next()?.is_some() {}
        self.free_pages()
    }

    /// Whether the journal was made with `auto_vacuum=INCREMENTAL` (see
    /// `init`).
    fn returns_free_pages(&self) -> Result<bool> {
        let mode: i64 = self
            .conn
            .query_row("PRAGMA auto_vacuum", [], |r| r.get(0))?;
        Ok(mode != 0)
    }

    fn free_pages(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("PRAGMA freelist_count", [], |r| r.get(0))?)
    }

    fn page_size(&self) -> Result<u64> {
        Ok(self.conn.query_row("PRAGMA page_size", [], |r| r.get(0))?)
    }

    /// How big the journal is on disk and what it holds (`zoomvault
    /// status`). Reads only indexes, never an execution's row: the counts
    /// come from the status index and the stop times from `facts` (see
    /// `closed_before`).
    pub fn journal_stats(&self) -> Result<JournalStats> {
        let mut stats = JournalStats::default();
        let mut by_status = self
            .conn
            .prepare_cached("SELECT status, COUNT(*) FROM executions GROUP BY status")?;
        let counts = by_status
            .query_map([], |r| {
                Ok((r.get::<_, Status>(0)?, r.get::<_, i64>(1)? as u64))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (status, count) in counts {
            stats.executions += count;
            if status.is_terminal() {
                stats.closed += count;
            } else {
                stats.running += count;
            }
        }
        let [s, f, t, a] = CLOSED;
        stats.oldest_closed_stop_ms = self.conn.query_row(
            &format!("SELECT MIN({LAST_FACT_MS}) FROM executions WHERE status IN (?1, ?2, ?3, ?4)"),
            params![s, f, t, a],
            |r| r.get(0),
        )?;
        stats.free_bytes = self.page_size()? * self.free_pages()?;
        stats.returns_free_pages = self.returns_free_pages()?;
        stats.database_bytes = self.file_bytes("")?;
        stats.wal_bytes = self.wal_bytes();
        Ok(stats)
    }

    /// The size of the write-ahead log file, in bytes (0 when there is
    /// none).
    pub fn wal_bytes(&self) -> u64 {
        self.file_bytes("-wal").unwrap_or(0)
    }

    /// The size of the journal's file with `suffix` after its name; 0 for
    /// an in-memory journal or a file that does not exist.
    fn file_bytes(&self, suffix: &str) -> Result<u64> {
        let Some(path) = self.conn.path().filter(|p| !p.is_empty()) else {
            return Ok(0);
        };
        match std::fs::metadata(format!("{path}{suffix}")) {
            Ok(metadata) => Ok(metadata.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(Error::File {
                path: format!("{path}{suffix}"),
                source: e,
            }),
        }
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
                let fact =
                    zoomvault_asl::limits::parse_json(&body).map_err(|source| Error::Corrupt {
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
                zoomvault_asl::limits::parse_json(&b).map_err(|source| Error::Corrupt {
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

    fn temp_path(name: &str) -> crate::scratch::ScratchJournal {
        crate::scratch::ScratchJournal::new(&format!("store-{name}"))
    }

    #[test]
    fn commits_are_durable_unless_normal_is_asked_for() {
        let path = temp_path("durability");
        let synchronous = |store: &Store| -> i64 {
            store
                .conn
                .query_row("PRAGMA synchronous", [], |r| r.get(0))
                .unwrap()
        };
        // SQLite's numbers: 1 NORMAL, 2 FULL.
        assert_eq!(synchronous(&Store::open(&path).unwrap()), 2);
        assert_eq!(
            synchronous(&Store::open_with(&path, Durability::Normal).unwrap()),
            1
        );
        assert_eq!(
            synchronous(&Store::open_with(&path, Durability::Full).unwrap()),
            2
        );
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
        assert!(err.to_string().contains("reads only version 3"), "{err}");
        let conn = Connection::open(&path).unwrap();
        let rows: i64 = conn
            .query_row("SELECT COUNT(*) FROM executions", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1, "the old journal keeps its rows");
        conn.pragma_update(None, "user_version", 4).unwrap();
        drop(conn);
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, Error::SchemaVersion { found: 4 }), "{err}");
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

    /// A running execution `id`, started at `start_ms`.
    fn running_row(id: i64, start_ms: i64) -> ExecutionRow {
        ExecutionRow {
            id,
            arn: format!("arn:e{id}"),
            name: format!("e{id}"),
            state_machine_arn: "arn:m".into(),
            state_machine_name: "m".into(),
            definition: "{}".into(),
            role_arn: "arn:r".into(),
            input: "{}".into(),
            seed: 7,
            token_secret: TokenSecret::generate(),
            start_ms,
            status: Status::Running,
            stop_ms: None,
            output: None,
            error: None,
            cause: None,
            redrive_count: 0,
            redrive_ms: None,
        }
    }

    /// Journals execution `id` as the driver would: started at `start_ms`
    /// with its first fact and event, and when `stop_ms` is given, stopped
    /// then (ABORTED) by a last fact of that time.
    fn journal_execution(store: &mut Store, id: i64, start_ms: i64, stop_ms: Option<i64>) {
        let fact = |seq, at_ms, fact| NewFact {
            execution_id: id,
            entry: JournalEntry { seq, at_ms, fact },
        };
        let event = |event_id, event_type| {
            let event = HistoryEvent {
                id: event_id,
                previous_event_id: event_id - 1,
                timestamp_ms: start_ms,
                event_type,
                details: None,
            };
            (id, event)
        };
        let mut batch = Batch {
            new_executions: vec![running_row(id, start_ms)],
            facts: vec![fact(0, start_ms, Fact::Started { input: Value::Null })],
            history: vec![event(1, crate::history::EventType::ExecutionStarted)],
            ..Batch::default()
        };
        if let Some(stop_ms) = stop_ms {
            let stopped = Fact::Stopped {
                error: None,
                cause: None,
            };
            batch.facts.push(fact(1, stop_ms, stopped));
            batch
                .history
                .push(event(2, crate::history::EventType::ExecutionAborted));
            batch.closed.push(Closed {
                execution_id: id,
                status: Status::Aborted,
                stop_ms,
                output: None,
                error: None,
                cause: None,
            });
        }
        store.commit(&batch).unwrap();
    }

    /// Makes execution `id`'s row several pages long, as an execution of a
    /// real state machine is with its definition and input.
    fn fatten(store: &Store, id: i64) {
        store
            .conn
            .execute(
                "UPDATE executions SET definition = ?2 WHERE id = ?1",
                params![id, "x".repeat(16 << 10)],
            )
            .unwrap();
    }

    fn journal_execution_on_another_connection(path: &Path, id: i64) {
        let mut other = Store::open(path).unwrap();
        other.disable_auto_checkpoint().unwrap();
        journal_execution(&mut other, id, 100, None);
    }

    /// Rows of `table` that belong to execution `id`.
    fn rows_of(store: &Store, table: &str, id: i64) -> i64 {
        let column = if table == "executions" {
            "id"
        } else {
            "execution_id"
        };
        store
            .conn
            .query_row(
                &format!("SELECT COUNT(*) FROM {table} WHERE {column} = ?1"),
                [id],
                |r| r.get(0),
            )
            .unwrap()
    }

    #[test]
    fn a_new_execution_keeps_its_token_secret() {
        let mut store = Store::open_in_memory().unwrap();
        let row = running_row(1, 1000);
        store
            .commit(&Batch {
                new_executions: vec![row.clone()],
                ..Batch::default()
            })
            .unwrap();
        let stored = store.execution("arn:e1").unwrap().unwrap();
        assert_eq!(stored.token_secret, row.token_secret);
        assert_eq!(stored, row);
    }

    #[test]
    fn only_executions_closed_before_the_cutoff_are_chosen_and_deleted_with_every_row() {
        let scratch = temp_path("delete");
        let mut store = Store::open(&scratch).unwrap();
        journal_execution(&mut store, 1, 100, Some(200)); // closed long ago
        journal_execution(&mut store, 2, 100, None); // running since long ago
        journal_execution(&mut store, 3, 100, Some(900)); // closed recently
        journal_execution(&mut store, 4, 150, Some(250)); // closed long ago
        assert_eq!(store.closed_before(500).unwrap(), [1, 4]);

        assert_eq!(store.delete_closed_executions(&[1, 4], 500).unwrap(), 2);
        for id in [1, 4] {
            for table in ["executions", "facts", "history"] {
                assert_eq!(rows_of(&store, table, id), 0, "{table} of {id}");
            }
        }
        for id in [2, 3] {
            for table in ["executions", "facts", "history"] {
                assert!(rows_of(&store, table, id) > 0, "{table} of {id}");
            }
        }
        assert!(store.closed_before(500).unwrap().is_empty());
    }

    #[test]
    fn a_chosen_execution_that_runs_again_or_stopped_later_is_kept() {
        let mut store = Store::open_in_memory().unwrap();
        journal_execution(&mut store, 1, 100, None);
        journal_execution(&mut store, 2, 100, Some(900));
        // As if a sweep had chosen them before a redrive reopened 1 and
        // before 2 stopped: the delete checks the rows themselves.
        assert_eq!(store.delete_closed_executions(&[1, 2, 3], 500).unwrap(), 0);
        assert!(store.execution("arn:e1").unwrap().is_some());
        assert!(store.execution("arn:e2").unwrap().is_some());
    }

    #[test]
    fn journal_stats_count_executions_and_find_the_oldest_stop() {
        let stats = temp_path("stats");
        let mut store = Store::open(&stats).unwrap();
        let empty = store.journal_stats().unwrap();
        assert_eq!((empty.executions, empty.oldest_closed_stop_ms), (0, None));
        assert!(
            empty.returns_free_pages,
            "a new journal is made with incremental vacuum"
        );
        journal_execution(&mut store, 1, 100, Some(300));
        journal_execution(&mut store, 2, 100, None);
        journal_execution(&mut store, 3, 100, Some(200));
        let stats = store.journal_stats().unwrap();
        assert_eq!(
            (stats.executions, stats.running, stats.closed),
            (3, 1, 2),
            "{stats:?}"
        );
        assert_eq!(stats.oldest_closed_stop_ms, Some(200));
        assert!(stats.database_bytes > 0 && stats.wal_bytes > 0, "{stats:?}");
    }

    #[test]
    fn deleted_executions_give_their_pages_back_to_the_file_system() {
        let path = temp_path("vacuum");
        let mut store = Store::open(&path).unwrap();
        for id in 1..=200 {
            journal_execution(&mut store, id, 100, Some(200));
            fatten(&store, id);
        }
        assert!(store.truncate_wal().unwrap());
        let before = store.journal_stats().unwrap().database_bytes;
        let ids = store.closed_before(500).unwrap();
        assert_eq!(store.delete_closed_executions(&ids, 500).unwrap(), 200);
        assert!(store.journal_stats().unwrap().free_bytes * 2 > before);
        // A chunk at a time, as the sweep asks the engine thread.
        let mut left = store.return_free_pages(1000).unwrap();
        assert_eq!(left, store.free_pages().unwrap());
        while left > 0 {
            left = store.return_free_pages(1000).unwrap();
        }
        assert!(store.truncate_wal().unwrap());
        let after = store.journal_stats().unwrap();
        assert!(
            after.database_bytes * 10 < before,
            "{before} bytes before, {after:?}"
        );
        assert_eq!(after.wal_bytes, 0);
    }

    /// Writes `mib` MiB in 64 KiB commits that never pause, with another
    /// connection copying the log every 10 ms as the upkeep thread does;
    /// returns the largest the log file grew.
    fn steady_commits(name: &str, mib: usize, auto_checkpoint_pages: Option<u32>) -> u64 {
        use std::sync::atomic::{AtomicBool, Ordering};
        let path = temp_path(name);
        let mut writer = Store::open(&path).unwrap();
        match auto_checkpoint_pages {
            Some(pages) => writer.auto_checkpoint_after(pages).unwrap(),
            None => writer.disable_auto_checkpoint().unwrap(),
        }
        let upkeep = Store::open(&path).unwrap();
        upkeep.disable_auto_checkpoint().unwrap();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let rounds = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    upkeep.checkpoint().unwrap();
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
            })
        };
        let mut largest = 0;
        for i in 0..mib * 16 {
            let row = StateMachineRow {
                arn: format!("arn:m{i}"),
                name: format!("m{i}"),
                definition: "x".repeat(64 << 10),
                role_arn: "arn:r".into(),
                machine_type: crate::MachineType::Standard,
                created_ms: 0,
                updated_ms: 0,
                revision: 1,
            };
            writer.put_state_machine(&row, &[]).unwrap();
            largest = largest.max(writer.wal_bytes());
        }
        stop.store(true, Ordering::Relaxed);
        rounds.join().unwrap();
        largest
    }

    /// Under commits that never pause, copies made by another connection
    /// may never catch up, and SQLite starts the log over only after one
    /// that did; the writer's own automatic checkpoint (as the engine sets
    /// it, `WAL_RESTART_PAGES`) runs between two commits and does.
    #[test]
    fn the_writers_own_checkpoint_keeps_the_log_bounded_under_steady_commits() {
        for run in 0..2 {
            let largest = steady_commits(&format!("steady-{run}"), 64, Some(256));
            assert!(
                largest < 8 << 20,
                "the log file grew to {largest} bytes for 64 MiB written in commits"
            );
        }
    }

    #[test]
    fn truncating_the_wal_waits_for_no_reader() {
        let path = temp_path("truncate");
        let mut writer = Store::open(&path).unwrap();
        writer.disable_auto_checkpoint().unwrap();
        let upkeep = Store::open(&path).unwrap();
        journal_execution(&mut writer, 1, 100, Some(200));
        // A reader in the middle of a read holds its snapshot.
        let mut read = writer.conn.prepare("SELECT id FROM executions").unwrap();
        let mut rows = read.query([]).unwrap();
        rows.next().unwrap();
        journal_execution_on_another_connection(&path, 2);
        let began = std::time::Instant::now();
        assert!(!upkeep.truncate_wal().unwrap());
        assert!(began.elapsed() < std::time::Duration::from_secs(1));
        drop(rows);
        drop(read);
        assert!(upkeep.truncate_wal().unwrap());
        assert_eq!(upkeep.wal_bytes(), 0);
    }

    #[test]
    fn a_journal_made_before_retention_keeps_its_vacuum_mode_and_is_swept() {
        let path = temp_path("no-vacuum");
        let old = Connection::open(&path).unwrap();
        old.pragma_update(None, "journal_mode", "WAL").unwrap();
        old.execute_batch(SCHEMA).unwrap();
        old.pragma_update(None, "user_version", SCHEMA_VERSION)
            .unwrap();
        drop(old);
        let mut store = Store::open(&path).unwrap();
        assert!(!store.journal_stats().unwrap().returns_free_pages);
        journal_execution(&mut store, 1, 100, Some(200));
        fatten(&store, 1);
        assert_eq!(store.delete_closed_executions(&[1], 500).unwrap(), 1);
        assert_eq!(store.return_free_pages(1000).unwrap(), 0);
        let stats = store.journal_stats().unwrap();
        assert_eq!(stats.executions, 0);
        assert!(stats.free_bytes > 0, "kept for reuse: {stats:?}");
    }
}
