//! Each state type's own fields: a Task's resource and timeouts, a Choice's
//! rules and default, a Wait's one duration or timestamp, a Fail's error and
//! cause, a Parallel's branches, and a Map's item processor, item selection,
//! concurrency and failure tolerance.
//!
//! Nested machines are read through `machine` and choice conditions through
//! `crate::choice`; the fields every state shares are `state`'s, not read
//! again here.

use super::fields::query_in;
use super::fields::{
    dynamic_field, non_negative_literal, opt_string, parse_assign, parse_path, path_field,
    percentage_literal, positive_literal,
};
use super::machine::{parse_machine, MachineScope};
use super::tree::{
    root_path, Choice, ChoiceBranch, Dynamic, Fail, ItemSelector, Items, MapState, Parallel,
    QueryLanguage, RuleTest, StateMachine, Task, TextSource, Wait,
};
use crate::choice::Condition;
use crate::error::pointer_join;
use crate::jsonata::{Place, Query, Template};
use crate::payload::PayloadTemplate;
use crate::{DefinitionError, JsonType};
use serde_json::{Map, Value};

pub(super) fn parse_task(
    obj: &Map<String, Value>,
    ptr: &str,
    language: QueryLanguage,
    errors: &mut Vec<DefinitionError>,
) -> Option<Task> {
    let resource = match obj.get("Resource") {
        Some(Value::String(r)) if !r.is_empty() => Some(r.clone()),
        Some(other) => {
            errors.push(DefinitionError::new(
                pointer_join(ptr, "Resource"),
                format!(
                    "expected a resource ARN, found {}",
                    JsonType::of(other).with_article()
                ),
            ));
            None
        }
        None => {
            errors.push(DefinitionError::new(ptr, "a Task state needs \"Resource\""));
            None
        }
    };
    let timeout_seconds = dynamic_field(
        obj,
        "TimeoutSeconds",
        "TimeoutSecondsPath",
        ptr,
        language,
        errors,
        positive_literal,
    );
    let heartbeat_seconds = dynamic_field(
        obj,
        "HeartbeatSeconds",
        "HeartbeatSecondsPath",
        ptr,
        language,
        errors,
        positive_literal,
    );
    if let (Some(Dynamic::Fixed(t)), Some(Dynamic::Fixed(h))) =
        (&timeout_seconds, &heartbeat_seconds)
    {
        if h >= t {
            errors.push(DefinitionError::new(
                pointer_join(ptr, "HeartbeatSeconds"),
                format!("must be smaller than TimeoutSeconds ({t}), found {h}"),
            ));
        }
    }
    Some(Task {
        resource: resource?,
        timeout_seconds,
        heartbeat_seconds,
        credentials: obj.get("Credentials").cloned(),
    })
}

pub(super) fn parse_choice(
    obj: &Map<String, Value>,
    ptr: &str,
    language: QueryLanguage,
    errors: &mut Vec<DefinitionError>,
) -> Option<Choice> {
    let cptr = pointer_join(ptr, "Choices");
    let mut choices = Vec::new();
    match obj.get("Choices") {
        Some(Value::Array(rules)) if !rules.is_empty() => {
            for (i, rule) in rules.iter().enumerate() {
                let rptr = pointer_join(&cptr, &i.to_string());
                let next = match rule.get("Next") {
                    Some(Value::String(n)) => Some(n.clone()),
                    Some(other) => {
                        errors.push(DefinitionError::new(
                            pointer_join(&rptr, "Next"),
                            format!(
                                "expected a state name, found {}",
                                JsonType::of(other).with_article()
                            ),
                        ));
                        None
                    }
                    None => {
                        if rule.is_object() {
                            errors
                                .push(DefinitionError::new(&rptr, "a choice rule needs \"Next\""));
                        }
                        None
                    }
                };
                let assign = rule.get("Assign").map(|v| {
                    parse_assign(
                        v,
                        &pointer_join(&rptr, "Assign"),
                        language,
                        Place::AfterInput,
                        errors,
                    )
                });
                let output = match language {
                    QueryLanguage::Jsonata => rule.get("Output").map(|v| {
                        Template::parse(
                            v,
                            &pointer_join(&rptr, "Output"),
                            Place::AfterInput,
                            errors,
                        )
                    }),
                    QueryLanguage::JsonPath => None,
                };
                let test = match language {
                    QueryLanguage::JsonPath => {
                        Condition::parse(rule, &rptr, errors).map(RuleTest::Condition)
                    }
                    QueryLanguage::Jsonata => jsonata_condition(rule, &rptr, errors),
                };
                if let (Some(test), Some(next)) = (test, next) {
                    choices.push(ChoiceBranch {
                        test,
                        next,
                        assign,
                        output,
                    });
                }
            }
        }
        Some(Value::Array(_)) => errors.push(DefinitionError::new(
            &cptr,
            "must hold at least one choice rule",
        )),
        Some(other) => errors.push(DefinitionError::new(
            &cptr,
            format!(
                "expected an array of choice rules, found {}",
                JsonType::of(other).with_article()
            ),
        )),
        None => errors.push(DefinitionError::new(
            ptr,
            "a Choice state needs \"Choices\"",
        )),
    }
    let default = match obj.get("Default") {
        None => None,
        Some(Value::String(d)) => Some(d.clone()),
        Some(other) => {
            errors.push(DefinitionError::new(
                pointer_join(ptr, "Default"),
                format!(
                    "expected a state name, found {}",
                    JsonType::of(other).with_article()
                ),
            ));
            None
        }
    };
    Some(Choice { choices, default })
}

