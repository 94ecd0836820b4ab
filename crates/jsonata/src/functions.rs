//! The built-in function library (jsonata-js's `functions.js` and the
//! functions bound in `jsonata.js`), each with its jsonata-js signature.
//! It must not parse pictures (the `picture` module owns `$formatNumber`,
//! `$formatBase`, `$formatInteger`, `$parseInteger`, `$fromMillis`,
//! `$toMillis`; `picture_glue` adapts them) and reads time and randomness
//! only from the `Environment`.

use crate::{NEW_SEGMENT, RED_ZONE};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::OnceLock;

use base64::Engine as _;

use crate::error::RawError;
use crate::eval::{append, boolean, lookup, utf16_cmp, CallSite, Evaluator, Frame, R};
use crate::signature::Signature;
use crate::value::{
    deep_clone, deep_equal, error_text, js_number_string, stringify, to_precision_15, Flags, Items,
    Object, Value,
};

type Imp =
    for<'j> fn(&mut Evaluator<'_, '_>, &[Value<'j>], &Value<'j>, &Rc<Frame<'j>>) -> R<Value<'j>>;

pub(crate) struct Builtin {
    pub name: &'static str,
    sig: &'static str,
    pub imp: Imp,
}

impl std::fmt::Debug for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "${}", self.name)
    }
}

impl Builtin {
    pub fn signature(&self) -> &'static Signature {
        signatures()
            .get(self.name)
            .unwrap_or_else(|| any_signature())
    }
}

fn any_signature() -> &'static Signature {
    static ANY: OnceLock<Signature> = OnceLock::new();
    ANY.get_or_init(|| Signature::parse("<x*>").expect("the catch-all signature is well formed"))
}

fn signatures() -> &'static HashMap<&'static str, Signature> {
    static SIGS: OnceLock<HashMap<&'static str, Signature>> = OnceLock::new();
    SIGS.get_or_init(|| {
        BUILTINS
            .iter()
            .map(|b| {
                (
                    b.name,
                    Signature::parse(b.sig).expect("built-in signatures are well formed"),
                )
            })
            .collect()
    })
}

pub(crate) fn builtin(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

macro_rules! b {
    ($name:literal, $sig:literal, $imp:expr) => {
        Builtin {
            name: $name,
            sig: $sig,
            imp: $imp,
        }
    };
}

static BUILTINS: &[Builtin] = &[
    b!("sum", "<a<n>:n>", f_sum),
    b!("count", "<a:n>", f_count),
    b!("max", "<a<n>:n>", f_max),
    b!("min", "<a<n>:n>", f_min),
    b!("average", "<a<n>:n>", f_average),
    b!("string", "<x-b?:s>", f_string),
    b!("substring", "<s-nn?:s>", f_substring),
    b!("substringBefore", "<s-s:s>", f_substring_before),
    b!("substringAfter", "<s-s:s>", f_substring_after),
    b!("lowercase", "<s-:s>", f_lowercase),
    b!("uppercase", "<s-:s>", f_uppercase),
    b!("length", "<s-:n>", f_length),
    b!("trim", "<s-:s>", f_trim),
    b!("pad", "<s-ns?:s>", f_pad),
    b!("match", "<s-f<s:o>n?:a<o>>", f_match),
    b!("contains", "<s-(sf):b>", f_contains),
    b!("replace", "<s-(sf)(sf)n?:s>", f_replace),
    b!("split", "<s-(sf)n?:a<s>>", f_split),
    b!("join", "<a<s>s?:s>", f_join),
    b!("number", "<(nsb)-:n>", f_number),
    b!("floor", "<n-:n>", f_floor),
    b!("ceil", "<n-:n>", f_ceil),
    b!("round", "<n-n?:n>", f_round),
    b!("abs", "<n-:n>", f_abs),
    b!("sqrt", "<n-:n>", f_sqrt),
    b!("power", "<n-n:n>", f_power),
    b!("random", "<:n>", f_random),
    b!("boolean", "<x-:b>", f_boolean),
    b!("not", "<x-:b>", f_not),
    b!("map", "<af>", f_map),
    b!("zip", "<a+>", f_zip),
    b!("filter", "<af>", f_filter),
    b!("single", "<af?>", f_single),
    b!("reduce", "<afj?:j>", f_reduce),
    b!("sift", "<o-f?:o>", f_sift),
    b!("keys", "<x-:a<s>>", f_keys),
    b!("lookup", "<x-s:x>", f_lookup),
    b!("append", "<xx:a>", f_append),
    b!("exists", "<x:b>", f_exists),
    b!("spread", "<x-:a<o>>", f_spread),
    b!("merge", "<a<o>:o>", f_merge),
    b!("reverse", "<a:a>", f_reverse),
    b!("each", "<o-f:a>", f_each),
    b!("error", "<s?:x>", f_error),
    b!("assert", "<bs?:x>", f_assert),
    b!("type", "<x:s>", f_type),
    b!("sort", "<af?:a>", f_sort),
    b!("shuffle", "<a:a>", f_shuffle),
    b!("distinct", "<x:x>", f_distinct),
    b!("base64encode", "<s-:s>", f_base64encode),
    b!("base64decode", "<s-:s>", f_base64decode),
    b!("encodeUrlComponent", "<s-:s>", f_encode_url_component),
    b!("encodeUrl", "<s-:s>", f_encode_url),
    b!("decodeUrlComponent", "<s-:s>", f_decode_url_component),
    b!("decodeUrl", "<s-:s>", f_decode_url),
    b!("eval", "<sx?:x>", f_eval),
    b!("clone", "<(oa)-:o>", f_clone),
    b!("now", "<s?s?:s>", f_now),
    b!(
        "formatNumber",
        "<n-so?:s>",
        crate::picture_glue::f_format_number
    ),
    b!("formatBase", "<n-n?:s>", crate::picture_glue::f_format_base),
    b!(
        "formatInteger",
        "<n-s:s>",
        crate::picture_glue::f_format_integer
    ),
    b!(
        "parseInteger",
        "<s-s:n>",
        crate::picture_glue::f_parse_integer
    ),
    b!(
        "fromMillis",
        "<n-s?s?:s>",
        crate::picture_glue::f_from_millis
    ),
    b!("toMillis", "<s-s?:n>", crate::picture_glue::f_to_millis),
    b!("millis", "<:n>", f_millis),
];

fn arg<'j>(args: &[Value<'j>], i: usize) -> Value<'j> {
    args.get(i).cloned().unwrap_or(Value::Undefined)
}

