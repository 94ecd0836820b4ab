//! `arn:aws:states:::aws-sdk:s3:getObject` and `...:putObject`: two calls
//! of Step Functions' AWS SDK integration
//! (<https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html>),
//! with its conventions: members in PascalCase, `Body` as a string, and
//! errors named `S3.<code>` with the `Exception` suffix added where S3's
//! code has none (`S3.NoSuchKeyException`, `S3.NoSuchBucketException`).
//!
//! Each bucket a task may name is an archive `ObjectStore` ([`Buckets`]):
//! embedded, the archive's directory store (or its S3 store, under the
//! name of its bucket). The port knows less than S3 says about an object,
//! so the results carry what it knows: getObject's `Body` and
//! `ContentLength`, putObject's `ETag` (the MD5 of the body in quotes, as
//! S3 gives it for a single PUT); keys are the port's keys, which refuses
//! keys it cannot store safely (`S3.InvalidArgumentException` here).
//! This module must not know how a store keeps its bytes.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use md5::{Digest, Md5};
use serde_json::{json, Value};
use zoomvault_archive::ports::object_store::Error as StoreError;
use zoomvault_asl::Failure;
use zoomvault_engine::{Handlers, TaskRequest};

use crate::SharedStore;

pub const GET_OBJECT: &str = "arn:aws:states:::aws-sdk:s3:getObject";
pub const PUT_OBJECT: &str = "arn:aws:states:::aws-sdk:s3:putObject";

/// S3's default content type for an object put without one.
const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";

/// The buckets tasks may name, each an object store.
#[derive(Debug, Clone, Default)]
pub struct Buckets(Arc<BTreeMap<String, SharedStore>>);

impl Buckets {
    pub fn new(buckets: impl IntoIterator<Item = (String, SharedStore)>) -> Buckets {
        Buckets(Arc::new(buckets.into_iter().collect()))
    }

    fn get(&self, name: &str) -> Result<&SharedStore, Failure> {
        self.0
            .get(name)
            .ok_or_else(|| s3_error("NoSuchBucket", "The specified bucket does not exist", 404))
    }
}

pub fn register(handlers: &mut Handlers, buckets: Buckets) {
    let get = buckets.clone();
    handlers.register(GET_OBJECT, move |request: TaskRequest| {
        let buckets = get.clone();
        async move { get_object(&buckets, &request.input).await }
    });
    handlers.register(PUT_OBJECT, move |request: TaskRequest| {
        let buckets = buckets.clone();
        async move { put_object(&buckets, &request.input).await }
    });
}

pub async fn get_object(buckets: &Buckets, input: &Value) -> Result<Value, Failure> {
    crate::only_members(input, &["Bucket", "Key"], GET_OBJECT)?;
    let store = buckets.get(crate::required_str(input, "Bucket", GET_OBJECT)?)?;
    let key = crate::required_str(input, "Key", GET_OBJECT)?;
    let body = store.get(key).await.map_err(store_failure)?;
    let length = body.len();
    // The integration hands the body over as a string; bytes that are not
    // UTF-8 cannot be one, so the task fails rather than altering them.
    let body = String::from_utf8(body.to_vec()).map_err(|_| {
        Failure::runtime(format!(
            "the object {key:?} is not UTF-8 text, and getObject's Body is given as a string"
        ))
    })?;
    Ok(json!({ "Body": body, "ContentLength": length }))
}

pub async fn put_object(buckets: &Buckets, input: &Value) -> Result<Value, Failure> {
    crate::only_members(input, &["Bucket", "Key", "Body", "ContentType"], PUT_OBJECT)?;
    let store = buckets.get(crate::required_str(input, "Bucket", PUT_OBJECT)?)?;
    let key = crate::required_str(input, "Key", PUT_OBJECT)?;
    let body = match input.get("Body") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(_) => {
            return Err(Failure::runtime(format!(
                "The field 'Body' of {PUT_OBJECT} must be a string"
            )))
        }
    };
    let content_type = match input.get("ContentType") {
        None | Some(Value::Null) => DEFAULT_CONTENT_TYPE,
        Some(Value::String(text)) => text.as_str(),
        Some(_) => {
            return Err(Failure::runtime(format!(
                "The field 'ContentType' of {PUT_OBJECT} must be a string"
            )))
        }
    };
    let etag = format!("\"{}\"", hex::encode(Md5::digest(body.as_bytes())));
    store
        .put(key, Bytes::from(body), content_type)
        .await
        .map_err(store_failure)?;
    Ok(json!({ "ETag": etag }))
}

/// The port's error as the SDK integration names S3's.
fn store_failure(error: StoreError) -> Failure {
    match &error {
        StoreError::NotFound { .. } => {
            s3_error("NoSuchKey", "The specified key does not exist.", 404)
        }
        StoreError::Key(e) => s3_error("InvalidArgument", &e.to_string(), 400),
        StoreError::Unavailable(_) => s3_error("ServiceUnavailable", &error.to_string(), 503),
        _ => s3_error("InternalError", &error.to_string(), 500),
    }
}

/// `S3.<code>Exception`, with a cause shaped as the SDK's message.
fn s3_error(code: &str, message: &str, status: u16) -> Failure {
    Failure::new(
        format!("S3.{}", crate::events::with_exception_suffix(code)),
        format!("{message} (Service: S3, Status Code: {status}, Error Code: {code})"),
    )
}
