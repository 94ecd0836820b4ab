//! Choice rules (JSONPath flavour): one rule object of a Choice state's
//! `Choices`, parsed once into a typed tree and evaluated against a scope.
//!
//! This module owns the rule itself: the data-test comparisons, the `Is...`
//! type tests, `StringMatches` and the `And`/`Or`/`Not` combinators. It does
//! not own the rule's `Next` or `Assign` (the Choice state does) and never
//! resolves a path itself; paths come from [`crate::path`].
//!
//! Semantics follow the ASL specification and the Step Functions guide:
//!
//! * A rule has exactly one operator. A comparison needs `Variable`; a
//!   boolean combinator must not have one. `And`/`Or` take non-empty arrays
//!   of rules and `Not` one rule; nested rules must not carry `Next` (nor
//!   `Assign`, which AWS only allows beside `Next`).
//! * `Variable` and the value of every `...Path` operator are reference paths.
//! * Comparing values of the wrong type yields `false`, never an error.
//! * A `Variable` or `...Path` that selects nothing fails with
//!   `States.Runtime`, except under `IsPresent`, which then yields `false`.
//! * Strings compare as Java's `String.compareTo` does (AWS's documented
//!   behaviour): by UTF-16 code units, with no case folding or normalisation.
//! * Numbers compare by value, integers and floats alike. Timestamps compare
//!   as instants, whatever their offsets.
//! * `StringMatches`: `*` matches any run of characters, including none;
//!   `\*` is a literal star and `\\` a literal backslash; nothing else is
//!   special.

use crate::error::pointer_join;
use crate::path::Path;
use crate::timestamp;
use crate::{DefinitionError, Failure, Scope};
use serde_json::{Number, Value};
use std::cmp::Ordering;

/// How deeply `And`/`Or`/`Not` may nest. AWS documents no limit; this one
/// keeps parsing and evaluation well clear of the stack's end.
pub const MAX_NESTING: usize = 64;

/// One parsed choice rule, ready to evaluate.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    rule: Rule,
}

impl Condition {
    /// Parses one rule object. `Next`, `Assign` and `Comment` are ignored at
    /// the top level (the Choice state owns `Next` and `Assign`); every other
    /// problem is pushed to `errors`, named by its JSON pointer below
    /// `pointer`. Returns `None` exactly when it pushed an error.
    pub fn parse(
        value: &Value,
        pointer: &str,
        errors: &mut Vec<DefinitionError>,
    ) -> Option<Condition> {
        let before = errors.len();
        let rule = RuleParser { errors }.rule(value, pointer, 0);
        match rule {
            Some(rule) if errors.len() == before => Some(Condition { rule }),
            _ => None,
        }
    }

    /// Evaluates the rule. A path that selects nothing is a `States.Runtime`
    /// failure (except under `IsPresent`); a value of the wrong type is not.
    pub fn evaluate(&self, scope: &Scope) -> Result<bool, Failure> {
        self.rule.evaluate(scope)
    }
}