fn num<'j>(v: &Value<'j>) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn numbers<'j>(v: &Value<'j>) -> Vec<f64> {
    v.members().iter().map(num).collect()
}

/// `$string`'s conversion (also used by `&`).
pub(crate) fn to_string<'j>(v: &Value<'j>) -> R<String> {
    to_string_pretty(v, false)
}

fn to_string_pretty<'j>(v: &Value<'j>, pretty: bool) -> R<String> {
    Ok(match v {
        Value::String(s) => s.to_string(),
        Value::Function(_) => String::new(),
        Value::Number(n) if !n.is_finite() => {
            return Err(RawError::new("D3001").value(error_text(v)));
        }
        Value::Number(n) => js_number_string(round_noise(*n)),
        _ => {
            if let Some(bad) = non_finite(v) {
                return Err(RawError::new("D1001").value(error_text(&bad)));
            }
            stringify(v, pretty)
        }
    })
}

/// jsonata-js rounds non-integers to 15 significant digits (hiding binary
/// noise such as 0.1 + 0.2) and leaves integers as they are.
fn round_noise(n: f64) -> f64 {
    if n.fract() == 0.0 {
        n
    } else {
        to_precision_15(n)
    }
}

/// The first infinite or NaN number inside a value: JSON.stringify's
/// replacer meets it through `isNumeric`, which raises D1001.
/// Recursion over data depth continues on heap stack segments when the
/// thread's stack runs low (values can nest arbitrarily deep).
fn non_finite<'j>(v: &Value<'j>) -> Option<Value<'j>> {
    stacker::maybe_grow(RED_ZONE, NEW_SEGMENT, || non_finite_inner(v))
}

fn non_finite_inner<'j>(v: &Value<'j>) -> Option<Value<'j>> {
    match v {
        Value::Number(n) if !n.is_finite() => Some(v.clone()),
        Value::Array(a, _) => a.iter().find_map(non_finite),
        Value::Object(o) => o.values().find_map(non_finite),
        _ => None,
    }
}

fn f_sum<'j>(_: &mut Evaluator, a: &[Value<'j>], _: &Value<'j>, _: &Rc<Frame<'j>>) -> R<Value<'j>> {
    let v = arg(a, 0);
    if v.is_undefined() {
        return Ok(Value::Undefined);
    }
    Ok(Value::Number(numbers(&v).iter().sum()))
}

fn f_count<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let v = arg(a, 0);
    Ok(Value::Number(if v.is_undefined() {
        0.0
    } else {
        v.members().len() as f64
    }))
}

fn f_max<'j>(_: &mut Evaluator, a: &[Value<'j>], _: &Value<'j>, _: &Rc<Frame<'j>>) -> R<Value<'j>> {
    let n = numbers(&arg(a, 0));
    if n.is_empty() {
        return Ok(Value::Undefined);
    }
    Ok(Value::Number(
        n.into_iter().fold(f64::NEG_INFINITY, f64::max),
    ))
}

fn f_min<'j>(_: &mut Evaluator, a: &[Value<'j>], _: &Value<'j>, _: &Rc<Frame<'j>>) -> R<Value<'j>> {
    let n = numbers(&arg(a, 0));
    if n.is_empty() {
        return Ok(Value::Undefined);
    }
    Ok(Value::Number(n.into_iter().fold(f64::INFINITY, f64::min)))
}

fn f_average<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let n = numbers(&arg(a, 0));
    if n.is_empty() {
        return Ok(Value::Undefined);
    }
    Ok(Value::Number(n.iter().sum::<f64>() / n.len() as f64))
}

fn f_string<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let v = arg(a, 0);
    if v.is_undefined() {
        return Ok(Value::Undefined);
    }
    let pretty = matches!(arg(a, 1), Value::Bool(true));
    Ok(Value::string(to_string_pretty(&v, pretty)?))
}

fn chars_of(s: &str) -> Vec<char> {
    s.chars().collect()
}

fn f_substring<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let Value::String(s) = arg(a, 0) else {
        return Ok(Value::Undefined);
    };
    let chars = chars_of(&s);
    let len = chars.len() as f64;
    let mut start = num(&arg(a, 1)).trunc();
    if len + start < 0.0 {
        start = 0.0;
    }
    let slice = |from: f64, to: f64| -> String {
        let norm = |x: f64| {
            if x < 0.0 {
                (len + x).max(0.0)
            } else {
                x.min(len)
            }
        };
        let (f, t) = (norm(from), norm(to));
        if f >= t {
            return String::new();
        }
        chars[f as usize..t as usize].iter().collect()
    };
    let length = arg(a, 2);
    if let Some(l) = length.as_f64() {
        if l <= 0.0 {
            return Ok(Value::str(""));
        }
        let end = if start >= 0.0 {
            start + l
        } else {
            len + start + l
        };
        return Ok(Value::string(slice(start, end.trunc())));
    }
    Ok(Value::string(slice(start, len)))
}

