//! The Lambda Invoke API, as aws-sdk-lambda's `invoke` calls it: `POST
//! /2015-03-31/functions/{FunctionName}/invocations`, the function named
//! by name, `name:qualifier`, partial or full ARN (with `?Qualifier=`
//! too), and `X-Amz-Invocation-Type` RequestResponse (200 with the
//! payload), Event (202, run in the background) or DryRun (204). A
//! function's failure is 200 with `X-Amz-Function-Error: Unhandled` and
//! the error document as payload, as Lambda answers; refusals come from
//! `error`. Signatures are accepted unread. Also `GET /emulator/functions`,
//! the emulator's own counters (init durations) for a harness that runs
//! the binary. This module reads requests and writes responses; running
//! an invocation is `pool`'s.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;

use crate::error::Error;
use crate::pool::{Function, Invocation, Outcome};

/// Lambda's limit on a synchronous invocation's request payload.
const SYNC_REQUEST_LIMIT: usize = 6 * 1024 * 1024;
/// Lambda's limit on an asynchronous (Event) invocation's payload.
const EVENT_REQUEST_LIMIT: usize = 1024 * 1024;

/// The functions by name.
#[derive(Debug)]
pub(crate) struct Functions {
    pub by_name: BTreeMap<String, Arc<Function>>,
    pub region: String,
    pub account: String,
}

pub(crate) fn app(functions: Arc<Functions>) -> Router {
    Router::new()
        .route("/2015-03-31/functions/{function}/invocations", post(invoke))
        .route("/emulator/functions", get(metrics))
        .fallback(unknown_operation)
        // Oversized payloads are read and refused with Lambda's exception
        // rather than cut off by axum's 2 MB default.
        .layer(DefaultBodyLimit::max(4 * SYNC_REQUEST_LIMIT))
        .with_state(functions)
}

/// How the caller asked to invoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InvocationType {
    RequestResponse,
    Event,
    DryRun,
}

async fn invoke(
    State(functions): State<Arc<Functions>>,
    Path(reference): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    payload: Bytes,
) -> Result<Response, Error> {
    let (name, qualifier) = function_reference(&reference);
    let qualifier = match (qualifier, query.get("Qualifier").map(String::as_str)) {
        (Some(derived), Some(given)) if derived != given => {
            return Err(Error::InvalidParameterValue(
                "The derived qualifier from the function name does not match the specified qualifier."
                    .to_owned(),
            ))
        }
        (derived, given) => derived.or(given),
    };
    let invoked_function_arn = match qualifier {
        Some(qualifier) => format!("{}:{qualifier}", functions.arn(name)),
        None => functions.arn(name),
    };
    let function = functions
        .by_name
        .get(name)
        .ok_or_else(|| Error::ResourceNotFound(invoked_function_arn.clone()))?;
    let invocation_type = match headers
        .get("X-Amz-Invocation-Type")
        .map(|v| v.to_str().unwrap_or(""))
    {
        None | Some("RequestResponse") => InvocationType::RequestResponse,
        Some("Event") => InvocationType::Event,
        Some("DryRun") => InvocationType::DryRun,
        Some(other) => {
            return Err(Error::InvalidParameterValue(format!(
                "1 validation error detected: Value '{other}' at 'invocationType' failed to \
                 satisfy constraint: Member must satisfy enum value set: \
                 [Event, RequestResponse, DryRun]"
            )))
        }
    };
    let (limit, operation) = match invocation_type {
        InvocationType::Event => (EVENT_REQUEST_LIMIT, "Invoke (asynchronous)"),
        _ => (SYNC_REQUEST_LIMIT, "Invoke"),
    };
    if payload.len() > limit {
        return Err(Error::RequestTooLarge { limit, operation });
    }
    // Lambda hands a function `{}` when the caller sent no payload.
    let payload = if payload.iter().all(u8::is_ascii_whitespace) {
        Bytes::from_static(b"{}")
    } else {
        serde_json::from_slice::<serde::de::IgnoredAny>(&payload)
            .map_err(|error| Error::InvalidRequestContent(error.to_string()))?;
        payload
    };
    let request_id = uuid::Uuid::new_v4().to_string();
    let invocation = Invocation {
        request_id: request_id.clone(),
        payload,
        invoked_function_arn,
    };
    let response = match invocation_type {
        InvocationType::DryRun => StatusCode::NO_CONTENT.into_response(),
        InvocationType::Event => {
            let function = function.clone();
            tokio::spawn(async move {
                function.invoke(invocation).await;
            });
            StatusCode::ACCEPTED.into_response()
        }
        InvocationType::RequestResponse => {
            let (body, function_error) = match function.invoke(invocation).await {
                Outcome::Success(body) => (body, None),
                Outcome::Unhandled(document) => (document, Some("Unhandled")),
            };
            let mut response = (StatusCode::OK, body).into_response();
            let headers = response.headers_mut();
            headers.insert("Content-Type", HeaderValue::from_static("application/json"));
            headers.insert(
                "X-Amz-Executed-Version",
                HeaderValue::from_static("$LATEST"),
            );
            if let Some(function_error) = function_error {
                headers.insert(
                    "X-Amz-Function-Error",
                    HeaderValue::from_static(function_error),
                );
            }
            response
        }
    };
    Ok(with_request_id(response, &request_id))
}

