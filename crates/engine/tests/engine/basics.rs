//! One execution from start to close, through the public API: Pass chains,
//! Lambda invoke payloads, Retry then Catch, Map order, Parallel failures
//! and a Parallel caught at once, Waits and the execution timeout on virtual
//! time, idempotent starts by name, StopExecution, a restart that resumes
//! a waiting execution, and a shutdown that journals nothing more.

use crate::support::{echo, lambda, run, temp_db};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use zoomvault_asl::Failure;
use zoomvault_engine::{Clock, Engine, EngineConfig, Handlers, Status};

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
    assert_eq!(out.status, Status::Succeeded);
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
    assert_eq!(out.status, Status::Succeeded);
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
    assert_eq!(out.status, Status::Succeeded);
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
    assert_eq!(out.status, Status::Failed);
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
    assert_eq!(out.status, Status::Succeeded);
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
    assert_eq!(out.status, Status::TimedOut);
    // AWS reports no error or cause for a TIMED_OUT execution.
    assert_eq!(out.error, None);
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
    assert_eq!(row.status, Status::Aborted);
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
    assert_eq!(row.status, Status::Succeeded);
    assert_eq!(row.output.as_deref(), Some(r#"{"k":"v"}"#));
    assert_eq!(
        engine.replay_history(&arn).unwrap(),
        engine.history(&arn).unwrap()
    );
}

/// A graceful stop: `shutdown` before the process tears its running tasks
/// down, so what the teardown makes them answer (here an error) is not
/// journaled, and the task runs again after a restart, as after a crash.
#[tokio::test]
async fn a_task_that_ends_after_shutdown_is_not_journaled_and_runs_again() {
    let db = temp_db("shutdown");
    let def = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": lambda("step"), "End": true}
    }});
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
    let slots = Arc::new(std::sync::Mutex::new(Some((started_tx, release_rx))));
    let mut handlers = Handlers::new();
    handlers.register("step", move |_| {
        let slot = slots.lock().unwrap().take();
        async move {
            let (started, release) = slot.expect("invoked once");
            let _ = started.send(());
            let _ = release.await;
            Err(Failure::new(
                "Storage.Failed",
                "the runtime is shutting down",
            ))
        }
    });
    let engine = Engine::open(EngineConfig::new(&db), handlers).unwrap();
    let sm = engine
        .create_state_machine("shutdown", &def.to_string(), None)
        .unwrap();
    let arn = engine
        .start_execution(&sm.arn, None, json!({"k": "v"}))
        .await
        .unwrap()
        .execution_arn;
    started_rx.await.unwrap();
    engine.shutdown();
    release_tx.send(()).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    drop(engine);

    let engine = Engine::open(EngineConfig::new(&db), echo_as("step")).unwrap();
    let row = engine.wait_for(&arn).await.unwrap();
    assert_eq!(row.status, Status::Succeeded, "{:?}", row.cause);
    assert_eq!(row.output.as_deref(), Some(r#"{"k":"v"}"#));
}

fn echo_as(name: &str) -> Handlers {
    let mut handlers = Handlers::new();
    handlers.register(name, |request: zoomvault_engine::TaskRequest| async move {
        Ok(request.input)
    });
    handlers
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
    assert_eq!(out.status, Status::Succeeded);
    assert_eq!(
        out.output,
        // The Fail state has no Cause, so the error output has none.
        Some(json!({"error": {"Error": "Branch.Broke"}}))
    );
    assert!(!out.types.contains(&"PassStateEntered".to_string()));
}

#[tokio::test]
async fn a_state_output_nested_past_the_engine_s_limit_fails_with_states_runtime() {
    // A loop wraps the value one level per turn; past 256 levels
    // (`limits::MAX_NESTING_DEPTH`, a known difference from AWS) the state
    // that would produce it fails, rather than a thread's stack.
    let out = run(
        json!({"StartAt": "Init", "States": {
            "Init": {"Type": "Pass", "Parameters": {"n": 0, "v": "leaf"}, "Next": "Wrap"},
            "Wrap": {"Type": "Pass",
                     "Parameters": {"n.$": "States.MathAdd($.n, 1)", "v": {"a.$": "$.v"}},
                     "Next": "Check"},
            "Check": {"Type": "Choice",
                      "Choices": [{"Variable": "$.n", "NumericLessThan": 400, "Next": "Wrap"}],
                      "Default": "Done"},
            "Done": {"Type": "Succeed"}
        }}),
        json!({}),
        Handlers::new(),
    )
    .await;
    assert_eq!(out.status, Status::Failed);
    assert_eq!(out.error.as_deref(), Some("States.Runtime"));
    let cause = out.cause.unwrap_or_default();
    assert!(
        cause.starts_with("An error occurred while executing the state 'Wrap'")
            && cause.ends_with(
                "The state/task 'Wrap' returned a result nesting arrays and objects more \
                 than 256 deep, the embedded engine's limit."
            ),
        "{cause}"
    );
}

/// A JSONata expression that fails records AWS's EvaluationFailed event,
/// with the error, the cause, the field and the state, once per attempt
/// (https://docs.aws.amazon.com/step-functions/latest/apireference/API_EvaluationFailedEventDetails.html);
/// a catcher then takes the failure as it takes any other.
#[tokio::test]
async fn a_failed_jsonata_expression_records_evaluation_failed_per_attempt() {
    let mut config = EngineConfig::new(temp_db("evaluation-failed"));
    config.clock = Clock::virtual_at(1_700_000_000_000);
    let engine = Engine::open(config, echo()).unwrap();
    let definition = json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": lambda("echo"),
              "Arguments": {"v": "{% $states.input.absent %}"},
              "Retry": [{"ErrorEquals": ["States.QueryEvaluationError"], "MaxAttempts": 1, "IntervalSeconds": 1}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
              "End": true},
        "Caught": {"Type": "Pass", "Output": "{% $states.input.Error %}", "End": true}
    }});
    let sm = engine
        .create_state_machine("evaluation-failed", &definition.to_string(), None)
        .unwrap();
    let started = engine
        .start_execution(&sm.arn, Some("e1"), json!({}))
        .await
        .unwrap();
    let row = engine.wait_for(&started.execution_arn).await.unwrap();
    assert_eq!(row.status, Status::Succeeded);
    assert_eq!(
        row.output.as_deref(),
        Some("\"States.QueryEvaluationError\"")
    );
    let history = engine.history(&started.execution_arn).unwrap();
    assert_eq!(
        engine.replay_history(&started.execution_arn).unwrap(),
        history
    );
    let failed: Vec<_> = history
        .iter()
        .filter(|e| e["type"] == "EvaluationFailed")
        .collect();
    assert_eq!(failed.len(), 2, "one per attempt: {history:#?}");
    assert_eq!(
        failed[0]["evaluationFailedEventDetails"],
        json!({
            "error": "States.QueryEvaluationError",
            "cause": "An error occurred while executing the state 'T' (entered at the event id #2). The JSONata expression '$states.input.absent' specified for the field 'Arguments/v' returned nothing (undefined).",
            "location": "Arguments/v",
            "state": "T"
        })
    );
}
