//! The distributed Map's own fields: `ItemProcessor.ProcessorConfig`'s
//! `ExecutionType`, `ItemReader` (an S3 object read as JSON, JSON Lines or
//! CSV, or an S3 listing), `ItemBatcher` and `ResultWriter`, read into
//! `Distributed` as AWS documents them:
//! <https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html>,
//! <https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html>,
//! <https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html>,
//! <https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html>.
//!
//! Like every reader here it reports each problem under its field's JSON
//! pointer and evaluates nothing; `kinds::parse_map` calls it only for a
//! Map whose processor says `"Mode": "DISTRIBUTED"`.
//!
//! In a JSONata state the fields take their JSONata forms, as those pages
//! and "Transforming data with JSONata"
//! (<https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html>)
//! show them: `Arguments` in place of `Parameters` (an object of
//! `{% %}` templates, or one expression), `MaxItems`, `MaxItemsPerBatch` and
//! `MaxInputBytesPerBatch` as a number or a `{% %}` expression with no
//! `...Path` form, and `BatchInput` a JSONata template. A field of the other
//! language is refused with the words AWS uses for a state's own fields
//! (`The QueryLanguage is set to 'JSONata', but field 'Parameters' is only
//! supported for the 'JSONPath' QueryLanguage`), located at the object that
//! holds it; AWS's docs do not quote its message for these nested fields,
//! so that it is the same is assumed.

use super::fields::{
    dynamic_field, non_negative_literal, positive_literal, query_in, unknown_fields,
};
use super::tree::QueryLanguage;
use super::tree::{
    ChildExecutionType, CsvHeaders, Distributed, FieldTemplate, ItemBatcher, ItemReader,
    ItemSource, ResultWriter,
};
use crate::error::pointer_join;
use crate::jsonata::{Place, Template};
use crate::payload::PayloadTemplate;
use crate::{DefinitionError, JsonType};
use serde_json::{Map, Value};

/// The resources AWS accepts in an ItemReader and a ResultWriter.
pub const S3_GET_OBJECT: &str = "arn:aws:states:::s3:getObject";
pub const S3_LIST_OBJECTS_V2: &str = "arn:aws:states:::s3:listObjectsV2";
pub const S3_PUT_OBJECT: &str = "arn:aws:states:::s3:putObject";

/// AWS's limit on a Map's `Label`.
pub const MAX_LABEL_LEN: usize = 40;

/// Whether a Map's processor object asks for the distributed mode.
pub(super) fn is_distributed(processor: Option<&Value>) -> bool {
    processor
        .and_then(|p| p.get("ProcessorConfig"))
        .and_then(|c| c.get("Mode"))
        .and_then(Value::as_str)
        == Some("DISTRIBUTED")
}

/// Reads the distributed fields of the Map state `obj` (at `ptr`), whose
/// processor (`processor`, at `pptr`) is in the distributed mode.
pub(super) fn parse_distributed(
    obj: &Map<String, Value>,
    processor: &Value,
    pptr: &str,
    ptr: &str,
    language: QueryLanguage,
    errors: &mut Vec<DefinitionError>,
) -> Option<Distributed> {
    let cptr = pointer_join(&pointer_join(pptr, "ProcessorConfig"), "ExecutionType");
    let execution_type = match processor
        .get("ProcessorConfig")
        .and_then(|c| c.get("ExecutionType"))
    {
        Some(Value::String(t)) if t == "STANDARD" => Some(ChildExecutionType::Standard),
        Some(Value::String(t)) if t == "EXPRESS" => Some(ChildExecutionType::Express),
        Some(other) => {
            errors.push(DefinitionError::new(
                cptr,
                format!("expected \"STANDARD\" or \"EXPRESS\", found {other}"),
            ));
            None
        }
        None => {
            errors.push(DefinitionError::new(
                pointer_join(pptr, "ProcessorConfig"),
                "a DISTRIBUTED Map needs \"ExecutionType\" (STANDARD or EXPRESS)",
            ));
            None
        }
    };
    if let Some(label) = obj.get("Label").and_then(Value::as_str) {
        check_label(label, &pointer_join(ptr, "Label"), errors);
    }
    let item_reader = obj
        .get("ItemReader")
        .and_then(|v| parse_item_reader(v, &pointer_join(ptr, "ItemReader"), language, errors));
    if item_reader.is_some() && obj.contains_key("ItemsPath") {
        errors.push(DefinitionError::new(
            pointer_join(ptr, "ItemsPath"),
            "\"ItemsPath\" and \"ItemReader\" are mutually exclusive",
        ));
    }
    let item_batcher = obj
        .get("ItemBatcher")
        .and_then(|v| parse_item_batcher(v, &pointer_join(ptr, "ItemBatcher"), language, errors));
    let result_writer = obj
        .get("ResultWriter")
        .and_then(|v| parse_result_writer(v, &pointer_join(ptr, "ResultWriter"), language, errors));
    // A child execution runs the processor as a state machine of its own:
    // the processor's object without the Map's own configuration.
    let mut child = processor.as_object().cloned().unwrap_or_default();
    child.remove("ProcessorConfig");
    Some(Distributed {
        execution_type: execution_type?,
        item_reader,
        item_batcher,
        result_writer,
        child_definition: Value::Object(child).to_string(),
    })
}

