//! The service integrations as `serve` wires them (`embedded::Embedded`):
//! one state machine on the embedded engine writes an object to the
//! archive's bucket (`aws-sdk:s3:putObject`), asks for a site rebuild
//! (`events:putEvents`) and runs a nested execution that reads the object
//! back (`states:startExecution.sync:2`, whose child calls
//! `aws-sdk:s3:getObject`). The test checks the output, the object in the
//! directory store, the event in the queue the site builder reads (and
//! the site it rebuilds), and the history. Shapes follow
//! <https://docs.aws.amazon.com/step-functions/latest/dg/connect-eventbridge.html>,
//! <https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html>
//! and <https://docs.aws.amazon.com/step-functions/latest/dg/connect-stepfunctions.html>.
//! A second test sets `dynamodb_endpoint` and `eventbridge_endpoint` to
//! moto's server, as an operator would, and checks that `putItem` lands in
//! the table and `putEvents` goes to EventBridge instead of the local
//! queue (<https://docs.aws.amazon.com/step-functions/latest/dg/connect-ddb.html>).

#[path = "../../../crates/aws/tests/support/moto.rs"]
mod moto;

use serde_json::{json, Value};
use zoomvault::embedded::{Embedded, EmbeddedConfig, IntegrationEndpoints, LOCAL_ARCHIVE_BUCKET};
use zoomvault::serve::{integration_endpoints, ServeOptions, ServeSettings};
use zoomvault_archive::ports::events::{ArchiveEvent, RebuildReason};
use zoomvault_archive::steps::IngestConfig;
use zoomvault_engine::Status;
use zoomvault_zoom::ZoomConfig;

fn open(dir: &std::path::Path, integrations: IntegrationEndpoints) -> Embedded {
    Embedded::open(EmbeddedConfig {
        store: None,
        data_dir: dir.to_path_buf(),
        // No Zoom call is made: no ingest runs here.
        zoom: ZoomConfig::new("account", "client", "secret"),
        ingest: IngestConfig::default(),
        site_title: "Recordings".into(),
        max_concurrent_tasks: 4,
        journal_retention: None,
        journal_sync: zoomvault_engine::Durability::Full,
        map_buckets: None,
        integrations,
    })
    .expect("the embedded deployment opens")
}

#[tokio::test]
async fn serve_runs_s3_eventbridge_and_nested_workflow_integrations_on_the_local_adapters() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let embedded = open(dir.path(), IntegrationEndpoints::default());
    let engine = &embedded.engine;
    let reader = engine
        .create_state_machine(
            "read-note",
            &json!({
                "StartAt": "Get",
                "States": {"Get": {
                    "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                    "Parameters": {"Bucket": LOCAL_ARCHIVE_BUCKET, "Key.$": "$.key"},
                    "ResultSelector": {"text.$": "$.Body"}, "End": true}}
            })
            .to_string(),
            None,
        )
        .expect("valid")
        .arn;
    let writer = engine
        .create_state_machine(
            "write-note",
            &json!({
                "StartAt": "Put",
                "States": {
                    "Put": {
                        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:putObject",
                        "Parameters": {"Bucket": LOCAL_ARCHIVE_BUCKET, "Key.$": "$.key", "Body.$": "$.text"},
                        "ResultPath": "$.put", "Next": "Announce"
                    },
                    "Announce": {
                        "Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
                        "Parameters": {"Entries": [{"Source": "zoomvault",
                            "DetailType": "SiteRebuildRequested", "Detail": {"reason": "requested"}}]},
                        "ResultPath": "$.events", "Next": "ReadBack"
                    },
                    "ReadBack": {
                        "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                        "Parameters": {"StateMachineArn": reader, "Input": {"key.$": "$.key"}},
                        "ResultSelector": {"child.$": "$.Output", "status.$": "$.Status"},
                        "ResultPath": "$.read", "End": true
                    }
                }
            })
            .to_string(),
            None,
        )
        .expect("valid")
        .arn;
    let started = engine
        .start_execution(
            &writer,
            Some("note-1"),
            json!({"key": "notes/note-1.txt", "text": "kept"}),
        )
        .await
        .expect("started");
    let row = engine.wait_for(&started.execution_arn).await.expect("ends");
    assert_eq!(row.status, Status::Succeeded, "{row:?}");
    let output: Value =
        serde_json::from_str(row.output.as_deref().unwrap_or("null")).expect("JSON");
    assert_eq!(
        output["read"],
        json!({"child": {"text": "kept"}, "status": "SUCCEEDED"})
    );
    assert_eq!(output["events"]["FailedEntryCount"], json!(0));

    let path = embedded
        .object_path("notes/note-1.txt")
        .expect("a directory store");
    assert_eq!(std::fs::read(path).expect("the object is stored"), b"kept");
    let queued: Vec<ArchiveEvent> = embedded
        .events
        .pending(10)
        .await
        .expect("the queue")
        .into_iter()
        .map(|q| q.event)
        .collect();
    assert_eq!(
        queued,
        [ArchiveEvent::SiteRebuildRequested {
            reason: RebuildReason::Requested,
            recording_uuid: None
        }],
        "the site builder's queue has the rebuild request"
    );
    // And the site builder acts on it: it rebuilds, then acknowledges.
    let index = embedded.site_dir().join("index.html");
    assert!(!index.exists(), "no site was built before");
    tokio::spawn(embedded.clone().run_site_builder());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !embedded
        .events
        .pending(10)
        .await
        .expect("the queue")
        .is_empty()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the site builder never handled the event"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert!(index.exists(), "the site was rebuilt");
    let succeeded = engine
        .history(&started.execution_arn)
        .expect("history")
        .iter()
        .filter(|e| e["type"] == "TaskSucceeded")
        .map(|e| e["taskSucceededEventDetails"]["resourceType"].clone())
        .collect::<Vec<_>>();
    assert_eq!(
        succeeded,
        [json!("aws-sdk:s3"), json!("events"), json!("states")]
    );
    engine.shutdown();
}

