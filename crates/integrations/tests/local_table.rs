//! `dynamodb:*` tasks embedded, with no DynamoDB endpoint: a real engine
//! (a SQLite journal) sends them to the archive's real SQLite recording
//! index standing in for the recordings table. Items go in and come out in
//! the shape `zoomvault_aws::dynamodb` stores on AWS, the index port sees
//! what the tasks wrote, and what only DynamoDB could answer is refused
//! with where to get it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};
use zoomvault_archive::local::SqliteIndex;
use zoomvault_archive::ports::RecordingIndex;
use zoomvault_engine::{Engine, EngineConfig, Handlers, Status};
use zoomvault_integrations::dynamodb::{
    self, LocalTable, TableTarget, DELETE_ITEM, GET_ITEM, PUT_ITEM, UPDATE_ITEM,
};

const TABLE: &str = "recordings";

struct Harness {
    engine: Engine,
    index: Arc<SqliteIndex>,
    _dir: tempfile::TempDir,
}

fn harness() -> Harness {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let index = Arc::new(SqliteIndex::open(dir.path().join("index.db")).expect("index"));
    let mut handlers = Handlers::new();
    dynamodb::register(
        &mut handlers,
        TableTarget::Local(LocalTable {
            table: TABLE.to_owned(),
            index: index.clone(),
        }),
    );
    let engine =
        Engine::open(EngineConfig::new(dir.path().join("engine.db")), handlers).expect("engine");
    Harness {
        engine,
        index,
        _dir: dir,
    }
}

/// An execution's end: status, output, error, cause.
type Ended = (Status, Value, Option<String>, Option<String>);

impl Harness {
    /// Runs one task state (`resource` with `parameters`) to its end.
    async fn task(&self, resource: &str, parameters: Value) -> Ended {
        let definition = json!({"StartAt": "T", "States": {"T": {
            "Type": "Task", "Resource": resource, "Parameters": parameters, "End": true}}});
        let machine = self
            .engine
            .create_state_machine(
                &format!("m{}", MACHINES.fetch_add(1, Ordering::Relaxed)),
                &definition.to_string(),
                None,
            )
            .expect("a valid definition")
            .arn;
        let started = self
            .engine
            .start_execution(&machine, None, json!({}))
            .await
            .expect("started");
        let row = self
            .engine
            .wait_for(&started.execution_arn)
            .await
            .expect("ends");
        let output = row
            .output
            .map(|o| serde_json::from_str(&o).expect("JSON output"))
            .unwrap_or(Value::Null);
        (row.status, output, row.error, row.cause)
    }
}

/// Numbers each test's state machines apart.
static MACHINES: AtomicUsize = AtomicUsize::new(0);

/// A recording's item as the AWS adapter stores it (fields and derived
/// attributes alike).
fn item(topic: &str, ingested_at: &str) -> Value {
    json!({
        "recording_uuid": {"S": "aDYlohsHRtCd4ii1uC2+hA=="},
        "meeting_id": {"N": "85746065432"},
        "topic": {"S": topic},
        "start_time": {"S": "2024-03-05T14:00:00Z"},
        "duration_minutes": {"N": "42"},
        "host_email": {"S": "host@example.edu"},
        "file_count": {"N": "3"},
        "total_bytes": {"N": "1024"},
        "document_key": {"S": "recordings/2024/03/05/85746065432/aDYlohsHRtCd4ii1uC2-hA==/recording.json"},
        "ingested_at": {"S": ingested_at},
    })
}

fn key() -> Value {
    json!({"recording_uuid": {"S": "aDYlohsHRtCd4ii1uC2+hA=="}})
}

