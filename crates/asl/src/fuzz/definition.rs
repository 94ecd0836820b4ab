//! Fuzzing the definition parser: random bytes, random JSON, and machines
//! of near-valid states (every state type, fields of the right or a wrong
//! type, transitions that make cycles or dangle, Retry and Catch, Choice
//! rules, Parallel branches and Map processors nested inside each other),
//! then nesting at and past what JSON text can carry.

use super::json_len;
use crate::definition::{parse, parse_str, MAX_DEPTH};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use zoomvault_fuzz::{check, linear};

/// State names: few, so that transitions often find their target.
const NAMES: &[&str] = &["A", "B", "C", "Start", "", "A/B", "~1", "\u{202e}x"];

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(NAMES).prop_map(str::to_owned),
        1 => "\\PC{0,90}",
    ]
}

/// A value that is the wrong type for most fields.
fn junk() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        Just(json!(1e308)),
        Just(json!(u64::MAX)),
        Just(json!(-0.0)),
        "\\PC{0,12}".prop_map(Value::String),
        Just(json!([])),
        Just(json!({})),
        Just(json!("$")),
        Just(json!("$.a[?(@.b > 1)]")),
        Just(json!("States.Format('{}', $.a)")),
    ]
}

/// A path, template or intrinsic as a state's field would hold it.
fn expression() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("$")),
        Just(json!("$.a")),
        Just(json!("$$.Execution.Id")),
        Just(json!("$.a[0].b")),
        Just(json!("$..x")),
        Just(json!("$.a[*]")),
        Just(json!("$.")),
        Just(json!("$[")),
        Just(json!(null)),
        Just(json!({"x.$": "$.a", "y": 1})),
        Just(json!({"x.$": "States.ArrayRange(1, 999999999, 1)"})),
        Just(json!({"x.$": "States.StringToJson($.s)", "y.$": 3})),
        Just(json!({"x.$": "States.Array(States.Array(States.Array(1)))"})),
        junk(),
    ]
}

fn rule() -> impl Strategy<Value = Value> {
    let leaf = (
        prop_oneof![
            Just("StringEquals"),
            Just("NumericLessThan"),
            Just("NumericEqualsPath"),
            Just("BooleanEquals"),
            Just("IsPresent"),
            Just("TimestampGreaterThan"),
            Just("StringMatches"),
            Just("Bogus"),
        ],
        prop_oneof![Just(json!("$.a")), Just(json!("$[")), junk()],
        prop_oneof![
            Just(json!("x*y")),
            Just(json!(3)),
            Just(json!(true)),
            junk()
        ],
        prop::option::of(name()),
    )
        .prop_map(|(operator, variable, operand, next)| {
            let mut rule = Map::new();
            rule.insert("Variable".into(), variable);
            rule.insert(operator.into(), operand);
            if let Some(next) = next {
                rule.insert("Next".into(), Value::String(next));
            }
            Value::Object(rule)
        });
    leaf.prop_recursive(4, 16, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(|rules| json!({"And": rules})),
            prop::collection::vec(inner.clone(), 0..3).prop_map(|rules| json!({"Or": rules})),
            inner.prop_map(|rule| json!({"Not": rule})),
        ]
    })
}

fn recovery() -> impl Strategy<Value = Value> {
    let errors = prop_oneof![
        Just(json!(["States.ALL"])),
        Just(json!(["States.ALL", "X"])),
        Just(json!(["States.TaskFailed"])),
        Just(json!([])),
        junk(),
    ];
    let retrier = (errors.clone(), junk(), junk(), junk()).prop_map(|(e, i, m, b)| {
        json!({"ErrorEquals": e, "IntervalSeconds": i, "MaxAttempts": m, "BackoffRate": b})
    });
    let catcher = (errors, name(), expression())
        .prop_map(|(e, next, path)| json!({"ErrorEquals": e, "Next": next, "ResultPath": path}));
    (
        prop::collection::vec(retrier, 0..3),
        prop::collection::vec(catcher, 0..3),
    )
        .prop_map(|(retry, catch)| json!({"Retry": retry, "Catch": catch}))
}

