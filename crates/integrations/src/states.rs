//! `arn:aws:states:::states:startExecution`, `.sync` and `.sync:2`: a Task
//! that starts an execution of a state machine of the same engine
//! (<https://docs.aws.amazon.com/step-functions/latest/dg/connect-stepfunctions.html>,
//! integration patterns:
//! <https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html>).
//! The request is StartExecution's `StateMachineArn`, `Input` (JSON, or
//! its text) and `Name`. Without a pattern the result is
//! `{"ExecutionArn", "StartDate"}` at once; `.sync` waits for the child
//! and returns DescribeExecution's answer in PascalCase with `Input` and
//! `Output` as JSON text, `.sync:2` the same with both parsed as JSON. A
//! child that does not succeed fails the task with `States.TaskFailed`,
//! the child's DescribeExecution answer as the cause. Dates are epoch
//! milliseconds, as Step Functions serialises them in task results.
//!
//! Durability: a task is dispatched at least once, and a dispatch that a
//! crash cut short runs again. So that it never starts a second child,
//! a child without a `Name` is named from the task (a UUID-shaped digest
//! of its task token, which names the parent execution and the task and
//! is the same when the dispatch is repeated), and StartExecution is
//! idempotent for a running execution of the same name and input. A
//! repeated dispatch that finds its own child already closed (the crash
//! came after the child ended) takes that child's end instead of failing
//! with ExecutionAlreadyExists; with a `Name` given, AWS's rule stands and
//! a closed execution of that name is an `ExecutionAlreadyExists` failure.
//!
//! This module sits outside the engine core and uses only the `Engine`
//! handle's public API; it holds the engine weakly ([`NestedExecutions`]),
//! since the engine holds this handler.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use zoomvault_asl::Failure;
use zoomvault_engine::store::ExecutionRow;
use zoomvault_engine::{Engine, Error as EngineError, Handlers, Status, TaskRequest, WeakEngine};

pub const START_EXECUTION: &str = "arn:aws:states:::states:startExecution";
pub const START_EXECUTION_SYNC: &str = "arn:aws:states:::states:startExecution.sync";
pub const START_EXECUTION_SYNC2: &str = "arn:aws:states:::states:startExecution.sync:2";
pub const START_EXECUTION_WAIT_FOR_TASK_TOKEN: &str =
    "arn:aws:states:::states:startExecution.waitForTaskToken";

/// How the task waits for its child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// Request-response: the child's ARN and start date.
    Start,
    /// `.sync`: the child's end, `Input` and `Output` as text.
    Sync,
    /// `.sync:2`: the child's end, `Input` and `Output` as JSON.
    Sync2,
}

/// The engine nested executions run on, attached once it is open. Tasks
/// dispatched before that (an execution recovered while `Engine::open`
/// runs) wait for it.
#[derive(Debug, Clone)]
pub struct NestedExecutions {
    engine: watch::Sender<Option<WeakEngine>>,
}

impl Default for NestedExecutions {
    fn default() -> Self {
        NestedExecutions {
            engine: watch::Sender::new(None),
        }
    }
}

impl NestedExecutions {
    pub fn new() -> NestedExecutions {
        NestedExecutions::default()
    }

    /// Makes `engine` the one children start on.
    pub fn attach(&self, engine: &Engine) {
        self.engine.send_replace(Some(engine.downgrade()));
    }

    async fn engine(&self) -> Result<Engine, Failure> {
        let mut receiver = self.engine.subscribe();
        let attached = receiver
            .wait_for(Option::is_some)
            .await
            .map_err(|_| Failure::runtime("the engine for nested executions is gone"))?
            .clone();
        attached
            .and_then(|weak| weak.upgrade())
            .ok_or_else(|| Failure::runtime("the engine for nested executions has shut down"))
    }
}

pub fn register(handlers: &mut Handlers, executions: NestedExecutions) {
    for (resource, pattern) in [
        (START_EXECUTION, Pattern::Start),
        (START_EXECUTION_WAIT_FOR_TASK_TOKEN, Pattern::Start),
        (START_EXECUTION_SYNC, Pattern::Sync),
        (START_EXECUTION_SYNC2, Pattern::Sync2),
    ] {
        let executions = executions.clone();
        handlers.register(resource, move |request: TaskRequest| {
            let executions = executions.clone();
            async move {
                let engine = executions.engine().await?;
                start_execution(&engine, resource, pattern, &request).await
            }
        });
    }
}

/// The request, read.
#[derive(Debug, Clone, PartialEq)]
struct StartRequest {
    state_machine_arn: String,
    input: Value,
    name: Option<String>,
}

fn read_request(input: &Value, resource: &str) -> Result<StartRequest, Failure> {
    crate::only_members(input, &["StateMachineArn", "Input", "Name"], resource)?;
    let state_machine_arn = crate::required_str(input, "StateMachineArn", resource)?.to_owned();
    // Input is JSON or its text; none is `{}` (StartExecution's default).
    let child_input = match input.get("Input") {
        None | Some(Value::Null) => json!({}),
        Some(Value::String(text)) => serde_json::from_str(text).map_err(|e| {
            Failure::new(
                "StepFunctions.InvalidExecutionInputException",
                format!("Invalid State Machine Execution Input: '{e}'"),
            )
        })?,
        Some(other) => other.clone(),
    };
    let name = match input.get("Name") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name.clone()),
        Some(_) => {
            return Err(Failure::runtime(format!(
                "The field 'Name' of {resource} must be a string"
            )))
        }
    };
    Ok(StartRequest {
        state_machine_arn,
        input: child_input,
        name,
    })
}