async fn metrics(State(functions): State<Arc<Functions>>) -> Json<serde_json::Value> {
    let by_name: serde_json::Map<String, serde_json::Value> = functions
        .by_name
        .iter()
        .map(|(name, function)| {
            let metrics = function.metrics();
            let init_ms: Vec<f64> = metrics
                .init_durations
                .iter()
                .map(|d| d.as_secs_f64() * 1000.0)
                .collect();
            let value = serde_json::json!({
                "invocations": metrics.invocations,
                "processesStarted": metrics.processes_started,
                "initDurationsMs": init_ms,
            });
            (name.clone(), value)
        })
        .collect();
    Json(serde_json::json!({ "functions": by_name }))
}

async fn unknown_operation() -> Response {
    let body = serde_json::json!({"Type": "User", "message": "Unknown operation"});
    let mut response = (StatusCode::NOT_FOUND, Json(body)).into_response();
    response.headers_mut().insert(
        "x-amzn-ErrorType",
        HeaderValue::from_static("UnknownOperationException"),
    );
    response
}

fn with_request_id(mut response: Response, request_id: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amzn-RequestId", value);
    }
    response
}

impl Functions {
    /// The unqualified ARN of the function `name` in this emulator.
    pub fn arn(&self, name: &str) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{name}",
            self.region, self.account
        )
    }
}

/// The function name and qualifier in a `FunctionName`: `name`,
/// `name:qualifier`, `account:function:name[:qualifier]` or
/// `arn:aws:lambda:region:account:function:name[:qualifier]`. The region
/// and account of an ARN are not checked, so an ARN copied from a
/// deployment works unchanged.
fn function_reference(reference: &str) -> (&str, Option<&str>) {
    let name = zoomvault_arn::lambda_function_name(reference);
    if name == reference {
        return match reference.split_once(':') {
            Some((name, qualifier)) => (name, Some(qualifier)),
            None => (reference, None),
        };
    }
    let after_name = reference
        .split(':')
        .skip_while(|part| *part != "function")
        .nth(2);
    (name, after_name)
}

#[cfg(test)]
mod tests {
    use super::function_reference;

    #[test]
    fn function_references_name_the_function_and_its_qualifier() {
        let cases = [
            ("fixture", ("fixture", None)),
            ("fixture:live", ("fixture", Some("live"))),
            ("fixture:$LATEST", ("fixture", Some("$LATEST"))),
            ("123456789012:function:fixture", ("fixture", None)),
            ("123456789012:function:fixture:7", ("fixture", Some("7"))),
            (
                "arn:aws:lambda:eu-west-1:123456789012:function:fixture",
                ("fixture", None),
            ),
            (
                "arn:aws:lambda:eu-west-1:123456789012:function:fixture:live",
                ("fixture", Some("live")),
            ),
        ];
        for (reference, expected) in cases {
            assert_eq!(function_reference(reference), expected, "{reference}");
        }
    }
}
