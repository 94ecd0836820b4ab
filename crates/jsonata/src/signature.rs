//! Function signatures (`<s-nn?:s>`): parsing into a matcher and checking
//! argument lists against it, with jsonata-js's coercions (context value for
//! `-`, a single value wrapped as an array for `a`) and its errors (T0410,
//! T0411, T0412; S0401, S0402 when parsing). It must not call functions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::RawError;
use crate::value::{error_text, Value};

/// At most this many signatures are kept parsed; past it the cache starts
/// over (signatures come from definitions and registrations, so a process
/// meets few).
const CACHED_SIGNATURES: usize = 1024;

#[derive(Debug, Clone)]
struct Param {
    regex: String,
    type_: String,
    array: bool,
    context: bool,
    context_regex: Option<String>,
    /// `context_regex` compiled once with the signature: compiling a
    /// pattern costs far more than matching one, and a call that takes
    /// its context value would otherwise compile it every time.
    context_matcher: Option<Arc<corvus_regex_ecma262::Regex>>,
    subtype: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Signature {
    params: Vec<Param>,
    /// Behind a pointer: a compiled pattern is a few KiB, and a signature
    /// travels inside the parser's syntax nodes, whose size every level of
    /// the recursive parser pays on its stack. Shared: a signature parsed
    /// once is handed out again by [`Signature::parse`].
    regex: Arc<corvus_regex_ecma262::Regex>,
}

fn symbol<'j>(v: &Value<'j>) -> char {
    match v {
        Value::Function(_) => 'f',
        Value::String(_) => 's',
        Value::Number(_) => 'n',
        Value::Bool(_) => 'b',
        Value::Null => 'l',
        Value::Array(..) => 'a',
        Value::Object(_) => 'o',
        Value::Undefined => 'm',
        Value::Json(serde_json::Value::Array(_)) => 'a',
        Value::Json(serde_json::Value::Object(_)) => 'o',
        Value::Json(j) => symbol(&Value::from_ref(j)),
    }
}

fn plural(sub: &str) -> &'static str {
    match sub {
        "a" => "arrays",
        "b" => "booleans",
        "f" => "functions",
        "n" => "numbers",
        "o" => "objects",
        "s" => "strings",
        _ => "undefined",
    }
}

fn find_closing(chars: &[char], start: usize, open: char, close: char) -> usize {
    let mut depth = 1;
    let mut pos = start;
    while pos < chars.len() {
        pos += 1;
        match chars.get(pos) {
            Some(c) if *c == close => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            Some(c) if *c == open => depth += 1,
            _ => {}
        }
    }
    pos
}

impl Signature {
    /// Parses `<...>`; an error's position is the offset in the signature.
    /// Parses `sig`, or hands out the signature parsed from the same text
    /// before: compiling its pattern costs far more than matching it, and a
    /// host registering its functions for every evaluation (as the ASL
    /// engine does) would otherwise compile them every time.
    pub fn parse(sig: &str) -> Result<Signature, RawError> {
        static CACHE: OnceLock<Mutex<HashMap<String, Signature>>> = OnceLock::new();
        let cache = CACHE.get_or_init(Mutex::default);
        if let Some(parsed) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(sig) {
            return Ok(parsed.clone());
        }
        let parsed = Signature::parse_uncached(sig)?;
        let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHED_SIGNATURES {
            cache.clear();
        }
        cache.insert(sig.to_owned(), parsed.clone());
        Ok(parsed)
    }

