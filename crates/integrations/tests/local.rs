//! The integrations run by a real engine (a SQLite journal in a temporary
//! directory) on the real local adapters: the archive's event queue
//! (`LocalEventSink`) and directory object store (`DirObjectStore`), and
//! nested executions on the same engine. Each test runs a state machine to
//! its end and checks its output (or the error a Catch caught), the
//! effect on the adapter, and the history. DynamoDB is tested against
//! moto in `dynamodb.rs`.

use std::sync::Arc;

use serde_json::{json, Value};
use zoomvault_archive::local::{DirObjectStore, LocalEventSink};
use zoomvault_archive::ports::events::{ArchiveEvent, RebuildReason};
use zoomvault_archive::ports::ObjectStore;
use zoomvault_engine::{Engine, EngineConfig, Handlers, Status, TaskRequest};
use zoomvault_integrations::events::EventTarget;
use zoomvault_integrations::s3::Buckets;
use zoomvault_integrations::states::{self, NestedExecutions, Pattern};
use zoomvault_integrations::{register, Services};

const BUCKET: &str = "archive-bucket";

struct Harness {
    engine: Engine,
    events: Arc<LocalEventSink>,
    store: Arc<DirObjectStore>,
    _dir: tempfile::TempDir,
}

fn harness() -> Harness {
    harness_with_task_places(EngineConfig::new("unused").max_concurrent_tasks)
}

/// A harness whose engine runs at most `places` tasks at once.
fn harness_with_task_places(places: usize) -> Harness {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let events = Arc::new(LocalEventSink::open(dir.path().join("events.db")).expect("queue"));
    let store = Arc::new(DirObjectStore::open(dir.path().join("store")).expect("store"));
    let executions = NestedExecutions::new();
    let shared: Arc<dyn ObjectStore> = store.clone();
    let services = Services {
        events: EventTarget::Local(events.clone()),
        dynamodb: zoomvault_integrations::dynamodb::TableTarget::None,
        buckets: Buckets::new([(BUCKET.to_owned(), shared)]),
        executions: executions.clone(),
    };
    let mut handlers = Handlers::new();
    register(&mut handlers, &services);
    let mut config = EngineConfig::new(dir.path().join("engine.db"));
    config.max_concurrent_tasks = places;
    let engine = Engine::open(config, handlers).expect("engine");
    executions.attach(&engine);
    Harness {
        engine,
        events,
        store,
        _dir: dir,
    }
}

/// What one execution ended with.
#[derive(Debug)]
struct Ran {
    status: Status,
    output: Value,
    error: Option<String>,
    cause: Option<String>,
    history: Vec<Value>,
}

impl Harness {
    fn machine(&self, name: &str, definition: Value) -> String {
        self.engine
            .create_state_machine(name, &definition.to_string(), None)
            .expect("a valid definition")
            .arn
    }

    async fn run(&self, machine: &str, input: Value) -> Ran {
        let started = self
            .engine
            .start_execution(machine, None, input)
            .await
            .expect("started");
        let row = self
            .engine
            .wait_for(&started.execution_arn)
            .await
            .expect("ends");
        let history = self
            .engine
            .history(&started.execution_arn)
            .expect("history");
        assert_eq!(
            self.engine
                .replay_history(&started.execution_arn)
                .expect("replays"),
            history,
            "the journal replays to the stored history"
        );
        Ran {
            status: row.status,
            output: row
                .output
                .map(|o| serde_json::from_str(&o).expect("JSON output"))
                .unwrap_or(Value::Null),
            error: row.error,
            cause: row.cause,
            history,
        }
    }
}

/// One Task state with `parameters` on `resource`, whose failures a
/// Catch turns into the output `{"Error": ..., "Cause": ...}`.
fn task(resource: &str, parameters: Value) -> Value {
    json!({
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task", "Resource": resource, "Parameters": parameters, "End": true,
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]
            },
            "Caught": {"Type": "Pass", "End": true}
        }
    })
}

fn event_ids(output: &Value) -> usize {
    output["Entries"]
        .as_array()
        .expect("Entries")
        .iter()
        .filter(|e| e["EventId"].as_str().is_some_and(|id| !id.is_empty()))
        .count()
}

