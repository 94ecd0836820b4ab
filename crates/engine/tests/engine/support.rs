//! What the engine tests share: a fresh SQLite file per test, running a
//! definition to its end on the virtual clock, starting an execution and
//! keeping its engine, clock and file at hand, finding a task token where a
//! worker would, and waiting for a close or for an event the engine journals
//! on its own. Every helper that sees an execution close also checks its
//! journal replays to the stored history. It holds no tests.

use serde_json::{json, Value};
use zoomvault_engine::{Clock, Engine, EngineConfig, Handlers, Status};

pub struct Outcome {
    pub status: Status,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub types: Vec<String>,
}

pub fn temp_db(tag: &str) -> std::path::PathBuf {
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

pub async fn run(definition: Value, input: Value, handlers: Handlers) -> Outcome {
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

pub fn echo() -> Handlers {
    let mut h = Handlers::new();
    h.register("echo", |req| async move { Ok(req.input) });
    h
}

pub fn lambda(name: &str) -> String {
    format!("arn:aws:lambda:us-east-1:123456789012:function:{name}")
}

/// Where the virtual clock of [`start_on`] and [`start_with`] starts.
pub const T0: i64 = 1_700_000_000_000;

/// A Task that waits for its token, handing it to the `worker` function in
/// `Payload.token`; `Worker.Rejected` is caught.
pub fn callback_definition(heartbeat_seconds: Option<u64>) -> Value {
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

pub struct Started {
    pub engine: Engine,
    pub arn: String,
    pub db: std::path::PathBuf,
    pub clock: Clock,
}

pub async fn start_on(db: std::path::PathBuf, definition: &Value, handlers: Handlers) -> Started {
    start_with(db, definition, json!({"job": 7}), handlers).await
}

pub async fn start_with(
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
pub fn token_from_history(engine: &Engine, arn: &str) -> String {
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
pub async fn closed(engine: &Engine, arn: &str) -> zoomvault_engine::store::ExecutionRow {
    let row = engine.wait_for(arn).await.unwrap();
    assert_eq!(
        engine.replay_history(arn).unwrap(),
        engine.history(arn).unwrap(),
        "replaying the journal must rebuild the stored history"
    );
    row
}

pub fn types_of(history: &[Value]) -> Vec<String> {
    history
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

pub fn fact_count(db: &std::path::Path, execution_id: i64) -> usize {
    zoomvault_engine::store::Store::open(db)
        .unwrap()
        .facts(execution_id)
        .unwrap()
        .len()
}

/// Polls the stored history until it has an event of `event_type`: for
/// facts the engine journals on its own (a TaskSubmitted after dispatch),
/// which no API call waits for.
pub async fn history_has(engine: &Engine, arn: &str, event_type: &str) {
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

/// Polls the stored history until it has `count` events of `event_type`.
pub async fn history_has_n(engine: &Engine, arn: &str, event_type: &str, count: usize) {
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
