//! Intrinsic functions (`States.Format(...)`, `States.ArrayRange(...)`, ...)
//! as they appear in the value of a `.$` field of a payload template. This
//! module owns their grammar, the checks that can be made once at definition
//! time (argument counts, literal argument types, calls whose arguments are
//! all literals), and the semantics of every function AWS documents.
//!
//! It must not resolve JSONPath itself (that is `crate::path`), and it draws
//! randomness only from the caller's `Entropy`, so an evaluation can be
//! replayed.
//!
//! Failures follow AWS: a path argument that matches nothing is
//! `States.Runtime`; a bad argument value (wrong type, out of range) is
//! `States.IntrinsicFailure`. Both causes read
//! `The function '<expression>' had the following error: <detail>`, naming
//! the whole expression as written, as AWS does.

use crate::entropy::SplitMix64;
use crate::path::Path;
use crate::{Entropy, Failure, JsonType, Scope};
use base64::Engine as _;
use serde_json::{Map, Number, Value};
use std::fmt;

/// AWS: "You can nest up to 10 intrinsic functions within a field." AWS's
/// own example counts every call in the field (nine in `myArn`), so this
/// counts calls, not depth. It also bounds the parser's recursion.
const MAX_CALLS_PER_FIELD: usize = 10;
/// AWS: "The newly generated array can't contain more than 1000 items."
const MAX_ARRAY_RANGE_ITEMS: i64 = 1000;
/// AWS limits the input of `States.Base64Encode`, `States.Base64Decode` and
/// `States.Hash` to 10,000 characters.
const MAX_CODEC_INPUT_CHARS: usize = 10_000;
/// Values quoted in failure causes are cut to this many characters.
const MAX_QUOTED_CHARS: usize = 120;

/// A parsed intrinsic function call, with the text it was parsed from.
#[derive(Debug, Clone, PartialEq)]
pub struct Intrinsic {
    text: String,
    call: Call,
}

impl Intrinsic {
    /// True when a `.$` value is an intrinsic call rather than a path.
    pub fn looks_like_call(text: &str) -> bool {
        text.trim_start().starts_with("States.")
    }

    /// Parses one call. Errors name the problem and its byte offset in `text`.
    pub fn parse(text: &str) -> Result<Intrinsic, String> {
        let mut parser = Parser {
            text,
            pos: 0,
            calls: 0,
        };
        parser.skip_whitespace();
        let call = parser.call()?;
        parser.skip_whitespace();
        if parser.pos < text.len() {
            return Err(parser.error(
                parser.pos,
                format!(
                    "unexpected {} after the end of the call",
                    parser.found_description()
                ),
            ));
        }
        Ok(Intrinsic {
            text: text.to_string(),
            call,
        })
    }

    /// The expression as written in the definition.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn eval(&self, scope: &Scope, entropy: &mut dyn Entropy) -> Result<Value, Failure> {
        self.call.eval(scope, entropy).map_err(|failure| {
            Failure::new(
                failure.error,
                format!(
                    "The function '{}' had the following error: {}",
                    self.text, failure.cause
                ),
            )
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Call {
    function: Function,
    args: Vec<Arg>,
    /// Byte offset of the function name in the field's text.
    offset: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum Arg {
    /// A quoted string literal; its `{}` placeholders are kept apart from
    /// escaped braces so `States.Format` can tell them apart.
    Text(Vec<Piece>),
    /// A number, `true`, `false` or `null`.
    Literal(Value),
    Path(Path),
    Call(Box<Call>),
}

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Placeholder,
}

/// Every intrinsic function AWS documents for JSONPath states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Function {
    Format,
    StringToJson,
    JsonToString,
    Array,
    ArrayPartition,
    ArrayContains,
    ArrayRange,
    ArrayGetItem,
    ArrayLength,
    ArrayUnique,
    Base64Encode,
    Base64Decode,
    Hash,
    JsonMerge,
    MathRandom,
    MathAdd,
    StringSplit,
    Uuid,
}

/// What an argument must be. `Integer` requires a whole number; `Number`
/// accepts any number and rounds it, as AWS documents for `States.MathAdd`
/// and `States.MathRandom`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Any,
    String,
    Integer,
    Number,
    Boolean,
    Array,
    Object,
}

const HASH_ALGORITHMS: [&str; 5] = ["MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512"];

impl Function {
    const ALL: [Function; 18] = [
        Function::Format,
        Function::StringToJson,
        Function::JsonToString,
        Function::Array,
        Function::ArrayPartition,
        Function::ArrayContains,
        Function::ArrayRange,
        Function::ArrayGetItem,
        Function::ArrayLength,
        Function::ArrayUnique,
        Function::Base64Encode,
        Function::Base64Decode,
        Function::Hash,
        Function::JsonMerge,
        Function::MathRandom,
        Function::MathAdd,
        Function::StringSplit,
        Function::Uuid,
    ];