// https://docs.aws.amazon.com/step-functions/latest/dg/connect-eventbridge.html
#[tokio::test]
async fn put_events_emits_the_archives_own_events_and_accepts_others() {
    let h = harness();
    let machine = h.machine(
        "put-events",
        task(
            zoomvault_integrations::events::PUT_EVENTS,
            json!({"Entries": [
                {"Source": "zoomvault", "DetailType": "SiteRebuildRequested",
                 "Detail": {"reason": "requested"}},
                {"Source": "my.source", "DetailType": "MyDetailType",
                 "Detail": {"Message.$": "$.message"}, "EventBusName": "MyEventBus"}
            ]}),
        ),
    );
    let ran = h.run(&machine, json!({"message": "hello"})).await;
    assert_eq!(ran.status, Status::Succeeded, "{ran:?}");
    assert_eq!(ran.output["FailedEntryCount"], json!(0));
    assert_eq!(event_ids(&ran.output), 2, "{}", ran.output);
    let queued: Vec<ArchiveEvent> = h
        .events
        .pending(10)
        .await
        .expect("queue")
        .into_iter()
        .map(|q| q.event)
        .collect();
    assert_eq!(
        queued,
        [ArchiveEvent::SiteRebuildRequested {
            reason: RebuildReason::Requested,
            recording_uuid: None
        }],
        "only the archive's own event reaches its queue"
    );
    let scheduled = ran
        .history
        .iter()
        .find(|e| e["type"] == "TaskScheduled")
        .expect("a task was scheduled");
    assert_eq!(
        scheduled["taskScheduledEventDetails"]["resourceType"],
        json!("events")
    );
    assert_eq!(
        scheduled["taskScheduledEventDetails"]["resource"],
        json!("putEvents")
    );
}

// https://docs.aws.amazon.com/step-functions/latest/dg/connect-eventbridge.html:
// "If the response from PutEvents contains a non-zero FailedEntryCount then
// the Task state fails with the error EventBridge.FailedEntry."
#[tokio::test]
async fn a_refused_entry_fails_the_task_with_failed_entry_and_nothing_is_half_sent() {
    let h = harness();
    let cases = [
        // An archive event whose detail is not that event's.
        json!({"Source": "zoomvault", "DetailType": "SiteRebuildRequested", "Detail": {"reason": "bogus"}}),
        // Detail that is not a JSON object.
        json!({"Source": "my.source", "DetailType": "T", "Detail": "[1, 2]"}),
        // No DetailType.
        json!({"Source": "my.source", "Detail": {}}),
    ];
    for (i, entry) in cases.into_iter().enumerate() {
        let machine = h.machine(
            &format!("refused-{i}"),
            task(
                zoomvault_integrations::events::PUT_EVENTS,
                json!({ "Entries": [entry.clone()] }),
            ),
        );
        let ran = h.run(&machine, json!({})).await;
        assert_eq!(ran.status, Status::Succeeded, "caught: {ran:?}");
        assert_eq!(
            ran.output["Error"],
            json!("EventBridge.FailedEntry"),
            "{entry}"
        );
        let cause: Value = serde_json::from_str(ran.output["Cause"].as_str().expect("cause"))
            .expect("the cause is PutEvents' answer");
        assert_eq!(cause["FailedEntryCount"], json!(1), "{entry}");
        assert!(cause["Entries"][0]["ErrorCode"].is_string(), "{cause}");
    }
    assert!(h.events.pending(10).await.expect("queue").is_empty());
}

// https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html
#[tokio::test]
async fn s3_put_object_then_get_object_go_through_the_archive_store() {
    let h = harness();
    let machine = h.machine(
        "s3-round-trip",
        json!({
            "StartAt": "Put",
            "States": {
                "Put": {
                    "Type": "Task", "Resource": zoomvault_integrations::s3::PUT_OBJECT,
                    "Parameters": {"Bucket": BUCKET, "Key": "notes/hello.txt", "Body.$": "$.text",
                                   "ContentType": "text/plain"},
                    "ResultPath": "$.put", "Next": "Get"
                },
                "Get": {
                    "Type": "Task", "Resource": zoomvault_integrations::s3::GET_OBJECT,
                    "Parameters": {"Bucket": BUCKET, "Key": "notes/hello.txt"},
                    "ResultPath": "$.get", "End": true
                }
            }
        }),
    );
    let ran = h.run(&machine, json!({"text": "héllo"})).await;
    assert_eq!(ran.status, Status::Succeeded, "{ran:?}");
    // S3's ETag of a single PUT is the body's MD5 in quotes.
    assert_eq!(
        ran.output["put"],
        json!({"ETag": "\"be50e8478cf24ff3595bc7307fb91b50\""})
    );
    assert_eq!(
        ran.output["get"],
        json!({"Body": "héllo", "ContentLength": 6})
    );
    let stored = h.store.get("notes/hello.txt").await.expect("stored");
    assert_eq!(&stored[..], "héllo".as_bytes());
}

