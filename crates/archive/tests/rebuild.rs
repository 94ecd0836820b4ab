//! Rebuilding the index from the documents in the store, on the embedded
//! adapters (the directory store and the SQLite index): after the index is
//! lost it comes back equal; a second run writes nothing; invalid and
//! misplaced documents are reported by key and reason and change nothing;
//! entries whose document is gone are removed; an interrupted rebuild
//! resumes where it stopped.

mod common;

use bytes::Bytes;
use common::TestDir;
use zoomvault_archive::fixtures;
use zoomvault_archive::local::{DirObjectStore, SqliteIndex};
use zoomvault_archive::operations::rebuild::{
    rebuild_index, RebuildOptions, RebuildReport, CHECKPOINT_KEY,
};
use zoomvault_archive::ports::{IndexEntry, ListQuery, ObjectStore, RecordingIndex};
use zoomvault_archive::RecordingKeys;

const DOCUMENTS: u64 = 60;
const DAYS: u64 = 9;

async fn store_documents(store: &dyn ObjectStore, count: u64) -> Vec<IndexEntry> {
    let mut entries = Vec::new();
    for n in 0..count {
        entries.push(fixtures::store_document(store, n, DAYS).await.unwrap());
    }
    entries
}

/// Every entry in the index, in its listing order.
async fn all_entries(index: &dyn RecordingIndex) -> Vec<IndexEntry> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = index
            .list(ListQuery {
                limit: 7,
                after,
                ..ListQuery::default()
            })
            .await
            .unwrap();
        out.extend(page.entries);
        match page.next {
            Some(next) => after = Some(next),
            None => return out,
        }
    }
}

async fn rebuild(store: &dyn ObjectStore, index: &dyn RecordingIndex) -> RebuildReport {
    rebuild_index(store, index, &RebuildOptions::default(), &|_| {})
        .await
        .expect("rebuild")
}

#[tokio::test]
async fn a_lost_index_comes_back_equal_and_a_second_run_writes_nothing() {
    let dir = TestDir::new("rebuild-lost");
    let store = DirObjectStore::open(dir.path().join("store")).unwrap();
    let expected = store_documents(&store, DOCUMENTS).await;
    let index = SqliteIndex::open(dir.path().join("index.db")).unwrap();
    // The index as the ingests left it.
    for entry in &expected {
        index.upsert(entry.clone()).await.unwrap();
    }
    let before = all_entries(&index).await;
    assert_eq!(before.len() as u64, DOCUMENTS);
    drop(index);

    for file in ["index.db", "index.db-wal", "index.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(file));
    }
    let index = SqliteIndex::open(dir.path().join("index.db")).unwrap();
    assert!(all_entries(&index).await.is_empty());
    let report = rebuild(&store, &index).await;
    assert_eq!(
        (report.found, report.written, report.unchanged),
        (DOCUMENTS, DOCUMENTS, 0)
    );
    assert_eq!((report.invalid_count, report.stale_removed), (0, 0));
    assert_eq!(report.days, DAYS);
    assert!(report.complete);
    assert_eq!(all_entries(&index).await, before, "the index as it was");
    assert!(
        store.head(CHECKPOINT_KEY).await.unwrap().is_none(),
        "a complete run leaves no checkpoint"
    );

    let again = rebuild(&store, &index).await;
    assert_eq!(
        (
            again.found,
            again.written,
            again.unchanged,
            again.kept_newer
        ),
        (DOCUMENTS, 0, DOCUMENTS, 0),
        "the second run changes nothing"
    );
    assert_eq!(all_entries(&index).await, before);
}

#[tokio::test]
async fn invalid_and_misplaced_documents_are_named_and_change_nothing() {
    let dir = TestDir::new("rebuild-invalid");
    let store = DirObjectStore::open(dir.path().join("store")).unwrap();
    let good = store_documents(&store, 3).await;
    let prefix = |n: u64| {
        RecordingKeys::for_document(&fixtures::document(n, DAYS))
            .unwrap()
            .recording_prefix()
            .to_owned()
    };
    // Not JSON; valid JSON that breaks the schema; a valid document stored
    // under another recording's prefix.
    let not_json = format!("{}recording.json", prefix(100));
    store
        .put(
            &not_json,
            Bytes::from_static(b"{ not json"),
            "application/json",
        )
        .await
        .unwrap();
    let mut value = serde_json::to_value(fixtures::document(101, DAYS)).unwrap();
    value["meeting"]["duration_minutes"] = serde_json::json!("sixty");
    let bad_schema = format!("{}recording.json", prefix(101));
    store
        .put(
            &bad_schema,
            Bytes::from(serde_json::to_vec(&value).unwrap()),
            "application/json",
        )
        .await
        .unwrap();
    let misplaced = format!("{}recording.json", prefix(102));
    let elsewhere = fixtures::document(103, DAYS);
    store
        .put(
            &misplaced,
            Bytes::from(elsewhere.to_json().unwrap()),
            "application/json",
        )
        .await
        .unwrap();

    let index = SqliteIndex::open(dir.path().join("index.db")).unwrap();
    let report = rebuild(&store, &index).await;
    assert_eq!((report.found, report.written), (6, 3));
    assert_eq!(report.invalid_count, 3);
    let reason = |key: &str| {
        report
            .invalid
            .iter()
            .find(|i| i.key == key)
            .unwrap_or_else(|| panic!("{key} is reported: {:?}", report.invalid))
            .reason
            .clone()
    };
    assert!(
        reason(&not_json).contains("not JSON"),
        "{}",
        reason(&not_json)
    );
    let schema = reason(&bad_schema);
    assert!(
        schema.contains("/meeting/duration_minutes"),
        "the reason names the JSON pointer: {schema}"
    );
    let place = reason(&misplaced);
    assert!(
        place.contains("belongs at") && place.contains(&prefix(103)),
        "{place}"
    );
    let mut expected = good;
    expected.sort_by(|a, b| a.recording_uuid.cmp(&b.recording_uuid));
    let mut indexed = all_entries(&index).await;
    indexed.sort_by(|a, b| a.recording_uuid.cmp(&b.recording_uuid));
    assert_eq!(indexed, expected, "only the valid documents are indexed");
    // The invalid objects are left as they were.
    assert_eq!(
        &store.get(&not_json).await.unwrap()[..],
        b"{ not json",
        "nothing is rewritten"
    );
}

