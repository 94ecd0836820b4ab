//! What the driver does for a distributed Map's ItemReader and
//! ResultWriter, through the object store port: read an object (JSON,
//! JSON Lines, CSV) or a listing into the run's items, and export the
//! children's results as AWS lays them out (`manifest.json` and
//! `SUCCEEDED_0.json` / `FAILED_0.json` / `PENDING_0.json` under
//! `Prefix/<map run id>/`). As AWS documents them:
//! <https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html>,
//! <https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html>.
//!
//! The outcome is journaled by the driver like a task's, so nothing here is
//! run again once it has a recorded result; it decides nothing about the
//! execution.

use crate::core::{fmt_ms, result_key, ReadItems, WriteResults};
use crate::objects::{self, ObjectStore};
use crate::store::ExecutionRow;
use serde_json::{json, Map, Value};
use zoomvault_asl::definition::{CsvHeaders, ItemSource};
use zoomvault_asl::error::names;
use zoomvault_asl::Failure;

fn reader_failed(cause: impl Into<String>) -> Failure {
    Failure::new(names::ITEM_READER_FAILED, cause)
}

fn object_cause(e: &objects::Error) -> String {
    match e {
        objects::Error::NoSuchBucket(_) => {
            "The specified bucket does not exist (Service: S3, Status Code: 404)".into()
        }
        objects::Error::NoSuchKey { .. } => {
            "The specified key does not exist. (Service: S3, Status Code: 404)".into()
        }
        objects::Error::Unavailable(m) => m.clone(),
    }
}

/// Reads a Map Run's items.
pub(crate) async fn read_items(
    objects: &dyn ObjectStore,
    read: &ReadItems,
) -> Result<Value, Failure> {
    let mut items = match &read.source {
        ItemSource::Listing => objects
            .list(&read.bucket, &read.object)
            .await
            .map_err(|e| reader_failed(object_cause(&e)))?
            .into_iter()
            .map(|o| {
                json!({
                    "Etag": o.etag,
                    "Key": o.key,
                    "LastModified": o.last_modified_ms / 1000,
                    "Size": o.size,
                    "StorageClass": o.storage_class,
                })
            })
            .collect(),
        source => {
            let bytes = objects
                .get(&read.bucket, &read.object)
                .await
                .map_err(|e| reader_failed(object_cause(&e)))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| reader_failed("The object is not valid UTF-8 text"))?;
            parse_items(source, &text)?
        }
    };
    if read.max_items > 0 {
        items.truncate(read.max_items as usize);
    }
    Ok(Value::Array(items))
}

/// The items of an object's text in the reader's format.
pub fn parse_items(source: &ItemSource, text: &str) -> Result<Vec<Value>, Failure> {
    match source {
        ItemSource::Json => match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(items)) => Ok(items),
            Ok(_) => Err(reader_failed("Attempting to map over non-iterable node.")),
            Err(e) => Err(reader_failed(format!("The JSON object is invalid: {e}"))),
        },
        ItemSource::JsonLines => text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l)
                    .map_err(|e| reader_failed(format!("The JSONL line {} is invalid: {e}", i + 1)))
            })
            .collect(),
        ItemSource::Csv(headers) => csv_items(headers, text),
        ItemSource::Listing => Ok(Vec::new()),
    }
}

/// CSV rows as objects keyed by the header, every value a string, as AWS
/// reads them. Fields follow RFC 4180: comma separated, optionally quoted
/// with `"`, a quote inside a quoted field doubled. (Hand-written: the
/// workspace has no CSV crate, and this is all the reader needs.)
fn csv_items(headers: &CsvHeaders, text: &str) -> Result<Vec<Value>, Failure> {
    let mut rows = csv_rows(text)?;
    let header: Vec<String> = match headers {
        CsvHeaders::Given(h) => h.clone(),
        CsvHeaders::FirstRow => {
            if rows.is_empty() {
                return Ok(Vec::new());
            }
            rows.remove(0)
        }
    };
    rows.into_iter()
        .enumerate()
        .map(|(i, row)| {
            if row.len() != header.len() {
                return Err(reader_failed(format!(
                    "Number of columns in header and row {} do not match: the header has {}, the row has {}",
                    i + 1,
                    header.len(),
                    row.len()
                )));
            }
            Ok(Value::Object(
                header
                    .iter()
                    .cloned()
                    .zip(row.into_iter().map(Value::String))
                    .collect::<Map<_, _>>(),
            ))
        })
        .collect()
}

