//! `dynamodb:*` tasks on the archive's recording index, embedded, where no
//! DynamoDB endpoint is configured: the index stands in for the one table
//! zoomvault deploys (the recordings table), under the name the wiring
//! gives it, with the items `zoomvault_aws::dynamodb` writes on AWS (an
//! entry's fields plus the attributes its GSIs read), so a definition
//! reads and writes the same items both ways.
//!
//! It answers what a key-value index can answer exactly: `getItem`,
//! `putItem` and `deleteItem` by `recording_uuid`, with `ConsistentRead`
//! and `ReturnValues` `NONE` or `ALL_OLD`. Another table name is DynamoDB's
//! `ResourceNotFoundException` and a key other than `recording_uuid` its
//! `ValidationException`, as DynamoDB answers them. What would need
//! DynamoDB's expression language (`ConditionExpression`,
//! `ProjectionExpression`, `ExpressionAttributeNames`/`Values`,
//! `updateItem`), and an item that is not an index entry (DynamoDB would
//! store any item; the index holds entries only), fail with
//! `States.Runtime` saying that they need an endpoint, rather than acting
//! differently from DynamoDB. A `putItem` replaces the entry whatever it
//! was, as DynamoDB's unconditional put does (the index's own upsert keeps
//! a later-ingested entry; that rule is the ingest's, not the table's).

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{json, Value};
use zoomvault_archive::ports::RecordingIndex;
use zoomvault_asl::Failure;

use super::{item_from_json, item_to_json, Operation, SDK_FAILURE};

/// The recording index as the table named `table`.
#[derive(Debug, Clone)]
pub struct LocalTable {
    pub table: String,
    pub index: Arc<dyn RecordingIndex>,
}

/// A DynamoDB error as Step Functions names it, with DynamoDB's message
/// in the cause's usual frame.
fn dynamodb_error(code: &str, message: &str) -> Failure {
    Failure::new(
        format!("DynamoDB.{code}"),
        format!(
            "{message} (Service: AmazonDynamoDBv2; Status Code: 400; Error Code: {code}; \
             Request ID: zoomvault-local; Proxy: null)"
        ),
    )
}

/// What the local table cannot do, and where to get it done.
fn needs_endpoint(what: &str, table: &str) -> Failure {
    Failure::runtime(format!(
        "{what} needs a DynamoDB endpoint: the embedded recording index (table {table}) answers \
         only getItem, putItem and deleteItem by recording_uuid, without expressions; set \
         ZOOMVAULT_DYNAMODB_ENDPOINT (--dynamodb-endpoint) to use DynamoDB itself"
    ))
}

fn index_failure(e: zoomvault_archive::ports::index::Error) -> Failure {
    Failure::new(SDK_FAILURE, format!("the embedded recording index: {e}"))
}

