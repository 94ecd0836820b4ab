//! IngestMetadata: the workflow's first step. Reads the recording from
//! Zoom's API, for a webhook too: the event only names the meeting, so an
//! execution input cannot choose what is downloaded, and no download
//! token needs to travel in it. Stores the raw event and the meeting's
//! metadata, and plans each file's retrieval: storage key, size, part size
//! and part count. It must not move file bytes: that is RetrieveFile's job.

use super::{
    content_type_for, parse, put_json, to_value, FilePlan, MeetingMetadata, RecordingRef,
    StepContext, StepError, WorkflowInput,
};
use crate::keys::{FileIdentity, FileKey, RecordingKeys};
use crate::ports::object_store::MAX_PART_NUMBER;
use serde::Deserialize;
use serde_json::{json, Value};
use zoomvault_zoom::{Error as ZoomError, MeetingRecording};

#[derive(Debug, Deserialize)]
struct Payload {
    input: WorkflowInput,
}

/// The step. Payload: `{"input": <WorkflowInput>, ...}`. Result:
/// `{"recording": RecordingRef, "files": [FilePlan], "skipped": null |
/// "<why>"}`.
pub async fn ingest_metadata(ctx: &StepContext, payload: Value) -> Result<Value, StepError> {
    let Payload { input } = parse("IngestMetadata", payload)?;
    let recording = ctx.zoom.meeting_recordings(&input.meeting_uuid).await?;
    if recording.uuid != input.meeting_uuid {
        return Err(StepError::new(
            "Ingest.InvalidInput",
            format!(
                "IngestMetadata: Zoom returned recording {:?} for meeting UUID {:?}",
                recording.uuid, input.meeting_uuid
            ),
        ));
    }
    let start_time = recording.start_time.ok_or_else(|| {
        StepError::new(
            "Ingest.InvalidInput",
            format!(
                "IngestMetadata: recording {:?} has no start_time",
                recording.uuid
            ),
        )
    })?;
    let keys = RecordingKeys::new(start_time, recording.id, &recording.uuid)?;
    let reference = RecordingRef {
        uuid: recording.uuid.clone(),
        meeting_id: recording.id,
        start_time,
        source: input.source,
        prefix: keys.recording_prefix().to_string(),
    };
    let duration = recording.duration.unwrap_or(0);
    if duration < ctx.config.min_duration_minutes {
        let why = format!(
            "meeting lasted {duration} min, under the configured minimum of {} min",
            ctx.config.min_duration_minutes
        );
        return Ok(json!({
            "recording": to_value(&reference),
            "files": [],
            "skipped": why,
        }));
    }

    let past_meeting = optional(ctx.zoom.past_meeting(&recording.uuid).await)?;
    let participants = optional(ctx.zoom.past_meeting_participants(&recording.uuid).await)?;
    if let Some(event) = &input.event {
        put_json(ctx, &keys.raw_event(), event).await?;
    }
    let files = plan_files(ctx, &keys, &recording)?;
    let metadata = MeetingMetadata {
        recording,
        past_meeting,
        participants,
    };
    put_json(ctx, &keys.meeting_metadata(), &metadata).await?;

    Ok(json!({
        "recording": to_value(&reference),
        "files": to_value(&files),
        "skipped": null,
    }))
}

/// Past-meeting details and participants are extras: Zoom withholds them on
/// some plans and for some meetings, which leaves them unknown, while a
/// transient failure is still retried.
fn optional<T>(result: Result<T, ZoomError>) -> Result<Option<T>, StepError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.is_transient() => Err(e.into()),
        Err(e) => {
            tracing::info!(error = %e, "meeting detail unavailable; recorded as unknown");
            Ok(None)
        }
    }
}