fn f_substring_before<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let Value::String(s) = arg(a, 0) else {
        return Ok(Value::Undefined);
    };
    let Value::String(c) = arg(a, 1) else {
        return Ok(Value::String(s));
    };
    Ok(match s.find(&*c) {
        Some(i) => Value::str(&s[..i]),
        None => Value::String(s),
    })
}

fn f_substring_after<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let Value::String(s) = arg(a, 0) else {
        return Ok(Value::Undefined);
    };
    let Value::String(c) = arg(a, 1) else {
        return Ok(Value::String(s));
    };
    Ok(match s.find(&*c) {
        Some(i) => Value::str(&s[i + c.len()..]),
        None => Value::String(s),
    })
}

fn f_lowercase<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    Ok(match arg(a, 0) {
        Value::String(s) => Value::string(s.to_lowercase()),
        _ => Value::Undefined,
    })
}

fn f_uppercase<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    Ok(match arg(a, 0) {
        Value::String(s) => Value::string(s.to_uppercase()),
        _ => Value::Undefined,
    })
}

fn f_length<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    Ok(match arg(a, 0) {
        Value::String(s) => Value::Number(s.chars().count() as f64),
        _ => Value::Undefined,
    })
}

fn f_trim<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let Value::String(s) = arg(a, 0) else {
        return Ok(Value::Undefined);
    };
    let mut out = String::with_capacity(s.len());
    let mut in_ws = false;
    for c in s.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\r') {
            if !in_ws {
                out.push(' ');
            }
            in_ws = true;
        } else {
            out.push(c);
            in_ws = false;
        }
    }
    let out = out.strip_prefix(' ').unwrap_or(&out);
    let out = out.strip_suffix(' ').unwrap_or(out);
    Ok(Value::str(out))
}

fn f_pad<'j>(_: &mut Evaluator, a: &[Value<'j>], _: &Value<'j>, _: &Rc<Frame<'j>>) -> R<Value<'j>> {
    let Value::String(s) = arg(a, 0) else {
        return Ok(Value::Undefined);
    };
    let width = num(&arg(a, 1)).trunc();
    let ch = match arg(a, 2) {
        Value::String(c) if !c.is_empty() => c.to_string(),
        _ => " ".to_string(),
    };
    let pad_len = width.abs() - s.chars().count() as f64;
    if pad_len <= 0.0 || ch.is_empty() {
        return Ok(Value::String(s));
    }
    let padding: String = ch.chars().cycle().take(pad_len as usize).collect();
    Ok(Value::string(if width > 0.0 {
        format!("{s}{padding}")
    } else {
        format!("{padding}{s}")
    }))
}

/// One match as the evaluator's regex closures and custom matchers return.
struct MatchObj<'j> {
    matched: String,
    start: usize,
    end: usize,
    groups: Vec<Value<'j>>,
    next: Value<'j>,
}

fn read_match<'j>(v: &Value<'j>) -> R<Option<MatchObj<'j>>> {
    let o = match v {
        Value::Undefined => return Ok(None),
        Value::Object(o) => o,
        _ => return Err(RawError::new("T1010")),
    };
    let matched = o.get("match").and_then(|m| m.as_str().map(String::from));
    let start = o.get("start").and_then(|m| m.as_f64());
    let end = o.get("end").and_then(|m| m.as_f64());
    let (Some(matched), Some(start), Some(end)) = (matched, start, end) else {
        return Err(RawError::new("T1010"));
    };
    let groups = match o.get("groups") {
        Some(Value::Array(g, _)) => g.as_ref().clone(),
        _ => return Err(RawError::new("T1010")),
    };
    Ok(Some(MatchObj {
        matched,
        start: start as usize,
        end: end as usize,
        groups: groups.to_vec(),
        next: o.get("next").cloned().unwrap_or(Value::Undefined),
    }))
}

fn first_match<'j>(
    ev: &mut Evaluator,
    matcher: &Value<'j>,
    s: &Rc<str>,
    env: &Rc<Frame<'j>>,
) -> R<Option<MatchObj<'j>>> {
    let r = ev.apply(
        matcher,
        vec![Value::String(s.clone())],
        &Value::Undefined,
        env,
        &CallSite::default(),
    )?;
    read_match(&r)
}

fn next_match<'j>(
    ev: &mut Evaluator,
    m: &MatchObj<'j>,
    env: &Rc<Frame<'j>>,
) -> R<Option<MatchObj<'j>>> {
    if !m.next.is_function() {
        return Ok(None);
    }
    let r = ev.apply(
        &m.next,
        vec![],
        &Value::Undefined,
        env,
        &CallSite::default(),
    )?;
    read_match(&r)
}

/// UTF-16 offsets of the matcher objects to a substring of `s`.
/// The text between two UTF-16 offsets of a string held as its UTF-16
/// `units` (encoded once per call of `$split` or `$replace`, so slicing at
/// each of many matches stays linear in the text).
fn u16_slice(units: &[u16], from: usize, to: usize) -> String {
    let to = to.min(units.len());
    let from = from.min(to);
    String::from_utf16_lossy(&units[from..to])
}