/// The typed rule tree.
#[derive(Debug, Clone, PartialEq)]
enum Rule {
    And(Vec<Rule>),
    Or(Vec<Rule>),
    Not(Box<Rule>),
    /// A data-test expression: a test applied to the value at `variable`.
    Test {
        variable: Path,
        test: Test,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Test {
    Compare {
        comparison: Comparison,
        operand: Operand,
    },
    Matches(Pattern),
    Is {
        check: TypeCheck,
        expected: bool,
    },
}

/// A comparison operator, e.g. `NumericLessThanEquals`: what type both sides
/// must have and how they must relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Comparison {
    kind: Kind,
    relation: Relation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    Numeric,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relation {
    Equals,
    LessThan,
    GreaterThan,
    LessThanEquals,
    GreaterThanEquals,
}

/// The right-hand side of a comparison: a literal from the definition, or
/// the value at another path (the `...Path` operators).
#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Literal(Literal),
    Path(Path),
}

/// A literal operand, already checked against its operator's type.
#[derive(Debug, Clone, PartialEq)]
enum Literal {
    String(String),
    Number(Number),
    Boolean(bool),
    Timestamp(time::OffsetDateTime),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TypeCheck {
    Null,
    Present,
    Numeric,
    String,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Combinator {
    And,
    Or,
    Not,
}

/// What a rule key names, apart from `Variable`, `Next`, `Assign` and `Comment`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Combinator(Combinator),
    Compare { comparison: Comparison, path: bool },
    Matches,
    Is(TypeCheck),
}

/// What a timestamp literal must look like, for error messages.
const TIMESTAMP_SHAPE: &str =
    "expected RFC 3339 with an uppercase T and Z or an offset, e.g. 2016-03-14T01:59:00Z";

/// Every comparison operator, by name; each also has a `...Path` form.
const COMPARISONS: [(&str, Kind, Relation); 16] = [
    ("StringEquals", Kind::String, Relation::Equals),
    ("StringLessThan", Kind::String, Relation::LessThan),
    ("StringGreaterThan", Kind::String, Relation::GreaterThan),
    (
        "StringLessThanEquals",
        Kind::String,
        Relation::LessThanEquals,
    ),
    (
        "StringGreaterThanEquals",
        Kind::String,
        Relation::GreaterThanEquals,
    ),
    ("NumericEquals", Kind::Numeric, Relation::Equals),
    ("NumericLessThan", Kind::Numeric, Relation::LessThan),
    ("NumericGreaterThan", Kind::Numeric, Relation::GreaterThan),
    (
        "NumericLessThanEquals",
        Kind::Numeric,
        Relation::LessThanEquals,
    ),
    (
        "NumericGreaterThanEquals",
        Kind::Numeric,
        Relation::GreaterThanEquals,
    ),
    ("BooleanEquals", Kind::Boolean, Relation::Equals),
    ("TimestampEquals", Kind::Timestamp, Relation::Equals),
    ("TimestampLessThan", Kind::Timestamp, Relation::LessThan),
    (
        "TimestampGreaterThan",
        Kind::Timestamp,
        Relation::GreaterThan,
    ),
    (
        "TimestampLessThanEquals",
        Kind::Timestamp,
        Relation::LessThanEquals,
    ),
    (
        "TimestampGreaterThanEquals",
        Kind::Timestamp,
        Relation::GreaterThanEquals,
    ),
];

const TYPE_CHECKS: [(&str, TypeCheck); 6] = [
    ("IsNull", TypeCheck::Null),
    ("IsPresent", TypeCheck::Present),
    ("IsNumeric", TypeCheck::Numeric),
    ("IsString", TypeCheck::String),
    ("IsBoolean", TypeCheck::Boolean),
    ("IsTimestamp", TypeCheck::Timestamp),
];

impl Operator {
    fn from_name(name: &str) -> Option<Operator> {
        match name {
            "And" => return Some(Operator::Combinator(Combinator::And)),
            "Or" => return Some(Operator::Combinator(Combinator::Or)),
            "Not" => return Some(Operator::Combinator(Combinator::Not)),
            "StringMatches" => return Some(Operator::Matches),
            _ => {}
        }
        if let Some((_, check)) = TYPE_CHECKS.iter().find(|(n, _)| *n == name) {
            return Some(Operator::Is(*check));
        }
        let (base, path) = match name.strip_suffix("Path") {
            Some(base) => (base, true),
            None => (name, false),
        };
        COMPARISONS
            .iter()
            .find(|(n, _, _)| *n == base)
            .map(|&(_, kind, relation)| Operator::Compare {
                comparison: Comparison { kind, relation },
                path,
            })
    }

    fn is_combinator(self) -> bool {
        matches!(self, Operator::Combinator(_))
    }
}

/// The parsed body of one operator key: a whole rule for a combinator, or
/// the test a data-test expression applies to its `Variable`.
enum Body {
    Rule(Rule),
    Test(Test),
}

struct RuleParser<'e> {
    errors: &'e mut Vec<DefinitionError>,
}

impl RuleParser<'_> {
    fn error(&mut self, pointer: &str, message: impl Into<String>) {
        self.errors.push(DefinitionError::new(pointer, message));
    }