#[tokio::test]
async fn configured_endpoints_send_dynamodb_and_eventbridge_tasks_to_aws() {
    let moto = moto::moto();
    // What serve's clients read, as an operator would set it.
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    std::env::set_var("AWS_REGION", "us-east-1");
    let settings = ServeSettings::resolve(
        ServeOptions {
            dynamodb_endpoint: Some(moto.endpoint.clone()),
            eventbridge_endpoint: Some(moto.endpoint.clone()),
            ..ServeOptions::default()
        },
        ServeOptions::default(),
    )
    .expect("valid settings");
    let dynamodb = aws_sdk_dynamodb::Client::new(&moto.sdk_config());
    let table = moto::unique("serve-table");
    dynamodb
        .create_table()
        .table_name(&table)
        .attribute_definitions(
            aws_sdk_dynamodb::types::AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                .build()
                .expect("definition"),
        )
        .key_schema(
            aws_sdk_dynamodb::types::KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(aws_sdk_dynamodb::types::KeyType::Hash)
                .build()
                .expect("key"),
        )
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .send()
        .await
        .expect("table created");

    let dir = tempfile::tempdir().expect("a temporary directory");
    let embedded = open(dir.path(), integration_endpoints(&settings).await);
    let engine = &embedded.engine;
    let machine = engine
        .create_state_machine(
            "record",
            &json!({
                "StartAt": "Put",
                "States": {
                    "Put": {
                        "Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                        "Parameters": {"TableName": table,
                                       "Item": {"pk": {"S.$": "$.id"}, "size": {"N": "3"}}},
                        "ResultPath": "$.put", "Next": "Announce"
                    },
                    "Announce": {
                        "Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
                        "Parameters": {"Entries": [{"Source": "zoomvault",
                            "DetailType": "SiteRebuildRequested", "Detail": {"reason": "requested"}}]},
                        "ResultPath": "$.events", "End": true
                    }
                }
            })
            .to_string(),
            None,
        )
        .expect("valid")
        .arn;
    let started = engine
        .start_execution(&machine, None, json!({"id": "item-1"}))
        .await
        .expect("started");
    let row = engine.wait_for(&started.execution_arn).await.expect("ends");
    assert_eq!(row.status, Status::Succeeded, "{row:?}");
    let output: Value =
        serde_json::from_str(row.output.as_deref().unwrap_or("null")).expect("JSON");
    assert_eq!(output["put"], json!({}));
    assert_eq!(output["events"]["FailedEntryCount"], json!(0));
    let item = dynamodb
        .get_item()
        .table_name(&table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("item-1".into()),
        )
        .send()
        .await
        .expect("read back");
    assert_eq!(
        item.item().and_then(|i| i.get("size")),
        Some(&aws_sdk_dynamodb::types::AttributeValue::N("3".into()))
    );
    assert!(
        embedded
            .events
            .pending(10)
            .await
            .expect("the queue")
            .is_empty(),
        "with EventBridge configured, nothing goes to the local queue"
    );
    engine.shutdown();
}
