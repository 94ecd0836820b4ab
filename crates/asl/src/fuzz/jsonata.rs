//! Fuzzing JSONata as a state evaluates it: expressions built from the
//! language's own tokens (paths into `$states.input`, every operator,
//! lambdas, regexes, ranges, transforms, AWS's added functions) are parsed
//! with AWS's reference checks and evaluated against random documents;
//! any text at all is refused or parsed; and nesting far past any sensible
//! depth is refused or evaluated without running off a 2 MiB stack.

use super::json_len;
use crate::jsonata::{Place, States, Template};
use crate::SplitMix64;
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use zoomvault_fuzz::{check, linear};

/// Expression text from JSONata's tokens, often valid.
fn expression() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        Just("$states.input".to_owned()),
        Just("$states.input.a".to_owned()),
        Just("$states.input.a.b[0]".to_owned()),
        Just("$states.input.*".to_owned()),
        Just("$states.input.**".to_owned()),
        Just("$states.context".to_owned()),
        Just("$v".to_owned()),
        Just("1".to_owned()),
        Just("-1.5e300".to_owned()),
        Just("'x'".to_owned()),
        Just("\"\\u00e9\"".to_owned()),
        Just("true".to_owned()),
        Just("null".to_owned()),
        Just("[1..100]".to_owned()),
        Just("[1, 'a', [2]]".to_owned()),
        Just("{'k': 1}".to_owned()),
        Just("/a+b?/i".to_owned()),
        Just("function($x){$x * 2}".to_owned()),
        Just("$uuid()".to_owned()),
        Just("$random()".to_owned()),
        Just("$now()".to_owned()),
        Just("$partition([1,2,3], 2)".to_owned()),
        Just("$range(0, 50, 3)".to_owned()),
        Just("$hash('a', 'SHA-256')".to_owned()),
        Just("$parse('{\"a\":1}')".to_owned()),
        "[a-z$.\\[\\]{}()'\"0-9 +*/%&|<>=!?:;,~^#@-]{1,8}",
    ];
    atom.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(vec![
                    "+", "-", "*", "/", "%", "&", "=", "!=", "<", ">=", "and", "or", "in", "..",
                    "~>", "?:", "??"
                ]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}[{b}]")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("{a} ? {b} : {c}")),
            (
                prop::sample::select(vec![
                    "$string",
                    "$number",
                    "$count",
                    "$sum",
                    "$keys",
                    "$reverse",
                    "$sort",
                    "$distinct",
                    "$uppercase",
                    "$split",
                    "$join",
                    "$map",
                    "$filter",
                    "$reduce",
                    "$each",
                    "$merge",
                    "$spread",
                    "$type",
                    "$exists",
                    "$formatNumber",
                    "$fromMillis",
                    "$toMillis",
                    "$substring",
                    "$replace",
                    "$match",
                    "$pad",
                    "$zip",
                    "$lookup",
                    "$eval"
                ]),
                prop::collection::vec(inner.clone(), 0..3)
            )
                .prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("($v := {a}; {b})")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("{a} ~> | $ | {{'t': {b}}} |")),
        ]
    })
}

fn document() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop::num::f64::NORMAL.prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(vec!["a", "b", "c"]), inner), 0..4)
                .prop_map(|fields| Value::Object(
                    fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )),
        ]
    })
}

/// Parses `{% text %}` as an `Output` and evaluates it, whatever comes of it.
fn run(text: &str, input: &Value) {
    let mut errors = Vec::new();
    let template = Template::parse(
        &Value::String(format!("{{% {text} %}}")),
        "/States/S/Output",
        Place::AfterInput,
        &mut errors,
    );
    if !errors.is_empty() {
        return;
    }
    let context = json!({"State": {"Name": "S", "EnteredTime": "2024-01-01T00:00:00Z"}});
    let mut variables = Map::new();
    variables.insert("v".into(), input.clone());
    let states = States {
        input,
        result: None,
        error_output: None,
        context: &context,
        variables: &variables,
    };
    let _ = template.eval(&states, "Output", &mut SplitMix64(7));
}

/// 1000 cases: expressions from the language's tokens against random
/// documents. Ranges and string repetition are the language's way to build
/// large values from short text, so the budget is generous but fixed.
#[test]
fn fuzz_jsonata_parse_and_evaluate() {
    check(
        1000,
        || (expression(), document()),
        |(text, document)| linear(text.len() + json_len(document), 4096, 64 * 1024 * 1024),
        |(text, document)| {
            run(&text, &document);
            Ok(())
        },
    );
}

/// 2000 cases: any text at all between `{%` and `%}` is refused or parsed.
#[test]
fn fuzz_jsonata_random_text() {
    check(
        2000,
        || "\\PC{0,60}|[a-z$.\\[\\]{}()'\"0-9 +*/%&|<>=!?:;,~^#@\\\\-]{0,80}",
        |text| linear(text.len(), 4096, 16 * 1024 * 1024),
        |text| {
            run(&text, &json!({"a": [1, 2, {"b": "c"}]}));
            Ok(())
        },
    );
}

/// Nesting thousands deep (parentheses, arrays, objects, unary minus,
/// blocks, function calls) is refused or evaluated within a 2 MiB stack.
#[test]
fn fuzz_jsonata_deep_nesting() {
    check(
        1,
        || Just(()),
        |_| 256 * 1024 * 1024,
        |()| {
            for depth in [100, 1_000, 10_000] {
                for (open, close) in [
                    ("(", ")"),
                    ("[", "]"),
                    ("{'a':", "}"),
                    ("-", ""),
                    ("$string(", ")"),
                    ("($x:=1;", ")"),
                ] {
                    let text = format!("{}1{}", open.repeat(depth), close.repeat(depth));
                    run(&text, &json!({}));
                }
            }
            Ok(())
        },
    );
}
