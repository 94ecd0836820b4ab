//! Redriving Parallel and Map states: what succeeded keeps its output, and
//! only failed branches and iterations (or those a stop left unfinished) run
//! again, each resuming at the state it stopped in, nested or not, under the
//! Map's MaxConcurrency and tolerated failures, across repeated redrives and
//! a restart in the middle.

use crate::support::{
    closed, history_has, history_has_n, lambda, start_with, temp_db, token_from_history, types_of,
    T0,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use zoomvault_asl::Failure;
use zoomvault_engine::{Clock, Engine, EngineConfig, Handlers, Status};

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
    assert_eq!(row.status, Status::Succeeded);
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
    assert_eq!(row.status, Status::Succeeded);
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
    assert_eq!(closed(&s.engine, &s.arn).await.status, Status::Failed);
    assert_eq!(
        calls.counts(),
        counts(&[("0", 1), ("1", 1), ("2", 1), ("3", 1)])
    );
    let before = s.engine.history(&s.arn).unwrap().len();

    s.engine.redrive_execution(&s.arn).await.unwrap();
    let row = closed(&s.engine, &s.arn).await;
    assert_eq!(row.status, Status::Succeeded);
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
    assert_eq!(closed(&s.engine, &s.arn).await.status, Status::Failed);
    for _ in 0..2 {
        s.engine.redrive_execution(&s.arn).await.unwrap();
        assert_eq!(closed(&s.engine, &s.arn).await.status, Status::Failed);
    }
    s.engine.redrive_execution(&s.arn).await.unwrap();
    let row = closed(&s.engine, &s.arn).await;
    assert_eq!(row.status, Status::Succeeded);
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
    assert_eq!(closed(&s.engine, &s.arn).await.status, Status::Failed);
    let before = s.engine.history(&s.arn).unwrap().len();

    s.engine.redrive_execution(&s.arn).await.unwrap();
    let row = closed(&s.engine, &s.arn).await;
    assert_eq!(row.status, Status::Succeeded);
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
        assert_eq!(closed(&s.engine, &s.arn).await.status, Status::Failed);
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
        assert_eq!(
            engine.describe_execution(&arn).unwrap().status,
            Status::Running
        );
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
    assert_eq!(row.status, Status::Succeeded);
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
    assert_eq!(closed(&s.engine, &s.arn).await.status, Status::Aborted);
    let before = s.engine.history(&s.arn).unwrap().len();

    s.engine.redrive_execution(&s.arn).await.unwrap();
    let token = token_from_history(&s.engine, &s.arn);
    assert_ne!(token, old_token);
    s.engine
        .send_task_success(&token, json!({"key": "1", "sent": true}))
        .await
        .unwrap();
    let row = closed(&s.engine, &s.arn).await;
    assert_eq!(row.status, Status::Succeeded);
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
