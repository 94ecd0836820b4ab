//! The ingest workflow's steps: plain async functions from a JSON payload to
//! a JSON result, with their ports passed in a `StepContext`. The embedded
//! engine calls them in-process (the CLI registers each under the function
//! name the state machine invokes); on AWS each is its own Lambda in
//! `functions/`, calling the same function. A caller must not add logic of
//! its own. This module also owns the one mapping from a
//! Zoom event (or a meeting UUID) to a workflow input and execution name.
//!
//! A step's error is a `StepError` whose `name` is what ASL `Retry`/`Catch`
//! match (`Zoom.RateLimited`, `Storage.Transient`, `Ingest.SizeMismatch`,
//! ...). Steps are idempotent: every key they write derives from the
//! recording UUID and file identity, so a retried or re-run step overwrites
//! what an earlier attempt wrote, never adds to it.

mod fan_out;
mod finalize;
mod ingest_metadata;
mod record_failure;
mod retrieve_file;

pub use fan_out::{
    begin_file, complete_file, plan_batches, retrieve_parts, BatchResult, PartBatch,
};
pub use finalize::finalize;
pub use ingest_metadata::ingest_metadata;
pub use record_failure::record_failure;
pub use retrieve_file::retrieve_file;

use crate::document::IngestSource;
use crate::keys;
use crate::ports::{events, index, object_store, EventSink, ObjectStore, RecordingIndex};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use time::OffsetDateTime;
use zoomvault_zoom::{RecordingCompleted, ZoomClient};

/// The function names the state machine's Task states invoke through
/// `lambda:invoke`. The embedded engine registers the steps under them; on
/// AWS each is the Lambda of that name (`functions/`, `serverless.yml`).
pub const INGEST_METADATA: &str = "zoomvault-ingest-metadata";
pub const RETRIEVE_FILE: &str = "zoomvault-retrieve-file";
pub const BEGIN_FILE: &str = "zoomvault-begin-file";
pub const RETRIEVE_PARTS: &str = "zoomvault-retrieve-parts";
pub const COMPLETE_FILE: &str = "zoomvault-complete-file";
pub const FINALIZE: &str = "zoomvault-finalize";
pub const RECORD_FAILURE: &str = "zoomvault-record-failure";

/// Tunables of the ingest steps.
#[derive(Debug, Clone)]
pub struct IngestConfig {
    /// Bytes per ranged GET and per multipart part (at least S3's 5 MiB);
    /// a file that would need more than 10,000 parts gets bigger ones.
    pub part_size: u64,
    /// Parts of one file in flight at once. Also bounds memory: at most this
    /// many parts are held while the whole-file SHA-256 catches up.
    pub part_concurrency: usize,
    /// The most bytes one invocation of a retrieval step moves: a file
    /// bigger than this is fanned out over batches of parts, one
    /// invocation each (see `fan_out`). 2 GiB takes under two minutes at
    /// 20 MB/s, well inside a Lambda's 15.
    pub invocation_bytes: u64,
    /// Meetings shorter than this are not archived (0: archive all).
    pub min_duration_minutes: u64,
    pub zoomvault_version: String,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            part_size: 8 * 1024 * 1024,
            part_concurrency: 2,
            invocation_bytes: 2 * 1024 * 1024 * 1024,
            min_duration_minutes: 0,
            zoomvault_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// The ports and settings every step gets.
#[derive(Debug, Clone)]
pub struct StepContext {
    pub zoom: ZoomClient,
    pub store: Arc<dyn ObjectStore>,
    pub index: Arc<dyn RecordingIndex>,
    pub events: Arc<dyn EventSink>,
    pub config: IngestConfig,
}

/// A step's failure: `name` is the ASL error name, `cause` says what and
/// where in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {cause}")]
pub struct StepError {
    pub name: String,
    pub cause: String,
}

impl StepError {
    pub fn new(name: &str, cause: impl Into<String>) -> StepError {
        StepError {
            name: name.to_string(),
            cause: cause.into(),
        }
    }

    /// An operation's failure, as its Lambda reports it: `Storage.Transient`
    /// when running it again may succeed (the store or index was busy or
    /// unreachable), else `failed` (`Rebuild.Failed`, `Purge.Failed`).
    pub fn operation(failed: &str, transient: bool, e: impl std::fmt::Display) -> StepError {
        StepError::new(
            if transient {
                "Storage.Transient"
            } else {
                failed
            },
            e.to_string(),
        )
    }

    fn invalid_input(step: &str, e: impl std::fmt::Display) -> StepError {
        StepError::new("Ingest.InvalidInput", format!("{step}: {e}"))
    }
}

impl From<zoomvault_zoom::Error> for StepError {
    fn from(e: zoomvault_zoom::Error) -> Self {
        StepError::new(e.error_name(), e.to_string())
    }
}

impl From<object_store::Error> for StepError {
    fn from(e: object_store::Error) -> Self {
        if e.is_storage_full() {
            return StepError::new(
                "Storage.Full",
                format!("the archive's store is out of space: {e}; free space, then redrive"),
            );
        }
        storage_error(e.is_transient(), &e)
    }
}

impl From<index::Error> for StepError {
    fn from(e: index::Error) -> Self {
        storage_error(e.is_transient(), &e)
    }
}

impl From<events::Error> for StepError {
    fn from(e: events::Error) -> Self {
        storage_error(e.is_transient(), &e)
    }
}

impl From<keys::Error> for StepError {
    fn from(e: keys::Error) -> Self {
        StepError::new("Ingest.InvalidInput", e.to_string())
    }
}

fn storage_error(transient: bool, e: &dyn std::fmt::Display) -> StepError {
    let name = if transient {
        "Storage.Transient"
    } else {
        "Storage.Failed"
    };
    StepError::new(name, e.to_string())
}

/// The input of an ingest execution: what the webhook hands the state
/// machine ([`WorkflowStart::from_event`]), or a start by meeting UUID
/// alone ([`WorkflowStart::for_meeting`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowInput {
    pub source: IngestSource,
    pub meeting_uuid: String,
    /// The `recording.completed` event as received, without its
    /// `download_token` (webhook source only). The token is a secret and
    /// stays out of the execution: downloads use OAuth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<Value>,
    /// When Zoom emitted the event (ms since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_ts: Option<i64>,
}

