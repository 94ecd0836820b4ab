//! The evaluator's value type: JSON values plus JSONata's extras (undefined,
//! sequences with their flags, functions), shared by `Rc` so that navigating
//! a path never copies the data it walks. Also the conversions to and from
//! serde_json and JavaScript's number-to-string. It must not evaluate
//! expressions.

use crate::{NEW_SEGMENT, RED_ZONE};
use std::rc::Rc;

use indexmap::IndexMap;

use crate::eval::Function;

/// An object: insertion-ordered, as JavaScript objects keep string keys.
/// Dropping one tears nested containers down iteratively (see `teardown`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Object<'j>(pub IndexMap<String, Value<'j>>);

/// An array's items; dropped iteratively like `Object`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Items<'j>(pub Vec<Value<'j>>);

impl<'j> Object<'j> {
    pub fn new() -> Self {
        Object(IndexMap::new())
    }
    pub fn with_capacity(n: usize) -> Self {
        Object(IndexMap::with_capacity(n))
    }
}

impl<'j> Items<'j> {
    pub fn into_vec(mut self) -> Vec<Value<'j>> {
        std::mem::take(&mut self.0)
    }
}

impl<'j> std::ops::Deref for Object<'j> {
    type Target = IndexMap<String, Value<'j>>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}
impl std::ops::DerefMut for Object<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}
impl<'j> std::ops::Deref for Items<'j> {
    type Target = Vec<Value<'j>>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}
impl std::ops::DerefMut for Items<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}
impl<'j> From<Vec<Value<'j>>> for Items<'j> {
    fn from(v: Vec<Value<'j>>) -> Self {
        Items(v)
    }
}

/// Drops values without recursion: an expression can build data nested
/// far deeper than any thread stack (a recursive function wrapping its
/// accumulator in `{'x': ...}` 100,000 times), and the compiler's drop
/// glue would recurse once per level.
fn teardown(mut stack: Vec<Value<'_>>) {
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(rc, _) => {
                if let Ok(mut items) = Rc::try_unwrap(rc) {
                    stack.append(&mut items.0);
                }
            }
            Value::Object(rc) => {
                if let Ok(mut o) = Rc::try_unwrap(rc) {
                    stack.extend(o.0.drain(..).map(|(_, v)| v));
                }
            }
            _ => {}
        }
    }
}

impl Drop for Object<'_> {
    fn drop(&mut self) {
        if self
            .0
            .values()
            .any(|v| matches!(v, Value::Array(..) | Value::Object(_)))
        {
            teardown(self.0.drain(..).map(|(_, v)| v).collect());
        }
    }
}

impl Drop for Items<'_> {
    fn drop(&mut self) {
        if self
            .0
            .iter()
            .any(|v| matches!(v, Value::Array(..) | Value::Object(_)))
        {
            teardown(std::mem::take(&mut self.0));
        }
    }
}

/// Flags jsonata-js hangs on arrays: a sequence (result of navigation, to be
/// flattened and unwrapped), one that keeps a singleton (`[]`), an array
/// built by a constructor (`cons`, never flattened), a tuple stream, and
/// the outer wrapper of an array input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Flags(u8);

impl Flags {
    pub const SEQUENCE: Flags = Flags(1);
    pub const KEEP_SINGLETON: Flags = Flags(2);
    pub const CONS: Flags = Flags(4);
    pub const TUPLE_STREAM: Flags = Flags(8);
    pub const OUTER_WRAPPER: Flags = Flags(16);
    pub const NONE: Flags = Flags(0);

