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

zoomvault_archive::object_store_checks!(port_checks);

#[tokio::test]
async fn list_parts_from_a_reopened_store() {
    let dir = TestDir::new("list_parts_from_a_reopened_store");
    let reopened_later = store(&dir);
    check::list_parts_from_a_reopened_store(&store(&dir), &reopened_later).await;
}
