//! Unit tests of `crate::choice`: parsing a rule (and every error it
//! reports) and evaluating each operator, its `...Path` form and the
//! combinators against inputs written here. They pin the rule's own
//! semantics only; `Next`, `Assign` and the Choice state belong elsewhere.

use super::*;
use expect_test::{expect, Expect};
use proptest::prelude::*;
use serde_json::{json, Map};

const POINTER: &str = "/States/Route/Choices/0";

fn parse(rule: &Value) -> Condition {
    let mut errors = Vec::new();
    match Condition::parse(rule, POINTER, &mut errors) {
        Some(condition) => {
            assert!(errors.is_empty(), "parsed with errors: {errors:?}");
            condition
        }
        None => panic!("{rule} did not parse: {errors:?}"),
    }
}

fn evaluate(rule: Value, input: Value) -> Result<bool, Failure> {
    let context = json!({"Execution": {"StartTime": "2019-03-26T20:14:13.192Z"}});
    let mut variables = Map::new();
    variables.insert("limit".to_string(), json!(10));
    parse(&rule).evaluate(&Scope::new(&input, &context, &variables))
}

fn holds(rule: Value, input: Value) -> bool {
    let description = format!("{rule} on {input}");
    evaluate(rule, input).unwrap_or_else(|failure| panic!("{description} failed: {failure}"))
}

/// Checks `{"Variable": "$.v", <operator>: <operand>}` against each `$.v`.
fn check_variable(operator: &str, operand: Value, cases: &[(Value, bool)]) {
    for (value, expected) in cases {
        let rule = json!({"Variable": "$.v", operator: operand.clone()});
        assert_eq!(
            holds(rule, json!({"v": value})),
            *expected,
            "{operator} {operand} with $.v = {value}"
        );
    }
}

/// Checks `{"Variable": "$.v", <operator>Path: "$.w"}` against each pair.
fn check_path_form(operator: &str, cases: &[(Value, Value, bool)]) {
    for (v, w, expected) in cases {
        let rule = json!({"Variable": "$.v", format!("{operator}Path"): "$.w"});
        assert_eq!(
            holds(rule, json!({"v": v, "w": w})),
            *expected,
            "{operator}Path with $.v = {v}, $.w = {w}"
        );
    }
}

fn check_errors(rule: Value, expect: Expect) {
    let mut errors = Vec::new();
    let parsed = Condition::parse(&rule, POINTER, &mut errors);
    assert_eq!(
        parsed.is_none(),
        !errors.is_empty(),
        "None exactly when there are errors"
    );
    let rendered: String = errors.iter().map(|error| format!("{error}\n")).collect();
    expect.assert_eq(&rendered);
}

// ----- strings -----

#[test]
fn string_equals_matches_only_the_identical_string() {
    check_variable(
        "StringEquals",
        json!("abc"),
        &[
            (json!("abc"), true),
            (json!("ABC"), false),
            (json!("abc "), false),
            (json!(""), false),
        ],
    );
}

#[test]
fn string_equals_does_not_coerce_other_types() {
    check_variable(
        "StringEquals",
        json!("1"),
        &[
            (json!(1), false),
            (json!(true), false),
            (json!(null), false),
            (json!(["1"]), false),
        ],
    );
}

#[test]
fn string_less_than_orders_lexicographically() {
    check_variable(
        "StringLessThan",
        json!("abd"),
        &[
            (json!("abc"), true),
            (json!("ab"), true),
            (json!("ABZ"), true),
            (json!("abd"), false),
            (json!("abda"), false),
            (json!("b"), false),
            (json!(1), false),
        ],
    );
}

#[test]
fn string_greater_than_orders_lexicographically() {
    check_variable(
        "StringGreaterThan",
        json!("MyStringABC"),
        &[
            (json!("MyStringABD"), true),
            (json!("MyStringABCD"), true),
            (json!("MyStringABC"), false),
            (json!("MyString"), false),
        ],
    );
}

#[test]
fn string_less_than_equals_includes_equality() {
    check_variable(
        "StringLessThanEquals",
        json!("m"),
        &[(json!("m"), true), (json!("a"), true), (json!("z"), false)],
    );
}

#[test]
fn string_greater_than_equals_includes_equality() {
    check_variable(
        "StringGreaterThanEquals",
        json!("m"),
        &[(json!("m"), true), (json!("z"), true), (json!("a"), false)],
    );
}

#[test]
fn strings_compare_by_utf16_code_units_like_java() {
    // U+1F600 is the surrogate pair D83D DE00, which Java orders before
    // U+FF61 although its code point is larger.
    check_variable(
        "StringLessThan",
        json!("\u{FF61}"),
        &[(json!("\u{1F600}"), true)],
    );
    check_variable(
        "StringGreaterThan",
        json!("\u{FF61}"),
        &[(json!("\u{1F600}"), false)],
    );
}

