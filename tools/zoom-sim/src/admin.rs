//! The simulator's own control API under `/_sim/...` (JSON in, JSON out):
//! the same controls the Rust library offers, for the `zoom-sim` binary and
//! for scripts driving a running simulator. Nothing here is part of Zoom's
//! surface, so these routes bypass fault injection and the request log.
//! Handlers must not hold the state's lock across an await: webhooks are
//! delivered, and files hashed, after it is released.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::config::{DemoSizes, DownloadErrorBody, UserSpec};
use crate::error::Error;
use crate::faults::FileFault;
use crate::model::{FileRef, MeetingSpec};
use crate::state::{RecordingState, Shared};
use crate::webhook::{self, WebhookOptions};

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/info", get(info))
        .route("/users", get(users).post(add_user))
        .route("/meetings", get(meetings).post(add_meeting))
        .route("/meetings/demo", post(add_demo_meeting))
        .route("/trash", get(trash))
        .route("/expected-sha256", get(expected_sha256))
        .route(
            "/webhooks/recording-completed",
            post(send_recording_completed),
        )
        .route("/webhooks/url-validation", post(send_url_validation))
        .route("/access-tokens", post(issue_access_token))
        .route("/access-tokens/expire", post(expire_access_tokens))
        .route("/download-tokens/expire", post(expire_download_tokens))
        .route("/clock/advance", post(advance_clock))
        .route("/range-support", post(set_range_support))
        .route("/download-error-body", post(set_download_error_body))
        .route("/faults/fail-next", post(fail_next))
        .route("/faults/delay", post(set_delay))
        .route("/faults/body-rate", post(set_body_rate))
        .route("/faults/file", post(set_file_fault))
        .route("/faults/clear", post(clear_faults))
        .route("/requests", get(requests).delete(clear_requests))
}

/// Parses a JSON request body; an empty body reads as `{}` so that requests
/// whose fields all have defaults need no body.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| Error::Admin(format!("invalid JSON body: {e}")))
}

fn ok() -> Json<Value> {
    Json(json!({"ok": true}))
}

async fn info(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let config = &shared.config;
    Json(json!({
        "base_url": shared.base_url,
        "api_base_url": format!("{}/v2", shared.base_url),
        "oauth_token_url": format!("{}/oauth/token", shared.base_url),
        "account_id": config.account_id,
        "client_id": config.client_id,
        "client_secret": config.client_secret,
        "webhook_secret_token": config.webhook_secret_token,
        "seed": config.seed,
        "token_ttl_secs": config.token_ttl.as_secs_f64(),
        "download_token_ttl_secs": config.download_token_ttl.as_secs_f64(),
    }))
}

async fn users(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!(shared.lock().users()))
}

async fn add_user(State(shared): State<Arc<Shared>>, body: Bytes) -> Result<Json<Value>, Error> {
    let spec: UserSpec = parse(&body)?;
    Ok(Json(json!(shared.lock().add_user(spec))))
}

async fn meetings(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let state = shared.lock();
    let list: Vec<Value> = state
        .meetings()
        .map(|e| json!({"state": e.state, "meeting": e.meeting}))
        .collect();
    Json(json!(list))
}

async fn add_meeting(State(shared): State<Arc<Shared>>, body: Bytes) -> Result<Json<Value>, Error> {
    let spec: MeetingSpec = parse(&body)?;
    let meeting = shared
        .lock()
        .add_meeting(&shared.config, &shared.base_url, spec);
    Ok(Json(json!(meeting)))
}

