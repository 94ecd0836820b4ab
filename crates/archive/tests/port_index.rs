//! The index port's shared suite ([`zoomvault_archive::port_tests::index`])
//! against `SqliteIndex`, one test per check, each on a database file of
//! its own.

mod common;

use common::TestDir;
use zoomvault_archive::local::SqliteIndex;
use zoomvault_archive::port_tests::index;

fn open(dir: &TestDir) -> SqliteIndex {
    SqliteIndex::open(dir.path().join("zoomvault.db")).expect("open index")
}

macro_rules! suite {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let dir = TestDir::new(stringify!($check));
                index::$check(&open(&dir)).await;
            }
        )*
    };
}

suite!(
    upsert_then_get,
    upsert_keeps_a_later_ingested_entry,
    upsert_with_an_equal_ingest_time_rewrites,
    lists_newest_first_with_ties_broken_by_uuid,
    pages_visit_every_entry_once,
    lists_by_meeting,
    lists_by_host,
    started_before_is_a_strict_cut_off,
    an_invalid_limit_is_refused,
    a_forged_or_foreign_cursor_is_refused,
    invalid_entries_are_refused,
    delete_removes_one_entry,
    clear_empties_the_index,
);
