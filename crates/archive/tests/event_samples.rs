//! The step samples under `events/` (what `sls invoke -f NAME --path
//! events/...` sends, and what the state machine sends each step) are read
//! into the steps' own types, so a sample cannot drift from the payload it
//! stands for; a fan-out sample's batches are the ones IngestMetadata would
//! plan for its file.

use serde::de::DeserializeOwned;
use serde_json::Value;
use zoomvault_archive::ports::{ArchiveEvent, EventEntry, UploadId};
use zoomvault_archive::steps::{
    plan_batches, BatchResult, FilePlan, PartBatch, RecordingRef, RetrievedFile, WorkflowInput,
};

fn sample(name: &str) -> Value {
    let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn field<T: DeserializeOwned>(sample: &Value, name: &str, field: &str) -> T {
    serde_json::from_value(sample[field].clone())
        .unwrap_or_else(|e| panic!("events/{name}: {field}: {e}"))
}

#[test]
fn the_in_order_steps_samples_are_their_payloads() {
    let s = sample("ingest-metadata.json");
    let _: WorkflowInput = field(&s, "ingest-metadata.json", "input");
    assert!(s["execution"].is_string() && s["started_at"].is_string());

    let s = sample("retrieve-file.json");
    let _: RecordingRef = field(&s, "retrieve-file.json", "recording");
    let file: FilePlan = field(&s, "retrieve-file.json", "file");
    assert_eq!(file.batches, None, "retrieve-file's file is read in order");

    let s = sample("finalize.json");
    let _: RecordingRef = field(&s, "finalize.json", "recording");
    let files: Vec<RetrievedFile> = field(&s, "finalize.json", "files");
    assert!(!files.is_empty());

    let s = sample("record-failure.json");
    assert!(s["input"]["failure"]["Error"].is_string(), "{s}");
    assert!(s["execution"].is_string());
}

#[test]
fn the_fan_out_samples_are_their_payloads_with_the_planned_batches() {
    let s = sample("begin-file.json");
    let _: RecordingRef = field(&s, "begin-file.json", "recording");
    let file: FilePlan = field(&s, "begin-file.json", "file");
    let size = file.announced_size.expect("a fanned-out file has a size");
    let planned = plan_batches(size, file.part_size, 2 * 1024 * 1024 * 1024);
    assert_eq!(file.batches, planned, "the default bound's batches");

    let s = sample("retrieve-parts.json");
    let _: UploadId = field(&s, "retrieve-parts.json", "upload_id");
    let batch: PartBatch = field(&s, "retrieve-parts.json", "batch");
    assert!(file.batches.as_ref().unwrap().contains(&batch));

    let s = sample("complete-file.json");
    let batches: Vec<BatchResult> = field(&s, "complete-file.json", "batches");
    let planned: Vec<(u32, u32)> = file
        .batches
        .unwrap()
        .iter()
        .map(|b| (b.first_part, b.part_count))
        .collect();
    let given: Vec<(u32, u32)> = batches
        .iter()
        .map(|b| (b.first_part, b.part_count))
        .collect();
    assert_eq!(given, planned);
    assert_eq!(batches.iter().map(|b| b.size).sum::<u64>(), size);
}

#[test]
fn the_build_site_sample_is_the_rules_event() {
    let s = sample("build-site.json");
    assert_eq!(s["source"], "zoomvault");
    let entry = EventEntry {
        detail_type: s["detail-type"].as_str().unwrap().to_string(),
        detail: s["detail"].clone(),
    };
    assert!(matches!(
        ArchiveEvent::from_entry(&entry),
        Ok(ArchiveEvent::SiteRebuildRequested { .. })
    ));
}

#[test]
fn the_reindex_samples_are_valid_documents() {
    let edited = sample("reindex-recording/edited-document.json");
    let document = zoomvault_archive::document::validate(&edited).expect("a valid document");
    assert_eq!(document.meeting.topic, "Lecture 0: corrected title");
    let forced = sample("reindex-recording/forced.json");
    assert_eq!(forced["force"], true);
    assert_eq!(forced["document"], edited);
}

#[test]
fn the_purge_samples_are_purge_requests() {
    use zoomvault_archive::operations::purge::PurgeRequest;
    let scheduled = PurgeRequest::parse(&sample("purge-recordings/scheduled.json")).unwrap();
    assert!(!scheduled.dry_run);
    let dry = PurgeRequest::parse(&sample("purge-recordings/dry-run.json")).unwrap();
    assert!(dry.dry_run);
    let e = PurgeRequest::parse(&serde_json::json!({"dryrun": true})).unwrap_err();
    assert!(e.contains("unknown field `dryrun`"), "{e}");
    assert!(PurgeRequest::parse(&serde_json::json!([])).is_err());
}
