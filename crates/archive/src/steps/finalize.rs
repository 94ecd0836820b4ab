//! Finalize: the recording document is written (validated against its
//! schema) to the object store and the index, and the Zoom copy is moved to
//! trash now that every file is stored and verified. Re-running it rewrites
//! the same document and entry; a Zoom copy already in trash counts as
//! trashed. It must not trash the Zoom copy unless every file it is given
//! was verified. It sends no event: the state machine's next state
//! (`AnnounceArchived`, an `events:putEvents` task) announces the recording
//! and asks for the site rebuild, so a failure to send is retried and
//! redriven there without writing the document again.

use super::{parse, MeetingMetadata, RecordingRef, RetrievedFile, StepContext, StepError};
use crate::document::{self, Host, IngestProvenance, Meeting, Participant, RecordingDocument};
use crate::ports::{IndexEntry, Upserted};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};
use time::OffsetDateTime;

#[derive(Debug, Deserialize)]
struct Payload {
    recording: RecordingRef,
    files: Vec<RetrievedFile>,
    execution: String,
    #[serde(with = "time::serde::rfc3339")]
    started_at: OffsetDateTime,
}

/// The step. Payload: `{"recording", "files": [RetrievedFile], "execution",
/// "started_at"}`. Result: `{"document_key", "files", "bytes", "trashed"}`.
pub async fn finalize(ctx: &StepContext, payload: Value) -> Result<Value, StepError> {
    let Payload {
        recording,
        mut files,
        execution,
        started_at,
    } = parse("Finalize", payload)?;
    let keys = recording.keys()?;
    if let Some(unverified) = files.iter().find(|f| !f.verified) {
        // The Map only succeeds with every file verified; refuse anything
        // else rather than trash a recording we do not fully hold.
        return Err(StepError::new(
            "Ingest.Unverified",
            format!(
                "{} was not verified; nothing trashed",
                unverified.file.storage_key
            ),
        ));
    }
    files.sort_by_key(|f| f.position);

    let metadata_bytes = ctx.store.get(&keys.meeting_metadata()).await?;
    let metadata: MeetingMetadata = serde_json::from_slice(&metadata_bytes).map_err(|e| {
        StepError::new(
            "Ingest.InvalidInput",
            format!(
                "Finalize: {} is not meeting metadata: {e}",
                keys.meeting_metadata()
            ),
        )
    })?;
    let document_key = keys.document();
    let mut doc = document_for(ctx, &recording, &metadata, &files, &execution, started_at);
    // A re-ingest replaces the document, but never lifts a legal hold
    // placed on the one it replaces.
    doc.legal_hold = current_legal_hold(ctx, &document_key).await?;
    let json_bytes = doc.to_json().map_err(|e| {
        StepError::new(
            "Ingest.InvalidDocument",
            format!("Finalize: the recording document does not match its schema: {e}"),
        )
    })?;
    ctx.store
        .put(&document_key, Bytes::from(json_bytes), "application/json")
        .await?;
    let entry = IndexEntry::from_document(&doc)?;
    if ctx.index.upsert(entry).await? == Upserted::KeptNewer {
        // A later ingest of the same recording already indexed its
        // document; this late attempt must not undo that.
        tracing::info!(
            recording_uuid = %recording.uuid,
            "index kept a later-ingested entry"
        );
    }

    let trashed = match ctx.zoom.trash_meeting_recordings(&recording.uuid).await {
        Ok(()) => true,
        // Already in trash (an earlier attempt got this far).
        Err(zoomvault_zoom::Error::NotFound { .. }) => true,
        Err(e) => return Err(e.into()),
    };
    Ok(json!({
        "document_key": document_key,
        "files": doc.files.len(),
        "bytes": doc.total_bytes(),
        "trashed": trashed,
    }))
}

/// The legal hold of the document archived at `key`, if there is one. A
/// document that cannot be read as one keeps nothing, with a warning.
async fn current_legal_hold(
    ctx: &StepContext,
    key: &str,
) -> Result<Option<document::LegalHold>, StepError> {
    let bytes = match ctx.store.get(key).await {
        Ok(bytes) => bytes,
        Err(crate::ports::object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let hold = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .map(|mut document| document["legal_hold"].take())
        .filter(|hold| !hold.is_null())
        .map(serde_json::from_value::<document::LegalHold>);
    match hold {
        None => Ok(None),
        Some(Ok(hold)) => Ok(Some(hold)),
        Some(Err(e)) => {
            tracing::warn!(key, error = %e, "the document being replaced has an unreadable legal_hold");
            Ok(None)
        }
    }
}

fn document_for(
    ctx: &StepContext,
    recording: &RecordingRef,
    metadata: &MeetingMetadata,
    files: &[RetrievedFile],
    execution: &str,
    started_at: OffsetDateTime,
) -> RecordingDocument {
    let zoom = &metadata.recording;
    let past = metadata.past_meeting.as_ref();
    RecordingDocument {
        schema_version: document::SCHEMA_VERSION,
        meeting: Meeting {
            id: recording.meeting_id,
            uuid: recording.uuid.clone(),
            topic: zoom.topic.clone().unwrap_or_default(),
            meeting_type: zoom.meeting_type.unwrap_or(0).clamp(0, u32::MAX as i64) as u32,
            start_time: recording.start_time,
            duration_minutes: zoom.duration.unwrap_or(0).min(u32::MAX as u64) as u32,
            timezone: zoom.timezone.clone(),
        },
        host: Host {
            id: zoom
                .host_id
                .clone()
                .or_else(|| past.and_then(|p| p.host_id.clone()))
                .unwrap_or_default(),
            email: zoom
                .host_email
                .clone()
                .or_else(|| past.and_then(|p| p.user_email.clone())),
            name: past.and_then(|p| p.user_name.clone()),
        },
        files: files.iter().map(|f| f.file.clone()).collect(),
        participants: metadata.participants.as_ref().map(|list| {
            list.iter()
                .map(|p| Participant {
                    name: p.name.clone().unwrap_or_default(),
                    email: p.user_email.clone().filter(|e| !e.is_empty()),
                    join_time: p.join_time,
                    leave_time: p.leave_time,
                })
                .collect()
        }),
        ingest: IngestProvenance {
            execution_arn: execution.to_string(),
            source: recording.source,
            started_at,
            finished_at: OffsetDateTime::now_utc(),
            zoomvault_version: ctx.config.zoomvault_version.clone(),
        },
        legal_hold: None,
    }
}
