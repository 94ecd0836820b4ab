//! [`EventBridgeSink`]: the event port as PutEvents to one EventBridge bus.
//!
//! Every event is sent with `Source` = [`SOURCE`] (`zoomvault`), and the
//! `DetailType` and `Detail` of [`ArchiveEvent::to_entry`]: detail-type
//! `RecordingArchived` (detail: `recording_uuid`, `meeting_id`,
//! `document_key`) or `SiteRebuildRequested` (detail: `reason`, and
//! `recording_uuid` when one recording changed). The site build is
//! triggered by a rule with [`SITE_REBUILD_PATTERN`]; anything that
//! follows archived recordings uses [`RECORDING_ARCHIVED_PATTERN`]. The
//! deployment and the tests use these constants, so there is one text of
//! each pattern.
//!
//! PutEvents can answer 200 and still refuse the entry (a non-zero
//! `FailedEntryCount`): that is an error here, transient for the codes AWS
//! documents as retryable (`ThrottlingException`, `InternalFailure`). This adapter sends
//! events; it must not know who consumes them.

use std::fmt;

use async_trait::async_trait;
use aws_sdk_eventbridge::config::http::HttpResponse;
use aws_sdk_eventbridge::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_eventbridge::operation::put_events::PutEventsOutput;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_eventbridge::Client;
use zoomvault_archive::ports::events::{ArchiveEvent, Error, EventSink};

/// The `Source` of every event zoomvault sends.
pub const SOURCE: &str = "zoomvault";

/// The event pattern of the rule that triggers a site build.
pub const SITE_REBUILD_PATTERN: &str =
    r#"{"source": ["zoomvault"], "detail-type": ["SiteRebuildRequested"]}"#;

/// The event pattern that matches every archived recording.
pub const RECORDING_ARCHIVED_PATTERN: &str =
    r#"{"source": ["zoomvault"], "detail-type": ["RecordingArchived"]}"#;

/// Sends archive events to one event bus.
#[derive(Debug, Clone)]
pub struct EventBridgeSink {
    client: Client,
    event_bus: String,
}

impl EventBridgeSink {
    /// `event_bus` is the bus's name or ARN.
    pub fn new(client: Client, event_bus: impl Into<String>) -> EventBridgeSink {
        EventBridgeSink {
            client,
            event_bus: event_bus.into(),
        }
    }

    /// The PutEvents entry for `event`.
    fn request_entry(&self, event: &ArchiveEvent) -> Result<PutEventsRequestEntry, Error> {
        let entry = event.to_entry()?;
        let detail = serde_json::to_string(&entry.detail).map_err(Error::Encode)?;
        Ok(PutEventsRequestEntry::builder()
            .event_bus_name(&self.event_bus)
            .source(SOURCE)
            .detail_type(entry.detail_type)
            .detail(detail)
            .build())
    }
}

#[async_trait]
impl EventSink for EventBridgeSink {
    async fn emit(&self, event: ArchiveEvent) -> Result<(), Error> {
        let output = self
            .client
            .put_events()
            .entries(self.request_entry(&event)?)
            .send()
            .await
            .map_err(classify)?;
        check_entries(&output)
    }
}

/// An entry PutEvents refused, with its error code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedEntry {
    pub code: String,
    pub message: String,
}

impl fmt::Display for FailedEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PutEvents refused the event: {}: {}",
            self.code, self.message
        )
    }
}

impl std::error::Error for FailedEntry {}

/// A 200 answer still fails when an entry was refused; retryable codes
/// make the error transient.
fn check_entries(output: &PutEventsOutput) -> Result<(), Error> {
    if output.failed_entry_count() == 0 {
        return Ok(());
    }
    let failed = output
        .entries()
        .iter()
        .find(|entry| entry.error_code().is_some())
        .map(|entry| FailedEntry {
            code: entry.error_code().unwrap_or_default().to_owned(),
            message: entry.error_message().unwrap_or_default().to_owned(),
        })
        .unwrap_or_else(|| FailedEntry {
            code: "Unknown".to_owned(),
            message: format!("{} entries failed", output.failed_entry_count()),
        });
    if matches!(
        failed.code.as_str(),
        "ThrottlingException" | "InternalFailure"
    ) {
        Err(Error::Unavailable(Box::new(failed)))
    } else {
        Err(Error::Backend(Box::new(failed)))
    }
}

/// Sorts an SDK failure into the port's errors: what a retry may fix
/// (throttling, 5xx, no connection, timeouts) is `Unavailable`.
fn classify<E>(e: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let transient = crate::sdk_error::is_transient(
        &e,
        &[
            "ThrottlingException",
            "InternalException",
            "InternalFailure",
        ],
    );
    if transient {
        Error::Unavailable(Box::new(e))
    } else {
        Error::Backend(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_eventbridge::types::PutEventsResultEntry;

    fn answer(code: Option<&str>) -> PutEventsOutput {
        let entry = match code {
            Some(code) => PutEventsResultEntry::builder()
                .error_code(code)
                .error_message("refused"),
            None => PutEventsResultEntry::builder().event_id("id-1"),
        };
        PutEventsOutput::builder()
            .failed_entry_count(i32::from(code.is_some()))
            .entries(entry.build())
            .build()
    }

    #[test]
    fn a_refused_entry_is_an_error_transient_only_for_retryable_codes() {
        assert!(check_entries(&answer(None)).is_ok());
        for (code, transient) in [
            ("ThrottlingException", true),
            ("InternalFailure", true),
            ("AccessDeniedException", false),
            ("InvalidArgument", false),
            ("MalformedDetail", false),
        ] {
            let error = check_entries(&answer(Some(code))).expect_err(code);
            assert_eq!(error.is_transient(), transient, "{code}");
            assert!(error.to_string().contains(code), "{error}");
        }
    }

    #[test]
    fn patterns_are_json_naming_the_source_and_detail_types() {
        for (pattern, detail_type) in [
            (SITE_REBUILD_PATTERN, "SiteRebuildRequested"),
            (RECORDING_ARCHIVED_PATTERN, "RecordingArchived"),
        ] {
            let value: serde_json::Value = serde_json::from_str(pattern).expect("JSON");
            assert_eq!(value["source"], serde_json::json!([SOURCE]));
            assert_eq!(value["detail-type"], serde_json::json!([detail_type]));
        }
    }
}
