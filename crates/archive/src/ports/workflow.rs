//! The workflow-starter port: how an ingest execution is started, and how
//! one is looked up by name, whether the embedded engine or AWS Step
//! Functions runs it. The webhook, the manual start (`crate::start`) and
//! the scan for missed meetings (`crate::operations::scan`) call it.
//!
//! This module defines the contract only; it must not know which engine is
//! behind it or how execution names are derived (see
//! [`crate::keys::execution_name`]).

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ports::BoxError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("execution name {name:?} is not accepted: {reason}")]
    InvalidName { name: String, reason: String },
    #[error("workflow input is not accepted: {0}")]
    InvalidInput(String),
    /// Throttled, timed out or unavailable: worth retrying.
    #[error("workflow engine unavailable: {0}")]
    Unavailable(#[source] BoxError),
    #[error("workflow engine failed: {0}")]
    Backend(#[source] BoxError),
}

impl Error {
    /// Whether the same call may succeed if made again (the backend was
    /// busy or unreachable). No step starts executions; the webhook answers
    /// every start error with 503, so that Zoom delivers again.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Unavailable(_))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartedExecution {
    pub execution_arn: String,
    pub outcome: StartOutcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartOutcome {
    /// A new execution was started.
    Started,
    /// An execution with this name already exists (running or finished),
    /// so nothing was started: a repeated delivery, not a second ingest.
    AlreadyExists,
}

/// Where an execution stands, as Step Functions names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
}

impl ExecutionStatus {
    /// Reads Step Functions' name of a status (`RUNNING`, ...); `None` for
    /// one this port does not know (`PENDING_REDRIVE` is running again).
    pub fn parse(text: &str) -> Option<ExecutionStatus> {
        Some(match text {
            "RUNNING" | "PENDING_REDRIVE" => ExecutionStatus::Running,
            "SUCCEEDED" => ExecutionStatus::Succeeded,
            "FAILED" => ExecutionStatus::Failed,
            "TIMED_OUT" => ExecutionStatus::TimedOut,
            "ABORTED" => ExecutionStatus::Aborted,
            _ => return None,
        })
    }
}

/// An existing execution, looked up by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionState {
    pub execution_arn: String,
    pub status: ExecutionStatus,
    /// The error and cause it failed with, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

#[async_trait]
pub trait WorkflowStarter: Send + Sync + fmt::Debug {
    /// Starts the execution `name` of the adapter's state machine with
    /// `input`, unless one of that name exists.
    async fn start(&self, name: &str, input: Value) -> Result<StartedExecution, Error>;

    /// The execution `name` of the adapter's state machine, if one exists.
    async fn describe(&self, name: &str) -> Result<Option<ExecutionState>, Error>;
}
