//! The Map Run actions through aws-sdk-sfn over a real socket: a running
//! distributed Map's run is listed, described, updated (more children start
//! at once) and its children listed by `mapRunArn`; stopping the parent
//! aborts the run and its children; malformed requests are refused with
//! AWS's exceptions.

use aws_sdk_sfn::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sfn::types::{ExecutionStatus, MapRunStatus};
use aws_sdk_sfn::Client;
use serde_json::json;
use zoomvault_engine::{Engine, EngineConfig, Handlers};
use zoomvault_sfn_api::{app, ApiConfig};

struct Endpoint {
    client: Client,
    engine: Engine,
    _dir: tempfile::TempDir,
}

async fn endpoint() -> Endpoint {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(
        EngineConfig::new(dir.path().join("engine.db")),
        Handlers::new(),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = app(engine.clone(), ApiConfig::default());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let config = aws_sdk_sfn::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .endpoint_url(&url)
        .build();
    Endpoint {
        client: Client::from_conf(config),
        engine,
        _dir: dir,
    }
}

/// A distributed Map over three items, one child at a time, each child
/// waiting an hour: the run stays RUNNING while the test looks at it.
fn waiting_map() -> String {
    json!({
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "Label": "Slow",
                "MaxConcurrency": 1,
                "ItemProcessor": {
                    "ProcessorConfig": { "Mode": "DISTRIBUTED", "ExecutionType": "STANDARD" },
                    "StartAt": "Sleep",
                    "States": { "Sleep": { "Type": "Wait", "Seconds": 3600, "End": true } }
                },
                "End": true
            }
        }
    })
    .to_string()
}

/// Creates the waiting Map's machine as `fan` and starts it over three
/// items; the execution's ARN.
async fn start_waiting_map(e: &Endpoint) -> String {
    let machine = e
        .client
        .create_state_machine()
        .name("fan")
        .definition(waiting_map())
        .role_arn("arn:aws:iam::123456789012:role/test")
        .send()
        .await
        .unwrap()
        .state_machine_arn;
    e.client
        .start_execution()
        .state_machine_arn(&machine)
        .input("[1, 2, 3]")
        .send()
        .await
        .unwrap()
        .execution_arn
}

