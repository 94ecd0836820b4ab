//! [`DynamoDbIndex`]: the recording index port on one DynamoDB table.
//!
//! The table design (the deployment's `serverless.yml` declares exactly
//! this, and [`create_table`] makes the same for tests):
//!
//! - partition key `recording_uuid` (S), no sort key, on-demand billing;
//! - every item holds the [`IndexEntry`]'s fields as attributes
//!   (`recording_uuid` S, `meeting_id` N, `topic` S, `start_time` S as
//!   RFC 3339 in the offset it was given, `duration_minutes` N,
//!   `host_email` S only when there is one, `file_count` N, `total_bytes`
//!   N, `document_key` S, `ingested_at` S as RFC 3339), plus
//!   - `start_key` (S): the start time in UTC as `YYYY-MM-DDTHH:MM:SSZ`
//!     (fixed width, so text order is time order), `#`, the recording UUID;
//!   - `listing` (S): the constant `recording`, one partition for by-date;
//!   - `ingested_at_ms` (N): the ingest time in Unix milliseconds, for the
//!     upsert's condition;
//! - three global secondary indexes, projection ALL: `by-date` (HASH
//!   `listing`, RANGE `start_key`), `by-meeting` (HASH `meeting_id` N,
//!   RANGE `start_key`) and `by-host` (HASH `host_email` S, RANGE
//!   `start_key`; sparse: entries without a host are not in it).
//!
//! A listing is a Query of one GSI, newest first (`ScanIndexForward`
//! false), `started_before` a key condition on `start_key`. The cursor is
//! the listing's filter and the `start_key` of the last entry returned
//! (base64url of JSON); from it the adapter rebuilds the exclusive start
//! key, so a cursor that does not parse, or names another listing, is
//! refused before DynamoDB sees it. `upsert` is a conditional PutItem; a
//! failed condition means a later ingest is stored. Throttling, 5xx and
//! timeouts are `Unavailable`.
//!
//! This adapter owns the table's items and must not change its design:
//! the deployment owns the table.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, DeleteRequest, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, Projection, ProjectionType, ScalarAttributeType, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};
use zoomvault_archive::ports::index::{
    Cursor, Error, IndexEntry, ListFilter, ListPage, ListQuery, RecordingIndex, Upserted,
    MAX_LIST_LIMIT,
};

/// The by-date index: every entry, under one `listing` value.
pub const BY_DATE_INDEX: &str = "by-date";
/// The by-meeting index: HASH `meeting_id`.
pub const BY_MEETING_INDEX: &str = "by-meeting";
/// The by-host index: HASH `host_email`, sparse.
pub const BY_HOST_INDEX: &str = "by-host";
/// The `listing` attribute's one value.
pub const LISTING: &str = "recording";

/// The table's partition key: the recording's UUID, a string.
pub const RECORDING_UUID: &str = "recording_uuid";
const START_KEY: &str = "start_key";
const LISTING_ATTR: &str = "listing";
const MEETING_ID: &str = "meeting_id";
const HOST_EMAIL: &str = "host_email";
const INGESTED_AT_MS: &str = "ingested_at_ms";

/// BatchWriteItem takes at most 25 requests.
const BATCH_WRITE_MAX: usize = 25;

/// The recording index in one DynamoDB table of the design above.
#[derive(Debug, Clone)]
pub struct DynamoDbIndex {
    client: Client,
    table: String,
}

