//! Fuzzing the expression languages: JSONPath parsed and evaluated against
//! random and very deep documents, intrinsic calls (nested, with huge
//! ranges, long strings and every codec at and over its limit) and Choice
//! rules, each at and past its nesting limit.

use super::json_len;
use crate::choice::{self, Condition};
use crate::intrinsic::Intrinsic;
use crate::path::{self, apply_result_path, Path};
use crate::{Scope, SplitMix64};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use zoomvault_fuzz::{check, linear};

/// A JSON document with awkward leaves: huge and tiny numbers, long and
/// odd strings, keys that look like path syntax.
fn document() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        4 => prop::sample::select(vec!["a", "b", "c", "", "0", "a.b", "$", "@", "'", "*"]).prop_map(str::to_owned),
        1 => "\\PC{0,6}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop::num::f64::NORMAL.prop_map(Value::from),
        Just(json!(1.7976931348623157e308)),
        Just(json!(5e-324)),
        "\\PC{0,8}".prop_map(Value::String),
        Just(Value::String("x".repeat(20_000))),
    ];
    leaf.prop_recursive(6, 64, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..5)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// Path text built from the grammar's tokens, often valid.
fn path_text() -> impl Strategy<Value = String> {
    let step = prop_oneof![
        Just(".a".to_owned()),
        Just(".b".to_owned()),
        Just("..a".to_owned()),
        Just("..*".to_owned()),
        Just(".*".to_owned()),
        Just("[*]".to_owned()),
        Just("[0]".to_owned()),
        Just("[-1]".to_owned()),
        Just("[0,1,0]".to_owned()),
        Just("[1:]".to_owned()),
        Just("[:-1]".to_owned()),
        Just("['a','b']".to_owned()),
        Just("[?(@.a)]".to_owned()),
        Just("[?(@.a > 1 || !(@.b == 'x'))]".to_owned()),
        Just("[?(@..a == $.c)]".to_owned()),
        Just("[9223372036854775807]".to_owned()),
        Just("[-9223372036854775808]".to_owned()),
        Just("[99999999999999999999]".to_owned()),
        Just("[?(@.a == 1e400)]".to_owned()),
        "[\\[\\]().*?@$'\",:!<=>&| a0-9-]{1,6}",
    ];
    (
        prop_oneof![Just("$"), Just("$$"), Just("$a"), Just("$nope"), Just("")],
        prop::collection::vec(step, 0..8),
    )
        .prop_map(|(root, steps)| format!("{root}{}", steps.concat()))
}

/// An evaluation holds references to what it selects, and clones of them
/// for the result: a filter or deep scan can select a node and all of its
/// descendants, so the budget allows the document many times over.
fn path_budget((text, document): &(String, Value)) -> usize {
    linear(text.len() + json_len(document), 512, 1024 * 1024)
}

/// 2000 cases: paths from grammar tokens, parsed as paths and reference
/// paths, evaluated against random documents and written as ResultPaths.
#[test]
fn fuzz_path_parse_and_evaluate() {
    check(
        2000,
        || (path_text(), document()),
        path_budget,
        |(text, document)| {
            let _ = Path::parse_reference(&text);
            let Ok(path) = Path::parse(&text) else {
                return Ok(());
            };
            let context = json!({"Execution": {"Id": "e"}});
            let mut variables = Map::new();
            variables.insert("a".into(), document.clone());
            let scope = Scope::new(&document, &context, &variables);
            let _ = path.eval(&scope);
            let _ = path.lookup(&scope);
            if path.is_reference() {
                let _ = apply_result_path(document.clone(), &path, json!("r"));
            }
            Ok(())
        },
    );
}

/// 2000 cases: any text at all is refused or parsed, never a panic.
#[test]
fn fuzz_path_random_text() {
    check(
        2000,
        || "\\PC{0,60}|[$@.\\[\\]*?()'\"\\\\a0-9:,<>=!&| -]{0,80}",
        |text| linear(text.len(), 256, 64 * 1024),
        |text| {
            let _ = Path::parse(&text);
            let _ = Path::parse_reference(&text);
            Ok(())
        },
    );
}

/// A chain of `depth` objects, `{"a": {"a": ... 1}}`, built as a value
/// (JSON text stops at 128 levels; data a workflow builds does not).
fn chain(depth: usize) -> Value {
    let mut value = json!(1);
    for _ in 0..depth {
        value = Value::Object(Map::from_iter([("a".to_owned(), value)]));
    }
    value
}

