//! Lambda, both ways round. [`serve_step`] runs one of zoomvault's steps as
//! a Lambda function: the event's payload goes to the step, its result is
//! the function's response, and a [`StepError`] leaves the function with
//! `errorType` equal to the step's error name (`Zoom.RateLimited`,
//! `Storage.Transient`, ...), the one string a state machine's Retry and
//! Catch match on AWS. [`LambdaInvoker`] goes the other way: it is an
//! engine task handler that sends a `lambda:invoke` task to a Lambda Invoke
//! endpoint through aws-sdk-lambda (AWS itself, or an emulator running the
//! real function binaries), and turns the answer into what Step Functions
//! makes of it: the function's payload, or a failure named by its
//! `errorType` with Lambda's error payload as the cause, or, when the
//! Invoke call itself fails, `Lambda.<exception>` as AWS names it.
//!
//! Glue only: the steps' logic lives in `zoomvault-archive`.

use std::future::Future;
use std::sync::Arc;

use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::primitives::Blob;
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;
use zoomvault_archive::steps::{StepContext, StepError};
use zoomvault_asl::Failure;
use zoomvault_engine::{BoxFuture, TaskHandler, TaskRequest};

use crate::function::{self, FunctionEnv, ZoomAccess};

/// What a step's error looks like to Lambda: its ASL error name as
/// `errorType`, its cause as `errorMessage`.
pub fn diagnostic(error: StepError) -> Diagnostic {
    Diagnostic {
        error_type: error.name,
        error_message: error.cause,
    }
}

/// Runs `step` as this process's Lambda handler until the runtime stops.
/// Call it from `main` once the step's clients are built (once per cold
/// start). lambda_runtime runs each invocation in a span carrying its
/// request id and logs a failure there with its `errorType`.
pub async fn serve_step<F, Fut>(step: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(Value) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Value, StepError>> + Send,
{
    let step = &step;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        step(event.payload).await.map_err(diagnostic)
    }))
    .await
}

/// A step function's whole `main`: logging, the step's context built from
/// the environment once per cold start ([`crate::function`]), then every
/// invocation's payload handed to `step`.
pub async fn run_step<F, Fut>(zoom: ZoomAccess, step: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(Arc<StepContext>, Value) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Value, StepError>> + Send,
{
    init_logging();
    let env = FunctionEnv::from_env()?;
    let sdk = function::sdk_config().await;
    let context = function::step_context(&env, &sdk, zoom).await?;
    serve_step(move |payload| step(context.clone(), payload)).await
}

/// Logging for a function: JSON lines when Lambda's advanced logging
/// controls ask for them (`AWS_LAMBDA_LOG_FORMAT=JSON`, which the
/// deployment sets), the level from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`.
pub fn init_logging() {
    lambda_runtime::tracing::init_default_subscriber();
}

/// A Lambda client for the Invoke endpoint at `endpoint_url` (AWS's, or an
/// emulator's). The region and credentials come from the environment as
/// for any AWS SDK; without credentials (an emulator does not check
/// signatures) it signs with a fixed local key, and without a region it
/// uses us-east-1.
pub async fn client_for_endpoint(endpoint_url: &str) -> aws_sdk_lambda::Client {
    let mut loader =
        aws_config::defaults(aws_config::BehaviorVersion::latest()).endpoint_url(endpoint_url);
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
        loader = loader.credentials_provider(aws_sdk_lambda::config::Credentials::new(
            "zoomvault-local",
            "zoomvault-local",
            None,
            None,
            "zoomvault-local",
        ));
    }
    let config = loader.load().await;
    let mut builder = aws_sdk_lambda::config::Builder::from(&config);
    if config.region().is_none() {
        builder = builder.region(aws_sdk_lambda::config::Region::new("us-east-1"));
    }
    aws_sdk_lambda::Client::from_conf(builder.build())
}