    fn parse_uncached(sig: &str) -> Result<Signature, RawError> {
        let chars: Vec<char> = sig.chars().collect();
        let mut params: Vec<Param> = Vec::new();
        let mut position = 1;
        let blank = || Param {
            regex: String::new(),
            type_: String::new(),
            array: false,
            context: false,
            context_regex: None,
            context_matcher: None,
            subtype: None,
        };
        while position < chars.len() {
            let c = chars[position];
            if c == ':' {
                break;
            }
            match c {
                's' | 'n' | 'b' | 'l' | 'o' => {
                    let mut p = blank();
                    p.regex = format!("[{c}m]");
                    p.type_ = c.to_string();
                    params.push(p);
                }
                'a' => {
                    let mut p = blank();
                    p.regex = "[asnblfom]".into();
                    p.type_ = "a".into();
                    p.array = true;
                    params.push(p);
                }
                'f' => {
                    let mut p = blank();
                    p.regex = "f".into();
                    p.type_ = "f".into();
                    params.push(p);
                }
                'j' => {
                    let mut p = blank();
                    p.regex = "[asnblom]".into();
                    p.type_ = "j".into();
                    params.push(p);
                }
                'x' => {
                    let mut p = blank();
                    p.regex = "[asnblfom]".into();
                    p.type_ = "x".into();
                    params.push(p);
                }
                '-' => {
                    if let Some(prev) = params.last_mut() {
                        prev.context = true;
                        prev.context_regex = Some(prev.regex.clone());
                        prev.regex.push('?');
                    }
                }
                '?' | '+' => {
                    if let Some(prev) = params.last_mut() {
                        prev.regex.push(c);
                    }
                }
                '(' => {
                    let end = find_closing(&chars, position, '(', ')');
                    let choice: String = chars[position + 1..end.min(chars.len())].iter().collect();
                    if choice.contains('<') {
                        return Err(RawError::new("S0402")
                            .pos(position)
                            .value(format!("\"{choice}\"")));
                    }
                    let mut p = blank();
                    p.regex = format!("[{choice}m]");
                    p.type_ = format!("({choice})");
                    params.push(p);
                    position = end;
                }
                '<' => {
                    let prev_type = params.last().map(|p| p.type_.clone()).unwrap_or_default();
                    if prev_type == "a" || prev_type == "f" {
                        let end = find_closing(&chars, position, '<', '>');
                        let sub: String =
                            chars[position + 1..end.min(chars.len())].iter().collect();
                        if let Some(prev) = params.last_mut() {
                            prev.subtype = Some(sub);
                        }
                        position = end;
                    } else {
                        return Err(RawError::new("S0401")
                            .pos(position)
                            .value(format!("\"{prev_type}\"")));
                    }
                }
                _ => {}
            }
            position += 1;
        }
        let pattern: String = std::iter::once("^".to_string())
            .chain(params.iter().map(|p| format!("({})", p.regex)))
            .collect::<String>()
            + "$";
        let regex = compile(&pattern).ok_or_else(|| RawError::new("S0401").pos(0))?;
        for p in &mut params {
            p.context_matcher = p.context_regex.as_deref().and_then(compile).map(Arc::new);
        }
        Ok(Signature {
            params,
            regex: Arc::new(regex),
        })
    }

    /// Checks and coerces arguments; `context` is the input of the call,
    /// substituted where a `-` parameter is missing.
    pub fn validate<'j>(
        &self,
        args: &[Value<'j>],
        context: &Value<'j>,
    ) -> Result<Vec<Value<'j>>, RawError> {
        // The input of a whole evaluation that is an array travels wrapped
        // (see `evaluate_value`); as a context argument it is the array.
        let unwrapped;
        let context = match context {
            Value::Array(a, f) if f.has(crate::value::Flags::OUTER_WRAPPER) && a.len() == 1 => {
                unwrapped = a[0].clone();
                &unwrapped
            }
            c => c,
        };
        let supplied: String = args.iter().map(symbol).collect();
        let Some(m) = self.regex.captures(&supplied).ok().flatten() else {
            return Err(self.validation_error(args, &supplied));
        };
        let mut out = Vec::with_capacity(self.params.len());
        let mut arg_index = 0;
        for (i, param) in self.params.iter().enumerate() {
            let matched = m.get(i + 1).map(|g| g.as_str()).unwrap_or("");
            if matched.is_empty() {
                if param.context && param.context_regex.is_some() {
                    let ct = symbol(context).to_string();
                    let ok = param
                        .context_matcher
                        .as_ref()
                        .is_some_and(|r| r.is_match(&ct).unwrap_or(false));
                    if ok {
                        out.push(context.clone());
                    } else {
                        return Err(RawError::new("T0411")
                            .value(error_text(context))
                            .index(arg_index + 1));
                    }
                } else {
                    out.push(args.get(arg_index).cloned().unwrap_or(Value::Undefined));
                    arg_index += 1;
                }
                continue;
            }
            for single in matched.chars() {
                let arg = args.get(arg_index).cloned().unwrap_or(Value::Undefined);
                if param.type_ == "a" {
                    if single == 'm' {
                        out.push(Value::Undefined);
                    } else {
                        let mut ok = true;
                        if let Some(sub) = &param.subtype {
                            if single != 'a' && matched != sub {
                                ok = false;
                            } else if single == 'a' {
                                if let Some(items) =
                                    Some(arg.members()).filter(|_| arg.is_array_like())
                                {
                                    if let Some(first) = items.first() {
                                        let t = symbol(first);
                                        if !sub.starts_with(t) {
                                            ok = false;
                                        } else {
                                            ok = items.iter().all(|v| symbol(v) == t);
                                        }
                                    }
                                }
                            }
                            if !ok {
                                return Err(RawError::new("T0412")
                                    .value(error_text(&arg))
                                    .index(arg_index + 1)
                                    .type_(plural(sub)));
                            }
                        }
                        if single != 'a' {
                            out.push(Value::array(vec![arg]));
                        } else {
                            out.push(arg);
                        }
                    }
                } else {
                    out.push(arg);
                }
                arg_index += 1;
            }
        }
        Ok(out)
    }

    fn validation_error<'j>(&self, args: &[Value<'j>], supplied: &str) -> RawError {
        let mut partial = String::from("^");
        let mut good_to = 0;
        for p in &self.params {
            partial.push_str(&p.regex);
            let found =
                compile(&partial).and_then(|r| r.find(supplied).ok().flatten().map(|m| m.end()));
            match found {
                None => break,
                Some(end) => good_to = end,
            }
        }
        let bad = args.get(good_to).cloned().unwrap_or(Value::Undefined);
        RawError::new("T0410")
            .value(error_text(&bad))
            .index(good_to + 1)
    }

    /// How many parameters the signature declares (a function's arity).
    pub fn arity(&self) -> usize {
        self.params.len()
    }
}

