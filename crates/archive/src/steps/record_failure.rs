//! RecordFailure: where the ingest workflow's failures of the recording
//! itself land (the workflow's catchers list them; failures a redrive can
//! fix, such as a full store, are left uncaught so the redrive resumes at
//! the failed step). It writes the error, its cause and what was known of the recording
//! beside the recording's objects (or under `failures/` when the recording
//! itself could not be read), so an operator finds why an ingest failed
//! without the engine's history. It never trashes anything.

use super::{parse, put_json, RecordingRef, StepContext, StepError};
use crate::keys;
use serde::Deserialize;
use serde_json::{json, Value};
use time::OffsetDateTime;

#[derive(Debug, Deserialize)]
struct Payload {
    input: Value,
    execution: String,
}

/// The step. Payload: `{"input": <the state with "failure": {Error, Cause}>,
/// "execution"}`. Result: `{"failure_key"}`.
pub async fn record_failure(ctx: &StepContext, payload: Value) -> Result<Value, StepError> {
    let Payload { input, execution } = parse("RecordFailure", payload)?;
    let failure = input.get("failure").cloned().unwrap_or(Value::Null);
    let recording = input
        .pointer("/plan/recording")
        .and_then(|r| serde_json::from_value::<RecordingRef>(r.clone()).ok());
    let key = match &recording {
        Some(r) => r.keys()?.failure(),
        None => keys::failure_without_recording(execution_name(&execution))?,
    };
    let record = json!({
        "execution": execution,
        "meeting_uuid": input.get("meeting_uuid"),
        "error": failure.get("Error"),
        "cause": failure.get("Cause"),
        "recorded_at": OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    });
    let error_name = failure
        .get("Error")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    tracing::warn!(execution = %execution, error = %error_name, "ingest failed; cause recorded at {key}");
    put_json(ctx, &key, &record).await?;
    Ok(json!({ "failure_key": key }))
}

/// The name of the execution, which names its failure when the recording
/// is unknown. `execution` is `$$.Execution.Id`, the execution's ARN; a
/// payload made by hand may give the name itself, which is taken as it is.
fn execution_name(execution: &str) -> &str {
    zoomvault_arn::parse(execution)
        .ok()
        .and_then(|arn| arn.resource.execution_name())
        .unwrap_or(execution)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_without_recording_is_named_by_its_execution() {
        for (execution, name) in [
            (
                "arn:aws:states:us-east-1:123456789012:execution:ingest:aDYlohsHRtCd4ii1uC2-hA==",
                "aDYlohsHRtCd4ii1uC2-hA==",
            ),
            (
                "arn:aws-cn:states:cn-north-1:210987654321:express:ingest:rec-1",
                "rec-1",
            ),
            ("rec-1", "rec-1"),
        ] {
            assert_eq!(execution_name(execution), name);
        }
    }
}
