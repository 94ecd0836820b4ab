//! `SfnStarter` through aws-sdk-sfn against the embedded engine's Step
//! Functions endpoint over a real socket: what the webhook relies on.

use serde_json::json;
use zoomvault_archive::ports::workflow::{Error, StartOutcome, WorkflowStarter};
use zoomvault_aws::step_functions::client_for_endpoint;
use zoomvault_aws::SfnStarter;
use zoomvault_engine::{Engine, EngineConfig, Handlers, Status};

struct Setup {
    engine: Engine,
    starter: SfnStarter,
    _dir: tempfile::TempDir,
}

async fn setup(definition: serde_json::Value) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(
        EngineConfig::new(dir.path().join("engine.db")),
        Handlers::new(),
    )
    .unwrap();
    let machine = engine
        .create_state_machine("ingest", &definition.to_string(), None)
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = zoomvault_sfn_api::app(engine.clone(), zoomvault_sfn_api::ApiConfig::default());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let starter = SfnStarter::new(client_for_endpoint(&url, "AKIDLOCAL", "local"), machine.arn);
    Setup {
        engine,
        starter,
        _dir: dir,
    }
}

fn sleeper() -> serde_json::Value {
    json!({ "StartAt": "W", "States": { "W": { "Type": "Wait", "Seconds": 3600, "End": true } } })
}

#[tokio::test]
async fn a_name_starts_one_execution_and_repeats_are_reported() {
    let s = setup(sleeper()).await;
    let first = s.starter.start("rec-1", json!({ "a": 1 })).await.unwrap();
    assert_eq!(first.outcome, StartOutcome::Started);
    assert_eq!(
        first.execution_arn,
        "arn:aws:states:us-east-1:123456789012:execution:ingest:rec-1"
    );
    assert_eq!(s.starter.execution_arn("rec-1"), first.execution_arn);
    let row = s.engine.describe_execution(&first.execution_arn).unwrap();
    assert_eq!(row.status, Status::Running);

    // The same delivery again while it runs, and with another input.
    for input in [json!({ "a": 1 }), json!({ "a": 2 })] {
        let again = s.starter.start("rec-1", input).await.unwrap();
        assert_eq!(again.outcome, StartOutcome::AlreadyExists);
        assert_eq!(again.execution_arn, first.execution_arn);
    }
    let all = s.engine.list_executions(None, None, None, 10).unwrap();
    assert_eq!(
        all.len(),
        1,
        "one execution, however often it was asked for"
    );
}

#[tokio::test]
async fn a_finished_execution_is_not_started_again() {
    let s =
        setup(json!({ "StartAt": "P", "States": { "P": { "Type": "Pass", "End": true } } })).await;
    let first = s.starter.start("done", json!({})).await.unwrap();
    s.engine.wait_for(&first.execution_arn).await.unwrap();
    let again = s.starter.start("done", json!({})).await.unwrap();
    assert_eq!(again.outcome, StartOutcome::AlreadyExists);
    assert_eq!(
        s.engine
            .list_executions(None, None, None, 10)
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_bad_name_is_refused_by_name() {
    let s = setup(sleeper()).await;
    let err = s.starter.start("has space", json!({})).await.unwrap_err();
    assert!(
        matches!(err, Error::InvalidName { ref name, .. } if name == "has space"),
        "{err:?}"
    );
    assert!(!err.is_transient());
}

#[tokio::test]
async fn an_unreachable_endpoint_is_transient() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let starter = SfnStarter::new(
        client_for_endpoint(&format!("http://127.0.0.1:{port}"), "AKIDLOCAL", "local"),
        "arn:aws:states:us-east-1:123456789012:stateMachine:ingest",
    );
    let err = starter.start("rec", json!({})).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
}

#[tokio::test]
async fn describe_tells_a_missing_a_running_and_a_failed_execution_apart() {
    use zoomvault_archive::ports::ExecutionStatus;
    let s = setup(json!({
        "StartAt": "Choose",
        "States": {
            "Choose": {
                "Type": "Choice",
                "Choices": [{ "Variable": "$.fail", "BooleanEquals": true, "Next": "Fail" }],
                "Default": "W"
            },
            "W": { "Type": "Wait", "Seconds": 3600, "End": true },
            "Fail": { "Type": "Fail", "Error": "Ingest.ChecksumMismatch", "Cause": "part 3" }
        }
    }))
    .await;
    assert_eq!(s.starter.describe("rec-1").await.unwrap(), None);
    let running = s
        .starter
        .start("rec-1", json!({ "fail": false }))
        .await
        .unwrap();
    let described = s.starter.describe("rec-1").await.unwrap().unwrap();
    assert_eq!(described.status, ExecutionStatus::Running);
    assert_eq!(described.execution_arn, running.execution_arn);

    let failed = s
        .starter
        .start("rec-2", json!({ "fail": true }))
        .await
        .unwrap();
    s.engine.wait_for(&failed.execution_arn).await.unwrap();
    let described = s.starter.describe("rec-2").await.unwrap().unwrap();
    assert_eq!(described.status, ExecutionStatus::Failed);
    assert_eq!(described.error.as_deref(), Some("Ingest.ChecksumMismatch"));
    assert_eq!(described.cause.as_deref(), Some("part 3"));
}
