//! The SQLite recording index against the index port's contract: upsert
//! and get, newest-first listing with cursors and a retention filter,
//! delete, clear, and durability across reopening. Each test opens its own
//! database file.

mod common;

use common::TestDir;
use time::macros::datetime;
use time::OffsetDateTime;
use zoomvault_archive::local::SqliteIndex;
use zoomvault_archive::ports::index::{
    Cursor, Error, IndexEntry, ListQuery, RecordingIndex, MAX_LIST_LIMIT,
};

fn entry(uuid: &str, start_time: OffsetDateTime) -> IndexEntry {
    IndexEntry {
        recording_uuid: uuid.to_owned(),
        meeting_id: 85746065432,
        topic: format!("topic of {uuid}"),
        start_time,
        duration_minutes: 30,
        host_email: Some("host@example.com".to_owned()),
        file_count: 2,
        total_bytes: 1234,
        document_key: format!("recordings/x/{uuid}/recording.json"),
        ingested_at: datetime!(2024-06-01 0:00 UTC),
    }
}

fn uuids(entries: &[IndexEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.recording_uuid.as_str()).collect()
}

fn open(dir: &TestDir) -> SqliteIndex {
    SqliteIndex::open(dir.path().join("zoomvault.db")).expect("open index")
}

#[tokio::test]
async fn upsert_get_replace_delete() {
    let dir = TestDir::new("index-basics");
    let index = open(&dir);
    let first = entry("a==", datetime!(2024-03-05 14:00 UTC));
    index.upsert(first.clone()).await.expect("upsert");
    assert_eq!(index.get("a==").await.expect("get"), Some(first.clone()));
    assert_eq!(index.get("b==").await.expect("get"), None);

    // An upsert of the same UUID (a reindex) replaces the entry.
    let edited = IndexEntry {
        topic: "corrected topic".to_owned(),
        start_time: datetime!(2024-03-05 14:00 +01:00),
        ..first
    };
    index.upsert(edited.clone()).await.expect("upsert again");
    assert_eq!(index.get("a==").await.expect("get"), Some(edited));
    let all = index.list(ListQuery::default()).await.expect("list");
    assert_eq!(all.entries.len(), 1);

    assert!(index.delete("a==").await.expect("delete"));
    assert!(!index.delete("a==").await.expect("delete again"));
    assert_eq!(index.get("a==").await.expect("get"), None);
}

#[tokio::test]
async fn lists_newest_first_and_pages_with_cursors() {
    let dir = TestDir::new("index-list");
    let index = open(&dir);
    // Inserted out of order; two share a start time, and one is the same
    // instant written with another offset.
    let entries = [
        entry("old", datetime!(2023-01-01 9:00 UTC)),
        entry("tie-b", datetime!(2024-02-01 9:00 UTC)),
        entry("newest", datetime!(2024-12-31 23:00 UTC)),
        entry("tie-a", datetime!(2024-02-01 10:00 +01:00)),
        entry("mid", datetime!(2024-01-15 9:00:00.5 UTC)),
    ];
    for e in &entries {
        index.upsert(e.clone()).await.expect("upsert");
    }
    let all = index
        .list(ListQuery {
            limit: 10,
            ..ListQuery::default()
        })
        .await
        .expect("list");
    assert_eq!(
        uuids(&all.entries),
        ["newest", "tie-b", "tie-a", "mid", "old"]
    );
    assert_eq!(all.next, None);

    // Pages of two visit every entry once, in the same order.
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = index
            .list(ListQuery {
                limit: 2,
                after: after.clone(),
                started_before: None,
            })
            .await
            .expect("page");
        assert!(page.entries.len() <= 2);
        paged.extend(page.entries);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(uuids(&paged), uuids(&all.entries));

    // Retention: only recordings that started before the cut-off.
    let old = index
        .list(ListQuery {
            limit: 10,
            after: None,
            started_before: Some(datetime!(2024-02-01 9:00 UTC)),
        })
        .await
        .expect("list");
    assert_eq!(uuids(&old.entries), ["mid", "old"]);
}

#[tokio::test]
async fn bad_queries_are_refused() {
    let dir = TestDir::new("index-bad-query");
    let index = open(&dir);
    for limit in [0, MAX_LIST_LIMIT + 1] {
        let result = index
            .list(ListQuery {
                limit,
                ..ListQuery::default()
            })
            .await;
        assert!(matches!(result, Err(Error::InvalidLimit(_))), "{result:?}");
    }
    let result = index
        .list(ListQuery {
            after: Some(Cursor::new("not a cursor")),
            ..ListQuery::default()
        })
        .await;
    assert!(matches!(result, Err(Error::InvalidCursor(_))), "{result:?}");
}

#[tokio::test]
async fn clear_empties_and_entries_survive_reopening() {
    let dir = TestDir::new("index-durable");
    {
        let index = open(&dir);
        index
            .upsert(entry("kept", datetime!(2024-03-05 14:00 UTC)))
            .await
            .expect("upsert");
    }
    let index = open(&dir);
    assert!(index.get("kept").await.expect("get").is_some());
    index.clear().await.expect("clear");
    assert!(index
        .list(ListQuery::default())
        .await
        .expect("list")
        .entries
        .is_empty());
}