    fn name(self) -> &'static str {
        match self {
            Function::Format => "States.Format",
            Function::StringToJson => "States.StringToJson",
            Function::JsonToString => "States.JsonToString",
            Function::Array => "States.Array",
            Function::ArrayPartition => "States.ArrayPartition",
            Function::ArrayContains => "States.ArrayContains",
            Function::ArrayRange => "States.ArrayRange",
            Function::ArrayGetItem => "States.ArrayGetItem",
            Function::ArrayLength => "States.ArrayLength",
            Function::ArrayUnique => "States.ArrayUnique",
            Function::Base64Encode => "States.Base64Encode",
            Function::Base64Decode => "States.Base64Decode",
            Function::Hash => "States.Hash",
            Function::JsonMerge => "States.JsonMerge",
            Function::MathRandom => "States.MathRandom",
            Function::MathAdd => "States.MathAdd",
            Function::StringSplit => "States.StringSplit",
            Function::Uuid => "States.UUID",
        }
    }

    fn from_name(name: &str) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Smallest and largest argument count (`None`: no upper bound).
    fn arity(self) -> (usize, Option<usize>) {
        match self {
            Function::Format => (1, None),
            Function::Array => (0, None),
            Function::Uuid => (0, Some(0)),
            Function::StringToJson
            | Function::JsonToString
            | Function::ArrayLength
            | Function::ArrayUnique
            | Function::Base64Encode
            | Function::Base64Decode => (1, Some(1)),
            Function::ArrayPartition
            | Function::ArrayContains
            | Function::ArrayGetItem
            | Function::Hash
            | Function::MathAdd
            | Function::StringSplit => (2, Some(2)),
            Function::MathRandom => (2, Some(3)),
            Function::ArrayRange | Function::JsonMerge => (3, Some(3)),
        }
    }

    /// What argument `index` (from 0) must be.
    fn param(self, index: usize) -> Kind {
        use Kind::*;
        let params: &[Kind] = match self {
            Function::Format => &[String],
            Function::StringToJson => &[String],
            Function::ArrayPartition => &[Array, Integer],
            Function::ArrayContains => &[Array, Any],
            Function::ArrayRange => &[Integer, Integer, Integer],
            Function::ArrayGetItem => &[Array, Integer],
            Function::ArrayLength | Function::ArrayUnique => &[Array],
            Function::Base64Encode | Function::Base64Decode => &[String],
            Function::Hash => &[String, String],
            Function::JsonMerge => &[Object, Object, Boolean],
            Function::MathRandom => &[Number, Number, Integer],
            Function::MathAdd => &[Number, Number],
            Function::StringSplit => &[String, String],
            Function::JsonToString | Function::Array | Function::Uuid => &[],
        };
        params.get(index).copied().unwrap_or(Any)
    }

    /// What the function returns, when that is fixed.
    fn returns(self) -> Kind {
        match self {
            Function::Format
            | Function::JsonToString
            | Function::Base64Encode
            | Function::Base64Decode
            | Function::Hash
            | Function::Uuid => Kind::String,
            Function::Array
            | Function::ArrayPartition
            | Function::ArrayRange
            | Function::ArrayUnique
            | Function::StringSplit => Kind::Array,
            Function::ArrayLength | Function::MathRandom | Function::MathAdd => Kind::Integer,
            Function::ArrayContains => Kind::Boolean,
            Function::JsonMerge => Kind::Object,
            Function::StringToJson | Function::ArrayGetItem => Kind::Any,
        }
    }

    fn arity_error(self, got: usize) -> String {
        let name = self.name();
        let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
        match self.arity() {
            (0, Some(0)) => format!("{name} takes no arguments, got {got}"),
            (min, Some(max)) if min == max => {
                format!("{name} takes {min} {}, got {got}", plural(min))
            }
            (min, Some(max)) => format!("{name} takes {min} or {max} arguments, got {got}"),
            (min, None) => format!("{name} takes at least {min} {}, got {got}", plural(min)),
        }
    }
}