/// AWS's rule for a Map Run label: at most 40 characters, none of them
/// white space, brackets, wildcards, the special characters of a name or a
/// control character (the same set as an execution's name).
fn check_label(label: &str, ptr: &str, errors: &mut Vec<DefinitionError>) {
    let bad =
        |c: char| c.is_whitespace() || c.is_control() || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c);
    if label.chars().count() > MAX_LABEL_LEN {
        errors.push(DefinitionError::new(
            ptr,
            format!("a Map label is at most {MAX_LABEL_LEN} characters"),
        ));
    } else if label.chars().any(bad) {
        errors.push(DefinitionError::new(
            ptr,
            "a Map label must not contain white space, brackets, wildcards or the characters \" # % \\ ^ | ~ ` $ & , ; : /",
        ));
    }
}

fn object<'a>(
    value: &'a Value,
    ptr: &str,
    errors: &mut Vec<DefinitionError>,
) -> Option<&'a Map<String, Value>> {
    match value.as_object() {
        Some(o) => Some(o),
        None => {
            errors.push(DefinitionError::new(
                ptr,
                format!(
                    "expected an object, found {}",
                    JsonType::of(value).with_article()
                ),
            ));
            None
        }
    }
}

/// The fields of `obj` that belong to one query language only, reported
/// when the state is in the other (see the module docs).
fn other_language_fields(
    obj: &Map<String, Value>,
    ptr: &str,
    language: QueryLanguage,
    jsonpath_only: &[&str],
    jsonata_only: &[&str],
    errors: &mut Vec<DefinitionError>,
) {
    let (own, other, refused) = match language {
        QueryLanguage::JsonPath => ("JSONPath", "JSONata", jsonata_only),
        QueryLanguage::Jsonata => ("JSONata", "JSONPath", jsonpath_only),
    };
    for key in refused.iter().filter(|k| obj.contains_key(**k)) {
        errors.push(DefinitionError::new(
            ptr,
            format!(
                "The QueryLanguage is set to '{own}', but field '{key}' is only supported for the '{other}' QueryLanguage"
            ),
        ));
    }
}

/// `Parameters` (JSONPath) or `Arguments` (JSONata) of a reader or writer:
/// a template, which must name the fields the S3 action needs (literally,
/// as `Field.$`, or inside one JSONata expression that yields them all).
fn parameters(
    obj: &Map<String, Value>,
    ptr: &str,
    required: &[&str],
    language: QueryLanguage,
    errors: &mut Vec<DefinitionError>,
) -> Option<FieldTemplate> {
    let (key, other) = match language {
        QueryLanguage::JsonPath => ("Parameters", "Arguments"),
        QueryLanguage::Jsonata => ("Arguments", "Parameters"),
    };
    other_language_fields(obj, ptr, language, &["Parameters"], &["Arguments"], errors);
    let pptr = pointer_join(ptr, key);
    let Some(value) = obj.get(key) else {
        if !obj.contains_key(other) {
            errors.push(DefinitionError::new(
                ptr,
                format!("missing required field \"{key}\""),
            ));
        }
        return None;
    };
    if language == QueryLanguage::Jsonata && query_in(value, language).is_some() {
        return Some(FieldTemplate::Jsonata(Template::parse(
            value,
            &pptr,
            Place::Before,
            errors,
        )));
    }
    let params = object(value, &pptr, errors)?;
    for field in required {
        let named = params.contains_key(*field)
            || (language == QueryLanguage::JsonPath && params.contains_key(&format!("{field}.$")));
        if !named {
            errors.push(DefinitionError::new(
                &pptr,
                format!("missing required field \"{field}\""),
            ));
        }
    }
    Some(match language {
        QueryLanguage::JsonPath => {
            FieldTemplate::JsonPath(PayloadTemplate::parse(value, &pptr, errors))
        }
        QueryLanguage::Jsonata => {
            FieldTemplate::Jsonata(Template::parse(value, &pptr, Place::Before, errors))
        }
    })
}