#[tokio::test]
async fn s3_errors_are_named_as_the_sdk_integration_names_them() {
    let h = harness();
    for (i, (resource, parameters, error)) in [
        (
            zoomvault_integrations::s3::GET_OBJECT,
            json!({"Bucket": BUCKET, "Key": "absent/key"}),
            "S3.NoSuchKeyException",
        ),
        (
            zoomvault_integrations::s3::GET_OBJECT,
            json!({"Bucket": "another-bucket", "Key": "a"}),
            "S3.NoSuchBucketException",
        ),
        (
            zoomvault_integrations::s3::PUT_OBJECT,
            json!({"Bucket": BUCKET, "Key": "../escape", "Body": "x"}),
            "S3.InvalidArgumentException",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let machine = h.machine(&format!("s3-error-{i}"), task(resource, parameters.clone()));
        let ran = h.run(&machine, json!({})).await;
        assert_eq!(ran.output["Error"], json!(error), "{parameters}: {ran:?}");
    }
}

fn child_definition() -> Value {
    json!({
        "StartAt": "Choose",
        "States": {
            "Choose": {"Type": "Choice",
                       "Choices": [{"Variable": "$.fail", "IsPresent": true, "Next": "Fail"}],
                       "Default": "Done"},
            "Done": {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"}, "End": true},
            "Fail": {"Type": "Fail", "Error": "Child.Failed", "Cause": "asked to fail"}
        }
    })
}

// https://docs.aws.amazon.com/step-functions/latest/dg/connect-stepfunctions.html
#[tokio::test]
async fn start_execution_sync2_returns_the_childs_output_as_json_and_sync_as_text() {
    let h = harness();
    let child = h.machine("child", child_definition());
    for (pattern, resource) in [
        ("sync2", states::START_EXECUTION_SYNC2),
        ("sync", states::START_EXECUTION_SYNC),
        ("start", states::START_EXECUTION),
    ] {
        let parent = h.machine(
            &format!("parent-{pattern}"),
            task(
                resource,
                json!({"StateMachineArn": child, "Input": {"n.$": "$.n"}}),
            ),
        );
        let ran = h.run(&parent, json!({"n": 21})).await;
        assert_eq!(ran.status, Status::Succeeded, "{pattern}: {ran:?}");
        let out = &ran.output;
        assert!(
            out["ExecutionArn"]
                .as_str()
                .is_some_and(|a| a.contains(":execution:child:")),
            "{out}"
        );
        assert!(out["StartDate"].is_i64(), "{pattern}: {out}");
        match pattern {
            "sync2" => {
                assert_eq!(out["Output"], json!({"doubled": 42}));
                assert_eq!(out["Input"], json!({"n": 21}));
                assert_eq!(out["Status"], json!("SUCCEEDED"));
                assert_eq!(out["StateMachineArn"], json!(child));
            }
            "sync" => {
                assert_eq!(out["Output"], json!("{\"doubled\":42}"));
                assert_eq!(out["Input"], json!("{\"n\":21}"));
                assert_eq!(out["OutputDetails"], json!({"Included": true}));
            }
            _ => assert_eq!(
                out.as_object()
                    .map(|o| o.keys().cloned().collect::<Vec<_>>()),
                Some(vec!["ExecutionArn".to_owned(), "StartDate".to_owned()])
            ),
        }
    }
}

// https://docs.aws.amazon.com/step-functions/latest/dg/connect-stepfunctions.html:
// a child that fails fails the task with States.TaskFailed, its
// DescribeExecution answer as the cause.
#[tokio::test]
async fn a_failed_child_fails_the_task_with_task_failed() {
    let h = harness();
    let child = h.machine("failing-child", child_definition());
    let parent = h.machine(
        "parent-of-failure",
        json!({
            "StartAt": "Call",
            "States": {"Call": {"Type": "Task", "Resource": states::START_EXECUTION_SYNC2,
                                "Parameters": {"StateMachineArn": child, "Input": {"fail": true}},
                                "End": true}}
        }),
    );
    let ran = h.run(&parent, json!({})).await;
    assert_eq!(ran.status, Status::Failed);
    assert_eq!(ran.error.as_deref(), Some("States.TaskFailed"));
    let cause: Value = serde_json::from_str(ran.cause.as_deref().unwrap_or_default())
        .expect("the cause is the child's description");
    assert_eq!(cause["Status"], json!("FAILED"));
    assert_eq!(cause["Error"], json!("Child.Failed"));
    assert_eq!(cause["Cause"], json!("asked to fail"));
    let missing = h.machine(
        "parent-of-nothing",
        task(
            states::START_EXECUTION_SYNC,
            json!({"StateMachineArn": "arn:aws:states:us-east-1:000000000000:stateMachine:absent"}),
        ),
    );
    let ran = h.run(&missing, json!({})).await;
    assert_eq!(
        ran.output["Error"],
        json!("StepFunctions.StateMachineDoesNotExistException"),
        "{ran:?}"
    );
}

/// A task is dispatched at least once: dispatching the same task again
/// (same token, as after a crash) must not start a second child, whether
/// the first child is still running or has ended.
#[tokio::test]
async fn a_repeated_dispatch_of_one_task_starts_one_child() {
    let h = harness();
    let child = h.machine("idempotent-child", child_definition());
    let request = TaskRequest {
        input: json!({"StateMachineArn": child, "Input": {"n": 1}}),
        execution_arn: "arn:aws:states:us-east-1:123456789012:execution:parent:run".into(),
        task_token: "a-token-of-one-task".into(),
    };
    let first =
        states::start_execution(&h.engine, states::START_EXECUTION, Pattern::Start, &request)
            .await
            .expect("started");
    let again = states::start_execution(
        &h.engine,
        states::START_EXECUTION_SYNC2,
        Pattern::Sync2,
        &request,
    )
    .await
    .expect("the same child, waited for");
    let ended = states::start_execution(
        &h.engine,
        states::START_EXECUTION_SYNC2,
        Pattern::Sync2,
        &request,
    )
    .await
    .expect("the same child, already ended");
    assert_eq!(first["ExecutionArn"], again["ExecutionArn"]);
    assert_eq!(again, ended);
    assert_eq!(ended["Output"], json!({"doubled": 2}));
    let children = h
        .engine
        .list_executions(Some(&child), None, None, 100)
        .expect("listing");
    assert_eq!(children.len(), 1, "one child");
    // Another task (another token) gets a child of its own.
    let other = TaskRequest {
        task_token: "another-task".into(),
        ..request
    };
    let second =
        states::start_execution(&h.engine, states::START_EXECUTION, Pattern::Start, &other)
            .await
            .expect("started");
    assert_ne!(second["ExecutionArn"], first["ExecutionArn"]);
}

#[tokio::test]
async fn dynamodb_without_an_endpoint_fails_with_how_to_configure_one() {
    let h = harness();
    let machine = h.machine(
        "dynamodb-unconfigured",
        json!({"StartAt": "Get", "States": {"Get": {
            "Type": "Task", "Resource": zoomvault_integrations::dynamodb::GET_ITEM,
            "Parameters": {"TableName": "t", "Key": {"id": {"S": "1"}}}, "End": true}}}),
    );
    let ran = h.run(&machine, json!({})).await;
    assert_eq!(ran.status, Status::Failed);
    assert_eq!(ran.error.as_deref(), Some("States.Runtime"));
    assert!(
        ran.cause
            .as_deref()
            .unwrap_or_default()
            .contains("ZOOMVAULT_DYNAMODB_ENDPOINT"),
        "{ran:?}"
    );
}

/// The durability the `states` module promises, across a real restart:
/// the parent's `.sync:2` task is in flight (its child waits for a task
/// token) when the engine shuts down; reopened, the engine dispatches the
/// task again, which must wait for the same child rather than start
/// another, and the parent ends with that child's output.
#[tokio::test]
async fn after_a_restart_the_redispatched_task_waits_for_the_same_child() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let open = || {
        let executions = NestedExecutions::new();
        let mut handlers = Handlers::new();
        states::register(&mut handlers, executions.clone());
        let engine = Engine::open(EngineConfig::new(dir.path().join("engine.db")), handlers)
            .expect("engine");
        executions.attach(&engine);
        engine
    };
    let engine = open();
    // No handler is registered for the child's callback task, so it is
    // submitted to the outside and waits for SendTaskSuccess.
    let child = engine
        .create_state_machine(
            "waiting-child",
            &json!({"StartAt": "Wait", "States": {"Wait": {
                "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "outside", "Payload": {"token.$": "$$.Task.Token"}},
                "End": true}}})
            .to_string(),
            None,
        )
        .expect("valid")
        .arn;
    let parent = engine
        .create_state_machine(
            "restarted-parent",
            &json!({"StartAt": "Call", "States": {"Call": {
                "Type": "Task", "Resource": states::START_EXECUTION_SYNC2,
                "Parameters": {"StateMachineArn": child, "Input": {"n": 1}}, "End": true}}})
            .to_string(),
            None,
        )
        .expect("valid")
        .arn;
    let started = engine
        .start_execution(&parent, Some("p1"), json!({}))
        .await
        .expect("started");
    let child_arn = wait_for_child_waiting(&engine, &child).await;
    engine.shutdown();
    drop(engine);

    let engine = open();
    let token = {
        let history = engine.history(&child_arn).expect("history");
        let scheduled = history
            .iter()
            .find(|e| e["type"] == "TaskScheduled")
            .expect("the child's task was scheduled");
        let parameters: Value = serde_json::from_str(
            scheduled["taskScheduledEventDetails"]["parameters"]
                .as_str()
                .expect("parameters"),
        )
        .expect("JSON parameters");
        parameters["Payload"]["token"]
            .as_str()
            .expect("the token")
            .to_owned()
    };
    engine
        .send_task_success(&token, json!({"done": true}))
        .await
        .expect("the child's task succeeds");
    // A guard, not a timing assertion: a parent waiting on a second
    // child would wait forever, and the test must fail instead.
    let row = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        engine.wait_for(&started.execution_arn),
    )
    .await
    .expect("the parent ends with the child it started before the restart")
    .expect("ends");
    assert_eq!(row.status, Status::Succeeded, "{row:?}");
    let output: Value =
        serde_json::from_str(row.output.as_deref().unwrap_or("null")).expect("JSON");
    assert_eq!(output["ExecutionArn"], json!(child_arn));
    assert_eq!(output["Output"], json!({"done": true}));
    let children = engine
        .list_executions(Some(&child), None, None, 100)
        .expect("listing");
    assert_eq!(
        children.len(),
        1,
        "the re-dispatched task started no second child"
    );
    engine.shutdown();
}