fn csv_rows(text: &str) -> Result<Vec<Vec<String>>, Failure> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut field_started = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                other => field.push(other),
            }
            continue;
        }
        match c {
            '"' if !field_started => {
                quoted = true;
                field_started = true;
            }
            ',' => {
                row.push(std::mem::take(&mut field));
                field_started = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                field_started = false;
                if !(row.len() == 1 && row[0].is_empty()) {
                    rows.push(std::mem::take(&mut row));
                } else {
                    row.clear();
                }
            }
            other => {
                field.push(other);
                field_started = true;
            }
        }
    }
    if quoted {
        return Err(reader_failed(
            "The CSV has a quoted field that is never closed",
        ));
    }
    if field_started || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    Ok(rows)
}

/// One child execution as the ResultWriter's files show it.
fn child_entry(row: &ExecutionRow) -> Value {
    let mut e = json!({
        "ExecutionArn": row.arn,
        "Input": row.input,
        "InputDetails": { "Included": true },
        "Name": row.name,
        "RedriveCount": row.redrive_count,
        "StartDate": fmt_ms(row.start_ms),
        "StateMachineArn": row.state_machine_arn,
        "Status": row.status.api_name(),
    });
    if let Some(stop) = row.stop_ms {
        e["StopDate"] = json!(fmt_ms(stop));
    }
    match &row.output {
        Some(output) => {
            e["Output"] = json!(output);
            e["OutputDetails"] = json!({ "Included": true });
        }
        None => {
            e["Error"] = json!(row.error.clone().unwrap_or_default());
            e["Cause"] = json!(row.cause.clone().unwrap_or_default());
        }
    }
    e
}

/// Writes a finished Map Run's results; `rows` are its children's rows in
/// item order.
pub(crate) async fn write_results(
    objects: &dyn ObjectStore,
    write: &WriteResults,
    rows: &[ExecutionRow],
) -> Result<Value, Failure> {
    let mut succeeded = Vec::new();
    let mut failed = Vec::new();
    for row in rows {
        match row.status {
            crate::Status::Succeeded => succeeded.push(child_entry(row)),
            _ => failed.push(child_entry(row)),
        }
    }
    let pending: Vec<Value> = write
        .pending
        .iter()
        .map(|input| json!({ "Input": input.to_string(), "InputDetails": { "Included": true } }))
        .collect();
    let mut files = Map::new();
    for (status, entries) in [
        ("FAILED", failed),
        ("PENDING", pending),
        ("SUCCEEDED", succeeded),
    ] {
        let mut listed = Vec::new();
        if !entries.is_empty() {
            let key = result_key(
                &write.prefix,
                &write.map_run_arn,
                &format!("{status}_0.json"),
            );
            let body = Value::Array(entries).to_string().into_bytes();
            let size = body.len();
            put(objects, &write.bucket, &key, body).await?;
            listed.push(json!({ "Key": key, "Size": size }));
        }
        files.insert(status.into(), Value::Array(listed));
    }
    let manifest = json!({
        "DestinationBucket": write.bucket,
        "MapRunArn": write.map_run_arn,
        "ResultFiles": files,
    });
    let key = result_key(&write.prefix, &write.map_run_arn, "manifest.json");
    put(
        objects,
        &write.bucket,
        &key,
        manifest.to_string().into_bytes(),
    )
    .await?;
    Ok(Value::Null)
}

async fn put(
    objects: &dyn ObjectStore,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
) -> Result<(), Failure> {
    objects
        .put(bucket, key, body)
        .await
        .map_err(|e| Failure::new(names::RESULT_WRITER_FAILED, object_cause(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> Result<Vec<Value>, Failure> {
        parse_items(&ItemSource::Csv(CsvHeaders::FirstRow), text)
    }

    #[test]
    fn csv_reads_quoted_fields_and_crlf() {
        let items = csv("a,b\r\n1,\"x, \"\"y\"\"\"\r\n\n2,\n").unwrap_or_default();
        assert_eq!(
            Value::Array(items),
            json!([{ "a": "1", "b": "x, \"y\"" }, { "a": "2", "b": "" }])
        );
    }

    #[test]
    fn csv_row_of_wrong_width_fails_the_reader() {
        let e = csv("a,b\n1\n").expect_err("a short row");
        assert_eq!(e.error, "States.ItemReaderFailed");
    }

    #[test]
    fn unclosed_quote_fails_the_reader() {
        assert!(csv("a\n\"1\n").is_err());
    }

    #[test]
    fn jsonl_skips_blank_lines() {
        let items = parse_items(&ItemSource::JsonLines, "{\"a\":1}\n\n2\n").unwrap_or_default();
        assert_eq!(Value::Array(items), json!([{ "a": 1 }, 2]));
    }
}