/// The fields a state of `kind` may have, each present with some chance
/// and holding a right or a wrong value; `machine` is the strategy for a
/// nested machine (a Parallel branch or a Map processor).
fn state(machine: BoxedStrategy<Value>) -> impl Strategy<Value = Value> {
    let kind = prop_oneof![
        Just("Pass"),
        Just("Task"),
        Just("Choice"),
        Just("Wait"),
        Just("Succeed"),
        Just("Fail"),
        Just("Parallel"),
        Just("Map"),
        Just("Bogus"),
    ];
    let transition = prop_oneof![
        3 => name().prop_map(|next| json!({"Next": next})),
        2 => Just(json!({"End": true})),
        1 => junk().prop_map(|end| json!({"End": end})),
        1 => Just(json!({"Next": "A", "End": true})),
        1 => Just(json!({})),
    ];
    let fields = prop::collection::vec(
        prop_oneof![
            expression().prop_map(|v| ("InputPath", v)),
            expression().prop_map(|v| ("OutputPath", v)),
            expression().prop_map(|v| ("ResultPath", v)),
            expression().prop_map(|v| ("Parameters", v)),
            expression().prop_map(|v| ("ResultSelector", v)),
            expression().prop_map(|v| ("ItemSelector", v)),
            expression().prop_map(|v| ("ItemsPath", v)),
            expression().prop_map(|v| ("Assign", v)),
            junk().prop_map(|v| ("Resource", v)),
            Just(("Resource", json!("arn:aws:states:::lambda:invoke"))),
            Just((
                "Resource",
                json!("arn:aws:states:::lambda:invoke.waitForTaskToken")
            )),
            junk().prop_map(|v| ("Seconds", v)),
            junk().prop_map(|v| ("Timestamp", v)),
            Just(("Timestamp", json!("2016-03-14T01:59:00Z"))),
            junk().prop_map(|v| ("TimeoutSeconds", v)),
            junk().prop_map(|v| ("HeartbeatSeconds", v)),
            junk().prop_map(|v| ("MaxConcurrency", v)),
            junk().prop_map(|v| ("ToleratedFailurePercentage", v)),
            junk().prop_map(|v| ("Error", v)),
            junk().prop_map(|v| ("Cause", v)),
            junk().prop_map(|v| ("Comment", v)),
            junk().prop_map(|v| ("QueryLanguage", v)),
            name().prop_map(|v| ("Default", Value::String(v))),
            prop::collection::vec(rule(), 0..3).prop_map(|v| ("Choices", Value::Array(v))),
            junk().prop_map(|v| ("Choices", v)),
            prop::collection::vec(machine.clone(), 0..3)
                .prop_map(|v| ("Branches", Value::Array(v))),
            machine.clone().prop_map(|v| ("ItemProcessor", v)),
            machine.prop_map(|v| ("Iterator", v)),
        ],
        0..6,
    );
    (
        kind,
        transition,
        fields,
        prop::option::weighted(0.3, recovery()),
    )
        .prop_map(|(kind, transition, fields, recovery)| {
            let mut state = Map::new();
            state.insert("Type".into(), json!(kind));
            for part in [Some(transition), recovery].into_iter().flatten() {
                if let Value::Object(part) = part {
                    state.extend(part);
                }
            }
            for (field, value) in fields {
                state.insert(field.into(), value);
            }
            Value::Object(state)
        })
}

/// A machine object: `StartAt`, `States` and sometimes a machine field,
/// with Parallel and Map states nesting machines up to a few levels.
fn machine() -> impl Strategy<Value = Value> {
    let leaf = Just(json!({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})).boxed();
    leaf.prop_recursive(4, 24, 4, |inner| {
        (
            prop_oneof![8 => name().prop_map(Value::String), 1 => junk()],
            prop::collection::vec((name(), state(inner)), 0..5),
            prop::option::weighted(
                0.2,
                (
                    prop::sample::select(vec![
                        "TimeoutSeconds",
                        "Version",
                        "ProcessorConfig",
                        "QueryLanguage",
                        "Comment",
                        "Extra",
                    ]),
                    junk(),
                ),
            ),
        )
            .prop_map(|(start_at, states, extra)| {
                let mut machine = Map::new();
                machine.insert("StartAt".into(), start_at);
                machine.insert("States".into(), Value::Object(states.into_iter().collect()));
                if let Some((field, value)) = extra {
                    machine.insert(field.into(), value);
                }
                Value::Object(machine)
            })
            .boxed()
    })
}

/// Validation keeps copies of names, pointers and messages, all bounded by
/// the definition's own text.
fn budget(definition: &Value) -> usize {
    linear(json_len(definition), 64, 512 * 1024)
}

/// 600 cases: near-valid machines parse or are refused with errors that
/// each name a pointer into the definition, and the text round trip gives
/// the same answer as the value.
#[test]
fn fuzz_definition_near_valid_machines() {
    check(600, machine, budget, |definition| {
        let from_value = parse(&definition);
        let from_text = parse_str(&definition.to_string());
        prop_assert_eq!(from_value.is_ok(), from_text.is_ok());
        if let Err(errors) = &from_value {
            prop_assert!(!errors.is_empty());
            for error in errors {
                prop_assert!(
                    error.pointer.is_empty() || error.pointer.starts_with('/'),
                    "{error}"
                );
            }
        }
        Ok(())
    });
}

