//! The actions: each `AWSStepFunctions.<Action>` request body is read into
//! its request shape, checked as AWS checks it (required members, ranges,
//! ARNs, page tokens), handed to the engine, and answered in AWS's response
//! shape. Member names, defaults and exception names follow Step Functions'
//! service model (`2016-11-23`), so aws-sdk-sfn, boto3 and the CLI parse
//! every answer. Nothing here decides anything about an execution.

use crate::error::{ApiError, ApiResult};
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use zoomvault_arn::{Error as ArnError, Resource};
use zoomvault_engine::arn;
use zoomvault_engine::store::ExecutionRow;
use zoomvault_engine::{
    Engine, Error as EngineError, MachineType, NewStateMachine, RedriveStatus, Status,
};

mod map_runs;

/// `maxResults` when the request gives none (or 0).
const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 1000;
/// The one `statusFilter` of ListExecutions that is not an execution
/// status.
const PENDING_REDRIVE: &str = "PENDING_REDRIVE";

/// What the actions work on: the engine, and the few answers the API
/// itself must remember.
#[derive(Debug)]
pub struct Context {
    pub engine: Engine,
    /// RedriveExecution's `clientToken`s: (execution ARN, token) → the
    /// redrive it made, so a client's retry gets the same answer instead
    /// of "not redrivable". Kept for the process's life, bounded.
    redrives: std::sync::Mutex<std::collections::VecDeque<(String, String, i64)>>,
}

/// How many redrive tokens are remembered.
const REMEMBERED_REDRIVES: usize = 1024;

impl Context {
    pub fn new(engine: Engine) -> Context {
        Context {
            engine,
            redrives: Default::default(),
        }
    }
}

/// Runs one action on a request body; the answer is the response body.
pub async fn dispatch(cx: &Context, action: &str, body: &[u8]) -> ApiResult<Value> {
    let engine = &cx.engine;
    match action {
        "CreateStateMachine" => create_state_machine(engine, parse(body)?),
        "UpdateStateMachine" => update_state_machine(engine, parse(body)?),
        "DescribeStateMachine" => describe_state_machine(engine, parse(body)?),
        "DescribeStateMachineForExecution" => {
            describe_state_machine_for_execution(engine, parse(body)?)
        }
        "ListStateMachines" => list_state_machines(engine, parse(body)?),
        "DeleteStateMachine" => delete_state_machine(engine, parse(body)?),
        "ValidateStateMachineDefinition" => validate_definition(parse(body)?),
        "StartExecution" => start_execution(engine, parse(body)?).await,
        "StartSyncExecution" => start_sync_execution(engine, parse(body)?).await,
        "DescribeExecution" => describe_execution(engine, parse(body)?),
        "ListExecutions" => list_executions(engine, parse(body)?),
        "GetExecutionHistory" => get_execution_history(engine, parse(body)?),
        "StopExecution" => stop_execution(engine, parse(body)?).await,
        "RedriveExecution" => redrive_execution(cx, parse(body)?).await,
        "TagResource" => tag_resource(engine, parse(body)?),
        "UntagResource" => untag_resource(engine, parse(body)?),
        "ListTagsForResource" => list_tags_for_resource(engine, parse(body)?),
        "SendTaskSuccess" => send_task_success(engine, parse(body)?).await,
        "SendTaskFailure" => send_task_failure(engine, parse(body)?).await,
        "SendTaskHeartbeat" => send_task_heartbeat(engine, parse(body)?).await,
        "DescribeMapRun" => map_runs::describe_map_run(engine, parse(body)?),
        "ListMapRuns" => map_runs::list_map_runs(engine, parse(body)?),
        "UpdateMapRun" => map_runs::update_map_run(engine, parse(body)?).await,
        other => Err(ApiError::unknown_operation(other)),
    }
}

/// An empty body is an empty request, as AWS's JSON protocol allows.
fn parse<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(ApiError::serialization)
}

fn required<T>(value: Option<T>, member: &str) -> ApiResult<T> {
    value.ok_or_else(|| ApiError::missing(member))
}

/// Timestamps go out as epoch seconds, as AWS's JSON protocol sends them.
fn date(ms: i64) -> Value {
    json!(ms as f64 / 1000.0)
}

fn page_size(max_results: Option<i64>) -> ApiResult<usize> {
    match max_results {
        None | Some(0) => Ok(DEFAULT_PAGE),
        Some(n) if (1..=MAX_PAGE as i64).contains(&n) => Ok(n as usize),
        Some(n) => Err(ApiError::constraint(
            "maxResults",
            n,
            "Member must have value less than or equal to 1000 and greater than or equal to 0",
        )),
    }
}

/// Page tokens are opaque to clients: the action they belong to and where
/// the next page starts, so a token is refused by any other action.
#[derive(Serialize, Deserialize)]
struct PageToken {
    op: String,
    pos: i64,
}

fn encode_token(op: &str, pos: i64) -> String {
    let text = serde_json::to_vec(&PageToken { op: op.into(), pos }).expect("token serializes");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

fn decode_token(op: &str, token: Option<&str>) -> ApiResult<Option<i64>> {
    let Some(token) = token else { return Ok(None) };
    let parsed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| serde_json::from_slice::<PageToken>(&b).ok())
        .ok_or_else(|| ApiError::invalid_token("the nextToken was not issued by this endpoint"))?;
    if parsed.op != op || parsed.pos < 0 {
        return Err(ApiError::invalid_token(&format!(
            "the nextToken does not belong to {op}"
        )));
    }
    Ok(Some(parsed.pos))
}