#[tokio::test]
async fn a_running_map_run_is_described_updated_and_aborted() {
    let e = endpoint().await;
    let execution = start_waiting_map(&e).await;

    // The run starts in the transaction that starts the execution.
    let runs = e
        .client
        .list_map_runs()
        .execution_arn(&execution)
        .send()
        .await
        .unwrap();
    assert_eq!(runs.map_runs().len(), 1);
    let run = &runs.map_runs()[0];
    let map_run_arn = run.map_run_arn().to_string();
    assert!(
        map_run_arn.starts_with("arn:aws:states:us-east-1:123456789012:mapRun:fan/Slow:"),
        "{map_run_arn}"
    );
    assert_eq!(
        run.state_machine_arn(),
        "arn:aws:states:us-east-1:123456789012:stateMachine:fan/Slow"
    );

    let d = e
        .client
        .describe_map_run()
        .map_run_arn(&map_run_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(d.status(), &MapRunStatus::Running);
    assert_eq!(d.execution_arn(), execution);
    assert_eq!(d.max_concurrency(), 1);
    let items = d.item_counts().unwrap();
    assert_eq!((items.total(), items.running(), items.pending()), (3, 1, 2));
    let executions = d.execution_counts().unwrap();
    assert_eq!((executions.total(), executions.pending()), (3, 2));

    let children = e
        .client
        .list_executions()
        .map_run_arn(&map_run_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(children.executions().len(), 1);
    let child = &children.executions()[0];
    assert_eq!(child.status(), &ExecutionStatus::Running);
    assert_eq!(child.map_run_arn(), Some(map_run_arn.as_str()));
    assert_eq!(child.item_count(), Some(1));
    assert!(child
        .execution_arn()
        .starts_with("arn:aws:states:us-east-1:123456789012:execution:fan/Slow:"));

    let described = e
        .client
        .describe_execution()
        .execution_arn(child.execution_arn())
        .send()
        .await
        .unwrap();
    assert_eq!(described.map_run_arn(), Some(map_run_arn.as_str()));
    let machine_of_child = e
        .client
        .describe_state_machine_for_execution()
        .execution_arn(child.execution_arn())
        .send()
        .await
        .unwrap();
    assert_eq!(machine_of_child.map_run_arn(), Some(map_run_arn.as_str()));
    assert_eq!(machine_of_child.label(), Some("Slow"));

    // More concurrency: the two pending items start at once.
    e.client
        .update_map_run()
        .map_run_arn(&map_run_arn)
        .max_concurrency(3)
        .send()
        .await
        .unwrap();
    let d = e
        .client
        .describe_map_run()
        .map_run_arn(&map_run_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(d.max_concurrency(), 3);
    assert_eq!(d.item_counts().unwrap().running(), 3);

    // Stopping the parent aborts the run and every child.
    e.client
        .stop_execution()
        .execution_arn(&execution)
        .send()
        .await
        .unwrap();
    let d = e
        .client
        .describe_map_run()
        .map_run_arn(&map_run_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(d.status(), &MapRunStatus::Aborted);
    assert!(d.stop_date().is_some());
    let executions = d.execution_counts().unwrap();
    assert_eq!((executions.aborted(), executions.results_written()), (3, 3));
    for child in e
        .engine
        .list_map_run_executions(&map_run_arn, None, None, 10)
        .unwrap()
    {
        assert_eq!(child.status.api_name(), "ABORTED", "{}", child.arn);
        let replayed = e.engine.replay_history(&child.arn).unwrap();
        assert_eq!(replayed, e.engine.history(&child.arn).unwrap());
    }
    let replayed = e.engine.replay_history(&execution).unwrap();
    assert_eq!(replayed, e.engine.history(&execution).unwrap());
}

#[tokio::test]
async fn map_run_requests_are_checked_as_aws_checks_them() {
    let e = endpoint().await;
    let err = e
        .client
        .describe_map_run()
        .map_run_arn("arn:aws:states:us-east-1:123456789012:execution:fan:x")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_invalid_arn(), "{err:?}");
    let err = e
        .client
        .describe_map_run()
        .map_run_arn("arn:aws:states:us-east-1:123456789012:mapRun:fan/Slow:nope")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found(), "{err:?}");
    let err = e
        .client
        .update_map_run()
        .map_run_arn("arn:aws:states:us-east-1:123456789012:mapRun:fan/Slow:nope")
        .tolerated_failure_percentage(101.0)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");
    let err = e
        .client
        .list_map_runs()
        .execution_arn("arn:aws:states:us-east-1:123456789012:execution:fan:missing")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_execution_does_not_exist(), "{err:?}");
}

#[tokio::test]
async fn describe_map_run_shows_a_redriven_run() {
    let e = endpoint().await;
    let execution = start_waiting_map(&e).await;
    let map_run_arn = e.engine.list_map_runs(&execution).unwrap()[0].arn.clone();
    // All three children run, then the run goes back to one at a time;
    // stopping the parent aborts all three.
    for n in [3, 1] {
        e.client
            .update_map_run()
            .map_run_arn(&map_run_arn)
            .max_concurrency(n)
            .send()
            .await
            .unwrap();
    }
    e.client
        .stop_execution()
        .execution_arn(&execution)
        .send()
        .await
        .unwrap();
    let d = e
        .client
        .describe_map_run()
        .map_run_arn(&map_run_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(d.status(), &MapRunStatus::Aborted);
    assert_eq!((d.redrive_count(), d.redrive_date()), (Some(0), None));
    let executions = d.execution_counts().unwrap();
    assert_eq!(
        (executions.aborted(), executions.failures_not_redrivable()),
        (3, Some(0)),
        "the parent can be redriven, and its run with it"
    );

    e.client
        .redrive_execution()
        .execution_arn(&execution)
        .send()
        .await
        .unwrap();
    let d = e
        .client
        .describe_map_run()
        .map_run_arn(&map_run_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(d.status(), &MapRunStatus::Running);
    assert_eq!(d.redrive_count(), Some(1));
    assert!(d.redrive_date().is_some() && d.stop_date().is_none());
    let executions = d.execution_counts().unwrap();
    assert_eq!(
        (
            executions.running(),
            executions.aborted(),
            executions.pending_redrive()
        ),
        (1, 2, Some(2)),
        "one child redriven at a time, two waiting"
    );
    let items = d.item_counts().unwrap();
    assert_eq!((items.pending_redrive(), items.total()), (Some(2), 3));
    let history = e
        .client
        .get_execution_history()
        .execution_arn(&execution)
        .send()
        .await
        .unwrap();
    let redriven = history
        .events()
        .iter()
        .find_map(|ev| ev.map_run_redriven_event_details())
        .expect("a MapRunRedriven event");
    assert_eq!(redriven.map_run_arn(), Some(map_run_arn.as_str()));
    assert_eq!(redriven.redrive_count(), Some(1));
}

#[tokio::test]
async fn tolerated_failures_of_a_succeeded_parent_are_not_redrivable() {
    let e = endpoint().await;
    let definition = json!({
        "StartAt": "Fan",
        "States": { "Fan": {
            "Type": "Map",
            "ToleratedFailurePercentage": 100,
            "ItemProcessor": {
                "ProcessorConfig": { "Mode": "DISTRIBUTED", "ExecutionType": "STANDARD" },
                "StartAt": "No", "States": { "No": { "Type": "Fail", "Error": "Bad" } }
            },
            "End": true
        } }
    });
    let machine = e
        .client
        .create_state_machine()
        .name("tolerant")
        .definition(definition.to_string())
        .role_arn("arn:aws:iam::123456789012:role/test")
        .send()
        .await
        .unwrap()
        .state_machine_arn;
    let execution = e
        .client
        .start_execution()
        .state_machine_arn(&machine)
        .input("[1, 2]")
        .send()
        .await
        .unwrap()
        .execution_arn;
    let row = e.engine.wait_for(&execution).await.unwrap();
    assert_eq!(row.status.api_name(), "SUCCEEDED");
    let map_run_arn = e.engine.list_map_runs(&execution).unwrap()[0].arn.clone();
    let d = e
        .client
        .describe_map_run()
        .map_run_arn(&map_run_arn)
        .send()
        .await
        .unwrap();
    let executions = d.execution_counts().unwrap();
    assert_eq!(
        (executions.failed(), executions.failures_not_redrivable()),
        (2, Some(2))
    );
}