/// The child's name when the request gives none: a UUID-shaped digest of
/// the task token, the same on every dispatch of one task and different
/// for every task (and every retry of one) of every execution.
pub fn derived_name(task_token: &str) -> String {
    let digest = Sha256::digest(format!("zoomvault nested execution\0{task_token}").as_bytes());
    let h = hex::encode(&digest[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

pub async fn start_execution(
    engine: &Engine,
    resource: &str,
    pattern: Pattern,
    request: &TaskRequest,
) -> Result<Value, Failure> {
    let start = read_request(&request.input, resource)?;
    let derived = start.name.is_none();
    let name = start
        .name
        .clone()
        .unwrap_or_else(|| derived_name(&request.task_token));
    let execution_arn = match engine
        .start_execution(&start.state_machine_arn, Some(&name), start.input.clone())
        .await
    {
        Ok(started) => {
            if pattern == Pattern::Start {
                return Ok(json!({
                    "ExecutionArn": started.execution_arn,
                    "StartDate": started.start_ms,
                }));
            }
            started.execution_arn
        }
        // A repeated dispatch whose child already ended: the child is
        // this task's own, as only this task makes its name.
        Err(EngineError::ExecutionAlreadyExists(arn)) if derived => {
            let row = engine.describe_execution(&arn).map_err(sfn_failure)?;
            let same_input =
                serde_json::from_str::<Value>(&row.input).ok() == Some(start.input.clone());
            if !same_input {
                return Err(sfn_failure(EngineError::ExecutionAlreadyExists(arn)));
            }
            if pattern == Pattern::Start {
                return Ok(json!({ "ExecutionArn": row.arn, "StartDate": row.start_ms }));
            }
            arn
        }
        Err(e) => return Err(sfn_failure(e)),
    };
    let row = engine.wait_for(&execution_arn).await.map_err(sfn_failure)?;
    let described = describe(&row, pattern);
    if row.status == Status::Succeeded {
        Ok(described)
    } else {
        Err(Failure::new("States.TaskFailed", described.to_string()))
    }
}

/// DescribeExecution's answer as the integration returns it.
fn describe(row: &ExecutionRow, pattern: Pattern) -> Value {
    let data = |text: &str| -> Value {
        match pattern {
            Pattern::Sync2 => {
                serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
            }
            _ => Value::String(text.to_owned()),
        }
    };
    let mut answer = Map::new();
    if let Some(cause) = &row.cause {
        answer.insert("Cause".into(), json!(cause));
    }
    if let Some(error) = &row.error {
        answer.insert("Error".into(), json!(error));
    }
    answer.insert("ExecutionArn".into(), json!(row.arn));
    answer.insert("Input".into(), data(&row.input));
    answer.insert("InputDetails".into(), json!({ "Included": true }));
    answer.insert("Name".into(), json!(row.name));
    if let Some(output) = &row.output {
        answer.insert("Output".into(), data(output));
        answer.insert("OutputDetails".into(), json!({ "Included": true }));
    }
    if row.redrive_count > 0 {
        answer.insert("RedriveCount".into(), json!(row.redrive_count));
    }
    answer.insert("StartDate".into(), json!(row.start_ms));
    answer.insert("StateMachineArn".into(), json!(row.state_machine_arn));
    answer.insert("Status".into(), json!(row.status.api_name()));
    if let Some(stop) = row.stop_ms {
        answer.insert("StopDate".into(), json!(stop));
    }
    Value::Object(answer)
}

/// The engine's refusal as Step Functions names StartExecution's errors
/// in this integration: `StepFunctions.<exception>`.
fn sfn_failure(error: EngineError) -> Failure {
    let exception = match &error {
        EngineError::StateMachineDoesNotExist(_) => "StateMachineDoesNotExist",
        EngineError::ExecutionAlreadyExists(_) => "ExecutionAlreadyExists",
        EngineError::InvalidName(..) => "InvalidName",
        EngineError::InvalidArn(_) => "InvalidArn",
        EngineError::ExecutionDoesNotExist(_) => "ExecutionDoesNotExist",
        EngineError::InvalidDefinition(_) => "InvalidDefinition",
        _ => "StepFunctions",
    };
    Failure::new(
        format!("StepFunctions.{exception}Exception"),
        format!("{error} (Service: AWSStepFunctions; Error Code: {exception}Exception)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_derived_name_is_the_tasks_own_and_a_valid_execution_name() {
        let a = derived_name("token-a");
        assert_eq!(a, derived_name("token-a"));
        assert_ne!(a, derived_name("token-b"));
        assert_eq!(a.len(), 36);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit() || c == '-'), "{a}");
    }

    #[test]
    fn input_is_json_or_its_text_and_defaults_to_an_empty_object() {
        let arn = "arn:aws:states:us-east-1:000000000000:stateMachine:child";
        for (input, expected) in [
            (json!({"StateMachineArn": arn}), json!({})),
            (
                json!({"StateMachineArn": arn, "Input": {"a": 1}}),
                json!({"a": 1}),
            ),
            (
                json!({"StateMachineArn": arn, "Input": "{\"a\":1}"}),
                json!({"a": 1}),
            ),
        ] {
            let read = read_request(&input, START_EXECUTION).expect("valid");
            assert_eq!(read.input, expected, "{input}");
        }
        let bad = read_request(
            &json!({"StateMachineArn": arn, "Input": "{"}),
            START_EXECUTION,
        )
        .expect_err("not JSON");
        assert_eq!(bad.error, "StepFunctions.InvalidExecutionInputException");
        let missing = read_request(&json!({}), START_EXECUTION).expect_err("no ARN");
        assert_eq!(missing.error, "States.Runtime");
    }
}
