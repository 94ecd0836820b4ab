//! Unit tests of the JSONata side of ASL: which strings are expressions,
//! how a template names the field of a failing expression, and AWS's added
//! functions.

use super::functions;
use super::*;
use crate::SplitMix64;
use serde_json::json;

fn template(value: Value, place: Place) -> Template {
    let mut errors = Vec::new();
    let t = Template::parse(&value, "/States/S/Output", place, &mut errors);
    assert!(errors.is_empty(), "{errors:?}");
    t
}

fn eval(t: &Template, input: Value) -> Result<Value, Failure> {
    let context = json!({"State": {"Name": "S", "EnteredTime": "2024-01-02T03:04:05.678Z"}});
    let variables = Map::new();
    let states = States {
        input: &input,
        result: None,
        error_output: None,
        context: &context,
        variables: &variables,
    };
    t.eval(&states, "Output", &mut SplitMix64(1))
}

#[test]
fn only_strings_wrapped_in_percent_braces_are_expressions() {
    assert_eq!(query_text("{% 1 %}"), Some(" 1 "));
    assert_eq!(query_text(" {% 1 %}"), None);
    assert_eq!(query_text("{% 1 %} "), None);
    assert_eq!(query_text("$.a"), None);
}

#[test]
fn a_failing_expression_is_named_by_its_field() {
    let t = template(
        json!({"a": {"b": [1, "{% $states.input.none %}"]}}),
        Place::AfterInput,
    );
    let failure = eval(&t, json!({})).unwrap_err();
    assert_eq!(failure.error, "States.QueryEvaluationError");
    assert_eq!(
        failure.cause,
        "The JSONata expression '$states.input.none' specified for the field 'Output/a/b[1]' returned nothing (undefined)."
    );
}

#[test]
fn now_is_the_states_entered_time() {
    let t = template(json!("{% $millis() %}"), Place::AfterInput);
    assert_eq!(eval(&t, json!({})).unwrap(), json!(1_704_164_645_678i64));
}

#[test]
fn literal_subtrees_are_kept_as_written() {
    let t = template(
        json!({"a": [1, {"b": "$.x"}], "c": "{% 2 %}"}),
        Place::Before,
    );
    assert_eq!(
        eval(&t, json!({})).unwrap(),
        json!({"a": [1, {"b": "$.x"}], "c": 2})
    );
}

#[test]
fn aws_functions_follow_the_documented_edges() {
    let v = |args: Value| args.as_array().cloned().unwrap_or_default();
    assert_eq!(
        functions::partition(&v(json!([[1, 2, 3, 4, 5], 2.9]))).unwrap(),
        Some(json!([[1, 2], [3, 4], [5]]))
    );
    assert_eq!(functions::partition(&v(json!([[], 2]))).unwrap(), None);
    assert_eq!(functions::partition(&v(json!([[1], 0]))).unwrap(), None);
    assert_eq!(
        functions::range(&v(json!([-1.7, 2, 1]))).unwrap(),
        Some(json!([-1, 0, 1, 2]))
    );
    assert_eq!(
        functions::range(&v(json!([5, 5, 1]))).unwrap(),
        Some(json!(5))
    );
    assert_eq!(functions::range(&v(json!([0, 5, -1]))).unwrap(), None);
    assert_eq!(functions::range(&v(json!([0, 5]))).unwrap(), None);
    assert_eq!(functions::hash(&v(json!(["abc"]))).unwrap(), None);
    assert_eq!(
        functions::hash(&v(json!(["abc", "SHA-1"]))).unwrap(),
        Some(json!("a9993e364706816aba3e25717850c26c9cd0d89d"))
    );
    assert!(functions::hash(&v(json!(["abc", "sha-1"]))).is_err());
    assert_eq!(
        functions::parse(&v(json!(["[1, {\"a\": null}]"]))).unwrap(),
        Some(json!([1, {"a": null}]))
    );
    let a = functions::random(&v(json!([42])), &mut SplitMix64(1)).unwrap();
    let b = functions::random(&v(json!([42])), &mut SplitMix64(2)).unwrap();
    assert_eq!(
        a, b,
        "a seeded draw does not depend on the execution's entropy"
    );
    let uuid = functions::uuid(&mut SplitMix64(3)).unwrap().unwrap();
    let uuid = uuid.as_str().unwrap();
    assert_eq!(uuid.len(), 36);
    assert_eq!(&uuid[14..15], "4");
}

#[test]
fn an_expression_past_the_limits_fails_the_state_naming_the_field() {
    // Non-tail recursion deeper than the depth limit, and a tail-recursive
    // loop that never ends: both U1001, both the same on every run.
    let cases = [
        (
            "($f := function($n) { $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000))",
            "U1001: Stack overflow error",
        ),
        (
            "($f := function($n) { $f($n + 1) }; $f(0))",
            "U1001: Expression evaluation timeout",
        ),
    ];
    for (src, want) in cases {
        let t = template(json!({"v": format!("{{% {src} %}}")}), Place::AfterInput);
        for _ in 0..2 {
            let failure = eval(&t, json!({})).unwrap_err();
            assert_eq!(failure.error, "States.QueryEvaluationError", "{src}");
            let prefix = format!(
                "The JSONata expression '{src}' specified for the field 'Output/v' threw an error during evaluation. {want}"
            );
            assert!(failure.cause.starts_with(&prefix), "{}", failure.cause);
        }
    }
}
