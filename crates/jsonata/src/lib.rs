//! JSONata 2.x for zoomvault's ASL engine: an expression is parsed once into
//! an [`Expression`] (thread-safe, reusable) and evaluated many times over
//! serde_json input in an [`Environment`] that supplies everything from
//! outside: variable bindings, the clock, randomness, host functions,
//! hidden built-ins and limits. Semantics, error codes and messages follow
//! the reference implementation jsonata-js 2.x.
//!
//! The crate does no I/O, reads no clock and draws no randomness of its
//! own. A result that is a function converts as JSON.stringify would
//! convert it: `Ok(None)` (undefined) at the top level, dropped from
//! objects, `null` inside arrays.
//!
//! ```
//! use serde_json::json;
//! use zoomvault_jsonata::{Environment, Expression};
//!
//! let expr = Expression::parse("$states.input.items[price > 10].name ~> $join(', ')")?;
//! let states = json!({"input": {"items": [
//!     {"name": "a", "price": 5}, {"name": "b", "price": 20}, {"name": "c", "price": 30}
//! ]}});
//! let mut draws = || 0.5;
//! let mut env = Environment::new();
//! env.bind("states", &states) // borrowed: nothing is copied
//!     .set_now_millis(1_700_000_000_000.0)
//!     .set_random(&mut draws)
//!     .hide("eval");
//! env.register("double", "<n:n>", |args| {
//!     Ok(args[0].as_ref().and_then(|v| v.as_f64()).map(|n| json!(n * 2.0)))
//! })?;
//! assert_eq!(expr.evaluate(None, &mut env)?, Some(json!("b, c")));
//! # Ok::<(), zoomvault_jsonata::Error>(())
//! ```
//!
//! Codes this crate adds to jsonata-js's: S0220 (expression nested more than
//! 1000 levels), U1001 for the depth limit and the step budget (as the
//! jsonata-js test harness raises), U1003 (a result nested more than
//! [`MAX_RESULT_DEPTH`] levels), U1004 (a regular expression's match that
//! stopped early; only a match given a time limit does, and this crate
//! gives none), D3200 and D3201 (`$now()`/`$millis()` or
//! `$random()`/`$shuffle` without a clock or random source in the
//! environment).

mod ast;
mod error;
mod eval;
mod functions;
#[cfg(test)]
mod fuzz;
mod parser;
pub mod picture;
mod picture_glue;
mod roots;
mod signature;
mod value;

use std::rc::Rc;

pub use error::Error;

/// Measures the heap each fuzzing case holds (`zoomvault_fuzz::check`).
#[cfg(test)]
#[global_allocator]
static ALLOCATOR: zoomvault_fuzz::CountingAllocator = zoomvault_fuzz::CountingAllocator;

use error::RawError;
use eval::{Evaluator, Frame};
use signature::Signature;
use value::{Flags, Value};

/// A parsed JSONata expression: parse once, evaluate many times.
#[derive(Debug)]
pub struct Expression {
    root: ast::Node,
}

/// A function the host adds to the library (AWS's `$partition`, `$uuid`...):
/// called with its evaluated arguments (`None` for undefined) after they
/// passed its signature.
pub type NativeFn<'a> =
    dyn Fn(&[Option<serde_json::Value>]) -> Result<Option<serde_json::Value>, Error> + 'a;

pub(crate) struct Native<'a> {
    pub name: String,
    pub signature: Option<Signature>,
    pub function: Box<NativeFn<'a>>,
}

/// How much stack must be left before a recursive step of the parser or
/// evaluator runs on a new segment. A debug build's frames for the
/// evaluator's big matches are tens of KiB each, so 64 KiB was too little:
/// a case under the fuzzing harness overflowed a 2 MiB stack at 40 nested
/// parentheses, inside stacker's own growing.
pub(crate) const RED_ZONE: usize = 256 * 1024;
/// The size of each stack segment stacker adds on the heap.
pub(crate) const NEW_SEGMENT: usize = 2 * 1024 * 1024;