    /// Parses the rule object at `pointer`; `depth` is 0 for a top-level rule.
    /// Reports every problem it finds; `None` if there was any.
    fn rule(&mut self, value: &Value, pointer: &str, depth: usize) -> Option<Rule> {
        let Some(object) = value.as_object() else {
            self.error(pointer, "expected a choice rule object");
            return None;
        };
        if depth > MAX_NESTING {
            self.error(
                pointer,
                format!("choice rules nest more than {MAX_NESTING} levels deep"),
            );
            return None;
        }
        let before = self.errors.len();

        let mut variable = None;
        let mut operators = Vec::new();
        for (key, field) in object {
            let at = pointer_join(pointer, key);
            match key.as_str() {
                "Variable" => variable = Some((field, at)),
                "Comment" => {
                    if !field.is_string() {
                        self.error(&at, "expected a string");
                    }
                }
                // The Choice state reads these on a top-level rule.
                "Next" | "Assign" if depth == 0 => {}
                "Next" | "Assign" => self.error(
                    &at,
                    format!("{key} is only allowed in a top-level choice rule"),
                ),
                _ => match Operator::from_name(key) {
                    Some(operator) => operators.push((key.as_str(), operator, field, at)),
                    None => self.error(&at, "unknown field"),
                },
            }
        }

        let single_combinator =
            matches!(operators.as_slice(), [(_, op, _, _)] if op.is_combinator());
        let variable = match variable {
            Some((_, at)) if single_combinator => {
                let name = operators[0].0;
                self.error(
                    &at,
                    format!("a boolean expression ({name}) must not have a Variable"),
                );
                None
            }
            Some((field, at)) => self.reference_path(field, &at),
            None => {
                if operators.iter().any(|(_, op, _, _)| !op.is_combinator()) {
                    self.error(
                        pointer,
                        "missing Variable: a comparison needs the path of the value to test",
                    );
                }
                None
            }
        };

        match operators.len() {
            0 => self.error(
                pointer,
                "expected exactly one operator (a comparison such as StringEquals, or And, Or, Not)",
            ),
            1 => {}
            _ => {
                let names: Vec<&str> = operators.iter().map(|(name, _, _, _)| *name).collect();
                self.error(
                    pointer,
                    format!("expected exactly one operator, found {}", names.join(", ")),
                );
            }
        }

        // Parse every operand, even of a rule already known to be wrong, so
        // that all problems are reported at once.
        let mut bodies: Vec<Option<Body>> = operators
            .iter()
            .map(|(_, operator, field, at)| self.operand(*operator, field, at, depth))
            .collect();

        if self.errors.len() != before || bodies.len() != 1 {
            return None;
        }
        match bodies.pop()?? {
            Body::Rule(rule) => Some(rule),
            Body::Test(test) => Some(Rule::Test {
                variable: variable?,
                test,
            }),
        }
    }

    fn operand(
        &mut self,
        operator: Operator,
        field: &Value,
        at: &str,
        depth: usize,
    ) -> Option<Body> {
        let test = match operator {
            Operator::Combinator(combinator) => {
                return self
                    .combinator(combinator, field, at, depth)
                    .map(Body::Rule)
            }
            Operator::Compare {
                comparison,
                path: true,
            } => Test::Compare {
                comparison,
                operand: Operand::Path(self.reference_path(field, at)?),
            },
            Operator::Compare {
                comparison,
                path: false,
            } => Test::Compare {
                comparison,
                operand: Operand::Literal(self.literal(comparison.kind, field, at)?),
            },
            Operator::Matches => {
                let Some(text) = field.as_str() else {
                    self.error(at, "expected a string");
                    return None;
                };
                match Pattern::compile(text) {
                    Ok(pattern) => Test::Matches(pattern),
                    Err(message) => {
                        self.error(at, message);
                        return None;
                    }
                }
            }
            Operator::Is(check) => {
                let Some(expected) = field.as_bool() else {
                    self.error(at, "expected a boolean");
                    return None;
                };
                Test::Is { check, expected }
            }
        };
        Some(Body::Test(test))
    }

    fn combinator(
        &mut self,
        combinator: Combinator,
        field: &Value,
        at: &str,
        depth: usize,
    ) -> Option<Rule> {
        if combinator == Combinator::Not {
            return Some(Rule::Not(Box::new(self.rule(field, at, depth + 1)?)));
        }
        let rules = match field.as_array() {
            Some(rules) if !rules.is_empty() => rules,
            _ => {
                self.error(at, "expected a non-empty array of choice rules");
                return None;
            }
        };
        // Collect first so that every element reports its problems.
        let parsed: Vec<Option<Rule>> = rules
            .iter()
            .enumerate()
            .map(|(index, rule)| self.rule(rule, &pointer_join(at, &index.to_string()), depth + 1))
            .collect();
        let parsed = parsed.into_iter().collect::<Option<Vec<Rule>>>()?;
        Some(match combinator {
            Combinator::And => Rule::And(parsed),
            _ => Rule::Or(parsed),
        })
    }

    fn reference_path(&mut self, field: &Value, at: &str) -> Option<Path> {
        let Some(text) = field.as_str() else {
            self.error(at, "expected a reference path string");
            return None;
        };
        match Path::parse_reference(text) {
            Ok(path) => Some(path),
            Err(message) => {
                self.error(at, format!("invalid reference path '{text}': {message}"));
                None
            }
        }
    }

