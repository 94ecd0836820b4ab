//! The Map Run actions: DescribeMapRun, ListMapRuns, UpdateMapRun, and
//! ListExecutions of a Map Run's child executions (`mapRunArn`), with the
//! request checks and response shapes of Step Functions' service model
//! (<https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeMapRun.html>,
//! `API_ListMapRuns.html`, `API_UpdateMapRun.html`). The engine keeps the
//! runs; nothing here decides anything about them.

use super::{
    date, decode_token, encode_token, execution_arn, page_size, required, ApiError, ApiResult,
};
use serde::Deserialize;
use serde_json::{json, Value};
use zoomvault_engine::{arn, Engine, MapRunCounts, MapRunRow, MapRunUpdate, Status};

/// A `mapRunArn` member: `arn:aws:states:<region>:<account>:mapRun:<machine>/<label>:<id>`
/// of this endpoint's region and account.
fn map_run_arn<'a>(value: Option<&'a String>, member: &str) -> ApiResult<&'a str> {
    let value = required(value, member)?;
    let parts: Vec<&str> = value.split(':').collect();
    let valid = matches!(
        parts[..],
        ["arn", "aws", "states", region, account, "mapRun", machine, id]
            if region == arn::REGION && account == arn::ACCOUNT
                && machine.contains('/') && !id.is_empty()
    );
    if valid {
        Ok(value)
    } else {
        Err(ApiError::invalid_arn(
            value,
            &format!("{member} must be a Map Run ARN of this endpoint"),
        ))
    }
}

/// The state machine a Map Run's children run: `...:stateMachine:<machine>/<label>`.
fn child_machine_arn(map_run_arn: &str) -> String {
    let without_id = map_run_arn
        .rsplit_once(':')
        .map_or(map_run_arn, |(head, _)| head);
    without_id.replacen(":mapRun:", ":stateMachine:", 1)
}