#[test]
fn strings_are_not_normalised() {
    // "é" precomposed against "e" + combining acute.
    check_variable(
        "StringEquals",
        json!("\u{e9}"),
        &[(json!("e\u{301}"), false)],
    );
}

#[test]
fn a_timestamp_is_also_a_string() {
    check_variable(
        "StringEquals",
        json!("2016-03-14T01:59:00Z"),
        &[(json!("2016-03-14T01:59:00Z"), true)],
    );
}

#[test]
fn string_path_forms_compare_two_values() {
    check_path_form(
        "StringEquals",
        &[
            (json!("a"), json!("a"), true),
            (json!("a"), json!("b"), false),
            (json!("1"), json!(1), false),
        ],
    );
    check_path_form(
        "StringLessThan",
        &[
            (json!("a"), json!("b"), true),
            (json!("b"), json!("a"), false),
        ],
    );
    check_path_form(
        "StringGreaterThan",
        &[
            (json!("b"), json!("a"), true),
            (json!("a"), json!("a"), false),
        ],
    );
    check_path_form(
        "StringLessThanEquals",
        &[
            (json!("a"), json!("a"), true),
            (json!("b"), json!("a"), false),
        ],
    );
    check_path_form(
        "StringGreaterThanEquals",
        &[
            (json!("a"), json!("a"), true),
            (json!("a"), json!("b"), false),
        ],
    );
}

// ----- numbers -----

#[test]
fn numeric_equals_compares_integers_and_floats_by_value() {
    check_variable(
        "NumericEquals",
        json!(1),
        &[
            (json!(1), true),
            (json!(1.0), true),
            (json!(1.5), false),
            (json!(-1), false),
            (json!("1"), false),
            (json!(true), false),
        ],
    );
    check_variable(
        "NumericEquals",
        json!(0.5),
        &[(json!(0.5), true), (json!(0), false)],
    );
}

#[test]
fn numeric_less_than() {
    check_variable(
        "NumericLessThan",
        json!(30),
        &[
            (json!(29.999), true),
            (json!(-5), true),
            (json!(30), false),
            (json!(31), false),
        ],
    );
}

#[test]
fn numeric_greater_than() {
    check_variable(
        "NumericGreaterThan",
        json!(2),
        &[
            (json!(2.0000001), true),
            (json!(3), true),
            (json!(2), false),
            (json!(1.99), false),
        ],
    );
}

#[test]
fn numeric_less_than_equals() {
    check_variable(
        "NumericLessThanEquals",
        json!(2.5),
        &[(json!(2.5), true), (json!(2), true), (json!(3), false)],
    );
}

#[test]
fn numeric_greater_than_equals() {
    check_variable(
        "NumericGreaterThanEquals",
        json!(20),
        &[
            (json!(20), true),
            (json!(20.0), true),
            (json!(22), true),
            (json!(19.9), false),
        ],
    );
}

#[test]
fn large_integers_compare_exactly() {
    check_variable(
        "NumericEquals",
        json!(9_007_199_254_740_993_i64),
        &[
            (json!(9_007_199_254_740_993_i64), true),
            (json!(9_007_199_254_740_992_i64), false),
        ],
    );
    check_variable(
        "NumericGreaterThan",
        json!(i64::MAX),
        &[(json!(u64::MAX), true), (json!(i64::MAX), false)],
    );
    check_variable("NumericLessThan", json!(-1), &[(json!(i64::MIN), true)]);
}

#[test]
fn numeric_path_forms_compare_two_values() {
    check_path_form(
        "NumericEquals",
        &[
            (json!(3), json!(3.0), true),
            (json!(3), json!(4), false),
            (json!(3), json!("3"), false),
        ],
    );
    check_path_form(
        "NumericLessThan",
        &[(json!(1), json!(2), true), (json!(2), json!(2), false)],
    );
    check_path_form(
        "NumericGreaterThan",
        &[(json!(3), json!(2), true), (json!(2), json!(2), false)],
    );
    check_path_form(
        "NumericLessThanEquals",
        &[(json!(2), json!(2), true), (json!(3), json!(2), false)],
    );
    check_path_form(
        "NumericGreaterThanEquals",
        &[(json!(2), json!(2), true), (json!(1), json!(2), false)],
    );
}

#[test]
fn numeric_path_can_read_a_workflow_variable() {
    let rule = json!({"Variable": "$.v", "NumericLessThanPath": "$limit"});
    assert!(holds(rule.clone(), json!({"v": 3})));
    assert!(!holds(rule, json!({"v": 10})));
}

// ----- booleans -----

#[test]
fn boolean_equals_matches_only_booleans() {
    check_variable(
        "BooleanEquals",
        json!(true),
        &[
            (json!(true), true),
            (json!(false), false),
            (json!("true"), false),
            (json!(1), false),
        ],
    );
    check_variable(
        "BooleanEquals",
        json!(false),
        &[(json!(false), true), (json!(null), false)],
    );
}