fn f_match<'j>(
    ev: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    env: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let Value::String(s) = arg(a, 0) else {
        return Ok(Value::Undefined);
    };
    let limit = arg(a, 2).as_f64();
    if limit.is_some_and(|l| l < 0.0) {
        return Err(RawError::new("D3040").value(error_text(&arg(a, 2))));
    }
    let mut out = Vec::new();
    if limit.is_none_or(|l| l > 0.0) {
        let mut m = first_match(ev, &arg(a, 1), &s, env)?;
        while let Some(mm) = m {
            if limit.is_some_and(|l| out.len() as f64 >= l) {
                break;
            }
            let mut o = Object::new();
            o.insert("match".into(), Value::string(mm.matched.clone()));
            o.insert("index".into(), Value::Number(mm.start as f64));
            o.insert("groups".into(), Value::array(mm.groups.clone()));
            out.push(Value::object(o));
            m = next_match(ev, &mm, env)?;
        }
    }
    Ok(Value::sequence(out))
}

fn f_contains<'j>(
    ev: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    env: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let Value::String(s) = arg(a, 0) else {
        return Ok(Value::Undefined);
    };
    Ok(Value::Bool(match arg(a, 1) {
        Value::Undefined => return Ok(Value::Undefined),
        Value::String(t) => s.contains(&*t),
        f => first_match(ev, &f, &s, env)?.is_some(),
    }))
}

fn substitute(replacement: &str, m: &MatchObj<'_>) -> String {
    let mut out = String::new();
    let chars: Vec<char> = replacement.chars().collect();
    let mut position = 0;
    let find = |from: usize| {
        chars
            .iter()
            .skip(from)
            .position(|c| *c == '$')
            .map(|i| i + from)
    };
    let mut index = find(0);
    while let Some(ix) = index {
        if position >= chars.len() {
            break;
        }
        out.extend(&chars[position..ix]);
        position = ix + 1;
        match chars.get(position) {
            Some('$') => {
                out.push('$');
                position += 1;
            }
            Some('0') => {
                out.push_str(&m.matched);
                position += 1;
            }
            _ => {
                let g = m.groups.len();
                let max_digits = if g == 0 {
                    1
                } else {
                    (g as f64).log10().floor() as usize + 1
                };
                let digits = |n: usize| -> Option<usize> {
                    let t: String = chars.iter().skip(position).take(n).collect();
                    let lead: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
                    lead.parse().ok()
                };
                let mut idx = digits(max_digits);
                if max_digits > 1 && idx.is_some_and(|i| i > g) {
                    idx = digits(max_digits - 1);
                }
                match idx {
                    Some(i) => {
                        if g > 0 && i >= 1 {
                            if let Some(Value::String(sub)) = m.groups.get(i - 1) {
                                out.push_str(sub);
                            }
                        }
                        position += i.to_string().len();
                    }
                    None => out.push('$'),
                }
            }
        }
        index = find(position);
    }
    if position < chars.len() {
        out.extend(&chars[position..]);
    }
    out
}

fn f_replace<'j>(
    ev: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    env: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let Value::String(s) = arg(a, 0) else {
        return Ok(Value::Undefined);
    };
    let pattern = arg(a, 1);
    let replacement = arg(a, 2);
    if pattern.as_str() == Some("") {
        return Err(RawError::new("D3010").value(error_text(&pattern)));
    }
    let limit = arg(a, 3).as_f64();
    if limit.is_some_and(|l| l < 0.0) {
        return Err(RawError::new("D3011").value(error_text(&arg(a, 3))));
    }
    if limit.is_some_and(|l| l == 0.0) {
        return Ok(Value::String(s));
    }
    let under = |count: usize| limit.is_none_or(|l| (count as f64) < l);
    if let Value::String(p) = &pattern {
        let rep = match &replacement {
            Value::String(r) => r.to_string(),
            v => to_string(v)?,
        };
        let mut out = String::new();
        let mut rest: &str = &s;
        let mut count = 0;
        while under(count) {
            match rest.find(&**p) {
                Some(i) => {
                    out.push_str(&rest[..i]);
                    out.push_str(&rep);
                    rest = &rest[i + p.len()..];
                    count += 1;
                }
                None => break,
            }
        }
        out.push_str(rest);
        return Ok(Value::string(out));
    }
    let mut out = String::new();
    let mut position = 0usize;
    let mut count = 0;
    let mut m = first_match(ev, &pattern, &s, env)?;
    if m.is_none() {
        return Ok(Value::String(s));
    }
    let units: Vec<u16> = s.encode_utf16().collect();
    while let Some(mm) = m {
        if !under(count) {
            break;
        }
        out.push_str(&u16_slice(&units, position, mm.start));
        let with = match &replacement {
            Value::String(r) => Value::string(substitute(r, &mm)),
            f => {
                let mut o = Object::new();
                o.insert("match".into(), Value::string(mm.matched.clone()));
                o.insert("start".into(), Value::Number(mm.start as f64));
                o.insert("end".into(), Value::Number(mm.end as f64));
                o.insert("groups".into(), Value::array(mm.groups.clone()));
                ev.apply(
                    f,
                    vec![Value::object(o)],
                    &Value::Undefined,
                    env,
                    &CallSite::default(),
                )?
            }
        };
        match with {
            Value::String(w) => out.push_str(&w),
            other => return Err(RawError::new("D3012").value(error_text(&other))),
        }
        position = mm.start + mm.matched.encode_utf16().count();
        count += 1;
        m = next_match(ev, &mm, env)?;
    }
    out.push_str(&u16_slice(&units, position, usize::MAX));
    Ok(Value::string(out))
}

