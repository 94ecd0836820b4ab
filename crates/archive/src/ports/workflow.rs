//! The workflow-starter port: how an ingest execution is started, whether
//! the embedded engine or AWS Step Functions runs it. The webhook and the
//! manual start (`crate::start`) call it; the scan for missed meetings will.
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

#[async_trait]
pub trait WorkflowStarter: Send + Sync + fmt::Debug {
    /// Starts the execution `name` of the adapter's state machine with
    /// `input`, unless one of that name exists.
    async fn start(&self, name: &str, input: Value) -> Result<StartedExecution, Error>;
}