#[test]
fn boolean_equals_path_compares_two_values() {
    check_path_form(
        "BooleanEquals",
        &[
            (json!(true), json!(true), true),
            (json!(false), json!(false), true),
            (json!(true), json!(false), false),
            (json!(true), json!("true"), false),
        ],
    );
}

// ----- timestamps -----

#[test]
fn timestamp_equals_compares_instants_not_text() {
    check_variable(
        "TimestampEquals",
        json!("2025-01-01T12:00:00Z"),
        &[
            (json!("2025-01-01T12:00:00Z"), true),
            (json!("2025-01-01T07:00:00-05:00"), true),
            (json!("2025-01-01T12:00:00.000Z"), true),
            (json!("2025-01-01T12:00:00.001Z"), false),
        ],
    );
}

#[test]
fn timestamp_comparison_with_a_non_timestamp_is_false() {
    check_variable(
        "TimestampEquals",
        json!("2025-01-01T12:00:00Z"),
        &[
            (json!("not-a-timestamp"), false),
            (json!("2025-01-01"), false),
            (json!("2025-01-01t12:00:00z"), false),
            (json!(1_735_732_800), false),
            (json!(null), false),
        ],
    );
}

#[test]
fn timestamp_less_than() {
    check_variable(
        "TimestampLessThan",
        json!("2016-03-14T01:59:00Z"),
        &[
            (json!("2016-03-14T01:58:59.999Z"), true),
            (json!("2016-03-14T01:59:00+00:01"), true),
            (json!("2016-03-14T01:59:00Z"), false),
        ],
    );
}

#[test]
fn timestamp_greater_than() {
    check_variable(
        "TimestampGreaterThan",
        json!("2016-03-14T01:59:00Z"),
        &[
            (json!("2016-03-14T01:59:00.5Z"), true),
            (json!("2016-03-14T01:59:00Z"), false),
        ],
    );
}

#[test]
fn timestamp_less_than_equals() {
    check_variable(
        "TimestampLessThanEquals",
        json!("2016-03-14T01:59:00Z"),
        &[
            (json!("2016-03-14T01:59:00Z"), true),
            (json!("2016-03-13T01:59:00Z"), true),
            (json!("2016-03-15T01:59:00Z"), false),
        ],
    );
}

#[test]
fn timestamp_greater_than_equals() {
    check_variable(
        "TimestampGreaterThanEquals",
        json!("2016-03-14T01:59:00Z"),
        &[
            (json!("2016-03-14T02:59:00+01:00"), true),
            (json!("2016-03-15T01:59:00Z"), true),
            (json!("2016-03-13T01:59:00Z"), false),
        ],
    );
}

#[test]
fn timestamp_path_forms_compare_two_instants() {
    let (early, late) = (json!("2025-01-01T00:00:00Z"), json!("2025-01-02T00:00:00Z"));
    check_path_form(
        "TimestampEquals",
        &[
            (
                json!("2025-01-01T07:00:00.000-05:00"),
                json!("2025-01-01T12:00:00.000Z"),
                true,
            ),
            (early.clone(), late.clone(), false),
            (early.clone(), json!("not-a-timestamp"), false),
        ],
    );
    check_path_form(
        "TimestampLessThan",
        &[
            (early.clone(), late.clone(), true),
            (late.clone(), early.clone(), false),
        ],
    );
    check_path_form(
        "TimestampGreaterThan",
        &[
            (late.clone(), early.clone(), true),
            (early.clone(), early.clone(), false),
        ],
    );
    check_path_form(
        "TimestampLessThanEquals",
        &[
            (early.clone(), early.clone(), true),
            (late.clone(), early.clone(), false),
        ],
    );
    check_path_form(
        "TimestampGreaterThanEquals",
        &[(early.clone(), early.clone(), true), (early, late, false)],
    );
}

#[test]
fn timestamp_path_can_read_the_context_object() {
    let rule =
        json!({"Variable": "$.deadline", "TimestampGreaterThanPath": "$$.Execution.StartTime"});
    assert!(holds(
        rule.clone(),
        json!({"deadline": "2019-03-26T20:14:13.193Z"})
    ));
    assert!(!holds(
        rule,
        json!({"deadline": "2019-03-26T20:14:13.192Z"})
    ));
}

// ----- type tests -----

#[test]
fn is_null_tests_for_json_null() {
    check_variable(
        "IsNull",
        json!(true),
        &[(json!(null), true), (json!(0), false), (json!(""), false)],
    );
    check_variable(
        "IsNull",
        json!(false),
        &[(json!(null), false), (json!({}), true)],
    );
}

#[test]
fn is_numeric_tests_for_numbers() {
    check_variable(
        "IsNumeric",
        json!(true),
        &[(json!(1), true), (json!(1.5), true), (json!("1"), false)],
    );
    check_variable(
        "IsNumeric",
        json!(false),
        &[(json!("1"), true), (json!(-3), false)],
    );
}