fn resource<'a>(
    obj: &'a Map<String, Value>,
    ptr: &str,
    accepted: &[&str],
    errors: &mut Vec<DefinitionError>,
) -> Option<&'a str> {
    match obj.get("Resource") {
        Some(Value::String(r)) if accepted.contains(&r.as_str()) => Some(r),
        Some(other) => {
            errors.push(DefinitionError::new(
                pointer_join(ptr, "Resource"),
                format!("expected one of {}, found {other}", accepted.join(", ")),
            ));
            None
        }
        None => {
            errors.push(DefinitionError::new(
                ptr,
                "missing required field \"Resource\"",
            ));
            None
        }
    }
}

fn parse_item_reader(
    value: &Value,
    ptr: &str,
    language: QueryLanguage,
    errors: &mut Vec<DefinitionError>,
) -> Option<ItemReader> {
    let obj = object(value, ptr, errors)?;
    unknown_fields(
        obj,
        ptr,
        &["Resource", "Parameters", "Arguments", "ReaderConfig"],
        "an ItemReader",
        errors,
    );
    let resource = resource(obj, ptr, &[S3_GET_OBJECT, S3_LIST_OBJECTS_V2], errors);
    let listing = resource == Some(S3_LIST_OBJECTS_V2);
    let required: &[&str] = if listing {
        &["Bucket"]
    } else {
        &["Bucket", "Key"]
    };
    let parameters = parameters(obj, ptr, required, language, errors);
    let rptr = pointer_join(ptr, "ReaderConfig");
    let empty = Map::new();
    let config = match obj.get("ReaderConfig") {
        Some(v) => object(v, &rptr, errors).unwrap_or(&empty),
        None => &empty,
    };
    unknown_fields(
        config,
        &rptr,
        &[
            "InputType",
            "CSVHeaderLocation",
            "CSVHeaders",
            "MaxItems",
            "MaxItemsPath",
        ],
        "a ReaderConfig",
        errors,
    );
    other_language_fields(config, &rptr, language, &["MaxItemsPath"], &[], errors);
    let max_items = dynamic_field(
        config,
        "MaxItems",
        "MaxItemsPath",
        &rptr,
        language,
        errors,
        non_negative_literal,
    );
    let source = if listing {
        if config.contains_key("InputType") {
            errors.push(DefinitionError::new(
                pointer_join(&rptr, "InputType"),
                "an s3:listObjectsV2 ItemReader reads a listing, not a file: \"InputType\" does not apply",
            ));
        }
        Some(ItemSource::Listing)
    } else {
        parse_input_type(config, &rptr, errors)
    };
    Some(ItemReader {
        source: source?,
        parameters: parameters?,
        max_items,
    })
}

fn parse_input_type(
    config: &Map<String, Value>,
    rptr: &str,
    errors: &mut Vec<DefinitionError>,
) -> Option<ItemSource> {
    let iptr = pointer_join(rptr, "InputType");
    let input_type = match config.get("InputType") {
        Some(Value::String(t)) if matches!(t.as_str(), "JSON" | "JSONL" | "CSV") => t.as_str(),
        Some(Value::String(t)) if t == "MANIFEST" => {
            errors.push(DefinitionError::new(
                iptr,
                "the MANIFEST input type (S3 inventory) is not supported by the embedded engine",
            ));
            return None;
        }
        Some(other) => {
            errors.push(DefinitionError::new(
                iptr,
                format!("expected \"JSON\", \"JSONL\" or \"CSV\", found {other}"),
            ));
            return None;
        }
        None => {
            errors.push(DefinitionError::new(
                rptr,
                "an s3:getObject ItemReader needs \"InputType\"",
            ));
            return None;
        }
    };
    let location = config.get("CSVHeaderLocation");
    let headers = config.get("CSVHeaders");
    if input_type != "CSV" {
        for (key, present) in [
            ("CSVHeaderLocation", location.is_some()),
            ("CSVHeaders", headers.is_some()),
        ] {
            if present {
                errors.push(DefinitionError::new(
                    pointer_join(rptr, key),
                    format!("\"{key}\" applies only to the CSV input type"),
                ));
            }
        }
        return Some(if input_type == "JSON" {
            ItemSource::Json
        } else {
            ItemSource::JsonLines
        });
    }
    let lptr = pointer_join(rptr, "CSVHeaderLocation");
    let hptr = pointer_join(rptr, "CSVHeaders");
    match location {
        Some(Value::String(l)) if l == "FIRST_ROW" => {
            if headers.is_some() {
                errors.push(DefinitionError::new(
                    hptr,
                    "\"CSVHeaders\" is given only with \"CSVHeaderLocation\": \"GIVEN\"",
                ));
                return None;
            }
            Some(ItemSource::Csv(CsvHeaders::FirstRow))
        }
        Some(Value::String(l)) if l == "GIVEN" => match headers {
            Some(Value::Array(names))
                if !names.is_empty() && names.iter().all(Value::is_string) =>
            {
                Some(ItemSource::Csv(CsvHeaders::Given(
                    names
                        .iter()
                        .filter_map(|n| n.as_str().map(str::to_string))
                        .collect(),
                )))
            }
            Some(_) => {
                errors.push(DefinitionError::new(
                    hptr,
                    "expected a non-empty array of column names",
                ));
                None
            }
            None => {
                errors.push(DefinitionError::new(
                    rptr,
                    "\"CSVHeaderLocation\": \"GIVEN\" needs \"CSVHeaders\"",
                ));
                None
            }
        },
        Some(other) => {
            errors.push(DefinitionError::new(
                lptr,
                format!("expected \"FIRST_ROW\" or \"GIVEN\", found {other}"),
            ));
            None
        }
        None => {
            errors.push(DefinitionError::new(
                rptr,
                "the CSV input type needs \"CSVHeaderLocation\"",
            ));
            None
        }
    }
}

