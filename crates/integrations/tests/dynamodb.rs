//! The DynamoDB integration run by a real engine against moto's DynamoDB
//! (crates/aws/tests/support/moto.rs starts it on a free loopback port),
//! through aws-sdk-dynamodb as `serve --dynamodb-endpoint` does. One state
//! machine walks an item through putItem, a conditional putItem that
//! fails, updateItem (SET, REMOVE, ADD, DELETE), getItem and deleteItem,
//! each result kept in the output; the table is then read directly.
//! Shapes and error names follow
//! <https://docs.aws.amazon.com/step-functions/latest/dg/connect-ddb.html>.

#[path = "../../aws/tests/support/moto.rs"]
mod moto;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use serde_json::{json, Value};
use zoomvault_engine::{Engine, EngineConfig, Handlers, Status};
use zoomvault_integrations::dynamodb::{DELETE_ITEM, GET_ITEM, PUT_ITEM, UPDATE_ITEM};

async fn table(client: &aws_sdk_dynamodb::Client) -> String {
    let name = moto::unique("integration");
    client
        .create_table()
        .table_name(&name)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("definition"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("table created");
    name
}

fn step(resource: &str, parameters: Value, result: &str, next: &str) -> Value {
    json!({
        "Type": "Task", "Resource": resource, "Parameters": parameters,
        "ResultPath": format!("$.{result}"), "Next": next,
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": format!("$.{result}"), "Next": next}]
    })
}

#[tokio::test]
async fn an_item_walks_through_every_operation_with_dynamodbs_shapes() {
    let client = aws_sdk_dynamodb::Client::new(&moto::moto().sdk_config());
    let table = table(&client).await;
    let key = json!({"pk": {"S": "rec-1"}});
    let definition = json!({
        "StartAt": "Put",
        "States": {
            "Put": step(PUT_ITEM, json!({
                "TableName": table,
                "Item": {"pk": {"S": "rec-1"}, "count": {"N": "1"}, "tags": {"SS": ["a", "b"]},
                         "obsolete": {"BOOL": true}, "title": {"S.$": "$.title"}},
                "ConditionExpression": "attribute_not_exists(pk)"
            }), "put", "PutAgain"),
            "PutAgain": step(PUT_ITEM, json!({
                "TableName": table, "Item": {"pk": {"S": "rec-1"}},
                "ConditionExpression": "attribute_not_exists(pk)"
            }), "conflict", "Update"),
            "Update": step(UPDATE_ITEM, json!({
                "TableName": table, "Key": key,
                "UpdateExpression": "SET #t = :title REMOVE obsolete ADD #c :one DELETE tags :a",
                "ExpressionAttributeNames": {"#t": "title", "#c": "count"},
                "ExpressionAttributeValues": {":title": {"S": "renamed"}, ":one": {"N": "1"},
                                              ":a": {"SS": ["a"]}},
                "ReturnValues": "ALL_NEW"
            }), "update", "Get"),
            "Get": step(GET_ITEM, json!({"TableName": table, "Key": key, "ConsistentRead": true}),
                        "get", "Delete"),
            "Delete": step(DELETE_ITEM, json!({"TableName": table, "Key": key, "ReturnValues": "ALL_OLD"}),
                           "delete", "GetGone"),
            "GetGone": step(GET_ITEM, json!({"TableName": table, "Key": key}), "gone", "NoTable"),
            "NoTable": step(GET_ITEM, json!({"TableName": "no-such-table", "Key": key}), "no_table", "Keep"),
            "Keep": step(PUT_ITEM, json!({"TableName": table, "Item": {"pk": {"S": "rec-2"}, "n": {"N": "7"}}}),
                         "keep", "Done"),
            "Done": {"Type": "Succeed"}
        }
    });
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut handlers = Handlers::new();
    zoomvault_integrations::dynamodb::register(
        &mut handlers,
        zoomvault_integrations::dynamodb::TableTarget::Endpoint(client.clone()),
    );
    let engine =
        Engine::open(EngineConfig::new(dir.path().join("engine.db")), handlers).expect("engine");
    let machine = engine
        .create_state_machine("dynamodb", &definition.to_string(), None)
        .expect("valid")
        .arn;
    let started = engine
        .start_execution(&machine, None, json!({"title": "first"}))
        .await
        .expect("started");
    let row = engine.wait_for(&started.execution_arn).await.expect("ends");
    assert_eq!(row.status, Status::Succeeded, "{row:?}");
    let out: Value = serde_json::from_str(row.output.as_deref().unwrap_or("null")).expect("JSON");

    assert_eq!(out["put"], json!({}));
    assert_eq!(
        out["conflict"]["Error"],
        json!("DynamoDB.ConditionalCheckFailedException")
    );
    assert!(
        out["conflict"]["Cause"]
            .as_str()
            .is_some_and(|c| c.contains("Service: AmazonDynamoDBv2")),
        "{}",
        out["conflict"]
    );
    let updated = json!({"count": {"N": "2"}, "pk": {"S": "rec-1"}, "tags": {"SS": ["b"]},
                         "title": {"S": "renamed"}});
    assert_eq!(out["update"], json!({"Attributes": updated}));
    assert_eq!(out["get"], json!({"Item": updated}));
    assert_eq!(out["delete"], json!({"Attributes": updated}));
    assert_eq!(out["gone"], json!({}));
    assert_eq!(
        out["no_table"]["Error"],
        json!("DynamoDB.ResourceNotFoundException")
    );
    assert_eq!(out["keep"], json!({}));

    let kept = client
        .get_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("rec-2".into()))
        .send()
        .await
        .expect("read back");
    assert_eq!(
        kept.item().and_then(|i| i.get("n")),
        Some(&AttributeValue::N("7".into()))
    );
    let deleted = client
        .get_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("rec-1".into()))
        .send()
        .await
        .expect("read back");
    assert!(deleted.item().is_none());
    engine.shutdown();
}