#[tokio::test]
async fn an_entry_is_put_read_replaced_and_deleted_through_the_index() {
    let h = harness();
    let put = h
        .task(
            PUT_ITEM,
            json!({"TableName": TABLE, "Item": item("Seminar", "2024-03-05T15:00:00Z")}),
        )
        .await;
    assert_eq!(put.0, Status::Succeeded, "{put:?}");
    assert_eq!(put.1, json!({}));
    let stored = h
        .index
        .get("aDYlohsHRtCd4ii1uC2+hA==")
        .await
        .unwrap()
        .expect("indexed");
    assert_eq!(stored.topic, "Seminar");
    assert_eq!(stored.meeting_id, 85746065432);
    assert_eq!(stored.host_email.as_deref(), Some("host@example.edu"));

    // Read back: the item as the AWS adapter writes it, derived attributes
    // included.
    let got = h
        .task(
            GET_ITEM,
            json!({"TableName": TABLE, "Key": key(), "ConsistentRead": true}),
        )
        .await;
    assert_eq!(got.0, Status::Succeeded, "{got:?}");
    let expected = zoomvault_integrations::dynamodb::item_to_json(
        &zoomvault_aws::dynamodb::item_of(&stored).unwrap(),
    );
    assert_eq!(got.1, json!({"Item": expected}));
    assert_eq!(got.1["Item"]["topic"], json!({"S": "Seminar"}));
    assert!(got.1["Item"]["start_key"].is_object(), "{got:?}");

    // An unconditional put replaces it, even with an earlier ingest time,
    // and ALL_OLD answers what it replaced.
    let replaced = h
        .task(
            PUT_ITEM,
            json!({"TableName": TABLE, "Item": item("Renamed", "2024-03-05T14:30:00Z"),
                   "ReturnValues": "ALL_OLD"}),
        )
        .await;
    assert_eq!(replaced.0, Status::Succeeded, "{replaced:?}");
    assert_eq!(replaced.1["Attributes"]["topic"], json!({"S": "Seminar"}));
    let stored = h
        .index
        .get("aDYlohsHRtCd4ii1uC2+hA==")
        .await
        .unwrap()
        .expect("indexed");
    assert_eq!(stored.topic, "Renamed");

    let deleted = h
        .task(
            DELETE_ITEM,
            json!({"TableName": TABLE, "Key": key(), "ReturnValues": "ALL_OLD"}),
        )
        .await;
    assert_eq!(deleted.0, Status::Succeeded, "{deleted:?}");
    assert_eq!(deleted.1["Attributes"]["topic"], json!({"S": "Renamed"}));
    assert!(h
        .index
        .get("aDYlohsHRtCd4ii1uC2+hA==")
        .await
        .unwrap()
        .is_none());
    let gone = h
        .task(GET_ITEM, json!({"TableName": TABLE, "Key": key()}))
        .await;
    assert_eq!(gone.1, json!({}), "no item: an empty answer, as DynamoDB's");
    let again = h
        .task(DELETE_ITEM, json!({"TableName": TABLE, "Key": key()}))
        .await;
    assert_eq!(
        again.0,
        Status::Succeeded,
        "deleting nothing succeeds, as on DynamoDB"
    );
}

#[tokio::test]
async fn what_only_dynamodb_could_answer_is_refused_naming_the_endpoint_setting() {
    let h = harness();
    // DynamoDB's own answers: another table, a key off the schema.
    let other = h
        .task(GET_ITEM, json!({"TableName": "other", "Key": key()}))
        .await;
    assert_eq!(other.0, Status::Failed);
    assert_eq!(
        other.2.as_deref(),
        Some("DynamoDB.ResourceNotFoundException")
    );
    assert!(other
        .3
        .as_deref()
        .unwrap()
        .starts_with("Requested resource not found"));
    let bad_key = h
        .task(
            GET_ITEM,
            json!({"TableName": TABLE, "Key": {"id": {"S": "1"}}}),
        )
        .await;
    assert_eq!(bad_key.2.as_deref(), Some("DynamoDB.ValidationException"));
    assert!(bad_key
        .3
        .as_deref()
        .unwrap()
        .contains("does not match the schema"));

    // The local index's limits: refused, never answered differently.
    for (resource, parameters, names) in [
        (
            UPDATE_ITEM,
            json!({"TableName": TABLE, "Key": key(), "UpdateExpression": "SET topic = :t",
                   "ExpressionAttributeValues": {":t": {"S": "x"}}}),
            "updateItem",
        ),
        (
            PUT_ITEM,
            json!({"TableName": TABLE, "Item": item("x", "2024-03-05T15:00:00Z"),
                   "ConditionExpression": "attribute_not_exists(recording_uuid)"}),
            "ConditionExpression",
        ),
        (
            GET_ITEM,
            json!({"TableName": TABLE, "Key": key(), "ProjectionExpression": "topic"}),
            "ProjectionExpression",
        ),
        (
            PUT_ITEM,
            json!({"TableName": TABLE, "Item": {"recording_uuid": {"S": "u"}, "n": {"N": "1"}}}),
            "holds only recording index entries",
        ),
    ] {
        let ended = h.task(resource, parameters).await;
        assert_eq!(ended.0, Status::Failed, "{ended:?}");
        assert_eq!(ended.2.as_deref(), Some("States.Runtime"), "{ended:?}");
        let cause = ended.3.unwrap_or_default();
        assert!(cause.contains(names), "{cause}");
        assert!(cause.contains("ZOOMVAULT_DYNAMODB_ENDPOINT"), "{cause}");
    }
    assert!(
        h.index.get("u").await.unwrap().is_none()
            && h.index
                .get("aDYlohsHRtCd4ii1uC2+hA==")
                .await
                .unwrap()
                .is_none(),
        "nothing refused was written"
    );
}
