//! The journal's Map Run tables (declared in `store`'s schema): `map_runs`, one row per distributed Map
//! run with what DescribeMapRun shows (status, dates, concurrency,
//! tolerance), and `map_run_children`, which execution is a child of which
//! run and under which key its parent awaits it.
//!
//! Rows are written only in the driver's commit, beside the facts whose
//! history events they follow (MapRunStarted and how the run ended, a
//! child's start); the counts DescribeMapRun shows are derived from the
//! children's own rows, never stored twice. A redriven run marks its
//! children that did not succeed `pending_redrive` until each is redriven
//! (or the run ends), and a child replaced by a new one (`replaced`, an
//! EXPRESS child started again) no longer counts.

use super::{execution_row, Result, Store, EXECUTION_COLUMNS};
use crate::core::MapRunChange;
use crate::store::ExecutionRow;
use rusqlite::{params, OptionalExtension, Transaction};

/// A child execution of a Map Run, journaled with the row that starts it.
#[derive(Debug, Clone)]
pub struct ChildLink {
    pub execution_id: i64,
    pub map_run_arn: String,
    pub parent_id: i64,
    pub parent_key: u64,
    pub items: u64,
}

/// A Map Run's row change, with its execution and when it happened.
#[derive(Debug, Clone)]
pub struct MapRunWrite {
    pub execution_id: i64,
    pub at_ms: i64,
    pub change: MapRunChange,
}

/// A row of `map_runs`.
#[derive(Debug, Clone, PartialEq)]
pub struct MapRunRow {
    pub arn: String,
    pub execution_arn: String,
    pub start_ms: i64,
    pub stop_ms: Option<i64>,
    pub status: String,
    pub max_concurrency: u64,
    pub tolerated_failure_count: u64,
    pub tolerated_failure_percentage: f64,
    pub items: u64,
    /// How many child executions the items make (one per item, or per
    /// batch); 0 until the items are known.
    pub executions: u64,
    pub redrive_count: u32,
    pub redrive_ms: Option<i64>,
}

/// How many children (executions) or items are in each status, as
/// DescribeMapRun's `executionCounts` and `itemCounts` count them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MapRunCounts {
    pub running: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub timed_out: u64,
    pub aborted: u64,
    /// Of the failed, timed-out and aborted: those waiting to be redriven
    /// with their redriven run.
    pub pending_redrive: u64,
}

pub(super) fn commit(
    tx: &Transaction,
    children: &[ChildLink],
    runs: &[MapRunWrite],
) -> rusqlite::Result<()> {
    if !children.is_empty() {
        let mut insert = tx.prepare_cached(
            "INSERT INTO map_run_children (execution_id, map_run_arn, parent_id, parent_key, items) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for c in children {
            insert.execute(params![
                c.execution_id,
                c.map_run_arn,
                c.parent_id,
                c.parent_key as i64,
                c.items as i64
            ])?;
        }
    }
    for w in runs {
        match &w.change {
            MapRunChange::Started {
                map_run_arn,
                max_concurrency,
                tolerated_failure_count,
                tolerated_failure_percentage,
                items,
            } => {
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO map_runs (arn, execution_id, start_ms, stop_ms, status, max_concurrency, tolerated_failure_count, tolerated_failure_percentage, items)
                     VALUES (?1, ?2, ?3, NULL, 'RUNNING', ?4, ?5, ?6, ?7)",
                )?
                .execute(params![
                    map_run_arn,
                    w.execution_id,
                    w.at_ms,
                    *max_concurrency as i64,
                    *tolerated_failure_count as i64,
                    tolerated_failure_percentage,
                    *items as i64
                ])?;
            }
            MapRunChange::Updated {
                map_run_arn,
                max_concurrency,
                tolerated_failure_count,
                tolerated_failure_percentage,
            } => {
                tx.prepare_cached(
                    "UPDATE map_runs SET max_concurrency = ?2, tolerated_failure_count = ?3, tolerated_failure_percentage = ?4 WHERE arn = ?1",
                )?
                .execute(params![
                    map_run_arn,
                    *max_concurrency as i64,
                    *tolerated_failure_count as i64,
                    tolerated_failure_percentage
                ])?;
            }
            MapRunChange::Planned {
                map_run_arn,
                items,
                executions,
            } => {
                tx.prepare_cached(
                    "UPDATE map_runs SET items = ?2, executions = ?3 WHERE arn = ?1",
                )?
                .execute(params![
                    map_run_arn,
                    *items as i64,
                    *executions as i64
                ])?;
            }
            MapRunChange::Ended {
                map_run_arn,
                status,
            } => {
                tx.prepare_cached(
                    "UPDATE map_runs SET status = ?2, stop_ms = ?3 WHERE arn = ?1 AND status = 'RUNNING'",
                )?
                .execute(params![map_run_arn, status, w.at_ms])?;
                tx.prepare_cached(
                    "UPDATE map_run_children SET pending_redrive = 0 WHERE map_run_arn = ?1 AND pending_redrive = 1",
                )?
                .execute(params![map_run_arn])?;
            }
            MapRunChange::Redriven {
                map_run_arn,
                redrive_count,
            } => {
                tx.prepare_cached(
                    "UPDATE map_runs SET status = 'RUNNING', stop_ms = NULL, redrive_count = ?2, redrive_ms = ?3 WHERE arn = ?1",
                )?
                .execute(params![map_run_arn, redrive_count, w.at_ms])?;
                tx.prepare_cached(
                    "UPDATE map_run_children SET pending_redrive = 1
                     WHERE map_run_arn = ?1 AND replaced = 0
                       AND execution_id IN (SELECT id FROM executions WHERE status IN ('FAILED', 'TIMED_OUT', 'ABORTED'))",
                )?
                .execute(params![map_run_arn])?;
            }
            MapRunChange::ChildRedriven {
                execution_arn,
                parent_key,
            } => {
                tx.prepare_cached(
                    "UPDATE map_run_children SET pending_redrive = 0, parent_key = ?2
                     WHERE execution_id = (SELECT id FROM executions WHERE arn = ?1)",
                )?
                .execute(params![execution_arn, *parent_key as i64])?;
            }
            MapRunChange::ChildReplaced { execution_arn } => {
                tx.prepare_cached(
                    "UPDATE map_run_children SET pending_redrive = 0, replaced = 1
                     WHERE execution_id = (SELECT id FROM executions WHERE arn = ?1)",
                )?
                .execute(params![execution_arn])?;
            }
        }
    }
    Ok(())
}