/// A JSONata choice rule: `Condition`, a `{% %}` expression that must
/// yield a boolean, beside `Next`, `Assign`, `Output` and `Comment`.
fn jsonata_condition(
    rule: &Value,
    ptr: &str,
    errors: &mut Vec<DefinitionError>,
) -> Option<RuleTest> {
    let obj = rule.as_object()?;
    for key in obj.keys() {
        if !matches!(
            key.as_str(),
            "Condition" | "Next" | "Assign" | "Output" | "Comment"
        ) {
            errors.push(DefinitionError::new(
                pointer_join(ptr, key),
                format!("field {key:?} is not valid in a JSONata choice rule"),
            ));
        }
    }
    let cptr = pointer_join(ptr, "Condition");
    match obj.get("Condition") {
        Some(Value::String(s)) => match crate::jsonata::query_text(s) {
            Some(text) => Query::parse(text, &cptr, Place::Before, errors).map(RuleTest::Query),
            None => {
                errors.push(DefinitionError::new(
                    cptr,
                    format!("expected a JSONata expression \"{{% ... %}}\", found {s:?}"),
                ));
                None
            }
        },
        Some(Value::Bool(b)) => {
            Query::parse(&format!(" {b} "), &cptr, Place::Before, errors).map(RuleTest::Query)
        }
        Some(other) => {
            errors.push(DefinitionError::new(
                cptr,
                format!(
                    "expected a JSONata expression, found {}",
                    JsonType::of(other).with_article()
                ),
            ));
            None
        }
        None => {
            errors.push(DefinitionError::new(
                ptr,
                "a JSONata choice rule needs \"Condition\"",
            ));
            None
        }
    }
}

pub(super) fn parse_wait(
    obj: &Map<String, Value>,
    ptr: &str,
    language: QueryLanguage,
    errors: &mut Vec<DefinitionError>,
) -> Option<Wait> {
    let present: Vec<&str> = ["Seconds", "Timestamp", "SecondsPath", "TimestampPath"]
        .into_iter()
        .filter(|k| obj.contains_key(*k))
        .collect();
    if present.len() != 1 {
        errors.push(DefinitionError::new(
            ptr,
            if present.is_empty() {
                "a Wait state needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath".to_string()
            } else {
                format!(
                    "a Wait state needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath; found {}",
                    present.join(", ")
                )
            },
        ));
        return None;
    }
    let key = present[0];
    let fptr = pointer_join(ptr, key);
    if let Some(text) = query_in(&obj[key], language) {
        let query = Query::parse(text, &fptr, Place::Before, errors)?;
        return match key {
            "Seconds" => Some(Wait::SecondsQuery(query)),
            "Timestamp" => Some(Wait::TimestampQuery(query)),
            _ => None,
        };
    }
    match key {
        "Seconds" => match obj[key].as_u64() {
            Some(s) => Some(Wait::Seconds(s)),
            None => {
                errors.push(DefinitionError::new(
                    fptr,
                    format!("expected a non-negative integer, found {}", obj[key]),
                ));
                None
            }
        },
        "Timestamp" => {
            match obj[key].as_str().and_then(crate::timestamp::parse) {
                Some(t) => Some(Wait::Timestamp(t)),
                None => {
                    errors.push(DefinitionError::new(
                    fptr,
                    format!("expected an RFC 3339 timestamp such as \"2016-03-14T01:59:00Z\", found {}", obj[key]),
                ));
                    None
                }
            }
        }
        "SecondsPath" => path_field(obj, key, ptr, errors).map(Wait::SecondsPath),
        _ => path_field(obj, key, ptr, errors).map(Wait::TimestampPath),
    }
}

