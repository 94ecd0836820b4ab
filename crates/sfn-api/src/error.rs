//! The API's one error type and how it goes on the wire: AWS JSON 1.0
//! errors are a status code and a body `{"__type": "<Name>", "message":
//! "..."}` (plus `reason` for `ValidationException`). Every status code and
//! exception name the endpoint answers with is chosen here, from the names
//! in Step Functions' service model, so SDKs map them to their typed errors.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use zoomvault_engine::Error as EngineError;

/// The content type of every answer.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    /// The exception name, as in the service model (`ExecutionDoesNotExist`).
    pub name: &'static str,
    pub message: String,
    /// `ValidationException`'s `reason`, when AWS gives one.
    pub reason: Option<&'static str>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(name: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            name,
            message: message.into(),
            reason: None,
        }
    }

    pub fn with_status(mut self, status: StatusCode) -> ApiError {
        self.status = status;
        self
    }

    pub fn unknown_operation(target: &str) -> ApiError {
        ApiError::new(
            "UnknownOperationException",
            format!("Unknown operation: {target:?}"),
        )
    }

    pub fn serialization(detail: impl std::fmt::Display) -> ApiError {
        ApiError::new(
            "SerializationException",
            format!("Could not read the request body: {detail}"),
        )
    }

    /// A required member missing, worded as AWS's validation layer words it.
    pub fn missing(member: &str) -> ApiError {
        ApiError {
            reason: Some("MISSING_REQUIRED_PARAMETER"),
            ..ApiError::new(
                "ValidationException",
                format!(
                    "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
                ),
            )
        }
    }

    /// A member outside its constraint (length, range, enum).
    pub fn constraint(member: &str, value: impl std::fmt::Display, constraint: &str) -> ApiError {
        ApiError::new(
            "ValidationException",
            format!(
                "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
            ),
        )
    }

    /// A constraint on a sensitive member (an execution's input, a task's
    /// output), whose value AWS leaves out of the message: `1 validation
    /// error detected: Value at 'input' failed to satisfy constraint: ...`.
    pub fn sensitive_constraint(member: &str, constraint: &str) -> ApiError {
        ApiError::new(
            "ValidationException",
            format!(
                "1 validation error detected: Value at '{member}' failed to satisfy constraint: {constraint}"
            ),
        )
    }

    pub fn invalid_arn(arn: &str, why: &str) -> ApiError {
        ApiError::new("InvalidArn", format!("Invalid Arn: '{why}: {arn}'"))
    }

    pub fn invalid_token(why: &str) -> ApiError {
        ApiError::new("InvalidToken", format!("Invalid Token: '{why}'"))
    }

    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        ApiError::new("InternalFailure", format!("Internal failure: {detail}"))
            .with_status(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        match e {
            EngineError::StateMachineDoesNotExist(arn) => ApiError::new(
                "StateMachineDoesNotExist",
                format!("State Machine Does Not Exist: '{arn}'"),
            ),
            EngineError::StateMachineAlreadyExists(arn) => ApiError::new(
                "StateMachineAlreadyExists",
                format!("State Machine Already Exists: '{arn}'"),
            ),
            EngineError::InvalidDefinition(errors) => ApiError::new(
                "InvalidDefinition",
                format!(
                    "Invalid State Machine Definition: '{}'",
                    errors
                        .iter()
                        .map(|e| e.aws_text())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            EngineError::ExecutionDoesNotExist(arn) => ApiError::new(
                "ExecutionDoesNotExist",
                format!("Execution Does Not Exist: '{arn}'"),
            ),
            EngineError::ExecutionAlreadyExists(arn) => ApiError::new(
                "ExecutionAlreadyExists",
                format!("Execution Already Exists: '{arn}'"),
            ),
            EngineError::InvalidName(name, why) => {
                ApiError::new("InvalidName", format!("Invalid Name: '{name}' ({why})"))
            }
            EngineError::InvalidArn(arn) => {
                ApiError::invalid_arn(&arn, "not an ARN of this endpoint")
            }
            EngineError::ResourceNotFound(arn) => {
                ApiError::new("ResourceNotFound", format!("Resource not found: '{arn}'"))
            }
            EngineError::TooManyTags(arn) => ApiError::new(
                "TooManyTags",
                format!("Too many tags: at most 50 are allowed on '{arn}'"),
            ),
            EngineError::InvalidTag { key, reason } => ApiError::constraint("tags", key, reason),
            EngineError::InvalidToken => {
                ApiError::invalid_token("the task token was not issued by this engine")
            }
            EngineError::TaskDoesNotExist(what) => {
                ApiError::new("TaskDoesNotExist", format!("Task Does Not Exist: '{what}'"))
            }
            EngineError::TaskTimedOut(_) => ApiError::new(
                "TaskTimedOut",
                "Task Timed Out: 'Provided task does not exist anymore'",
            ),
            EngineError::ExecutionNotRedrivable { arn, reason } => ApiError::new(
                "ExecutionNotRedrivable",
                format!("Execution is not redrivable: '{arn}': {reason}"),
            ),
            EngineError::Store(e) => ApiError::internal(e),
            EngineError::Shutdown => {
                ApiError::new("ServiceUnavailable", "The engine is shutting down")
                    .with_status(StatusCode::SERVICE_UNAVAILABLE)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "__type": self.name, "message": self.message });
        if let Some(reason) = self.reason {
            body["reason"] = json!(reason);
        }
        let mut response = (self.status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        // Some clients read the error name from this header instead of the body.
        if let Ok(v) = HeaderValue::from_str(self.name) {
            headers.insert("x-amzn-errortype", v);
        }
        response
    }
}
