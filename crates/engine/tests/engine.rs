//! The engine end to end through its public API: executions journaled in a
//! real SQLite file, tasks on real handlers, virtual time for waits and
//! retries. Every scenario also replays its journal and must rebuild the
//! exact stored history.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use zoomvault_asl::Failure;
use zoomvault_engine::{
    Clock, Engine, EngineConfig, Error, Handlers, MachineType, NewStateMachine, RedriveStatus,
};

struct Outcome {
    status: String,
    output: Option<Value>,
    error: Option<String>,
    cause: Option<String>,
    types: Vec<String>,
}

fn temp_db(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "zoomvault-engine-test-{}-{tag}-{}",
        std::process::id(),
        uuid_like()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("engine.db")
}

fn uuid_like() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

async fn run(definition: Value, input: Value, handlers: Handlers) -> Outcome {
    let mut config = EngineConfig::new(temp_db("run"));
    config.clock = Clock::virtual_at(1_700_000_000_000);
    let engine = Engine::open(config, handlers).unwrap();
    let sm = engine
        .create_state_machine("test", &definition.to_string(), None)
        .unwrap();
    let started = engine
        .start_execution(&sm.arn, Some("e1"), input)
        .await
        .unwrap();
    let row = engine.wait_for(&started.execution_arn).await.unwrap();
    let history = engine.history(&started.execution_arn).unwrap();
    assert_eq!(
        engine.replay_history(&started.execution_arn).unwrap(),
        history,
        "replaying the journal must rebuild the stored history"
    );
    Outcome {
        status: row.status,
        output: row.output.map(|o| serde_json::from_str(&o).unwrap()),
        error: row.error,
        cause: row.cause,
        types: history
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_string())
            .collect(),
    }
}

fn echo() -> Handlers {
    let mut h = Handlers::new();
    h.register("echo", |req| async move { Ok(req.input) });
    h
}

#[tokio::test]
async fn pass_chain_succeeds_with_history() {
    let out = run(
        json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.a", "Next": "B"},
            "B": {"Type": "Pass", "End": true}
        }}),
        json!({"in": true}),
        Handlers::new(),
    )
    .await;
    assert_eq!(out.status, "SUCCEEDED");
    assert_eq!(out.output, Some(json!({"in": true, "a": {"x": 1}})));
    assert_eq!(
        out.types,
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[tokio::test]
async fn lambda_invoke_wraps_payload_and_result() {
    let out = run(
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                  "Parameters": {"FunctionName": "echo", "Payload": {"v.$": "$.v"}},
                  "ResultSelector": {"got.$": "$.Payload.v", "code.$": "$.StatusCode"}, "End": true}
        }}),
        json!({"v": 7}),
        echo(),
    )
    .await;
    assert_eq!(out.output, Some(json!({"got": 7, "code": 200})));
    assert_eq!(
        out.types,
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[tokio::test]
async fn retries_then_catches_with_error_output() {
    let calls = Arc::new(AtomicUsize::new(0));
    let mut h = Handlers::new();
    let c = Arc::clone(&calls);
    h.register("boom", move |_| {
        c.fetch_add(1, Ordering::SeqCst);
        async { Err(Failure::new("Custom.Boom", "it broke")) }
    });
    let out = run(
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:boom",
                  "Retry": [{"ErrorEquals": ["Custom.Boom"], "IntervalSeconds": 30, "MaxAttempts": 2}],
                  "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Caught"}],
                  "End": true},
            "Caught": {"Type": "Pass", "End": true}
        }}),
        json!({"keep": 1}),
        h,
    )
    .await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "one attempt and two retries"
    );
    assert_eq!(out.status, "SUCCEEDED");
    assert_eq!(
        out.output,
        Some(json!({"keep": 1, "err": {"Error": "Custom.Boom", "Cause": "it broke"}}))
    );
    assert_eq!(
        out.types
            .iter()
            .filter(|t| *t == "LambdaFunctionFailed")
            .count(),
        3
    );
}

#[tokio::test]
async fn map_runs_every_item_in_order() {
    let out = run(
        json!({"StartAt": "M", "States": {
            "M": {"Type": "Map", "ItemsPath": "$.xs", "MaxConcurrency": 2,
                  "ItemSelector": {"v.$": "$$.Map.Item.Value", "i.$": "$$.Map.Item.Index"},
                  "ItemProcessor": {"StartAt": "T", "States": {
                      "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:echo", "End": true}}},
                  "End": true}
        }}),
        json!({"xs": ["a", "b", "c", "d", "e"]}),
        echo(),
    )
    .await;
    assert_eq!(out.status, "SUCCEEDED");
    assert_eq!(
        out.output,
        Some(
            json!([{"v": "a", "i": 0}, {"v": "b", "i": 1}, {"v": "c", "i": 2}, {"v": "d", "i": 3}, {"v": "e", "i": 4}])
        )
    );
    assert_eq!(
        out.types
            .iter()
            .filter(|t| *t == "MapIterationStarted")
            .count(),
        5
    );
}

#[tokio::test]
async fn parallel_failure_fails_state_with_branch_error() {
    let out = run(
        json!({"StartAt": "P", "States": {
            "P": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}},
                {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Branch.Broke", "Cause": "on purpose"}}}
            ]}
        }}),
        json!({}),
        Handlers::new(),
    )
    .await;
    assert_eq!(out.status, "FAILED");
    assert_eq!(out.error.as_deref(), Some("Branch.Broke"));
    assert_eq!(out.cause.as_deref(), Some("on purpose"));
    assert!(out.types.contains(&"ParallelStateFailed".to_string()));
}

#[tokio::test]
async fn wait_runs_on_virtual_time() {
    let out = run(
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 86400, "End": true}}}),
        json!({"a": 1}),
        Handlers::new(),
    )
    .await;
    assert_eq!(out.status, "SUCCEEDED");
    assert_eq!(out.output, Some(json!({"a": 1})));
}

#[tokio::test]
async fn execution_timeout_stops_a_long_wait() {
    let out = run(
        json!({"TimeoutSeconds": 10, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}}),
        json!({}),
        Handlers::new(),
    )
    .await;
    assert_eq!(out.status, "TIMED_OUT");
    assert_eq!(out.error.as_deref(), Some("States.Timeout"));
    assert_eq!(
        out.types.last().map(String::as_str),
        Some("ExecutionTimedOut")
    );
}

#[tokio::test]
async fn same_name_same_input_is_idempotent_other_input_conflicts() {
    // System clock and a long Wait: the execution must still be running
    // when the second start arrives (a virtual clock would jump past it).
    let engine = Engine::open(EngineConfig::new(temp_db("idem")), Handlers::new()).unwrap();
    let def =
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}});
    let sm = engine
        .create_state_machine("idem", &def.to_string(), None)
        .unwrap();
    let a = engine
        .start_execution(&sm.arn, Some("n"), json!({"x": 1}))
        .await
        .unwrap();
    let b = engine
        .start_execution(&sm.arn, Some("n"), json!({"x": 1}))
        .await
        .unwrap();
    assert_eq!(
        (&b.execution_arn, b.start_ms),
        (&a.execution_arn, a.start_ms),
        "the running execution is returned"
    );
    assert!(!a.already_running && b.already_running);
    let err = engine
        .start_execution(&sm.arn, Some("n"), json!({"x": 2}))
        .await
        .unwrap_err();
    assert!(
        matches!(err, zoomvault_engine::Error::ExecutionAlreadyExists(_)),
        "{err}"
    );
    // Once closed, even the same input is refused, as AWS does.
    engine
        .stop_execution(&a.execution_arn, None, None)
        .await
        .unwrap();
    engine.wait_for(&a.execution_arn).await.unwrap();
    let err = engine
        .start_execution(&sm.arn, Some("n"), json!({"x": 1}))
        .await
        .unwrap_err();
    assert!(
        matches!(err, zoomvault_engine::Error::ExecutionAlreadyExists(_)),
        "{err}"
    );
}