impl Kind {
    fn describe(self) -> &'static str {
        match self {
            Kind::Any => "any value",
            Kind::String => "a string",
            Kind::Integer => "an integer",
            Kind::Number => "a number",
            Kind::Boolean => "a boolean",
            Kind::Array => "an array",
            Kind::Object => "a JSON object",
        }
    }

    fn accepts(self, value: &Value) -> bool {
        match self {
            Kind::Any => true,
            Kind::String => value.is_string(),
            Kind::Integer => whole_number(value).is_some(),
            Kind::Number => value.is_number(),
            Kind::Boolean => value.is_boolean(),
            Kind::Array => value.is_array(),
            Kind::Object => value.is_object(),
        }
    }

    /// Whether a value of kind `self` (a nested call's result) can satisfy
    /// `wanted`.
    fn may_satisfy(self, wanted: Kind) -> bool {
        self == Kind::Any
            || wanted == Kind::Any
            || self == wanted
            || (self == Kind::Integer && wanted == Kind::Number)
    }
}

/// Compact JSON, cut to a readable length on a character boundary.
fn quote(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

/// A whole number as `i64`. Floats with no fractional part (`3.0`) count:
/// AWS does not say, and rejecting them would only surprise.
fn whole_number(value: &Value) -> Option<i64> {
    let number = value.as_number()?;
    if let Some(i) = number.as_i64() {
        return Some(i);
    }
    let f = number.as_f64()?;
    if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 {
        Some(f as i64)
    } else {
        None
    }
}

/// Rounds like Java's `Math.round` (half up), which AWS uses when it
/// "rounds off to the nearest integer".
fn rounded(value: &Value) -> Option<f64> {
    let f = value.as_f64()?;
    Some((f + 0.5).floor())
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

struct Parser<'a> {
    text: &'a str,
    /// Byte offset; always on a character boundary because the parser only
    /// stops on ASCII bytes.
    pos: usize,
    calls: usize,
}

impl Parser<'_> {
    fn error(&self, at: usize, message: impl fmt::Display) -> String {
        format!("{message} at offset {at}")
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn found_description(&self) -> String {
        match self
            .text
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
        {
            Some(c) => format!("'{c}'"),
            None => "end of text".to_string(),
        }
    }

    fn identifier(&mut self) -> &str {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        {
            self.pos += 1;
        }
        &self.text[start..self.pos]
    }

    fn call(&mut self) -> Result<Call, String> {
        let start = self.pos;
        let name = self.identifier().to_string();
        if name.is_empty() {
            return Err(self.error(
                start,
                format!(
                    "expected an intrinsic function such as States.Format(...), found {}",
                    self.found_description()
                ),
            ));
        }
        let function = Function::from_name(&name)
            .ok_or_else(|| self.error(start, format!("unknown intrinsic function {name}")))?;
        self.calls += 1;
        if self.calls > MAX_CALLS_PER_FIELD {
            return Err(self.error(
                start,
                format!("a field may use at most {MAX_CALLS_PER_FIELD} intrinsic functions"),
            ));
        }
        self.skip_whitespace();
        if self.peek() != Some(b'(') {
            return Err(self.error(
                self.pos,
                format!(
                    "expected '(' after {name}, found {}",
                    self.found_description()
                ),
            ));
        }
        self.pos += 1;
        self.skip_whitespace();
        let mut args = Vec::new();
        if self.peek() == Some(b')') {
            self.pos += 1;
        } else {
            loop {
                args.push(self.arg()?);
                self.skip_whitespace();
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        self.skip_whitespace();
                    }
                    Some(b')') => {
                        self.pos += 1;
                        break;
                    }
                    None => {
                        return Err(self.error(
                            self.pos,
                            format!("unterminated call to {name}: expected ')'"),
                        ))
                    }
                    Some(_) => {
                        return Err(self.error(
                            self.pos,
                            format!(
                                "expected ',' or ')' in the arguments of {name}, found {}",
                                self.found_description()
                            ),
                        ))
                    }
                }
            }
        }
        let call = Call {
            function,
            args,
            offset: start,
        };
        call.check().map_err(|message| self.error(start, message))?;
        Ok(call)
    }

    fn arg(&mut self) -> Result<Arg, String> {
        let start = self.pos;
        match self.peek() {
            Some(b'\'') => self.string_literal(),
            Some(b'$') => self.path(),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b) if b.is_ascii_alphabetic() => {
                let word = self.identifier().to_string();
                let literal = match word.as_str() {
                    "true" => Some(Value::Bool(true)),
                    "false" => Some(Value::Bool(false)),
                    "null" => Some(Value::Null),
                    _ => None,
                };
                match literal {
                    Some(value) => Ok(Arg::Literal(value)),
                    None => {
                        self.pos = start;
                        Ok(Arg::Call(Box::new(self.call()?)))
                    }
                }
            }
            _ => Err(self.error(
                start,
                format!(
                    "expected an argument (a 'quoted string', a number, true, false, null, \
                     a path starting with '$' or an intrinsic function), found {}",
                    self.found_description()
                ),
            )),
        }
    }

    /// A single-quoted string. AWS reserves `'`, `{`, `}` and `\`: they must
    /// be escaped with a backslash, except `{}` which is a placeholder (only
    /// meaningful to `States.Format`; elsewhere it stands for the text `{}`).
    /// Any other escape is an error, as AWS documents for "an open escape
    /// backslash".
    fn string_literal(&mut self) -> Result<Arg, String> {
        let start = self.pos;
        self.pos += 1;
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut run_start = self.pos;
        loop {
            let Some(b) = self.peek() else {
                return Err(self.error(start, "unterminated string literal"));
            };
            if !matches!(b, b'\'' | b'\\' | b'{' | b'}') {
                self.pos += 1;
                continue;
            }
            text.push_str(&self.text[run_start..self.pos]);
            match b {
                b'\'' => {
                    self.pos += 1;
                    break;
                }
                b'\\' => {
                    match self.text.as_bytes().get(self.pos + 1) {
                        Some(&escaped @ (b'\'' | b'{' | b'}' | b'\\')) => {
                            text.push(char::from(escaped));
                        }
                        Some(_) => {
                            self.pos += 1;
                            return Err(self.error(
                                self.pos - 1,
                                format!(
                                    "invalid escape '\\{}' in a string literal; only \\', \\{{, \\}} \
                                     and \\\\ are allowed",
                                    self.found_description().trim_matches('\'')
                                ),
                            ));
                        }
                        None => {
                            return Err(self.error(start, "unterminated string literal"));
                        }
                    }
                    self.pos += 2;
                }
                b'{' => {
                    if self.text.as_bytes().get(self.pos + 1) != Some(&b'}') {
                        return Err(self.error(
                            self.pos,
                            "unescaped '{' in a string literal; write '\\{' for a brace \
                             or '{}' for a placeholder",
                        ));
                    }
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Placeholder);
                    self.pos += 2;
                }
                _ => {
                    return Err(
                        self.error(self.pos, "unescaped '}' in a string literal; write '\\}'")
                    );
                }
            }
            run_start = self.pos;
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Arg::Text(pieces))
    }

    /// A path runs to the first `,`, `)` or whitespace outside brackets,
    /// parentheses and quotes; `crate::path` then parses it.
    fn path(&mut self) -> Result<Arg, String> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let mut depth = 0usize;
        let mut quote: Option<u8> = None;
        while let Some(&b) = bytes.get(self.pos) {
            if let Some(q) = quote {
                if b == b'\\' {
                    self.pos += 1;
                } else if b == q {
                    quote = None;
                }
            } else {
                match b {
                    b'[' | b'(' => depth += 1,
                    b']' | b')' if depth > 0 => depth -= 1,
                    b'\'' | b'"' if depth > 0 => quote = Some(b),
                    b',' | b')' if depth == 0 => break,
                    _ if depth == 0 && b.is_ascii_whitespace() => break,
                    _ => {}
                }
            }
            self.pos += 1;
        }
        // An escape at the very end may have stepped past the text.
        self.pos = self.pos.min(self.text.len());
        let text = &self.text[start..self.pos];
        Path::parse(text)
            .map(Arg::Path)
            .map_err(|e| self.error(start, format!("invalid path '{text}': {e}")))
    }

    fn number(&mut self) -> Result<Arg, String> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
        {
            self.pos += 1;
        }
        let token = &self.text[start..self.pos];
        serde_json::from_str::<Number>(token)
            .map(|n| Arg::Literal(Value::Number(n)))
            .map_err(|_| self.error(start, format!("invalid number '{token}'")))
    }
}

