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

zoomvault_archive::index_checks!(suite);
