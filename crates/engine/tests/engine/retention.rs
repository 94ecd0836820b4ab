//! Journal retention through the public API: a closed execution older than
//! the retention leaves the journal with all its rows, running and recently
//! closed ones stay, a sweep repeated removes nothing more, the engine's own
//! schedule sweeps once its clock has moved on, and a burst of short
//! executions swept leaves small files behind. The clock is virtual, so
//! ninety days pass in one `advance_to`.

use crate::support::{callback_definition, closed, echo, lambda, temp_db, token_from_history, T0};
use serde_json::{json, Value};
use std::time::Duration;
use zoomvault_engine::store::{Store, WAL_SIZE_LIMIT};
use zoomvault_engine::{Clock, Engine, EngineConfig, Error, Status, DEFAULT_RETENTION};

const DAY_MS: i64 = 24 * 3600 * 1000;

/// A short execution: a Pass and a Task, as most of an ingest is.
fn short() -> Value {
    json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Next": "T"},
        "T": {"Type": "Task", "Resource": lambda("echo"), "End": true}
    }})
}

fn failing() -> Value {
    json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "c"}}})
}

/// An engine with the `echo` handler on a fresh journal and a virtual
/// clock at `T0`, keeping closed executions for `retention`.
fn open(tag: &str, retention: Option<Duration>) -> (Engine, Clock, std::path::PathBuf) {
    let db = temp_db(tag);
    let clock = Clock::virtual_at(T0);
    let mut config = EngineConfig::new(&db);
    config.clock = clock.clone();
    config.retention = retention;
    (Engine::open(config, echo()).unwrap(), clock, db)
}

/// Runs `definition` to its close as execution `name`; returns its ARN.
async fn run_to_close(engine: &Engine, definition: &Value, name: &str, input: Value) -> String {
    let machine = engine
        .upsert_state_machine("m", &definition.to_string())
        .unwrap();
    let arn = engine
        .start_execution(&machine.arn, Some(name), input)
        .await
        .unwrap()
        .execution_arn;
    closed(engine, &arn).await;
    arn
}

fn does_not_exist<T: std::fmt::Debug>(result: Result<T, Error>) -> bool {
    matches!(result, Err(Error::ExecutionDoesNotExist(_)))
}

#[tokio::test]
async fn a_closed_execution_past_retention_leaves_the_journal_with_all_its_rows() {
    let (engine, clock, db) = open("retention-gone", None);
    let succeeded = run_to_close(&engine, &short(), "ok", json!({})).await;
    let failed = run_to_close(&engine, &failing(), "bad", json!({})).await;
    let ids = [&succeeded, &failed].map(|arn| engine.describe_execution(arn).unwrap().id);

    clock.advance_to(T0 + 91 * DAY_MS);
    assert_eq!(
        engine
            .delete_closed_executions(DEFAULT_RETENTION)
            .await
            .unwrap(),
        2
    );

    for arn in [&succeeded, &failed] {
        assert!(does_not_exist(engine.describe_execution(arn)), "{arn}");
        assert!(does_not_exist(engine.history(arn)), "{arn}");
        assert!(
            does_not_exist(engine.stop_execution(arn, None, None).await),
            "{arn}"
        );
    }
    assert!(does_not_exist(engine.redrive_execution(&failed).await));
    assert!(engine
        .list_executions(None, None, None, 100)
        .unwrap()
        .is_empty());
    let journal = Store::open(&db).unwrap();
    for id in ids {
        assert!(journal.facts(id).unwrap().is_empty(), "facts of {id}");
        assert_eq!(journal.history_len(id).unwrap(), 0, "history of {id}");
    }
}