/// A `lambda:invoke` task handler that calls a Lambda function through the
/// Invoke API.
#[derive(Debug, Clone)]
pub struct LambdaInvoker {
    client: aws_sdk_lambda::Client,
    function: String,
}

impl LambdaInvoker {
    pub fn new(client: aws_sdk_lambda::Client, function: impl Into<String>) -> LambdaInvoker {
        LambdaInvoker {
            client,
            function: function.into(),
        }
    }

    /// A factory for the engine's Lambda fallback: every function name the
    /// engine has no in-process handler for is invoked at this endpoint.
    pub fn fallback(
        client: aws_sdk_lambda::Client,
    ) -> impl Fn(&str) -> Arc<dyn TaskHandler> + Send + Sync + 'static {
        move |function| Arc::new(LambdaInvoker::new(client.clone(), function))
    }

    async fn call(
        client: aws_sdk_lambda::Client,
        function: String,
        input: Value,
    ) -> Result<Value, Failure> {
        let payload = serde_json::to_vec(&input).map_err(|e| {
            Failure::new(
                "Lambda.SdkClientException",
                format!("the payload for {function} cannot be encoded: {e}"),
            )
        })?;
        let output = client
            .invoke()
            .function_name(&function)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|e| invoke_failure(&function, e))?;
        let body = output.payload().map(|b| b.as_ref()).unwrap_or_default();
        if output.function_error().is_some() {
            return Err(function_failure(&function, body));
        }
        if body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(body).map_err(|e| {
            Failure::new(
                "Lambda.Unknown",
                format!("{function} answered with a payload that is not JSON: {e}"),
            )
        })
    }
}

impl TaskHandler for LambdaInvoker {
    fn invoke(&self, request: TaskRequest) -> BoxFuture<Result<Value, Failure>> {
        Box::pin(Self::call(
            self.client.clone(),
            self.function.clone(),
            request.input,
        ))
    }
}

/// A function's own error: Step Functions names it by the payload's
/// `errorType` and gives the whole error payload as the cause.
fn function_failure(function: &str, body: &[u8]) -> Failure {
    let text = String::from_utf8_lossy(body).into_owned();
    let error_type = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| {
            v.get("errorType")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .filter(|t| !t.is_empty());
    match error_type {
        Some(error_type) => Failure::new(error_type, text),
        None => Failure::new(
            "Lambda.Unknown",
            format!("{function} failed without an errorType: {text}"),
        ),
    }
}

/// The Invoke call itself failed: `Lambda.<exception>` as Step Functions
/// reports it (`Lambda.TooManyRequestsException`,
/// `Lambda.ServiceException`, ...); a call that never got an answer is
/// `Lambda.SdkClientException`.
fn invoke_failure<E, R>(function: &str, error: SdkError<E, R>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match &error {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("AWSLambdaException");
            let message = service.err().message().unwrap_or_default();
            Failure::new(format!("Lambda.{code}"), format!("{function}: {message}"))
        }
        _ => Failure::new(
            "Lambda.SdkClientException",
            format!(
                "invoking {function}: {}",
                aws_smithy_types::error::display::DisplayErrorContext(&error)
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_error_keeps_its_name_as_the_error_type() {
        let d = diagnostic(StepError::new("Zoom.RateLimited", "429 from Zoom"));
        assert_eq!(d.error_type, "Zoom.RateLimited");
        assert_eq!(d.error_message, "429 from Zoom");
    }

    #[test]
    fn a_function_error_is_named_by_its_error_type_with_the_payload_as_cause() {
        let body = br#"{"errorType":"Storage.Transient","errorMessage":"S3 slow down"}"#;
        let failure = function_failure("zoomvault-finalize", body);
        assert_eq!(failure.error, "Storage.Transient");
        assert_eq!(failure.cause, String::from_utf8_lossy(body));
        let failure = function_failure("zoomvault-finalize", b"oops");
        assert_eq!(failure.error, "Lambda.Unknown");
        assert!(
            failure.cause.contains("zoomvault-finalize"),
            "{}",
            failure.cause
        );
    }
}
