//! RecordFailure: where every caught failure of the ingest workflow lands.
//! It writes the error, its cause and what was known of the recording
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
        None => {
            let name = execution.rsplit(':').next().unwrap_or(&execution);
            keys::failure_without_recording(name)?
        }
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