#[tokio::test]
async fn stop_execution_aborts() {
    let mut config = EngineConfig::new(temp_db("stop"));
    config.clock = Clock::System;
    let engine = Engine::open(config, Handlers::new()).unwrap();
    let def =
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}});
    let sm = engine
        .create_state_machine("stop", &def.to_string(), None)
        .unwrap();
    let s = engine
        .start_execution(&sm.arn, None, json!({}))
        .await
        .unwrap();
    engine
        .stop_execution(
            &s.execution_arn,
            Some("User.Stop".into()),
            Some("enough".into()),
        )
        .await
        .unwrap();
    let row = engine.wait_for(&s.execution_arn).await.unwrap();
    assert_eq!(row.status, "ABORTED");
    assert_eq!(row.error.as_deref(), Some("User.Stop"));
}

#[tokio::test]
async fn restart_resumes_a_waiting_execution() {
    let db = temp_db("resume");
    let def = json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 2, "Next": "T"},
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:echo", "End": true}
    }});
    let arn = {
        let engine = Engine::open(EngineConfig::new(&db), echo()).unwrap();
        let sm = engine
            .create_state_machine("resume", &def.to_string(), None)
            .unwrap();
        let s = engine
            .start_execution(&sm.arn, None, json!({"k": "v"}))
            .await
            .unwrap();
        s.execution_arn
        // The engine is dropped here, mid-Wait.
    };
    let engine = Engine::open(EngineConfig::new(&db), echo()).unwrap();
    let row = engine.wait_for(&arn).await.unwrap();
    assert_eq!(row.status, "SUCCEEDED");
    assert_eq!(row.output.as_deref(), Some(r#"{"k":"v"}"#));
    assert_eq!(
        engine.replay_history(&arn).unwrap(),
        engine.history(&arn).unwrap()
    );
}

// ---------------------------------------------------------------------------
// The callback pattern (`.waitForTaskToken`)

const T0: i64 = 1_700_000_000_000;

/// A Task that waits for its token, handing it to the `worker` function in
/// `Payload.token`; `Worker.Rejected` is caught.
fn callback_definition(heartbeat_seconds: Option<u64>) -> Value {
    let mut task = json!({
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "worker", "Payload": {"token.$": "$$.Task.Token", "job.$": "$.job"}},
        "Catch": [{"ErrorEquals": ["Worker.Rejected"], "ResultPath": "$.error", "Next": "Rejected"}],
        "Next": "Done"
    });
    if let Some(s) = heartbeat_seconds {
        task["HeartbeatSeconds"] = json!(s);
    }
    json!({"StartAt": "Prepare", "States": {
        "Prepare": {"Type": "Pass", "Next": "Wait"},
        "Wait": task,
        "Done": {"Type": "Pass", "End": true},
        "Rejected": {"Type": "Pass", "End": true}
    }})
}

struct Started {
    engine: Engine,
    arn: String,
    db: std::path::PathBuf,
    clock: Clock,
}

async fn start_on(db: std::path::PathBuf, definition: &Value, handlers: Handlers) -> Started {
    start_with(db, definition, json!({"job": 7}), handlers).await
}

async fn start_with(
    db: std::path::PathBuf,
    definition: &Value,
    input: Value,
    handlers: Handlers,
) -> Started {
    let clock = Clock::virtual_at(T0);
    let mut config = EngineConfig::new(&db);
    config.clock = clock.clone();
    let engine = Engine::open(config, handlers).unwrap();
    let sm = engine
        .create_state_machine("cb", &definition.to_string(), None)
        .unwrap();
    let arn = engine
        .start_execution(&sm.arn, Some("e1"), input)
        .await
        .unwrap()
        .execution_arn;
    Started {
        engine,
        arn,
        db,
        clock,
    }
}