#[test]
fn is_string_tests_for_strings() {
    check_variable(
        "IsString",
        json!(true),
        &[
            (json!(""), true),
            (json!("2016-03-14T01:59:00Z"), true),
            (json!(null), false),
        ],
    );
    check_variable(
        "IsString",
        json!(false),
        &[(json!(["a"]), true), (json!("a"), false)],
    );
}

#[test]
fn is_boolean_tests_for_booleans() {
    check_variable(
        "IsBoolean",
        json!(true),
        &[(json!(false), true), (json!("false"), false)],
    );
    check_variable(
        "IsBoolean",
        json!(false),
        &[(json!(0), true), (json!(true), false)],
    );
}

#[test]
fn is_timestamp_tests_for_asl_timestamp_strings() {
    check_variable(
        "IsTimestamp",
        json!(true),
        &[
            (json!("2016-03-14T01:59:00Z"), true),
            (json!("2019-03-26T20:14:13.192Z"), true),
            (json!("2016-03-14T01:59:00-07:00"), true),
            (json!("2016-03-14"), false),
            (json!("2025-01-01T00%3A00%3A00Z"), false),
            (json!("not-a-timestamp"), false),
            (json!(1_735_689_600), false),
            (json!({"iso": "2016-03-14T01:59:00Z"}), false),
        ],
    );
    check_variable(
        "IsTimestamp",
        json!(false),
        &[
            (json!("nope"), true),
            (json!("2016-03-14T01:59:00Z"), false),
        ],
    );
}

#[test]
fn is_present_is_false_for_a_missing_path_instead_of_failing() {
    assert!(!holds(
        json!({"Variable": "$.missing", "IsPresent": true}),
        json!({"v": 1})
    ));
    assert!(holds(
        json!({"Variable": "$.missing", "IsPresent": false}),
        json!({"v": 1})
    ));
}

#[test]
fn is_present_counts_null_as_present() {
    check_variable(
        "IsPresent",
        json!(true),
        &[(json!(null), true), (json!(1), true)],
    );
    check_variable("IsPresent", json!(false), &[(json!(null), false)]);
}

#[test]
fn is_present_sees_nested_fields() {
    let rule = json!({"Variable": "$.detail.result.code", "IsPresent": true});
    assert!(holds(
        rule.clone(),
        json!({"detail": {"result": {"code": "OK"}}})
    ));
    assert!(!holds(rule, json!({"detail": {"result": {}}})));
}

// ----- StringMatches -----

#[test]
fn string_matches_without_wildcards_is_whole_string_equality() {
    check_variable(
        "StringMatches",
        json!("invoice-2025.json"),
        &[
            (json!("invoice-2025.json"), true),
            (json!("invoice-2025.json.bak"), false),
            (json!("my-invoice-2025.json"), false),
        ],
    );
}

#[test]
fn string_matches_star_matches_any_run_including_none() {
    check_variable(
        "StringMatches",
        json!("foo*.log"),
        &[
            (json!("foo23.log"), true),
            (json!("foo.log"), true),
            (json!("fo.log"), false),
        ],
    );
    check_variable(
        "StringMatches",
        json!("*.log"),
        &[(json!("zebra.log"), true), (json!(".log"), true)],
    );
    check_variable(
        "StringMatches",
        json!("foo*.*"),
        &[(json!("foobar.zebra"), true), (json!("foobar"), false)],
    );
    check_variable(
        "StringMatches",
        json!("*"),
        &[(json!(""), true), (json!("anything at all"), true)],
    );
    check_variable(
        "StringMatches",
        json!(""),
        &[(json!(""), true), (json!("a"), false)],
    );
}

#[test]
fn string_matches_backtracks_across_several_stars() {
    check_variable(
        "StringMatches",
        json!("a*b*c"),
        &[
            (json!("aXbYbZc"), true),
            (json!("abc"), true),
            (json!("aXbYcZ"), false),
            (json!("acb"), false),
        ],
    );
    check_variable(
        "StringMatches",
        json!("logs-*-*-done"),
        &[(json!("logs-2025-04-done"), true)],
    );
    check_variable(
        "StringMatches",
        json!("**x**"),
        &[
            (json!("x"), true),
            (json!("abxcd"), true),
            (json!("abc"), false),
        ],
    );
}

#[test]
fn string_matches_escaped_star_is_literal() {
    check_variable(
        "StringMatches",
        json!("file\\*name.txt"),
        &[
            (json!("file*name.txt"), true),
            (json!("file-name.txt"), false),
        ],
    );
}

#[test]
fn string_matches_escaped_backslash_is_literal() {
    check_variable(
        "StringMatches",
        json!("C:\\\\dir\\\\*"),
        &[
            (json!("C:\\dir\\file"), true),
            (json!("C:/dir/file"), false),
        ],
    );
    // An escaped backslash followed by a star: a literal backslash, then a wildcard.
    check_variable(
        "StringMatches",
        json!("a\\\\*"),
        &[(json!("a\\xyz"), true), (json!("a*"), false)],
    );
}