// ---------------------------------------------------------------------------
// Definition-time checks
// ---------------------------------------------------------------------------

impl Arg {
    /// The argument's value when it is fixed by the definition.
    fn literal(&self) -> Option<Value> {
        match self {
            Arg::Text(pieces) => Some(Value::String(join_pieces(pieces))),
            Arg::Literal(value) => Some(value.clone()),
            Arg::Path(_) | Arg::Call(_) => None,
        }
    }

    /// True when the argument depends on nothing but the definition.
    fn is_constant(&self) -> bool {
        match self {
            Arg::Text(_) | Arg::Literal(_) => true,
            Arg::Path(_) => false,
            Arg::Call(call) => call.args.iter().all(Arg::is_constant),
        }
    }
}

fn join_pieces(pieces: &[Piece]) -> String {
    pieces
        .iter()
        .map(|piece| match piece {
            Piece::Text(text) => text.as_str(),
            Piece::Placeholder => "{}",
        })
        .collect()
}

impl Call {
    /// Rejects what the definition alone shows to be wrong: the argument
    /// count, literal arguments (and nested calls) of the wrong type, and any
    /// call whose arguments are all literals and which would fail whenever
    /// it runs.
    fn check(&self) -> Result<(), String> {
        let function = self.function;
        let name = function.name();
        let (min, max) = function.arity();
        let got = self.args.len();
        if got < min || max.is_some_and(|max| got > max) {
            return Err(function.arity_error(got));
        }
        for (index, arg) in self.args.iter().enumerate() {
            let wanted = function.param(index);
            if let Some(value) = arg.literal() {
                if !wanted.accepts(&value) {
                    return Err(format!(
                        "{name} argument {} must be {}, got {}: {}",
                        index + 1,
                        wanted.describe(),
                        JsonType::of(&value).in_intrinsic_errors(),
                        quote(&value)
                    ));
                }
            } else if let Arg::Call(inner) = arg {
                let returns = inner.function.returns();
                if !returns.may_satisfy(wanted) {
                    return Err(format!(
                        "{name} argument {} must be {}, but {} returns {}",
                        index + 1,
                        wanted.describe(),
                        inner.function.name(),
                        returns.describe()
                    ));
                }
            }
        }
        // AWS documents JsonToString's argument as a path.
        if function == Function::JsonToString && self.args[0].literal().is_some() {
            return Err(format!(
                "{name} takes a path (or an intrinsic function), not a literal"
            ));
        }
        if let Some(detail) = self.check_partial_literals() {
            return Err(detail);
        }
        if self.args.iter().all(Arg::is_constant) {
            let (null, variables) = (Value::Null, Map::new());
            let scope = Scope::new(&null, &null, &variables);
            // The entropy is irrelevant: no function fails because of the
            // number it draws.
            if let Err(failure) = self.eval(&scope, &mut SplitMix64(0)) {
                return Err(failure.cause);
            }
        }
        Ok(())
    }

