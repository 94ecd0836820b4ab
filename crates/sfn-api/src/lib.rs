//! The Step Functions wire API over zoomvault's engine: AWS JSON 1.0
//! (`POST /` with `X-Amz-Target: AWSStepFunctions.<Action>`), AWS's error
//! shapes, SigV4 verification, and the console page. It translates and
//! checks; every decision about executions stays in the engine.
//!
//! `app` is the whole endpoint as an axum `Router`, so `zoomvault serve`
//! mounts it beside the webhook and tests drive it over a real socket with
//! aws-sdk-sfn.

mod api;
pub mod console;
pub mod error;
pub mod sigv4;

/// Measures the heap each fuzzing case holds (`zoomvault_fuzz::check`).
#[cfg(test)]
#[global_allocator]
static ALLOCATOR: zoomvault_fuzz::CountingAllocator = zoomvault_fuzz::CountingAllocator;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use error::{ApiError, CONTENT_TYPE};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use zoomvault_engine::Engine;

/// The `X-Amz-Target` prefix of every Step Functions action.
pub const TARGET_PREFIX: &str = "AWSStepFunctions.";

/// Who may call the endpoint.
#[derive(Debug, Clone, Default)]
pub enum Auth {
    /// For a listener on loopback, where only this machine's users can
    /// connect (as with Step Functions Local): any access key is accepted
    /// and the signature is not checked, though a SigV4 `Authorization`
    /// header, when sent, must be well formed. Unsigned requests (the
    /// console's) are accepted.
    #[default]
    Open,
    /// Every request must be SigV4-signed with one of the verifier's keys.
    Signed(Arc<sigv4::Verifier>),
}

#[derive(Debug, Clone, Default)]
pub struct ApiConfig {
    pub auth: Auth,
}

#[derive(Debug)]
struct Endpoint {
    cx: api::Context,
    config: ApiConfig,
    requests: AtomicU64,
}

/// The endpoint: the API at `POST /`, the console at `/console`.
pub fn app(engine: Engine, config: ApiConfig) -> Router {
    let endpoint = Arc::new(Endpoint {
        cx: api::Context::new(engine),
        config,
        requests: AtomicU64::new(0),
    });
    Router::new()
        .route("/", post(handle))
        .with_state(endpoint)
        .merge(console::routes())
}

async fn handle(
    State(endpoint): State<Arc<Endpoint>>,
    method: Method,
    // The router is merged, never nested, so this is the URI as sent,
    // which the signature covers.
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request_id = request_id(endpoint.requests.fetch_add(1, Ordering::Relaxed));
    // Too big (over axum's 2 MB default, above AWS's 1 MB definitions and
    // 256 KB inputs) or cut off: answered in AWS's shape, not axum's text.
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let e = ApiError::new(
                "ValidationException",
                format!("The request body could not be read: {rejection}"),
            )
            .with_status(rejection.status());
            return respond(Err(e), &request_id);
        }
    };
    let result = match authenticate(&endpoint.config.auth, &method, &uri, &headers, &body)
        .and_then(|()| action(&headers))
    {
        Ok(action) => api::dispatch(&endpoint.cx, action, &body).await,
        Err(e) => Err(e),
    };
    respond(result, &request_id)
}

/// The HTTP answer to an action's result, with its request id.
fn respond(result: Result<serde_json::Value, ApiError>, request_id: &str) -> Response {
    let mut response = match result {
        Ok(value) => {
            let mut r = (StatusCode::OK, value.to_string()).into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
            r
        }
        Err(e) => {
            if e.status.is_server_error() {
                tracing::error!(error = e.name, message = %e.message, "Step Functions API request failed");
            }
            e.into_response()
        }
    };
    if let Ok(v) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amzn-requestid", v);
    }
    response
}

/// Checks the request's signature as `auth` requires, before anything in
/// it is read.
fn authenticate(
    auth: &Auth,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), ApiError> {
    let refused = |e: sigv4::Error| {
        ApiError::new(e.aws_type(), e.message())
            .with_status(StatusCode::from_u16(e.status()).unwrap_or(StatusCode::FORBIDDEN))
    };
    match auth {
        Auth::Open if headers.contains_key(header::AUTHORIZATION) => {
            sigv4::parse_authorization(headers)
                .map(|_| ())
                .map_err(refused)
        }
        Auth::Open => Ok(()),
        Auth::Signed(verifier) => {
            match verifier.verify(method, uri, headers, body, time::OffsetDateTime::now_utc()) {
                Ok(_) => Ok(()),
                Err(e) => {
                    tracing::warn!(error = e.aws_type(), "refused a Step Functions API request");
                    Err(refused(e))
                }
            }
        }
    }
}

/// The action named by `X-Amz-Target`.
fn action(headers: &HeaderMap) -> Result<&str, ApiError> {
    let target = headers
        .get("x-amz-target")
        .ok_or_else(|| {
            ApiError::new(
                "UnknownOperationException",
                "Missing X-Amz-Target header: expected AWSStepFunctions.<Action>",
            )
        })?
        .to_str()
        .map_err(|_| ApiError::unknown_operation("<not text>"))?;
    target
        .strip_prefix(TARGET_PREFIX)
        .ok_or_else(|| ApiError::unknown_operation(target))
}

/// A request id in UUID layout, unique within the process (AWS's clients
/// log it; nothing parses it).
fn request_id(n: u64) -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (t >> 32) as u32,
        (t >> 16) as u16,
        t as u16 & 0xfff,
        (n >> 48) as u16 & 0xfff,
        n & 0xffff_ffff_ffff
    )
}