/// `itemCounts` / `executionCounts`. `resultsWritten` counts the closed
/// children, whose results are recorded, as AWS reports it for a run
/// without a ResultWriter too (LocalStack's snapshot of
/// `test_list_map_runs_and_describe_map_run`, recorded against AWS).
/// `pendingRedrive` counts the unsuccessful children a redriven run has
/// still to redrive (they keep their status until then), and
/// `failuresNotRedrivable` the unsuccessful ones that no redrive can run
/// again (`MapRunDescription::failures_redrivable`).
fn counts(c: &MapRunCounts, total: u64, failures_redrivable: bool) -> Value {
    let started = c.running + c.succeeded + c.failed + c.timed_out + c.aborted;
    let closed = started - c.running;
    let unsuccessful = c.failed + c.timed_out + c.aborted;
    let not_redrivable = if failures_redrivable { 0 } else { unsuccessful };
    json!({
        "pending": total.saturating_sub(started),
        "running": c.running,
        "succeeded": c.succeeded,
        "failed": c.failed,
        "timedOut": c.timed_out,
        "aborted": c.aborted,
        "total": total.max(started),
        "resultsWritten": closed,
        "failuresNotRedrivable": not_redrivable,
        "pendingRedrive": c.pending_redrive,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct MapRunArnRequest {
    map_run_arn: Option<String>,
}

pub(super) fn describe_map_run(engine: &Engine, r: MapRunArnRequest) -> ApiResult<Value> {
    let arn = map_run_arn(r.map_run_arn.as_ref(), "mapRunArn")?;
    let d = engine.describe_map_run(arn)?;
    let mut out = json!({
        "mapRunArn": d.row.arn,
        "executionArn": d.row.execution_arn,
        "status": d.row.status,
        "startDate": date(d.row.start_ms),
        "maxConcurrency": d.row.max_concurrency,
        "toleratedFailurePercentage": d.row.tolerated_failure_percentage,
        "toleratedFailureCount": d.row.tolerated_failure_count,
        "itemCounts": counts(&d.items, d.row.items, d.failures_redrivable),
        "executionCounts": counts(&d.executions, d.row.executions, d.failures_redrivable),
        "redriveCount": d.row.redrive_count,
    });
    if let Some(stop) = d.row.stop_ms {
        out["stopDate"] = date(stop);
    }
    if let Some(ms) = d.row.redrive_ms {
        out["redriveDate"] = date(ms);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ListMapRunsRequest {
    execution_arn: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub(super) fn list_map_runs(engine: &Engine, r: ListMapRunsRequest) -> ApiResult<Value> {
    let execution = execution_arn(r.execution_arn.as_ref(), "executionArn")?;
    let limit = page_size(r.max_results)?;
    let skip = decode_token("ListMapRuns", r.next_token.as_deref())?.unwrap_or(0) as usize;
    let runs: Vec<MapRunRow> = engine.list_map_runs(execution)?;
    let page: Vec<Value> = runs
        .iter()
        .skip(skip)
        .take(limit)
        .map(|run| {
            let mut item = json!({
                "executionArn": run.execution_arn,
                "mapRunArn": run.arn,
                "stateMachineArn": child_machine_arn(&run.arn),
                "startDate": date(run.start_ms),
            });
            if let Some(stop) = run.stop_ms {
                item["stopDate"] = date(stop);
            }
            item
        })
        .collect();
    let mut out = json!({ "mapRuns": page });
    if runs.len() > skip + limit {
        out["nextToken"] = json!(encode_token("ListMapRuns", (skip + limit) as i64));
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UpdateMapRunRequest {
    map_run_arn: Option<String>,
    max_concurrency: Option<i64>,
    tolerated_failure_percentage: Option<f64>,
    tolerated_failure_count: Option<i64>,
}

pub(super) async fn update_map_run(engine: &Engine, r: UpdateMapRunRequest) -> ApiResult<Value> {
    let arn = map_run_arn(r.map_run_arn.as_ref(), "mapRunArn")?;
    if let Some(n) = r.max_concurrency.filter(|n| *n < 0) {
        return Err(ApiError::constraint(
            "maxConcurrency",
            n,
            "Member must have value greater than or equal to 0",
        ));
    }
    if let Some(p) = r
        .tolerated_failure_percentage
        .filter(|p| !(0.0..=100.0).contains(p))
    {
        return Err(ApiError::constraint(
            "toleratedFailurePercentage",
            p,
            "Member must have value less than or equal to 100 and greater than or equal to 0",
        ));
    }
    if let Some(n) = r.tolerated_failure_count.filter(|n| *n < 0) {
        return Err(ApiError::constraint(
            "toleratedFailureCount",
            n,
            "Member must have value greater than or equal to 0",
        ));
    }
    if r.max_concurrency.is_none()
        && r.tolerated_failure_percentage.is_none()
        && r.tolerated_failure_count.is_none()
    {
        return Err(ApiError::new(
            "ValidationException",
            "at least one of maxConcurrency, toleratedFailurePercentage and toleratedFailureCount must be given",
        ));
    }
    engine
        .update_map_run(MapRunUpdate {
            map_run_arn: arn.to_string(),
            max_concurrency: r.max_concurrency.map(|n| n as u64),
            tolerated_failure_count: r.tolerated_failure_count.map(|n| n as u64),
            tolerated_failure_percentage: r.tolerated_failure_percentage,
        })
        .await?;
    Ok(json!({}))
}

/// ListExecutions with `mapRunArn`: the run's child executions.
pub(super) fn list_children(
    engine: &Engine,
    map_run: &String,
    status: Option<Status>,
    max_results: Option<i64>,
    next_token: Option<&str>,
) -> ApiResult<Value> {
    let arn = map_run_arn(Some(map_run), "mapRunArn")?;
    let limit = page_size(max_results)?;
    let before = decode_token("ListExecutions", next_token)?;
    let mut rows = engine.list_map_run_executions(arn, status, before, limit + 1)?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let items: std::collections::HashMap<String, u64> =
        engine.map_run_child_items(arn)?.into_iter().collect();
    let executions: Vec<Value> = rows
        .iter()
        .map(|row| {
            let mut item = json!({
                "executionArn": row.arn,
                "stateMachineArn": row.state_machine_arn,
                "name": row.name,
                "status": row.status.api_name(),
                "startDate": date(row.start_ms),
                "mapRunArn": arn,
                "itemCount": items.get(&row.arn).copied().unwrap_or(1),
                "redriveCount": row.redrive_count,
            });
            if let Some(stop) = row.stop_ms {
                item["stopDate"] = date(stop);
            }
            item
        })
        .collect();
    let mut out = json!({ "executions": executions });
    if more {
        if let Some(last) = rows.last() {
            out["nextToken"] = json!(encode_token("ListExecutions", last.id));
        }
    }
    Ok(out)
}
