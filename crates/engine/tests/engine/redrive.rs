//! RedriveExecution of whole executions: a failed, aborted or timed-out
//! execution resumes at the state that did not finish, keeps its history
//! and counts its redrives; a callback task waits again with a new token,
//! and the execution timeout counts again from the redrive; running,
//! missing and too-old executions are refused without journaling anything;
//! a redriven execution survives a restart.

use crate::support::{
    callback_definition, closed, fact_count, start_on, temp_db, token_from_history, types_of, T0,
};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use zoomvault_asl::Failure;
use zoomvault_engine::{Clock, Engine, EngineConfig, Error, Handlers, RedriveStatus, Status};

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
    assert_eq!(failed.status, Status::Failed);
    assert_eq!(failed.error.as_deref(), Some("Flaky.Down"));
    assert_eq!((failed.redrive_count, failed.redrive_ms), (0, None));
    assert_eq!(
        s.engine.redrive_status(&s.arn).unwrap(),
        RedriveStatus::Redrivable
    );
    let before = s.engine.history(&s.arn).unwrap();

    let redriven_at = s.engine.redrive_execution(&s.arn).await.unwrap();
    let row = closed(&s.engine, &s.arn).await;
    assert_eq!(row.status, Status::Succeeded);
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
    assert_eq!(row.status, Status::Failed);
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
    assert_eq!(closed(&s.engine, &s.arn).await.status, Status::Aborted);
    s.engine.redrive_execution(&s.arn).await.unwrap();
    assert_eq!(
        s.engine.describe_execution(&s.arn).unwrap().status,
        Status::Running
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
    assert_eq!(row.status, Status::Succeeded);
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
    assert_eq!(first.status, Status::TimedOut);
    let redriven_at = s.engine.redrive_execution(&s.arn).await.unwrap();
    let second = closed(&s.engine, &s.arn).await;
    assert_eq!(second.status, Status::TimedOut);
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
        assert_eq!(closed(&s.engine, &s.arn).await.status, Status::Failed);
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
        assert_eq!((row.status, row.redrive_count), (Status::Running, 1));
    }
    let mut config = EngineConfig::new(&db);
    config.clock = Clock::virtual_at(T0 + 120_000);
    let engine = Engine::open(config, first_then_flaky(&first, &flaky)).unwrap();
    let row = closed(&engine, &arn).await;
    assert_eq!(row.status, Status::Succeeded);
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