fn f_split<'j>(
    ev: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    env: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let Value::String(s) = arg(a, 0) else {
        return Ok(Value::Undefined);
    };
    let limit = arg(a, 2).as_f64();
    if limit.is_some_and(|l| l < 0.0) {
        return Err(RawError::new("D3020").value(error_text(&arg(a, 2))));
    }
    let mut out: Vec<Value<'j>> = Vec::new();
    match arg(a, 1) {
        Value::String(sep) => {
            if sep.is_empty() {
                out = s
                    .encode_utf16()
                    .map(|u| Value::string(String::from_utf16_lossy(&[u])))
                    .collect();
                // Keep surrogate pairs whole: JS would split them, but Rust
                // strings cannot hold half a pair.
                if s.chars().any(|c| c.len_utf16() > 1) {
                    out = s.chars().map(|c| Value::string(c.to_string())).collect();
                }
            } else {
                out = s.split(&*sep).map(Value::str).collect();
            }
        }
        f => {
            let mut count = 0usize;
            let mut m = first_match(ev, &f, &s, env)?;
            if m.is_none() {
                out.push(Value::String(s.clone()));
            } else {
                let units: Vec<u16> = s.encode_utf16().collect();
                let mut start = 0;
                while let Some(mm) = m {
                    if limit.is_some_and(|l| count as f64 >= l) {
                        break;
                    }
                    out.push(Value::string(u16_slice(&units, start, mm.start)));
                    start = mm.end;
                    count += 1;
                    m = next_match(ev, &mm, env)?;
                }
                if limit.is_none_or(|l| (count as f64) < l) {
                    out.push(Value::string(u16_slice(&units, start, usize::MAX)));
                }
            }
        }
    }
    if let Some(l) = limit {
        out.truncate(l as usize);
    }
    Ok(Value::array(out))
}

fn f_join<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let v = arg(a, 0);
    if v.is_undefined() {
        return Ok(Value::Undefined);
    }
    let sep = match arg(a, 1) {
        Value::String(s) => s.to_string(),
        _ => String::new(),
    };
    let parts: Vec<String> = v
        .members()
        .iter()
        .map(|x| x.as_str().unwrap_or("").to_string())
        .collect();
    Ok(Value::string(parts.join(&sep)))
}

fn parse_js_number(s: &str) -> Option<f64> {
    let t = s;
    let b = t.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i += 1;
    }
    let ds = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i == ds {
        return None;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let fs = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == fs {
            return None;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let es = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == es {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    t.parse::<f64>().ok().filter(|n| n.is_finite())
}

fn f_number<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let v = arg(a, 0);
    Ok(match &v {
        Value::Undefined => Value::Undefined,
        Value::Number(_) => v.clone(),
        Value::Bool(b) => Value::Number(if *b { 1.0 } else { 0.0 }),
        Value::String(s) => {
            if let Some(n) = parse_js_number(s) {
                Value::Number(n)
            } else {
                let radix = |p: &str, r: u32| -> Option<f64> {
                    let d = s
                        .strip_prefix(p)
                        .or_else(|| s.strip_prefix(&p.to_uppercase()))?;
                    if d.is_empty() {
                        return None;
                    }
                    u64::from_str_radix(d, r).ok().map(|n| n as f64)
                };
                match radix("0x", 16)
                    .or_else(|| radix("0o", 8))
                    .or_else(|| radix("0b", 2))
                {
                    Some(n) => Value::Number(n),
                    None => return Err(RawError::new("D3030").value(error_text(&v))),
                }
            }
        }
        _ => return Err(RawError::new("D3030").value(error_text(&v))),
    })
}

fn math<'j>(a: &[Value<'j>], f: fn(f64) -> f64) -> R<Value<'j>> {
    Ok(match arg(a, 0) {
        Value::Number(n) => Value::Number(f(n)),
        _ => Value::Undefined,
    })
}

fn f_floor<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    math(a, f64::floor)
}
fn f_ceil<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    math(a, f64::ceil)
}
fn f_abs<'j>(_: &mut Evaluator, a: &[Value<'j>], _: &Value<'j>, _: &Rc<Frame<'j>>) -> R<Value<'j>> {
    math(a, f64::abs)
}

fn shift_decimal(n: f64, places: i32) -> f64 {
    // JavaScript's `+(mantissa + 'e' + (exp + places))`: shifting through
    // the decimal text avoids binary multiplication error.
    let s = js_number_string(n);
    let (m, e) = match s.split_once('e') {
        Some((m, e)) => (m.to_string(), e.parse::<i32>().unwrap_or(0)),
        None => (s, 0),
    };
    format!("{m}e{}", e + places).parse().unwrap_or(f64::NAN)
}

fn f_round<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let Value::Number(mut n) = arg(a, 0) else {
        return Ok(Value::Undefined);
    };
    let precision = arg(a, 1).as_f64().unwrap_or(0.0) as i32;
    if precision != 0 {
        n = shift_decimal(n, precision);
    }
    let mut result = (n + 0.5).floor();
    let diff = result - n;
    if diff.abs() == 0.5 && (result % 2.0).abs() == 1.0 {
        result -= 1.0;
    }
    if precision != 0 {
        result = shift_decimal(result, -precision);
    }
    if result == 0.0 {
        result = 0.0;
    }
    Ok(Value::Number(result))
}

fn f_sqrt<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let v = arg(a, 0);
    let Value::Number(n) = v else {
        return Ok(Value::Undefined);
    };
    if n < 0.0 {
        return Err(RawError::new("D3060").value(error_text(&v)));
    }
    Ok(Value::Number(n.sqrt()))
}

