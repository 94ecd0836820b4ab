//! Fault injection and the request log: the knobs that make the simulator
//! misbehave the way Zoom sometimes does (rate limits, 5xx, slow answers,
//! bodies trickled slowly, files whose bytes or headers do not match their
//! listing, error pages and redirects where the file should be), and the
//! record tests read to check how a client talked to it. The middleware
//! here wraps every route; it must let the simulator's own `/_sim` control
//! API through untouched and unlogged.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::{stream, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::state::Shared;

/// A fault on one recording file. The byte faults (`served_len`,
/// `corrupt_at`, `cut_after`, `misstated_length`) are applied by the CDN
/// when it serves bytes; `sign_in_page` and `redirect_to` by the file's
/// download URL, in place of its redirect to the CDN. The listing always
/// shows the true file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FileFault {
    /// Serve this many bytes instead of the file's true size (the listing
    /// keeps announcing the true size): the "announced size differs" fault.
    pub served_len: Option<u64>,
    /// Flip every bit of the byte at this offset whenever it is served.
    pub corrupt_at: Option<u64>,
    /// Abort each response body after this many bytes, after announcing the
    /// full `Content-Length`: a connection dropped mid-download.
    pub cut_after: Option<u64>,
    /// Announce a `Content-Length` this many bytes off what the response
    /// holds. Positive announces more than is sent: the body ends and the
    /// connection closes short of it. Negative announces fewer than the
    /// file (or range): the body stops at the announced length, a complete
    /// looking response that is short. `Content-Range` stays true.
    pub misstated_length: Option<i64>,
    /// The download URL answers `200 text/html` with Zoom's sign-in page
    /// instead of redirecting to the file, as Zoom does for a download it
    /// will not serve.
    pub sign_in_page: bool,
    /// The download URL redirects to this origin (`http://host:port`)
    /// instead of the simulator's CDN, with the CDN's path and signed
    /// query: a redirect to a host that is not Zoom's.
    pub redirect_to: Option<String>,
    /// How many responses the fault spoils before the file is served true
    /// again (`None`: every one): a fault that heals, as most network
    /// faults do. Each response the fault changes counts once.
    pub times: Option<u32>,
}

impl FileFault {
    /// Whether the fault changes what the CDN sends.
    pub(crate) fn spoils_bytes(&self) -> bool {
        self.served_len.is_some()
            || self.corrupt_at.is_some()
            || self.cut_after.is_some()
            || self.misstated_length.is_some()
    }

    /// Whether the fault changes how the download URL answers.
    pub(crate) fn spoils_download_url(&self) -> bool {
        self.sign_in_page || self.redirect_to.is_some()
    }
}

/// One request as the simulator saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LoggedRequest {
    pub method: String,
    /// The path as sent (still percent-encoded).
    pub path: String,
    pub query: Option<String>,
    /// The `Range` header, if any.
    pub range: Option<String>,
    pub status: u16,
}

#[derive(Clone, Debug)]
struct FailRule {
    path_prefix: String,
    status: StatusCode,
    remaining: u32,
    retry_after: Option<Duration>,
}

#[derive(Clone, Debug)]
struct DelayRule {
    path_prefix: String,
    delay: Duration,
}

#[derive(Clone, Debug)]
struct BodyRateRule {
    path_prefix: String,
    bytes_per_second: u64,
}

/// Whether a delay holds a request before it is handled, or its response
/// after (the request has taken effect; the client has no answer yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DelayWhen {
    Before,
    After,
}

/// The armed request-level faults.
#[derive(Clone, Debug, Default)]
pub(crate) struct Faults {
    fail: Vec<FailRule>,
    delays: Vec<DelayRule>,
    body_rates: Vec<BodyRateRule>,
    response_delays: Vec<DelayRule>,
}

impl Faults {
    pub(crate) fn fail_next(
        &mut self,
        path_prefix: &str,
        status: StatusCode,
        count: u32,
        retry_after: Option<Duration>,
    ) {
        self.fail.push(FailRule {
            path_prefix: path_prefix.to_owned(),
            status,
            remaining: count,
            retry_after,
        });
    }

    pub(crate) fn set_delay(&mut self, path_prefix: &str, delay: Duration) {
        self.set(DelayWhen::Before, path_prefix, delay);
    }

    pub(crate) fn set_response_delay(&mut self, path_prefix: &str, delay: Duration) {
        self.set(DelayWhen::After, path_prefix, delay);
    }

    fn set(&mut self, when: DelayWhen, path_prefix: &str, delay: Duration) {
        let rules = match when {
            DelayWhen::Before => &mut self.delays,
            DelayWhen::After => &mut self.response_delays,
        };
        rules.retain(|rule| rule.path_prefix != path_prefix);
        if !delay.is_zero() {
            rules.push(DelayRule {
                path_prefix: path_prefix.to_owned(),
                delay,
            });
        }
    }

    pub(crate) fn set_body_rate(&mut self, path_prefix: &str, bytes_per_second: u64) {
        self.body_rates
            .retain(|rule| rule.path_prefix != path_prefix);
        if bytes_per_second > 0 {
            self.body_rates.push(BodyRateRule {
                path_prefix: path_prefix.to_owned(),
                bytes_per_second,
            });
        }
    }