/// Filters, parentheses and `!` nest at most [`path::MAX_NESTING`] levels:
/// right at the limit a path parses, one over it is refused with a message
/// saying so, and thousands over it are refused the same way, without
/// recursing that deep.
#[test]
fn fuzz_path_nesting_at_and_over_the_limit() {
    check(
        1,
        || Just(()),
        |_| 8 * 1024 * 1024,
        |()| {
            let nested = |depth: usize| {
                format!(
                    "$[?({}@.a{})]",
                    "(".repeat(depth - 1),
                    ")".repeat(depth - 1)
                )
            };
            prop_assert!(Path::parse(&nested(path::MAX_NESTING)).is_ok());
            for depth in [path::MAX_NESTING + 1, 5000] {
                let error = Path::parse(&nested(depth)).expect_err("too deep");
                prop_assert!(error.contains("nest more than 64 levels"), "{error}");
            }
            let negated = format!("$[?({}@.a)]", "!".repeat(5000));
            prop_assert!(Path::parse(&negated).is_err());
            Ok(())
        },
    );
}

/// Deep scans and filters over a document 5000 levels deep (which only a
/// workflow, not JSON text, can build) run without recursion. The paths
/// select shallow values: cloning a deep one is serde_json's recursion,
/// not this module's.
#[test]
fn fuzz_path_evaluates_over_a_document_5000_levels_deep() {
    check(
        1,
        || Just(()),
        |_| 64 * 1024 * 1024,
        |()| {
            let document = chain(5000);
            let (context, variables) = (json!({}), Map::new());
            let scope = Scope::new(&document, &context, &variables);
            for text in [
                "$..[?(@.a == 1)]",
                "$.a.a.a..[?(@.a > 0)]",
                "$..b",
                "$..[?(@..b)]",
            ] {
                let path = Path::parse(text).map_err(TestCaseError::fail)?;
                let found = path
                    .eval(&scope)
                    .map_err(|f| TestCaseError::fail(f.cause))?;
                let expected = if text.contains('b') {
                    json!([])
                } else {
                    json!([{"a": 1}])
                };
                prop_assert_eq!(found, expected, "{}", text);
            }
            flatten_drop(document);
            Ok(())
        },
    );
}

/// A document as deep as JSON text allows, with a few branches on the way,
/// and a path of chained scans and wildcards over it.
fn deep_document_and_scans() -> impl Strategy<Value = (usize, usize, Vec<&'static str>)> {
    (
        1usize..=127,
        0usize..4,
        prop::collection::vec(
            prop::sample::select(vec!["..*", "..a", "..b", ".*", "[*]", ".a", "..[?(@.a)]"]),
            1..7,
        ),
    )
}

/// `depth` objects nested under `a`, each also holding `width` numbers
/// under `b`.
fn branching_chain(depth: usize, width: usize) -> Value {
    let mut value = json!(1);
    for _ in 0..depth {
        value = Value::Object(Map::from_iter([
            ("a".to_owned(), value),
            (
                "b".to_owned(),
                Value::Array((0..width).map(Value::from).collect()),
            ),
        ]));
    }
    value
}

/// 128 cases: chained deep scans over documents up to 127 levels deep
/// select at most [`path::MAX_SELECTED_VALUES`] values and copy at most as
/// many, failing with `States.Runtime` when they would select more. That
/// is the bound on their heap: about 250 bytes per copied value in a debug
/// build (an object's map and key), so 96 MiB, whatever the document.
#[test]
fn fuzz_path_chained_scans_over_deep_documents() {
    check(
        128,
        deep_document_and_scans,
        |_| 96 * 1024 * 1024,
        |(depth, width, steps)| {
            let document = branching_chain(depth, width);
            let text = format!("${}", steps.concat());
            let path = Path::parse(&text).map_err(TestCaseError::fail)?;
            let (context, variables) = (json!({}), Map::new());
            if let Err(failure) = path.eval(&Scope::new(&document, &context, &variables)) {
                prop_assert_eq!(failure.error.as_str(), "States.Runtime");
            }
            Ok(())
        },
    );
}