/// Default limit on nested evaluation (jsonata-js has none and overflows
/// its stack; its test suite caps at a few hundred). Deep evaluation
/// continues on heap-allocated stack segments, so the limit is about
/// runaway recursion, not the caller's thread stack.
pub const DEFAULT_MAX_DEPTH: usize = 1000;
/// How deeply a result may nest arrays and objects (U1003 beyond).
pub const MAX_RESULT_DEPTH: usize = 1000;

/// Default budget of evaluation steps, which stops runaway (for example
/// infinite tail-recursive) expressions with U1001.
pub const DEFAULT_MAX_STEPS: u64 = 20_000_000;

/// How far one evaluation may go before it fails with U1001: a host that
/// runs expressions from outside picks its own (the ASL engine does), and
/// [`Limits::default`] is this crate's ([`DEFAULT_MAX_DEPTH`],
/// [`DEFAULT_MAX_STEPS`]). Both count work, not time, so an evaluation
/// fails or succeeds the same way on every run and every machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum nesting of evaluation (one level per sub-expression being
    /// evaluated, as jsonata-js's depth callback counts).
    pub max_depth: usize,
    /// Maximum number of evaluation steps, with bulk work (items of a
    /// range, bytes of a built string) charged by its size.
    pub max_steps: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: DEFAULT_MAX_DEPTH,
            max_steps: DEFAULT_MAX_STEPS,
        }
    }
}

/// Everything an evaluation needs from outside the expression.
pub struct Environment<'a> {
    bindings: Vec<(String, &'a serde_json::Value)>,
    pub(crate) natives: Vec<Native<'a>>,
    pub(crate) hidden: Vec<String>,
    now_millis: Option<f64>,
    random: Option<&'a mut dyn FnMut() -> f64>,
    /// How far an evaluation may go; beyond it evaluation fails with U1001.
    pub limits: Limits,
}

impl std::fmt::Debug for Environment<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Environment")
            .field(
                "bindings",
                &self.bindings.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field(
                "natives",
                &self.natives.iter().map(|n| &n.name).collect::<Vec<_>>(),
            )
            .field("hidden", &self.hidden)
            .field("now_millis", &self.now_millis)
            .field("limits", &self.limits)
            .finish()
    }
}

impl Default for Environment<'_> {
    fn default() -> Self {
        Environment::new()
    }
}

impl<'a> Environment<'a> {
    pub fn new() -> Self {
        Environment {
            bindings: Vec::new(),
            natives: Vec::new(),
            hidden: Vec::new(),
            now_millis: None,
            random: None,
            limits: Limits::default(),
        }
    }

    /// Replaces the limits on depth and steps (see [`Limits`]).
    pub fn set_limits(&mut self, limits: Limits) -> &mut Self {
        self.limits = limits;
        self
    }

    /// Binds `$name` to a value, borrowed: evaluation reads it in place,
    /// so binding and navigating a large `$states` copies nothing.
    pub fn bind(&mut self, name: &str, value: &'a serde_json::Value) -> &mut Self {
        self.bindings.retain(|(k, _)| k != name);
        self.bindings.push((name.to_string(), value));
        self
    }

    /// The evaluation's time, in milliseconds since the epoch, for `$now()`
    /// and `$millis()` (one value for the whole evaluation).
    pub fn set_now_millis(&mut self, millis: f64) -> &mut Self {
        self.now_millis = Some(millis);
        self
    }

    /// The source of numbers in [0, 1) for `$random()` and `$shuffle`.
    pub fn set_random(&mut self, random: &'a mut dyn FnMut() -> f64) -> &mut Self {
        self.random = Some(random);
        self
    }

    /// Registers `$name` with a JSONata signature (for example `<s-n?:s>`).
    pub fn register(
        &mut self,
        name: &str,
        signature: &str,
        function: impl Fn(&[Option<serde_json::Value>]) -> Result<Option<serde_json::Value>, Error> + 'a,
    ) -> Result<&mut Self, Error> {
        let sig = Signature::parse(signature).map_err(RawError::finish)?;
        self.natives.retain(|n| n.name != name);
        self.natives.push(Native {
            name: name.to_string(),
            signature: Some(sig),
            function: Box::new(function),
        });
        Ok(self)
    }

