//! Generated recording documents, for tests and benchmarks that need many
//! valid, distinct documents (a rebuild of the index over 100,000 of them)
//! without ingesting anything, and [`RecordingStarter`], a workflow
//! starter that keeps what it was asked; [`store_archived`] puts one
//! recording in a store whole (its files, metadata objects and document),
//! for operations that delete what a recording left. Document `n` is always the same; documents
//! spread over `days` consecutive days from 2024-01-01, several a day, and
//! over a handful of hosts.

use base64::Engine as _;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::checksum::Crc64Nvme;
use crate::document::{
    Host, IngestProvenance, IngestSource, Meeting, RecordingDocument, RecordingFile, SCHEMA_VERSION,
};
use crate::keys::{FileIdentity, FileKey, RecordingKeys};
use crate::ports::workflow::{self, ExecutionState, ExecutionStatus, StartedExecution};
use crate::ports::{object_store, IndexEntry, ObjectStore, StartOutcome, WorkflowStarter};

/// Hosts the generated documents cycle through.
pub const HOSTS: u64 = 7;

/// Document `n` of a set spread over `days` days (at least 1).
pub fn document(n: u64, days: u64) -> RecordingDocument {
    let day = n % days.max(1);
    let start_time = OffsetDateTime::UNIX_EPOCH + Duration::days(19_723) // 2024-01-01
        + Duration::days(day as i64)
        + Duration::minutes(((n / days.max(1)) % 1_440) as i64);
    let mut uuid_bytes = [0u8; 16];
    uuid_bytes[..8].copy_from_slice(&n.to_be_bytes());
    uuid_bytes[8..].copy_from_slice(&(n ^ 0x5a5a_5a5a_5a5a_5a5a).to_le_bytes());
    let uuid = base64::engine::general_purpose::STANDARD.encode(uuid_bytes);
    let meeting_id = 80_000_000_000 + n;
    let keys = RecordingKeys::new(start_time, meeting_id, &uuid).expect("generated keys are valid");
    let file_key = FileKey::new(&FileIdentity {
        recording_type: Some("shared_screen_with_speaker_view"),
        file_type: "MP4",
        zoom_file_id: Some(&format!("file-{n}")),
        position: 0,
    })
    .expect("a generated file key is valid");
    let size = 1_000_000 + n;
    let host = n % HOSTS;
    RecordingDocument {
        schema_version: SCHEMA_VERSION,
        meeting: Meeting {
            id: meeting_id,
            uuid,
            topic: format!("Lecture {n}"),
            meeting_type: 8,
            start_time,
            duration_minutes: 50,
            timezone: None,
        },
        host: Host {
            id: format!("host-{host}"),
            email: Some(format!("host{host}@example.edu")),
            name: None,
        },
        files: vec![RecordingFile {
            zoom_file_id: Some(format!("file-{n}")),
            recording_type: Some("shared_screen_with_speaker_view".to_owned()),
            file_type: "MP4".to_owned(),
            extension: "MP4".to_owned(),
            size_bytes: size,
            crc64nvme: Crc64Nvme(n.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
            sha256: None,
            storage_key: keys
                .file(&file_key, "MP4")
                .expect("a generated file key fits"),
            content_type: "video/mp4".to_owned(),
            recording_start: None,
            recording_end: None,
        }],
        participants: None,
        ingest: IngestProvenance {
            execution_arn: format!("arn:aws:states:local:0:execution:zoomvault-ingest:gen-{n}"),
            source: IngestSource::Manual,
            started_at: start_time + Duration::hours(1),
            finished_at: start_time + Duration::hours(1) + Duration::seconds(30),
            zoomvault_version: env!("CARGO_PKG_VERSION").to_owned(),
        },
        legal_hold: None,
    }
}

/// Stores [`document`]`(n, days)` under its own key, as Finalize would,
/// and returns the index entry it summarises to.
pub async fn store_document(
    store: &dyn ObjectStore,
    n: u64,
    days: u64,
) -> Result<IndexEntry, object_store::Error> {
    let document = document(n, days);
    let key = RecordingKeys::for_document(&document)
        .expect("generated keys are valid")
        .document();
    let json = document.to_json().expect("a generated document is valid");
    store
        .put(&key, Bytes::from(json), "application/json")
        .await?;
    Ok(IndexEntry::from_document(&document).expect("a generated document indexes"))
}

/// Document `n` as [`document`] makes it, but describing files whose bytes
/// [`store_archived`] really stores, with their true sizes and checksums:
/// the video (with its Zoom id and SHA-256) and a timeline without an id,
/// as Zoom sends one. For tests that need a recording whole in the store.
pub fn archived_document(n: u64, days: u64) -> RecordingDocument {
    archived(n, days).0
}

/// The bytes [`store_archived`] stores for file `position` of
/// [`archived_document`]`(n, _)`.
pub fn archived_file_bytes(n: u64, position: usize) -> Bytes {
    Bytes::from(format!("{{\"fixture\":{n},\"file\":{position}}}\n"))
}

/// Stores [`archived_document`]`(n, days)` whole, in Finalize's order:
/// every file's bytes, the metadata objects an ingest writes beside them
/// (the Zoom event, the meeting's metadata, each file's metadata), and the
/// document last. Returns the index entry it summarises to.
pub async fn store_archived(
    store: &dyn ObjectStore,
    n: u64,
    days: u64,
) -> Result<IndexEntry, object_store::Error> {
    let (document, file_keys) = archived(n, days);
    let keys = RecordingKeys::for_document(&document).expect("generated keys are valid");
    let json = |value: serde_json::Value| Bytes::from(value.to_string());
    for (position, (file, file_key)) in document.files.iter().zip(&file_keys).enumerate() {
        store
            .put(
                &file.storage_key,
                archived_file_bytes(n, position),
                &file.content_type,
            )
            .await?;
        store
            .put(
                &keys.file_metadata(file_key),
                json(serde_json::json!({ "fixture": n, "file": position })),
                "application/json",
            )
            .await?;
    }
    let meeting = json(serde_json::json!({ "fixture": n }));
    store
        .put(&keys.raw_event(), meeting.clone(), "application/json")
        .await?;
    store
        .put(&keys.meeting_metadata(), meeting, "application/json")
        .await?;
    let body = document.to_json().expect("a generated document is valid");
    store
        .put(&keys.document(), Bytes::from(body), "application/json")
        .await?;
    Ok(IndexEntry::from_document(&document).expect("a generated document indexes"))
}

/// [`archived_document`] and its files' keys, in the document's order.
fn archived(n: u64, days: u64) -> (RecordingDocument, Vec<FileKey>) {
    let mut document = document(n, days);
    let keys = RecordingKeys::for_document(&document).expect("generated keys are valid");
    let video_id = format!("file-{n}");
    let identities = [
        FileIdentity {
            recording_type: Some("shared_screen_with_speaker_view"),
            file_type: "MP4",
            zoom_file_id: Some(&video_id),
            position: 0,
        },
        FileIdentity {
            recording_type: None,
            file_type: "TIMELINE",
            zoom_file_id: None,
            position: 1,
        },
    ];
    let file_keys: Vec<FileKey> = identities
        .iter()
        .map(|identity| FileKey::new(identity).expect("a generated file key is valid"))
        .collect();
    document.files = identities
        .iter()
        .zip(&file_keys)
        .enumerate()
        .map(|(position, (identity, file_key))| {
            let bytes = archived_file_bytes(n, position);
            let (extension, content_type) = match position {
                0 => ("MP4", "video/mp4"),
                _ => ("JSON", "application/json"),
            };
            RecordingFile {
                zoom_file_id: identity.zoom_file_id.map(str::to_owned),
                recording_type: identity.recording_type.map(str::to_owned),
                file_type: identity.file_type.to_owned(),
                extension: extension.to_owned(),
                size_bytes: bytes.len() as u64,
                crc64nvme: Crc64Nvme::of(&bytes),
                sha256: Some(hex::encode(Sha256::digest(&bytes))),
                storage_key: keys
                    .file(file_key, extension)
                    .expect("a generated file key fits"),
                content_type: content_type.to_owned(),
                recording_start: None,
                recording_end: None,
            }
        })
        .collect();
    (document, file_keys)
}

/// A [`WorkflowStarter`] that records every call (name, input, outcome)
/// and, as Step Functions does, answers `AlreadyExists` for a name it has
/// started before.
#[derive(Debug, Default)]
pub struct RecordingStarter {
    calls: std::sync::Mutex<Vec<(String, serde_json::Value, StartOutcome)>>,
    /// How executions ended, once a test says so; the others run.
    ended: std::sync::Mutex<Vec<(String, ExecutionState)>>,
}

impl RecordingStarter {
    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<(String, serde_json::Value, StartOutcome)> {
        self.calls.lock().expect("recorder lock").clone()
    }

    /// The names of the executions really started, in order.
    pub fn started(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|(_, _, outcome)| *outcome == StartOutcome::Started)
            .map(|(name, _, _)| name)
            .collect()
    }

    /// Makes the execution `name` (started or not) end with `status`, as
    /// `describe` will then report it.
    pub fn end(&self, name: &str, status: ExecutionStatus, error: Option<&str>) {
        self.ended.lock().expect("recorder lock").push((
            name.to_owned(),
            ExecutionState {
                execution_arn: Self::arn(name),
                status,
                error: error.map(str::to_owned),
                cause: error.map(|e| format!("{e} (a fixture's failure)")),
            },
        ));
    }

    fn arn(name: &str) -> String {
        format!("arn:aws:states:us-east-1:123456789012:execution:zoomvault-ingest:{name}")
    }
}