fn f_power<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let Value::Number(b) = arg(a, 0) else {
        return Ok(Value::Undefined);
    };
    let e = num(&arg(a, 1));
    let r = b.powf(e);
    if !r.is_finite() {
        return Err(RawError::new("D3061")
            .value(error_text(&arg(a, 0)))
            .exp(error_text(&arg(a, 1))));
    }
    Ok(Value::Number(r))
}

fn f_random<'j>(
    ev: &mut Evaluator,
    _: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    Ok(Value::Number(ev.env.random()?))
}

fn f_boolean<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    Ok(match boolean(&arg(a, 0)) {
        Some(b) => Value::Bool(b),
        None => Value::Undefined,
    })
}

fn f_not<'j>(_: &mut Evaluator, a: &[Value<'j>], _: &Value<'j>, _: &Rc<Frame<'j>>) -> R<Value<'j>> {
    Ok(match boolean(&arg(a, 0)) {
        Some(b) => Value::Bool(!b),
        None => Value::Undefined,
    })
}

fn hof_args<'j>(
    ev: &Evaluator,
    f: &Value<'j>,
    v: Value<'j>,
    i: usize,
    all: &Value<'j>,
) -> Vec<Value<'j>> {
    let n = ev.arity(f);
    let mut args = vec![v];
    if n >= 2 {
        args.push(Value::Number(i as f64));
    }
    if n >= 3 {
        args.push(all.clone());
    }
    args
}

fn call<'j>(
    ev: &mut Evaluator,
    f: &Value<'j>,
    args: Vec<Value<'j>>,
    env: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    ev.apply(f, args, &Value::Null, env, &CallSite::default())
}

fn f_map<'j>(
    ev: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    env: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let arr = arg(a, 0);
    if arr.is_undefined() {
        return Ok(Value::Undefined);
    }
    let f = arg(a, 1);
    let mut out = Vec::new();
    for (i, v) in arr.members().into_iter().enumerate() {
        let args = hof_args(ev, &f, v, i, &arr);
        let r = call(ev, &f, args, env)?;
        if !r.is_undefined() {
            out.push(r);
        }
    }
    Ok(Value::sequence(out))
}

fn f_filter<'j>(
    ev: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    env: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let arr = arg(a, 0);
    if arr.is_undefined() {
        return Ok(Value::Undefined);
    }
    let f = arg(a, 1);
    let mut out = Vec::new();
    for (i, v) in arr.members().into_iter().enumerate() {
        let args = hof_args(ev, &f, v.clone(), i, &arr);
        let r = call(ev, &f, args, env)?;
        if boolean(&r) == Some(true) {
            out.push(v);
        }
    }
    Ok(Value::sequence(out))
}

fn f_single<'j>(
    ev: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    env: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let arr = arg(a, 0);
    if arr.is_undefined() {
        return Ok(Value::Undefined);
    }
    let f = arg(a, 1);
    let mut found: Option<Value<'j>> = None;
    for (i, v) in arr.members().into_iter().enumerate() {
        let ok = if f.is_undefined() {
            true
        } else {
            let args = hof_args(ev, &f, v.clone(), i, &arr);
            boolean(&call(ev, &f, args, env)?) == Some(true)
        };
        if ok {
            if found.is_some() {
                return Err(RawError::new("D3138"));
            }
            found = Some(v);
        }
    }
    found.ok_or_else(|| RawError::new("D3139"))
}

fn f_reduce<'j>(
    ev: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    env: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let seqv = arg(a, 0);
    if seqv.is_undefined() {
        return Ok(Value::Undefined);
    }
    let f = arg(a, 1);
    let arity = ev.arity(&f);
    if arity < 2 {
        return Err(RawError::new("D3050").index(1));
    }
    let items = seqv.members();
    let init = arg(a, 2);
    let (mut result, start) = if init.is_undefined() && !items.is_empty() {
        (items[0].clone(), 1)
    } else {
        (init, 0)
    };
    for (i, item) in items.iter().enumerate().skip(start) {
        let mut args = vec![result, item.clone()];
        if arity >= 3 {
            args.push(Value::Number(i as f64));
        }
        if arity >= 4 {
            args.push(seqv.clone());
        }
        result = call(ev, &f, args, env)?;
    }
    Ok(result)
}

fn f_zip<'j>(_: &mut Evaluator, a: &[Value<'j>], _: &Value<'j>, _: &Rc<Frame<'j>>) -> R<Value<'j>> {
    let lists: Vec<Vec<Value<'j>>> = a.iter().map(|v| v.members()).collect();
    let len = lists.iter().map(|l| l.len()).min().unwrap_or(0);
    let out = (0..len)
        .map(|i| Value::array(lists.iter().map(|l| l[i].clone()).collect()))
        .collect();
    Ok(Value::array(out))
}

fn f_sift<'j>(
    ev: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    env: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let obj = arg(a, 0);
    let Value::Object(o) = &obj else {
        return Ok(Value::Undefined);
    };
    let f = arg(a, 1);
    let mut out = Object::new();
    for (k, v) in o.iter() {
        let n = ev.arity(&f);
        let mut args = vec![v.clone()];
        if n >= 2 {
            args.push(Value::str(k));
        }
        if n >= 3 {
            args.push(obj.clone());
        }
        if boolean(&call(ev, &f, args, env)?) == Some(true) {
            out.insert(k.clone(), v.clone());
        }
    }
    Ok(if out.is_empty() {
        Value::Undefined
    } else {
        Value::object(out)
    })
}