/// Found by `fuzz_path_chained_scans_over_deep_documents`: each `..*`
/// selected every node below each node the previous one selected, so five
/// of them over a 128-level chain (768 bytes of JSON) went for billions of
/// references and copies. The evaluation now stops at
/// [`path::MAX_SELECTED_VALUES`]. (Inside a filter, a query over the limit
/// selects nothing; the property above covers filters.)
#[test]
fn chained_deep_scans_stop_at_the_selection_limit() {
    let document = chain(127);
    let (context, variables) = (json!({}), Map::new());
    let scope = Scope::new(&document, &context, &variables);
    for text in ["$..*..*..*..*..*", "$..*..*..*"] {
        let path = Path::parse(text).expect("a valid path");
        let (result, peak) = zoomvault_fuzz::measure(|| path.eval(&scope));
        let failure = result.expect_err("selects too much");
        assert_eq!(
            failure.cause,
            format!("Invalid path '{text}' : it selects more than 262144 values")
        );
        assert!(peak < 64 * 1024 * 1024, "{text}: {peak} bytes");
    }
    // One scan is fine.
    let path = Path::parse("$..*").expect("a valid path");
    assert_eq!(
        path.eval(&scope).map(|v| v.as_array().map(Vec::len)),
        Ok(Some(127))
    );
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

// --- intrinsic functions ---------------------------------------------------

const FUNCTIONS: &[&str] = &[
    "States.Format",
    "States.StringToJson",
    "States.JsonToString",
    "States.Array",
    "States.ArrayPartition",
    "States.ArrayContains",
    "States.ArrayRange",
    "States.ArrayGetItem",
    "States.ArrayLength",
    "States.ArrayUnique",
    "States.Base64Encode",
    "States.Base64Decode",
    "States.Hash",
    "States.JsonMerge",
    "States.MathRandom",
    "States.MathAdd",
    "States.StringSplit",
    "States.UUID",
    "States.Nope",
];

/// The data calls read: long strings at and over the codec limit, big
/// arrays, numbers at the ends of every range.
fn intrinsic_input() -> Value {
    json!({
        "s": "a,b,,c",
        "long": "x".repeat(10_000),
        "tooLong": "x".repeat(10_001),
        "commas": ",".repeat(50_000),
        "json": "{\"a\": [1, 2, {\"b\": null}]}",
        "deepJson": format!("{}{}", "[".repeat(127), "]".repeat(127)),
        "tooDeepJson": format!("{}{}", "[".repeat(200), "]".repeat(200)),
        "b64": "SGVsbG8=",
        "array": (0..1000).collect::<Vec<_>>(),
        "objects": [{"a": 1}, {"a": 1}, {"b": [1]}],
        "big": 9_007_199_254_740_993u64,
        "huge": 1e308,
        "negative": -2_147_483_648i64,
        "algorithm": "SHA-512",
        "template": "{}{}{}\\{\\}",
    })
}

fn argument(call: BoxedStrategy<String>) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "$.s", "$.long", "$.tooLong", "$.commas", "$.json", "$.deepJson", "$.tooDeepJson",
            "$.b64", "$.array", "$.objects", "$.big", "$.huge", "$.negative", "$.algorithm",
            "$.template", "$", "$$", "$.missing", "$.array[?(@ > 500)]", "$..a",
            "'a,b'", "','", "''", "'{}'", "'\\{\\}'", "'\\''", "'SHA-1'", "'MD5'", "'nope'",
            "0", "1", "-1", "1000", "1001", "2147483647", "-2147483649", "9223372036854775807",
            "99999999999999999999999", "1e400", "-0.0", "0.5", "true", "null",
        ])
        .prop_map(str::to_owned),
        1 => "[$'.,a-z0-9(){}\\\\ -]{0,10}",
        2 => call,
    ]
}

/// Calls nested a few deep, most of them real functions.
fn call_text() -> impl Strategy<Value = String> {
    let leaf = Just("States.UUID()".to_owned()).boxed();
    leaf.prop_recursive(4, 16, 4, |inner| {
        (
            prop::sample::select(FUNCTIONS),
            prop::collection::vec(argument(inner), 0..5),
            prop::sample::select(vec![", ", ",", " , "]),
        )
            .prop_map(|(name, args, separator)| format!("{name}({})", args.join(separator)))
            .boxed()
    })
}

/// An intrinsic's result is bounded by the range limit (1000 items), the
/// codec limit and its input, so its heap is a small multiple of the input
/// (about 160 KiB of JSON here) per call, and a field has at most 10 calls.
fn intrinsic_budget(text: &str) -> usize {
    linear(text.len(), 1024, 48 * 1024 * 1024)
}

fn evaluate(call: &Intrinsic) -> Result<Value, crate::Failure> {
    let input = intrinsic_input();
    let context = json!({"Execution": {"Id": "e"}});
    let variables = Map::new();
    call.eval(
        &Scope::new(&input, &context, &variables),
        &mut SplitMix64(7),
    )
}

