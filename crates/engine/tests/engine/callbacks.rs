//! The callback pattern (`.waitForTaskToken`): SendTaskSuccess,
//! SendTaskFailure and SendTaskHeartbeat resume, fail or keep alive a waiting
//! Task; heartbeat timeouts; answers for a closed task change nothing; a
//! forged, malformed or foreign token is refused; a submitted task is not
//! dispatched again after a restart.

use crate::support::{
    callback_definition, closed, fact_count, history_has, start_on, temp_db, token_from_history,
    types_of, T0,
};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use zoomvault_engine::{Clock, Engine, EngineConfig, Error, Handlers, Status};

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
    assert_eq!(row.status, Status::Succeeded);
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
    assert_eq!(row.status, Status::Succeeded);
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
    assert_eq!(row.status, Status::Failed);
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
    assert_eq!(row.status, Status::Failed);
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
    assert_eq!(closed(&s.engine, &s.arn).await.status, Status::Succeeded);
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
    assert_eq!(row.status, Status::Succeeded);
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
    assert_eq!(closed(&s.engine, &s.arn).await.status, Status::Succeeded);
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