/// The token as an outside worker finds it: in the TaskScheduled event's
/// parameters, committed with the fact that scheduled the task.
fn token_from_history(engine: &Engine, arn: &str) -> String {
    let history = engine.history(arn).unwrap();
    let scheduled = history
        .iter()
        .rev()
        .find(|e| e["type"] == "TaskScheduled")
        .expect("a TaskScheduled event");
    let parameters: Value = serde_json::from_str(
        scheduled["taskScheduledEventDetails"]["parameters"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    parameters["Payload"]["token"].as_str().unwrap().to_string()
}

/// Waits for the execution to close and checks its journal replays to its
/// stored history.
async fn closed(engine: &Engine, arn: &str) -> zoomvault_engine::store::ExecutionRow {
    let row = engine.wait_for(arn).await.unwrap();
    assert_eq!(
        engine.replay_history(arn).unwrap(),
        engine.history(arn).unwrap(),
        "replaying the journal must rebuild the stored history"
    );
    row
}

fn types_of(history: &[Value]) -> Vec<String> {
    history
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

fn fact_count(db: &std::path::Path, execution_id: i64) -> usize {
    zoomvault_engine::store::Store::open(db)
        .unwrap()
        .facts(execution_id)
        .unwrap()
        .len()
}

/// Polls the stored history until it has an event of `event_type`: for
/// facts the engine journals on its own (a TaskSubmitted after dispatch),
/// which no API call waits for.
async fn history_has(engine: &Engine, arn: &str, event_type: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !types_of(&engine.history(arn).unwrap())
        .iter()
        .any(|t| t == event_type)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no {event_type} event in the history"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn send_task_success_resumes_a_callback_task_without_a_handler() {
    let s = start_on(
        temp_db("cb-ok"),
        &callback_definition(None),
        Handlers::new(),
    )
    .await;
    let token = token_from_history(&s.engine, &s.arn);
    s.engine
        .send_task_success(&token, json!({"approved": true}))
        .await
        .unwrap();
    let row = closed(&s.engine, &s.arn).await;
    assert_eq!(row.status, "SUCCEEDED");
    assert_eq!(row.output.as_deref(), Some(r#"{"approved":true}"#));
    let types = types_of(&s.engine.history(&s.arn).unwrap());
    let task_events: Vec<&str> = types
        .iter()
        .map(String::as_str)
        .filter(|t| t.starts_with("Task"))
        .collect();
    assert_eq!(
        task_events,
        [
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSubmitted",
            "TaskSucceeded",
            "TaskStateExited"
        ],
        "the submission is journaled before the success that ends the task"
    );

    // A second answer for the closed task changes nothing.
    let facts = fact_count(&s.db, row.id);
    let history = s.engine.history(&s.arn).unwrap();
    let err = s
        .engine
        .send_task_success(&token, json!({"again": true}))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TaskTimedOut(_)), "{err}");
    let err = s.engine.send_task_heartbeat(&token).await.unwrap_err();
    assert!(matches!(err, Error::TaskTimedOut(_)), "{err}");
    assert_eq!(fact_count(&s.db, row.id), facts);
    assert_eq!(s.engine.history(&s.arn).unwrap(), history);
}

#[tokio::test]
async fn send_task_failure_is_caught_by_its_error_name() {
    let s = start_on(
        temp_db("cb-fail"),
        &callback_definition(None),
        Handlers::new(),
    )
    .await;
    let token = token_from_history(&s.engine, &s.arn);
    s.engine
        .send_task_failure(
            &token,
            Some("Worker.Rejected".into()),
            Some("not today".into()),
        )
        .await
        .unwrap();
    let row = closed(&s.engine, &s.arn).await;
    assert_eq!(row.status, "SUCCEEDED");
    let output: Value = serde_json::from_str(row.output.as_deref().unwrap()).unwrap();
    assert_eq!(
        output,
        json!({"job": 7, "error": {"Error": "Worker.Rejected", "Cause": "not today"}})
    );
    let history = s.engine.history(&s.arn).unwrap();
    let failed = history.iter().find(|e| e["type"] == "TaskFailed").unwrap();
    assert_eq!(
        failed["taskFailedEventDetails"]["error"],
        json!("Worker.Rejected")
    );
}

/// A worker that reports each token it is given and holds its task open
/// (so the virtual clock stands still) until the test lets it go; then it
/// returns, which only submits the callback task.
fn holding_worker() -> (
    Handlers,
    tokio::sync::mpsc::UnboundedReceiver<(String, tokio::sync::oneshot::Sender<()>)>,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let mut h = Handlers::new();
    h.register("worker", move |req| {
        let tx = tx.clone();
        async move {
            let (release, released) = tokio::sync::oneshot::channel();
            let _ = tx.send((req.task_token.clone(), release));
            let _ = released.await;
            Ok(json!({"accepted": req.input["job"]}))
        }
    });
    (h, rx)
}

#[tokio::test]
async fn a_heartbeat_restarts_the_heartbeat_clock() {
    let (handlers, mut tokens) = holding_worker();
    let s = start_on(temp_db("cb-beat"), &callback_definition(Some(10)), handlers).await;
    let (token, release) = tokens.recv().await.unwrap();
    assert_eq!(token, token_from_history(&s.engine, &s.arn));
    // 8 s in, a heartbeat: the deadline moves from 10 s to 18 s.
    s.clock.advance_to(T0 + 8_000);
    s.engine.send_task_heartbeat(&token).await.unwrap();
    // The worker returns; nothing else arrives, so virtual time runs on.
    release.send(()).unwrap();
    let row = closed(&s.engine, &s.arn).await;
    assert_eq!(row.status, "FAILED");
    assert_eq!(row.error.as_deref(), Some("States.HeartbeatTimeout"));
    let history = s.engine.history(&s.arn).unwrap();
    let timed_out = history
        .iter()
        .find(|e| e["type"] == "TaskTimedOut")
        .unwrap();
    assert_eq!(
        timed_out["timestamp"].as_f64(),
        Some((T0 + 18_000) as f64 / 1000.0),
        "timed out 10 s after the heartbeat, not 10 s after the start"
    );
    let submitted = history
        .iter()
        .find(|e| e["type"] == "TaskSubmitted")
        .unwrap();
    let details = &submitted["taskSubmittedEventDetails"];
    let output: Value = serde_json::from_str(details["output"].as_str().unwrap()).unwrap();
    assert_eq!(
        output["Payload"],
        json!({"accepted": 7}),
        "the handler's result is the submission's output, not the task's"
    );
    assert_eq!(details["resource"], json!("invoke.waitForTaskToken"));
}

#[tokio::test]
async fn a_callback_task_without_heartbeats_times_out() {
    let s = start_on(
        temp_db("cb-timeout"),
        &callback_definition(Some(10)),
        Handlers::new(),
    )
    .await;
    let token = token_from_history(&s.engine, &s.arn);
    let row = closed(&s.engine, &s.arn).await;
    assert_eq!(row.status, "FAILED");
    assert_eq!(row.error.as_deref(), Some("States.HeartbeatTimeout"));
    let history = s.engine.history(&s.arn).unwrap();
    assert!(types_of(&history).contains(&"TaskTimedOut".to_string()));
    let facts = fact_count(&s.db, row.id);
    let err = s
        .engine
        .send_task_success(&token, json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TaskTimedOut(_)), "{err}");
    assert_eq!(fact_count(&s.db, row.id), facts, "the journal is unchanged");
    assert_eq!(s.engine.history(&s.arn).unwrap(), history);
}

#[tokio::test]
async fn forged_and_malformed_tokens_are_invalid() {
    use base64::Engine as _;
    let s = start_on(
        temp_db("cb-forged"),
        &callback_definition(None),
        Handlers::new(),
    )
    .await;
    let token = token_from_history(&s.engine, &s.arn);
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let text = String::from_utf8(b64.decode(&token).unwrap()).unwrap();
    let (arn, rest) = text.split_once('#').unwrap();
    let (key, tag) = rest.split_once('#').unwrap();
    let other_key = key.parse::<u64>().unwrap() + 1;
    let mut flipped = tag.to_string();
    let last = if flipped.ends_with('0') { "1" } else { "0" };
    flipped.replace_range(flipped.len() - 1.., last);
    for bad in [
        "".to_string(),
        "not a token".to_string(),
        b64.encode(format!("{arn}#{key}")),
        b64.encode(format!("{arn}#{other_key}#{tag}")),
        b64.encode(format!("{arn}#{key}#{flipped}")),
        b64.encode(format!("{arn}-other#{key}#{tag}")),
    ] {
        let err = s
            .engine
            .send_task_success(&bad, json!({}))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidToken), "{bad:?}: {err}");
    }
    // The genuine token still works.
    s.engine.send_task_success(&token, json!(1)).await.unwrap();
    assert_eq!(closed(&s.engine, &s.arn).await.status, "SUCCEEDED");
}