/// What `value`, an ARN of this endpoint's region and account, names.
fn parse_arn<'a>(value: &'a str, member: &str) -> ApiResult<Resource<'a>> {
    // An ARN with an empty part goes through the same checks as any other;
    // one that passes them reaches the engine, which knows no such resource.
    let (scope, resource) = match zoomvault_arn::parse(value) {
        Ok(read) | Err(ArnError::Empty(read)) => (read.scope, Some(read.resource)),
        Err(ArnError::Resource(scope)) => (scope, None),
        Err(ArnError::NotStepFunctions) => {
            return Err(ApiError::invalid_arn(
                value,
                &format!("{member} is not a Step Functions ARN"),
            ))
        }
    };
    if scope.region != arn::REGION || scope.account != arn::ACCOUNT {
        return Err(ApiError::invalid_arn(
            value,
            &format!(
                "{member} names region {:?} and account {:?}; this endpoint is {} in {}",
                scope.region,
                scope.account,
                arn::REGION,
                arn::ACCOUNT
            ),
        ));
    }
    resource.ok_or_else(|| {
        ApiError::invalid_arn(
            value,
            &format!("Resource type not valid in this context for {member}"),
        )
    })
}

fn state_machine_arn<'a>(value: Option<&'a String>, member: &str) -> ApiResult<&'a str> {
    let value = required(value, member)?;
    match parse_arn(value, member)? {
        Resource::StateMachine { .. } => Ok(value),
        Resource::Execution { .. } | Resource::Express { .. } => Err(ApiError::invalid_arn(
            value,
            &format!("{member} must be a state machine ARN, not an execution ARN"),
        )),
    }
}

