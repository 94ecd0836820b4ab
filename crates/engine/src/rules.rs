//! AWS's rules that the engine applies as Step Functions does: names of
//! state machines and executions, tags, state machine types, and whether
//! an execution may be redriven. Pure functions, no I/O.

use crate::core::Status;
use crate::engine::{Error, Result};
use crate::store::ExecutionRow;

/// A state machine's type. Both run the same way embedded; the type is
/// what DescribeStateMachine reports and what RedriveExecution checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MachineType {
    #[default]
    Standard,
    Express,
}

impl MachineType {
    /// The name the Step Functions API uses (and `StateMachineRow` holds).
    pub fn api_name(&self) -> &'static str {
        match self {
            MachineType::Standard => "STANDARD",
            MachineType::Express => "EXPRESS",
        }
    }

    pub fn from_api_name(name: &str) -> Option<MachineType> {
        match name {
            "STANDARD" => Some(MachineType::Standard),
            "EXPRESS" => Some(MachineType::Express),
            _ => None,
        }
    }
}

/// Most tags one resource may have (AWS's limit).
pub const MAX_TAGS: usize = 50;

/// AWS's rules for one tag: a key of 1 to 128 characters, a value of up to
/// 256, both of Unicode letters, digits, white space and `_ . : / = + - @`.
pub fn validate_tag(key: &str, value: &str) -> Result<()> {
    let invalid = |reason| {
        Err(Error::InvalidTag {
            key: key.to_string(),
            reason,
        })
    };
    let allowed = |c: char| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c);
    let key_len = key.chars().count();
    if key_len == 0 || key_len > 128 {
        return invalid("a tag key must be 1 to 128 characters");
    }
    if value.chars().count() > 256 {
        return invalid("a tag value must be at most 256 characters");
    }
    if !key.chars().chain(value.chars()).all(allowed) {
        return invalid(
            "tags may only contain Unicode letters, digits, white space, or _ . : / = + - @",
        );
    }
    Ok(())
}

/// `tags` added to `existing`: a new key is appended, a known key gets the
/// new value. Checked against AWS's rules and limit.
pub(crate) fn merge_tags(
    arn: &str,
    existing: &mut Vec<(String, String)>,
    tags: &[(String, String)],
) -> Result<()> {
    for (key, value) in tags {
        validate_tag(key, value)?;
        match existing.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value.clone(),
            None => existing.push((key.clone(), value.clone())),
        }
    }
    if existing.len() > MAX_TAGS {
        return Err(Error::TooManyTags(arn.to_string()));
    }
    Ok(())
}

/// Whether RedriveExecution would accept an execution now: AWS's
/// `redriveStatus` and `redriveStatusReason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedriveStatus {
    Redrivable,
    NotRedrivable { reason: &'static str },
}

impl RedriveStatus {
    /// The name the Step Functions API uses.
    pub fn api_name(&self) -> &'static str {
        match self {
            RedriveStatus::Redrivable => "REDRIVABLE",
            RedriveStatus::NotRedrivable { .. } => "NOT_REDRIVABLE",
        }
    }
}

/// How long after it stops an execution may be redriven (AWS: 14 days).
pub const REDRIVE_PERIOD_MS: i64 = 14 * 24 * 3600 * 1000;
/// How long an execution may stay open in all (AWS: one year).
pub const MAX_EXECUTION_MS: i64 = 365 * 24 * 3600 * 1000;
/// A redrive needs room in the history for ExecutionRedriven and at least
/// one more event (AWS: fewer than 24,999 events).
pub const MAX_REDRIVE_HISTORY: u64 = 24_999;

/// AWS's redrive eligibility rules, in one place for RedriveExecution and
/// DescribeExecution. `machine_type` is `None` when the state machine has
/// been deleted.
pub fn redrive_status(
    row: &ExecutionRow,
    machine_type: Option<MachineType>,
    history_len: u64,
    now_ms: i64,
) -> RedriveStatus {
    let reason = match row.status {
        Status::Running => Some("Execution is RUNNING and cannot be redriven"),
        Status::Succeeded => Some("Execution is SUCCEEDED and cannot be redriven"),
        Status::Failed | Status::TimedOut | Status::Aborted => match machine_type {
            None => Some("State machine is in DELETING status"),
            Some(MachineType::Express) => {
                Some("Execution of an EXPRESS state machine cannot be redriven")
            }
            Some(_) if history_len >= MAX_REDRIVE_HISTORY => {
                Some("Execution history event limit exceeded")
            }
            Some(_) if now_ms - row.start_ms > MAX_EXECUTION_MS => {
                Some("Execution has exceeded the max execution time")
            }
            Some(_) if now_ms - row.stop_ms.unwrap_or(now_ms) > REDRIVE_PERIOD_MS => {
                Some("Execution redrivable period exceeded")
            }
            Some(_) => None,
        },
    };
    match reason {
        Some(reason) => RedriveStatus::NotRedrivable { reason },
        None => RedriveStatus::Redrivable,
    }
}

/// AWS's rules for state machine and execution names.
pub fn validate_name(name: &str) -> Result<()> {
    if name.is_empty() || name.chars().count() > 80 {
        return Err(Error::InvalidName(
            name.into(),
            "must be 1 to 80 characters",
        ));
    }
    let bad =
        |c: char| c.is_whitespace() || c.is_control() || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c);
    if name.chars().any(bad) {
        return Err(Error::InvalidName(
            name.into(),
            "must not contain whitespace, control characters or any of < > { } [ ] ? * \" # % \\ ^ | ~ ` $ & , ; : /",
        ));
    }
    Ok(())
}