#[test]
fn string_matches_has_no_other_wildcards() {
    check_variable(
        "StringMatches",
        json!("a?c.[x]"),
        &[
            (json!("a?c.[x]"), true),
            (json!("abc.[x]"), false),
            (json!("a?cx"), false),
        ],
    );
}

#[test]
fn string_matches_counts_characters_not_bytes() {
    check_variable(
        "StringMatches",
        json!("h*é"),
        &[(json!("hé"), true), (json!("h😀é"), true)],
    );
}

#[test]
fn string_matches_a_non_string_is_false() {
    check_variable(
        "StringMatches",
        json!("123"),
        &[(json!(123), false), (json!(null), false)],
    );
}

// ----- missing paths -----

#[test]
fn missing_variable_fails_with_the_aws_cause() {
    let failure = evaluate(json!({"Variable": "$.x", "StringEquals": "a"}), json!({})).unwrap_err();
    assert_eq!(
        failure,
        Failure::runtime(
            "Invalid path '$.x': The choice state's condition path references an invalid value."
        )
    );
}

#[test]
fn missing_variable_fails_under_every_type_test_but_is_present() {
    for operator in [
        "IsNull",
        "IsNumeric",
        "IsString",
        "IsBoolean",
        "IsTimestamp",
    ] {
        for flag in [true, false] {
            let failure =
                evaluate(json!({"Variable": "$.missing", operator: flag}), json!({})).unwrap_err();
            assert!(failure.is_runtime(), "{operator}: {failure}");
        }
    }
}

#[test]
fn missing_operand_path_fails_naming_that_path() {
    let failure = evaluate(
        json!({"Variable": "$.left", "TimestampEqualsPath": "$.right"}),
        json!({"left": "2025-01-01T12:00:00Z"}),
    )
    .unwrap_err();
    assert_eq!(
        failure.cause,
        "Invalid path '$.right': The choice state's condition path references an invalid value."
    );
    assert!(failure.is_runtime());
}

#[test]
fn missing_variable_is_reported_before_a_missing_operand_path() {
    let failure = evaluate(
        json!({"Variable": "$.left", "NumericEqualsPath": "$.right"}),
        json!({}),
    )
    .unwrap_err();
    assert!(
        failure.cause.starts_with("Invalid path '$.left'"),
        "{failure}"
    );
}

#[test]
fn missing_path_under_not_still_fails() {
    let failure = evaluate(
        json!({"Not": {"Variable": "$.x", "NumericEquals": 1}}),
        json!({}),
    )
    .unwrap_err();
    assert!(failure.is_runtime());
}

// ----- combinators -----

#[test]
fn and_needs_every_rule() {
    let rule = json!({"And": [
        {"Variable": "$.value", "NumericGreaterThanEquals": 20},
        {"Variable": "$.value", "NumericLessThan": 30}
    ]});
    assert!(holds(rule.clone(), json!({"value": 22})));
    assert!(!holds(rule.clone(), json!({"value": 30})));
    assert!(!holds(rule, json!({"value": 19})));
}

#[test]
fn or_needs_any_rule() {
    let rule = json!({"Or": [
        {"Variable": "$.region", "StringEquals": "us-east-1"},
        {"Variable": "$.region", "StringEquals": "us-west-2"}
    ]});
    assert!(holds(rule.clone(), json!({"region": "us-west-2"})));
    assert!(!holds(rule, json!({"region": "eu-west-1"})));
}

#[test]
fn not_inverts_its_rule() {
    let rule = json!({"Not": {"Variable": "$.type", "StringEquals": "Private"}});
    assert!(!holds(rule.clone(), json!({"type": "Private"})));
    assert!(holds(rule, json!({"type": "Public"})));
}

#[test]
fn and_stops_at_the_first_false_rule() {
    let rule = json!({"And": [
        {"Variable": "$.a", "BooleanEquals": true},
        {"Variable": "$.missing", "BooleanEquals": true}
    ]});
    assert_eq!(evaluate(rule.clone(), json!({"a": false})), Ok(false));
    assert!(evaluate(rule, json!({"a": true})).unwrap_err().is_runtime());
}

#[test]
fn or_stops_at_the_first_true_rule() {
    let rule = json!({"Or": [
        {"Variable": "$.a", "BooleanEquals": true},
        {"Variable": "$.missing", "BooleanEquals": true}
    ]});
    assert_eq!(evaluate(rule.clone(), json!({"a": true})), Ok(true));
    assert!(evaluate(rule, json!({"a": false}))
        .unwrap_err()
        .is_runtime());
}