pub(super) fn parse_fail(
    obj: &Map<String, Value>,
    ptr: &str,
    language: QueryLanguage,
    errors: &mut Vec<DefinitionError>,
) -> Fail {
    let text = |key: &str,
                path_key: &str,
                errors: &mut Vec<DefinitionError>|
     -> Option<TextSource> {
        match (obj.get(key), obj.get(path_key)) {
            (Some(_), Some(_)) => {
                errors.push(DefinitionError::new(
                    pointer_join(ptr, path_key),
                    format!("\"{key}\" and \"{path_key}\" are mutually exclusive"),
                ));
                None
            }
            (Some(v @ Value::String(s)), None) => match query_in(v, language) {
                Some(text) => Query::parse(text, &pointer_join(ptr, key), Place::Before, errors)
                    .map(TextSource::Query),
                None => Some(TextSource::Fixed(s.clone())),
            },
            (Some(other), None) => {
                errors.push(DefinitionError::new(
                    pointer_join(ptr, key),
                    format!(
                        "expected a string, found {}",
                        JsonType::of(other).with_article()
                    ),
                ));
                None
            }
            (None, Some(Value::String(s))) => {
                let fptr = pointer_join(ptr, path_key);
                if crate::intrinsic::Intrinsic::looks_like_call(s) {
                    match crate::intrinsic::Intrinsic::parse(s) {
                        Ok(call) => Some(TextSource::Intrinsic(call)),
                        Err(e) => {
                            errors.push(DefinitionError::new(
                                fptr,
                                format!("invalid intrinsic function: {e}"),
                            ));
                            None
                        }
                    }
                } else {
                    parse_path(s, &fptr, errors).map(TextSource::Path)
                }
            }
            (None, Some(other)) => {
                errors.push(DefinitionError::new(
                    pointer_join(ptr, path_key),
                    format!(
                        "expected a path or intrinsic function, found {}",
                        JsonType::of(other).with_article()
                    ),
                ));
                None
            }
            (None, None) => None,
        }
    };
    let error = text("Error", "ErrorPath", errors);
    let cause = text("Cause", "CausePath", errors);
    Fail { error, cause }
}

pub(super) fn parse_parallel(
    obj: &Map<String, Value>,
    ptr: &str,
    machine_language: QueryLanguage,
    errors: &mut Vec<DefinitionError>,
) -> Option<Parallel> {
    let bptr = pointer_join(ptr, "Branches");
    match obj.get("Branches") {
        Some(Value::Array(bs)) if !bs.is_empty() => {
            let branches: Vec<Option<StateMachine>> = bs
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    parse_machine(
                        b,
                        &pointer_join(&bptr, &i.to_string()),
                        MachineScope::Branch,
                        machine_language,
                        errors,
                    )
                })
                .collect();
            branches
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .map(|branches| Parallel { branches })
        }
        Some(Value::Array(_)) => {
            errors.push(DefinitionError::new(bptr, "must hold at least one branch"));
            None
        }
        Some(other) => {
            errors.push(DefinitionError::new(
                bptr,
                format!(
                    "expected an array of branches, found {}",
                    JsonType::of(other).with_article()
                ),
            ));
            None
        }
        None => {
            errors.push(DefinitionError::new(
                ptr,
                "a Parallel state needs \"Branches\"",
            ));
            None
        }
    }
}