#[tokio::test]
async fn the_token_of_a_task_that_does_not_wait_for_it_is_refused() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut h = Handlers::new();
    h.register("plain", move |req| {
        let tx = tx.clone();
        async move {
            let (release, released) = tokio::sync::oneshot::channel::<()>();
            let _ = tx.send((req.task_token.clone(), release));
            let _ = released.await;
            Ok(json!("from the handler"))
        }
    });
    let def = json!({"StartAt": "T", "States": {"T": {"Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:plain", "End": true}}});
    let s = start_on(temp_db("cb-plain"), &def, h).await;
    let (token, release) = rx.recv().await.unwrap();
    let err = s
        .engine
        .send_task_success(&token, json!("from outside"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TaskDoesNotExist(_)), "{err}");
    release.send(()).unwrap();
    let row = closed(&s.engine, &s.arn).await;
    assert_eq!(row.output.as_deref(), Some(r#""from the handler""#));
}

#[tokio::test]
async fn a_waiting_callback_task_survives_a_restart_and_is_not_dispatched_again() {
    let db = temp_db("cb-restart");
    let calls = Arc::new(AtomicUsize::new(0));
    let counting = |calls: &Arc<AtomicUsize>| {
        let mut h = Handlers::new();
        let c = Arc::clone(calls);
        h.register("worker", move |_| {
            c.fetch_add(1, Ordering::SeqCst);
            async { Ok(json!("submitted")) }
        });
        h
    };
    let (arn, token) = {
        let s = start_on(db.clone(), &callback_definition(None), counting(&calls)).await;
        history_has(&s.engine, &s.arn, "TaskSubmitted").await;
        (s.arn.clone(), token_from_history(&s.engine, &s.arn))
        // The engine is dropped here, its task submitted and waiting.
    };
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let mut config = EngineConfig::new(&db);
    config.clock = Clock::virtual_at(T0 + 60_000);
    let engine = Engine::open(config, counting(&calls)).unwrap();
    assert_eq!(token_from_history(&engine, &arn), token);
    engine
        .send_task_success(&token, json!({"after": "restart"}))
        .await
        .unwrap();
    let row = closed(&engine, &arn).await;
    assert_eq!(row.status, "SUCCEEDED");
    assert_eq!(row.output.as_deref(), Some(r#"{"after":"restart"}"#));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "a submitted callback task is not handed to its handler again"
    );
}

/// The token's text split into (ARN, task key, tag).
fn token_parts(token: &str) -> (String, u64, String) {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let (rest, tag) = text.rsplit_once('#').unwrap();
    let (arn, key) = rest.rsplit_once('#').unwrap();
    (arn.to_string(), key.parse().unwrap(), tag.to_string())
}

fn encode_token(arn: &str, key: u64, tag: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{arn}#{key}#{tag}"))
}

/// A token as builds before token secrets made it, with the tag keyed by
/// the execution's seed: 128 bits of SipHash-2-4 under the seed, two halves
/// under domain bytes. What a forger who recovered the seed from the
/// execution's `States.UUID`/`States.MathRandom` outputs would try.
#[allow(deprecated)] // std's SipHasher: deprecated as a HashMap hasher only.
fn seed_token(arn: &str, seed: u64, key: u64) -> String {
    use std::hash::Hasher;
    let half = |domain: u8| {
        let mut h = std::hash::SipHasher::new_with_keys(seed, seed ^ 0x7a6f_6f6d_7661_756c);
        h.write(&[domain]);
        h.write(&(arn.len() as u64).to_le_bytes());
        h.write(arn.as_bytes());
        h.write(&key.to_le_bytes());
        h.finish()
    };
    encode_token(arn, key, &format!("{:016x}{:016x}", half(1), half(2)))
}

#[tokio::test]
async fn a_token_forged_from_the_execution_seed_is_refused() {
    let s = start_on(
        temp_db("cb-seed"),
        &callback_definition(None),
        Handlers::new(),
    )
    .await;
    let token = token_from_history(&s.engine, &s.arn);
    let (_, key, _) = token_parts(&token);
    // Someone who recovered the seed from the execution's States.UUID or
    // States.MathRandom outputs, and knows how tokens were once made.
    let row = s.engine.describe_execution(&s.arn).unwrap();
    for forged in [
        seed_token(&s.arn, row.seed, key),
        seed_token(&s.arn, row.seed, key + 1),
    ] {
        assert_ne!(forged, token);
        for result in [
            s.engine.send_task_heartbeat(&forged).await,
            s.engine.send_task_success(&forged, json!({})).await,
        ] {
            assert!(matches!(result, Err(Error::InvalidToken)), "{result:?}");
        }
    }
    s.engine.send_task_success(&token, json!(1)).await.unwrap();
    assert_eq!(closed(&s.engine, &s.arn).await.status, "SUCCEEDED");
    // Closed, the execution still tells a forgery from its own token.
    let result = s
        .engine
        .send_task_success(&seed_token(&s.arn, row.seed, key), json!({}))
        .await;
    assert!(matches!(result, Err(Error::InvalidToken)), "{result:?}");
    let result = s.engine.send_task_success(&token, json!({})).await;
    assert!(matches!(result, Err(Error::TaskTimedOut(_))), "{result:?}");
}

#[tokio::test]
async fn a_token_of_one_execution_names_no_other_task_or_execution() {
    let s = start_on(
        temp_db("cb-two"),
        &callback_definition(None),
        Handlers::new(),
    )
    .await;
    let machine = s
        .engine
        .describe_execution(&s.arn)
        .unwrap()
        .state_machine_arn;
    let b = s
        .engine
        .start_execution(&machine, Some("e2"), json!({"job": 8}))
        .await
        .unwrap()
        .execution_arn;
    let token_a = token_from_history(&s.engine, &s.arn);
    let token_b = token_from_history(&s.engine, &b);
    let (arn_a, key_a, tag_a) = token_parts(&token_a);
    let (arn_b, key_b, tag_b) = token_parts(&token_b);
    assert_eq!(key_a, key_b, "the same task of the same machine");
    assert_ne!(tag_a, tag_b, "each execution signs with its own secret");
    for forged in [
        encode_token(&arn_a, key_a + 1, &tag_a),
        encode_token(&arn_b, key_a, &tag_a),
        encode_token(&arn_a, key_b, &tag_b),
    ] {
        let result = s.engine.send_task_success(&forged, json!({})).await;
        assert!(matches!(result, Err(Error::InvalidToken)), "{result:?}");
    }
    s.engine
        .send_task_success(&token_a, json!("a"))
        .await
        .unwrap();
    s.engine
        .send_task_success(&token_b, json!("b"))
        .await
        .unwrap();
    assert_eq!(
        closed(&s.engine, &s.arn).await.output.as_deref(),
        Some(r#""a""#)
    );
    assert_eq!(
        closed(&s.engine, &b).await.output.as_deref(),
        Some(r#""b""#)
    );
}

// ---------------------------------------------------------------------------
// State machine types and tags

fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn pass_machine() -> String {
    json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}).to_string()
}

#[tokio::test]
async fn a_state_machine_is_created_with_its_type_and_tags() {
    let engine = Engine::open(EngineConfig::new(temp_db("sm-new")), Handlers::new()).unwrap();
    let mut new = NewStateMachine::new("fast", pass_machine());
    new.machine_type = MachineType::Express;
    new.tags = tags(&[("team", "archive"), ("cost-center", "")]);
    let row = engine.create_state_machine_with(&new).unwrap();
    assert_eq!(row.machine_type, "EXPRESS");
    assert_eq!(
        engine.state_machine(&row.arn).unwrap().machine_type,
        "EXPRESS"
    );
    assert_eq!(
        engine.list_tags(&row.arn).unwrap(),
        tags(&[("team", "archive"), ("cost-center", "")])
    );
    // The short form still makes an untagged STANDARD machine.
    let plain = engine
        .create_state_machine("plain", &pass_machine(), None)
        .unwrap();
    assert_eq!(plain.machine_type, "STANDARD");
    assert_eq!(engine.list_tags(&plain.arn).unwrap(), vec![]);
}

#[tokio::test]
async fn tags_are_added_replaced_and_removed_in_order() {
    let engine = Engine::open(EngineConfig::new(temp_db("sm-tags")), Handlers::new()).unwrap();
    let arn = engine
        .create_state_machine("tagged", &pass_machine(), None)
        .unwrap()
        .arn;
    engine
        .tag_resource(&arn, &tags(&[("a", "1"), ("b", "2")]))
        .unwrap();
    engine
        .tag_resource(&arn, &tags(&[("c", "3"), ("a", "one")]))
        .unwrap();
    assert_eq!(
        engine.list_tags(&arn).unwrap(),
        tags(&[("a", "one"), ("b", "2"), ("c", "3")])
    );
    engine
        .untag_resource(&arn, &["b".to_string(), "never-set".to_string()])
        .unwrap();
    assert_eq!(
        engine.list_tags(&arn).unwrap(),
        tags(&[("a", "one"), ("c", "3")])
    );
}

#[tokio::test]
async fn tags_outside_aws_limits_are_refused_and_change_nothing() {
    let engine = Engine::open(EngineConfig::new(temp_db("sm-limits")), Handlers::new()).unwrap();
    let arn = engine
        .create_state_machine("limited", &pass_machine(), None)
        .unwrap()
        .arn;
    let fifty: Vec<(String, String)> = (0..50).map(|i| (format!("k{i}"), "v".into())).collect();
    engine.tag_resource(&arn, &fifty).unwrap();
    let err = engine
        .tag_resource(&arn, &tags(&[("one-more", "v")]))
        .unwrap_err();
    assert!(matches!(err, Error::TooManyTags(_)), "{err}");
    // Replacing a value adds no tag, so it is allowed at the limit.
    engine.tag_resource(&arn, &tags(&[("k0", "w")])).unwrap();
    assert_eq!(engine.list_tags(&arn).unwrap().len(), 50);

    let long_key = "k".repeat(129);
    let long_value = "v".repeat(257);
    for (key, value) in [
        ("", "v"),
        (long_key.as_str(), "v"),
        ("ok", long_value.as_str()),
        ("no#hash", "v"),
        ("ok", "no*star"),
    ] {
        let err = engine
            .tag_resource(&arn, &tags(&[(key, value)]))
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidTag { .. }),
            "{key:?}={value:?}: {err}"
        );
    }
    engine
        .tag_resource(&arn, &tags(&[("k1", &"v".repeat(256))]))
        .unwrap();
    assert_eq!(engine.list_tags(&arn).unwrap().len(), 50);

    let mut new = NewStateMachine::new("crowded", pass_machine());
    new.tags = (0..51).map(|i| (format!("k{i}"), String::new())).collect();
    let err = engine.create_state_machine_with(&new).unwrap_err();
    assert!(matches!(err, Error::TooManyTags(_)), "{err}");
    assert!(matches!(
        engine.state_machine(&zoomvault_engine::arn::state_machine("crowded")),
        Err(Error::StateMachineDoesNotExist(_))
    ));
}