impl DynamoDbIndex {
    pub fn new(client: Client, table: impl Into<String>) -> DynamoDbIndex {
        DynamoDbIndex {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

/// Creates `table` with exactly the design in this module's docs (the
/// shape `serverless.yml` declares) and waits until it is active. For
/// tests and local setups; the deployment creates the real table.
pub async fn create_table(client: &Client, table: &str) -> Result<(), Error> {
    let attribute = |name: &str, kind: ScalarAttributeType| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(kind)
            .build()
            .map_err(backend)
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .map_err(backend)
    };
    let gsi = |name: &str, hash: &str| -> Result<GlobalSecondaryIndex, Error> {
        GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key(hash, KeyType::Hash)?)
            .key_schema(key(START_KEY, KeyType::Range)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .map_err(backend)
    };
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute(RECORDING_UUID, ScalarAttributeType::S)?)
        .attribute_definitions(attribute(START_KEY, ScalarAttributeType::S)?)
        .attribute_definitions(attribute(LISTING_ATTR, ScalarAttributeType::S)?)
        .attribute_definitions(attribute(MEETING_ID, ScalarAttributeType::N)?)
        .attribute_definitions(attribute(HOST_EMAIL, ScalarAttributeType::S)?)
        .key_schema(key(RECORDING_UUID, KeyType::Hash)?)
        .global_secondary_indexes(gsi(BY_DATE_INDEX, LISTING_ATTR)?)
        .global_secondary_indexes(gsi(BY_MEETING_INDEX, MEETING_ID)?)
        .global_secondary_indexes(gsi(BY_HOST_INDEX, HOST_EMAIL)?)
        .send()
        .await
        .map_err(classify)?;
    client
        .wait_until_table_exists()
        .table_name(table)
        .wait(Duration::from_secs(120))
        .await
        .map_err(|e| Error::Unavailable(Box::new(e)))?;
    Ok(())
}

/// The start second in UTC, fixed width: `YYYY-MM-DDTHH:MM:SSZ`.
fn start_second_text(time: OffsetDateTime) -> Result<String, Error> {
    time.to_offset(UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        ))
        .map_err(backend)
}

fn start_key(entry: &IndexEntry) -> Result<String, Error> {
    Ok(format!(
        "{}#{}",
        start_second_text(entry.start_time)?,
        entry.recording_uuid
    ))
}

/// The `start_key` bound for `started_before`: every key of a start second
/// before `time`'s next whole second (or `time`, when whole) sorts below
/// it, since `#` sorts below every character a UUID holds.
fn started_before_bound(time: OffsetDateTime) -> Result<String, Error> {
    let second = if time.nanosecond() > 0 {
        time.replace_nanosecond(0).map_err(backend)? + time::Duration::SECOND
    } else {
        time
    };
    Ok(format!("{}#", start_second_text(second)?))
}

fn rfc3339(time: OffsetDateTime) -> Result<String, Error> {
    time.format(&Rfc3339).map_err(backend)
}

/// The item this index stores for `entry`: its fields, and the derived
/// attributes the GSIs sort and select by. The embedded engine's
/// `dynamodb:*` integration answers with the same items, so a definition
/// reads one table the same way on AWS and embedded.
pub fn item_of(entry: &IndexEntry) -> Result<HashMap<String, AttributeValue>, Error> {
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let n = |v: String| AttributeValue::N(v);
    let mut item = HashMap::from([
        (RECORDING_UUID.to_owned(), s(&entry.recording_uuid)),
        (MEETING_ID.to_owned(), n(entry.meeting_id.to_string())),
        ("topic".to_owned(), s(&entry.topic)),
        ("start_time".to_owned(), s(&rfc3339(entry.start_time)?)),
        (
            "duration_minutes".to_owned(),
            n(entry.duration_minutes.to_string()),
        ),
        ("file_count".to_owned(), n(entry.file_count.to_string())),
        ("total_bytes".to_owned(), n(entry.total_bytes.to_string())),
        ("document_key".to_owned(), s(&entry.document_key)),
        ("ingested_at".to_owned(), s(&rfc3339(entry.ingested_at)?)),
        (START_KEY.to_owned(), s(&start_key(entry)?)),
        (LISTING_ATTR.to_owned(), s(LISTING)),
        (
            INGESTED_AT_MS.to_owned(),
            n(entry.ingested_at_ms().to_string()),
        ),
    ]);
    if let Some(host) = &entry.host_email {
        item.insert(HOST_EMAIL.to_owned(), s(host));
    }
    Ok(item)
}

/// An item that is not an entry this adapter wrote.
#[derive(Debug)]
struct CorruptItem(String);

impl fmt::Display for CorruptItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "index item is not an entry: {}", self.0)
    }
}

impl std::error::Error for CorruptItem {}

