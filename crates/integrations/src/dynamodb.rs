//! `arn:aws:states:::dynamodb:putItem`, `getItem`, `updateItem` and
//! `deleteItem`: Step Functions' optimized DynamoDB integration
//! (<https://docs.aws.amazon.com/step-functions/latest/dg/connect-ddb.html>,
//! "Call DynamoDB APIs with Step Functions"). Requests and results are
//! DynamoDB's own JSON, attribute values included (`{"S": "..."}`,
//! `{"N": "42"}`, `{"M": {...}}`, ...): `Item`, `Key`,
//! `ConditionExpression`, `UpdateExpression`, `ProjectionExpression`,
//! `ExpressionAttributeNames`, `ExpressionAttributeValues`,
//! `ReturnValues`, `ConsistentRead`; the result is `{}`, or
//! `{"Item": ...}` / `{"Attributes": ...}` when there is one. A refusal is
//! named `DynamoDB.<code>` (`DynamoDB.ConditionalCheckFailedException`,
//! `DynamoDB.ResourceNotFoundException`, ...), its cause DynamoDB's
//! message with the SDK's details; a failure to reach DynamoDB at all is
//! `DynamoDB.AmazonDynamoDBException`.
//!
//! Where the calls go is a [`TableTarget`]: through aws-sdk-dynamodb to a
//! configured endpoint (AWS, DynamoDB Local, moto); embedded without one,
//! to the archive's recording index as zoomvault's one table
//! ([`local`]: plain gets, puts and deletes by key); or, with neither
//! (`engine serve`), nowhere: every call fails with [`NOT_CONFIGURED`].
//! There is no general local table store, because what makes this
//! integration worth using is DynamoDB's semantics (its condition and
//! update expression language with its functions and type rules,
//! validation messages), and a local subset of that would accept
//! definitions AWS rejects and differ in ways no test of ours could bound.
//! A DynamoDB-compatible server is one process away (DynamoDB Local,
//! moto).

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::RequestId;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_dynamodb::Client;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use zoomvault_asl::Failure;
use zoomvault_engine::{Handlers, TaskRequest};

pub const PUT_ITEM: &str = "arn:aws:states:::dynamodb:putItem";
pub const GET_ITEM: &str = "arn:aws:states:::dynamodb:getItem";
pub const UPDATE_ITEM: &str = "arn:aws:states:::dynamodb:updateItem";
pub const DELETE_ITEM: &str = "arn:aws:states:::dynamodb:deleteItem";

/// The cause of every DynamoDB task when no endpoint is configured.
pub const NOT_CONFIGURED: &str = "dynamodb integrations need a DynamoDB endpoint: set \
     ZOOMVAULT_DYNAMODB_ENDPOINT (--dynamodb-endpoint of serve and engine serve) to its URL, or \
     to `aws` for AWS's endpoint in the configured region";

/// The name of a failure to call DynamoDB that DynamoDB did not answer.
const SDK_FAILURE: &str = "DynamoDB.AmazonDynamoDBException";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// The four calls, by DynamoDB's action (`PutItem`, ...).
enum Operation {
    Put,
    Get,
    Update,
    Delete,
}

impl Operation {
    fn resource(self) -> &'static str {
        match self {
            Operation::Put => PUT_ITEM,
            Operation::Get => GET_ITEM,
            Operation::Update => UPDATE_ITEM,
            Operation::Delete => DELETE_ITEM,
        }
    }

    /// The members the integration passes on, as the connect-ddb page
    /// lists them (the legacy `Expected`, `AttributesToGet`,
    /// `AttributeUpdates` and `ConditionalOperator`, and the capacity and
    /// metrics reports, are refused here).
    fn members(self) -> &'static [&'static str] {
        match self {
            Operation::Put => &[
                "TableName",
                "Item",
                "ConditionExpression",
                "ExpressionAttributeNames",
                "ExpressionAttributeValues",
                "ReturnValues",
            ],
            Operation::Get => &[
                "TableName",
                "Key",
                "ConsistentRead",
                "ProjectionExpression",
                "ExpressionAttributeNames",
            ],
            Operation::Update => &[
                "TableName",
                "Key",
                "UpdateExpression",
                "ConditionExpression",
                "ExpressionAttributeNames",
                "ExpressionAttributeValues",
                "ReturnValues",
            ],
            Operation::Delete => &[
                "TableName",
                "Key",
                "ConditionExpression",
                "ExpressionAttributeNames",
                "ExpressionAttributeValues",
                "ReturnValues",
            ],
        }
    }
}