/// A deleted execution's Map Runs, and its own link to a run if it was a
/// child (its retention sweep, in the sweep's transaction).
pub(super) fn forget(tx: &Transaction, execution_id: i64) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM map_runs WHERE execution_id = ?1")?
        .execute([execution_id])?;
    tx.prepare_cached("DELETE FROM map_run_children WHERE execution_id = ?1")?
        .execute([execution_id])?;
    Ok(())
}

fn map_run_row(r: &rusqlite::Row) -> rusqlite::Result<MapRunRow> {
    Ok(MapRunRow {
        arn: r.get(0)?,
        execution_arn: r.get(1)?,
        start_ms: r.get(2)?,
        stop_ms: r.get(3)?,
        status: r.get(4)?,
        max_concurrency: r.get::<_, i64>(5)? as u64,
        tolerated_failure_count: r.get::<_, i64>(6)? as u64,
        tolerated_failure_percentage: r.get(7)?,
        items: r.get::<_, i64>(8)? as u64,
        executions: r.get::<_, i64>(9)? as u64,
        redrive_count: r.get(10)?,
        redrive_ms: r.get(11)?,
    })
}

const MAP_RUN_COLUMNS: &str = "m.arn, e.arn, m.start_ms, m.stop_ms, m.status, m.max_concurrency, m.tolerated_failure_count, m.tolerated_failure_percentage, m.items, m.executions, m.redrive_count, m.redrive_ms";