#[tokio::test]
async fn entries_without_a_document_are_removed_and_newer_entries_kept() {
    let dir = TestDir::new("rebuild-stale");
    let store = DirObjectStore::open(dir.path().join("store")).unwrap();
    let entries = store_documents(&store, 4).await;
    let index = SqliteIndex::open(dir.path().join("index.db")).unwrap();
    // An entry whose document was deleted by hand.
    let gone = IndexEntry::from_document(&fixtures::document(50, DAYS)).unwrap();
    index.upsert(gone.clone()).await.unwrap();
    // An entry from a later ingest than the stored document (a re-ingest
    // whose document write is still to come): kept.
    let mut newer = entries[1].clone();
    newer.ingested_at += time::Duration::hours(1);
    newer.topic = "Renamed later".into();
    index.upsert(newer.clone()).await.unwrap();

    let report = rebuild(&store, &index).await;
    assert_eq!(report.stale_removed, 1);
    assert_eq!(report.kept_newer, 1);
    assert_eq!(report.written, 3);
    assert!(index.get(&gone.recording_uuid).await.unwrap().is_none());
    assert_eq!(index.get(&newer.recording_uuid).await.unwrap(), Some(newer));
}

#[tokio::test]
async fn an_interrupted_rebuild_resumes_after_its_last_day() {
    let dir = TestDir::new("rebuild-resume");
    let store = DirObjectStore::open(dir.path().join("store")).unwrap();
    let expected = store_documents(&store, DOCUMENTS).await;
    let index = SqliteIndex::open(dir.path().join("index.db")).unwrap();

    let first = rebuild_index(
        &store,
        &index,
        &RebuildOptions {
            max_days: Some(4),
            ..RebuildOptions::default()
        },
        &|_| {},
    )
    .await
    .unwrap();
    assert!(!first.complete);
    assert_eq!(first.days, 4);
    assert!(store.head(CHECKPOINT_KEY).await.unwrap().is_some());
    let partial = first.found;
    assert!(0 < partial && partial < DOCUMENTS, "{partial}");

    // The resumed run does the other days only, and its report counts
    // both runs.
    let seen_days = std::sync::Mutex::new(Vec::new());
    let second = rebuild_index(&store, &index, &RebuildOptions::default(), &|p| {
        seen_days.lock().unwrap().push(p.days_done)
    })
    .await
    .unwrap();
    let seen_days = seen_days.into_inner().unwrap();
    assert!(second.complete);
    assert_eq!(seen_days, vec![5, 6, 7, 8, 9], "only the days left");
    assert_eq!(
        (second.found, second.written, second.days),
        (DOCUMENTS, DOCUMENTS, DAYS)
    );
    assert_eq!(all_entries(&index).await.len(), expected.len());
    assert!(store.head(CHECKPOINT_KEY).await.unwrap().is_none());

    // Afresh ignores a checkpoint and walks everything again.
    rebuild_index(
        &store,
        &index,
        &RebuildOptions {
            max_days: Some(2),
            ..RebuildOptions::default()
        },
        &|_| {},
    )
    .await
    .unwrap();
    let fresh = rebuild_index(
        &store,
        &index,
        &RebuildOptions {
            fresh: true,
            ..RebuildOptions::default()
        },
        &|_| {},
    )
    .await
    .unwrap();
    assert_eq!(
        (fresh.found, fresh.unchanged, fresh.days),
        (DOCUMENTS, DOCUMENTS, DAYS)
    );
}

#[tokio::test]
async fn a_rebuild_that_changed_the_index_asks_for_the_site_once() {
    use zoomvault_archive::local::LocalEventSink;
    use zoomvault_archive::operations::rebuild::request_site_rebuild;
    use zoomvault_archive::ports::{ArchiveEvent, RebuildReason};
    let dir = TestDir::new("rebuild-site");
    let store = DirObjectStore::open(dir.path().join("store")).unwrap();
    let index = SqliteIndex::open(dir.path().join("index.db")).unwrap();
    let events = LocalEventSink::open(dir.path().join("events.db")).unwrap();
    store_documents(&store, 5).await;

    let first = rebuild(&store, &index).await;
    assert!(request_site_rebuild(&events, &first).await.unwrap());
    let again = rebuild(&store, &index).await;
    assert!(!request_site_rebuild(&events, &again).await.unwrap());
    let queued = events.next_batch(10).await.unwrap();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(
        queued[0].event,
        ArchiveEvent::SiteRebuildRequested {
            reason: RebuildReason::IndexRebuilt,
            recording_uuid: None
        }
    );
}