#[tokio::test]
async fn running_and_recently_closed_executions_are_kept() {
    // The callback task has no worker registered, so it waits for a token.
    let (engine, clock, _db) = open("retention-kept", None);
    let waiting = engine
        .upsert_state_machine("cb", &callback_definition(None).to_string())
        .unwrap();
    let running = engine
        .start_execution(&waiting.arn, Some("waiting"), json!({"job": 1}))
        .await
        .unwrap()
        .execution_arn;
    run_to_close(&engine, &short(), "old", json!({})).await;
    clock.advance_to(T0 + 89 * DAY_MS);
    let recent = run_to_close(&engine, &short(), "recent", json!({})).await;

    clock.advance_to(T0 + 91 * DAY_MS);
    assert_eq!(
        engine
            .delete_closed_executions(DEFAULT_RETENTION)
            .await
            .unwrap(),
        1
    );

    let stats = engine.journal_stats().unwrap();
    assert_eq!(
        (stats.executions, stats.running, stats.closed),
        (2, 1, 1),
        "{stats:?}"
    );
    let recent_row = engine.describe_execution(&recent).unwrap();
    assert_eq!(recent_row.status, Status::Succeeded);
    assert_eq!(stats.oldest_closed_stop_ms, recent_row.stop_ms);
    // Started 91 days ago and still waiting: kept whole, it can still end.
    assert_eq!(
        engine.describe_execution(&running).unwrap().status,
        Status::Running
    );
    let token = token_from_history(&engine, &running);
    engine.send_task_success(&token, json!({})).await.unwrap();
    assert_eq!(closed(&engine, &running).await.status, Status::Succeeded);
}

#[tokio::test]
async fn a_sweep_repeated_removes_nothing_more() {
    let (engine, clock, _db) = open("retention-again", None);
    run_to_close(&engine, &short(), "old", json!({})).await;
    clock.advance_to(T0 + 60 * DAY_MS);
    let recent = run_to_close(&engine, &short(), "recent", json!({})).await;
    clock.advance_to(T0 + 91 * DAY_MS);

    assert_eq!(
        engine
            .delete_closed_executions(DEFAULT_RETENTION)
            .await
            .unwrap(),
        1
    );
    let after_first = engine.journal_stats().unwrap();
    assert_eq!(
        engine
            .delete_closed_executions(DEFAULT_RETENTION)
            .await
            .unwrap(),
        0
    );
    let after_second = engine.journal_stats().unwrap();
    assert_eq!(
        (after_second.executions, after_second.oldest_closed_stop_ms),
        (after_first.executions, after_first.oldest_closed_stop_ms)
    );
    assert_eq!(
        engine.describe_execution(&recent).unwrap().status,
        Status::Succeeded
    );
}

#[tokio::test]
async fn the_engine_sweeps_on_its_own_once_its_clock_has_moved_on() {
    let (engine, clock, _db) = open("retention-scheduled", Some(DEFAULT_RETENTION));
    let arn = run_to_close(&engine, &short(), "old", json!({})).await;
    clock.advance_to(T0 + 91 * DAY_MS);
    // The upkeep thread looks every 500 ms of wall time; nothing here moves
    // the clock further, so the sweep it finds due is the scheduled one.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while engine.journal_stats().unwrap().executions > 0 {
        assert!(std::time::Instant::now() < deadline, "no scheduled sweep");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(does_not_exist(engine.describe_execution(&arn)));
}

#[tokio::test]
async fn sweeping_a_burst_of_short_executions_leaves_small_files() {
    let (engine, clock, _db) = open("retention-burst", None);
    let machine = engine
        .upsert_state_machine("m", &short().to_string())
        .unwrap();
    // Inputs the size of a Zoom webhook's, so the burst fills megabytes.
    let input = json!({"payload": "z".repeat(4096)});
    let mut arns = Vec::new();
    for i in 0..300 {
        let started = engine
            .start_execution(&machine.arn, Some(&format!("e{i}")), input.clone())
            .await
            .unwrap();
        arns.push(started.execution_arn);
    }
    for arn in &arns {
        engine.wait_for(arn).await.unwrap();
    }
    let before = engine.journal_stats().unwrap();
    assert_eq!(before.closed, 300);

    clock.advance_to(T0 + 91 * DAY_MS);
    assert_eq!(
        engine
            .delete_closed_executions(DEFAULT_RETENTION)
            .await
            .unwrap(),
        300
    );

    // The upkeep thread cuts the log once the engine has been quiet for a
    // round of checkpoints.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let after = loop {
        let stats = engine.journal_stats().unwrap();
        if stats.wal_bytes <= WAL_SIZE_LIMIT || std::time::Instant::now() > deadline {
            break stats;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(after.executions, 0);
    assert!(after.wal_bytes <= WAL_SIZE_LIMIT, "{after:?}");
    assert_eq!(after.free_bytes, 0, "every freed page is given back");
    // The burst's data was in the database or still in the log.
    assert!(
        after.database_bytes * 10 < before.database_bytes + before.wal_bytes,
        "before: {before:?}\nafter: {after:?}"
    );
}