    /// Hides a built-in (AWS disables `$eval`): `$name` is then undefined
    /// unless bound or registered here.
    pub fn hide(&mut self, name: &str) -> &mut Self {
        self.hidden.push(name.to_string());
        self
    }

    pub(crate) fn now(&self) -> Result<f64, RawError> {
        self.now_millis.ok_or_else(|| {
            RawError::new("D3200")
                .message("The environment supplies no time for $now() and $millis()")
        })
    }

    pub(crate) fn random(&mut self) -> Result<f64, RawError> {
        match self.random.as_mut() {
            Some(r) => Ok(r()),
            None => Err(RawError::new("D3201")
                .message("The environment supplies no random numbers for $random()")),
        }
    }
}

impl Expression {
    /// Parses an expression (errors are jsonata-js's S0xxx).
    pub fn parse(source: &str) -> Result<Expression, Error> {
        let root = parser::parse(source).map_err(RawError::finish)?;
        Ok(Expression { root })
    }

    /// Evaluates against `input` (`None` is JSONata's undefined input);
    /// `Ok(None)` is an undefined result.
    pub fn evaluate(
        &self,
        input: Option<&serde_json::Value>,
        env: &mut Environment,
    ) -> Result<Option<serde_json::Value>, Error> {
        let input = match input {
            Some(j) => Value::from_ref(j),
            None => Value::Undefined,
        };
        let result = evaluate_value(&self.root, input, env).map_err(RawError::finish)?;
        // serde_json's values drop (and print) recursively, so a result
        // built deeper than any real document is refused rather than
        // handed to the caller to overflow its stack.
        if value::nested_deeper_than(&result, MAX_RESULT_DEPTH) {
            return Err(RawError::new("U1003")
                .message(format!(
                    "The result is nested more than {MAX_RESULT_DEPTH} levels deep"
                ))
                .finish());
        }
        if let Value::Number(n) = result {
            if !n.is_finite() {
                return Err(RawError::new("D1001")
                    .value(value::error_text(&result))
                    .finish());
            }
        }
        Ok(result.to_json())
    }
}