#[tokio::test]
async fn tagging_an_unknown_resource_is_resource_not_found() {
    let engine = Engine::open(EngineConfig::new(temp_db("sm-none")), Handlers::new()).unwrap();
    let arn = zoomvault_engine::arn::state_machine("nobody");
    let errors = [
        engine.tag_resource(&arn, &tags(&[("a", "b")])).unwrap_err(),
        engine.untag_resource(&arn, &["a".to_string()]).unwrap_err(),
        engine.list_tags(&arn).unwrap_err(),
    ];
    for err in errors {
        assert!(matches!(err, Error::ResourceNotFound(_)), "{err}");
    }
}

// ---------------------------------------------------------------------------
// RedriveExecution

/// `first` counts its calls; `flaky` fails its first call and returns its
/// input after; both are plain Lambda functions.
fn first_then_flaky(first_calls: &Arc<AtomicUsize>, flaky_calls: &Arc<AtomicUsize>) -> Handlers {
    let mut h = Handlers::new();
    let c = Arc::clone(first_calls);
    h.register("first", move |req| {
        c.fetch_add(1, Ordering::SeqCst);
        async move { Ok(json!({"first": req.input["n"]})) }
    });
    let c = Arc::clone(flaky_calls);
    h.register("flaky", move |req| {
        let call = c.fetch_add(1, Ordering::SeqCst);
        async move {
            if call == 0 {
                Err(Failure::new("Flaky.Down", "first call fails"))
            } else {
                Ok(req.input)
            }
        }
    });
    h
}

fn first_then_flaky_definition() -> Value {
    let function = |name: &str| format!("arn:aws:lambda:us-east-1:123456789012:function:{name}");
    json!({"StartAt": "First", "States": {
        "First": {"Type": "Task", "Resource": function("first"), "ResultPath": "$.a", "Next": "Flaky"},
        "Flaky": {"Type": "Task", "Resource": function("flaky"),
                  "Parameters": {"a.$": "$.a", "redrives.$": "$$.Execution.RedriveCount"},
                  "End": true}
    }})
}

#[tokio::test]
async fn a_redriven_execution_resumes_at_the_failed_state() {
    let (first, flaky) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let s = start_on(
        temp_db("redrive"),
        &first_then_flaky_definition(),
        first_then_flaky(&first, &flaky),
    )
    .await;
    let failed = closed(&s.engine, &s.arn).await;
    assert_eq!(failed.status, "FAILED");
    assert_eq!(failed.error.as_deref(), Some("Flaky.Down"));
    assert_eq!((failed.redrive_count, failed.redrive_ms), (0, None));
    assert_eq!(
        s.engine.redrive_status(&s.arn).unwrap(),
        RedriveStatus::Redrivable
    );
    let before = s.engine.history(&s.arn).unwrap();

    let redriven_at = s.engine.redrive_execution(&s.arn).await.unwrap();
    let row = closed(&s.engine, &s.arn).await;
    assert_eq!(row.status, "SUCCEEDED");
    assert_eq!(
        row.output.as_deref(),
        Some(r#"{"a":{"first":null},"redrives":1}"#)
    );
    assert_eq!((row.redrive_count, row.redrive_ms), (1, Some(redriven_at)));
    assert_eq!((row.stop_ms.is_some(), row.error.as_deref()), (true, None));
    assert_eq!(
        first.load(Ordering::SeqCst),
        1,
        "the succeeded state is not run again"
    );
    assert_eq!(flaky.load(Ordering::SeqCst), 2);

    let history = s.engine.history(&s.arn).unwrap();
    assert_eq!(
        history[..before.len()],
        before[..],
        "the history before stays"
    );
    let redriven = &history[before.len()];
    assert_eq!(redriven["type"], json!("ExecutionRedriven"));
    assert_eq!(
        redriven["id"],
        json!(before.len() + 1),
        "event ids keep counting"
    );
    assert_eq!(redriven["previousEventId"], json!(before.len()));
    assert_eq!(
        redriven["executionRedrivenEventDetails"],
        json!({"redriveCount": 1})
    );
    assert_eq!(
        types_of(&history[before.len() + 1..]),
        [
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
    let entered = &history[before.len() + 1]["stateEnteredEventDetails"];
    assert_eq!(
        entered["name"],
        json!("Flaky"),
        "the failed state is entered again"
    );
    let input: Value = serde_json::from_str(entered["input"].as_str().unwrap()).unwrap();
    assert_eq!(
        input,
        json!({"job": 7, "a": {"first": null}}),
        "with the input it had the first time"
    );

    // Succeeded now: no second redrive.
    let err = s.engine.redrive_execution(&s.arn).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::ExecutionNotRedrivable {
                reason: "Execution is SUCCEEDED and cannot be redriven",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        s.engine.redrive_status(&s.arn).unwrap(),
        RedriveStatus::NotRedrivable {
            reason: "Execution is SUCCEEDED and cannot be redriven"
        }
    );
}

#[tokio::test]
async fn redrive_is_refused_for_running_missing_and_old_executions() {
    let s = start_on(
        temp_db("redrive-no"),
        &callback_definition(None),
        Handlers::new(),
    )
    .await;
    let err = s.engine.redrive_execution(&s.arn).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::ExecutionNotRedrivable {
                reason: "Execution is RUNNING and cannot be redriven",
                ..
            }
        ),
        "{err}"
    );
    let missing = zoomvault_engine::arn::execution("cb", "nobody");
    let err = s.engine.redrive_execution(&missing).await.unwrap_err();
    assert!(matches!(err, Error::ExecutionDoesNotExist(_)), "{err}");

    s.engine
        .send_task_failure(&token_from_history(&s.engine, &s.arn), None, None)
        .await
        .unwrap();
    let row = closed(&s.engine, &s.arn).await;
    assert_eq!(row.status, "FAILED");
    let stop = row.stop_ms.unwrap();
    let facts = fact_count(&s.db, row.id);
    s.clock.advance_to(stop + 14 * 24 * 3600 * 1000 + 1);
    let err = s.engine.redrive_execution(&s.arn).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::ExecutionNotRedrivable {
                reason: "Execution redrivable period exceeded",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        fact_count(&s.db, row.id),
        facts,
        "a refusal journals nothing"
    );
    assert_eq!(s.engine.describe_execution(&s.arn).unwrap(), row);
}

#[tokio::test]
async fn an_aborted_callback_task_waits_again_with_a_new_token_after_redrive() {
    let s = start_on(
        temp_db("redrive-abort"),
        &callback_definition(None),
        Handlers::new(),
    )
    .await;
    let old_token = token_from_history(&s.engine, &s.arn);
    s.engine
        .stop_execution(&s.arn, Some("Operator.Stop".into()), None)
        .await
        .unwrap();
    assert_eq!(closed(&s.engine, &s.arn).await.status, "ABORTED");
    s.engine.redrive_execution(&s.arn).await.unwrap();
    assert_eq!(
        s.engine.describe_execution(&s.arn).unwrap().status,
        "RUNNING"
    );
    let token = token_from_history(&s.engine, &s.arn);
    assert_ne!(token, old_token, "a new task, a new token");
    let err = s
        .engine
        .send_task_success(&old_token, json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TaskTimedOut(_)), "{err}");
    s.engine
        .send_task_success(&token, json!({"second": "try"}))
        .await
        .unwrap();
    let row = closed(&s.engine, &s.arn).await;
    assert_eq!(row.status, "SUCCEEDED");
    assert_eq!(row.output.as_deref(), Some(r#"{"second":"try"}"#));
    let history = s.engine.history(&s.arn).unwrap();
    let types = types_of(&history);
    let aborted = types.iter().position(|t| t == "ExecutionAborted").unwrap();
    assert_eq!(types[aborted + 1], "ExecutionRedriven");
    assert_eq!(
        types.iter().filter(|t| *t == "PassStateEntered").count(),
        2,
        "Prepare ran once; Done once"
    );
}

#[tokio::test]
async fn a_timed_out_execution_gets_its_timeout_again_from_the_redrive() {
    let def = json!({"TimeoutSeconds": 10, "StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 60, "End": true}}});
    let s = start_on(temp_db("redrive-timeout"), &def, Handlers::new()).await;
    let first = closed(&s.engine, &s.arn).await;
    assert_eq!(first.status, "TIMED_OUT");
    let redriven_at = s.engine.redrive_execution(&s.arn).await.unwrap();
    let second = closed(&s.engine, &s.arn).await;
    assert_eq!(second.status, "TIMED_OUT");
    assert_eq!(
        second.stop_ms,
        Some(redriven_at + 10_000),
        "the 10 s count again from the redrive"
    );
    assert_eq!(second.redrive_count, 1);
}

#[tokio::test]
async fn a_redriven_execution_survives_a_restart() {
    let db = temp_db("redrive-restart");
    let (first, flaky) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let arn = {
        let s = start_on(
            db.clone(),
            &first_then_flaky_definition(),
            first_then_flaky(&first, &flaky),
        )
        .await;
        assert_eq!(closed(&s.engine, &s.arn).await.status, "FAILED");
        s.arn.clone()
    };
    // Redriven by an engine whose `flaky` never answers, then dropped.
    let (holding, mut calls) = {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        let mut h = Handlers::new();
        h.register("flaky", move |_| {
            let _ = tx.send(());
            std::future::pending()
        });
        (h, rx)
    };
    {
        let mut config = EngineConfig::new(&db);
        config.clock = Clock::virtual_at(T0 + 60_000);
        let engine = Engine::open(config, holding).unwrap();
        engine.redrive_execution(&arn).await.unwrap();
        calls.recv().await.unwrap();
        let row = engine.describe_execution(&arn).unwrap();
        assert_eq!((row.status.as_str(), row.redrive_count), ("RUNNING", 1));
    }
    let mut config = EngineConfig::new(&db);
    config.clock = Clock::virtual_at(T0 + 120_000);
    let engine = Engine::open(config, first_then_flaky(&first, &flaky)).unwrap();
    let row = closed(&engine, &arn).await;
    assert_eq!(row.status, "SUCCEEDED");
    assert_eq!(row.redrive_count, 1);
    assert_eq!(first.load(Ordering::SeqCst), 1);
    let history = engine.history(&arn).unwrap();
    assert_eq!(
        types_of(&history)
            .iter()
            .filter(|t| *t == "ExecutionRedriven")
            .count(),
        1
    );
}

// ---------------------------------------------------------------------------
// Redriving Parallel and Map states: what succeeded keeps its output

fn lambda(name: &str) -> String {
    format!("arn:aws:lambda:us-east-1:123456789012:function:{name}")
}

/// An end Task state calling `work` with `{"key": <key_path>}`.
fn work_task(key_path: &str) -> Value {
    json!({"Type": "Task", "Resource": lambda("work"), "Parameters": {"key.$": key_path}, "End": true})
}

/// The calls of the `work` function, by key.
#[derive(Clone, Default)]
struct WorkCalls(Arc<Mutex<BTreeMap<String, usize>>>);

impl WorkCalls {
    /// `work` fails the first `n` calls with each key in `fails`
    /// (`Work.Flaky`); every other call returns `{"key": key, "call": n}`,
    /// its call number with that key from 1.
    fn handlers(&self, fails: &[(&str, usize)]) -> Handlers {
        let calls = self.clone();
        let fails: BTreeMap<String, usize> =
            fails.iter().map(|(k, n)| (k.to_string(), *n)).collect();
        let mut h = Handlers::new();
        h.register("work", move |req| {
            let key = req.input["key"].as_str().unwrap().to_string();
            let answer = calls.call(&key, fails.get(&key).copied().unwrap_or(0));
            async move { answer }
        });
        h
    }

    fn call(&self, key: &str, failing_calls: usize) -> Result<Value, Failure> {
        let call = {
            let mut calls = self.0.lock().unwrap();
            let n = calls.entry(key.to_string()).or_default();
            *n += 1;
            *n
        };
        if call <= failing_calls {
            Err(Failure::new(
                "Work.Flaky",
                format!("call {call} with {key} fails"),
            ))
        } else {
            Ok(json!({"key": key, "call": call}))
        }
    }

    fn counts(&self) -> Vec<(String, usize)> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(k, n)| (k.clone(), *n))
            .collect()
    }
}

fn counts(pairs: &[(&str, usize)]) -> Vec<(String, usize)> {
    pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

fn output_of(row: &zoomvault_engine::store::ExecutionRow) -> Value {
    serde_json::from_str(row.output.as_deref().expect("an output")).unwrap()
}

/// A Map over `$.items` tolerating one failed item, whose iterations wait
/// their `delay` in seconds and then call `work` with their `key`. On the
/// virtual clock a longer wait ends only when every task started before
/// it is done, so the delays decide the order items finish in.
fn delayed_map() -> Value {
    json!({"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemsPath": "$.items", "ToleratedFailureCount": 1, "End": true,
        "ItemProcessor": {"StartAt": "W", "States": {
            "W": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "T"},
            "T": work_task("$.key")}}}}})
}