impl LocalTable {
    pub(super) async fn call(&self, operation: Operation, input: &Value) -> Result<Value, Failure> {
        let resource = operation.resource();
        crate::only_members(input, operation.members(), resource)?;
        if operation == Operation::Update {
            return Err(needs_endpoint("updateItem", &self.table));
        }
        for member in [
            "ConditionExpression",
            "ProjectionExpression",
            "ExpressionAttributeNames",
            "ExpressionAttributeValues",
        ] {
            if input.get(member).is_some_and(|v| !v.is_null()) {
                return Err(needs_endpoint(member, &self.table));
            }
        }
        let table = crate::required_str(input, "TableName", resource)?;
        if table != self.table {
            return Err(dynamodb_error(
                "ResourceNotFoundException",
                "Requested resource not found",
            ));
        }
        let all_old = match input.get("ReturnValues") {
            None | Some(Value::Null) => false,
            Some(Value::String(v)) if v == "NONE" => false,
            Some(Value::String(v)) if v == "ALL_OLD" && operation != Operation::Get => true,
            Some(other) => {
                return Err(needs_endpoint(
                    &format!("ReturnValues {other}"),
                    &self.table,
                ))
            }
        };
        match input.get("ConsistentRead") {
            None | Some(Value::Null) | Some(Value::Bool(_)) => {}
            Some(_) => {
                return Err(Failure::runtime(format!(
                    "The field 'ConsistentRead' of {resource}: must be a boolean"
                )))
            }
        }
        match operation {
            Operation::Get => {
                let uuid = self.key(input, resource)?;
                let entry = self.index.get(&uuid).await.map_err(index_failure)?;
                Ok(match entry {
                    Some(entry) => json!({ "Item": item_json(&entry)? }),
                    None => json!({}),
                })
            }
            Operation::Put => {
                let item = crate::required(input, "Item", resource)?;
                let item = item_from_json(item).map_err(|e| {
                    Failure::runtime(format!("The field 'Item' of {resource}: {e}"))
                })?;
                let entry = zoomvault_aws::dynamodb::entry_of(&item).map_err(|e| {
                    Failure::runtime(format!(
                        "the embedded recording index (table {}) holds only recording index \
                         entries, and this Item is not one ({e}); DynamoDB itself takes any item \
                         (set ZOOMVAULT_DYNAMODB_ENDPOINT)",
                        self.table
                    ))
                })?;
                entry.check().map_err(|e| {
                    Failure::runtime(format!(
                        "the embedded recording index (table {}) cannot hold this Item: {e}",
                        self.table
                    ))
                })?;
                let old = self
                    .index
                    .get(&entry.recording_uuid)
                    .await
                    .map_err(index_failure)?;
                // The upsert replaces an entry ingested no later; one
                // ingested later it would keep, so that one goes first.
                if old
                    .as_ref()
                    .is_some_and(|old| old.ingested_at_ms() > entry.ingested_at_ms())
                {
                    self.index
                        .delete(&entry.recording_uuid)
                        .await
                        .map_err(index_failure)?;
                }
                self.index.upsert(entry).await.map_err(index_failure)?;
                attributes(all_old, old)
            }
            Operation::Delete => {
                let uuid = self.key(input, resource)?;
                let old = self.index.get(&uuid).await.map_err(index_failure)?;
                if old.is_some() {
                    self.index.delete(&uuid).await.map_err(index_failure)?;
                }
                attributes(all_old, old)
            }
            Operation::Update => unreachable!("refused above"),
        }
    }

    /// The recording the key names: exactly `{"recording_uuid": {"S": ...}}`,
    /// else DynamoDB's answer to a key that does not match the schema.
    fn key(&self, input: &Value, resource: &str) -> Result<String, Failure> {
        let key = crate::required(input, "Key", resource)?;
        let key: HashMap<String, AttributeValue> = item_from_json(key)
            .map_err(|e| Failure::runtime(format!("The field 'Key' of {resource}: {e}")))?;
        match (key.len(), key.get(zoomvault_aws::dynamodb::RECORDING_UUID)) {
            (1, Some(AttributeValue::S(uuid))) => Ok(uuid.clone()),
            _ => Err(dynamodb_error(
                "ValidationException",
                "The provided key element does not match the schema",
            )),
        }
    }
}

fn item_json(entry: &zoomvault_archive::ports::IndexEntry) -> Result<Value, Failure> {
    let item = zoomvault_aws::dynamodb::item_of(entry).map_err(index_failure)?;
    Ok(item_to_json(&item))
}

/// `{"Attributes": old}` when `ReturnValues` is `ALL_OLD` and there was
/// an item, else `{}`.
fn attributes(
    all_old: bool,
    old: Option<zoomvault_archive::ports::IndexEntry>,
) -> Result<Value, Failure> {
    match old.filter(|_| all_old) {
        Some(old) => Ok(json!({ "Attributes": item_json(&old)? })),
        None => Ok(json!({})),
    }
}
