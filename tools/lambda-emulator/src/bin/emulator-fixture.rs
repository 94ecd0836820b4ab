//! The emulator's test fixture: a real `lambda_runtime` function, started
//! by the emulator as any zoomvault function would be, whose event says
//! what to do: echo it back with what the function saw (its process id,
//! request id, invoked ARN and Lambda environment), fail with a chosen
//! `errorType` (a `Diagnostic`, as zoomvault's handlers fail), sleep,
//! exit, or write a file. It exists only for the emulator's tests.

use std::time::Duration;

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde::Deserialize;
use serde_json::{json, Value};

/// What the test asks the function to do.
#[derive(Debug, Deserialize)]
#[serde(tag = "action", rename_all = "camelCase")]
enum Command {
    /// Answer with `value` and what the function saw.
    Echo {
        #[serde(default)]
        value: Value,
    },
    /// Fail with this `errorType` and `errorMessage`.
    #[serde(rename_all = "camelCase")]
    Fail {
        error_type: String,
        error_message: String,
    },
    /// Sleep, then answer.
    Sleep { ms: u64 },
    /// Exit the process at once with this code.
    Exit { code: i32 },
    /// Write `contents` to `path`, then answer.
    Write { path: String, contents: String },
}

/// The environment variables Lambda sets that the echo reports.
const LAMBDA_VARIABLES: [&str; 10] = [
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "_HANDLER",
    "FIXTURE_GREETING",
    "HOME",
];

async fn handle(event: LambdaEvent<Command>) -> Result<Value, Diagnostic> {
    let (command, context) = event.into_parts();
    match command {
        Command::Echo { value } => {
            let environment: serde_json::Map<String, Value> = LAMBDA_VARIABLES
                .iter()
                .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), json!(v))))
                .collect();
            Ok(json!({
                "value": value,
                "pid": std::process::id(),
                "requestId": context.request_id,
                "invokedFunctionArn": context.invoked_function_arn,
                "deadlineMs": context.deadline,
                "environment": environment,
            }))
        }
        Command::Fail {
            error_type,
            error_message,
        } => Err(Diagnostic {
            error_type,
            error_message,
        }),
        Command::Sleep { ms } => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(json!({"slept": ms, "pid": std::process::id()}))
        }
        Command::Exit { code } => {
            eprintln!("exiting with {code} as asked");
            std::process::exit(code)
        }
        Command::Write { path, contents } => {
            tokio::fs::write(&path, contents)
                .await
                .map_err(|error| Diagnostic {
                    error_type: "Fixture.WriteFailed".to_owned(),
                    error_message: error.to_string(),
                })?;
            Ok(json!({"written": path}))
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    if std::env::var("FIXTURE_EXIT_AT_INIT").is_ok() {
        eprintln!("exiting before the runtime starts, as asked");
        std::process::exit(3);
    }
    lambda_runtime::run(service_fn(handle)).await
}