#[async_trait::async_trait]
impl WorkflowStarter for RecordingStarter {
    async fn start(
        &self,
        name: &str,
        input: serde_json::Value,
    ) -> Result<StartedExecution, workflow::Error> {
        let ended = self.describe(name).await?.is_some();
        let mut calls = self.calls.lock().expect("recorder lock");
        let outcome = if ended || calls.iter().any(|(n, _, _)| n == name) {
            StartOutcome::AlreadyExists
        } else {
            StartOutcome::Started
        };
        calls.push((name.to_owned(), input, outcome));
        Ok(StartedExecution {
            execution_arn: Self::arn(name),
            outcome,
        })
    }

    async fn describe(&self, name: &str) -> Result<Option<ExecutionState>, workflow::Error> {
        if let Some((_, state)) = self
            .ended
            .lock()
            .expect("recorder lock")
            .iter()
            .rev()
            .find(|(n, _)| n == name)
        {
            return Ok(Some(state.clone()));
        }
        let calls = self.calls.lock().expect("recorder lock");
        Ok(calls
            .iter()
            .any(|(n, _, outcome)| n == name && *outcome == StartOutcome::Started)
            .then(|| ExecutionState {
                execution_arn: Self::arn(name),
                status: ExecutionStatus::Running,
                error: None,
                cause: None,
            }))
    }
}
