//! `zoomvault engine serve` as a user runs it: the binary, its own journal,
//! the Step Functions API on loopback, driven by aws-sdk-sfn, with the
//! service integrations that need no archive; and its refusal to serve the
//! API beyond loopback without an access key.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[path = "../benches/support/mod.rs"]
mod support;

use support::{free_port, Server};

/// `zoomvault engine serve` on a free loopback port with its journal under
/// `dir`, the process (stopped when dropped) and its API's URL.
fn engine_serve(dir: &std::path::Path) -> (Server, String) {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_zoomvault"))
        .args(["engine", "serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--db")
        .arg(dir.join("journal/engine.db"))
        .env_remove("ZOOMVAULT_EVENTBRIDGE_ENDPOINT")
        .env_remove("ZOOMVAULT_DYNAMODB_ENDPOINT")
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting zoomvault engine serve");
    let stderr = child.stderr.take().unwrap();
    let running = Server(child);
    // It says where it serves once it listens. The rest of what it says is
    // drained, or its next line would fail to print and stop it.
    let mut lines = BufReader::new(stderr).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(
        first.contains(&format!("http://127.0.0.1:{port}")),
        "{first}"
    );
    std::thread::spawn(move || lines.for_each(drop));
    (running, format!("http://127.0.0.1:{port}"))
}

/// Creates `definition` as `name` and runs it with `input` to its end.
async fn run_to_end(
    sfn: &aws_sdk_sfn::Client,
    name: &str,
    definition: &str,
    input: &str,
) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
    let machine = sfn
        .create_state_machine()
        .name(name)
        .definition(definition)
        .role_arn("arn:aws:iam::123456789012:role/any")
        .send()
        .await
        .unwrap()
        .state_machine_arn;
    let execution = sfn
        .start_execution()
        .state_machine_arn(&machine)
        .input(input)
        .send()
        .await
        .unwrap()
        .execution_arn;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let described = sfn
            .describe_execution()
            .execution_arn(&execution)
            .send()
            .await
            .unwrap();
        if described.status().as_str() != "RUNNING" {
            break described;
        }
        assert!(std::time::Instant::now() < deadline, "still running");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn engine_serve_runs_the_examples_through_the_sdk() {
    let dir = tempfile::tempdir().unwrap();
    let (_running, url) = engine_serve(dir.path());
    let sfn = zoomvault_aws::step_functions::client_for_endpoint(&url, "AKIDANY", "any");
    let definition = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/hello.asl.json"),
    )
    .unwrap();
    // The example retries a flaky task after a second and has a short
    // Wait, so it takes a few seconds of real time.
    let status = run_to_end(&sfn, "hello", &definition, r#"{"name":"engine serve"}"#).await;
    assert_eq!(
        status.status().as_str(),
        "SUCCEEDED",
        "{:?}",
        status.cause()
    );
    assert!(dir.path().join("journal/engine.db").exists());
}

/// The integrations that need no archive: a nested execution on the same
/// engine, events on a bus with no rules (accepted, going nowhere), and
/// DynamoDB refused with how to configure it.
#[tokio::test]
async fn engine_serve_runs_nested_executions_and_accepts_events_without_endpoints() {
    let dir = tempfile::tempdir().unwrap();
    let (_running, url) = engine_serve(dir.path());
    let sfn = zoomvault_aws::step_functions::client_for_endpoint(&url, "AKIDANY", "any");
    let child = r#"{"StartAt": "Echo", "States": {"Echo": {"Type": "Task", "Resource": "echo", "End": true}}}"#;
    let described = run_to_end(&sfn, "child", child, "{}").await;
    assert_eq!(described.status().as_str(), "SUCCEEDED");
    let child_arn = described.state_machine_arn();
    let parent = serde_json::json!({
        "QueryLanguage": "JSONata",
        "StartAt": "Announce",
        "States": {
            "Announce": {
                "Type": "Task",
                "Resource": "arn:aws:states:::events:putEvents",
                "Arguments": {"Entries": [{"Source": "demo", "DetailType": "Hello", "Detail": {"n": 1}}]},
                "Assign": {"announced": "{% $states.result %}"},
                "Next": "Nested"
            },
            "Nested": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.sync:2",
                "Arguments": {"StateMachineArn": child_arn, "Input": {"from": "parent"}},
                "Output": {"announced": "{% $announced %}", "child": "{% $states.result.Output %}"},
                "End": true
            }
        }
    });
    let described = run_to_end(&sfn, "parent", &parent.to_string(), "{}").await;
    assert_eq!(
        described.status().as_str(),
        "SUCCEEDED",
        "{:?}",
        described.cause()
    );
    let output: serde_json::Value = serde_json::from_str(described.output().unwrap()).unwrap();
    assert_eq!(output["announced"]["FailedEntryCount"], 0, "{output}");
    assert!(
        output["announced"]["Entries"][0]["EventId"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{output}"
    );
    assert_eq!(output["child"], serde_json::json!({"from": "parent"}));

    // No DynamoDB endpoint: the task fails saying how to name one.
    let table = r#"{"StartAt": "Get", "States": {"Get": {"Type": "Task",
        "Resource": "arn:aws:states:::dynamodb:getItem",
        "Parameters": {"TableName": "t", "Key": {"k": {"S": "v"}}}, "End": true}}}"#;
    let described = run_to_end(&sfn, "table", table, "{}").await;
    assert_eq!(described.status().as_str(), "FAILED");
    assert_eq!(described.error(), Some("States.Runtime"));
    assert!(
        described
            .cause()
            .is_some_and(|c| c.contains("ZOOMVAULT_DYNAMODB_ENDPOINT")),
        "{:?}",
        described.cause()
    );
}

#[test]
fn engine_serve_refuses_a_public_listener_without_a_key() {
    let output = Command::new(env!("CARGO_BIN_EXE_zoomvault"))
        .args(["engine", "serve", "--listen", "0.0.0.0:0", "--db"])
        .arg(std::env::temp_dir().join("zoomvault-never-created.db"))
        .env_remove("ZOOMVAULT_API_ACCESS_KEY_ID")
        .env_remove("ZOOMVAULT_API_SECRET_ACCESS_KEY")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not loopback"), "{stderr}");
    assert!(stderr.contains("ZOOMVAULT_API_ACCESS_KEY_ID"), "{stderr}");
}
