//! Unit tests of parsing and validating whole definitions: a definition's
//! text and the errors (or the state count) `parse_str` gives for it, the
//! defaults filled in, the context-use classifier, and property tests that
//! parsing never panics. They use the module's public entry points only.

use super::*;
use expect_test::{expect, Expect};
use proptest::prelude::*;

fn check(definition: &str, expected: Expect) {
    let actual = match parse_str(definition) {
        Ok(m) => format!("ok: {} states", m.total_states()),
        Err(errors) => errors.iter().map(|e| format!("{e}\n")).collect(),
    };
    expected.assert_eq(&actual);
}

#[test]
fn minimal_machine_is_valid() {
    check(
        r#"{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}"#,
        expect![[r#"ok: 1 states"#]],
    );
}

#[test]
fn dangling_next_names_state_and_field() {
    check(
        r#"{"StartAt": "Fetch", "States": {"Fetch": {"Type": "Pass", "Next": "Fetchh"}}}"#,
        expect![[r#"
            /States/Fetch/Next: Missing 'Next' target: Fetchh
        "#]],
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    check(
        r#"{"StartAt": "A", "States": {
                "A": {"Type": "Pass"},
                "B": {"Type": "Task", "Next": "A"},
                "C": {"Type": "Wait", "Seconds": 1, "Timestamp": "2020-01-01T00:00:00Z", "End": true},
                "D": {"Type": "Choice", "Choices": [], "Default": "Nope"},
                "E": {"Type": "Bogus"}
            }}"#,
        expect![[r#"
            /States/A: The field "Next" is required but was missing
            /States/B: a Task state needs "Resource"
            /States/C: a Wait state needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath; found Seconds, Timestamp
            /States/D/Choices: must hold at least one choice rule
            /States/E/Type: The field 'Type' should have one of these values: [Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]
            /States/D/Default: Missing 'Next' target: Nope
            /States/B: State "B" is not reachable.
            /States/C: State "C" is not reachable.
            /States/D: State "D" is not reachable.
            /States/E: State "E" is not reachable.
        "#]],
    );
}

#[test]
fn unreachable_states_are_errors() {
    check(
        r#"{"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "Orphan": {"Type": "Succeed"}}}"#,
        expect![[r#"
            /States/Orphan: State "Orphan" is not reachable.
        "#]],
    );
}

#[test]
fn states_all_must_be_alone_and_last() {
    check(
        r#"{"StartAt": "T", "States": {
                "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": true,
                      "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["E", "States.ALL"]}],
                      "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "X"}, {"ErrorEquals": ["E"], "Next": "X"}]},
                "X": {"Type": "Succeed"}
            }}"#,
        expect![[r#"
                /States/T/Retry/1/ErrorEquals: "States.ALL" must appear alone in ErrorEquals
                /States/T/Retry/0/ErrorEquals: "States.ALL" must be in the last element
                /States/T/Catch/0/ErrorEquals: "States.ALL" must be in the last element
            "#]],
    );
}

#[test]
fn nested_machines_are_validated_with_their_pointers() {
    check(
        r#"{"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "X", "States": {"X": {"Type": "Pass", "Next": "Outside"}}}
            ]}, "Outside": {"Type": "Succeed"}}}"#,
        expect![[r#"
            /States/P/Branches/0/States/X/Next: Missing 'Next' target: Outside
            /States/Outside: State "Outside" is not reachable.
        "#]],
    );
}

#[test]
fn bad_paths_and_unknown_fields_are_named() {
    check(
        r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": "$.a[", "ResultPath": "$.a[*]", "Resul": 1, "End": true}}}"#,
        expect![[r#"
            /States/A: Field 'Resul' is not supported
            /States/A/InputPath: The value for the field 'InputPath' must be a valid JSONPath
            /States/A/ResultPath: invalid reference path "$.a[*]": invalid path '$.a[*]' at offset 3: a wildcard '*' is not allowed in a reference path, which may only use '.name', ['name'] and [index]
        "#]],
    );
}

#[test]
fn query_language_fields_are_refused_in_the_other_language() {
    check(
        r#"{"QueryLanguage": "JSONata", "StartAt": "A", "States": {
            "A": {"Type": "Pass", "InputPath": "$.x", "Output": "{% 1 %}", "Next": "B"},
            "B": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": true}}}"#,
        expect![[r#"
                /States/A: The QueryLanguage is set to 'JSONata', but field 'InputPath' is only supported for the 'JSONPath' QueryLanguage
                /States/B: 'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine
            "#]],
    );
    check(
        r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Output": "{% 1 %}", "QueryLanguage": "jsonata", "End": true}}}"#,
        expect![[r#"
                /States/A/QueryLanguage: Value should be one of the following: [JSONPath, JSONata]
            "#]],
    );
}

#[test]
fn not_json_reports_line_and_column() {
    check(
        "{\"StartAt\": ",
        expect![[r#"
                /: definition is not valid JSON: EOF while parsing a value at line 1 column 12 (line 1, column 12)
            "#]],
    );
}

#[test]
fn defaults_are_filled_in() {
    let m = parse_str(
            r#"{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "r", "End": true, "Retry": [{"ErrorEquals": ["E"]}]}}}"#,
        )
        .unwrap();
    let t = &m.states["T"];
    assert_eq!(t.retry[0].interval_seconds, 1);
    assert_eq!(t.retry[0].max_attempts, 3);
    assert_eq!(t.retry[0].backoff_rate, 2.0);
    assert_eq!(t.processing, Processing::default());
}

#[test]
fn context_use_is_classified_conservatively() {
    assert_eq!(ContextUse::of_text(r#"{"a.$": "$.x"}"#), ContextUse::None);
    assert_eq!(
        ContextUse::of_text(r#"{"a.$": "$$.Map.Item.Value"}"#),
        ContextUse::WithoutExecutionInput
    );
    assert_eq!(
        ContextUse::of_text(r#"{"a.$": "$$.Execution.Id"}"#),
        ContextUse::WithoutExecutionInput
    );
    assert_eq!(
        ContextUse::of_text(r#"{"a.$": "$$.Execution.Input.k"}"#),
        ContextUse::Full
    );
    assert_eq!(
        ContextUse::of_text(r#"{"a.$": "$$.Execution"}"#),
        ContextUse::Full
    );
    assert_eq!(ContextUse::of_text(r#"{"a.$": "$$"}"#), ContextUse::Full);
    assert_eq!(
        ContextUse::of_text(r#"{"a.$": "$$['Execution']"}"#),
        ContextUse::Full
    );
    assert_eq!(
        ContextUse::of_text(r#"{"a.$": "$$..Input"}"#),
        ContextUse::Full
    );
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let keys = prop::sample::select(vec![
        "StartAt",
        "States",
        "Type",
        "Next",
        "End",
        "Pass",
        "Task",
        "Choice",
        "Wait",
        "Map",
        "Parallel",
        "Fail",
        "Succeed",
        "Resource",
        "Branches",
        "ItemProcessor",
        "Iterator",
        "Retry",
        "Catch",
        "ErrorEquals",
        "InputPath",
        "ResultPath",
        "Parameters",
        "Seconds",
        "Choices",
        "Default",
        "A",
        "B",
        "Variable",
        "StringEquals",
        "Assign",
        "x.$",
        "ItemsPath",
        "MaxConcurrency",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::from),
        prop::sample::select(vec![
            "A",
            "B",
            "$",
            "$.a",
            "$$.x",
            "States.ALL",
            "Pass",
            "Task",
            "Map",
            "States.Format('{}', $.a)"
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..6).prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}

proptest! {
    #[test]
    fn parse_never_panics_on_arbitrary_text(s in ".*") {
        let _ = parse_str(&s);
    }

    #[test]
    fn parse_never_panics_on_definition_shaped_json(v in arbitrary_json()) {
        let _ = parse(&v);
    }
}
