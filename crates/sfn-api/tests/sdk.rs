//! The endpoint driven by AWS's own Rust client, aws-sdk-sfn, over a real
//! socket: every answer must parse into the SDK's types, and every error
//! must arrive as the SDK's typed error of the same name. Requests no SDK
//! would send (unknown action, broken JSON) go over raw HTTP.

use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sfn::types::ExecutionStatus;
use aws_sdk_sfn::Client;
use serde_json::{json, Value};
use zoomvault_engine::{Engine, EngineConfig, Handlers, Status};
use zoomvault_sfn_api::sigv4::{self, Verifier};
use zoomvault_sfn_api::{app, ApiConfig, Auth};

struct Endpoint {
    url: String,
    client: Client,
    engine: Engine,
    _dir: tempfile::TempDir,
}

async fn endpoint(handlers: Handlers) -> Endpoint {
    endpoint_with(handlers, ApiConfig::default(), ("AKIDTEST", "secret")).await
}

async fn endpoint_with(handlers: Handlers, api: ApiConfig, key: (&str, &str)) -> Endpoint {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(EngineConfig::new(dir.path().join("engine.db")), handlers).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = app(engine.clone(), api);
    tokio::spawn(async move { axum::serve(listener, router).await });
    Endpoint {
        client: client(&url, key),
        url,
        engine,
        _dir: dir,
    }
}

fn client(url: &str, (id, secret): (&str, &str)) -> Client {
    let config = aws_sdk_sfn::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(id, secret, None, None, "test"))
        .endpoint_url(url)
        .build();
    Client::from_conf(config)
}

fn handlers() -> Handlers {
    let mut h = Handlers::new();
    h.register("double", |req| async move {
        let n = req.input["n"].as_i64().unwrap_or(0);
        Ok(json!({ "n": n * 2 }))
    });
    h
}

const ROLE: &str = "arn:aws:iam::123456789012:role/test";

fn pass_chain() -> String {
    json!({
        "StartAt": "Double",
        "States": {
            "Double": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double",
                "Next": "Done"
            },
            "Done": { "Type": "Pass", "End": true }
        }
    })
    .to_string()
}

fn waiting() -> String {
    json!({ "StartAt": "Sleep", "States": { "Sleep": { "Type": "Wait", "Seconds": 3600, "End": true } } })
        .to_string()
}

async fn create(e: &Endpoint, name: &str, definition: String) -> String {
    e.client
        .create_state_machine()
        .name(name)
        .definition(definition)
        .role_arn(ROLE)
        .send()
        .await
        .unwrap()
        .state_machine_arn
}