mod local;

pub use local::LocalTable;

/// Where `dynamodb:*` tasks go.
#[derive(Debug, Clone)]
pub enum TableTarget {
    /// DynamoDB at an endpoint, through the SDK.
    Endpoint(Client),
    /// The archive's recording index, as one table ([`local`]).
    Local(LocalTable),
    /// Nowhere: every call fails with [`NOT_CONFIGURED`].
    None,
}

pub fn register(handlers: &mut Handlers, target: TableTarget) {
    for operation in [
        Operation::Put,
        Operation::Get,
        Operation::Update,
        Operation::Delete,
    ] {
        let target = target.clone();
        handlers.register(operation.resource(), move |request: TaskRequest| {
            let target = target.clone();
            async move {
                match &target {
                    TableTarget::Endpoint(client) => call(client, operation, &request.input).await,
                    TableTarget::Local(table) => table.call(operation, &request.input).await,
                    TableTarget::None => Err(Failure::runtime(NOT_CONFIGURED)),
                }
            }
        });
    }
}

/// The request's members, read into the SDK's types.
struct Request<'a> {
    input: &'a Value,
    resource: &'static str,
}

impl<'a> Request<'a> {
    fn table(&self) -> Result<String, Failure> {
        Ok(crate::required_str(self.input, "TableName", self.resource)?.to_owned())
    }

    fn item(&self, member: &str) -> Result<HashMap<String, AttributeValue>, Failure> {
        let value = crate::required(self.input, member, self.resource)?;
        item_from_json(value).map_err(|e| self.invalid(member, &e))
    }

    fn text(&self, member: &str) -> Result<Option<String>, Failure> {
        match self.input.get(member) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.invalid(member, "must be a string")),
        }
    }

    fn names(&self) -> Result<Option<HashMap<String, String>>, Failure> {
        match self.input.get("ExpressionAttributeNames") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(names)) => names
                .iter()
                .map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect::<Option<HashMap<_, _>>>()
                .map(Some)
                .ok_or_else(|| self.invalid("ExpressionAttributeNames", "values must be strings")),
            Some(_) => Err(self.invalid("ExpressionAttributeNames", "must be an object")),
        }
    }

    fn values(&self) -> Result<Option<HashMap<String, AttributeValue>>, Failure> {
        match self.input.get("ExpressionAttributeValues") {
            None | Some(Value::Null) => Ok(None),
            Some(values) => item_from_json(values)
                .map(Some)
                .map_err(|e| self.invalid("ExpressionAttributeValues", &e)),
        }
    }

    fn return_values(&self) -> Result<Option<ReturnValue>, Failure> {
        Ok(self
            .text("ReturnValues")?
            .map(|v| ReturnValue::from(v.as_str())))
    }

    fn invalid(&self, member: &str, problem: &str) -> Failure {
        Failure::runtime(format!(
            "The field '{member}' of {}: {problem}",
            self.resource
        ))
    }
}