pub(super) fn parse_map(
    obj: &Map<String, Value>,
    ptr: &str,
    language: QueryLanguage,
    machine_language: QueryLanguage,
    errors: &mut Vec<DefinitionError>,
) -> Option<MapState> {
    let processor_value = obj.get("ItemProcessor").or_else(|| obj.get("Iterator"));
    let distributed = super::distributed::is_distributed(processor_value);
    if !distributed {
        for field in ["ItemReader", "ResultWriter", "ItemBatcher"] {
            if obj.contains_key(field) {
                errors.push(DefinitionError::new(
                    pointer_join(ptr, field),
                    format!("\"{field}\" belongs to the distributed Map: it needs \"ItemProcessor\" with \"ProcessorConfig\": {{\"Mode\": \"DISTRIBUTED\"}}"),
                ));
            }
        }
    }
    let processor = match (obj.get("ItemProcessor"), obj.get("Iterator")) {
        (Some(_), Some(_)) => {
            errors.push(DefinitionError::new(
                pointer_join(ptr, "Iterator"),
                "\"ItemProcessor\" and its legacy name \"Iterator\" are mutually exclusive",
            ));
            None
        }
        (Some(p), None) => parse_machine(
            p,
            &pointer_join(ptr, "ItemProcessor"),
            MachineScope::MapProcessor,
            machine_language,
            errors,
        ),
        (None, Some(p)) => parse_machine(
            p,
            &pointer_join(ptr, "Iterator"),
            MachineScope::MapProcessor,
            machine_language,
            errors,
        ),
        (None, None) => {
            errors.push(DefinitionError::new(
                ptr,
                "a Map state needs \"ItemProcessor\"",
            ));
            None
        }
    };
    // `Parameters` on a Map is the legacy name of `ItemSelector`: it shapes
    // each item, not the Map's input.
    let item_selector = match (obj.get("ItemSelector"), obj.get("Parameters")) {
        (Some(_), Some(_)) => {
            errors.push(DefinitionError::new(
                pointer_join(ptr, "Parameters"),
                "\"ItemSelector\" and its legacy name \"Parameters\" are mutually exclusive",
            ));
            None
        }
        (Some(v), None) => {
            let sptr = pointer_join(ptr, "ItemSelector");
            Some(match language {
                QueryLanguage::JsonPath => {
                    ItemSelector::JsonPath(PayloadTemplate::parse(v, &sptr, errors))
                }
                QueryLanguage::Jsonata => {
                    ItemSelector::Jsonata(Template::parse(v, &sptr, Place::Before, errors))
                }
            })
        }
        (None, Some(v)) => Some(ItemSelector::JsonPath(PayloadTemplate::parse(
            v,
            &pointer_join(ptr, "Parameters"),
            errors,
        ))),
        (None, None) => None,
    };
    let items = match (language, obj.get("Items")) {
        (QueryLanguage::Jsonata, Some(v)) => {
            let iptr = pointer_join(ptr, "Items");
            if !v.is_array() && query_in(v, language).is_none() {
                errors.push(DefinitionError::new(
                    &iptr,
                    format!(
                        "expected an array or a JSONata expression, found {}",
                        JsonType::of(v).with_article()
                    ),
                ));
            }
            Items::Template(Template::parse(v, &iptr, Place::Before, errors))
        }
        (QueryLanguage::Jsonata, None) => Items::Template(Template::parse(
            &Value::String("{% $states.input %}".into()),
            &pointer_join(ptr, "Items"),
            Place::Before,
            errors,
        )),
        (QueryLanguage::JsonPath, _) => {
            Items::Path(path_field(obj, "ItemsPath", ptr, errors).unwrap_or_else(root_path))
        }
    };
    let max_concurrency = dynamic_field(
        obj,
        "MaxConcurrency",
        "MaxConcurrencyPath",
        ptr,
        language,
        errors,
        non_negative_literal,
    )
    .unwrap_or(Dynamic::Fixed(0));
    let tolerated_failure_percentage = dynamic_field(
        obj,
        "ToleratedFailurePercentage",
        "ToleratedFailurePercentagePath",
        ptr,
        language,
        errors,
        percentage_literal,
    );
    let tolerated_failure_count = dynamic_field(
        obj,
        "ToleratedFailureCount",
        "ToleratedFailureCountPath",
        ptr,
        language,
        errors,
        non_negative_literal,
    );
    let label = opt_string(obj, "Label", ptr, errors);
    let pkey = if obj.contains_key("ItemProcessor") {
        "ItemProcessor"
    } else {
        "Iterator"
    };
    let distributed = match processor_value {
        Some(p) if distributed => super::distributed::parse_distributed(
            obj,
            p,
            &pointer_join(ptr, pkey),
            ptr,
            language,
            errors,
        )
        .map(Box::new),
        _ => None,
    };
    if distributed.is_none() && super::distributed::is_distributed(processor_value) {
        // Its errors are reported; the state is not usable.
        return None;
    }
    Some(MapState {
        items,
        processor: processor?,
        item_selector,
        max_concurrency,
        tolerated_failure_percentage,
        tolerated_failure_count,
        label,
        distributed,
    })
}
