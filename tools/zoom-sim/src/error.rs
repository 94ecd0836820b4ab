//! The simulator's one HTTP error type. Each variant carries the body shape
//! of the Zoom surface it belongs to (REST `{"code","message"}`, OAuth
//! `{"reason","error"}`, the download endpoint's own form), and how each
//! becomes a response is written here, in one place. The status and Zoom's
//! code come from the caller, as they depend on the endpoint; the
//! constructors here name the common ones. No handler may write an error
//! body of its own; the injected failures of `faults` are the one
//! exception.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::config::DownloadErrorBody;

/// An error answer from one of the simulated Zoom endpoints.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// A REST API error: `{"code": <zoom code>, "message": ...}`.
    #[error("{status} {code}: {message}")]
    Zoom {
        status: StatusCode,
        code: u32,
        message: String,
    },
    /// An OAuth token endpoint error: `{"reason": ..., "error": ...}`.
    #[error("{status} {error}: {reason}")]
    OAuth {
        status: StatusCode,
        error: &'static str,
        reason: String,
    },
    /// A refused recording download, in the configured body form.
    #[error("{status}: {message}")]
    Download {
        status: StatusCode,
        code: u32,
        message: String,
        body: DownloadErrorBody,
    },
    /// A CDN refusal (bad or expired signed URL).
    #[error("{status}: {message}")]
    Cdn { status: StatusCode, message: String },
    /// A malformed request to the simulator's own `/_sim` control API.
    #[error("{0}")]
    Admin(String),
}

impl Error {
    pub(crate) fn zoom(status: StatusCode, code: u32, message: impl Into<String>) -> Error {
        Error::Zoom {
            status,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn invalid_access_token() -> Error {
        Error::zoom(StatusCode::UNAUTHORIZED, 124, "Invalid access token.")
    }

    pub(crate) fn expired_access_token() -> Error {
        Error::zoom(StatusCode::UNAUTHORIZED, 124, "Access token is expired.")
    }

    pub(crate) fn recording_not_found() -> Error {
        Error::zoom(
            StatusCode::NOT_FOUND,
            3301,
            "This recording does not exist.",
        )
    }

    pub(crate) fn meeting_not_found(meeting: &str) -> Error {
        Error::zoom(
            StatusCode::NOT_FOUND,
            3001,
            format!("Meeting does not exist: {meeting}."),
        )
    }

    pub(crate) fn user_not_found(user: &str) -> Error {
        Error::zoom(
            StatusCode::NOT_FOUND,
            1001,
            format!("User does not exist: {user}."),
        )
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Error {
        Error::zoom(StatusCode::BAD_REQUEST, 300, message)
    }

    pub(crate) fn oauth(status: StatusCode, error: &'static str, reason: &str) -> Error {
        Error::OAuth {
            status,
            error,
            reason: reason.to_owned(),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Error::Zoom {
                status,
                code,
                message,
            } => (
                status,
                axum::Json(json!({"code": code, "message": message})),
            )
                .into_response(),
            Error::OAuth {
                status,
                error,
                reason,
            } => (
                status,
                axum::Json(json!({"reason": reason, "error": error})),
            )
                .into_response(),
            Error::Download {
                status,
                code,
                message,
                body: DownloadErrorBody::Json,
            } => (
                status,
                axum::Json(json!({"status": false, "errorCode": code, "errorMessage": message})),
            )
                .into_response(),
            Error::Download {
                status,
                message,
                body: DownloadErrorBody::Html,
                ..
            } => (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                format!(
                    "<!DOCTYPE html><html><head><title>Zoom</title></head>\
                     <body><h1>{}</h1><p>{}</p></body></html>",
                    status.as_u16(),
                    html_escape(&message)
                ),
            )
                .into_response(),
            Error::Cdn { status, message } => (
                status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                message,
            )
                .into_response(),
            Error::Admin(message) => (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"error": message})),
            )
                .into_response(),
        }
    }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
