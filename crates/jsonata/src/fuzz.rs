//! Bounded fuzzing of the whole pipeline: expressions assembled from
//! JSONata's tokens (often valid, often hostile: deep nesting, huge ranges,
//! recursion, regexes, transforms) parsed and evaluated against random
//! documents on a 2 MiB stack with a measured heap budget
//! (`zoomvault_fuzz::check`). A case passes when it returns a result or an
//! error; a panic, a stack overflow or a heap past the budget fails it. It
//! must not test results (the reference suite does that).

use proptest::prelude::*;
use serde_json::{json, Value};
use zoomvault_fuzz::{check, linear};

use crate::{Environment, Expression};

fn document() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop::num::f64::NORMAL.prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec(
                (prop::sample::select(vec!["a", "b", "c", "d"]), inner),
                0..5
            )
            .prop_map(|f| Value::Object(f.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

fn expression() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        8 => prop::sample::select(vec![
            "a", "b", ".", "c", "*", "**", "%", "$", "$$", "$x", "[", "]", "(", ")", "{", "}", ",", ";",
            ":", "?", "?:", "??", "+", "-", "*", "/", "%", "=", "!=", "<", ">=", "&", "and", "or", "in",
            "..", ":=", "~>", "^(", "<", ">", "@$o", "#$i", "|", "1", "0", "-1", "1e308", "'s'", "\"t\"",
            "true", "null", "/a+/i", "$count(", "$string(", "$map(", "$reduce(", "$sort(", "$match(",
            "$replace(", "$split(", "$join(", "$keys(", "$spread(", "$merge(", "$each(", "$sift(",
            "$eval(", "$substring(", "$pad(", "$number(", "$round(", "$power(", "$zip(", "$append(",
            "$distinct(", "$shuffle(", "$random()", "$now()", "$toMillis(", "$fromMillis(",
            "$formatNumber(", "$formatInteger(", "$parseInteger(", "function($v){", "λ($a,$b)<nn:n>{",
            "$f(", "?", "[1..10000000]", "$f := function($n){ $f($n + 1) }", "'x' & 'x'",
            // Nested quantifiers and a text that almost matches them: the
            // case that makes a backtracking matcher run for ever.
            "/(a+)+b/", "/(a|aa)*c/", "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!'",
        ]).prop_map(str::to_owned),
        1 => "[\\[\\](){}.*?@#$%^&|<>=!~:;,'\"a-z0-9 -]{1,4}",
    ];
    prop::collection::vec(token, 1..24).prop_map(|t| t.join(" "))
}

/// Each case gets a small step budget, so its heap is bounded by what a
/// few hundred thousand steps can allocate, plus the document.
fn budget((text, document): &(String, Value)) -> usize {
    linear(
        text.len() + document.to_string().len(),
        4096,
        64 * 1024 * 1024,
    )
}

/// 1500 cases of token soup against random documents: no panics, no stack
/// overflow, bounded heap.
#[test]
fn token_soup_never_panics_overflows_or_balloons() {
    check(
        1500,
        || (expression(), document()),
        budget,
        |(text, document)| {
            if let Ok(expr) = Expression::parse(&text) {
                let x = json!({"a": [1, 2, 3]});
                let mut draws = || 0.5;
                let mut env = Environment::new();
                env.limits.max_steps = 200_000;
                env.set_now_millis(0.0).set_random(&mut draws).bind("x", &x);
                let _ = expr.evaluate(Some(&document), &mut env);
            }
            Ok(())
        },
    );
}