    pub fn has(self, f: Flags) -> bool {
        self.0 & f.0 != 0
    }
    pub fn with(self, f: Flags) -> Flags {
        Flags(self.0 | f.0)
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Value<'j> {
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    String(Rc<str>),
    Array(Rc<Items<'j>>, Flags),
    Object(Rc<Object<'j>>),
    Function(Rc<Function<'j>>),
    /// An array or object of the caller's serde_json data, borrowed: paths
    /// navigate it without copying (scalars are read into the variants
    /// above).
    Json(&'j serde_json::Value),
}

impl<'j> Value<'j> {
    pub fn str(s: &str) -> Value<'j> {
        Value::String(Rc::from(s))
    }
    pub fn string(s: String) -> Value<'j> {
        Value::String(Rc::from(s))
    }
    pub fn array(items: Vec<Value<'j>>) -> Value<'j> {
        Value::Array(Rc::new(Items(items)), Flags::NONE)
    }
    pub fn sequence(items: Vec<Value<'j>>) -> Value<'j> {
        Value::Array(Rc::new(Items(items)), Flags::SEQUENCE)
    }
    pub fn object(o: Object<'j>) -> Value<'j> {
        Value::Object(Rc::new(o))
    }
    pub fn is_undefined(&self) -> bool {
        matches!(self, Value::Undefined)
    }
    pub fn is_function(&self) -> bool {
        matches!(self, Value::Function(..))
    }
    /// Borrows caller data: containers stay borrowed, scalars are read.
    pub fn from_ref(j: &'j serde_json::Value) -> Value<'j> {
        match j {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Value::str(s),
            _ => Value::Json(j),
        }
    }

    /// One level of borrowed data as the evaluator's own array or object
    /// (members stay borrowed); any other value as it is.
    pub fn expand(&self) -> Value<'j> {
        match self {
            Value::Json(serde_json::Value::Array(a)) => {
                Value::array(a.iter().map(Value::from_ref).collect())
            }
            Value::Json(serde_json::Value::Object(o)) => {
                let mut m = Object::with_capacity(o.len());
                for (k, v) in o {
                    m.insert(k.clone(), Value::from_ref(v));
                }
                Value::object(m)
            }
            Value::Json(j) => Value::from_ref(j),
            v => v.clone(),
        }
    }

    /// Like `expand`, but only for borrowed arrays (objects stay borrowed,
    /// so a large object is not copied just to be passed along).
    pub fn expand_array(&self) -> Value<'j> {
        match self {
            Value::Json(serde_json::Value::Array(_)) => self.expand(),
            v => v.clone(),
        }
    }

    /// An array of either kind.
    pub fn is_array_like(&self) -> bool {
        matches!(
            self,
            Value::Array(..) | Value::Json(serde_json::Value::Array(_))
        )
    }

    pub fn flags(&self) -> Flags {
        match self {
            Value::Array(_, f) => *f,
            _ => Flags::NONE,
        }
    }
    pub fn with_flags(self, f: Flags) -> Value<'j> {
        match self {
            Value::Array(a, old) => Value::Array(a, old.with(f)),
            v => v,
        }
    }
    pub fn as_array(&self) -> Option<&[Value<'j>]> {
        match self {
            Value::Array(a, _) => Some(a),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// JSONata's type names, as `$type` reports them.
    pub fn type_name(&self) -> Option<&'static str> {
        Some(match self {
            Value::Undefined => return None,
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(..) => "array",
            Value::Object(_) => "object",
            Value::Function(_) => "function",
            Value::Json(serde_json::Value::Array(_)) => "array",
            Value::Json(serde_json::Value::Object(_)) => "object",
            Value::Json(j) => return Value::from_ref(j).type_name(),
        })
    }

    /// The items of an array, or the value as a one-item list (undefined as
    /// none), as jsonata-js iterates "a value or a sequence".
    pub fn members(&self) -> Vec<Value<'j>> {
        match self {
            Value::Undefined => Vec::new(),
            Value::Array(a, _) => a.to_vec(),
            Value::Json(serde_json::Value::Array(a)) => a.iter().map(Value::from_ref).collect(),
            v => vec![v.clone()],
        }
    }

    pub fn from_json(j: &serde_json::Value) -> Value<'j> {
        match j {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Value::str(s),
            serde_json::Value::Array(a) => Value::array(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(o) => {
                let mut m = Object::with_capacity(o.len());
                for (k, v) in o {
                    m.insert(k.clone(), Value::from_json(v));
                }
                Value::object(m)
            }
        }
    }

    /// Converts to serde_json as JSON.stringify would: undefined members of
    /// objects are dropped and in arrays become null; functions become
    /// undefined (so `None`) at the top level, dropped in objects and null
    /// in arrays. Integral numbers in the safe range become integers.
    pub fn to_json(&self) -> Option<serde_json::Value> {
        match self {
            Value::Undefined | Value::Function(_) => None,
            Value::Json(j) => Some((*j).clone()),
            Value::Null => Some(serde_json::Value::Null),
            Value::Bool(b) => Some(serde_json::Value::Bool(*b)),
            Value::Number(n) => Some(number_to_json(*n)),
            Value::String(s) => Some(serde_json::Value::String(s.to_string())),
            Value::Array(a, _) => Some(serde_json::Value::Array(
                a.iter()
                    .map(|v| v.to_json().unwrap_or(serde_json::Value::Null))
                    .collect(),
            )),
            Value::Object(o) => {
                let mut m = serde_json::Map::with_capacity(o.len());
                for (k, v) in o.iter() {
                    if let Some(j) = v.to_json() {
                        m.insert(k.clone(), j);
                    }
                }
                Some(serde_json::Value::Object(m))
            }
        }
    }
}

/// Whether a value nests arrays and objects more than `limit` levels deep,
/// found without recursion.
pub(crate) fn nested_deeper_than(v: &Value<'_>, limit: usize) -> bool {
    let mut stack: Vec<(&Value<'_>, usize)> = vec![(v, 0)];
    while let Some((v, d)) = stack.pop() {
        match v {
            Value::Array(a, _) => {
                if d >= limit {
                    return true;
                }
                stack.extend(a.iter().map(|x| (x, d + 1)));
            }
            Value::Object(o) => {
                if d >= limit {
                    return true;
                }
                stack.extend(o.values().map(|x| (x, d + 1)));
            }
            _ => {}
        }
    }
    false
}

pub(crate) fn number_to_json(n: f64) -> serde_json::Value {
    const SAFE: f64 = 9_007_199_254_740_991.0;
    if n.fract() == 0.0 && n.abs() <= SAFE {
        // Negative zero is an integral value too; JSON has no -0.
        serde_json::Value::Number(serde_json::Number::from(n as i64))
    } else {
        serde_json::Number::from_f64(n)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null)
    }
}

/// JavaScript's `Number.prototype.toString()` for finite numbers: the
/// shortest round-tripping digits, fixed notation for exponents in
/// [-7, 21), exponential (`1e+21`, `1.5e-7`) outside.
pub(crate) fn js_number_string(n: f64) -> String {
    if n == 0.0 {
        return "0".to_string();
    }
    if n.is_nan() {
        return "NaN".to_string();
    }
    if n.is_infinite() {
        return if n > 0.0 {
            "Infinity".to_string()
        } else {
            "-Infinity".to_string()
        };
    }
    let sci = format!("{:e}", n.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let k = digits.len() as i32;
    let point = exp + 1; // position of the decimal point relative to the digits
    let mut out = String::new();
    if n < 0.0 {
        out.push('-');
    }
    if k <= point && point <= 21 {
        out.push_str(&digits);
        for _ in 0..(point - k) {
            out.push('0');
        }
    } else if 0 < point && point <= 21 {
        out.push_str(&digits[..point as usize]);
        out.push('.');
        out.push_str(&digits[point as usize..]);
    } else if -6 < point && point <= 0 {
        out.push_str("0.");
        for _ in 0..(-point) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if point > 0 { '+' } else { '-' });
        out.push_str(&(point - 1).abs().to_string());
    }
    out
}

/// `parseFloat(n.toPrecision(15))`: jsonata-js's `$string` and JSON output
/// round numbers to 15 significant digits to hide binary noise.
pub(crate) fn to_precision_15(n: f64) -> f64 {
    if !n.is_finite() || n == 0.0 {
        return n;
    }
    format!("{:.14e}", n).parse().unwrap_or(n)
}

/// JSON.stringify with jsonata-js's replacer (numbers to 15 significant
/// digits, functions as ""), compact or indented by two spaces.
pub(crate) fn stringify<'j>(v: &Value<'j>, pretty: bool) -> String {
    let mut out = String::new();
    write_json(v, pretty, 0, &mut out, true);
    out
}

/// Recursion over data depth continues on heap stack segments when the
/// thread's stack runs low (values can nest arbitrarily deep).
fn write_json<'j>(v: &Value<'j>, pretty: bool, indent: usize, out: &mut String, top: bool) {
    stacker::maybe_grow(RED_ZONE, NEW_SEGMENT, || {
        write_json_inner(v, pretty, indent, out, top)
    })
}

fn write_json_inner<'j>(v: &Value<'j>, pretty: bool, indent: usize, out: &mut String, top: bool) {
    match v {
        Value::Json(_) => write_json(&v.expand(), pretty, indent, out, top),
        Value::Undefined => {
            if top {
                out.push_str("");
            } else {
                out.push_str("null");
            }
        }
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if n.is_finite() {
                let n = if n.fract() == 0.0 {
                    *n
                } else {
                    to_precision_15(*n)
                };
                out.push_str(&js_number_string(n));
            } else {
                out.push_str("null");
            }
        }
        Value::String(s) => write_json_string(s, out),
        Value::Function(_) => out.push_str("\"\""),
        Value::Array(a, _) => {
            if a.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if pretty {
                    newline(out, indent + 1);
                }
                write_json(item, pretty, indent + 1, out, false);
            }
            if pretty {
                newline(out, indent);
            }
            out.push(']');
        }
        Value::Object(o) => {
            let mut first = true;
            out.push('{');
            for (k, item) in o.iter() {
                if item.is_undefined() {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                if pretty {
                    newline(out, indent + 1);
                }
                write_json_string(k, out);
                out.push(':');
                if pretty {
                    out.push(' ');
                }
                write_json(item, pretty, indent + 1, out, false);
            }
            if pretty && !first {
                newline(out, indent);
            }
            out.push('}');
        }
    }
}