/// A raw request, for what the SDK would never send.
async fn raw(e: &Endpoint, target: Option<&str>, body: &str) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(&e.url)
        .header("content-type", "application/x-amz-json-1.0")
        .body(body.to_string());
    if let Some(t) = target {
        req = req.header("x-amz-target", t);
    }
    let response = req.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn a_whole_cycle_through_the_sdk() {
    let e = endpoint(handlers()).await;
    let arn = create(&e, "doubler", pass_chain()).await;
    assert_eq!(
        arn,
        "arn:aws:states:us-east-1:123456789012:stateMachine:doubler"
    );

    let described = e
        .client
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(described.name, "doubler");
    assert_eq!(described.role_arn, ROLE);
    assert_eq!(described.definition, pass_chain());
    assert_eq!(
        described.r#type,
        aws_sdk_sfn::types::StateMachineType::Standard
    );

    let started = e
        .client
        .start_execution()
        .state_machine_arn(&arn)
        .name("first")
        .input(r#"{"n": 21}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        started.execution_arn,
        "arn:aws:states:us-east-1:123456789012:execution:doubler:first"
    );
    e.engine.wait_for(&started.execution_arn).await.unwrap();

    let execution = e
        .client
        .describe_execution()
        .execution_arn(&started.execution_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(execution.status, ExecutionStatus::Succeeded);
    let output: Value = serde_json::from_str(execution.output.as_deref().unwrap()).unwrap();
    assert_eq!(output, json!({ "n": 42 }));
    assert_eq!(execution.name.as_deref(), Some("first"));
    assert!(execution.stop_date.unwrap() >= execution.start_date);
    // Timestamps are real times, not epoch zero or milliseconds read as seconds.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((execution.start_date.secs() - now).abs() < 60);

    let for_execution = e
        .client
        .describe_state_machine_for_execution()
        .execution_arn(&started.execution_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(for_execution.state_machine_arn, arn);
    assert_eq!(for_execution.definition, pass_chain());

    let history = e
        .client
        .get_execution_history()
        .execution_arn(&started.execution_arn)
        .send()
        .await
        .unwrap();
    let types: Vec<String> = history
        .events
        .iter()
        .map(|ev| ev.r#type.as_str().to_string())
        .collect();
    assert_eq!(types.first().map(String::as_str), Some("ExecutionStarted"));
    assert_eq!(types.last().map(String::as_str), Some("ExecutionSucceeded"));
    assert!(
        types.iter().any(|t| t == "LambdaFunctionSucceeded"),
        "{types:?}"
    );
    let started_details = history.events[0]
        .execution_started_event_details
        .as_ref()
        .unwrap();
    assert_eq!(started_details.input.as_deref(), Some(r#"{"n":21}"#));

    let machines = e.client.list_state_machines().send().await.unwrap();
    assert_eq!(machines.state_machines.len(), 1);
    assert_eq!(machines.state_machines[0].name, "doubler");

    let listed = e
        .client
        .list_executions()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.executions.len(), 1);
    assert_eq!(listed.executions[0].status, ExecutionStatus::Succeeded);

    e.client
        .delete_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    let gone = e
        .client
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert!(gone.into_service_error().is_state_machine_does_not_exist());
    // The execution outlives its state machine, with its own definition.
    let kept = e
        .client
        .describe_state_machine_for_execution()
        .execution_arn(&started.execution_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(kept.definition, pass_chain());
}

#[tokio::test]
async fn history_pages_forward_and_backward_to_the_same_events() {
    let e = endpoint(handlers()).await;
    let arn = create(&e, "doubler", pass_chain()).await;
    let started = e
        .client
        .start_execution()
        .state_machine_arn(&arn)
        .input(r#"{"n": 1}"#)
        .send()
        .await
        .unwrap();
    e.engine.wait_for(&started.execution_arn).await.unwrap();
    let whole = e.engine.history(&started.execution_arn).unwrap();
    assert!(whole.len() > 5, "a history worth paging: {}", whole.len());

    for reverse in [false, true] {
        let mut ids = Vec::new();
        let mut token = None;
        let mut pages = 0;
        loop {
            let page = e
                .client
                .get_execution_history()
                .execution_arn(&started.execution_arn)
                .max_results(2)
                .reverse_order(reverse)
                .set_next_token(token)
                .send()
                .await
                .unwrap();
            pages += 1;
            assert!(page.events.len() <= 2);
            ids.extend(page.events.iter().map(|ev| ev.id));
            token = page.next_token;
            if token.is_none() {
                break;
            }
        }
        let mut expected: Vec<i64> = whole.iter().map(|ev| ev["id"].as_i64().unwrap()).collect();
        if reverse {
            expected.reverse();
        }
        assert_eq!(ids, expected, "reverse={reverse}");
        assert_eq!(pages, whole.len().div_ceil(2));
    }

    // includeExecutionData=false leaves the data out.
    let lean = e
        .client
        .get_execution_history()
        .execution_arn(&started.execution_arn)
        .include_execution_data(false)
        .send()
        .await
        .unwrap();
    let details = lean.events[0]
        .execution_started_event_details
        .as_ref()
        .unwrap();
    assert_eq!(details.input, None);
}

#[tokio::test]
async fn executions_list_by_status_in_pages() {
    let e = endpoint(handlers()).await;
    let arn = create(&e, "sleeper", waiting()).await;
    let mut running = Vec::new();
    for i in 0..5 {
        let s = e
            .client
            .start_execution()
            .state_machine_arn(&arn)
            .name(format!("run-{i}"))
            .send()
            .await
            .unwrap();
        running.push(s.execution_arn);
    }
    let stopped = e
        .client
        .stop_execution()
        .execution_arn(&running[1])
        .error("Operator.Stop")
        .cause("not needed")
        .send()
        .await
        .unwrap();
    assert!(stopped.stop_date.secs() > 0);
    let aborted = e
        .client
        .describe_execution()
        .execution_arn(&running[1])
        .send()
        .await
        .unwrap();
    assert_eq!(aborted.status, ExecutionStatus::Aborted);
    assert_eq!(aborted.error.as_deref(), Some("Operator.Stop"));
    assert_eq!(aborted.cause.as_deref(), Some("not needed"));

    let mut names = Vec::new();
    let mut token = None;
    loop {
        let page = e
            .client
            .list_executions()
            .state_machine_arn(&arn)
            .status_filter(ExecutionStatus::Running)
            .max_results(3)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        names.extend(page.executions.iter().map(|x| x.name.clone()));
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    // Newest first, the stopped one left out.
    assert_eq!(names, ["run-4", "run-3", "run-2", "run-0"]);
    let only_aborted = e
        .client
        .list_executions()
        .state_machine_arn(&arn)
        .status_filter(ExecutionStatus::Aborted)
        .send()
        .await
        .unwrap();
    assert_eq!(only_aborted.executions.len(), 1);
    assert_eq!(only_aborted.executions[0].name, "run-1");
}

#[tokio::test]
async fn start_execution_is_idempotent_by_name_and_input() {
    let e = endpoint(handlers()).await;
    let arn = create(&e, "sleeper", waiting()).await;
    let start = |input: &'static str| {
        e.client
            .start_execution()
            .state_machine_arn(&arn)
            .name("once")
            .input(input)
            .send()
    };
    let first = start(r#"{"a":1}"#).await.unwrap();
    let again = start(r#"{"a":1}"#).await.unwrap();
    assert_eq!(first.execution_arn, again.execution_arn);
    assert_eq!(first.start_date, again.start_date);
    let other = start(r#"{"a":2}"#).await.unwrap_err().into_service_error();
    assert!(other.is_execution_already_exists(), "{other:?}");

    // CreateStateMachine too: the same definition returns the same machine,
    // another definition under the name is a conflict.
    let same = create(&e, "sleeper", waiting()).await;
    assert_eq!(same, arn);
    let clash = e
        .client
        .create_state_machine()
        .name("sleeper")
        .definition(pass_chain())
        .role_arn(ROLE)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(clash.is_state_machine_already_exists(), "{clash:?}");
}

#[tokio::test]
async fn deep_input_runs_up_to_the_engine_s_nesting_limit_and_is_refused_past_it() {
    let e = endpoint(handlers()).await;
    let pass = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    let arn = create(&e, "deep", pass.to_string()).await;
    let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    // Deeper than serde_json reads by default (128), within the engine's 256.
    let deep = nested(200);
    let started = e
        .client
        .start_execution()
        .state_machine_arn(&arn)
        .input(&deep)
        .send()
        .await
        .unwrap();
    let row = e.engine.wait_for(&started.execution_arn).await.unwrap();
    assert_eq!(row.output.as_deref(), Some(deep.as_str()));
    let refused = e
        .client
        .start_execution()
        .state_machine_arn(&arn)
        .input(nested(300))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(refused.is_invalid_execution_input(), "{refused:?}");
}

#[tokio::test]
async fn an_input_over_256_kib_of_utf8_is_refused_with_aws_s_words() {
    let e = endpoint(handlers()).await;
    let pass = json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}});
    let arn = create(&e, "sized", pass.to_string()).await;
    let start = |input: String| json!({"stateMachineArn": arn, "input": input}).to_string();
    // 131,073 two-byte characters: under the limit in characters, over it
    // in bytes, which is what AWS counts.
    let accented = format!("\"{}\"", "é".repeat(131_073));
    let (status, body) = raw(
        &e,
        Some("AWSStepFunctions.StartExecution"),
        &start(accented),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["__type"], "ValidationException");
    assert_eq!(
        body["message"],
        "1 validation error detected: Value at 'input' failed to satisfy constraint: \
         Member must have size less than or equal to 262144 bytes in UTF-8 encoding"
    );
    // Exactly 262,144 bytes is accepted.
    let fits = format!("\"{}\"", "x".repeat(262_142));
    let (status, body) = raw(&e, Some("AWSStepFunctions.StartExecution"), &start(fits)).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn validation_reports_every_problem_with_its_location() {
    let e = endpoint(handlers()).await;
    let ok = e
        .client
        .validate_state_machine_definition()
        .definition(pass_chain())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.result.as_str(), "OK");
    assert!(ok.diagnostics.is_empty());

    let broken = json!({
        "StartAt": "Missing",
        "States": { "A": { "Type": "Pass", "Next": "Nowhere" } }
    })
    .to_string();
    let failed = e
        .client
        .validate_state_machine_definition()
        .definition(&broken)
        .send()
        .await
        .unwrap();
    assert_eq!(failed.result.as_str(), "FAIL");
    let locations: Vec<&str> = failed
        .diagnostics
        .iter()
        .filter_map(|d| d.location.as_deref())
        .collect();
    assert!(locations.contains(&"/StartAt"), "{locations:?}");
    assert!(locations.contains(&"/States/A/Next"), "{locations:?}");
    // Both are missing transition targets, AWS's code and words for them.
    let next = failed
        .diagnostics
        .iter()
        .find(|d| d.location.as_deref() == Some("/States/A/Next"))
        .unwrap();
    assert_eq!(next.code, "MISSING_TRANSITION_TARGET");
    assert_eq!(next.message, "Missing 'Next' target: Nowhere");

    let refused = e
        .client
        .create_state_machine()
        .name("broken")
        .definition(&broken)
        .role_arn(ROLE)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(refused.is_invalid_definition(), "{refused:?}");
    let message = refused.meta().message().unwrap();
    assert!(
        message.starts_with("Invalid State Machine Definition: '")
            && message.contains(
                "MISSING_TRANSITION_TARGET: Missing 'Next' target: Nowhere at /States/A/Next"
            ),
        "{message}"
    );
}

#[tokio::test]
async fn errors_are_aws_shaped() {
    let e = endpoint(handlers()).await;
    let arn = create(&e, "doubler", pass_chain()).await;

    let missing = e
        .client
        .describe_execution()
        .execution_arn("arn:aws:states:us-east-1:123456789012:execution:doubler:nope")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(missing.is_execution_does_not_exist(), "{missing:?}");

    let bad_arn = e
        .client
        .describe_execution()
        .execution_arn("not-an-arn")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(bad_arn.is_invalid_arn(), "{bad_arn:?}");

    let machine_as_execution = e
        .client
        .get_execution_history()
        .execution_arn(&arn)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        machine_as_execution.is_invalid_arn(),
        "{machine_as_execution:?}"
    );

    let bad_token = e
        .client
        .list_executions()
        .state_machine_arn(&arn)
        .next_token("bm90IGEgdG9rZW4")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(bad_token.is_invalid_token(), "{bad_token:?}");

    let bad_input = e
        .client
        .start_execution()
        .state_machine_arn(&arn)
        .input("{not json")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(bad_input.is_invalid_execution_input(), "{bad_input:?}");

    let bad_name = e
        .client
        .start_execution()
        .state_machine_arn(&arn)
        .name("has space")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(bad_name.is_invalid_name(), "{bad_name:?}");

    let no_machine = e
        .client
        .start_execution()
        .state_machine_arn("arn:aws:states:us-east-1:123456789012:stateMachine:absent")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        no_machine.is_state_machine_does_not_exist(),
        "{no_machine:?}"
    );

    // What no SDK sends, over raw HTTP.
    let (status, body) = raw(&e, Some("AWSStepFunctions.LaunchRocket"), "{}").await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "UnknownOperationException");
    let (status, body) = raw(&e, None, "{}").await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "UnknownOperationException");
    let (status, body) = raw(
        &e,
        Some("AWSStepFunctions.DescribeExecution"),
        "{\"executionArn\":",
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "SerializationException");
    let (status, body) = raw(
        &e,
        Some("AWSStepFunctions.DescribeExecution"),
        r#"{"executionArn": 7}"#,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "SerializationException");
    let (status, body) = raw(&e, Some("AWSStepFunctions.DescribeExecution"), "{}").await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "ValidationException");
    assert!(
        body["message"].as_str().unwrap().contains("'executionArn'"),
        "{body}"
    );
    let (status, body) = raw(
        &e,
        Some("AWSStepFunctions.ListExecutions"),
        &json!({ "stateMachineArn": arn, "maxResults": 5000 }).to_string(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "ValidationException");
    // A body past the limit is refused in AWS's shape, not as plain text.
    let huge = json!({ "stateMachineArn": arn, "input": "x".repeat(3 << 20) }).to_string();
    let (status, body) = raw(&e, Some("AWSStepFunctions.StartExecution"), &huge).await;
    assert_eq!(status, 413);
    assert_eq!(body["__type"], "ValidationException");
    assert!(e
        .engine
        .list_executions(None, None, None, 10)
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn update_changes_what_new_executions_run() {
    let e = endpoint(handlers()).await;
    let arn = create(&e, "m", waiting()).await;
    let updated = e
        .client
        .update_state_machine()
        .state_machine_arn(&arn)
        .definition(pass_chain())
        .send()
        .await
        .unwrap();
    assert_eq!(updated.revision_id.as_deref(), Some("2"));
    let s = e
        .client
        .start_execution()
        .state_machine_arn(&arn)
        .input(r#"{"n": 5}"#)
        .send()
        .await
        .unwrap();
    let row = e.engine.wait_for(&s.execution_arn).await.unwrap();
    assert_eq!(row.status, Status::Succeeded);
    let nothing = e
        .client
        .update_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(nothing.is_missing_required_parameter(), "{nothing:?}");
}

fn callback_machine() -> String {
    json!({
        "StartAt": "AskWorker",
        "States": {
            "AskWorker": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {
                    "FunctionName": "external-worker",
                    "Payload": { "token.$": "$$.Task.Token", "job.$": "$.job" }
                },
                "HeartbeatSeconds": 600,
                "End": true
            }
        }
    })
    .to_string()
}

/// The token a callback task published, read the way an external worker
/// with no handler of ours reads it: from TaskScheduled's parameters.
async fn published_token(e: &Endpoint, execution_arn: &str) -> String {
    for _ in 0..200 {
        let history = e
            .client
            .get_execution_history()
            .execution_arn(execution_arn)
            .send()
            .await
            .unwrap();
        let scheduled = history
            .events
            .iter()
            .find_map(|ev| ev.task_scheduled_event_details.as_ref());
        if let Some(details) = scheduled {
            let parameters: Value = serde_json::from_str(&details.parameters).unwrap();
            return parameters["Payload"]["token"].as_str().unwrap().to_string();
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("no TaskScheduled event in {execution_arn}");
}

#[tokio::test]
async fn callback_tasks_finish_by_their_token() {
    let e = endpoint(Handlers::new()).await;
    let arn = create(&e, "callback", callback_machine()).await;
    let start = |name: &'static str| {
        e.client
            .start_execution()
            .state_machine_arn(&arn)
            .name(name)
            .input(r#"{"job": 7}"#)
            .send()
    };

    let ok = start("ok").await.unwrap().execution_arn;
    let token = published_token(&e, &ok).await;
    e.client
        .send_task_heartbeat()
        .task_token(&token)
        .send()
        .await
        .unwrap();
    e.client
        .send_task_success()
        .task_token(&token)
        .output(r#"{"done": true}"#)
        .send()
        .await
        .unwrap();
    let row = e.engine.wait_for(&ok).await.unwrap();
    assert_eq!(row.status, Status::Succeeded);
    assert_eq!(
        serde_json::from_str::<Value>(row.output.as_deref().unwrap()).unwrap(),
        json!({ "done": true })
    );
    // The task is over: its token answers TaskTimedOut, as AWS's does.
    let late = e
        .client
        .send_task_success()
        .task_token(&token)
        .output("{}")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(late.is_task_timed_out(), "{late:?}");

    let failing = start("failing").await.unwrap().execution_arn;
    let token = published_token(&e, &failing).await;
    e.client
        .send_task_failure()
        .task_token(&token)
        .error("Worker.Refused")
        .cause("disk full")
        .send()
        .await
        .unwrap();
    let row = e.engine.wait_for(&failing).await.unwrap();
    assert_eq!(row.status, Status::Failed);
    assert_eq!(row.error.as_deref(), Some("Worker.Refused"));
    assert_eq!(row.cause.as_deref(), Some("disk full"));

    let forged = e
        .client
        .send_task_success()
        .task_token("Zm9yZ2VkI3Rva2Vu")
        .output("{}")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(forged.is_invalid_token(), "{forged:?}");

    let waiting = start("waiting").await.unwrap().execution_arn;
    let token = published_token(&e, &waiting).await;
    let not_json = e
        .client
        .send_task_success()
        .task_token(&token)
        .output("{not json")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(not_json.is_invalid_output(), "{not_json:?}");
    assert_eq!(
        e.engine.describe_execution(&waiting).unwrap().status,
        Status::Running,
        "a refused answer changes nothing"
    );
}

#[tokio::test]
async fn express_machines_run_synchronously_and_standard_ones_refuse() {
    let e = endpoint(handlers()).await;
    let express = e
        .client
        .create_state_machine()
        .name("quick")
        .definition(pass_chain())
        .role_arn(ROLE)
        .r#type(aws_sdk_sfn::types::StateMachineType::Express)
        .send()
        .await
        .unwrap()
        .state_machine_arn;
    let described = e
        .client
        .describe_state_machine()
        .state_machine_arn(&express)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.r#type,
        aws_sdk_sfn::types::StateMachineType::Express
    );
    // AWS's SDKs send StartSyncExecution to the host `sync-<endpoint>`
    // (a "sync-" host prefix), which no local name resolves; boto3 and the
    // CLI can turn the prefix off, aws-sdk-sfn cannot. The call itself is
    // plain JSON 1.0, made here directly.
    let (status, done) = raw(
        &e,
        Some("AWSStepFunctions.StartSyncExecution"),
        &json!({ "stateMachineArn": express, "input": r#"{"n": 4}"# }).to_string(),
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["status"], "SUCCEEDED");
    assert_eq!(
        serde_json::from_str::<Value>(done["output"].as_str().unwrap()).unwrap(),
        json!({ "n": 8 })
    );
    assert!(done["stopDate"].as_f64() >= done["startDate"].as_f64());

    let unlisted = e
        .client
        .list_executions()
        .state_machine_arn(&express)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        unlisted.is_state_machine_type_not_supported(),
        "{unlisted:?}"
    );

    let standard = create(&e, "slow", pass_chain()).await;
    let (status, refused) = raw(
        &e,
        Some("AWSStepFunctions.StartSyncExecution"),
        &json!({ "stateMachineArn": standard }).to_string(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(refused["__type"], "StateMachineTypeNotSupported");
}

#[tokio::test]
async fn tags_are_kept_changed_and_listed() {
    use aws_sdk_sfn::types::Tag;
    let e = endpoint(handlers()).await;
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build();
    let arn = e
        .client
        .create_state_machine()
        .name("tagged")
        .definition(pass_chain())
        .role_arn(ROLE)
        .tags(tag("team", "archive"))
        .send()
        .await
        .unwrap()
        .state_machine_arn;
    e.client
        .tag_resource()
        .resource_arn(&arn)
        .tags(tag("env", "test"))
        .tags(tag("team", "media"))
        .send()
        .await
        .unwrap();
    let listed = e
        .client
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    let mut pairs: Vec<(String, String)> = listed
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
        .collect();
    pairs.sort();
    assert_eq!(
        pairs,
        [
            ("env".into(), "test".into()),
            ("team".into(), "media".into())
        ]
    );
    e.client
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    let listed = e
        .client
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.tags().len(), 1);

    let absent = e
        .client
        .list_tags_for_resource()
        .resource_arn("arn:aws:states:us-east-1:123456789012:stateMachine:absent")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(absent.is_resource_not_found(), "{absent:?}");
    let too_many = (0..51).fold(e.client.tag_resource().resource_arn(&arn), |req, i| {
        req.tags(tag(&format!("k{i}"), "v"))
    });
    let refused = too_many.send().await.unwrap_err().into_service_error();
    assert!(refused.is_too_many_tags(), "{refused:?}");
}

#[tokio::test]
async fn a_failed_execution_is_redriven_to_success() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let calls = Arc::new(AtomicUsize::new(0));
    let mut h = Handlers::new();
    let seen = calls.clone();
    h.register("flaky", move |_req| {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        async move {
            if n == 0 {
                Err(zoomvault_asl::Failure::new(
                    "Flaky.Down",
                    "first call fails",
                ))
            } else {
                Ok(json!({ "ok": true }))
            }
        }
    });
    let e = endpoint(h).await;
    let definition = json!({
        "StartAt": "First",
        "States": {
            "First": { "Type": "Pass", "Next": "Flaky" },
            "Flaky": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:flaky",
                "End": true
            }
        }
    })
    .to_string();
    let arn = create(&e, "flaky", definition).await;
    let run = e
        .client
        .start_execution()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap()
        .execution_arn;
    e.engine.wait_for(&run).await.unwrap();
    let failed = e
        .client
        .describe_execution()
        .execution_arn(&run)
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status, ExecutionStatus::Failed);
    assert_eq!(failed.redrive_count, Some(0));
    assert_eq!(
        failed.redrive_status,
        Some(aws_sdk_sfn::types::ExecutionRedriveStatus::Redrivable)
    );

    let redriven = e
        .client
        .redrive_execution()
        .execution_arn(&run)
        .client_token("retry-safe")
        .send()
        .await
        .unwrap();
    e.engine.wait_for(&run).await.unwrap();
    // A retry of the same request (same token) gets the same answer.
    let retried = e
        .client
        .redrive_execution()
        .execution_arn(&run)
        .client_token("retry-safe")
        .send()
        .await
        .unwrap();
    assert_eq!(retried.redrive_date, redriven.redrive_date);

    let done = e
        .client
        .describe_execution()
        .execution_arn(&run)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status, ExecutionStatus::Succeeded);
    assert_eq!(done.redrive_count, Some(1));
    assert_eq!(done.redrive_date, Some(redriven.redrive_date));
    assert_eq!(
        done.redrive_status,
        Some(aws_sdk_sfn::types::ExecutionRedriveStatus::NotRedrivable)
    );
    assert!(done.redrive_status_reason.is_some());
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "the task ran once per drive"
    );
    let history = e.engine.history(&run).unwrap();
    assert!(history.iter().any(|ev| ev["type"] == "ExecutionRedriven"));
    let listed = e
        .client
        .list_executions()
        .state_machine_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.executions[0].redrive_count, Some(1));

    let again = e
        .client
        .redrive_execution()
        .execution_arn(&run)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(again.is_execution_not_redrivable(), "{again:?}");
}

#[tokio::test]
async fn a_signed_endpoint_takes_only_its_keys() {
    let verifier = Verifier::new(vec![sigv4::Credentials::new("AKIDGOOD", "good-secret")]);
    let api = ApiConfig {
        auth: Auth::Signed(std::sync::Arc::new(verifier)),
    };
    let e = endpoint_with(handlers(), api, ("AKIDGOOD", "good-secret")).await;
    let arn = create(&e, "guarded", pass_chain()).await;
    assert!(arn.ends_with(":guarded"));

    let code = |c: Client| async move {
        let err = c.list_state_machines().send().await.unwrap_err();
        err.into_service_error().meta().code().map(str::to_string)
    };
    assert_eq!(
        code(client(&e.url, ("AKIDGOOD", "wrong-secret")))
            .await
            .as_deref(),
        Some("InvalidSignatureException")
    );
    assert_eq!(
        code(client(&e.url, ("AKIDOTHER", "good-secret")))
            .await
            .as_deref(),
        Some("UnrecognizedClientException")
    );
    // Unsigned: the console's kind of request, refused here.
    let (status, body) = raw(&e, Some("AWSStepFunctions.ListStateMachines"), "{}").await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "MissingAuthenticationTokenException");
    // Nothing was done by the refused calls.
    assert_eq!(e.engine.state_machines().unwrap().len(), 1);
}

#[tokio::test]
async fn an_open_endpoint_takes_any_key_but_not_a_broken_signature() {
    let e = endpoint(handlers()).await;
    let other = client(&e.url, ("AKIDANYONE", "whatever"));
    other.list_state_machines().send().await.unwrap();
    let response = reqwest::Client::new()
        .post(&e.url)
        .header("x-amz-target", "AWSStepFunctions.ListStateMachines")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20261123/us-east-1/states",
        )
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["__type"], "IncompleteSignatureException");
}
