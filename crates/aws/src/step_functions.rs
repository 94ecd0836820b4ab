//! `WorkflowStarter` over the Step Functions API (aws-sdk-sfn): AWS itself,
//! or the embedded engine's endpoint, which speaks the same API.
//!
//! StartExecution is idempotent only while an execution runs and only for
//! the same input, and its answer does not say whether it started anything.
//! The port must tell a repeated delivery from a new ingest, so the starter
//! first asks for the execution its name implies (`DescribeExecution`) and
//! starts one only if there is none (`describe`, which the scan for missed
//! meetings and the status report also use). Two deliveries racing past that check
//! still make one execution (the engine, or AWS, keeps names unique); both
//! then report `Started`.

use async_trait::async_trait;
use aws_sdk_sfn::config::http::HttpResponse;
use aws_sdk_sfn::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sfn::Client;
use serde_json::Value;
use zoomvault_archive::ports::workflow::{
    Error, ExecutionState, ExecutionStatus, StartOutcome, StartedExecution, WorkflowStarter,
};

/// A client for a Step Functions endpoint at `endpoint_url` (the embedded
/// engine's listener), signing with the given static key. On loopback the
/// endpoint accepts any key; elsewhere it must be one it is configured with.
pub fn client_for_endpoint(
    endpoint_url: &str,
    access_key_id: &str,
    secret_access_key: &str,
) -> Client {
    let config = aws_sdk_sfn::Config::builder()
        .behavior_version(aws_sdk_sfn::config::BehaviorVersion::latest())
        .region(aws_sdk_sfn::config::Region::new(REGION))
        .credentials_provider(aws_sdk_sfn::config::Credentials::new(
            access_key_id,
            secret_access_key,
            None,
            None,
            "zoomvault-static",
        ))
        .endpoint_url(endpoint_url)
        .build();
    Client::from_conf(config)
}

/// The region the embedded engine presents itself as.
const REGION: &str = "us-east-1";

/// Starts executions of one state machine.
#[derive(Debug, Clone)]
pub struct SfnStarter {
    client: Client,
    state_machine_arn: String,
}

impl SfnStarter {
    pub fn new(client: Client, state_machine_arn: impl Into<String>) -> SfnStarter {
        SfnStarter {
            client,
            state_machine_arn: state_machine_arn.into(),
        }
    }

    /// The ARN Step Functions gives the execution `name` of this machine:
    /// `arn:<partition>:states:<region>:<account>:execution:<machine>:<name>`.
    pub fn execution_arn(&self, name: &str) -> String {
        zoomvault_arn::execution(&self.state_machine_arn, name)
    }
}

#[async_trait]
impl WorkflowStarter for SfnStarter {
    async fn start(&self, name: &str, input: Value) -> Result<StartedExecution, Error> {
        if let Some(existing) = self.describe(name).await? {
            return Ok(StartedExecution {
                execution_arn: existing.execution_arn,
                outcome: StartOutcome::AlreadyExists,
            });
        }
        match self
            .client
            .start_execution()
            .state_machine_arn(&self.state_machine_arn)
            .name(name)
            .input(input.to_string())
            .send()
            .await
        {
            Ok(started) => Ok(StartedExecution {
                execution_arn: started.execution_arn,
                outcome: StartOutcome::Started,
            }),
            Err(SdkError::ServiceError(e)) if e.err().is_execution_already_exists() => {
                Ok(StartedExecution {
                    execution_arn: self.execution_arn(name),
                    outcome: StartOutcome::AlreadyExists,
                })
            }
            Err(e) => Err(classify(name, e)),
        }
    }

    async fn describe(&self, name: &str) -> Result<Option<ExecutionState>, Error> {
        let arn = self.execution_arn(name);
        match self
            .client
            .describe_execution()
            .execution_arn(&arn)
            .send()
            .await
        {
            Ok(described) => {
                let status = described.status().as_str();
                let status = ExecutionStatus::parse(status).ok_or_else(|| {
                    Error::Backend(format!("{arn}: unknown execution status {status:?}").into())
                })?;
                Ok(Some(ExecutionState {
                    execution_arn: arn,
                    status,
                    error: described.error().map(str::to_owned),
                    cause: described.cause().map(str::to_owned),
                }))
            }
            Err(SdkError::ServiceError(e)) if e.err().is_execution_does_not_exist() => Ok(None),
            Err(e) => Err(classify(name, e)),
        }
    }
}

/// Sorts an SDK failure into the port's errors: what a retry may fix
/// (throttling, 5xx, no connection, timeouts) is `Unavailable`.
fn classify<E>(name: &str, e: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = e.code().map(str::to_string);
    let message = e.message().unwrap_or_default().to_string();
    match (&e, code.as_deref()) {
        (SdkError::ServiceError(_), Some("InvalidName")) => Error::InvalidName {
            name: name.to_string(),
            reason: message,
        },
        (SdkError::ServiceError(_), Some("InvalidExecutionInput")) => Error::InvalidInput(message),
        (SdkError::ServiceError(s), code) => {
            let status = s.raw().status().as_u16();
            let transient = status >= 500
                || matches!(
                    code,
                    Some("ThrottlingException" | "ServiceUnavailable" | "ExecutionLimitExceeded")
                );
            let error: Box<dyn std::error::Error + Send + Sync> = Box::new(e);
            if transient {
                Error::Unavailable(error)
            } else {
                Error::Backend(error)
            }
        }
        (
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_),
            _,
        ) => Error::Unavailable(Box::new(e)),
        _ => Error::Backend(Box::new(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execution_arns_keep_the_machines_partition_region_and_account() {
        let client = client_for_endpoint("http://127.0.0.1:9", "AKIDLOCAL", "local");
        for (machine, execution) in [
            (
                "arn:aws:states:us-east-1:123456789012:stateMachine:ingest",
                "arn:aws:states:us-east-1:123456789012:execution:ingest:rec-1",
            ),
            (
                "arn:aws:states:eu-west-1:210987654321:stateMachine:ingest",
                "arn:aws:states:eu-west-1:210987654321:execution:ingest:rec-1",
            ),
            (
                "arn:aws-cn:states:cn-north-1:210987654321:stateMachine:ingest",
                "arn:aws-cn:states:cn-north-1:210987654321:execution:ingest:rec-1",
            ),
        ] {
            let starter = SfnStarter::new(client.clone(), machine);
            assert_eq!(starter.execution_arn("rec-1"), execution);
        }
    }
}
