//! The emulator driven as the end-to-end harness will drive it: real
//! fixture processes (a `lambda_runtime` function, `emulator-fixture`)
//! under the Runtime API, invoked over real HTTP through aws-sdk-lambda.
//! Each test starts its own emulator, so tests run in parallel safely. The
//! tests never sleep: the fixture sleeps when a test needs a slow function,
//! and ordering comes from the function's concurrency, not from waiting.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use serde_json::{json, Value};
use zoomvault_lambda_emulator::{Config, Emulator, FunctionConfig};

const FIXTURE: &str = env!("CARGO_BIN_EXE_emulator-fixture");

fn fixture() -> FunctionConfig {
    FunctionConfig::new(FIXTURE)
}

async fn start(functions: Vec<(&str, FunctionConfig)>) -> Emulator {
    let config = functions
        .into_iter()
        .fold(Config::new(), |config, (name, function)| {
            config.function(name, function)
        });
    Emulator::start(config).await.expect("the emulator starts")
}

/// An aws-sdk-lambda client for `endpoint`: fixed region and test
/// credentials, as the workspace's moto fixture builds its clients.
fn client(endpoint: &str) -> aws_sdk_lambda::Client {
    let credentials = aws_credential_types::Credentials::from_keys("testing", "testing", None);
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(credentials),
        )
        .build();
    aws_sdk_lambda::Client::new(&config)
}

/// What a synchronous invocation answered.
#[derive(Debug)]
struct Answer {
    status: i32,
    function_error: Option<String>,
    executed_version: Option<String>,
    payload: Value,
}

async fn invoke(client: &aws_sdk_lambda::Client, function: &str, event: Value) -> Answer {
    let output = client
        .invoke()
        .function_name(function)
        .payload(Blob::new(event.to_string()))
        .send()
        .await
        .expect("the invocation is accepted");
    let payload = output.payload().map(|p| p.as_ref()).unwrap_or_default();
    Answer {
        status: output.status_code(),
        function_error: output.function_error().map(str::to_owned),
        executed_version: output.executed_version().map(str::to_owned),
        payload: serde_json::from_slice(payload).expect("the payload is JSON"),
    }
}

fn pid(answer: &Answer) -> u64 {
    answer.payload["pid"]
        .as_u64()
        .unwrap_or_else(|| panic!("no pid in {answer:?}"))
}