    fn literal(&mut self, kind: Kind, field: &Value, at: &str) -> Option<Literal> {
        let literal = match (kind, field) {
            (Kind::String, Value::String(text)) => Literal::String(text.clone()),
            (Kind::Numeric, Value::Number(number)) => Literal::Number(number.clone()),
            (Kind::Boolean, Value::Bool(flag)) => Literal::Boolean(*flag),
            (Kind::Timestamp, Value::String(text)) => match timestamp::parse(text) {
                Some(instant) => Literal::Timestamp(instant),
                None => {
                    self.error(at, format!("invalid timestamp '{text}': {TIMESTAMP_SHAPE}"));
                    return None;
                }
            },
            (Kind::String, _) => return self.wrong_type(at, "a string"),
            (Kind::Numeric, _) => return self.wrong_type(at, "a number"),
            (Kind::Boolean, _) => return self.wrong_type(at, "a boolean"),
            (Kind::Timestamp, _) => return self.wrong_type(at, "a timestamp string"),
        };
        Some(literal)
    }

    fn wrong_type<T>(&mut self, at: &str, expected: &str) -> Option<T> {
        self.error(at, format!("expected {expected}"));
        None
    }
}

impl Rule {
    fn evaluate(&self, scope: &Scope) -> Result<bool, Failure> {
        match self {
            // And/Or stop at the first rule that settles the answer, as the
            // spec says, so a later rule's missing path raises nothing.
            Rule::And(rules) => {
                for rule in rules {
                    if !rule.evaluate(scope)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Rule::Or(rules) => {
                for rule in rules {
                    if rule.evaluate(scope)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Rule::Not(rule) => Ok(!rule.evaluate(scope)?),
            Rule::Test { variable, test } => test.evaluate(variable, scope),
        }
    }
}

impl Test {
    fn evaluate(&self, variable: &Path, scope: &Scope) -> Result<bool, Failure> {
        let value = variable.lookup(scope);
        if let Test::Is {
            check: TypeCheck::Present,
            expected,
        } = self
        {
            return Ok(value.is_some() == *expected);
        }
        let value = value.ok_or_else(|| invalid_path(variable))?;
        Ok(match self {
            Test::Compare {
                comparison,
                operand: Operand::Literal(literal),
            } => comparison.holds(&value, literal.typed()),
            Test::Compare {
                comparison,
                operand: Operand::Path(path),
            } => {
                let other = path.lookup(scope).ok_or_else(|| invalid_path(path))?;
                match Typed::of(comparison.kind, &other) {
                    Some(other) => comparison.holds(&value, other),
                    None => false,
                }
            }
            Test::Matches(pattern) => value.as_str().is_some_and(|text| pattern.matches(text)),
            Test::Is { check, expected } => check.holds(&value) == *expected,
        })
    }
}

/// The failure AWS raises when a choice rule's path selects nothing.
fn invalid_path(path: &Path) -> Failure {
    Failure::runtime(format!(
        "Invalid path '{}': The choice state's condition path references an invalid value.",
        path.text()
    ))
}

impl TypeCheck {
    fn holds(self, value: &Value) -> bool {
        match self {
            TypeCheck::Null => value.is_null(),
            TypeCheck::Present => true,
            TypeCheck::Numeric => value.is_number(),
            TypeCheck::String => value.is_string(),
            TypeCheck::Boolean => value.is_boolean(),
            TypeCheck::Timestamp => value.as_str().and_then(timestamp::parse).is_some(),
        }
    }
}

/// A value seen as one comparison kind.
#[derive(Debug, Clone, Copy)]
enum Typed<'a> {
    String(&'a str),
    Number(&'a Number),
    Boolean(bool),
    /// Nanoseconds since the Unix epoch.
    Instant(i128),
}

impl<'a> Typed<'a> {
    /// `None` when `value` is not of `kind`: such comparisons are false.
    fn of(kind: Kind, value: &'a Value) -> Option<Typed<'a>> {
        match (kind, value) {
            (Kind::String, Value::String(text)) => Some(Typed::String(text)),
            (Kind::Numeric, Value::Number(number)) => Some(Typed::Number(number)),
            (Kind::Boolean, Value::Bool(flag)) => Some(Typed::Boolean(*flag)),
            (Kind::Timestamp, Value::String(text)) => {
                timestamp::parse(text).map(|instant| Typed::Instant(instant.unix_timestamp_nanos()))
            }
            _ => None,
        }
    }

    fn cmp(self, other: Typed) -> Option<Ordering> {
        match (self, other) {
            (Typed::String(a), Typed::String(b)) => Some(java_string_order(a, b)),
            (Typed::Number(a), Typed::Number(b)) => Some(numeric_order(a, b)),
            (Typed::Boolean(a), Typed::Boolean(b)) => Some(a.cmp(&b)),
            (Typed::Instant(a), Typed::Instant(b)) => Some(a.cmp(&b)),
            _ => None,
        }
    }
}

impl Literal {
    fn typed(&self) -> Typed<'_> {
        match self {
            Literal::String(text) => Typed::String(text),
            Literal::Number(number) => Typed::Number(number),
            Literal::Boolean(flag) => Typed::Boolean(*flag),
            Literal::Timestamp(instant) => Typed::Instant(instant.unix_timestamp_nanos()),
        }
    }
}

impl Comparison {
    /// Whether `value` (from `Variable`) relates to `operand` as required;
    /// false when `value` is not of this comparison's kind.
    fn holds(self, value: &Value, operand: Typed) -> bool {
        let Some(ordering) = Typed::of(self.kind, value).and_then(|value| value.cmp(operand))
        else {
            return false;
        };
        match self.relation {
            Relation::Equals => ordering == Ordering::Equal,
            Relation::LessThan => ordering == Ordering::Less,
            Relation::GreaterThan => ordering == Ordering::Greater,
            Relation::LessThanEquals => ordering != Ordering::Greater,
            Relation::GreaterThanEquals => ordering != Ordering::Less,
        }
    }
}

/// Java's `String.compareTo`, which AWS documents for the string
/// comparators: lexicographic over UTF-16 code units. It differs from code
/// point order only between supplementary characters (surrogate pairs) and
/// BMP characters from U+E000 up.
fn java_string_order(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Numbers by value. Integers compare exactly; an integer against a float
/// compares exactly too (the spec only promises binary64 precision, so this
/// is at least as good as AWS).
fn numeric_order(a: &Number, b: &Number) -> Ordering {
    match (integer(a), integer(b)) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(a), None) => integer_against_float(a, b.as_f64().unwrap_or(0.0)),
        (None, Some(b)) => integer_against_float(b, a.as_f64().unwrap_or(0.0)).reverse(),
        (None, None) => {
            let (a, b) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
            a.partial_cmp(&b).unwrap_or(Ordering::Equal)
        }
    }
}

fn integer(number: &Number) -> Option<i128> {
    number
        .as_i64()
        .map(i128::from)
        .or_else(|| number.as_u64().map(i128::from))
}

/// Orders an integer against a finite float without rounding the integer.
fn integer_against_float(integer: i128, float: f64) -> Ordering {
    // Every JSON integer fits well inside ±1e38; beyond that the float wins.
    if float >= 1e38 {
        return Ordering::Less;
    }
    if float <= -1e38 {
        return Ordering::Greater;
    }
    let whole = float.trunc();
    match integer.cmp(&(whole as i128)) {
        Ordering::Equal if float > whole => Ordering::Less,
        Ordering::Equal if float < whole => Ordering::Greater,
        ordering => ordering,
    }
}

/// A compiled `StringMatches` pattern.
#[derive(Debug, Clone, PartialEq)]
struct Pattern {
    tokens: Vec<PatternToken>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PatternToken {
    Char(char),
    /// `*`: any run of characters, including none.
    Star,
}

impl Pattern {
    /// Reads `\*` as a literal star and `\\` as a literal backslash. The
    /// spec calls any other backslash an "open escape" and has the
    /// interpreter fail at run time; the pattern is a literal, so we report
    /// it when the definition is parsed instead.
    fn compile(text: &str) -> Result<Pattern, String> {
        let mut tokens = Vec::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            tokens.push(match c {
                '*' => PatternToken::Star,
                '\\' => match chars.next() {
                    Some(escaped @ ('*' | '\\')) => PatternToken::Char(escaped),
                    _ => {
                        return Err(format!(
                        "open escape in pattern '{text}': a backslash must be followed by * or \\"
                    ))
                    }
                },
                c => PatternToken::Char(c),
            });
        }
        Ok(Pattern { tokens })
    }

    /// Whole-string wildcard match. Backtracks only to the latest star, so
    /// it runs in O(pattern × text) at worst.
    fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        let pattern = &self.tokens;
        let (mut p, mut t) = (0, 0);
        // The latest star seen, and the text position its match ends at.
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            match pattern.get(p) {
                Some(PatternToken::Char(c)) if *c == text[t] => {
                    p += 1;
                    t += 1;
                }
                Some(PatternToken::Star) => {
                    star = Some((p, t));
                    p += 1;
                }
                _ => match star {
                    // Let the latest star swallow one more character.
                    Some((star_at, end)) => {
                        star = Some((star_at, end + 1));
                        p = star_at + 1;
                        t = end + 1;
                    }
                    None => return false,
                },
            }
        }
        pattern[p..]
            .iter()
            .all(|token| *token == PatternToken::Star)
    }
}

#[cfg(test)]
mod tests;