#[test]
fn combinators_nest() {
    let rule = json!({"And": [
        {"Variable": "$.value", "StringMatches": "D"},
        {"Not": {"Or": [
            {"Variable": "$.other", "NumericEquals": 1},
            {"And": [
                {"Variable": "$.flag", "IsPresent": true},
                {"Variable": "$.flag", "BooleanEquals": true}
            ]}
        ]}}
    ]});
    assert!(holds(rule.clone(), json!({"value": "D", "other": 2})));
    assert!(holds(
        rule.clone(),
        json!({"value": "D", "other": 2, "flag": false})
    ));
    assert!(!holds(
        rule.clone(),
        json!({"value": "D", "other": 2, "flag": true})
    ));
    assert!(!holds(rule, json!({"value": "D", "other": 1})));
}

#[test]
fn nesting_up_to_the_cap_parses_and_evaluates() {
    let mut rule = json!({"Variable": "$.v", "IsPresent": true});
    for _ in 0..MAX_NESTING {
        rule = json!({"Not": rule});
    }
    // An even number of Nots cancels out.
    assert_eq!(MAX_NESTING % 2, 0);
    assert!(holds(rule, json!({"v": 1})));
}

// ----- parsing -----

#[test]
fn top_level_next_assign_and_comment_are_ignored() {
    check_errors(
        json!({"Variable": "$.v", "StringEquals": "a", "Next": "Done", "Assign": {"x": 1}, "Comment": "why"}),
        expect![""],
    );
}

#[test]
fn parsing_the_same_rule_twice_gives_equal_conditions() {
    let rule = json!({"Or": [{"Variable": "$.v", "TimestampEquals": "2016-03-14T01:59:00Z"}]});
    assert_eq!(parse(&rule), parse(&rule));
    assert_ne!(
        parse(&rule),
        parse(&json!({"Variable": "$.v", "IsNull": true}))
    );
}