/// The part size for a file: the configured one, unless the file would then
/// need more parts than a multipart upload may have (S3's 10,000); then the
/// smallest whole number of MiB that fits it in 10,000 parts. Whole MiB keep
/// every part's offset aligned for the directory store's direct writes.
pub(crate) fn part_size_for(file_size: Option<u64>, configured: u64) -> u64 {
    const MIB: u64 = 1024 * 1024;
    let max_parts = u64::from(MAX_PART_NUMBER);
    match file_size {
        Some(size) if size.div_ceil(configured.max(1)) > max_parts => {
            size.div_ceil(max_parts).div_ceil(MIB) * MIB
        }
        _ => configured,
    }
}

fn plan_files(
    ctx: &StepContext,
    keys: &RecordingKeys,
    recording: &MeetingRecording,
) -> Result<Vec<FilePlan>, StepError> {
    let mut plans = Vec::new();
    for (position, file) in recording.recording_files.iter().enumerate() {
        // Files still processing on Zoom's side have nothing to fetch yet.
        if file.status.as_deref().is_some_and(|s| s != "completed") {
            continue;
        }
        let Some(download_url) = file.download_url.clone() else {
            continue;
        };
        let file_type = file.file_type.clone().unwrap_or_else(|| "UNKNOWN".into());
        let extension = file
            .file_extension
            .clone()
            .unwrap_or_else(|| default_extension(&file_type).to_string())
            .to_ascii_lowercase();
        let file_key = FileKey::new(&FileIdentity {
            recording_type: file.recording_type.as_deref(),
            file_type: &file_type,
            zoom_file_id: file.id.as_deref(),
            position,
        })?;
        let storage_key = keys.file(&file_key, &extension)?;
        let part_size = part_size_for(file.file_size, ctx.config.part_size);
        plans.push(FilePlan {
            position,
            metadata_key: keys.file_metadata(&file_key),
            storage_key,
            file_key,
            zoom_file_id: file.id.clone(),
            recording_type: file.recording_type.clone(),
            content_type: content_type_for(&extension).to_string(),
            file_type,
            extension,
            announced_size: file.file_size,
            part_size,
            part_count: file.file_size.map(|s| s.div_ceil(part_size).max(1)),
            batches: file
                .file_size
                .and_then(|size| super::plan_batches(size, part_size, ctx.config.invocation_bytes)),
            download_url,
            recording_start: file.recording_start,
            recording_end: file.recording_end,
        });
    }
    Ok(plans)
}

/// Zoom omits `file_extension` on some file types.
fn default_extension(file_type: &str) -> &'static str {
    match file_type.to_ascii_uppercase().as_str() {
        "MP4" => "mp4",
        "M4A" => "m4a",
        "TRANSCRIPT" | "CC" => "vtt",
        "CHAT" => "txt",
        "TIMELINE" | "TB" => "json",
        "CSV" => "csv",
        _ => "bin",
    }
}

#[cfg(test)]
mod tests {
    use super::part_size_for;

    const MIB: u64 = 1024 * 1024;
    const GIB: u64 = 1024 * MIB;

    #[test]
    fn the_configured_part_size_holds_while_the_file_fits_in_10000_parts() {
        for size in [
            None,
            Some(0),
            Some(1),
            Some(2 * GIB),
            Some(10_000 * 5 * MIB),
        ] {
            assert_eq!(part_size_for(size, 5 * MIB), 5 * MIB, "{size:?}");
        }
    }

    #[test]
    fn a_file_too_big_for_10000_parts_gets_bigger_whole_mib_parts() {
        for size in [10_000 * 5 * MIB + 1, 100 * GIB, 1024 * GIB + 7] {
            let part = part_size_for(Some(size), 5 * MIB);
            assert!(size.div_ceil(part) <= 10_000, "{size}: {part}");
            assert_eq!(part % MIB, 0, "{size}: {part}");
            // The smallest such size: one MiB less would need too many parts.
            assert!(size.div_ceil(part - MIB) > 10_000, "{size}: {part}");
        }
    }
}
