//! The one reading of an AWS SDK failure that every adapter shares: whether
//! a retry may fix it (throttling, a 5xx, no connection, a timeout, an
//! answer cut off). Each adapter adds the throttling codes its service
//! uses and maps the verdict to its port's `Unavailable` or `Backend`.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Whether `error` is worth retrying: any 5xx, a service error whose code
/// is one of `retryable_codes`, or a failure to get an answer at all.
pub(crate) fn is_transient<E>(error: &SdkError<E, HttpResponse>, retryable_codes: &[&str]) -> bool
where
    E: ProvideErrorMetadata,
{
    match error {
        SdkError::ServiceError(service) => {
            service.raw().status().as_u16() >= 500
                || service
                    .err()
                    .code()
                    .is_some_and(|code| retryable_codes.contains(&code))
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            true
        }
        _ => false,
    }
}
