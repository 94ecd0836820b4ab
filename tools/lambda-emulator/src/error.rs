//! The Invoke API's errors, and the one place their status codes and
//! exception names are chosen. Lambda's REST-JSON errors carry the
//! exception name in the `x-amzn-ErrorType` header and a body
//! `{"Type": "User"|"Service", "message": ...}`, which is what the AWS SDKs
//! read. A function's own failure is not an error here: Lambda answers it
//! with 200 and `X-Amz-Function-Error` (see `invoke_api`).

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Why the Invoke API refused a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Function not found: {0}")]
    ResourceNotFound(String),
    #[error("Could not parse request body into json: {0}")]
    InvalidRequestContent(String),
    #[error("{0}")]
    InvalidParameterValue(String),
    #[error("Request must be smaller than {limit} bytes for the {operation} operation")]
    RequestTooLarge {
        limit: usize,
        operation: &'static str,
    },
}

impl Error {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Error::ResourceNotFound(_) => {
                (StatusCode::NOT_FOUND, "ResourceNotFoundException", "User")
            }
            Error::InvalidRequestContent(_) => (
                StatusCode::BAD_REQUEST,
                "InvalidRequestContentException",
                "User",
            ),
            Error::InvalidParameterValue(_) => (
                StatusCode::BAD_REQUEST,
                "InvalidParameterValueException",
                "User",
            ),
            Error::RequestTooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestTooLargeException",
                "User",
            ),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, exception, kind) = self.parts();
        let body = serde_json::json!({"Type": kind, "message": self.to_string()});
        let mut response = (status, axum::Json(body)).into_response();
        response
            .headers_mut()
            .insert("x-amzn-ErrorType", HeaderValue::from_static(exception));
        response
    }
}
