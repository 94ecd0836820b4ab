//! `DynamoDbIndex` on moto's DynamoDB: the index port's shared suite
//! ([`zoomvault_archive::port_tests::index`]), one test per check, each on
//! a table of its own made by `create_table` (the deployment's design),
//! plus what only this adapter can get wrong: the items' layout.

#[path = "support/moto.rs"]
mod moto;

use aws_sdk_dynamodb::types::AttributeValue;
use time::macros::datetime;
use zoomvault_archive::port_tests::index;
use zoomvault_archive::ports::index::{IndexEntry, RecordingIndex};
use zoomvault_aws::dynamodb::{create_table, DynamoDbIndex};

async fn new_index() -> DynamoDbIndex {
    let client = aws_sdk_dynamodb::Client::new(&moto::moto().sdk_config());
    let table = moto::unique("index");
    create_table(&client, &table).await.expect("create table");
    DynamoDbIndex::new(client, table)
}

macro_rules! suite {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                index::$check(&new_index().await).await;
            }
        )*
    };
}

zoomvault_archive::index_checks!(suite);

/// The item carries the keys the table's GSIs and the condition read, in
/// the documented forms; an entry without a host has no `host_email`.
#[tokio::test]
async fn items_hold_the_documented_keys() {
    let index = new_index().await;
    let with_host = IndexEntry {
        start_time: datetime!(2024-03-05 15:04:05.5 +01:00),
        ingested_at: datetime!(2024-06-01 0:00:00.123 UTC),
        ..index::entry("aDYl+/w==", datetime!(2024-03-05 14:04:05 UTC))
    };
    let without_host = IndexEntry {
        host_email: None,
        ..index::entry("b==", datetime!(2024-03-05 14:04:05 UTC))
    };
    index.upsert(with_host).await.expect("upsert");
    index.upsert(without_host).await.expect("upsert");
    let client = aws_sdk_dynamodb::Client::new(&moto::moto().sdk_config());
    let item = |uuid: &str| {
        let client = client.clone();
        let table = index.table().to_owned();
        let uuid = uuid.to_owned();
        async move {
            client
                .get_item()
                .table_name(table)
                .key("recording_uuid", AttributeValue::S(uuid))
                .send()
                .await
                .expect("get_item")
                .item
                .expect("an item")
        }
    };
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let n = |v: &str| AttributeValue::N(v.to_owned());
    let stored = item("aDYl+/w==").await;
    assert_eq!(stored["start_key"], s("2024-03-05T14:04:05Z#aDYl+/w=="));
    assert_eq!(stored["listing"], s("recording"));
    assert_eq!(stored["ingested_at_ms"], n("1717200000123"));
    assert_eq!(stored["meeting_id"], n("85746065432"));
    assert_eq!(stored["host_email"], s("host@example.com"));
    assert_eq!(stored["start_time"], s("2024-03-05T15:04:05.5+01:00"));
    let stored = item("b==").await;
    assert!(!stored.contains_key("host_email"), "{stored:?}");
}