fn execution_arn<'a>(value: Option<&'a String>, member: &str) -> ApiResult<&'a str> {
    let value = required(value, member)?;
    match parse_arn(value, member)? {
        Resource::Execution { state_machine, .. } | Resource::Express { state_machine, .. }
            if !state_machine.is_empty() =>
        {
            Ok(value)
        }
        _ => Err(ApiError::invalid_arn(
            value,
            &format!("{member} must be an execution ARN"),
        )),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateStateMachineRequest {
    name: Option<String>,
    definition: Option<String>,
    role_arn: Option<String>,
    #[serde(rename = "type")]
    machine_type: Option<String>,
    tags: Option<Vec<Tag>>,
}

/// A tag as the API writes it.
#[derive(Deserialize, Serialize)]
struct Tag {
    key: Option<String>,
    value: Option<String>,
}

fn tags_of(tags: Vec<Tag>) -> ApiResult<Vec<(String, String)>> {
    tags.into_iter()
        .map(|t| {
            Ok((
                required(t.key, "tags.member.key")?,
                t.value.unwrap_or_default(),
            ))
        })
        .collect()
}

fn machine_type(value: Option<&str>) -> ApiResult<MachineType> {
    match value {
        None => Ok(MachineType::Standard),
        Some(v) => MachineType::from_api_name(v).ok_or_else(|| {
            ApiError::constraint(
                "type",
                v,
                "Member must satisfy enum value set: [STANDARD, EXPRESS]",
            )
        }),
    }
}

fn create_state_machine(engine: &Engine, r: CreateStateMachineRequest) -> ApiResult<Value> {
    let name = required(r.name, "name")?;
    let definition = required(r.definition, "definition")?;
    let role_arn = required(r.role_arn, "roleArn")?;
    if !role_arn.starts_with("arn:") {
        return Err(ApiError::invalid_arn(&role_arn, "roleArn is not an ARN"));
    }
    let new = NewStateMachine {
        name,
        definition,
        role_arn: Some(role_arn),
        machine_type: machine_type(r.machine_type.as_deref())?,
        tags: tags_of(r.tags.unwrap_or_default())?,
    };
    match engine.create_state_machine_with(&new) {
        Ok(row) => Ok(json!({
            "stateMachineArn": row.arn,
            "creationDate": date(row.created_ms),
        })),
        // AWS's CreateStateMachine is idempotent: the same name, definition
        // and type return the machine that exists (roleArn and tags of the
        // repeat are ignored); anything else is a conflict.
        Err(EngineError::StateMachineAlreadyExists(arn)) => {
            let row = engine.state_machine(&arn)?;
            if row.definition == new.definition && row.machine_type == new.machine_type {
                Ok(json!({
                    "stateMachineArn": row.arn,
                    "creationDate": date(row.created_ms),
                }))
            } else {
                Err(EngineError::StateMachineAlreadyExists(arn).into())
            }
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateStateMachineRequest {
    state_machine_arn: Option<String>,
    definition: Option<String>,
    role_arn: Option<String>,
}

fn update_state_machine(engine: &Engine, r: UpdateStateMachineRequest) -> ApiResult<Value> {
    let arn = state_machine_arn(r.state_machine_arn.as_ref(), "stateMachineArn")?;
    if r.definition.is_none() && r.role_arn.is_none() {
        return Err(ApiError::new(
            "MissingRequiredParameter",
            "Either the definition, the roleArn, the loggingConfiguration or the tracingConfiguration must be specified",
        ));
    }
    engine.update_state_machine(arn, r.definition.as_deref(), r.role_arn.as_deref())?;
    let row = engine.state_machine(arn)?;
    Ok(json!({
        "updateDate": date(row.updated_ms),
        "revisionId": row.revision.to_string(),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StateMachineArnRequest {
    state_machine_arn: Option<String>,
}

/// Logging and tracing as DescribeStateMachine* report them: neither is
/// offered, so both are off.
fn observability() -> (Value, Value) {
    (
        json!({ "level": "OFF", "includeExecutionData": false }),
        json!({ "enabled": false }),
    )
}

fn describe_state_machine(engine: &Engine, r: StateMachineArnRequest) -> ApiResult<Value> {
    let arn = state_machine_arn(r.state_machine_arn.as_ref(), "stateMachineArn")?;
    let row = engine.state_machine(arn)?;
    let (logging, tracing) = observability();
    Ok(json!({
        "stateMachineArn": row.arn,
        "name": row.name,
        "status": "ACTIVE",
        "definition": row.definition,
        "roleArn": row.role_arn,
        "type": row.machine_type.api_name(),
        "creationDate": date(row.created_ms),
        "loggingConfiguration": logging,
        "tracingConfiguration": tracing,
        "revisionId": row.revision.to_string(),
    }))
}

fn delete_state_machine(engine: &Engine, r: StateMachineArnRequest) -> ApiResult<Value> {
    let arn = state_machine_arn(r.state_machine_arn.as_ref(), "stateMachineArn")?;
    // Deleting what does not exist succeeds, as on AWS; executions already
    // running keep their own copy of the definition and finish.
    engine.delete_state_machine(arn)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecutionArnRequest {
    execution_arn: Option<String>,
}

fn describe_state_machine_for_execution(
    engine: &Engine,
    r: ExecutionArnRequest,
) -> ApiResult<Value> {
    let arn = execution_arn(r.execution_arn.as_ref(), "executionArn")?;
    let row = engine.describe_execution(arn)?;
    // The definition the execution runs is its own copy, taken at start; the
    // machine may have changed or gone since.
    let machine = engine.state_machine(&row.state_machine_arn).ok();
    let (logging, tracing) = observability();
    let mut d = json!({
        "stateMachineArn": row.state_machine_arn,
        "name": row.state_machine_name,
        "definition": row.definition,
        "roleArn": row.role_arn,
        "updateDate": date(machine.as_ref().map_or(row.start_ms, |m| m.updated_ms.min(row.start_ms))),
        "loggingConfiguration": logging,
        "tracingConfiguration": tracing,
    });
    // A Map Run's child runs the Map's item processor: its machine is
    // `<machine>/<label>`.
    if let Some(map_run) = engine.map_run_of(&row)? {
        d["mapRunArn"] = json!(map_run);
        if let Some((_, label)) = row.state_machine_name.split_once('/') {
            d["label"] = json!(label);
        }
    }
    Ok(d)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListRequest {
    max_results: Option<i64>,
    next_token: Option<String>,
}

fn list_state_machines(engine: &Engine, r: ListRequest) -> ApiResult<Value> {
    let limit = page_size(r.max_results)?;
    let start = decode_token("ListStateMachines", r.next_token.as_deref())?.unwrap_or(0) as usize;
    let mut machines = engine.state_machines()?;
    machines.sort_by(|a, b| a.name.cmp(&b.name));
    let page: Vec<Value> = machines
        .iter()
        .skip(start)
        .take(limit)
        .map(|m| {
            json!({
                "stateMachineArn": m.arn,
                "name": m.name,
                "type": m.machine_type.api_name(),
                "creationDate": date(m.created_ms),
            })
        })
        .collect();
    let mut out = json!({ "stateMachines": page });
    if start + limit < machines.len() {
        out["nextToken"] = json!(encode_token("ListStateMachines", (start + limit) as i64));
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ValidateRequest {
    definition: Option<String>,
    #[serde(rename = "type")]
    machine_type: Option<String>,
    max_results: Option<i64>,
}

fn validate_definition(r: ValidateRequest) -> ApiResult<Value> {
    let definition = required(r.definition, "definition")?;
    if let Some(t) = r.machine_type.as_deref() {
        if t != "STANDARD" && t != "EXPRESS" {
            return Err(ApiError::constraint(
                "type",
                t,
                "Member must satisfy enum value set: [STANDARD, EXPRESS]",
            ));
        }
    }
    let max = match r.max_results {
        None | Some(0) => 100,
        Some(n) if (1..=100).contains(&n) => n as usize,
        Some(n) => {
            return Err(ApiError::constraint(
                "maxResults",
                n,
                "Member must have value less than or equal to 100",
            ))
        }
    };
    match zoomvault_asl::definition::parse_str(&definition) {
        Ok(_) => Ok(json!({ "result": "OK", "diagnostics": [] })),
        Err(errors) => {
            let diagnostics: Vec<Value> = errors
                .iter()
                .take(max)
                .map(|e| {
                    json!({
                        "severity": "ERROR",
                        "code": e.code,
                        "message": e.message,
                        "location": e.location(),
                    })
                })
                .collect();
            Ok(json!({
                "result": "FAIL",
                "diagnostics": diagnostics,
                "truncated": errors.len() > max,
            }))
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartExecutionRequest {
    state_machine_arn: Option<String>,
    name: Option<String>,
    input: Option<String>,
}

/// An execution's input or a task's output is at most 256 KiB of UTF-8,
/// refused with AWS's words (an SDK's recorded answer: "1 validation error
/// detected: Value at 'input' failed to satisfy constraint: Member must
/// have size less than or equal to 262144 bytes in UTF-8 encoding").
fn payload_size_within(member: &str, text: &str) -> ApiResult<()> {
    if text.len() > zoomvault_asl::limits::MAX_PAYLOAD_BYTES {
        return Err(ApiError::sensitive_constraint(
            member,
            "Member must have size less than or equal to 262144 bytes in UTF-8 encoding",
        ));
    }
    Ok(())
}

fn execution_input(input: Option<&str>) -> ApiResult<Value> {
    let text = input.unwrap_or("{}");
    payload_size_within("input", text)?;
    // Deeper than the engine carries is refused here, as not valid input.
    zoomvault_asl::limits::parse_json(text).map_err(|e| {
        ApiError::new(
            "InvalidExecutionInput",
            format!("Invalid State Machine Execution Input: '{e}'"),
        )
    })
}

async fn start_execution(engine: &Engine, r: StartExecutionRequest) -> ApiResult<Value> {
    let machine = state_machine_arn(r.state_machine_arn.as_ref(), "stateMachineArn")?;
    let input = execution_input(r.input.as_deref())?;
    let started = engine
        .start_execution(machine, r.name.as_deref(), input)
        .await?;
    Ok(json!({
        "executionArn": started.execution_arn,
        "startDate": date(started.start_ms),
    }))
}

async fn start_sync_execution(engine: &Engine, r: StartExecutionRequest) -> ApiResult<Value> {
    let machine_arn = state_machine_arn(r.state_machine_arn.as_ref(), "stateMachineArn")?;
    let machine = engine.state_machine(machine_arn)?;
    if machine.machine_type != MachineType::Express {
        return Err(ApiError::new(
            "StateMachineTypeNotSupported",
            format!(
                "This operation is not supported by this type of state machine: StartSyncExecution needs an EXPRESS state machine; {} is {}",
                machine.arn,
                machine.machine_type.api_name()
            ),
        ));
    }
    let input = execution_input(r.input.as_deref())?;
    let started = engine
        .start_execution(machine_arn, r.name.as_deref(), input)
        .await?;
    let row = engine.wait_for(&started.execution_arn).await?;
    let mut d = Map::new();
    d.insert("executionArn".into(), json!(row.arn));
    d.insert("stateMachineArn".into(), json!(row.state_machine_arn));
    d.insert("name".into(), json!(row.name));
    d.insert("startDate".into(), date(row.start_ms));
    d.insert("stopDate".into(), date(row.stop_ms.unwrap_or(row.start_ms)));
    d.insert("status".into(), json!(row.status.api_name()));
    d.insert("input".into(), json!(row.input));
    d.insert("inputDetails".into(), json!({ "included": true }));
    insert_outcome(&mut d, &row);
    Ok(Value::Object(d))
}

/// Output, or error and cause, of a finished execution.
fn insert_outcome(d: &mut Map<String, Value>, row: &ExecutionRow) {
    if let Some(output) = &row.output {
        d.insert("output".into(), json!(output));
        d.insert("outputDetails".into(), json!({ "included": true }));
    }
    if let Some(error) = &row.error {
        d.insert("error".into(), json!(error));
    }
    if let Some(cause) = &row.cause {
        d.insert("cause".into(), json!(cause));
    }
}

fn describe_execution(engine: &Engine, r: ExecutionArnRequest) -> ApiResult<Value> {
    let arn = execution_arn(r.execution_arn.as_ref(), "executionArn")?;
    let row = engine.describe_execution(arn)?;
    let mut d = Map::new();
    d.insert("executionArn".into(), json!(row.arn));
    d.insert("stateMachineArn".into(), json!(row.state_machine_arn));
    d.insert("name".into(), json!(row.name));
    d.insert("status".into(), json!(row.status.api_name()));
    d.insert("startDate".into(), date(row.start_ms));
    if let Some(stop) = row.stop_ms {
        d.insert("stopDate".into(), date(stop));
    }
    d.insert("input".into(), json!(row.input));
    d.insert("inputDetails".into(), json!({ "included": true }));
    insert_outcome(&mut d, &row);
    d.insert("redriveCount".into(), json!(row.redrive_count));
    if let Some(ms) = row.redrive_ms {
        d.insert("redriveDate".into(), date(ms));
    }
    if let Some(map_run) = engine.map_run_of(&row)? {
        d.insert("mapRunArn".into(), json!(map_run));
    }
    let redrive = engine.redrive_status_of(&row)?;
    d.insert("redriveStatus".into(), json!(redrive.api_name()));
    if let RedriveStatus::NotRedrivable { reason } = redrive {
        d.insert("redriveStatusReason".into(), json!(reason));
    }
    Ok(Value::Object(d))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListExecutionsRequest {
    state_machine_arn: Option<String>,
    status_filter: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
    map_run_arn: Option<String>,
}

/// A ListExecutions `statusFilter`, read.
enum StatusFilter {
    Status(Status),
    PendingRedrive,
}

/// Reads `statusFilter`: an execution status's API name or
/// `PENDING_REDRIVE`, anything else refused with AWS's enum constraint.
fn status_filter(value: Option<&str>) -> ApiResult<Option<StatusFilter>> {
    let Some(value) = value else { return Ok(None) };
    if value == PENDING_REDRIVE {
        return Ok(Some(StatusFilter::PendingRedrive));
    }
    Status::from_api_name(value)
        .map(|status| Some(StatusFilter::Status(status)))
        .ok_or_else(|| {
            let names: Vec<&str> = Status::ALL
                .iter()
                .map(|s| s.api_name())
                .chain([PENDING_REDRIVE])
                .collect();
            ApiError::constraint(
                "statusFilter",
                value,
                &format!("Member must satisfy enum value set: [{}]", names.join(", ")),
            )
        })
}

fn list_executions(engine: &Engine, r: ListExecutionsRequest) -> ApiResult<Value> {
    if let Some(map_run) = &r.map_run_arn {
        if r.state_machine_arn.is_some() {
            return Err(ApiError::new(
                "ValidationException",
                "stateMachineArn and mapRunArn are mutually exclusive",
            ));
        }
        let status = match status_filter(r.status_filter.as_deref())? {
            None => None,
            Some(StatusFilter::Status(status)) => Some(status),
            Some(StatusFilter::PendingRedrive) => return Ok(json!({ "executions": [] })),
        };
        return map_runs::list_children(
            engine,
            map_run,
            status,
            r.max_results,
            r.next_token.as_deref(),
        );
    }
    let machine = state_machine_arn(r.state_machine_arn.as_ref(), "stateMachineArn")?;
    // As on AWS, Express executions are not listed (AWS keeps them only in
    // logs); this endpoint does keep them, for DescribeExecution.
    if engine.state_machine(machine)?.machine_type == MachineType::Express {
        return Err(ApiError::new(
            "StateMachineTypeNotSupported",
            format!("This operation is not supported by this type of state machine: {machine} is EXPRESS"),
        ));
    }
    let filter = status_filter(r.status_filter.as_deref())?;
    let limit = page_size(r.max_results)?;
    let before = decode_token("ListExecutions", r.next_token.as_deref())?;
    let status = match filter {
        None => None,
        Some(StatusFilter::Status(status)) => Some(status),
        // Executions here are never waiting for a redrive: the engine
        // reopens one in the transaction that accepts the redrive.
        Some(StatusFilter::PendingRedrive) => return Ok(json!({ "executions": [] })),
    };
    let mut rows = engine.list_executions(Some(machine), status, before, limit + 1)?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let executions: Vec<Value> = rows
        .iter()
        .map(|row| {
            let mut item = json!({
                "executionArn": row.arn,
                "stateMachineArn": row.state_machine_arn,
                "name": row.name,
                "status": row.status.api_name(),
                "startDate": date(row.start_ms),
                "redriveCount": row.redrive_count,
            });
            if let Some(stop) = row.stop_ms {
                item["stopDate"] = date(stop);
            }
            if let Some(ms) = row.redrive_ms {
                item["redriveDate"] = date(ms);
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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HistoryRequest {
    execution_arn: Option<String>,
    max_results: Option<i64>,
    reverse_order: Option<bool>,
    next_token: Option<String>,
    include_execution_data: Option<bool>,
}

fn get_execution_history(engine: &Engine, r: HistoryRequest) -> ApiResult<Value> {
    let arn = execution_arn(r.execution_arn.as_ref(), "executionArn")?;
    let limit = page_size(r.max_results)?;
    let reverse = r.reverse_order.unwrap_or(false);
    let op = if reverse {
        "GetExecutionHistory/reverse"
    } else {
        "GetExecutionHistory"
    };
    let after = decode_token(op, r.next_token.as_deref())?.unwrap_or(0) as u64;
    let mut events = engine.history_page(arn, after, reverse, limit + 1)?;
    let more = events.len() > limit;
    events.truncate(limit);
    if !r.include_execution_data.unwrap_or(true) {
        for event in &mut events {
            strip_execution_data(event);
        }
    }
    let last_id = events
        .last()
        .and_then(|e| e.get("id"))
        .and_then(Value::as_i64);
    let mut out = json!({ "events": events });
    if let (true, Some(id)) = (more, last_id) {
        out["nextToken"] = json!(encode_token(op, id));
    }
    Ok(out)
}

/// `includeExecutionData: false` leaves out the data states carried: the
/// `input` and `output` of every event's details.
fn strip_execution_data(event: &mut Value) {
    if let Value::Object(fields) = event {
        for (key, details) in fields.iter_mut() {
            if key.ends_with("EventDetails") {
                if let Value::Object(d) = details {
                    d.remove("input");
                    d.remove("output");
                }
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StopExecutionRequest {
    execution_arn: Option<String>,
    error: Option<String>,
    cause: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RedriveRequest {
    execution_arn: Option<String>,
    client_token: Option<String>,
}

async fn redrive_execution(cx: &Context, r: RedriveRequest) -> ApiResult<Value> {
    let arn = execution_arn(r.execution_arn.as_ref(), "executionArn")?;
    if let Some(token) = &r.client_token {
        if token.is_empty() || token.len() > 64 {
            return Err(ApiError::constraint(
                "clientToken",
                token,
                "Member must have length less than or equal to 64 and greater than or equal to 1",
            ));
        }
        let remembered = cx.redrives.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, _, ms)) = remembered.iter().find(|(a, t, _)| a == arn && t == token) {
            return Ok(json!({ "redriveDate": date(*ms) }));
        }
    }
    let redrive_ms = cx.engine.redrive_execution(arn).await?;
    if let Some(token) = r.client_token {
        let mut remembered = cx.redrives.lock().unwrap_or_else(|e| e.into_inner());
        if remembered.len() == REMEMBERED_REDRIVES {
            remembered.pop_front();
        }
        remembered.push_back((arn.to_string(), token, redrive_ms));
    }
    Ok(json!({ "redriveDate": date(redrive_ms) }))
}

async fn stop_execution(engine: &Engine, r: StopExecutionRequest) -> ApiResult<Value> {
    let arn = execution_arn(r.execution_arn.as_ref(), "executionArn")?;
    let stop_ms = engine.stop_execution(arn, r.error, r.cause).await?;
    Ok(json!({ "stopDate": date(stop_ms) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskTokenRequest {
    task_token: Option<String>,
    output: Option<String>,
    error: Option<String>,
    cause: Option<String>,
}

/// AWS's limits on a task token's length.
fn task_token(token: Option<String>) -> ApiResult<String> {
    let token = required(token, "taskToken")?;
    if token.is_empty() || token.len() > 2048 {
        return Err(ApiError::constraint(
            "taskToken",
            format!("<{} characters>", token.len()),
            "Member must have length less than or equal to 2048 and greater than or equal to 1",
        ));
    }
    Ok(token)
}

async fn send_task_success(engine: &Engine, r: TaskTokenRequest) -> ApiResult<Value> {
    let token = task_token(r.task_token)?;
    let output = required(r.output, "output")?;
    payload_size_within("output", &output)?;
    let output: Value = zoomvault_asl::limits::parse_json(&output).map_err(|e| {
        ApiError::new(
            "InvalidOutput",
            format!("Invalid Output: 'The output is not valid JSON: {e}'"),
        )
    })?;
    engine.send_task_success(&token, output).await?;
    Ok(json!({}))
}

async fn send_task_failure(engine: &Engine, r: TaskTokenRequest) -> ApiResult<Value> {
    let token = task_token(r.task_token)?;
    engine.send_task_failure(&token, r.error, r.cause).await?;
    Ok(json!({}))
}

async fn send_task_heartbeat(engine: &Engine, r: TaskTokenRequest) -> ApiResult<Value> {
    let token = task_token(r.task_token)?;
    engine.send_task_heartbeat(&token).await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TagsRequest {
    resource_arn: Option<String>,
    tags: Option<Vec<Tag>>,
    tag_keys: Option<Vec<String>>,
}

/// Tags belong to state machines here (AWS also tags activities, which
/// this endpoint does not have).
fn tagged_resource(r: &TagsRequest) -> ApiResult<&str> {
    state_machine_arn(r.resource_arn.as_ref(), "resourceArn")
}

fn tag_resource(engine: &Engine, mut r: TagsRequest) -> ApiResult<Value> {
    let tags = tags_of(required(r.tags.take(), "tags")?)?;
    let arn = tagged_resource(&r)?;
    engine.tag_resource(arn, &tags)?;
    Ok(json!({}))
}

fn untag_resource(engine: &Engine, r: TagsRequest) -> ApiResult<Value> {
    let arn = tagged_resource(&r)?;
    engine.untag_resource(
        arn,
        r.tag_keys
            .as_deref()
            .ok_or_else(|| ApiError::missing("tagKeys"))?,
    )?;
    Ok(json!({}))
}

fn list_tags_for_resource(engine: &Engine, r: TagsRequest) -> ApiResult<Value> {
    let arn = tagged_resource(&r)?;
    let tags: Vec<Value> = engine
        .list_tags(arn)?
        .into_iter()
        .map(|(key, value)| json!({ "key": key, "value": value }))
        .collect();
    Ok(json!({ "tags": tags }))
}

#[cfg(test)]
mod tests {
    //! The answers `stateMachineArn` and `executionArn` members get, one line
    //! per ARN, so a change to how ARNs are read cannot change an answer
    //! unnoticed.

    use super::*;
    use expect_test::{expect, Expect};

    fn check(arns: &[&str], expect: Expect) {
        let answer = |r: ApiResult<&str>| match r {
            Ok(_) => "ok".to_string(),
            Err(e) => format!("{} {}: {}", e.status.as_u16(), e.name, e.message),
        };
        let mut out = String::new();
        for arn in arns {
            let value = arn.to_string();
            out.push_str(&format!("{arn}\n"));
            out.push_str(&format!(
                "  machine:   {}\n",
                answer(state_machine_arn(Some(&value), "stateMachineArn"))
            ));
            out.push_str(&format!(
                "  execution: {}\n",
                answer(execution_arn(Some(&value), "executionArn"))
            ));
        }
        expect.assert_eq(&out);
    }

    #[test]
    fn arn_members_are_answered_as_before() {
        check(
            &[
                "arn:aws:states:us-east-1:123456789012:stateMachine:m",
                "arn:aws:states:us-east-1:123456789012:execution:m:e",
                "arn:aws:states:us-east-1:123456789012:express:m:e",
                "not-an-arn",
                "arn:aws:states:us-east-1:123456789012:stateMachine",
                "arm:aws:states:us-east-1:123456789012:stateMachine:m",
                "arn:aws:lambda:us-east-1:123456789012:function:m",
                "arn:aws:states:eu-west-1:123456789012:stateMachine:m",
                "arn:aws:states:us-east-1:210987654321:execution:m:e",
                "arn:aws:states::123456789012:stateMachine:m",
                "arn:aws:states:eu-west-1:123456789012:activity:m",
                "arn:aws:states:us-east-1:123456789012:activity:m",
                "arn:aws:states:us-east-1:123456789012:stateMachine:m:1",
                "arn:aws:states:us-east-1:123456789012:execution:m",
                "arn:aws:states:us-east-1:123456789012:execution:m:e:x",
                "arn:aws:states:us-east-1:123456789012:stateMachine:",
                "arn:aws:states:us-east-1:123456789012:execution::e",
                "arn:aws:states:us-east-1:123456789012:execution:m:",
                "arn::states:us-east-1:123456789012:stateMachine:m",
                "arn:aws-cn:states:us-east-1:123456789012:execution:m:e",
            ],
            expect![[r#"
                arn:aws:states:us-east-1:123456789012:stateMachine:m
                  machine:   ok
                  execution: 400 InvalidArn: Invalid Arn: 'executionArn must be an execution ARN: arn:aws:states:us-east-1:123456789012:stateMachine:m'
                arn:aws:states:us-east-1:123456789012:execution:m:e
                  machine:   400 InvalidArn: Invalid Arn: 'stateMachineArn must be a state machine ARN, not an execution ARN: arn:aws:states:us-east-1:123456789012:execution:m:e'
                  execution: ok
                arn:aws:states:us-east-1:123456789012:express:m:e
                  machine:   400 InvalidArn: Invalid Arn: 'stateMachineArn must be a state machine ARN, not an execution ARN: arn:aws:states:us-east-1:123456789012:express:m:e'
                  execution: ok
                not-an-arn
                  machine:   400 InvalidArn: Invalid Arn: 'stateMachineArn is not a Step Functions ARN: not-an-arn'
                  execution: 400 InvalidArn: Invalid Arn: 'executionArn is not a Step Functions ARN: not-an-arn'
                arn:aws:states:us-east-1:123456789012:stateMachine
                  machine:   400 InvalidArn: Invalid Arn: 'stateMachineArn is not a Step Functions ARN: arn:aws:states:us-east-1:123456789012:stateMachine'
                  execution: 400 InvalidArn: Invalid Arn: 'executionArn is not a Step Functions ARN: arn:aws:states:us-east-1:123456789012:stateMachine'
                arm:aws:states:us-east-1:123456789012:stateMachine:m
                  machine:   400 InvalidArn: Invalid Arn: 'stateMachineArn is not a Step Functions ARN: arm:aws:states:us-east-1:123456789012:stateMachine:m'
                  execution: 400 InvalidArn: Invalid Arn: 'executionArn is not a Step Functions ARN: arm:aws:states:us-east-1:123456789012:stateMachine:m'
                arn:aws:lambda:us-east-1:123456789012:function:m
                  machine:   400 InvalidArn: Invalid Arn: 'stateMachineArn is not a Step Functions ARN: arn:aws:lambda:us-east-1:123456789012:function:m'
                  execution: 400 InvalidArn: Invalid Arn: 'executionArn is not a Step Functions ARN: arn:aws:lambda:us-east-1:123456789012:function:m'
                arn:aws:states:eu-west-1:123456789012:stateMachine:m
                  machine:   400 InvalidArn: Invalid Arn: 'stateMachineArn names region "eu-west-1" and account "123456789012"; this endpoint is us-east-1 in 123456789012: arn:aws:states:eu-west-1:123456789012:stateMachine:m'
                  execution: 400 InvalidArn: Invalid Arn: 'executionArn names region "eu-west-1" and account "123456789012"; this endpoint is us-east-1 in 123456789012: arn:aws:states:eu-west-1:123456789012:stateMachine:m'
                arn:aws:states:us-east-1:210987654321:execution:m:e
                  machine:   400 InvalidArn: Invalid Arn: 'stateMachineArn names region "us-east-1" and account "210987654321"; this endpoint is us-east-1 in 123456789012: arn:aws:states:us-east-1:210987654321:execution:m:e'
                  execution: 400 InvalidArn: Invalid Arn: 'executionArn names region "us-east-1" and account "210987654321"; this endpoint is us-east-1 in 123456789012: arn:aws:states:us-east-1:210987654321:execution:m:e'
                arn:aws:states::123456789012:stateMachine:m
                  machine:   400 InvalidArn: Invalid Arn: 'stateMachineArn names region "" and account "123456789012"; this endpoint is us-east-1 in 123456789012: arn:aws:states::123456789012:stateMachine:m'
                  execution: 400 InvalidArn: Invalid Arn: 'executionArn names region "" and account "123456789012"; this endpoint is us-east-1 in 123456789012: arn:aws:states::123456789012:stateMachine:m'
                arn:aws:states:eu-west-1:123456789012:activity:m
                  machine:   400 InvalidArn: Invalid Arn: 'stateMachineArn names region "eu-west-1" and account "123456789012"; this endpoint is us-east-1 in 123456789012: arn:aws:states:eu-west-1:123456789012:activity:m'
                  execution: 400 InvalidArn: Invalid Arn: 'executionArn names region "eu-west-1" and account "123456789012"; this endpoint is us-east-1 in 123456789012: arn:aws:states:eu-west-1:123456789012:activity:m'
                arn:aws:states:us-east-1:123456789012:activity:m
                  machine:   400 InvalidArn: Invalid Arn: 'Resource type not valid in this context for stateMachineArn: arn:aws:states:us-east-1:123456789012:activity:m'
                  execution: 400 InvalidArn: Invalid Arn: 'Resource type not valid in this context for executionArn: arn:aws:states:us-east-1:123456789012:activity:m'
                arn:aws:states:us-east-1:123456789012:stateMachine:m:1
                  machine:   400 InvalidArn: Invalid Arn: 'Resource type not valid in this context for stateMachineArn: arn:aws:states:us-east-1:123456789012:stateMachine:m:1'
                  execution: 400 InvalidArn: Invalid Arn: 'Resource type not valid in this context for executionArn: arn:aws:states:us-east-1:123456789012:stateMachine:m:1'
                arn:aws:states:us-east-1:123456789012:execution:m
                  machine:   400 InvalidArn: Invalid Arn: 'Resource type not valid in this context for stateMachineArn: arn:aws:states:us-east-1:123456789012:execution:m'
                  execution: 400 InvalidArn: Invalid Arn: 'Resource type not valid in this context for executionArn: arn:aws:states:us-east-1:123456789012:execution:m'
                arn:aws:states:us-east-1:123456789012:execution:m:e:x
                  machine:   400 InvalidArn: Invalid Arn: 'Resource type not valid in this context for stateMachineArn: arn:aws:states:us-east-1:123456789012:execution:m:e:x'
                  execution: 400 InvalidArn: Invalid Arn: 'Resource type not valid in this context for executionArn: arn:aws:states:us-east-1:123456789012:execution:m:e:x'
                arn:aws:states:us-east-1:123456789012:stateMachine:
                  machine:   ok
                  execution: 400 InvalidArn: Invalid Arn: 'executionArn must be an execution ARN: arn:aws:states:us-east-1:123456789012:stateMachine:'
                arn:aws:states:us-east-1:123456789012:execution::e
                  machine:   400 InvalidArn: Invalid Arn: 'stateMachineArn must be a state machine ARN, not an execution ARN: arn:aws:states:us-east-1:123456789012:execution::e'
                  execution: 400 InvalidArn: Invalid Arn: 'executionArn must be an execution ARN: arn:aws:states:us-east-1:123456789012:execution::e'
                arn:aws:states:us-east-1:123456789012:execution:m:
                  machine:   400 InvalidArn: Invalid Arn: 'stateMachineArn must be a state machine ARN, not an execution ARN: arn:aws:states:us-east-1:123456789012:execution:m:'
                  execution: ok
                arn::states:us-east-1:123456789012:stateMachine:m
                  machine:   ok
                  execution: 400 InvalidArn: Invalid Arn: 'executionArn must be an execution ARN: arn::states:us-east-1:123456789012:stateMachine:m'
                arn:aws-cn:states:us-east-1:123456789012:execution:m:e
                  machine:   400 InvalidArn: Invalid Arn: 'stateMachineArn must be a state machine ARN, not an execution ARN: arn:aws-cn:states:us-east-1:123456789012:execution:m:e'
                  execution: ok
            "#]],
        );
    }

    #[test]
    fn a_status_filter_is_a_status_or_pending_redrive() {
        assert!(matches!(status_filter(None), Ok(None)));
        for status in Status::ALL {
            assert!(matches!(
                status_filter(Some(status.api_name())),
                Ok(Some(StatusFilter::Status(s))) if s == status
            ));
        }
        assert!(matches!(
            status_filter(Some("PENDING_REDRIVE")),
            Ok(Some(StatusFilter::PendingRedrive))
        ));
        let Err(refused) = status_filter(Some("DONE")) else {
            panic!("DONE is not a status");
        };
        assert_eq!(
            (refused.name, refused.message.as_str()),
            (
                "ValidationException",
                "1 validation error detected: Value 'DONE' at 'statusFilter' failed to satisfy \
                 constraint: Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, \
                 TIMED_OUT, ABORTED, PENDING_REDRIVE]"
            )
        );
    }
}