/// The entry an item stands for; derived attributes are ignored, a
/// missing or mistyped field is an error naming it.
pub fn entry_of(item: &HashMap<String, AttributeValue>) -> Result<IndexEntry, Error> {
    let corrupt = |what: String| Error::Backend(Box::new(CorruptItem(what)));
    let s = |name: &str| -> Result<String, Error> {
        match item.get(name) {
            Some(AttributeValue::S(v)) => Ok(v.clone()),
            _ => Err(corrupt(format!("{name} is not a string"))),
        }
    };
    fn n<T: std::str::FromStr>(
        item: &HashMap<String, AttributeValue>,
        name: &str,
    ) -> Result<T, Error> {
        match item.get(name) {
            Some(AttributeValue::N(v)) => v.parse().ok(),
            _ => None,
        }
        .ok_or_else(|| Error::Backend(Box::new(CorruptItem(format!("{name} is not a number")))))
    }
    let time = |name: &str| -> Result<OffsetDateTime, Error> {
        OffsetDateTime::parse(&s(name)?, &Rfc3339)
            .map_err(|e| corrupt(format!("{name} is not RFC 3339: {e}")))
    };
    Ok(IndexEntry {
        recording_uuid: s(RECORDING_UUID)?,
        meeting_id: n(item, MEETING_ID)?,
        topic: s("topic")?,
        start_time: time("start_time")?,
        duration_minutes: n(item, "duration_minutes")?,
        host_email: match item.get(HOST_EMAIL) {
            None => None,
            Some(_) => Some(s(HOST_EMAIL)?),
        },
        file_count: n(item, "file_count")?,
        total_bytes: n(item, "total_bytes")?,
        document_key: s("document_key")?,
        ingested_at: time("ingested_at")?,
    })
}

/// Which GSI a listing reads, and its partition key's name and value.
fn listing_key(filter: &ListFilter) -> (&'static str, &'static str, AttributeValue) {
    match filter {
        ListFilter::All => (
            BY_DATE_INDEX,
            LISTING_ATTR,
            AttributeValue::S(LISTING.into()),
        ),
        ListFilter::Meeting(id) => (
            BY_MEETING_INDEX,
            MEETING_ID,
            AttributeValue::N(id.to_string()),
        ),
        ListFilter::Host(email) => (BY_HOST_INDEX, HOST_EMAIL, AttributeValue::S(email.clone())),
    }
}

/// The filter as the cursor records it.
fn filter_tag(filter: &ListFilter) -> Value {
    match filter {
        ListFilter::All => json!(["all"]),
        ListFilter::Meeting(id) => json!(["meeting", id]),
        ListFilter::Host(email) => json!(["host", email]),
    }
}

fn encode_cursor(filter: &ListFilter, start_key: &str) -> Cursor {
    let text = json!([filter_tag(filter), start_key]).to_string();
    Cursor::new(URL_SAFE_NO_PAD.encode(text))
}

/// The exclusive start key a cursor stands for, if this index issued it
/// for this listing.
fn decode_cursor(
    cursor: &Cursor,
    filter: &ListFilter,
) -> Result<HashMap<String, AttributeValue>, Error> {
    let invalid = || Error::InvalidCursor(cursor.as_str().to_owned());
    let fields: Vec<Value> = URL_SAFE_NO_PAD
        .decode(cursor.as_str())
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(invalid)?;
    let [tag, Value::String(start_key)] = fields.as_slice() else {
        return Err(invalid());
    };
    if *tag != filter_tag(filter) {
        return Err(invalid());
    }
    // `YYYY-MM-DDTHH:MM:SSZ#uuid`: a start second this index wrote, then
    // the recording the page ended on.
    let (second, recording_uuid) = start_key.split_once('#').ok_or_else(invalid)?;
    let parsed = time::PrimitiveDateTime::parse(
        second,
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"),
    );
    if parsed.is_err() || second.len() != 20 || recording_uuid.is_empty() {
        return Err(invalid());
    }
    let (_, hash_name, hash_value) = listing_key(filter);
    Ok(HashMap::from([
        (
            RECORDING_UUID.to_owned(),
            AttributeValue::S(recording_uuid.to_owned()),
        ),
        (START_KEY.to_owned(), AttributeValue::S(start_key.clone())),
        (hash_name.to_owned(), hash_value),
    ]))
}