fn f_keys<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let v = arg(a, 0);
    let mut keys: Vec<String> = Vec::new();
    match &v {
        Value::Array(items, _) => {
            for item in items.iter() {
                if let Value::Object(o) = item.expand() {
                    for k in o.keys() {
                        if !keys.contains(k) {
                            keys.push(k.clone());
                        }
                    }
                }
            }
        }
        Value::Object(o) => keys = o.keys().cloned().collect(),
        _ => return Ok(Value::Undefined),
    }
    if keys.is_empty() {
        return Ok(Value::Undefined);
    }
    Ok(Value::sequence(
        keys.into_iter().map(Value::string).collect(),
    ))
}

fn f_lookup<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let key = arg(a, 1);
    Ok(lookup(&arg(a, 0), key.as_str().unwrap_or("")))
}

fn f_append<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    Ok(append(arg(a, 0), arg(a, 1)))
}

fn f_exists<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    Ok(Value::Bool(!arg(a, 0).is_undefined()))
}

fn f_spread<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    fn spread<'j>(v: &Value<'j>, out: &mut Vec<Value<'j>>) -> bool {
        match v {
            Value::Json(_) => spread(&v.expand(), out),
            Value::Array(items, _) => {
                for i in items.iter() {
                    spread(i, out);
                }
                true
            }
            Value::Object(o) => {
                for (k, x) in o.iter() {
                    let mut m = Object::new();
                    m.insert(k.clone(), x.clone());
                    out.push(Value::object(m));
                }
                true
            }
            _ => false,
        }
    }
    let v = arg(a, 0);
    let mut out = Vec::new();
    match &v {
        Value::Array(..) | Value::Object(_) => {
            spread(&v, &mut out);
            Ok(Value::sequence(out))
        }
        _ => Ok(v),
    }
}

fn f_merge<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let v = arg(a, 0);
    if v.is_undefined() {
        return Ok(Value::Undefined);
    }
    let mut out = Object::new();
    for item in v.members() {
        if let Value::Object(o) = item.expand() {
            for (k, x) in o.iter() {
                out.insert(k.clone(), x.clone());
            }
        }
    }
    Ok(Value::object(out))
}

fn f_reverse<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let v = arg(a, 0);
    match &v {
        Value::Undefined => Ok(Value::Undefined),
        Value::Array(items, _) if items.len() <= 1 => Ok(v),
        _ => {
            let mut items = v.members();
            items.reverse();
            Ok(Value::array(items))
        }
    }
}

fn f_each<'j>(
    ev: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    env: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let obj = arg(a, 0);
    let Value::Object(o) = &obj else {
        return Ok(Value::Undefined);
    };
    let f = arg(a, 1);
    let mut out = Vec::new();
    for (k, v) in o.iter() {
        let n = ev.arity(&f);
        let mut args = vec![v.clone()];
        if n >= 2 {
            args.push(Value::str(k));
        }
        if n >= 3 {
            args.push(obj.clone());
        }
        let r = call(ev, &f, args, env)?;
        if !r.is_undefined() {
            out.push(r);
        }
    }
    Ok(Value::sequence(out))
}

fn f_error<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let m = match arg(a, 0) {
        Value::String(s) => s.to_string(),
        _ => "$error() function evaluated".to_string(),
    };
    Err(RawError::new("D3137").message(m))
}

fn f_assert<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    if matches!(arg(a, 0), Value::Bool(true)) {
        return Ok(Value::Undefined);
    }
    let m = match arg(a, 1) {
        Value::String(s) => s.to_string(),
        _ => "$assert() statement failed".to_string(),
    };
    Err(RawError::new("D3141").message(m))
}

fn f_type<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    Ok(match arg(a, 0).type_name() {
        Some(t) => Value::str(t),
        None => Value::Undefined,
    })
}

/// jsonata-js's merge sort: stable; `swap(a, b)` true puts `b` first.
fn merge_sort<'j>(
    ev: &mut Evaluator,
    items: Vec<Value<'j>>,
    swap: &mut dyn FnMut(&mut Evaluator, &Value<'j>, &Value<'j>) -> R<bool>,
) -> R<Vec<Value<'j>>> {
    if items.len() <= 1 {
        return Ok(items);
    }
    let mid = items.len() / 2;
    let mut left = items;
    let right = left.split_off(mid);
    let left = merge_sort(ev, left, swap)?;
    let right = merge_sort(ev, right, swap)?;
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        if swap(ev, &left[i], &right[j])? {
            out.push(right[j].clone());
            j += 1;
        } else {
            out.push(left[i].clone());
            i += 1;
        }
    }
    out.extend_from_slice(&left[i..]);
    out.extend_from_slice(&right[j..]);
    Ok(out)
}

fn f_sort<'j>(
    ev: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    env: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let v = arg(a, 0);
    if v.is_undefined() {
        return Ok(Value::Undefined);
    }
    let items = v.members();
    if items.len() <= 1 {
        return Ok(v);
    }
    let f = arg(a, 1);
    let sorted = if f.is_undefined() {
        let all_num = items.iter().all(|x| matches!(x, Value::Number(_)));
        let all_str = items.iter().all(|x| matches!(x, Value::String(_)));
        if !all_num && !all_str {
            return Err(RawError::new("D3070"));
        }
        merge_sort(ev, items, &mut |_, x, y| {
            Ok(match (x, y) {
                (Value::Number(p), Value::Number(q)) => p > q,
                (Value::String(p), Value::String(q)) => {
                    utf16_cmp(p, q) == std::cmp::Ordering::Greater
                }
                _ => false,
            })
        })?
    } else {
        let env = env.clone();
        merge_sort(ev, items, &mut |ev, x, y| {
            let r = call(ev, &f, vec![x.clone(), y.clone()], &env)?;
            Ok(boolean(&r) == Some(true))
        })?
    };
    Ok(Value::array(sorted))
}