async fn call(client: &Client, operation: Operation, input: &Value) -> Result<Value, Failure> {
    let resource = operation.resource();
    crate::only_members(input, operation.members(), resource)?;
    let r = Request { input, resource };
    match operation {
        Operation::Put => {
            let out = client
                .put_item()
                .table_name(r.table()?)
                .set_item(Some(r.item("Item")?))
                .set_condition_expression(r.text("ConditionExpression")?)
                .set_expression_attribute_names(r.names()?)
                .set_expression_attribute_values(r.values()?)
                .set_return_values(r.return_values()?)
                .send()
                .await
                .map_err(failure)?;
            Ok(result("Attributes", out.attributes()))
        }
        Operation::Get => {
            let consistent = match input.get("ConsistentRead") {
                None | Some(Value::Null) => None,
                Some(Value::Bool(b)) => Some(*b),
                Some(_) => return Err(r.invalid("ConsistentRead", "must be a boolean")),
            };
            let out = client
                .get_item()
                .table_name(r.table()?)
                .set_key(Some(r.item("Key")?))
                .set_consistent_read(consistent)
                .set_projection_expression(r.text("ProjectionExpression")?)
                .set_expression_attribute_names(r.names()?)
                .send()
                .await
                .map_err(failure)?;
            Ok(result("Item", out.item()))
        }
        Operation::Update => {
            let out = client
                .update_item()
                .table_name(r.table()?)
                .set_key(Some(r.item("Key")?))
                .set_update_expression(r.text("UpdateExpression")?)
                .set_condition_expression(r.text("ConditionExpression")?)
                .set_expression_attribute_names(r.names()?)
                .set_expression_attribute_values(r.values()?)
                .set_return_values(r.return_values()?)
                .send()
                .await
                .map_err(failure)?;
            Ok(result("Attributes", out.attributes()))
        }
        Operation::Delete => {
            let out = client
                .delete_item()
                .table_name(r.table()?)
                .set_key(Some(r.item("Key")?))
                .set_condition_expression(r.text("ConditionExpression")?)
                .set_expression_attribute_names(r.names()?)
                .set_expression_attribute_values(r.values()?)
                .set_return_values(r.return_values()?)
                .send()
                .await
                .map_err(failure)?;
            Ok(result("Attributes", out.attributes()))
        }
    }
}

/// `{}`, or `{member: item}` when DynamoDB returned one.
fn result(member: &str, item: Option<&HashMap<String, AttributeValue>>) -> Value {
    match item {
        Some(item) => json!({ member: item_to_json(item) }),
        None => json!({}),
    }
}

/// An SDK failure named as Step Functions names DynamoDB's errors.
fn failure<E>(error: SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error,
{
    let Some(code) = error.code().map(str::to_owned) else {
        return Failure::new(SDK_FAILURE, error.to_string());
    };
    let status = error
        .raw_response()
        .map(|r| r.status().as_u16().to_string())
        .unwrap_or_default();
    let message = error.message().unwrap_or_default().to_owned();
    let request_id = error.request_id().unwrap_or_default().to_owned();
    Failure::new(
        format!("DynamoDB.{code}"),
        format!(
            "{message} (Service: AmazonDynamoDBv2; Status Code: {status}; Error Code: {code}; \
             Request ID: {request_id}; Proxy: null)"
        ),
    )
}

/// An item (or a key, or ExpressionAttributeValues): an object of
/// attribute values.
pub fn item_from_json(value: &Value) -> Result<HashMap<String, AttributeValue>, String> {
    let Value::Object(members) = value else {
        return Err("must be an object of attribute values".into());
    };
    members
        .iter()
        .map(|(name, v)| {
            Ok((
                name.clone(),
                attribute_from_json(v).map_err(|e| format!("{name}: {e}"))?,
            ))
        })
        .collect()
}

/// One attribute value in DynamoDB's JSON: an object with one member
/// naming its type.
pub fn attribute_from_json(value: &Value) -> Result<AttributeValue, String> {
    let (kind, v) = match value.as_object().map(|o| o.iter().collect::<Vec<_>>()) {
        Some(members) if members.len() == 1 => members[0],
        _ => {
            return Err(format!(
                "{value} is not an attribute value (one member naming its type)"
            ))
        }
    };
    let text = |v: &Value| {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("{kind} must be a string"))
    };
    let texts = |v: &Value| -> Result<Vec<String>, String> {
        v.as_array()
            .and_then(|items| {
                items
                    .iter()
                    .map(|i| i.as_str().map(str::to_owned))
                    .collect()
            })
            .ok_or_else(|| format!("{kind} must be an array of strings"))
    };
    let blob = |s: String| -> Result<Blob, String> {
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .map(Blob::new)
            .map_err(|_| format!("{kind} must be base64"))
    };
    Ok(match kind.as_str() {
        "S" => AttributeValue::S(text(v)?),
        "N" => AttributeValue::N(text(v)?),
        "B" => AttributeValue::B(blob(text(v)?)?),
        "SS" => AttributeValue::Ss(texts(v)?),
        "NS" => AttributeValue::Ns(texts(v)?),
        "BS" => AttributeValue::Bs(texts(v)?.into_iter().map(blob).collect::<Result<_, _>>()?),
        "BOOL" => AttributeValue::Bool(v.as_bool().ok_or("BOOL must be a boolean")?),
        "NULL" => AttributeValue::Null(v.as_bool().ok_or("NULL must be a boolean")?),
        "M" => AttributeValue::M(item_from_json(v)?),
        "L" => AttributeValue::L(
            v.as_array()
                .ok_or("L must be an array")?
                .iter()
                .map(attribute_from_json)
                .collect::<Result<_, _>>()?,
        ),
        other => return Err(format!("unknown attribute value type {other:?}")),
    })
}

