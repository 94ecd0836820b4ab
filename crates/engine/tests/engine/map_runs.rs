//! Distributed Map runs across an engine restart: children waiting on
//! their task tokens survive the engine's close, the run goes on after the
//! reopen without starting any child twice, and every journal (parent and
//! children) replays to its stored history.

use crate::support::{closed, temp_db, token_from_history, T0};
use serde_json::{json, Value};
use zoomvault_engine::{Clock, Engine, EngineConfig, Handlers, Status};

/// Three items, two children at a time, each child waiting for a worker
/// outside the engine to answer its task token.
fn waiting_children() -> Value {
    json!({
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "MaxConcurrency": 2,
                "ItemProcessor": {
                    "ProcessorConfig": { "Mode": "DISTRIBUTED", "ExecutionType": "STANDARD" },
                    "StartAt": "Work",
                    "States": {
                        "Work": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                            "Parameters": { "FunctionName": "worker", "Payload": { "token.$": "$$.Task.Token" } },
                            "End": true
                        }
                    }
                },
                "End": true
            }
        }
    })
}

fn open(db: &std::path::Path) -> Engine {
    let mut config = EngineConfig::new(db);
    config.clock = Clock::virtual_at(T0);
    Engine::open(config, Handlers::new()).unwrap()
}

/// The run's running children, in item order (the listing is newest
/// first, as ListExecutions pages).
fn running_children(engine: &Engine, map_run: &str) -> Vec<String> {
    engine
        .list_map_run_executions(map_run, Some(Status::Running), None, 100)
        .unwrap()
        .into_iter()
        .rev()
        .map(|r| r.arn)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_map_run_goes_on_after_a_restart_without_repeating_a_child() {
    let db = temp_db("map-run-restart");
    let engine = open(&db);
    let sm = engine
        .create_state_machine("fan", &waiting_children().to_string(), None)
        .unwrap();
    let arn = engine
        .start_execution(&sm.arn, Some("e1"), json!(["a", "b", "c"]))
        .await
        .unwrap()
        .execution_arn;
    let map_run = engine.list_map_runs(&arn).unwrap()[0].arn.clone();
    let first = running_children(&engine, &map_run);
    assert_eq!(first.len(), 2, "MaxConcurrency 2 starts two children");
    engine.shutdown();
    drop(engine);

    let engine = open(&db);
    assert_eq!(running_children(&engine, &map_run), first);
    for (i, child) in first.iter().enumerate() {
        let token = token_from_history(&engine, child);
        engine
            .send_task_success(&token, json!({ "done": i }))
            .await
            .unwrap();
    }
    // The third child starts once one of the first two ends.
    let third = running_children(&engine, &map_run);
    assert_eq!(third.len(), 1);
    let token = token_from_history(&engine, &third[0]);
    engine
        .send_task_success(&token, json!({ "done": 2 }))
        .await
        .unwrap();

    let row = closed(&engine, &arn).await;
    assert_eq!(row.status, Status::Succeeded, "{:?}", row.cause);
    let output: Value = serde_json::from_str(row.output.as_deref().unwrap()).unwrap();
    assert_eq!(output, json!([{ "done": 0 }, { "done": 1 }, { "done": 2 }]));
    let children = engine
        .list_map_run_executions(&map_run, None, None, 100)
        .unwrap();
    assert_eq!(children.len(), 3, "no child was started twice");
    for child in &children {
        assert_eq!(child.status, Status::Succeeded);
        closed(&engine, &child.arn).await;
    }
    let d = engine.describe_map_run(&map_run).unwrap();
    assert_eq!(d.row.status, "SUCCEEDED");
    assert_eq!((d.items.succeeded, d.row.items), (3, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_parent_aborts_the_run_and_its_children() {
    let db = temp_db("map-run-stop");
    let engine = open(&db);
    let sm = engine
        .create_state_machine("fan", &waiting_children().to_string(), None)
        .unwrap();
    let arn = engine
        .start_execution(&sm.arn, Some("e1"), json!([1, 2, 3]))
        .await
        .unwrap()
        .execution_arn;
    let map_run = engine.list_map_runs(&arn).unwrap()[0].arn.clone();
    engine.stop_execution(&arn, None, None).await.unwrap();
    let row = closed(&engine, &arn).await;
    assert_eq!(row.status, Status::Aborted);
    let children = engine
        .list_map_run_executions(&map_run, None, None, 100)
        .unwrap();
    assert_eq!(children.len(), 2, "the pending item never started");
    for child in &children {
        assert_eq!(child.status, Status::Aborted);
        closed(&engine, &child.arn).await;
    }
    assert_eq!(
        engine.describe_map_run(&map_run).unwrap().row.status,
        "ABORTED"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retention_sweep_forgets_a_closed_run_with_its_executions() {
    let db = temp_db("map-run-retention");
    let clock = Clock::virtual_at(T0);
    let mut config = EngineConfig::new(&db);
    config.clock = clock.clone();
    let engine = Engine::open(config, Handlers::new()).unwrap();
    let definition = json!({
        "StartAt": "Fan",
        "States": { "Fan": {
            "Type": "Map",
            "ItemProcessor": {
                "ProcessorConfig": { "Mode": "DISTRIBUTED", "ExecutionType": "STANDARD" },
                "StartAt": "P", "States": { "P": { "Type": "Pass", "End": true } }
            },
            "End": true
        } }
    });
    let sm = engine
        .create_state_machine("fan", &definition.to_string(), None)
        .unwrap();
    let arn = engine
        .start_execution(&sm.arn, Some("e1"), json!([1, 2]))
        .await
        .unwrap()
        .execution_arn;
    assert_eq!(closed(&engine, &arn).await.status, Status::Succeeded);
    let map_run = engine.list_map_runs(&arn).unwrap()[0].arn.clone();
    clock.advance_to(T0 + 1_000);
    let deleted = engine
        .delete_closed_executions(std::time::Duration::from_millis(500))
        .await
        .unwrap();
    assert_eq!(deleted, 3, "the parent and its two children");
    assert!(engine.describe_map_run(&map_run).is_err());
}
