//! The Lambda Runtime API (version 2018-06-01) that one function process
//! talks to: `GET /runtime/invocation/next` long-polls for the next event,
//! `POST /runtime/invocation/{id}/response` and `/error` answer it, `POST
//! /runtime/init/error` reports a failed start. Each process gets its own
//! listener (its `AWS_LAMBDA_RUNTIME_API`), as each Lambda execution
//! environment has its own, so whatever arrives here is about that process.
//! This module only moves events and answers between the process and the
//! invoker waiting in `pool`; it decides no timeouts and kills nothing.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use tokio::sync::{mpsc, oneshot, watch};

/// The largest response Lambda returns from a synchronous invocation
/// (its error message names this number of bytes).
pub(crate) const RESPONSE_LIMIT: usize = 6_291_556;

/// Where a process is in its life, as the emulator sees it. Only moves
/// forward: Starting, then Ready or InitFailed, and Exited last of all.
#[derive(Debug, Clone)]
pub(crate) enum Phase {
    /// Spawned, has not asked for an event yet.
    Starting,
    /// Asked for its first event `init` after it was spawned.
    Ready { init: Duration },
    /// Posted to `/runtime/init/error`; the body is its error document.
    InitFailed(Bytes),
    /// The process ended; the status reads as Lambda reports it
    /// (`exit status 1`, `signal: killed`).
    Exited(String),
}

/// An event on its way to the process, and where its answer goes.
#[derive(Debug)]
pub(crate) struct Delivery {
    pub request_id: String,
    pub payload: Bytes,
    pub deadline_unix_ms: u128,
    pub invoked_function_arn: String,
    pub trace_id: String,
    pub reply: oneshot::Sender<Reply>,
}

/// What the process answered.
#[derive(Debug)]
pub(crate) enum Reply {
    /// The handler's result, posted to `/response`.
    Response(Bytes),
    /// An error document `{"errorType", "errorMessage"}`, posted to
    /// `/error` (or made by the emulator for an oversized response).
    Error(Bytes),
}

/// One process's side of the Runtime API.
#[derive(Debug)]
pub(crate) struct RuntimeState {
    pub spawned_at: Instant,
    pub phase: watch::Sender<Phase>,
    pub deliveries: tokio::sync::Mutex<mpsc::Receiver<Delivery>>,
    pub in_flight: Mutex<Option<InFlight>>,
}

/// The event the process holds now, waiting for its answer.
#[derive(Debug)]
pub(crate) struct InFlight {
    pub request_id: String,
    pub reply: oneshot::Sender<Reply>,
}

pub(crate) fn app(state: Arc<RuntimeState>) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        // Oversized responses are read and refused as Lambda refuses them,
        // rather than cut off by axum's 2 MB default.
        .layer(DefaultBodyLimit::max(4 * RESPONSE_LIMIT))
        .with_state(state)
}

async fn next(State(state): State<Arc<RuntimeState>>) -> Response {
    let init = state.spawned_at.elapsed();
    state.phase.send_if_modified(|phase| match phase {
        Phase::Starting => {
            *phase = Phase::Ready { init };
            true
        }
        _ => false,
    });
    let delivery = state.deliveries.lock().await.recv().await;
    let Some(delivery) = delivery else {
        // The emulator let go of this process; it is about to be killed.
        return StatusCode::GONE.into_response();
    };
    let mut headers = HeaderMap::new();
    let mut put = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    put("Lambda-Runtime-Aws-Request-Id", &delivery.request_id);
    put(
        "Lambda-Runtime-Deadline-Ms",
        &delivery.deadline_unix_ms.to_string(),
    );
    put(
        "Lambda-Runtime-Invoked-Function-Arn",
        &delivery.invoked_function_arn,
    );
    put("Lambda-Runtime-Trace-Id", &delivery.trace_id);
    put("Content-Type", "application/json");
    let payload = delivery.payload;
    *lock(&state.in_flight) = Some(InFlight {
        request_id: delivery.request_id,
        reply: delivery.reply,
    });
    (StatusCode::OK, headers, payload).into_response()
}

async fn response(
    State(state): State<Arc<RuntimeState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Some(in_flight) = take_in_flight(&state, &id) else {
        return invalid_request_id(&id);
    };
    if body.len() > RESPONSE_LIMIT {
        let message = format!(
            "Response payload size ({} bytes) exceeded maximum allowed payload size ({RESPONSE_LIMIT} bytes).",
            body.len()
        );
        let _ = in_flight.reply.send(Reply::Error(error_document(
            "Function.ResponseSizeTooLarge",
            &message,
        )));
        return runtime_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            &message,
        );
    }
    let _ = in_flight.reply.send(Reply::Response(body));
    accepted()
}

async fn error(
    State(state): State<Arc<RuntimeState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(in_flight) = take_in_flight(&state, &id) else {
        return invalid_request_id(&id);
    };
    let _ = in_flight
        .reply
        .send(Reply::Error(error_body(&headers, body)));
    accepted()
}

async fn init_error(
    State(state): State<Arc<RuntimeState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let document = error_body(&headers, body);
    state.phase.send_if_modified(|phase| match phase {
        Phase::Starting | Phase::Ready { .. } => {
            *phase = Phase::InitFailed(document);
            true
        }
        _ => false,
    });
    accepted()
}

/// The error document Lambda returns to the invoker: the runtime's own
/// body when it is a JSON object (lambda_runtime posts its `Diagnostic`,
/// whose `errorType` Step Functions matches on, so it passes unchanged),
/// otherwise one built from `Lambda-Runtime-Function-Error-Type`.
fn error_body(headers: &HeaderMap, body: Bytes) -> Bytes {
    if matches!(
        serde_json::from_slice(&body),
        Ok(serde_json::Value::Object(_))
    ) {
        return body;
    }
    let error_type = headers
        .get("Lambda-Runtime-Function-Error-Type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("Runtime.Unknown");
    error_document(error_type, &String::from_utf8_lossy(&body))
}

/// `{"errorType": ..., "errorMessage": ...}`, Lambda's error document.
pub(crate) fn error_document(error_type: &str, message: &str) -> Bytes {
    let document = serde_json::json!({"errorType": error_type, "errorMessage": message});
    Bytes::from(document.to_string())
}

fn take_in_flight(state: &RuntimeState, id: &str) -> Option<InFlight> {
    let mut in_flight = lock(&state.in_flight);
    match in_flight.as_ref() {
        Some(current) if current.request_id == id => in_flight.take(),
        _ => None,
    }
}

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        Json(serde_json::json!({"status": "OK"})),
    )
        .into_response()
}

fn invalid_request_id(id: &str) -> Response {
    runtime_error(
        StatusCode::BAD_REQUEST,
        "InvalidRequestID",
        &format!("Invalid request ID: {id}"),
    )
}

fn runtime_error(status: StatusCode, error_type: &str, message: &str) -> Response {
    let body = serde_json::json!({"errorType": error_type, "errorMessage": message});
    (status, Json(body)).into_response()
}

/// Locks a mutex whose data stays consistent even if a holder panicked
/// (each holder replaces the value whole).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
