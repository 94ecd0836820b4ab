//! The object store port's shared suite
//! (`zoomvault_archive::port_tests::object_store`) run against the
//! directory store at S3's real minimum part size, one test per check, each
//! in a scratch directory of its own.

mod common;

use common::TestDir;
use zoomvault_archive::local::DirObjectStore;
use zoomvault_archive::port_tests::object_store as check;

fn store(dir: &TestDir) -> DirObjectStore {
    DirObjectStore::open(dir.path()).expect("open store")
}

macro_rules! port_checks {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            let dir = TestDir::new(stringify!($name));
            check::$name(&store(&dir)).await;
        }
    )*};
}

port_checks!(
    put_get_head_list_delete,
    list_returns_every_key_past_one_page,
    get_stream_reads_the_whole_object,
    large_object_in_parts_with_a_part_sent_twice,
    parts_listed_out_of_order_are_refused,
    a_too_small_middle_part_is_refused,
    a_wrong_etag_is_refused,
    abort_leaves_nothing,
    a_part_with_a_mismatched_declared_checksum_is_refused,
    a_completion_with_a_mismatched_checksum_leaves_nothing,
    completing_twice_is_no_such_upload,
);

#[tokio::test]
async fn list_parts_from_a_reopened_store() {
    let dir = TestDir::new("list_parts_from_a_reopened_store");
    let reopened_later = store(&dir);
    check::list_parts_from_a_reopened_store(&store(&dir), &reopened_later).await;
}