/// Items keyed "0", "1", ... with these delays.
fn delayed_items(delays: &[u64]) -> Value {
    let items: Vec<Value> = delays
        .iter()
        .enumerate()
        .map(|(i, d)| json!({"key": i.to_string(), "delay": d}))
        .collect();
    json!({ "items": items })
}

/// Each MapIteration* event as (type, index), in order.
fn iteration_events(history: &[Value]) -> Vec<(String, u64)> {
    history
        .iter()
        .filter_map(|e| {
            let event_type = e["type"].as_str()?.strip_prefix("MapIteration")?;
            let details = format!("mapIteration{event_type}EventDetails");
            Some((
                format!("MapIteration{event_type}"),
                e[&details]["index"].as_u64()?,
            ))
        })
        .collect()
}

/// The `index` of each event of `event_type` (a MapIteration* type).
fn map_indexes(history: &[Value], event_type: &str) -> Vec<u64> {
    iteration_events(history)
        .into_iter()
        .filter(|(t, _)| t == event_type)
        .map(|(_, index)| index)
        .collect()
}

#[tokio::test]
async fn a_redriven_parallel_state_reruns_only_its_failed_branch() {
    // Branch B waits, so branch A has succeeded when B fails.
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "A", "States": {"A": work_task("$.a")}},
        {"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": 10, "Next": "B"},
            "B": work_task("$.b")}}
    ]}}});
    let calls = WorkCalls::default();
    let s = start_with(
        temp_db("redrive-par"),
        &def,
        json!({"a": "a", "b": "b"}),
        calls.handlers(&[("b", 1)]),
    )
    .await;
    let failed = closed(&s.engine, &s.arn).await;
    assert_eq!(failed.error.as_deref(), Some("Work.Flaky"));
    let before = s.engine.history(&s.arn).unwrap().len();

    s.engine.redrive_execution(&s.arn).await.unwrap();
    let row = closed(&s.engine, &s.arn).await;
    assert_eq!(row.status, "SUCCEEDED");
    assert_eq!(calls.counts(), counts(&[("a", 1), ("b", 2)]));
    assert_eq!(
        output_of(&row),
        json!([{"key": "a", "call": 1}, {"key": "b", "call": 2}]),
        "the kept output of A and the new one of B, in branch order"
    );
    let history = s.engine.history(&s.arn).unwrap();
    assert_eq!(
        types_of(&history[before..]),
        [
            "ExecutionRedriven",
            "ParallelStateEntered",
            "ParallelStateStarted",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionSucceeded",
            "TaskStateExited",
            "ParallelStateSucceeded",
            "ParallelStateExited",
            "ExecutionSucceeded"
        ],
        "branch B resumes at the Task that failed; its Wait is not run again"
    );
    let entered = &history[before + 3]["stateEnteredEventDetails"];
    assert_eq!(entered["name"], json!("B"));
    assert_eq!(
        serde_json::from_str::<Value>(entered["input"].as_str().unwrap()).unwrap(),
        json!({"a": "a", "b": "b"}),
        "with the input it had"
    );
}