async fn add_demo_meeting(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Json<Value>, Error> {
    #[derive(Deserialize)]
    struct Demo {
        sizes: Option<DemoSizes>,
    }
    let demo: Demo = parse(&body)?;
    let sizes = demo.sizes.unwrap_or_else(|| shared.config.demo.clone());
    let meeting =
        shared
            .lock()
            .add_meeting(&shared.config, &shared.base_url, MeetingSpec::demo(&sizes));
    Ok(Json(json!(meeting)))
}

async fn trash(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let state = shared.lock();
    let uuids: Vec<&str> = state
        .meetings()
        .filter(|e| e.state == RecordingState::Trashed)
        .map(|e| e.meeting.uuid.as_str())
        .collect();
    Json(json!(uuids))
}

#[derive(Deserialize)]
struct FileQuery {
    meeting_uuid: String,
    /// A position in `recording_files` or a file id.
    file: String,
}

fn file_ref(text: &str) -> FileRef {
    match text.parse::<usize>() {
        Ok(index) => FileRef::Index(index),
        Err(_) => FileRef::Id(text.to_owned()),
    }
}

async fn expected_sha256(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<FileQuery>,
) -> Result<Json<Value>, Error> {
    let file = shared
        .lock()
        .sim_file(&query.meeting_uuid, &file_ref(&query.file))
        .cloned()
        .ok_or_else(|| Error::Admin("no such meeting or file".to_owned()))?;
    // Hashing a large file takes a while; keep it off the async workers.
    let sha256 = tokio::task::spawn_blocking(move || file.expected_sha256())
        .await
        .map_err(|e| Error::Admin(format!("hashing failed: {e}")))?;
    Ok(Json(json!({"sha256": sha256})))
}

#[derive(Deserialize)]
struct RecordingCompletedRequest {
    to: String,
    /// The meeting; the most recently added listed one when absent.
    meeting_uuid: Option<String>,
    #[serde(default)]
    options: WebhookOptions,
}

async fn send_recording_completed(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Json<Value>, Error> {
    let request: RecordingCompletedRequest = parse(&body)?;
    let config = &shared.config;
    let (event, now) = {
        let mut state = shared.lock();
        let uuid = match request.meeting_uuid {
            Some(uuid) => uuid,
            None => state
                .meetings()
                .filter(|e| e.state == RecordingState::Active)
                .last()
                .map(|e| e.meeting.uuid.clone())
                .ok_or_else(|| Error::Admin("the simulator has no meetings".to_owned()))?,
        };
        let event = webhook::recording_completed_event(
            &mut state,
            &config.account_id,
            config.download_token_ttl,
            &uuid,
        )
        .ok_or_else(|| Error::Admin(format!("no meeting with UUID {uuid:?}")))?;
        (event, state.now())
    };
    let (status, response) = webhook::deliver(
        &config.webhook_secret_token,
        now,
        &request.to,
        &event,
        &request.options,
    )
    .await
    .map_err(|e| Error::Admin(format!("{e:#}")))?;
    Ok(Json(
        json!({"status": status, "body": response, "event": event}),
    ))
}

#[derive(Deserialize)]
struct UrlValidationRequest {
    to: String,
    plain_token: Option<String>,
    #[serde(default)]
    options: WebhookOptions,
}

async fn send_url_validation(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Json<Value>, Error> {
    let request: UrlValidationRequest = parse(&body)?;
    let config = &shared.config;
    let (plain_token, now) = {
        let mut state = shared.lock();
        let token = request
            .plain_token
            .clone()
            .unwrap_or_else(|| state.fresh_secret(16));
        (token, state.now())
    };
    let event = webhook::url_validation_event(now, &plain_token);
    let (status, response) = webhook::deliver(
        &config.webhook_secret_token,
        now,
        &request.to,
        &event,
        &request.options,
    )
    .await
    .map_err(|e| Error::Admin(format!("{e:#}")))?;
    let expected =
        webhook::url_validation_encrypted_token(&config.webhook_secret_token, &plain_token);
    let answered = serde_json::from_str::<Value>(&response).ok();
    let valid = answered.as_ref().is_some_and(|a| {
        a.get("plainToken").and_then(Value::as_str) == Some(plain_token.as_str())
            && a.get("encryptedToken").and_then(Value::as_str) == Some(expected.as_str())
    });
    Ok(Json(json!({
        "status": status,
        "body": response,
        "plain_token": plain_token,
        "expected_encrypted_token": expected,
        "valid": valid,
    })))
}

async fn issue_access_token(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let (token, expires_in) = shared.lock().issue_access_token(shared.config.token_ttl);
    Json(json!({"access_token": token, "expires_in": expires_in}))
}

async fn expire_access_tokens(State(shared): State<Arc<Shared>>) -> Json<Value> {
    shared.lock().expire_access_tokens();
    ok()
}

async fn expire_download_tokens(State(shared): State<Arc<Shared>>) -> Json<Value> {
    shared.lock().expire_download_tokens();
    ok()
}

async fn advance_clock(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Json<Value>, Error> {
    #[derive(Deserialize)]
    struct Advance {
        secs: f64,
    }
    let advance: Advance = parse(&body)?;
    let by = Duration::try_from_secs_f64(advance.secs)
        .map_err(|_| Error::Admin("secs must be a non-negative number".to_owned()))?;
    shared.lock().advance_clock(by);
    Ok(ok())
}

async fn set_range_support(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Json<Value>, Error> {
    #[derive(Deserialize)]
    struct RangeSupport {
        enabled: bool,
    }
    let knob: RangeSupport = parse(&body)?;
    shared.lock().range_support = knob.enabled;
    Ok(ok())
}

async fn set_download_error_body(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Json<Value>, Error> {
    #[derive(Deserialize)]
    struct ErrorBody {
        body: DownloadErrorBody,
    }
    let knob: ErrorBody = parse(&body)?;
    shared.lock().download_error_body = knob.body;
    Ok(ok())
}

async fn fail_next(State(shared): State<Arc<Shared>>, body: Bytes) -> Result<Json<Value>, Error> {
    #[derive(Deserialize)]
    struct FailNext {
        path_prefix: String,
        status: u16,
        #[serde(default = "one")]
        count: u32,
        retry_after_secs: Option<u64>,
    }
    fn one() -> u32 {
        1
    }
    let knob: FailNext = parse(&body)?;
    let status = StatusCode::from_u16(knob.status)
        .map_err(|_| Error::Admin(format!("{} is not an HTTP status", knob.status)))?;
    shared.lock().faults.fail_next(
        &knob.path_prefix,
        status,
        knob.count,
        knob.retry_after_secs.map(Duration::from_secs),
    );
    Ok(ok())
}

async fn set_delay(State(shared): State<Arc<Shared>>, body: Bytes) -> Result<Json<Value>, Error> {
    #[derive(Deserialize)]
    struct Delay {
        path_prefix: String,
        delay_ms: u64,
    }
    let knob: Delay = parse(&body)?;
    shared
        .lock()
        .faults
        .set_delay(&knob.path_prefix, Duration::from_millis(knob.delay_ms));
    Ok(ok())
}

async fn set_body_rate(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Json<Value>, Error> {
    #[derive(Deserialize)]
    struct BodyRate {
        path_prefix: String,
        bytes_per_second: u64,
    }
    let knob: BodyRate = parse(&body)?;
    shared
        .lock()
        .faults
        .set_body_rate(&knob.path_prefix, knob.bytes_per_second);
    Ok(ok())
}

async fn set_file_fault(
    State(shared): State<Arc<Shared>>,
    body: Bytes,
) -> Result<Json<Value>, Error> {
    #[derive(Deserialize)]
    struct Fault {
        meeting_uuid: String,
        file: String,
        #[serde(flatten)]
        fault: FileFault,
    }
    let knob: Fault = parse(&body)?;
    if shared
        .lock()
        .set_file_fault(&knob.meeting_uuid, &file_ref(&knob.file), knob.fault)
    {
        Ok(ok())
    } else {
        Err(Error::Admin("no such meeting or file".to_owned()))
    }
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let mut state = shared.lock();
    state.faults.clear();
    state.clear_file_faults();
    ok()
}

async fn requests(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!(shared.lock().log))
}

async fn clear_requests(State(shared): State<Arc<Shared>>) -> Json<Value> {
    shared.lock().log.clear();
    ok()
}