/// Polls until the one execution of `child` has submitted its callback
/// task: the child's start is journaled by the parent's handler, which no
/// API call of the parent waits for.
async fn wait_for_child_waiting(engine: &Engine, child: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let running = engine
            .list_executions(Some(child), None, None, 10)
            .expect("listing");
        if let Some(row) = running.first() {
            let history = engine.history(&row.arn).expect("history");
            if history.iter().any(|e| e["type"] == "TaskSubmitted") {
                return row.arn.clone();
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the child never waited for its token"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// Parents waiting on `.sync:2` children hold none of the engine's task
/// places: with one place and three parents waiting at once, each child's
/// own task (an S3 put) still runs, and every parent ends.
#[tokio::test]
async fn waiting_parents_do_not_starve_their_childrens_tasks() {
    let h = harness_with_task_places(1);
    let child = h.machine(
        "worker",
        task(
            "arn:aws:states:::aws-sdk:s3:putObject",
            json!({"Bucket": BUCKET, "Key.$": "$.key", "Body": "x"}),
        ),
    );
    let parent = h.machine(
        "waiting-parent",
        task(
            states::START_EXECUTION_SYNC2,
            json!({"StateMachineArn": child, "Input": {"key.$": "$.key"}}),
        ),
    );
    let (a, b, c) = tokio::join!(
        h.run(&parent, json!({"key": "k0"})),
        h.run(&parent, json!({"key": "k1"})),
        h.run(&parent, json!({"key": "k2"})),
    );
    for ran in [a, b, c] {
        assert_eq!(ran.status, Status::Succeeded, "{ran:?}");
    }
    for i in 0..3 {
        assert!(h.store.get(&format!("k{i}")).await.is_ok(), "k{i} written");
    }
}