#[tokio::test]
async fn a_redriven_map_state_reruns_only_its_failed_iterations() {
    // Items 1 and 3 fail, last (the second failure is one too many); the
    // other three have succeeded by then.
    let calls = WorkCalls::default();
    let s = start_with(
        temp_db("redrive-map"),
        &delayed_map(),
        delayed_items(&[0, 10, 0, 20, 0]),
        calls.handlers(&[("1", 1), ("3", 1)]),
    )
    .await;
    let failed = closed(&s.engine, &s.arn).await;
    assert_eq!(
        failed.error.as_deref(),
        Some("States.ExceedToleratedFailureThreshold")
    );
    let before = s.engine.history(&s.arn).unwrap().len();

    s.engine.redrive_execution(&s.arn).await.unwrap();
    let row = closed(&s.engine, &s.arn).await;
    assert_eq!(row.status, "SUCCEEDED");
    assert_eq!(
        calls.counts(),
        counts(&[("0", 1), ("1", 2), ("2", 1), ("3", 2), ("4", 1)])
    );
    assert_eq!(
        output_of(&row),
        json!([
            {"key": "0", "call": 1}, {"key": "1", "call": 2}, {"key": "2", "call": 1},
            {"key": "3", "call": 2}, {"key": "4", "call": 1}
        ]),
        "kept and new outputs in item order"
    );
    let history = s.engine.history(&s.arn).unwrap();
    let redriven = &history[before..];
    let mut started = map_indexes(redriven, "MapIterationStarted");
    started.sort();
    assert_eq!(started, [1, 3], "only the failed iterations start again");
    let types = types_of(redriven);
    assert_eq!(
        types[..3],
        ["ExecutionRedriven", "MapStateEntered", "MapStateStarted"]
    );
    assert_eq!(
        redriven[2]["mapStateStartedEventDetails"],
        json!({"length": 5})
    );
    assert!(
        !types.iter().any(|t| t == "WaitStateEntered"),
        "each resumes at the Task that failed"
    );
    assert_eq!(
        types[types.len() - 3..],
        ["MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]
    );
}

#[tokio::test]
async fn a_redriven_map_keeps_its_tolerated_failures_and_max_concurrency() {
    // One item at a time: 1 fails (tolerated), 3 fails (one too many), so 4
    // never starts. The redrive runs 1, 3 and 4, still one at a time; 3
    // fails again, which one tolerated failure of five allows.
    let def = json!({"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "ToleratedFailureCount": 1, "End": true,
        "ItemProcessor": {"StartAt": "T", "States": {"T": work_task("$.key")}}}}});
    let calls = WorkCalls::default();
    let s = start_with(
        temp_db("redrive-map-limits"),
        &def,
        delayed_items(&[0, 0, 0, 0, 0]),
        calls.handlers(&[("1", 1), ("3", 2)]),
    )
    .await;
    assert_eq!(closed(&s.engine, &s.arn).await.status, "FAILED");
    assert_eq!(
        calls.counts(),
        counts(&[("0", 1), ("1", 1), ("2", 1), ("3", 1)])
    );
    let before = s.engine.history(&s.arn).unwrap().len();

    s.engine.redrive_execution(&s.arn).await.unwrap();
    let row = closed(&s.engine, &s.arn).await;
    assert_eq!(row.status, "SUCCEEDED");
    assert_eq!(
        calls.counts(),
        counts(&[("0", 1), ("1", 2), ("2", 1), ("3", 2), ("4", 1)])
    );
    assert_eq!(
        output_of(&row),
        json!([
            {"key": "0", "call": 1}, {"key": "1", "call": 2}, {"key": "2", "call": 1},
            null, {"key": "4", "call": 1}
        ])
    );
    let history = s.engine.history(&s.arn).unwrap();
    assert_eq!(
        iteration_events(&history[before..]),
        [
            ("MapIterationStarted".to_string(), 1),
            ("MapIterationSucceeded".to_string(), 1),
            ("MapIterationStarted".to_string(), 3),
            ("MapIterationFailed".to_string(), 3),
            ("MapIterationStarted".to_string(), 4),
            ("MapIterationSucceeded".to_string(), 4),
        ],
        "one at a time, in item order"
    );
}

#[tokio::test]
async fn a_map_redriven_again_keeps_what_each_attempt_did() {
    // One item at a time, no failure tolerated: item 1 fails twice, then
    // item 3 once, so it takes three redrives; nothing that succeeded runs
    // again, and items never reached start on the attempt that gets there.
    let def = json!({"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 1, "End": true,
        "ItemProcessor": {"StartAt": "T", "States": {"T": work_task("$.key")}}}}});
    let calls = WorkCalls::default();
    let s = start_with(
        temp_db("redrive-map-again"),
        &def,
        delayed_items(&[0, 0, 0, 0, 0]),
        calls.handlers(&[("1", 2), ("3", 1)]),
    )
    .await;
    assert_eq!(closed(&s.engine, &s.arn).await.status, "FAILED");
    for _ in 0..2 {
        s.engine.redrive_execution(&s.arn).await.unwrap();
        assert_eq!(closed(&s.engine, &s.arn).await.status, "FAILED");
    }
    s.engine.redrive_execution(&s.arn).await.unwrap();
    let row = closed(&s.engine, &s.arn).await;
    assert_eq!(row.status, "SUCCEEDED");
    assert_eq!(row.redrive_count, 3);
    // The items each attempt started, split at the ExecutionRedriven events.
    let history = s.engine.history(&s.arn).unwrap();
    let started: Vec<Vec<u64>> = history
        .split(|e| e["type"] == "ExecutionRedriven")
        .map(|attempt| map_indexes(attempt, "MapIterationStarted"))
        .collect();
    assert_eq!(started, [vec![0, 1], vec![1], vec![1, 2, 3], vec![3, 4]]);
    assert_eq!(
        calls.counts(),
        counts(&[("0", 1), ("1", 3), ("2", 1), ("3", 2), ("4", 1)])
    );
    assert_eq!(
        output_of(&row),
        json!([
            {"key": "0", "call": 1}, {"key": "1", "call": 3}, {"key": "2", "call": 1},
            {"key": "3", "call": 2}, {"key": "4", "call": 1}
        ])
    );
}