/// 1500 cases: nested calls of every function with awkward arguments parse
/// or are refused, and evaluate or fail, within the heap budget; a range
/// never holds more than 1000 items.
#[test]
fn fuzz_intrinsic_nested_calls() {
    check(
        1500,
        call_text,
        |text| intrinsic_budget(text),
        |text| {
            let Ok(call) = Intrinsic::parse(&text) else {
                return Ok(());
            };
            if let Ok(value) = evaluate(&call) {
                if text.starts_with("States.ArrayRange(") {
                    prop_assert!(value.as_array().is_some_and(|items| items.len() <= 1000));
                }
            }
            Ok(())
        },
    );
}

/// 2000 cases: any text, and text of intrinsic-shaped bytes.
#[test]
fn fuzz_intrinsic_random_text() {
    check(
        2000,
        || "\\PC{0,40}|States\\.[A-Za-z]{0,12}\\([$'.,a-z0-9(){}\\\\ \\[\\]@?-]{0,60}\\)",
        |text| linear(text.len(), 1024, 48 * 1024 * 1024),
        |text| {
            if let Ok(call) = Intrinsic::parse(&text) {
                let _ = evaluate(&call);
            }
            Ok(())
        },
    );
}

/// 1000 cases: ranges with bounds and steps anywhere in i64 (and beyond, as
/// floats) are refused or hold at most 1000 items, without allocating for
/// the items they would have held.
#[test]
fn fuzz_intrinsic_array_range_with_huge_counts() {
    let bound = || {
        prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            (-3000i64..3000).prop_map(|n| n.to_string()),
            Just("1e300".to_owned()),
            Just("-1e300".to_owned()),
            Just("0.5".to_owned()),
        ]
    };
    check(
        1000,
        move || (bound(), bound(), bound()),
        |_| 1024 * 1024,
        |(first, last, step)| {
            let text = format!("States.ArrayRange({first}, {last}, {step})");
            let Ok(call) = Intrinsic::parse(&text) else {
                return Ok(());
            };
            let input = json!({});
            let context = json!({});
            let variables = Map::new();
            let scope = Scope::new(&input, &context, &variables);
            if let Ok(value) = call.eval(&scope, &mut SplitMix64(1)) {
                prop_assert!(
                    value.as_array().is_some_and(|items| items.len() <= 1000),
                    "{text}"
                );
            }
            Ok(())
        },
    );
}

/// Ten calls are allowed in one field and the eleventh is refused, also
/// when the calls nest 10 and 5000 deep, so the parser never recurses
/// further than ten.
#[test]
fn fuzz_intrinsic_nesting_at_and_over_the_limit() {
    check(
        1,
        || Just(()),
        |_| 8 * 1024 * 1024,
        |()| {
            let nested =
                |depth: usize| format!("{}1{}", "States.Array(".repeat(depth), ")".repeat(depth));
            let call = Intrinsic::parse(&nested(10)).map_err(TestCaseError::fail)?;
            prop_assert!(evaluate(&call).is_ok());
            for depth in [11, 5000] {
                let error = Intrinsic::parse(&nested(depth)).expect_err("too many calls");
                prop_assert!(error.contains("at most 10 intrinsic functions"), "{error}");
            }
            Ok(())
        },
    );
}

// --- Choice rules ---------------------------------------------------------

/// `Not` wrapped `depth` times around one comparison.
fn negated(depth: usize) -> Value {
    let mut rule = json!({"Variable": "$.a", "IsPresent": true});
    for _ in 0..depth {
        rule = Value::Object(Map::from_iter([("Not".to_owned(), rule)]));
    }
    rule
}

/// `And`/`Or`/`Not` nest at most [`choice::MAX_NESTING`] levels: at the
/// limit a rule parses and evaluates, one over it is refused with a message
/// saying so, and 2000 over it is refused without recursing that far.
#[test]
fn fuzz_choice_nesting_at_and_over_the_limit() {
    check(
        1,
        || Just(()),
        |_| 16 * 1024 * 1024,
        |()| {
            let input = json!({"a": 1});
            let context = json!({});
            let variables = Map::new();
            let scope = Scope::new(&input, &context, &variables);
            let mut errors = Vec::new();
            let condition = Condition::parse(&negated(choice::MAX_NESTING), "", &mut errors);
            prop_assert!(errors.is_empty(), "{errors:?}");
            let evaluated = condition.map(|c| c.evaluate(&scope));
            prop_assert_eq!(evaluated, Some(Ok(true)));
            for depth in [choice::MAX_NESTING + 1, 2000] {
                let mut errors = Vec::new();
                let rule = negated(depth);
                prop_assert!(Condition::parse(&rule, "", &mut errors).is_none());
                prop_assert!(
                    errors
                        .iter()
                        .any(|e| e.message.contains("nest more than 64 levels")),
                    "{errors:?}"
                );
                flatten_drop(rule);
            }
            Ok(())
        },
    );
}
