//! The event port: what the archive announces to the rest of the system
//! (today, from Finalize: "a recording was archived" and "rebuild the
//! site"). An event serialises as `{"detail-type": ..., "detail": {...}}`,
//! the two fields of an EventBridge event, so the EventBridge adapter maps
//! it without a second description of the events.
//!
//! On EventBridge every event has `Source` `zoomvault` and one of two
//! detail-types: `RecordingArchived` (detail: `recording_uuid`,
//! `meeting_id`, `document_key`) and `SiteRebuildRequested` (detail:
//! `reason`, and `recording_uuid` when one recording changed). The site
//! build is triggered by a rule matching
//! `{"source": ["zoomvault"], "detail-type": ["SiteRebuildRequested"]}`
//! (`crates/aws/src/eventbridge.rs` holds that pattern as a constant).
//!
//! This module defines the events and the contract; it must not know how
//! events travel (a SQLite queue locally; EventBridge on AWS).

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ports::BoxError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("event cannot be encoded: {0}")]
    Encode(#[source] serde_json::Error),
    /// Throttled, timed out or unavailable: worth retrying.
    #[error("event sink unavailable: {0}")]
    Unavailable(#[source] BoxError),
    #[error("event sink failed: {0}")]
    Backend(#[source] BoxError),
}

impl Error {
    /// Whether the same call may succeed if made again (the backend was
    /// busy or unreachable). Step handlers map this to a retryable error.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Unavailable(_))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "detail-type", content = "detail")]
pub enum ArchiveEvent {
    /// A recording's document was written and indexed.
    RecordingArchived {
        recording_uuid: String,
        meeting_id: u64,
        document_key: String,
    },
    /// The published site no longer matches the archive.
    SiteRebuildRequested {
        reason: RebuildReason,
        /// The recording that changed, when one did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recording_uuid: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RebuildReason {
    RecordingArchived,
    RecordingReindexed,
    RecordingPurged,
    IndexRebuilt,
    Requested,
}

/// An event as EventBridge carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventEntry {
    pub detail_type: String,
    pub detail: Value,
}

impl ArchiveEvent {
    /// The event's EventBridge detail-type and detail, from its serde form.
    pub fn to_entry(&self) -> Result<EventEntry, Error> {
        let mut value = serde_json::to_value(self).map_err(Error::Encode)?;
        let detail_type = match value.get("detail-type") {
            Some(Value::String(detail_type)) => detail_type.clone(),
            _ => String::new(),
        };
        let detail = value
            .get_mut("detail")
            .map(Value::take)
            .unwrap_or(Value::Null);
        Ok(EventEntry {
            detail_type,
            detail,
        })
    }

    /// Reads an event back from its detail-type and detail.
    pub fn from_entry(entry: &EventEntry) -> Result<ArchiveEvent, serde_json::Error> {
        serde_json::from_value(serde_json::json!({
            "detail-type": entry.detail_type,
            "detail": entry.detail,
        }))
    }
}

#[async_trait]
pub trait EventSink: Send + Sync + fmt::Debug {
    /// Records the event durably before returning. The contract every
    /// adapter keeps is checked by [`crate::port_tests::events`]: each
    /// event arrives with its detail-type and detail, in emit order.
    async fn emit(&self, event: ArchiveEvent) -> Result<(), Error>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    #[test]
    fn events_map_to_eventbridge_entries_and_back() {
        let events = [
            ArchiveEvent::RecordingArchived {
                recording_uuid: "aDYlohsHRtCd4ii1uC2+hA==".to_owned(),
                meeting_id: 85746065432,
                document_key:
                    "recordings/2024/03/05/85746065432/aDYlohsHRtCd4ii1uC2-hA==/recording.json"
                        .to_owned(),
            },
            ArchiveEvent::SiteRebuildRequested {
                reason: RebuildReason::RecordingPurged,
                recording_uuid: None,
            },
        ];
        let mut rendered = String::new();
        for event in &events {
            let entry = event.to_entry().expect("encodes");
            rendered.push_str(&format!("{} {}\n", entry.detail_type, entry.detail));
            assert_eq!(ArchiveEvent::from_entry(&entry).ok().as_ref(), Some(event));
        }
        expect![[r#"
            RecordingArchived {"recording_uuid":"aDYlohsHRtCd4ii1uC2+hA==","meeting_id":85746065432,"document_key":"recordings/2024/03/05/85746065432/aDYlohsHRtCd4ii1uC2-hA==/recording.json"}
            SiteRebuildRequested {"reason":"recording_purged"}
        "#]]
        .assert_eq(&rendered);
    }
}