#[tokio::test]
async fn success_answers_the_functions_payload_with_lambdas_environment() {
    let emulator = start(vec![(
        "fixture",
        fixture().env("FIXTURE_GREETING", "hello"),
    )])
    .await;
    let client = client(&emulator.endpoint());

    let answer = invoke(
        &client,
        "fixture",
        json!({"action": "echo", "value": [1, "two"]}),
    )
    .await;

    assert_eq!(answer.status, 200);
    assert_eq!(answer.function_error, None);
    assert_eq!(answer.executed_version.as_deref(), Some("$LATEST"));
    assert_eq!(answer.payload["value"], json!([1, "two"]));
    assert_eq!(
        answer.payload["invokedFunctionArn"],
        "arn:aws:lambda:us-east-1:123456789012:function:fixture"
    );
    let environment = &answer.payload["environment"];
    assert_eq!(environment["AWS_LAMBDA_FUNCTION_NAME"], "fixture");
    assert_eq!(environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "128");
    assert_eq!(environment["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    assert_eq!(
        environment["AWS_LAMBDA_LOG_GROUP_NAME"],
        "/aws/lambda/fixture"
    );
    assert_eq!(environment["AWS_REGION"], "us-east-1");
    assert_eq!(environment["AWS_DEFAULT_REGION"], "us-east-1");
    assert_eq!(environment["_HANDLER"], "emulator-fixture");
    assert_eq!(environment["FIXTURE_GREETING"], "hello");
    assert!(
        environment["AWS_LAMBDA_LOG_STREAM_NAME"]
            .as_str()
            .is_some_and(|s| s.contains("[$LATEST]")),
        "{environment}"
    );
    assert!(
        environment.get("HOME").is_none(),
        "the emulator's own environment leaked into the function: {environment}"
    );
    emulator.shutdown().await;
}

/// Step Functions matches Retry and Catch on the exact errorType a
/// handler's `Diagnostic` carries, so it must arrive unchanged.
#[tokio::test]
async fn handler_error_arrives_as_unhandled_with_its_error_type_unchanged() {
    let emulator = start(vec![("fixture", fixture())]).await;
    let client = client(&emulator.endpoint());

    for error_type in ["Zoom.RateLimited", "Storage.Transient", "States.Odd Name-1"] {
        let event = json!({"action": "fail", "errorType": error_type, "errorMessage": "try later"});
        let answer = invoke(&client, "fixture", event).await;

        assert_eq!(answer.status, 200);
        assert_eq!(answer.function_error.as_deref(), Some("Unhandled"));
        assert_eq!(
            answer.payload,
            json!({"errorType": error_type, "errorMessage": "try later"})
        );
    }
    let metrics = emulator.metrics("fixture").expect("a configured function");
    assert_eq!(
        metrics.processes_started, 1,
        "a handler error keeps the process warm"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn unknown_function_is_resource_not_found_in_lambdas_error_shape() {
    let emulator = start(vec![("fixture", fixture())]).await;
    let client = client(&emulator.endpoint());

    let error = client
        .invoke()
        .function_name("missing")
        .send()
        .await
        .expect_err("no such function")
        .into_service_error();
    assert!(error.is_resource_not_found_exception(), "{error:?}");

    let response = reqwest::Client::new()
        .post(format!(
            "{}/2015-03-31/functions/missing/invocations",
            emulator.endpoint()
        ))
        .body("{}")
        .send()
        .await
        .expect("the emulator answers");
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.headers()["x-amzn-ErrorType"],
        "ResourceNotFoundException"
    );
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(
        body,
        json!({
            "Type": "User",
            "message": "Function not found: arn:aws:lambda:us-east-1:123456789012:function:missing"
        })
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn invalid_json_payload_is_invalid_request_content() {
    let emulator = start(vec![("fixture", fixture())]).await;
    let error = client(&emulator.endpoint())
        .invoke()
        .function_name("fixture")
        .payload(Blob::new("{not json"))
        .send()
        .await
        .expect_err("the payload is not JSON")
        .into_service_error();
    assert!(error.is_invalid_request_content_exception(), "{error:?}");
    emulator.shutdown().await;
}

#[tokio::test]
async fn arn_and_qualified_names_reach_the_function() {
    let emulator = start(vec![("fixture", fixture())]).await;
    let client = client(&emulator.endpoint());
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:fixture";
    let cases = [
        (arn.to_owned(), None, arn.to_owned()),
        (format!("{arn}:$LATEST"), None, format!("{arn}:$LATEST")),
        ("fixture:live".to_owned(), None, format!("{arn}:live")),
        (
            "123456789012:function:fixture".to_owned(),
            None,
            arn.to_owned(),
        ),
        ("fixture".to_owned(), Some("live"), format!("{arn}:live")),
        (
            "arn:aws:lambda:eu-west-1:210987654321:function:fixture".to_owned(),
            None,
            arn.to_owned(),
        ),
    ];
    for (function_name, qualifier, invoked_arn) in cases {
        let output = client
            .invoke()
            .function_name(&function_name)
            .set_qualifier(qualifier.map(str::to_owned))
            .payload(Blob::new(json!({"action": "echo"}).to_string()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{function_name} {qualifier:?}: {e:?}"));
        let payload: Value =
            serde_json::from_slice(output.payload().expect("a payload").as_ref()).expect("JSON");
        assert_eq!(output.function_error(), None, "{function_name}");
        assert_eq!(
            payload["invokedFunctionArn"], invoked_arn,
            "{function_name} {qualifier:?}"
        );
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn event_invocation_is_accepted_and_runs_in_the_background() {
    // One process, so the synchronous invocation below runs only after the
    // Event one has finished.
    let emulator = start(vec![("fixture", fixture().concurrency(1))]).await;
    let client = client(&emulator.endpoint());
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("event-ran");

    let output = client
        .invoke()
        .function_name("fixture")
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(
            json!({"action": "write", "path": path, "contents": "ran"}).to_string(),
        ))
        .send()
        .await
        .expect("the Event invocation is accepted");
    assert_eq!(output.status_code(), 202);
    assert!(output.payload().is_none_or(|p| p.as_ref().is_empty()));

    invoke(&client, "fixture", json!({"action": "echo"})).await;
    assert_eq!(
        std::fs::read_to_string(&path).expect("the event ran"),
        "ran"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn dry_run_answers_204_and_runs_nothing() {
    let emulator = start(vec![("fixture", fixture())]).await;
    let output = client(&emulator.endpoint())
        .invoke()
        .function_name("fixture")
        .invocation_type(InvocationType::DryRun)
        .send()
        .await
        .expect("the DryRun is accepted");
    assert_eq!(output.status_code(), 204);
    let metrics = emulator.metrics("fixture").expect("a configured function");
    assert_eq!((metrics.invocations, metrics.processes_started), (0, 0));
    emulator.shutdown().await;
}

#[tokio::test]
async fn parallel_invocations_run_in_separate_processes_and_stay_warm() {
    let emulator = start(vec![("fixture", fixture().concurrency(2))]).await;
    let client = client(&emulator.endpoint());
    let slow = json!({"action": "sleep", "ms": 400});

    let (first, second) = tokio::join!(
        invoke(&client, "fixture", slow.clone()),
        invoke(&client, "fixture", slow.clone()),
    );
    let parallel: HashSet<u64> = [pid(&first), pid(&second)].into();
    assert_eq!(parallel.len(), 2, "{first:?} {second:?}");

    // Both stay warm: the next two invocations reuse them.
    let third = invoke(&client, "fixture", json!({"action": "echo"})).await;
    let fourth = invoke(&client, "fixture", json!({"action": "echo"})).await;
    assert!(parallel.contains(&pid(&third)) && parallel.contains(&pid(&fourth)));
    let metrics = emulator.metrics("fixture").expect("a configured function");
    assert_eq!(metrics.processes_started, 2);
    assert_eq!(metrics.invocations, 4);
    emulator.shutdown().await;
}

#[tokio::test]
async fn timeout_answers_sandbox_timedout_and_restarts_the_process() {
    let emulator = start(vec![(
        "fixture",
        fixture().timeout(Duration::from_millis(300)),
    )])
    .await;
    let client = client(&emulator.endpoint());
    let before = invoke(&client, "fixture", json!({"action": "echo"})).await;

    let answer = invoke(&client, "fixture", json!({"action": "sleep", "ms": 30_000})).await;

    assert_eq!(answer.status, 200);
    assert_eq!(answer.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(answer.payload["errorType"], "Sandbox.Timedout");
    let message = answer.payload["errorMessage"].as_str().expect("a message");
    assert!(
        message.ends_with("Task timed out after 0.30 seconds"),
        "{message}"
    );
    let after = invoke(&client, "fixture", json!({"action": "echo"})).await;
    assert_eq!(after.function_error, None);
    assert_ne!(
        pid(&before),
        pid(&after),
        "the timed-out process was replaced"
    );
    assert!(
        !process_alive(pid(&before)),
        "the timed-out process was killed"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn crashed_process_answers_exit_error_and_is_restarted() {
    let emulator = start(vec![("fixture", fixture())]).await;
    let client = client(&emulator.endpoint());
    let before = invoke(&client, "fixture", json!({"action": "echo"})).await;

    let answer = invoke(&client, "fixture", json!({"action": "exit", "code": 4})).await;

    assert_eq!(answer.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(answer.payload["errorType"], "Runtime.ExitError");
    let message = answer.payload["errorMessage"].as_str().expect("a message");
    assert!(
        message.ends_with("Error: Runtime exited with error: exit status 4"),
        "{message}"
    );
    let after = invoke(&client, "fixture", json!({"action": "echo"})).await;
    assert_eq!(after.function_error, None);
    assert_ne!(pid(&before), pid(&after));
    let metrics = emulator.metrics("fixture").expect("a configured function");
    assert_eq!(metrics.processes_started, 2);
    emulator.shutdown().await;
}

#[tokio::test]
async fn process_that_exits_during_init_answers_exit_error() {
    let emulator = start(vec![(
        "fixture",
        fixture().env("FIXTURE_EXIT_AT_INIT", "1"),
    )])
    .await;
    let answer = invoke(
        &client(&emulator.endpoint()),
        "fixture",
        json!({"action": "echo"}),
    )
    .await;
    assert_eq!(answer.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(answer.payload["errorType"], "Runtime.ExitError");
    let message = answer.payload["errorMessage"].as_str().expect("a message");
    assert!(message.ends_with("exit status 3"), "{message}");
    let metrics = emulator.metrics("fixture").expect("a configured function");
    assert!(metrics.init_durations.is_empty(), "{metrics:?}");
    emulator.shutdown().await;
}

#[tokio::test]
async fn init_duration_is_measured_once_per_process_and_served() {
    let emulator = start(vec![("fixture", fixture())]).await;
    let client = client(&emulator.endpoint());
    invoke(&client, "fixture", json!({"action": "echo"})).await;
    invoke(&client, "fixture", json!({"action": "echo"})).await;

    let metrics = emulator.metrics("fixture").expect("a configured function");
    assert_eq!(metrics.init_durations.len(), 1, "{metrics:?}");
    let init = metrics.init_durations[0];
    assert!(
        init > Duration::ZERO && init < Duration::from_secs(10),
        "{init:?}"
    );
    eprintln!("fixture cold start: Init Duration {init:?}");

    let served: Value = reqwest::get(format!("{}/emulator/functions", emulator.endpoint()))
        .await
        .expect("the emulator answers")
        .json()
        .await
        .expect("JSON");
    let fixture = &served["functions"]["fixture"];
    assert_eq!(fixture["invocations"], 2);
    assert_eq!(fixture["processesStarted"], 1);
    let served_ms = fixture["initDurationsMs"][0].as_f64().expect("a number");
    assert!(
        (served_ms - init.as_secs_f64() * 1000.0).abs() < 1e-6,
        "{served}"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn shutdown_kills_the_function_processes() {
    let emulator = start(vec![("fixture", fixture().concurrency(2))]).await;
    let client = client(&emulator.endpoint());
    let warm = invoke(&client, "fixture", json!({"action": "echo"})).await;
    assert!(process_alive(pid(&warm)));

    emulator.shutdown().await;

    assert!(
        !process_alive(pid(&warm)),
        "the warm process outlived shutdown"
    );
}

#[test]
fn start_refuses_a_missing_executable() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let config = Config::new().function("ghost", FunctionConfig::new("/nonexistent/bootstrap"));
    let error = runtime
        .block_on(Emulator::start(config))
        .expect_err("no such executable");
    assert!(
        error.to_string().contains("/nonexistent/bootstrap"),
        "{error}"
    );
}

/// The CLI as a harness runs it: the endpoint is stdout's first line, the
/// functions answer, and SIGTERM stops it and its functions.
#[tokio::test]
async fn cli_prints_its_endpoint_serves_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let mut emulator = Command::new(env!("CARGO_BIN_EXE_lambda-emulator"))
        .args(["--listen", "127.0.0.1:0"])
        .args(["--function", &format!("fixture={FIXTURE}")])
        .args(["--env", "fixture:FIXTURE_GREETING=from the cli"])
        .args(["--timeout", "fixture=30", "--concurrency", "fixture=2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the emulator binary runs");
    let mut endpoint = String::new();
    BufReader::new(emulator.stdout.take().expect("piped stdout"))
        .read_line(&mut endpoint)
        .expect("the first line");
    let endpoint = endpoint.trim();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");

    let answer = invoke(&client(endpoint), "fixture", json!({"action": "echo"})).await;
    assert_eq!(
        answer.payload["environment"]["FIXTURE_GREETING"],
        "from the cli"
    );

    let terminated = Command::new("kill")
        .args(["-TERM", &emulator.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(terminated.success());
    let status = emulator.wait().expect("the emulator exits");
    assert!(status.success(), "{status}");
    assert!(
        !process_alive(pid(&answer)),
        "a function outlived the emulator"
    );
}

/// Whether a process with this id exists (and is not a zombie).
fn process_alive(pid: u64) -> bool {
    let stat = PathBuf::from(format!("/proc/{pid}/stat"));
    match std::fs::read_to_string(stat) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}