impl Store {
    pub fn map_run(&self, arn: &str) -> Result<Option<MapRunRow>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {MAP_RUN_COLUMNS} FROM map_runs m JOIN executions e ON e.id = m.execution_id WHERE m.arn = ?1"
            ))?
            .query_row([arn], map_run_row)
            .optional()?)
    }

    /// The Map Runs of an execution, newest first.
    pub fn map_runs_of(&self, execution_arn: &str) -> Result<Vec<MapRunRow>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {MAP_RUN_COLUMNS} FROM map_runs m JOIN executions e ON e.id = m.execution_id
             WHERE e.arn = ?1 ORDER BY m.start_ms DESC, m.rowid DESC"
        ))?;
        let rows = stmt
            .query_map([execution_arn], map_run_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Children and items of a Map Run by status: (executions, items). A
    /// child replaced by a new one is not counted.
    pub fn map_run_counts(&self, arn: &str) -> Result<(MapRunCounts, MapRunCounts)> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.status, c.pending_redrive, COUNT(*), SUM(c.items) FROM map_run_children c JOIN executions e ON e.id = c.execution_id
             WHERE c.map_run_arn = ?1 AND c.replaced = 0 GROUP BY e.status, c.pending_redrive",
        )?;
        let mut executions = MapRunCounts::default();
        let mut items = MapRunCounts::default();
        let rows = stmt
            .query_map([arn], |r| {
                Ok((
                    r.get::<_, crate::Status>(0)?,
                    r.get::<_, bool>(1)?,
                    r.get::<_, i64>(2)? as u64,
                    r.get::<_, i64>(3)? as u64,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (status, pending_redrive, n, i) in rows {
            for (counts, v) in [(&mut executions, n), (&mut items, i)] {
                if pending_redrive {
                    counts.pending_redrive += v;
                }
                match status {
                    crate::Status::Running => counts.running += v,
                    crate::Status::Succeeded => counts.succeeded += v,
                    crate::Status::Failed => counts.failed += v,
                    crate::Status::TimedOut => counts.timed_out += v,
                    crate::Status::Aborted => counts.aborted += v,
                }
            }
        }
        Ok((executions, items))
    }

    /// The children of a Map Run that count (not replaced by a new one),
    /// in the order they started.
    pub fn map_run_children(&self, arn: &str) -> Result<Vec<ExecutionRow>> {
        let columns = EXECUTION_COLUMNS
            .split(", ")
            .map(|c| format!("e.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {columns} FROM map_run_children c JOIN executions e ON e.id = c.execution_id
             WHERE c.map_run_arn = ?1 AND c.replaced = 0 ORDER BY e.id"
        ))?;
        let rows = stmt
            .query_map([arn], execution_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Children of a Map Run for ListExecutions, newest first, below
    /// `before_id`.
    pub fn list_map_run_children(
        &self,
        arn: &str,
        status: Option<crate::Status>,
        before_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<ExecutionRow>> {
        let columns = EXECUTION_COLUMNS
            .split(", ")
            .map(|c| format!("e.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {columns} FROM map_run_children c JOIN executions e ON e.id = c.execution_id
             WHERE c.map_run_arn = ?1 AND (?2 IS NULL OR e.status = ?2) AND (?3 IS NULL OR e.id < ?3)
             ORDER BY e.id DESC LIMIT ?4"
        ))?;
        let rows = stmt
            .query_map(params![arn, status, before_id, limit as i64], execution_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// How many items each child of a Map Run carries, by the child's ARN
    /// (ListExecutions' `itemCount`).
    pub fn map_run_child_items(&self, arn: &str) -> Result<Vec<(String, u64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.arn, c.items FROM map_run_children c JOIN executions e ON e.id = c.execution_id
             WHERE c.map_run_arn = ?1",
        )?;
        let rows = stmt
            .query_map([arn], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The parent (its ARN) and key a running child execution's end is
    /// journaled under, and its Map Run.
    pub fn parent_of(&self, execution_id: i64) -> Result<Option<(String, u64, String)>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT p.arn, c.parent_key, c.map_run_arn FROM map_run_children c JOIN executions p ON p.id = c.parent_id
                 WHERE c.execution_id = ?1",
            )?
            .query_row([execution_id], |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)? as u64, r.get(2)?))
            })
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    //! The Map Run tables kept in step with their executions' rows.
    use super::*;
    use crate::store::{Batch, TokenSecret};
    use crate::Status;

    #[test]
    fn deleting_a_closed_parent_and_child_forgets_their_map_run_rows() {
        let mut store = Store::open_in_memory().unwrap();
        let mut parent = tests_support::closed_row(1);
        parent.arn = "arn:parent".into();
        let child = tests_support::closed_row(2);
        let batch = Batch {
            new_executions: vec![parent, child],
            children: vec![ChildLink {
                execution_id: 2,
                map_run_arn: "arn:run".into(),
                parent_id: 1,
                parent_key: 5,
                items: 1,
            }],
            map_runs: vec![MapRunWrite {
                execution_id: 1,
                at_ms: 10,
                change: MapRunChange::Started {
                    map_run_arn: "arn:run".into(),
                    max_concurrency: 0,
                    tolerated_failure_count: 0,
                    tolerated_failure_percentage: 0.0,
                    items: 1,
                },
            }],
            ..Batch::default()
        };
        store.commit(&batch).unwrap();
        assert!(store.map_run("arn:run").unwrap().is_some());
        assert_eq!(store.parent_of(2).unwrap().map(|p| p.1), Some(5));
        assert_eq!(store.delete_closed_executions(&[1, 2], 1_000).unwrap(), 2);
        let rows = |table: &str| -> i64 {
            store
                .conn
                .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!((rows("map_runs"), rows("map_run_children")), (0, 0));
    }

    mod tests_support {
        use super::*;

        pub fn closed_row(id: i64) -> ExecutionRow {
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
                start_ms: 1,
                status: Status::Succeeded,
                stop_ms: Some(2),
                output: Some("null".into()),
                error: None,
                cause: None,
                redrive_count: 0,
                redrive_ms: None,
            }
        }
    }
}