#[tokio::test]
async fn a_redriven_map_in_a_parallel_reruns_only_the_failed_branch_of_the_failed_item() {
    // P: branch A calls `work`; branch B maps three items, each a Parallel
    // of X (a call) and Y (a wait, then a call). Y of item 2 waits longest
    // and fails: everything else has succeeded by then.
    let item = json!({"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "X", "States": {"X": work_task("States.Format('x{}', $.i)")}},
        {"StartAt": "YW", "States": {
            "YW": {"Type": "Wait", "SecondsPath": "$.delay", "Next": "Y"},
            "Y": work_task("States.Format('y{}', $.i)")}}
    ]});
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "A", "States": {"A": work_task("$.a")}},
        {"StartAt": "M", "States": {"M": {
            "Type": "Map", "ItemsPath": "$.delays", "End": true,
            "ItemSelector": {"i.$": "$$.Map.Item.Index", "delay.$": "$$.Map.Item.Value"},
            "ItemProcessor": {"StartAt": "I", "States": {"I": item}}}}}
    ]}}});
    let calls = WorkCalls::default();
    let s = start_with(
        temp_db("redrive-nested"),
        &def,
        json!({"a": "a", "delays": [0, 0, 30]}),
        calls.handlers(&[("y2", 1)]),
    )
    .await;
    assert_eq!(closed(&s.engine, &s.arn).await.status, "FAILED");
    let before = s.engine.history(&s.arn).unwrap().len();

    s.engine.redrive_execution(&s.arn).await.unwrap();
    let row = closed(&s.engine, &s.arn).await;
    assert_eq!(row.status, "SUCCEEDED");
    assert_eq!(
        calls.counts(),
        counts(&[
            ("a", 1),
            ("x0", 1),
            ("x1", 1),
            ("x2", 1),
            ("y0", 1),
            ("y1", 1),
            ("y2", 2)
        ])
    );
    let call = |key: &str, n: usize| json!({"key": key, "call": n});
    assert_eq!(
        output_of(&row),
        json!([
            call("a", 1),
            [
                [call("x0", 1), call("y0", 1)],
                [call("x1", 1), call("y1", 1)],
                [call("x2", 1), call("y2", 2)]
            ]
        ])
    );
    let history = s.engine.history(&s.arn).unwrap();
    let redriven = &history[before..];
    assert_eq!(map_indexes(redriven, "MapIterationStarted"), [2]);
    assert_eq!(
        types_of(redriven)
            .iter()
            .filter(|t| *t == "TaskStateEntered")
            .count(),
        1,
        "only Y of item 2 runs again"
    );
    assert_eq!(
        types_of(redriven)
            .iter()
            .filter(|t| t.starts_with("ParallelState"))
            .count(),
        // Entered, Started, Succeeded, Exited for P and for item 2's Parallel.
        8
    );
}

/// Polls the stored history until it has `count` events of `event_type`.
async fn history_has_n(engine: &Engine, arn: &str, event_type: &str, count: usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while types_of(&engine.history(arn).unwrap())
        .iter()
        .filter(|t| *t == event_type)
        .count()
        < count
    {
        assert!(
            std::time::Instant::now() < deadline,
            "fewer than {count} {event_type} events in the history"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_redriven_map_survives_a_restart_in_the_middle() {
    let db = temp_db("redrive-map-restart");
    let calls = WorkCalls::default();
    let arn = {
        let s = start_with(
            db.clone(),
            &delayed_map(),
            delayed_items(&[0, 10, 0, 20, 0]),
            calls.handlers(&[("1", 1), ("3", 1)]),
        )
        .await;
        assert_eq!(closed(&s.engine, &s.arn).await.status, "FAILED");
        s.arn.clone()
    };
    // Redriven by an engine where item 3's call never answers, dropped once
    // item 1 has succeeded again.
    let (holding, mut held) = {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<()>();
        let calls = calls.clone();
        let mut h = Handlers::new();
        h.register("work", move |req| {
            let key = req.input["key"].as_str().unwrap().to_string();
            let answer = (key != "3").then(|| calls.call(&key, 0));
            if answer.is_none() {
                let _ = tx.send(());
            }
            async move {
                match answer {
                    Some(answer) => answer,
                    None => std::future::pending().await,
                }
            }
        });
        (h, rx)
    };
    {
        let mut config = EngineConfig::new(&db);
        config.clock = Clock::virtual_at(T0 + 60_000);
        let engine = Engine::open(config, holding).unwrap();
        engine.redrive_execution(&arn).await.unwrap();
        held.recv().await.unwrap();
        // Items 0, 2 and 4 before the redrive, then item 1.
        history_has_n(&engine, &arn, "MapIterationSucceeded", 4).await;
        assert_eq!(engine.describe_execution(&arn).unwrap().status, "RUNNING");
        assert_eq!(
            engine.replay_history(&arn).unwrap(),
            engine.history(&arn).unwrap(),
            "the journal of a running redriven Map replays to its history"
        );
    }
    let mut config = EngineConfig::new(&db);
    config.clock = Clock::virtual_at(T0 + 120_000);
    let engine = Engine::open(config, calls.handlers(&[])).unwrap();
    let row = closed(&engine, &arn).await;
    assert_eq!(row.status, "SUCCEEDED");
    assert_eq!(row.redrive_count, 1);
    assert_eq!(
        calls.counts(),
        counts(&[("0", 1), ("1", 2), ("2", 1), ("3", 2), ("4", 1)]),
        "after the restart only item 3's task runs again"
    );
    assert_eq!(
        output_of(&row),
        json!([
            {"key": "0", "call": 1}, {"key": "1", "call": 2}, {"key": "2", "call": 1},
            {"key": "3", "call": 2}, {"key": "4", "call": 1}
        ])
    );
}

#[tokio::test]
async fn a_map_stopped_in_the_middle_reruns_only_its_unfinished_items_after_redrive() {
    // Item 1 waits for a token no one sends; the others succeed. The stop
    // aborts the Map with item 1 waiting.
    let def = json!({"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemsPath": "$.items", "End": true,
        "ItemProcessor": {"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [{"Variable": "$.key", "StringEquals": "1", "Next": "Token"}], "Default": "T"},
            "Token": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                      "Parameters": {"FunctionName": "worker", "Payload": {"token.$": "$$.Task.Token"}}, "End": true},
            "T": work_task("$.key")}}}}});
    let calls = WorkCalls::default();
    let s = start_with(
        temp_db("redrive-map-stop"),
        &def,
        delayed_items(&[0, 0, 0]),
        calls.handlers(&[]),
    )
    .await;
    history_has(&s.engine, &s.arn, "TaskScheduled").await;
    history_has_n(&s.engine, &s.arn, "MapIterationSucceeded", 2).await;
    let old_token = token_from_history(&s.engine, &s.arn);
    s.engine.stop_execution(&s.arn, None, None).await.unwrap();
    assert_eq!(closed(&s.engine, &s.arn).await.status, "ABORTED");
    let before = s.engine.history(&s.arn).unwrap().len();

    s.engine.redrive_execution(&s.arn).await.unwrap();
    let token = token_from_history(&s.engine, &s.arn);
    assert_ne!(token, old_token);
    s.engine
        .send_task_success(&token, json!({"key": "1", "sent": true}))
        .await
        .unwrap();
    let row = closed(&s.engine, &s.arn).await;
    assert_eq!(row.status, "SUCCEEDED");
    assert_eq!(calls.counts(), counts(&[("0", 1), ("2", 1)]));
    assert_eq!(
        output_of(&row),
        json!([{"key": "0", "call": 1}, {"key": "1", "sent": true}, {"key": "2", "call": 1}])
    );
    let history = s.engine.history(&s.arn).unwrap();
    assert_eq!(map_indexes(&history[before..], "MapIterationStarted"), [1]);
    let types = types_of(&history[before..]);
    assert!(
        !types.iter().any(|t| t == "ChoiceStateEntered"),
        "item 1 resumes at the Task it was stopped in"
    );
}

#[tokio::test]
async fn a_caught_parallel_whose_first_branch_fails_at_once_goes_on() {
    // Branch 0 fails before branch 1 has entered its first state; the
    // Parallel's Catch moves on, and branch 1 is never entered.
    let out = run(
        json!({"StartAt": "P", "States": {
            "P": {"Type": "Parallel", "Next": "Done",
                  "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "T"}],
                  "Branches": [
                {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Branch.Broke"}}},
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}
            ]},
            "T": {"Type": "Task", "Resource": lambda("echo"), "End": true},
            "Done": {"Type": "Pass", "End": true}
        }}),
        json!({}),
        echo(),
    )
    .await;
    assert_eq!(out.status, "SUCCEEDED");
    assert_eq!(
        out.output,
        Some(json!({"error": {"Error": "Branch.Broke", "Cause": ""}}))
    );
    assert!(!out.types.contains(&"PassStateEntered".to_string()));
}