fn evaluate_value<'a: 'j, 'j>(
    root: &ast::Node,
    input: Value<'j>,
    env: &mut Environment<'a>,
) -> Result<Value<'j>, RawError> {
    let frame = Frame::new(None);
    for (k, v) in &env.bindings {
        frame.bind(k, Value::from_ref(v));
    }
    frame.bind("$", input.clone());
    // An array input is wrapped so that paths treat it as one value, as
    // jsonata-js does (`outerWrapper`).
    let input = match input.expand_array() {
        Value::Array(a, f) if !f.has(Flags::SEQUENCE) => Value::Array(
            Rc::new(value::Items(vec![Value::Array(a, f)])),
            Flags::SEQUENCE.with(Flags::OUTER_WRAPPER),
        ),
        v => v,
    };
    let mut ev = Evaluator::new(env);
    let frame = Frame::new(Some(frame));
    ev.eval(root, &input, &frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(expr: &str, input: serde_json::Value) -> Option<serde_json::Value> {
        let e = Expression::parse(expr).expect("parses");
        e.evaluate(Some(&input), &mut Environment::new())
            .expect("evaluates")
    }

    #[test]
    fn sequences_flatten_and_singletons_unwrap() {
        let data = json!({"a": [{"b": 1}, {"b": [2, 3]}]});
        assert_eq!(run("a.b", data.clone()), Some(json!([1, 2, 3])));
        assert_eq!(run("a[0].b", data.clone()), Some(json!(1)));
        assert_eq!(run("a[0].b[]", data.clone()), Some(json!([1])));
        assert_eq!(run("a.c", data), None);
    }

    #[test]
    fn deep_tail_recursion_does_not_overflow() {
        let e = Expression::parse(
            "($f := function($n, $acc) { $n = 0 ? $acc : $f($n - 1, $acc + 1) }; $f(100000, 0))",
        )
        .expect("parses");
        let r = e
            .evaluate(None, &mut Environment::new())
            .expect("evaluates");
        assert_eq!(r, Some(json!(100000)));
    }

    #[test]
    fn non_tail_recursion_hits_the_depth_limit() {
        let e =
            Expression::parse("($f := function($n) { $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000))")
                .expect("parses");
        let err = e
            .evaluate(None, &mut Environment::new())
            .expect_err("too deep");
        assert_eq!(err.code, "U1001");
    }

    #[test]
    fn runaway_loops_exhaust_the_budget() {
        let e = Expression::parse("($f := function($n) { $f($n + 1) }; $f(0))").expect("parses");
        let mut env = Environment::new();
        env.limits.max_steps = 100_000;
        let err = e.evaluate(None, &mut env).expect_err("stops");
        assert_eq!(err.code, "U1001");
    }

    #[test]
    fn bulk_work_counts_against_the_budget() {
        // Each of these is a handful of steps that would allocate without
        // bound: ranges inside a loop, and a string doubled in a loop.
        let cases = [
            "[1..10000000].([1..10000000] ~> $count())",
            "($f := function($s, $n){ $n = 0 ? $s : $f($s & $s, $n - 1) }; $length($f('ab', 40)))",
        ];
        for src in cases {
            let e = Expression::parse(src).expect("parses");
            let err = e.evaluate(None, &mut Environment::new()).expect_err(src);
            assert_eq!(err.code, "U1001", "{src}");
        }
    }

    #[test]
    fn configured_depth_limit_applies() {
        // A chain of additions nests one evaluation level per term.
        let chain = |terms: usize| vec!["1"; terms].join("+");
        let limits = Limits {
            max_depth: 100,
            ..Limits::default()
        };
        let eval = |src: &str| {
            let mut env = Environment::new();
            env.set_limits(limits);
            Expression::parse(src)
                .expect("parses")
                .evaluate(None, &mut env)
        };
        assert_eq!(eval(&chain(50)).expect("within"), Some(json!(50)));
        assert_eq!(eval(&chain(200)).expect_err("too deep").code, "U1001");
        // The crate's own default is deeper.
        let deep = Expression::parse(&chain(200)).expect("parses");
        assert_eq!(
            deep.evaluate(None, &mut Environment::new())
                .expect("default"),
            Some(json!(200))
        );
    }

    #[test]
    fn configured_step_budget_applies() {
        let src = "$sum([1..1000].($ * 2))";
        let e = Expression::parse(src).expect("parses");
        let mut env = Environment::new();
        env.set_limits(Limits {
            max_steps: 500,
            ..Limits::default()
        });
        assert_eq!(
            e.evaluate(None, &mut env).expect_err("budget").code,
            "U1001"
        );
        assert_eq!(
            e.evaluate(None, &mut Environment::new()).expect("default"),
            Some(json!(1_001_000))
        );
    }

    #[test]
    fn catastrophic_regex_finishes() {
        // Nested quantifiers over a text that almost matches: a backtracking
        // matcher takes time doubling with each `a`; this one answers at once.
        let text = format!("{}!", "a".repeat(30));
        let e = Expression::parse("$match($, /(a+)+b/)").expect("parses");
        let started = std::time::Instant::now();
        let r = e
            .evaluate(Some(&json!(text)), &mut Environment::new())
            .expect("evaluates");
        assert_eq!(r, None);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        let e = Expression::parse("$match($, /(a+)+!/).groups").expect("parses");
        assert_eq!(
            e.evaluate(Some(&json!(text)), &mut Environment::new())
                .expect("evaluates"),
            Some(json!(["a".repeat(30)]))
        );
    }

    #[test]
    fn regex_matching_counts_against_the_budget() {
        // Each search is charged the text it may read times the pattern's
        // size, so scanning a long text is not free.
        let long = json!("x".repeat(100_000));
        let e = Expression::parse("$contains($, /y/)").expect("parses");
        let mut env = Environment::new();
        env.set_limits(Limits {
            max_steps: 100_000,
            ..Limits::default()
        });
        assert_eq!(
            e.evaluate(Some(&long), &mut env).expect_err("budget").code,
            "U1001"
        );
        assert_eq!(
            e.evaluate(Some(&long), &mut Environment::new())
                .expect("default"),
            Some(json!(false))
        );
        // A search is charged up to the match it found, so splitting a text
        // at many matches costs steps in proportion to the text (charged to
        // the end of the text each time, this would take 8 million).
        let many = json!("x,".repeat(2_000));
        let e = Expression::parse("$count($split($, /,/))").expect("parses");
        let mut env = Environment::new();
        env.set_limits(Limits {
            max_steps: 200_000,
            ..Limits::default()
        });
        assert_eq!(
            e.evaluate(Some(&many), &mut env).expect("linear"),
            Some(json!(2_001))
        );
    }

    #[test]
    fn match_by_code_unit_inside_an_astral_character_does_not_panic() {
        let e = Expression::parse("$match($, /./).match").expect("parses");
        let r = e
            .evaluate(Some(&json!("😀x")), &mut Environment::new())
            .expect("evaluates");
        assert!(r.is_some());
    }

    #[test]
    fn hostile_nesting_is_a_syntax_error_not_a_stack_overflow() {
        let src = "(".repeat(100_000) + &")".repeat(100_000);
        let err = Expression::parse(&src).expect_err("too deep");
        assert_eq!(err.code, "S0220");
    }

    #[test]
    fn host_functions_hidden_builtins_clock_and_random() {
        let mut draws = [0.25, 0.75].into_iter();
        let mut random = move || draws.next().unwrap_or(0.5);
        let mut env = Environment::new();
        env.set_now_millis(0.0).set_random(&mut random).hide("eval");
        env.register("twice", "<n:n>", |args| {
            let n = args[0].as_ref().and_then(|v| v.as_f64()).unwrap_or(0.0);
            Ok(Some(json!(n * 2.0)))
        })
        .expect("signature parses");
        let eval = |src: &str, env: &mut Environment| {
            Expression::parse(src).expect("parses").evaluate(None, env)
        };
        assert_eq!(eval("$twice(21)", &mut env).expect("ok"), Some(json!(42)));
        assert_eq!(
            eval("$twice('x')", &mut env).expect_err("bad arg").code,
            "T0410"
        );
        assert_eq!(
            eval("$now()", &mut env).expect("ok"),
            Some(json!("1970-01-01T00:00:00.000Z"))
        );
        assert_eq!(eval("$random()", &mut env).expect("ok"), Some(json!(0.25)));
        assert_eq!(
            eval("$eval('1')", &mut env).expect_err("hidden").code,
            "T1006"
        );
    }

    #[test]
    fn deeply_built_data_neither_overflows_nor_escapes() {
        // 200,000 (and below 100,000) nested objects: dropped without recursion inside, and
        // refused as a result (serde_json would drop it recursively).
        let src = "($f := function($n, $a){ $n = 0 ? $a : $f($n - 1, {'x': $a}) }; $f(200000, 1))";
        let e = Expression::parse(src).expect("parses");
        let err = e
            .evaluate(None, &mut Environment::new())
            .expect_err("too deep for JSON");
        assert_eq!(err.code, "U1003");
        let deep = "$f(100000, 1)";
        let build = "$f := function($n, $a){ $n = 0 ? $a : $f($n - 1, {'x': $a}) }";
        let cases = [
            (format!("({build}; $count([{deep}]))"), json!(1)),
            (
                format!("({build}; $length($string({deep})))"),
                json!(600_001),
            ),
            (format!("({build}; $d := {deep}; $d = $d)"), json!(true)),
            (format!("({build}; $count({deep}.**))"), json!(100_001)),
        ];
        for (src, want) in cases {
            let e = Expression::parse(&src).expect("parses");
            assert_eq!(
                e.evaluate(None, &mut Environment::new()).expect(&src),
                Some(want),
                "{src}"
            );
        }
    }

    #[test]
    fn expressions_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Expression>();
    }
}
