//! Distributed Map runs across an engine restart: children waiting on
//! their task tokens survive the engine's close, the run goes on after the
//! reopen without starting any child twice, and every journal (parent and
//! children) replays to its stored history.

use crate::support::{closed, fact_count, temp_db, token_from_history, T0};
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

/// The children of a Map Run in the order they started, with their status.
fn children_in_order(engine: &Engine, map_run: &str) -> Vec<(String, Status)> {
    engine
        .list_map_run_executions(map_run, None, None, 100)
        .unwrap()
        .into_iter()
        .rev()
        .map(|r| (r.arn, r.status))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redriven_map_run_starts_no_second_copy_of_a_child_that_succeeded() {
    let db = temp_db("map-run-redrive");
    let engine = open(&db);
    let mut definition = waiting_children();
    definition["States"]["Fan"]["ToleratedFailureCount"] = json!(1);
    let sm = engine
        .create_state_machine("fan", &definition.to_string(), None)
        .unwrap();
    let arn = engine
        .start_execution(&sm.arn, Some("e1"), json!(["a", "b", "c", "d"]))
        .await
        .unwrap()
        .execution_arn;
    let map_run = engine.list_map_runs(&arn).unwrap()[0].arn.clone();
    // Child 0 succeeds, 1 fails (tolerated), 2 fails past the tolerance,
    // which stops 3.
    let answer = |i: usize| {
        let engine = &engine;
        let map_run = map_run.clone();
        async move {
            let child = children_in_order(engine, &map_run)[i].0.clone();
            token_from_history(engine, &child)
        }
    };
    let token = answer(0).await;
    engine
        .send_task_success(&token, json!({ "done": 0 }))
        .await
        .unwrap();
    let token = answer(1).await;
    engine
        .send_task_failure(&token, Some("Bad".into()), None)
        .await
        .unwrap();
    let token = answer(2).await;
    engine
        .send_task_failure(&token, Some("Bad".into()), None)
        .await
        .unwrap();
    let row = closed(&engine, &arn).await;
    assert_eq!(
        row.error.as_deref(),
        Some("States.ExceedToleratedFailureThreshold")
    );
    let before = children_in_order(&engine, &map_run);
    let statuses: Vec<Status> = before.iter().map(|c| c.1).collect();
    assert_eq!(
        statuses,
        [
            Status::Succeeded,
            Status::Failed,
            Status::Failed,
            Status::Aborted
        ]
    );
    let succeeded = engine.describe_execution(&before[0].0).unwrap();
    let succeeded_facts = fact_count(&db, succeeded.id);
    let d = engine.describe_map_run(&map_run).unwrap();
    assert_eq!((d.row.status.as_str(), d.row.redrive_count), ("FAILED", 0));
    assert!(d.failures_redrivable);

    engine.redrive_execution(&arn).await.unwrap();
    // MaxConcurrency 2: children 1 and 2 are redriven, 3 waits its turn.
    let d = engine.describe_map_run(&map_run).unwrap();
    assert_eq!((d.row.status.as_str(), d.row.redrive_count), ("RUNNING", 1));
    assert!(d.row.redrive_ms.is_some() && d.row.stop_ms.is_none());
    assert_eq!(
        (
            d.executions.running,
            d.executions.pending_redrive,
            d.executions.succeeded
        ),
        (2, 1, 1)
    );
    // The redrive is journaled: a restart finds the run where it was.
    engine.shutdown();
    drop(engine);
    let engine = open(&db);
    let after_restart = children_in_order(&engine, &map_run);
    assert_eq!(
        after_restart.iter().map(|c| &c.0).collect::<Vec<_>>(),
        before.iter().map(|c| &c.0).collect::<Vec<_>>(),
        "the same four children, none started again"
    );
    for i in [1, 2] {
        assert_eq!(after_restart[i].1, Status::Running);
        let token = token_from_history(&engine, &after_restart[i].0);
        engine
            .send_task_success(&token, json!({ "done": i }))
            .await
            .unwrap();
    }
    let third = &children_in_order(&engine, &map_run)[3];
    assert_eq!(third.1, Status::Running, "child 3 is redriven in its turn");
    let token = token_from_history(&engine, &third.0);
    engine
        .send_task_success(&token, json!({ "done": 3 }))
        .await
        .unwrap();

    let row = closed(&engine, &arn).await;
    assert_eq!(row.status, Status::Succeeded, "{:?}", row.cause);
    let output: Value = serde_json::from_str(row.output.as_deref().unwrap()).unwrap();
    assert_eq!(
        output,
        json!([{ "done": 0 }, { "done": 1 }, { "done": 2 }, { "done": 3 }])
    );
    let children = children_in_order(&engine, &map_run);
    assert_eq!(children.len(), 4, "no child was started twice");
    for (i, (child, status)) in children.iter().enumerate() {
        assert_eq!(*status, Status::Succeeded);
        let row = closed(&engine, child).await;
        assert_eq!(row.redrive_count, u32::from(i > 0), "child {i}");
    }
    assert_eq!(
        fact_count(&db, succeeded.id),
        succeeded_facts,
        "the child that succeeded was not touched"
    );
    let d = engine.describe_map_run(&map_run).unwrap();
    assert_eq!(
        (d.row.status.as_str(), d.row.redrive_count),
        ("SUCCEEDED", 1)
    );
    assert_eq!((d.items.succeeded, d.items.pending_redrive), (4, 0));
    let history = crate::support::types_of(&engine.history(&arn).unwrap());
    assert_eq!(history.iter().filter(|t| *t == "MapRunRedriven").count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redriving_a_stopped_parent_redrives_its_aborted_map_run() {
    let db = temp_db("map-run-stop-redrive");
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
    assert_eq!(closed(&engine, &arn).await.status, Status::Aborted);
    let stopped = children_in_order(&engine, &map_run);
    assert_eq!(stopped.len(), 2);

    engine.redrive_execution(&arn).await.unwrap();
    assert_eq!(engine.list_map_runs(&arn).unwrap().len(), 1, "the same run");
    for i in 0..3 {
        let children = children_in_order(&engine, &map_run);
        assert_eq!(children[i].1, Status::Running, "child {i}");
        let token = token_from_history(&engine, &children[i].0);
        engine.send_task_success(&token, json!(i)).await.unwrap();
    }
    let row = closed(&engine, &arn).await;
    assert_eq!(row.status, Status::Succeeded, "{:?}", row.cause);
    assert_eq!(row.output.as_deref(), Some("[0,1,2]"));
    let children = children_in_order(&engine, &map_run);
    assert_eq!(
        children.len(),
        3,
        "the two aborted redriven, the third started"
    );
    assert_eq!(
        children[..2].iter().map(|c| &c.0).collect::<Vec<_>>(),
        stopped.iter().map(|c| &c.0).collect::<Vec<_>>()
    );
}