/// 2000 cases: any bytes, read as the UTF-8 text of a definition.
#[test]
fn fuzz_definition_random_bytes() {
    check(
        2000,
        || {
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..400),
                // Bytes drawn from JSON's own punctuation reach deeper.
                prop::collection::vec(
                    prop::sample::select(b"{}[]\":,0123456789.eE+-tfnul \\StartAtes".to_vec()),
                    0..400
                ),
            ]
        },
        |bytes| linear(bytes.len(), 64, 256 * 1024),
        |bytes| {
            let _ = parse_str(&String::from_utf8_lossy(&bytes));
            Ok(())
        },
    );
}

/// `{key: value}`, built without serde's recursive `to_value`, so values
/// thousands of levels deep can be made on a small stack.
fn object(fields: Vec<(&str, Value)>) -> Value {
    Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// A machine nesting `depth` machines, each the one Parallel branch (or
/// the Map processor) of the single state of the machine above.
fn nested(depth: usize, map: bool) -> Value {
    let mut machine = json!({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}});
    for _ in 0..depth {
        let state = if map {
            object(vec![
                ("Type", json!("Map")),
                ("ItemProcessor", machine),
                ("End", json!(true)),
            ])
        } else {
            object(vec![
                ("Type", json!("Parallel")),
                ("Branches", Value::Array(vec![machine])),
                ("End", json!(true)),
            ])
        };
        machine = object(vec![
            ("StartAt", json!("A")),
            ("States", object(vec![("A", state)])),
        ]);
    }
    machine
}

/// Drops a deep value without serde_json's recursive drop.
fn flatten_drop(value: Value) {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Array(items) => stack.extend(items),
            Value::Object(fields) => stack.extend(fields.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

fn nesting_errors(definition: &Value) -> Result<usize, Vec<String>> {
    parse(definition)
        .map(|machine| machine.total_states())
        .map_err(|errors| errors.iter().map(ToString::to_string).collect())
}

/// How many arrays and objects `value` nests, counted without recursion.
fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(value, 1)];
    while let Some((value, level)) = pending.pop() {
        match value {
            Value::Array(items) => pending.extend(items.iter().map(|v| (v, level + 1))),
            Value::Object(fields) => pending.extend(fields.values().map(|v| (v, level + 1))),
            _ => continue,
        }
        deepest = deepest.max(level);
    }
    deepest
}

/// A definition nests at most [`MAX_DEPTH`] arrays and objects, as JSON
/// text does. The deepest machines that fit (41 levels of Map, 31 of
/// Parallel) parse on a 2 MiB stack in a debug build, as text and as a
/// value; one level deeper is refused as text by serde_json and as a value
/// with the same limit; and values nested 5000 machines deep (20,000 JSON
/// levels), or with a Parameters template 5000 levels deep, are refused
/// before anything recurses into them.
#[test]
fn fuzz_definition_nesting_at_and_over_the_limit() {
    check(
        1,
        || Just(()),
        |_| 64 * 1024 * 1024,
        |()| {
            for map in [false, true] {
                let levels = if map { 41 } else { 31 };
                let deepest = nested(levels, map);
                prop_assert!(depth(&deepest) <= MAX_DEPTH);
                prop_assert_eq!(nesting_errors(&deepest), Ok(levels + 1));
                prop_assert!(parse_str(&deepest.to_string()).is_ok());
                let deeper = nested(levels + 1, map);
                prop_assert!(depth(&deeper) > MAX_DEPTH);
                let errors = nesting_errors(&deeper).expect_err("nested too deep");
                prop_assert!(
                    errors[0].contains("more than 127 arrays and objects deep"),
                    "{errors:?}"
                );
                let errors = parse_str(&deeper.to_string()).expect_err("too deep for JSON text");
                prop_assert!(
                    errors[0].message.contains("recursion limit exceeded"),
                    "{}",
                    errors[0]
                );
                let far = nested(5000, map);
                let errors = nesting_errors(&far).expect_err("nested too deep");
                prop_assert!(
                    errors[0].contains("more than 127 arrays and objects deep"),
                    "{errors:?}"
                );
                flatten_drop(far);
            }
            let mut template = json!(1);
            for _ in 0..5000 {
                template = object(vec![("a", template)]);
            }
            let definition = object(vec![
                ("StartAt", json!("A")),
                (
                    "States",
                    object(vec![(
                        "A",
                        object(vec![
                            ("Type", json!("Pass")),
                            ("Parameters", template),
                            ("End", json!(true)),
                        ]),
                    )]),
                ),
            ]);
            prop_assert!(nesting_errors(&definition).is_err());
            flatten_drop(definition);
            Ok(())
        },
    );
}