/// A workflow to start: the execution name and its input.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowStart {
    pub name: String,
    pub input: Value,
}

impl WorkflowStart {
    /// The one mapping from a `recording.completed` event to an execution.
    /// The name derives from the recording UUID and the input holds nothing
    /// that varies between Zoom's retries, so a repeated delivery asks for
    /// the same execution and starts nothing new.
    pub fn from_event(event: &RecordingCompleted) -> Result<WorkflowStart, StepError> {
        let input = WorkflowInput {
            source: IngestSource::Webhook,
            meeting_uuid: event.recording.uuid.clone(),
            event: Some(event.raw.clone()),
            event_ts: event.event_ts,
        };
        Self::new(input)
    }

    /// A start by meeting UUID alone, as a manual ingest or the scan for
    /// missed meetings will make (neither exists yet; the retrieval bench
    /// uses it): the steps read the recording through the API with OAuth.
    pub fn for_meeting(
        meeting_uuid: &str,
        source: IngestSource,
    ) -> Result<WorkflowStart, StepError> {
        Self::new(WorkflowInput {
            source,
            meeting_uuid: meeting_uuid.to_string(),
            event: None,
            event_ts: None,
        })
    }

    fn new(input: WorkflowInput) -> Result<WorkflowStart, StepError> {
        Ok(WorkflowStart {
            name: keys::execution_name(&input.meeting_uuid)?,
            input: serde_json::to_value(&input).expect("workflow input serializes"),
        })
    }
}

/// What IngestMetadata hands the rest of the workflow about the recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingRef {
    pub uuid: String,
    pub meeting_id: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub start_time: OffsetDateTime,
    pub source: IngestSource,
    /// Where the recording's objects live (from `RecordingKeys`).
    pub prefix: String,
}

impl RecordingRef {
    fn keys(&self) -> Result<keys::RecordingKeys, StepError> {
        Ok(keys::RecordingKeys::new(
            self.start_time,
            self.meeting_id,
            &self.uuid,
        )?)
    }
}

/// One file's retrieval plan: the Map's item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilePlan {
    /// Index in Zoom's `recording_files`.
    pub position: usize,
    pub file_key: keys::FileKey,
    pub storage_key: String,
    pub metadata_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoom_file_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_type: Option<String>,
    pub file_type: String,
    pub extension: String,
    pub content_type: String,
    /// Zoom's `file_size`; absent for some types (TIMELINE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announced_size: Option<u64>,
    pub part_size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_count: Option<u64>,
    /// Present when the file is bigger than one invocation may move: the
    /// batches of parts it is fanned out over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batches: Option<Vec<PartBatch>>,
    pub download_url: String,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub recording_start: Option<OffsetDateTime>,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub recording_end: Option<OffsetDateTime>,
}

/// A retrieved, verified file: RetrieveFile's result and its per-file
/// metadata object. `file` is the document's entry for it, as Finalize
/// writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetrievedFile {
    pub position: usize,
    pub file_key: keys::FileKey,
    /// True once the stored object's size matched the bytes received and,
    /// where Zoom announced a size, that size.
    pub verified: bool,
    /// `ranged` (parallel ranged GETs), `whole` (one streamed GET cut into
    /// parts) or `single` (a file of at most one part, one GET and one put).
    pub transfer: String,
    #[serde(flatten)]
    pub file: crate::document::RecordingFile,
}

/// The meeting metadata IngestMetadata stores and Finalize reads back, so
/// participant lists never travel through the workflow's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeetingMetadata {
    pub recording: zoomvault_zoom::MeetingRecording,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub past_meeting: Option<zoomvault_zoom::PastMeeting>,
    /// None when Zoom would not say (plan or permissions), not "nobody".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participants: Option<Vec<zoomvault_zoom::Participant>>,
}

/// The MIME type stored with a file, from Zoom's extension.
pub fn content_type_for(extension: &str) -> &'static str {
    match extension.to_ascii_lowercase().as_str() {
        "mp4" => "video/mp4",
        "m4a" => "audio/mp4",
        "vtt" => "text/vtt",
        "txt" => "text/plain; charset=utf-8",
        "json" => "application/json",
        "csv" => "text/csv",
        _ => "application/octet-stream",
    }
}

fn parse<T: for<'de> Deserialize<'de>>(step: &str, payload: Value) -> Result<T, StepError> {
    serde_json::from_value(payload).map_err(|e| StepError::invalid_input(step, e))
}

/// Stores `value` as pretty JSON at `key` (metadata objects, failure
/// records).
async fn put_json<T: Serialize>(ctx: &StepContext, key: &str, value: &T) -> Result<(), StepError> {
    let body = serde_json::to_vec_pretty(value).expect("step metadata serializes");
    ctx.store
        .put(key, bytes::Bytes::from(body), "application/json")
        .await?;
    Ok(())
}

fn to_value<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("step results serialize")
}
