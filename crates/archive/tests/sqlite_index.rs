//! What the SQLite recording index promises beyond the port's shared suite
//! (`port_index.rs` runs that): entries survive reopening the file, and a
//! conditional upsert's outcome holds across connections. Each test opens
//! its own database file.

mod common;

use common::TestDir;
use time::macros::datetime;
use zoomvault_archive::local::SqliteIndex;
use zoomvault_archive::port_tests::index::entry;
use zoomvault_archive::ports::index::{IndexEntry, ListQuery, RecordingIndex, Upserted};

fn open(dir: &TestDir) -> SqliteIndex {
    SqliteIndex::open(dir.path().join("zoomvault.db")).expect("open index")
}

#[tokio::test]
async fn entries_survive_reopening() {
    let dir = TestDir::new("index-durable");
    let kept = entry("kept", datetime!(2024-03-05 14:00 UTC));
    {
        let index = open(&dir);
        index.upsert(kept.clone()).await.expect("upsert");
    }
    let index = open(&dir);
    assert_eq!(index.get("kept").await.expect("get"), Some(kept.clone()));
    let page = index.list(ListQuery::default()).await.expect("list");
    assert_eq!(page.entries, [kept]);
}

#[tokio::test]
async fn a_later_ingest_wins_across_connections() {
    let dir = TestDir::new("index-two-connections");
    let (first, second) = (open(&dir), open(&dir));
    let newer = IndexEntry {
        ingested_at: datetime!(2024-06-02 0:00 UTC),
        ..entry("rec", datetime!(2024-03-05 14:00 UTC))
    };
    let older = entry("rec", datetime!(2024-03-05 14:00 UTC));
    assert_eq!(
        first.upsert(newer.clone()).await.expect("upsert"),
        Upserted::Written
    );
    assert_eq!(
        second.upsert(older).await.expect("upsert"),
        Upserted::KeptNewer
    );
    assert_eq!(first.get("rec").await.expect("get"), Some(newer));
}