fn newline(out: &mut String, indent: usize) {
    out.push('\n');
    for _ in 0..indent {
        out.push_str("  ");
    }
}

pub(crate) fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The JSON text of a value for error messages (JSON.stringify without the
/// replacer; undefined as `undefined`).
pub(crate) fn error_text<'j>(v: &Value<'j>) -> String {
    match v {
        Value::Undefined => "undefined".to_string(),
        Value::Number(n) if !n.is_finite() => "null".to_string(),
        Value::Number(n) => js_number_string(*n),
        _ => stringify(v, false),
    }
}

/// Deep equality as jsonata-js's `isDeepEqual` (used by `=`, `!=` and `in`).
/// Recursion over data depth continues on heap stack segments when the
/// thread's stack runs low (values can nest arbitrarily deep).
pub(crate) fn deep_equal<'j>(a: &Value<'j>, b: &Value<'j>) -> bool {
    stacker::maybe_grow(RED_ZONE, NEW_SEGMENT, || deep_equal_inner(a, b))
}

fn deep_equal_inner<'j>(a: &Value<'j>, b: &Value<'j>) -> bool {
    match (a, b) {
        (Value::Json(x), Value::Json(y)) => x == y,
        (Value::Json(_), _) => deep_equal(&a.expand(), b),
        (_, Value::Json(_)) => deep_equal(a, &b.expand()),
        (Value::Undefined, Value::Undefined) => true,
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x, _), Value::Array(y, _)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| deep_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        (Value::Function(x), Value::Function(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}

/// A deep copy with fresh `Rc`s everywhere, as `$clone`'s JSON round trip
/// makes (the transform operator relies on object identity in the copy).
/// Recursion over data depth continues on heap stack segments when the
/// thread's stack runs low (values can nest arbitrarily deep).
pub(crate) fn deep_clone<'j>(v: &Value<'j>) -> Value<'j> {
    stacker::maybe_grow(RED_ZONE, NEW_SEGMENT, || deep_clone_inner(v))
}