fn backend(error: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Backend(Box::new(error))
}

/// Sorts an SDK failure into the port's errors: what a retry may fix
/// (throttling, 5xx, no connection, timeouts) is `Unavailable`.
fn classify<E>(e: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let transient = crate::sdk_error::is_transient(
        &e,
        &[
            "ProvisionedThroughputExceededException",
            "ThrottlingException",
            "RequestLimitExceeded",
            "InternalServerError",
            "ServiceUnavailable",
        ],
    );
    if transient {
        Error::Unavailable(Box::new(e))
    } else {
        Error::Backend(Box::new(e))
    }
}

#[async_trait]
impl RecordingIndex for DynamoDbIndex {
    async fn upsert(&self, entry: IndexEntry) -> Result<Upserted, Error> {
        entry.check()?;
        let item = item_of(&entry)?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#id) OR #ingested <= :new")
            .expression_attribute_names("#id", RECORDING_UUID)
            .expression_attribute_names("#ingested", INGESTED_AT_MS)
            .expression_attribute_values(
                ":new",
                AttributeValue::N(entry.ingested_at_ms().to_string()),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(Upserted::Written),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(Upserted::KeptNewer)
            }
            Err(e) => Err(classify(e)),
        }
    }

    async fn get(&self, recording_uuid: &str) -> Result<Option<IndexEntry>, Error> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(RECORDING_UUID, AttributeValue::S(recording_uuid.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        output.item().map(entry_of).transpose()
    }

    async fn list(&self, query: ListQuery) -> Result<ListPage, Error> {
        if !(1..=MAX_LIST_LIMIT).contains(&query.limit) {
            return Err(Error::InvalidLimit(query.limit));
        }
        let mut start = query
            .after
            .as_ref()
            .map(|cursor| decode_cursor(cursor, &query.filter))
            .transpose()?;
        let (index, hash_name, hash_value) = listing_key(&query.filter);
        let mut condition = "#hash = :hash".to_owned();
        let bound = query.started_before.map(started_before_bound).transpose()?;
        if bound.is_some() {
            condition.push_str(" AND #start < :before");
        }
        // One more than asked for tells whether another page follows;
        // DynamoDB may stop early (1 MB a response), so read on until the
        // page is full or the index is exhausted.
        let want = query.limit + 1;
        let mut items = Vec::with_capacity(want);
        loop {
            let remaining = i32::try_from(want - items.len()).unwrap_or(i32::MAX);
            let mut request = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression(&condition)
                .expression_attribute_names("#hash", hash_name)
                .expression_attribute_values(":hash", hash_value.clone())
                .scan_index_forward(false)
                .limit(remaining)
                .set_exclusive_start_key(start.take());
            if let Some(bound) = &bound {
                request = request
                    .expression_attribute_names("#start", START_KEY)
                    .expression_attribute_values(":before", AttributeValue::S(bound.clone()));
            }
            let output = request.send().await.map_err(classify)?;
            items.extend(output.items().iter().cloned());
            match output.last_evaluated_key() {
                Some(key) if items.len() < want => start = Some(key.clone()),
                _ => break,
            }
        }
        let has_more = items.len() > query.limit;
        items.truncate(query.limit);
        let entries = items.iter().map(entry_of).collect::<Result<Vec<_>, _>>()?;
        let next = match (has_more, items.last()) {
            (true, Some(last)) => match last.get(START_KEY) {
                Some(AttributeValue::S(key)) => Some(encode_cursor(&query.filter, key)),
                _ => {
                    return Err(backend(CorruptItem(format!("{START_KEY} is not a string"))));
                }
            },
            _ => None,
        };
        Ok(ListPage { entries, next })
    }

    async fn delete(&self, recording_uuid: &str) -> Result<bool, Error> {
        let output = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(RECORDING_UUID, AttributeValue::S(recording_uuid.to_owned()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(classify)?;
        Ok(output.attributes().is_some_and(|old| !old.is_empty()))
    }

    async fn clear(&self) -> Result<(), Error> {
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .projection_expression("#id")
                .expression_attribute_names("#id", RECORDING_UUID)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(classify)?;
            let keys: Vec<WriteRequest> = page
                .items()
                .iter()
                .filter_map(|item| item.get(RECORDING_UUID).cloned())
                .map(|uuid| {
                    DeleteRequest::builder()
                        .key(RECORDING_UUID, uuid)
                        .build()
                        .map(|delete| WriteRequest::builder().delete_request(delete).build())
                        .map_err(backend)
                })
                .collect::<Result<_, _>>()?;
            for batch in keys.chunks(BATCH_WRITE_MAX) {
                self.delete_batch(batch.to_vec()).await?;
            }
            match page.last_evaluated_key() {
                Some(key) => start = Some(key.clone()),
                None => return Ok(()),
            }
        }
    }
}

impl DynamoDbIndex {
    /// One BatchWriteItem of deletes, resending what DynamoDB left
    /// unprocessed (it does so when throttled) with a growing pause.
    async fn delete_batch(&self, mut requests: Vec<WriteRequest>) -> Result<(), Error> {
        let mut pause = Duration::from_millis(50);
        for _ in 0..8 {
            let output = self
                .client
                .batch_write_item()
                .request_items(&self.table, requests)
                .send()
                .await
                .map_err(classify)?;
            requests = output
                .unprocessed_items()
                .and_then(|items| items.get(&self.table))
                .cloned()
                .unwrap_or_default();
            if requests.is_empty() {
                return Ok(());
            }
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
        Err(Error::Unavailable(
            format!("{} deletes still unprocessed after retries", requests.len()).into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn start_keys_are_fixed_width_utc_and_sort_as_time() {
        let at = |start_time| IndexEntry {
            recording_uuid: "aDYl+/w==".to_owned(),
            meeting_id: 1,
            topic: String::new(),
            start_time,
            duration_minutes: 1,
            host_email: None,
            file_count: 0,
            total_bytes: 0,
            document_key: String::new(),
            ingested_at: start_time,
        };
        let key = |t| start_key(&at(t)).expect("formats");
        assert_eq!(
            key(datetime!(2024-03-05 15:04:05.9 +01:00)),
            "2024-03-05T14:04:05Z#aDYl+/w=="
        );
        assert_eq!(
            key(datetime!(0999-01-01 0:00 UTC)),
            "0999-01-01T00:00:00Z#aDYl+/w=="
        );
        assert!(key(datetime!(0999-01-01 0:00 UTC)) < key(datetime!(2024-01-01 0:00 UTC)));
        assert_eq!(
            started_before_bound(datetime!(2024-03-05 10:00:00.5 UTC)).expect("bound"),
            "2024-03-05T10:00:01Z#"
        );
        assert_eq!(
            started_before_bound(datetime!(2024-03-05 11:00 +01:00)).expect("bound"),
            "2024-03-05T10:00:00Z#"
        );
    }

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        let filter = ListFilter::Meeting(85746065432);
        let cursor = encode_cursor(&filter, "2024-03-05T14:04:05Z#a#b==");
        let key = decode_cursor(&cursor, &filter).expect("decodes");
        assert_eq!(key[RECORDING_UUID], AttributeValue::S("a#b==".to_owned()));
        assert_eq!(key[MEETING_ID], AttributeValue::N("85746065432".to_owned()));
        assert!(decode_cursor(&cursor, &ListFilter::All).is_err());
        assert!(decode_cursor(&cursor, &ListFilter::Meeting(1)).is_err());
        let forge = |value: Value| Cursor::new(URL_SAFE_NO_PAD.encode(value.to_string()));
        for forged in [
            Cursor::new("not a cursor"),
            forge(json!([["all"]])),
            forge(json!([["all"], "2024-03-05T14:04:05Z"])),
            forge(json!([["all"], "2024-03-05T14:04:05Z#"])),
            forge(json!([["all"], "2024-3-05T14:04:05Z#a"])),
            forge(json!([["all"], 5])),
        ] {
            assert!(
                decode_cursor(&forged, &ListFilter::All).is_err(),
                "{forged}"
            );
        }
    }
}
