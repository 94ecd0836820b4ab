//! The `Engine`'s Map Run calls: DescribeMapRun, ListMapRuns, UpdateMapRun
//! and ListExecutions of a Map Run's children. Reads go to the admin
//! connection; UpdateMapRun is a fact journaled in the parent execution by
//! the engine thread, like every change to an execution.

use super::{Engine, Error, Result};
use crate::core::MapRunUpdate;
use crate::driver::Msg;
use crate::store::{ExecutionRow, MapRunCounts, MapRunRow};
use crate::Status;
use tokio::sync::oneshot;

/// DescribeMapRun's answer: the run's row and its children's counts.
#[derive(Debug, Clone, PartialEq)]
pub struct MapRunDescription {
    pub row: MapRunRow,
    pub executions: MapRunCounts,
    pub items: MapRunCounts,
    /// Whether the children that did not succeed can still be redriven
    /// (`failuresNotRedrivable` counts them when not).
    pub failures_redrivable: bool,
}

impl Engine {
    pub fn describe_map_run(&self, map_run_arn: &str) -> Result<MapRunDescription> {
        let store = self.admin();
        let row = store
            .map_run(map_run_arn)?
            .ok_or_else(|| Error::ResourceNotFound(format!("Map Run {map_run_arn}")))?;
        let (executions, items) = store.map_run_counts(map_run_arn)?;
        // A run's failures can be redriven only by redriving its parent,
        // which redrives a run that FAILED or was ABORTED. Assumed where
        // AWS's docs are silent: while the run is RUNNING its failures are
        // not counted as unredrivable (the run may yet fail and be
        // redriven), and once the parent cannot be redriven (it succeeded,
        // runs on past a caught failure, or its redrive window passed) none
        // of them can.
        let failures_redrivable = match row.status.as_str() {
            "RUNNING" => true,
            "FAILED" | "ABORTED" => store.execution(&row.execution_arn)?.is_some_and(|parent| {
                store
                    .redrive_status(&parent, self.now_ms())
                    .is_ok_and(|s| s == crate::RedriveStatus::Redrivable)
            }),
            _ => false,
        };
        Ok(MapRunDescription {
            row,
            executions,
            items,
            failures_redrivable,
        })
    }

    /// The Map Runs an execution started, newest first; `None` when the
    /// execution does not exist.
    pub fn list_map_runs(&self, execution_arn: &str) -> Result<Vec<MapRunRow>> {
        let store = self.admin();
        if store.execution(execution_arn)?.is_none() {
            return Err(Error::ExecutionDoesNotExist(execution_arn.to_string()));
        }
        Ok(store.map_runs_of(execution_arn)?)
    }

    /// A Map Run's child executions, newest first, as ListExecutions pages
    /// them.
    pub fn list_map_run_executions(
        &self,
        map_run_arn: &str,
        status: Option<Status>,
        before_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<ExecutionRow>> {
        let store = self.admin();
        if store.map_run(map_run_arn)?.is_none() {
            return Err(Error::ResourceNotFound(format!("Map Run {map_run_arn}")));
        }
        Ok(store.list_map_run_children(map_run_arn, status, before_id, limit)?)
    }

    /// How many items each child of a Map Run carries, by the child's ARN.
    pub fn map_run_child_items(&self, map_run_arn: &str) -> Result<Vec<(String, u64)>> {
        Ok(self.admin().map_run_child_items(map_run_arn)?)
    }

    /// The Map Run an execution is a child of (DescribeExecution's
    /// `mapRunArn`); `None` for an execution started any other way.
    pub fn map_run_of(&self, execution: &ExecutionRow) -> Result<Option<String>> {
        Ok(self
            .admin()
            .parent_of(execution.id)?
            .map(|(_, _, map_run)| map_run))
    }

    /// UpdateMapRun: journaled in the parent while the run is running; a
    /// run that has ended keeps its settings.
    pub async fn update_map_run(&self, update: MapRunUpdate) -> Result<()> {
        let row = self
            .admin()
            .map_run(&update.map_run_arn)?
            .ok_or_else(|| Error::ResourceNotFound(format!("Map Run {}", update.map_run_arn)))?;
        let (reply, rx) = oneshot::channel();
        self.send(Msg::UpdateMapRun {
            execution_arn: row.execution_arn,
            update,
            reply,
        })?;
        rx.await.map_err(|_| Error::Shutdown)?
    }
}