pub fn item_to_json(item: &HashMap<String, AttributeValue>) -> Value {
    // Sorted, so a result does not depend on the map's order.
    let mut names: Vec<&String> = item.keys().collect();
    names.sort();
    Value::Object(
        names
            .into_iter()
            .map(|name| (name.clone(), attribute_to_json(&item[name])))
            .collect::<Map<_, _>>(),
    )
}

pub fn attribute_to_json(value: &AttributeValue) -> Value {
    let b64 = |b: &Blob| base64::engine::general_purpose::STANDARD.encode(b.as_ref());
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::B(b) => json!({ "B": b64(b) }),
        AttributeValue::Ss(s) => json!({ "SS": s }),
        AttributeValue::Ns(n) => json!({ "NS": n }),
        AttributeValue::Bs(b) => json!({ "BS": b.iter().map(b64).collect::<Vec<_>>() }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(n) => json!({ "NULL": n }),
        AttributeValue::M(m) => json!({ "M": item_to_json(m) }),
        AttributeValue::L(l) => json!({ "L": l.iter().map(attribute_to_json).collect::<Vec<_>>() }),
        // A type newer than this SDK: kept visible rather than dropped.
        _ => json!({ "Unknown": format!("{value:?}") }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_values_round_trip_through_the_sdk_types() {
        let item = json!({
            "b": {"B": "AAEC"},
            "bool": {"BOOL": true},
            "bs": {"BS": ["AA==", "AQ=="]},
            "l": {"L": [{"S": "x"}, {"N": "1"}]},
            "m": {"M": {"inner": {"NULL": true}}},
            "n": {"N": "42.5"},
            "ns": {"NS": ["1", "2"]},
            "s": {"S": "text"},
            "ss": {"SS": ["a", "b"]}
        });
        let sdk = item_from_json(&item).expect("valid");
        assert_eq!(item_to_json(&sdk), item);
    }

    #[test]
    fn malformed_attribute_values_are_refused_with_where() {
        for (value, problem) in [
            (
                json!({"a": "plain"}),
                "a: \"plain\" is not an attribute value",
            ),
            (json!({"a": {"S": 1}}), "a: S must be a string"),
            (
                json!({"a": {"X": "1"}}),
                "a: unknown attribute value type \"X\"",
            ),
            (
                json!({"a": {"S": "x", "N": "1"}}),
                "is not an attribute value",
            ),
            (json!({"a": {"B": "***"}}), "a: B must be base64"),
            (json!(["S"]), "must be an object"),
        ] {
            let error = item_from_json(&value).expect_err(&value.to_string());
            assert!(error.contains(problem), "{value}: {error}");
        }
    }
}