/// A signature's pattern, built by this module from the signature's
/// letters (small, without backreferences, so matched in linear time). No
/// time limit: a match must answer the same on every run.
fn compile(pattern: &str) -> Option<corvus_regex_ecma262::Regex> {
    corvus_regex_ecma262::RegexBuilder::new(pattern)
        .match_timeout(None)
        .build()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_parsed_again_shares_its_compiled_pattern() {
        let first = Signature::parse("<s-n?:s>").unwrap();
        let again = Signature::parse("<s-n?:s>").unwrap();
        assert!(Arc::ptr_eq(&first.regex, &again.regex));
        let other = Signature::parse("<n-s?:s>").unwrap();
        assert!(!Arc::ptr_eq(&first.regex, &other.regex));
        // A bad signature is refused every time, never remembered.
        for _ in 0..2 {
            assert_eq!(Signature::parse("<s?+:s>").unwrap_err().code, "S0401");
        }
    }

    fn n<'j>(x: f64) -> Value<'j> {
        Value::Number(x)
    }

    #[test]
    fn context_substitutes_a_missing_dash_argument() {
        let sig = Signature::parse("<s-:s>").unwrap();
        let out = sig.validate(&[], &Value::str("ctx")).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].as_str(), Some("ctx"));
    }

    #[test]
    fn incompatible_context_is_t0411() {
        let sig = Signature::parse("<s-:s>").unwrap();
        let err = sig.validate(&[], &n(1.0)).unwrap_err();
        assert_eq!(err.code, "T0411");
    }

    #[test]
    fn single_value_for_array_parameter_is_wrapped() {
        let sig = Signature::parse("<a<n>:n>").unwrap();
        let out = sig.validate(&[n(3.0)], &Value::Undefined).unwrap();
        assert_eq!(out[0].as_array().map(|a| a.len()), Some(1));
    }

    #[test]
    fn wrong_array_member_type_is_t0412() {
        let sig = Signature::parse("<a<n>:n>").unwrap();
        let err = sig
            .validate(
                &[Value::array(vec![n(1.0), Value::str("x")])],
                &Value::Undefined,
            )
            .unwrap_err();
        assert_eq!(err.code, "T0412");
    }

    #[test]
    fn mismatch_names_the_first_bad_argument() {
        let sig = Signature::parse("<nn:n>").unwrap();
        let err = sig
            .validate(&[n(1.0), Value::str("x")], &Value::Undefined)
            .unwrap_err();
        assert_eq!((err.code, err.inserts.index), ("T0410", Some(2)));
    }
}