    /// Checks that need only some arguments to be literals.
    fn check_partial_literals(&self) -> Option<String> {
        let name = self.function.name();
        let literal = |index: usize| self.args.get(index).and_then(Arg::literal);
        match self.function {
            Function::Format => {
                let Some(Arg::Text(pieces)) = self.args.first() else {
                    return None;
                };
                let placeholders = pieces
                    .iter()
                    .filter(|piece| **piece == Piece::Placeholder)
                    .count();
                format_arity(placeholders, self.args.len() - 1).err()
            }
            Function::Hash => literal(1)
                .and_then(|algorithm| hash_algorithm(&algorithm).err())
                .map(|detail| format!("{name}: {detail}")),
            Function::JsonMerge => (literal(2) == Some(Value::Bool(true)))
                .then(|| format!("{name}: {DEEP_MERGE_UNSUPPORTED}")),
            Function::ArrayPartition => literal(1)
                .and_then(|size| whole_number(&size))
                .filter(|size| *size <= 0)
                .map(|size| {
                    format!("{name}: the chunk size must be a positive integer, got {size}")
                }),
            Function::ArrayGetItem => literal(1)
                .and_then(|index| whole_number(&index))
                .filter(|index| *index < 0)
                .map(|index| format!("{name}: the index must not be negative, got {index}")),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------

const DEEP_MERGE_UNSUPPORTED: &str = "Step Functions supports only the shallow merge mode, \
     so the third argument must be false";

/// An argument-value failure, reported as `States.IntrinsicFailure`.
fn invalid(function: Function, detail: impl fmt::Display) -> Failure {
    Failure::intrinsic(format!("{}: {detail}", function.name()))
}

fn format_arity(placeholders: usize, values: usize) -> Result<(), String> {
    if placeholders == values {
        Ok(())
    } else {
        Err(format!(
            "States.Format: the template has {placeholders} placeholder(s) '{{}}' \
             but {values} value(s) were given"
        ))
    }
}

fn hash_algorithm(value: &Value) -> Result<&str, String> {
    match value.as_str() {
        Some(name) if HASH_ALGORITHMS.contains(&name) => Ok(name),
        _ => Err(format!(
            "unsupported hash algorithm {}; use one of {}",
            quote(value),
            HASH_ALGORITHMS.join(", ")
        )),
    }
}

impl Arg {
    fn eval(&self, scope: &Scope, entropy: &mut dyn Entropy) -> Result<Value, Failure> {
        match self {
            Arg::Text(pieces) => Ok(Value::String(join_pieces(pieces))),
            Arg::Literal(value) => Ok(value.clone()),
            Arg::Call(call) => call.eval(scope, entropy),
            Arg::Path(path) => path.eval(scope).map_err(|failure| {
                if failure.is_runtime() {
                    // AWS's wording, with the state's input as compact JSON.
                    Failure::runtime(format!(
                        "The JsonPath argument for the field '{}' could not be found in the input '{}'",
                        path.text(),
                        scope.input
                    ))
                } else {
                    failure
                }
            }),
        }
    }
}

impl Call {
    fn eval(&self, scope: &Scope, entropy: &mut dyn Entropy) -> Result<Value, Failure> {
        let mut values = Vec::with_capacity(self.args.len());
        for arg in &self.args {
            values.push(arg.eval(scope, entropy)?);
        }
        let function = self.function;
        for (index, value) in values.iter().enumerate() {
            let wanted = function.param(index);
            if !wanted.accepts(value) {
                return Err(invalid(
                    function,
                    format!(
                        "argument {} must be {}, got {}: {}",
                        index + 1,
                        wanted.describe(),
                        JsonType::of(value).in_intrinsic_errors(),
                        quote(value)
                    ),
                ));
            }
        }
        match function {
            Function::Format => format(&self.args[0], &values),
            Function::StringToJson => string_to_json(&values[0]),
            Function::JsonToString => Ok(Value::String(values[0].to_string())),
            Function::Array => Ok(Value::Array(values)),
            Function::ArrayPartition => array_partition(&values),
            Function::ArrayContains => Ok(Value::Bool(
                array(&values[0]).iter().any(|item| *item == values[1]),
            )),
            Function::ArrayRange => array_range(&values),
            Function::ArrayGetItem => array_get_item(&values),
            Function::ArrayLength => Ok(Value::from(array(&values[0]).len())),
            Function::ArrayUnique => Ok(array_unique(&values[0])),
            Function::Base64Encode => base64_encode(&values[0]),
            Function::Base64Decode => base64_decode(&values[0]),
            Function::Hash => hash(&values),
            Function::JsonMerge => json_merge(&values),
            Function::MathRandom => math_random(&values, entropy),
            Function::MathAdd => math_add(&values),
            Function::StringSplit => Ok(string_split(&values)),
            Function::Uuid => Ok(Value::String(uuid_v4(entropy))),
        }
    }
}

fn array(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

/// `States.Format`. A literal template keeps its escaped braces apart from
/// its placeholders. A template that comes from a path or a nested call is
/// data: AWS does not say how it is read, so every `{}` in it is a
/// placeholder and nothing in it is an escape.
fn format(template: &Arg, values: &[Value]) -> Result<Value, Failure> {
    let arguments = &values[1..];
    let pieces = match template {
        Arg::Text(pieces) => pieces.clone(),
        _ => {
            let mut pieces = Vec::new();
            for (index, part) in text(&values[0]).split("{}").enumerate() {
                if index > 0 {
                    pieces.push(Piece::Placeholder);
                }
                pieces.push(Piece::Text(part.to_string()));
            }
            pieces
        }
    };
    let placeholders = pieces
        .iter()
        .filter(|piece| **piece == Piece::Placeholder)
        .count();
    format_arity(placeholders, arguments.len()).map_err(Failure::intrinsic)?;
    let mut out = String::new();
    let mut next = arguments.iter();
    for piece in &pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Placeholder => {
                if let Some(value) = next.next() {
                    render_for_format(value, &mut out);
                }
            }
        }
    }
    Ok(Value::String(out))
}

/// How AWS (a Java service) prints a value into a `States.Format` string:
/// strings bare, arrays as `[a, b]`, objects as `{key=value, ...}`, other
/// values as JSON.
fn render_for_format(value: &Value, out: &mut String) {
    match value {
        Value::String(text) => out.push_str(text),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                render_for_format(item, out);
            }
            out.push(']');
        }
        Value::Object(fields) => {
            out.push('{');
            for (index, (key, item)) in fields.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                out.push_str(key);
                out.push('=');
                render_for_format(item, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn string_to_json(value: &Value) -> Result<Value, Failure> {
    serde_json::from_str(text(value)).map_err(|e| {
        invalid(
            Function::StringToJson,
            format!("the string is not valid JSON ({e}): {}", quote(value)),
        )
    })
}

fn array_partition(values: &[Value]) -> Result<Value, Failure> {
    let size = whole_number(&values[1]).unwrap_or_default();
    if size <= 0 {
        return Err(invalid(
            Function::ArrayPartition,
            format!("the chunk size must be a positive integer, got {size}"),
        ));
    }
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let chunks = array(&values[0])
        .chunks(size)
        .map(|chunk| Value::Array(chunk.to_vec()))
        .collect();
    Ok(Value::Array(chunks))
}

/// `States.ArrayRange(first, last, step)`: from `first` towards `last`
/// inclusive. AWS requires a non-zero step but does not say what a step
/// pointing away from `last` gives; this returns an empty array.
fn array_range(values: &[Value]) -> Result<Value, Failure> {
    let function = Function::ArrayRange;
    let [first, last, step] = [0, 1, 2].map(|i| whole_number(&values[i]).unwrap_or_default());
    if step == 0 {
        return Err(invalid(function, "the step (argument 3) must not be 0"));
    }
    let (first, last, step) = (i128::from(first), i128::from(last), i128::from(step));
    let count = if (step > 0 && last < first) || (step < 0 && last > first) {
        0
    } else {
        (last - first) / step + 1
    };
    if count > i128::from(MAX_ARRAY_RANGE_ITEMS) {
        return Err(invalid(
            function,
            format!(
                "the range would hold {count} items; an array may hold at most {MAX_ARRAY_RANGE_ITEMS}"
            ),
        ));
    }
    let items = (0..count)
        .map(|i| first + i * step)
        .filter_map(|n| i64::try_from(n).ok())
        .map(Value::from)
        .collect();
    Ok(Value::Array(items))
}

fn array_get_item(values: &[Value]) -> Result<Value, Failure> {
    let items = array(&values[0]);
    let index = whole_number(&values[1]).unwrap_or_default();
    usize::try_from(index)
        .ok()
        .and_then(|i| items.get(i))
        .cloned()
        .ok_or_else(|| {
            invalid(
                Function::ArrayGetItem,
                format!(
                    "index {index} is out of bounds for an array of length {}",
                    items.len()
                ),
            )
        })
}

/// Keeps the first occurrence of each value, in order.
fn array_unique(value: &Value) -> Value {
    let mut unique: Vec<Value> = Vec::new();
    for item in array(value) {
        if !unique.contains(item) {
            unique.push(item.clone());
        }
    }
    Value::Array(unique)
}

fn check_codec_length(function: Function, value: &Value) -> Result<(), Failure> {
    let length = text(value).chars().count();
    if length > MAX_CODEC_INPUT_CHARS {
        return Err(invalid(
            function,
            format!(
                "the input holds {length} characters; at most {MAX_CODEC_INPUT_CHARS} are allowed"
            ),
        ));
    }
    Ok(())
}

fn base64_encode(value: &Value) -> Result<Value, Failure> {
    check_codec_length(Function::Base64Encode, value)?;
    Ok(Value::String(
        base64::engine::general_purpose::STANDARD.encode(text(value)),
    ))
}

/// The decoded bytes must be UTF-8: a JSON string cannot hold anything else.
fn base64_decode(value: &Value) -> Result<Value, Failure> {
    let function = Function::Base64Decode;
    check_codec_length(function, value)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text(value))
        .map_err(|e| invalid(function, format!("the input is not valid base64 ({e})")))?;
    String::from_utf8(bytes)
        .map(Value::String)
        .map_err(|_| invalid(function, "the decoded data is not UTF-8 text"))
}

fn hash(values: &[Value]) -> Result<Value, Failure> {
    let function = Function::Hash;
    let algorithm = hash_algorithm(&values[1]).map_err(|detail| invalid(function, detail))?;
    check_codec_length(function, &values[0])?;
    let data = text(&values[0]).as_bytes();
    hex_digest(algorithm, data)
        .map(Value::String)
        .ok_or_else(|| invalid(function, format!("unsupported hash algorithm {algorithm}")))
}

/// The lowercase hex digest of `data` under one of the algorithms both
/// `States.Hash` and JSONata's `$hash` name (`MD5`, `SHA-1`, `SHA-256`,
/// `SHA-384`, `SHA-512`, exactly so written); `None` for any other name.
pub(crate) fn hex_digest(algorithm: &str, data: &[u8]) -> Option<String> {
    use sha2::Digest as _;
    let digest: Vec<u8> = match algorithm {
        "MD5" => md5::Md5::digest(data).to_vec(),
        "SHA-1" => sha1::Sha1::digest(data).to_vec(),
        "SHA-256" => sha2::Sha256::digest(data).to_vec(),
        "SHA-384" => sha2::Sha384::digest(data).to_vec(),
        "SHA-512" => sha2::Sha512::digest(data).to_vec(),
        _ => return None,
    };
    Some(digest.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// Shallow merge: the second object's keys win; nested objects are replaced,
/// not merged.
fn json_merge(values: &[Value]) -> Result<Value, Failure> {
    if values[2] == Value::Bool(true) {
        return Err(invalid(Function::JsonMerge, DEEP_MERGE_UNSUPPORTED));
    }
    let mut merged = values[0].as_object().cloned().unwrap_or_default();
    if let Some(second) = values[1].as_object() {
        for (key, value) in second {
            merged.insert(key.clone(), value.clone());
        }
    }
    Ok(Value::Object(merged))
}

/// AWS runs on Java `int`s for these arguments.
fn java_int(function: Function, what: &str, value: &Value) -> Result<i64, Failure> {
    match rounded(value) {
        Some(n) if n >= f64::from(i32::MIN) && n <= f64::from(i32::MAX) => Ok(n as i64),
        _ => Err(invalid(
            function,
            format!(
                "the {what} must be an integer from {} to {}, got {}",
                i32::MIN,
                i32::MAX,
                quote(value)
            ),
        )),
    }
}

/// `States.MathRandom(start, end[, seed])`: an integer in `[start, end)`.
/// With a seed the draw comes from a generator seeded with it, so the same
/// seed always gives the same number; without one it comes from the
/// caller's entropy.
fn math_random(values: &[Value], entropy: &mut dyn Entropy) -> Result<Value, Failure> {
    let function = Function::MathRandom;
    let start = java_int(function, "start", &values[0])?;
    let end = java_int(function, "end", &values[1])?;
    if start >= end {
        return Err(invalid(
            function,
            format!("the start ({start}) must be less than the end ({end}), which is exclusive"),
        ));
    }
    let draw = match values.get(2) {
        Some(seed) => SplitMix64(whole_number(seed).unwrap_or_default() as u64).next_u64(),
        None => entropy.next_u64(),
    };
    // The span is at most 2^32, so the modulo bias is below 2^-32.
    let span = (end - start) as u64;
    Ok(Value::from(start + (draw % span) as i64))
}

fn math_add(values: &[Value]) -> Result<Value, Failure> {
    let function = Function::MathAdd;
    let a = java_int(function, "first argument", &values[0])?;
    let b = java_int(function, "second argument", &values[1])?;
    Ok(Value::from(a + b))
}

/// Every character of the delimiter string splits, and empty pieces are
/// dropped (Java's `StringTokenizer`), which is what AWS's example
/// (`"This.is+a,test=string"` split on `".+,="`) shows.
fn string_split(values: &[Value]) -> Value {
    let delimiters: Vec<char> = text(&values[1]).chars().collect();
    let parts = text(&values[0])
        .split(|c| delimiters.contains(&c))
        .filter(|part| !part.is_empty())
        .map(|part| Value::String(part.to_string()))
        .collect();
    Value::Array(parts)
}

/// A version 4 (random) UUID in the canonical lowercase form.
pub(crate) fn uuid_v4(entropy: &mut dyn Entropy) -> String {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&entropy.next_u64().to_be_bytes());
    bytes[8..].copy_from_slice(&entropy.next_u64().to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests;