fn parse_item_batcher(
    value: &Value,
    ptr: &str,
    language: QueryLanguage,
    errors: &mut Vec<DefinitionError>,
) -> Option<ItemBatcher> {
    let obj = object(value, ptr, errors)?;
    unknown_fields(
        obj,
        ptr,
        &[
            "MaxItemsPerBatch",
            "MaxItemsPerBatchPath",
            "MaxInputBytesPerBatch",
            "MaxInputBytesPerBatchPath",
            "BatchInput",
        ],
        "an ItemBatcher",
        errors,
    );
    other_language_fields(
        obj,
        ptr,
        language,
        &["MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath"],
        &[],
        errors,
    );
    let max_items = dynamic_field(
        obj,
        "MaxItemsPerBatch",
        "MaxItemsPerBatchPath",
        ptr,
        language,
        errors,
        positive_literal,
    );
    let max_bytes = dynamic_field(
        obj,
        "MaxInputBytesPerBatch",
        "MaxInputBytesPerBatchPath",
        ptr,
        language,
        errors,
        positive_literal,
    );
    let limits = [
        "MaxItemsPerBatch",
        "MaxItemsPerBatchPath",
        "MaxInputBytesPerBatch",
        "MaxInputBytesPerBatchPath",
    ];
    if !limits.iter().any(|k| obj.contains_key(*k)) {
        errors.push(DefinitionError::new(
            ptr,
            "an ItemBatcher needs \"MaxItemsPerBatch\" or \"MaxInputBytesPerBatch\" (or their Path forms)",
        ));
    }
    let batch_input = obj.get("BatchInput").map(|v| {
        let bptr = pointer_join(ptr, "BatchInput");
        let expression = query_in(v, language).is_some();
        if !v.is_object() && !expression {
            let expected = match language {
                QueryLanguage::JsonPath => "an object",
                QueryLanguage::Jsonata => "an object or a JSONata expression",
            };
            errors.push(DefinitionError::new(
                &bptr,
                format!(
                    "expected {expected}, found {}",
                    JsonType::of(v).with_article()
                ),
            ));
        }
        match language {
            QueryLanguage::JsonPath => {
                FieldTemplate::JsonPath(PayloadTemplate::parse(v, &bptr, errors))
            }
            QueryLanguage::Jsonata => {
                FieldTemplate::Jsonata(Template::parse(v, &bptr, Place::Before, errors))
            }
        }
    });
    Some(ItemBatcher {
        max_items_per_batch: max_items,
        max_input_bytes_per_batch: max_bytes,
        batch_input,
    })
}

fn parse_result_writer(
    value: &Value,
    ptr: &str,
    language: QueryLanguage,
    errors: &mut Vec<DefinitionError>,
) -> Option<ResultWriter> {
    let obj = object(value, ptr, errors)?;
    if obj.contains_key("WriterConfig") {
        errors.push(DefinitionError::new(
            pointer_join(ptr, "WriterConfig"),
            "\"WriterConfig\" (Transformation, OutputType) is not supported by the embedded engine",
        ));
    }
    unknown_fields(
        obj,
        ptr,
        &["Resource", "Parameters", "Arguments", "WriterConfig"],
        "a ResultWriter",
        errors,
    );
    let resource = resource(obj, ptr, &[S3_PUT_OBJECT], errors);
    let parameters = parameters(obj, ptr, &["Bucket"], language, errors);
    resource?;
    Some(ResultWriter {
        parameters: parameters?,
    })
}