    pub(crate) fn clear(&mut self) {
        self.fail.clear();
        self.delays.clear();
        self.body_rates.clear();
        self.response_delays.clear();
    }

    /// The injected failure for a request to `path`, consuming one count of
    /// the first armed rule that matches.
    fn take_failure(&mut self, path: &str) -> Option<(StatusCode, Option<Duration>)> {
        let rule = self
            .fail
            .iter_mut()
            .find(|rule| rule.remaining > 0 && path.starts_with(&rule.path_prefix))?;
        rule.remaining -= 1;
        let taken = (rule.status, rule.retry_after);
        self.fail.retain(|rule| rule.remaining > 0);
        Some(taken)
    }

    fn delay_for(&self, when: DelayWhen, path: &str) -> Option<Duration> {
        match when {
            DelayWhen::Before => &self.delays,
            DelayWhen::After => &self.response_delays,
        }
        .iter()
        .filter(|rule| path.starts_with(&rule.path_prefix))
        .map(|rule| rule.delay)
        .max()
    }

    /// The slowest body rate armed for `path`.
    fn body_rate_for(&self, path: &str) -> Option<u64> {
        self.body_rates
            .iter()
            .filter(|rule| path.starts_with(&rule.path_prefix))
            .map(|rule| rule.bytes_per_second)
            .min()
    }
}

/// How often a trickled body sends its next slice.
const TRICKLE_TICK: Duration = Duration::from_millis(50);

/// The same response with its body sent at about `bytes_per_second`: a
/// slice every [`TRICKLE_TICK`], after the headers, which go at once. The
/// bytes and headers are unchanged, so only the time a download takes
/// differs.
fn trickled(response: Response, bytes_per_second: u64) -> Response {
    let per_tick = (bytes_per_second / (1000 / TRICKLE_TICK.as_millis() as u64)).max(1) as usize;
    let (parts, body) = response.into_parts();
    let slices = body
        .into_data_stream()
        .flat_map(move |chunk| {
            let slices: Vec<Result<Bytes, axum::Error>> = match chunk {
                Ok(mut bytes) => {
                    let mut slices = Vec::with_capacity(bytes.len() / per_tick + 1);
                    while !bytes.is_empty() {
                        slices.push(Ok(bytes.split_to(per_tick.min(bytes.len()))));
                    }
                    slices
                }
                Err(error) => vec![Err(error)],
            };
            stream::iter(slices)
        })
        .then(|slice| async move {
            tokio::time::sleep(TRICKLE_TICK).await;
            slice
        });
    Response::from_parts(parts, Body::from_stream(slices))
}

/// The response Zoom gives for an injected status: its rate-limit answer
/// for 429, a generic Zoom error body otherwise.
fn injected_response(status: StatusCode, retry_after: Option<Duration>) -> Response {
    let message = match status {
        StatusCode::TOO_MANY_REQUESTS => {
            "You have reached the maximum per-second rate limit for this API. Try again later."
        }
        StatusCode::SERVICE_UNAVAILABLE => "Service temporarily unavailable.",
        _ => "Internal server error (injected by zoom-sim).",
    };
    let mut response = (
        status,
        axum::Json(json!({"code": status.as_u16(), "message": message})),
    )
        .into_response();
    let headers = response.headers_mut();
    if status == StatusCode::TOO_MANY_REQUESTS {
        headers.insert("x-ratelimit-category", HeaderValue::from_static("Medium"));
        headers.insert("x-ratelimit-type", HeaderValue::from_static("QPS"));
    }
    if let Some(after) = retry_after {
        // Zoom sends whole seconds; round up so a client never retries early.
        let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
        if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
            headers.insert(header::RETRY_AFTER, value);
        }
    }
    response
}

/// Applies the delay, fail-next and body-rate knobs, logs the request with
/// the status it finally got, then holds the response if a response delay
/// says so. Requests to `/_sim` pass untouched and unlogged.
pub(crate) async fn zoom_surface(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if path == "/_sim" || path.starts_with("/_sim/") {
        return next.run(request).await;
    }
    let method = request.method().to_string();
    let query = request.uri().query().map(str::to_owned);
    let range = request
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);

    let delay = shared.lock().faults.delay_for(DelayWhen::Before, &path);
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let injected = shared.lock().faults.take_failure(&path);
    let mut response = match injected {
        Some((status, retry_after)) => injected_response(status, retry_after),
        None => next.run(request).await,
    };
    let body_rate = shared.lock().faults.body_rate_for(&path);
    if let Some(bytes_per_second) = body_rate {
        response = trickled(response, bytes_per_second);
    }
    // Logged as handled before a response delay: the request has taken
    // effect even if the client gives up waiting for the answer.
    let delay = shared.lock().faults.delay_for(DelayWhen::After, &path);
    shared.lock().log_request(LoggedRequest {
        method,
        path,
        query,
        range,
        status: response.status().as_u16(),
    });
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    response
}