fn deep_clone_inner<'j>(v: &Value<'j>) -> Value<'j> {
    match v {
        Value::Json(_) => deep_clone(&v.expand()),
        Value::Array(a, _) => Value::array(
            a.iter()
                .filter(|x| !x.is_undefined())
                .map(deep_clone)
                .collect(),
        ),
        Value::Object(o) => {
            let mut m = Object::with_capacity(o.len());
            for (k, x) in o.iter() {
                if x.is_undefined() || x.is_function() {
                    continue;
                }
                m.insert(k.clone(), deep_clone(x));
            }
            Value::object(m)
        }
        Value::Number(n) => Value::Number(to_precision_15(*n)),
        Value::Function(_) => Value::str(""),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_javascript_prints_them() {
        let cases = [
            (1.0, "1"),
            (-1.5, "-1.5"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (123.456, "123.456"),
            (0.1 + 0.2, "0.30000000000000004"),
            (-1e-7, "-1e-7"),
            (2.5e25, "2.5e+25"),
        ];
        for (n, want) in cases {
            assert_eq!(js_number_string(n), want, "{n}");
        }
    }

    #[test]
    fn fifteen_significant_digits_hide_binary_noise() {
        assert_eq!(js_number_string(to_precision_15(0.1 + 0.2)), "0.3");
        assert_eq!(js_number_string(to_precision_15(1e21)), "1e+21");
    }
}