#[test]
fn rule_must_be_an_object() {
    check_errors(
        json!(["Variable"]),
        expect![[r#"
                /States/Route/Choices/0: expected a choice rule object
            "#]],
    );
}

#[test]
fn literal_operands_are_type_checked() {
    check_errors(
        json!({"And": [
            {"Variable": "$.v", "StringEquals": 1},
            {"Variable": "$.v", "StringLessThanEquals": null},
            {"Variable": "$.v", "NumericEquals": "1"},
            {"Variable": "$.v", "NumericGreaterThan": [1]},
            {"Variable": "$.v", "BooleanEquals": "true"},
            {"Variable": "$.v", "TimestampEquals": 1_457_920_740},
            {"Variable": "$.v", "TimestampLessThan": "2016-03-14"},
            {"Variable": "$.v", "StringMatches": 5},
            {"Variable": "$.v", "IsNull": "yes"},
            {"Variable": "$.v", "IsPresent": 1}
        ]}),
        expect![[r#"
                /States/Route/Choices/0/And/0/StringEquals: expected a string
                /States/Route/Choices/0/And/1/StringLessThanEquals: expected a string
                /States/Route/Choices/0/And/2/NumericEquals: expected a number
                /States/Route/Choices/0/And/3/NumericGreaterThan: expected a number
                /States/Route/Choices/0/And/4/BooleanEquals: expected a boolean
                /States/Route/Choices/0/And/5/TimestampEquals: expected a timestamp string
                /States/Route/Choices/0/And/6/TimestampLessThan: invalid timestamp '2016-03-14': expected RFC 3339 with an uppercase T and Z or an offset, e.g. 2016-03-14T01:59:00Z
                /States/Route/Choices/0/And/7/StringMatches: expected a string
                /States/Route/Choices/0/And/8/IsNull: expected a boolean
                /States/Route/Choices/0/And/9/IsPresent: expected a boolean
            "#]],
    );
}

#[test]
fn path_operands_must_be_strings() {
    check_errors(
        json!({"Variable": 7, "NumericEqualsPath": 3}),
        expect![[r#"
                /States/Route/Choices/0/Variable: expected a reference path string
                /States/Route/Choices/0/NumericEqualsPath: expected a reference path string
            "#]],
    );
}

#[test]
fn comparison_needs_a_variable() {
    check_errors(
        json!({"NumericEquals": 1, "Next": "Done"}),
        expect![[r#"
                /States/Route/Choices/0: missing Variable: a comparison needs the path of the value to test
            "#]],
    );
}

#[test]
fn boolean_expression_must_not_have_a_variable() {
    check_errors(
        json!({"Variable": "$.v", "Not": {"Variable": "$.v", "IsNull": true}}),
        expect![[r#"
                /States/Route/Choices/0/Variable: a boolean expression (Not) must not have a Variable
            "#]],
    );
}

#[test]
fn rule_needs_an_operator() {
    check_errors(
        json!({"Variable": "$.v", "Next": "Done"}),
        expect![[r#"
                /States/Route/Choices/0: expected exactly one operator (a comparison such as StringEquals, or And, Or, Not)
            "#]],
    );
    check_errors(
        json!({}),
        expect![[r#"
                /States/Route/Choices/0: expected exactly one operator (a comparison such as StringEquals, or And, Or, Not)
            "#]],
    );
}

#[test]
fn rule_must_not_have_two_operators() {
    check_errors(
        json!({"Variable": "$.v", "StringEquals": "1", "NumericGreaterThan": "0"}),
        expect![[r#"
                /States/Route/Choices/0: expected exactly one operator, found StringEquals, NumericGreaterThan
                /States/Route/Choices/0/NumericGreaterThan: expected a number
            "#]],
    );
    check_errors(
        json!({"And": [{"Variable": "$.v", "IsNull": true}], "Or": [{"Variable": "$.v", "IsNull": true}]}),
        expect![[r#"
                /States/Route/Choices/0: expected exactly one operator, found And, Or
            "#]],
    );
}

#[test]
fn unknown_fields_are_reported_with_escaped_pointers() {
    check_errors(
        json!({"Variable": "$.v", "StringEquals": "a", "stringequals": "a", "a/b~c": 1, "Condition": "{% true %}"}),
        expect![[r#"
                /States/Route/Choices/0/stringequals: unknown field
                /States/Route/Choices/0/a~1b~0c: unknown field
                /States/Route/Choices/0/Condition: unknown field
            "#]],
    );
}

#[test]
fn operators_without_a_path_form_reject_the_path_suffix() {
    check_errors(
        json!({"Or": [
            {"Variable": "$.v", "StringMatchesPath": "$.w"},
            {"Variable": "$.v", "IsNullPath": "$.w"},
            {"Variable": "$.v", "AndPath": "$.w"}
        ]}),
        expect![[r#"
                /States/Route/Choices/0/Or/0/StringMatchesPath: unknown field
                /States/Route/Choices/0/Or/0: expected exactly one operator (a comparison such as StringEquals, or And, Or, Not)
                /States/Route/Choices/0/Or/1/IsNullPath: unknown field
                /States/Route/Choices/0/Or/1: expected exactly one operator (a comparison such as StringEquals, or And, Or, Not)
                /States/Route/Choices/0/Or/2/AndPath: unknown field
                /States/Route/Choices/0/Or/2: expected exactly one operator (a comparison such as StringEquals, or And, Or, Not)
            "#]],
    );
}

#[test]
fn and_and_or_need_non_empty_arrays_of_rules() {
    check_errors(
        json!({"And": []}),
        expect![[r#"
                /States/Route/Choices/0/And: expected a non-empty array of choice rules
            "#]],
    );
    check_errors(
        json!({"Or": {"Variable": "$.v", "IsNull": true}}),
        expect![[r#"
                /States/Route/Choices/0/Or: expected a non-empty array of choice rules
            "#]],
    );
    check_errors(
        json!({"Or": [{"Variable": "$.v", "IsNull": true}, "IsNull"]}),
        expect![[r#"
                /States/Route/Choices/0/Or/1: expected a choice rule object
            "#]],
    );
}

#[test]
fn not_needs_one_rule_object() {
    check_errors(
        json!({"Not": [{"Variable": "$.v", "IsNull": true}]}),
        expect![[r#"
                /States/Route/Choices/0/Not: expected a choice rule object
            "#]],
    );
    check_errors(
        json!({"Not": {"Or": []}}),
        expect![[r#"
                /States/Route/Choices/0/Not/Or: expected a non-empty array of choice rules
            "#]],
    );
}

#[test]
fn nested_rules_must_not_have_next_or_assign() {
    check_errors(
        json!({"And": [{"Variable": "$.v", "IsNull": true, "Next": "X", "Assign": {}}], "Next": "Y"}),
        expect![[r#"
                /States/Route/Choices/0/And/0/Next: Next is only allowed in a top-level choice rule
                /States/Route/Choices/0/And/0/Assign: Assign is only allowed in a top-level choice rule
            "#]],
    );
}

#[test]
fn comment_must_be_a_string() {
    check_errors(
        json!({"Not": {"Variable": "$.v", "IsNull": true, "Comment": 3}}),
        expect![[r#"
                /States/Route/Choices/0/Not/Comment: expected a string
            "#]],
    );
}

#[test]
fn every_problem_in_a_nested_rule_is_reported() {
    check_errors(
        json!({"And": [
            {"Variable": "$.v", "NumericEquals": 1},
            {"Variable": "$.v", "NumericEquals": "one"},
            {"Or": [{"Not": {"StringEquals": 3}}, {"Variable": "$.v", "Bogus": 1, "IsString": true}]}
        ]}),
        expect![[r#"
                /States/Route/Choices/0/And/1/NumericEquals: expected a number
                /States/Route/Choices/0/And/2/Or/0/Not: missing Variable: a comparison needs the path of the value to test
                /States/Route/Choices/0/And/2/Or/0/Not/StringEquals: expected a string
                /States/Route/Choices/0/And/2/Or/1/Bogus: unknown field
            "#]],
    );
}

#[test]
fn string_matches_rejects_open_escapes() {
    check_errors(
        json!({"Or": [
            {"Variable": "$.v", "StringMatches": "a\\b"},
            {"Variable": "$.v", "StringMatches": "trailing\\"}
        ]}),
        expect![[r#"
                /States/Route/Choices/0/Or/0/StringMatches: open escape in pattern 'a\b': a backslash must be followed by * or \
                /States/Route/Choices/0/Or/1/StringMatches: open escape in pattern 'trailing\': a backslash must be followed by * or \
            "#]],
    );
}

#[test]
fn nesting_beyond_the_cap_is_an_error() {
    let mut rule = json!({"Variable": "$.v", "IsPresent": true});
    for _ in 0..MAX_NESTING + 5 {
        rule = json!({"Not": rule});
    }
    let mut errors = Vec::new();
    assert_eq!(Condition::parse(&rule, POINTER, &mut errors), None);
    let expected_pointer = format!("{POINTER}{}", "/Not".repeat(MAX_NESTING + 1));
    assert_eq!(
        errors,
        vec![DefinitionError::new(
            expected_pointer,
            "choice rules nest more than 64 levels deep"
        )]
    );
}

#[test]
fn variable_must_be_a_reference_path() {
    // Waits on path.rs: its interface stub accepts any text.
    let mut errors = Vec::new();
    let rule = json!({"Variable": "status", "StringEquals": "READY"});
    assert_eq!(Condition::parse(&rule, POINTER, &mut errors), None);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].pointer, format!("{POINTER}/Variable"));
    assert!(
        errors[0]
            .message
            .starts_with("invalid reference path 'status'"),
        "{}",
        errors[0]
    );

    let mut errors = Vec::new();
    let rule = json!({"Variable": "$.items[*].id", "IsPresent": true});
    assert_eq!(
        Condition::parse(&rule, POINTER, &mut errors),
        None,
        "a wildcard is no reference path"
    );
    assert_eq!(errors[0].pointer, format!("{POINTER}/Variable"));

    let mut errors = Vec::new();
    let rule = json!({"Variable": "$.v", "NumericEqualsPath": "$..n"});
    assert_eq!(
        Condition::parse(&rule, POINTER, &mut errors),
        None,
        "descent is no reference path"
    );
    assert_eq!(errors[0].pointer, format!("{POINTER}/NumericEqualsPath"));
}

// ----- properties -----

/// Every key a rule may hold, plus the `...Path` forms that do not exist.
fn rule_keys() -> Vec<String> {
    let mut keys: Vec<String> = [
        "Variable",
        "Next",
        "Assign",
        "Comment",
        "And",
        "Or",
        "Not",
        "StringMatches",
    ]
    .iter()
    .map(|key| key.to_string())
    .collect();
    for (name, _) in TYPE_CHECKS {
        keys.push(name.to_string());
        keys.push(format!("{name}Path"));
    }
    for (name, _, _) in COMPARISONS {
        keys.push(name.to_string());
        keys.push(format!("{name}Path"));
    }
    keys
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        prop::sample::select(vec![
            "$",
            "$.v",
            "$.w",
            "$.a.b",
            "$$.Execution.StartTime",
            "$limit",
            "v",
            "$.items[0]",
            "",
            "2016-03-14T01:59:00Z",
            "2019-03-26T20:14:13.192+05:30",
            "a*b",
            "\\*",
            "\\\\",
            "\\",
            "*",
        ])
        .prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ];
    let keys = rule_keys();
    leaf.prop_recursive(6, 48, 5, move |inner| {
        let key = prop_oneof![
            6 => prop::sample::select(keys.clone()),
            1 => "[A-Za-z/~]{0,8}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..5)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn parse_never_panics_and_evaluates_without_panicking(rule in json_value(), input in json_value()) {
        let mut errors = Vec::new();
        let parsed = Condition::parse(&rule, POINTER, &mut errors);
        prop_assert_eq!(parsed.is_none(), !errors.is_empty());
        for error in &errors {
            prop_assert!(error.pointer.starts_with(POINTER), "{}", error);
        }
        if let Some(condition) = parsed {
            let context = json!({"Execution": {"StartTime": "2019-03-26T20:14:13.192Z"}});
            let variables = Map::new();
            let _ = condition.evaluate(&Scope::new(&input, &context, &variables));
        }
    }

    #[test]
    fn star_pattern_matches_what_it_contains(prefix in ".{0,6}", middle in ".{0,6}", suffix in ".{0,6}") {
        let escape = |text: &str| text.replace('\\', "\\\\").replace('*', "\\*");
        let pattern = Pattern::compile(&format!("{}*{}", escape(&prefix), escape(&suffix))).unwrap();
        let text = format!("{prefix}{middle}{suffix}");
        prop_assert!(pattern.matches(&text));
        let exact = Pattern::compile(&escape(&text)).unwrap();
        prop_assert!(exact.matches(&text));
    }
}