fn f_shuffle<'j>(
    ev: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let v = arg(a, 0);
    if v.is_undefined() {
        return Ok(Value::Undefined);
    }
    let mut items = v.members();
    if items.len() <= 1 {
        return Ok(v);
    }
    for i in (1..items.len()).rev() {
        let j = (ev.env.random()? * (i + 1) as f64).floor() as usize;
        items.swap(i, j.min(i));
    }
    Ok(Value::array(items))
}

fn f_distinct<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let v = arg(a, 0);
    let Value::Array(items, f) = &v else {
        return Ok(v);
    };
    if items.len() <= 1 {
        return Ok(v);
    }
    let mut out: Vec<Value<'j>> = Vec::new();
    for x in items.iter() {
        if !out.iter().any(|y| deep_equal(x, y)) {
            out.push(x.clone());
        }
    }
    let flags = if f.has(Flags::SEQUENCE) {
        Flags::SEQUENCE
    } else {
        Flags::NONE
    };
    Ok(Value::Array(Rc::new(Items(out)), flags))
}

fn f_base64encode<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    Ok(match arg(a, 0) {
        Value::String(s) => {
            Value::string(base64::engine::general_purpose::STANDARD.encode(s.as_bytes()))
        }
        _ => Value::Undefined,
    })
}

fn f_base64decode<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    Ok(match arg(a, 0) {
        Value::String(s) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(
                    s.trim_end_matches('=').to_string()
                        + &"=".repeat((4 - s.trim_end_matches('=').len() % 4) % 4),
                )
                .unwrap_or_default();
            Value::string(String::from_utf8_lossy(&bytes).into_owned())
        }
        _ => Value::Undefined,
    })
}

fn encode(s: &str, keep: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || keep.contains(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    out
}

fn decode(s: &str, reserved: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            let b = u8::from_str_radix(hex, 16).ok()?;
            if b < 0x80 && reserved.contains(b as char) {
                out.extend_from_slice(&bytes[i..i + 3]);
            } else {
                out.push(b);
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn url_fn<'j>(a: &[Value<'j>], name: &str, f: impl Fn(&str) -> Option<String>) -> R<Value<'j>> {
    let v = arg(a, 0);
    let Value::String(s) = &v else {
        return Ok(Value::Undefined);
    };
    match f(s) {
        Some(r) => Ok(Value::string(r)),
        None => Err(RawError::new("D3140").token(name).value(error_text(&v))),
    }
}

fn f_encode_url_component<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    url_fn(a, "encodeUrlComponent", |s| Some(encode(s, "-_.!~*'()")))
}
fn f_encode_url<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    url_fn(a, "encodeUrl", |s| Some(encode(s, "-_.!~*'();/?:@&=+$,#")))
}
fn f_decode_url_component<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    url_fn(a, "decodeUrlComponent", |s| decode(s, ""))
}
fn f_decode_url<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    url_fn(a, "decodeUrl", |s| decode(s, ";/?:@&=+$,#"))
}

fn f_eval<'j>(
    ev: &mut Evaluator,
    a: &[Value<'j>],
    input: &Value<'j>,
    env: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let Value::String(src) = arg(a, 0) else {
        return Ok(Value::Undefined);
    };
    let focus = arg(a, 1);
    let input = if focus.is_undefined() {
        input.clone()
    } else {
        focus
    };
    let ast = match crate::parser::parse(&src) {
        Ok(ast) => ast,
        Err(e) => {
            let m = e.finish().message;
            return Err(RawError::new("D3120").value(error_text(&Value::string(m))));
        }
    };
    ev.eval(&ast, &input, env).map_err(|e| {
        if e.code == "U1001" {
            return e;
        }
        let m = e.finish().message;
        RawError::new("D3121").value(error_text(&Value::string(m)))
    })
}

fn f_clone<'j>(
    _: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let v = arg(a, 0);
    if v.is_undefined() {
        return Ok(Value::Undefined);
    }
    Ok(deep_clone(&v))
}

fn f_now<'j>(
    ev: &mut Evaluator,
    a: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    let now = ev.env.now()?;
    let picture = arg(a, 0);
    let tz = arg(a, 1);
    if picture.is_undefined() && tz.is_undefined() {
        return Ok(Value::string(iso_timestamp(now)));
    }
    crate::picture_glue::from_millis(now, picture.as_str(), tz.as_str())
}

fn f_millis<'j>(
    ev: &mut Evaluator,
    _: &[Value<'j>],
    _: &Value<'j>,
    _: &Rc<Frame<'j>>,
) -> R<Value<'j>> {
    Ok(Value::Number(ev.env.now()?))
}

/// `new Date(millis).toISOString()`.
pub(crate) fn iso_timestamp(millis: f64) -> String {
    let ms = millis.floor() as i64;
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (h, m, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if mo <= 2 { y + 1 } else { y };
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_timestamps_match_javascript() {
        assert_eq!(iso_timestamp(0.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            iso_timestamp(1_509_380_400_000.0),
            "2017-10-30T16:20:00.000Z"
        );
        assert_eq!(iso_timestamp(951_782_400_123.0), "2000-02-29T00:00:00.123Z");
    }

    #[test]
    fn replacement_text_expands_groups_like_jsonata() {
        let m = MatchObj {
            matched: "ab".into(),
            start: 0,
            end: 2,
            groups: vec![Value::str("a"), Value::str("b")],
            next: Value::Undefined,
        };
        assert_eq!(substitute("$2$1$$$0$3x", &m), "ba$abx");
    }
}
