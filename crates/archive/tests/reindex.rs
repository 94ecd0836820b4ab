//! Reindexing a recording from its edited document, on the embedded
//! adapters: an edited title reaches the store, the index and the site's
//! event queue; invalid documents and changes to what must not change are
//! refused with the reason and change nothing; a second run writes nothing.

mod common;

use common::TestDir;
use serde_json::{json, Value};
use zoomvault_archive::fixtures;
use zoomvault_archive::local::{DirObjectStore, LocalEventSink, SqliteIndex};
use zoomvault_archive::operations::reindex::{reindex, Error};
use zoomvault_archive::ports::{ObjectStore, RecordingIndex};

struct Archive {
    _dir: TestDir,
    store: DirObjectStore,
    index: SqliteIndex,
    events: LocalEventSink,
    key: String,
    uuid: String,
}

async fn archive() -> Archive {
    let dir = TestDir::new("reindex");
    let store = DirObjectStore::open(dir.path().join("store")).unwrap();
    let index = SqliteIndex::open(dir.path().join("index.db")).unwrap();
    let events = LocalEventSink::open(dir.path().join("events.db")).unwrap();
    let entry = fixtures::store_document(&store, 7, 3).await.unwrap();
    index.upsert(entry.clone()).await.unwrap();
    Archive {
        _dir: dir,
        store,
        index,
        events,
        key: entry.document_key,
        uuid: entry.recording_uuid,
    }
}

impl Archive {
    async fn document(&self) -> Value {
        serde_json::from_slice(&self.store.get(&self.key).await.unwrap()).unwrap()
    }

    async fn reindex(&self, edited: &Value, force: bool) -> Result<bool, Error> {
        let bytes = serde_json::to_vec(edited).unwrap();
        reindex(&self.store, &self.index, &self.events, &bytes, force)
            .await
            .map(|report| report.changed)
    }

    async fn pending_events(&self) -> usize {
        self.events.pending(100).await.unwrap().len()
    }
}

#[tokio::test]
async fn an_edited_title_reaches_the_store_the_index_and_the_site_once() {
    let a = archive().await;
    let mut edited = a.document().await;
    edited["meeting"]["topic"] = json!("Lecture 7: Fourier series");
    edited["host"]["name"] = json!("Ada Lovelace");

    let bytes = serde_json::to_vec(&edited).unwrap();
    let report = reindex(&a.store, &a.index, &a.events, &bytes, false)
        .await
        .unwrap();
    assert!(report.changed);
    assert_eq!(report.fields, ["/host/name", "/meeting/topic"]);
    assert_eq!(
        a.document().await["meeting"]["topic"],
        "Lecture 7: Fourier series"
    );
    let entry = a.index.get(&a.uuid).await.unwrap().unwrap();
    assert_eq!(entry.topic, "Lecture 7: Fourier series");
    assert_eq!(a.pending_events().await, 1, "one site-rebuild event");

    // The same document again: nothing written, no event.
    assert!(!a.reindex(&edited, false).await.unwrap());
    assert_eq!(a.pending_events().await, 1);
}

#[tokio::test]
async fn invalid_documents_and_forbidden_changes_are_refused_and_change_nothing() {
    let a = archive().await;
    let before = a.document().await;

    let mut bad = before.clone();
    bad["meeting"]["duration_minutes"] = json!(-5);
    bad["files"][0]["content_type"] = json!(42);
    let e = a.reindex(&bad, false).await.unwrap_err().to_string();
    assert!(
        e.contains("/meeting/duration_minutes") && e.contains("/files/0/content_type"),
        "every violation by its JSON pointer: {e}"
    );

    let mut moved = before.clone();
    moved["meeting"]["start_time"] = json!("2024-01-01T10:00:00Z");
    // Even forced: the files' keys would no longer match where the
    // document says it is.
    let e = a.reindex(&moved, true).await.unwrap_err().to_string();
    assert!(
        e.contains("/files/0/storage_key") && e.contains("meeting.start_time"),
        "{e}"
    );

    let mut other = before.clone();
    other["meeting"]["uuid"] = json!("someOtherRecording00==");
    // Another UUID is another recording: refused, whether or not its files
    // were moved along (then there is no such recording archived).
    let e = a.reindex(&other, true).await.unwrap_err().to_string();
    assert!(e.contains("/files/0/storage_key"), "{e}");
    let prefix = |v: &Value| {
        v["files"][0]["storage_key"].as_str().unwrap().replace(
            before["meeting"]["uuid"].as_str().unwrap(),
            "someOtherRecording00==",
        )
    };
    other["files"][0]["storage_key"] = json!(prefix(&before));
    let e = a.reindex(&other, true).await.unwrap_err();
    assert!(matches!(e, Error::NotArchived { .. }), "{e}");

    let mut resized = before.clone();
    resized["files"][0]["size_bytes"] = json!(1);
    resized["meeting"]["topic"] = json!("Renamed");
    let e = a.reindex(&resized, false).await.unwrap_err();
    assert!(
        e.to_string().contains("/files/0/size_bytes") && !e.to_string().contains("/meeting/topic"),
        "names the protected field: {e}"
    );

    assert_eq!(a.document().await, before, "the store is unchanged");
    let entry = a.index.get(&a.uuid).await.unwrap().unwrap();
    assert_eq!(entry.topic, before["meeting"]["topic"]);
    assert_eq!(a.pending_events().await, 0);

    // With force, a repaired file's facts may change.
    assert!(a.reindex(&resized, true).await.unwrap());
    assert_eq!(a.document().await["files"][0]["size_bytes"], 1);
}
