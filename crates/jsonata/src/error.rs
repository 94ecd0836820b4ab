//! The one error type of the crate, with jsonata-js's codes and message
//! texts. It owns the message catalogue; it must not decide when an error is
//! raised (the tokenizer, parser, evaluator and functions do).

use std::fmt;

/// A JSONata error: a jsonata-js code (`S0201`, `T2001`, `D3030`, `U1001`...),
/// where in the expression it was raised (a character offset, as jsonata-js
/// counts it: usually the end of the token), the token involved, and the
/// message jsonata-js would show. `Display` is the message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct Error {
    pub code: &'static str,
    pub position: Option<usize>,
    pub token: Option<String>,
    pub message: String,
    /// The offending value as JSON text, where jsonata-js reports one.
    pub value: Option<String>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The inserts a message template can name, collected while an error
/// travels up (position and token are filled in by callers on the way).
#[derive(Debug, Clone, Default)]
pub(crate) struct Inserts {
    pub value: Option<String>,
    pub value2: Option<String>,
    pub index: Option<usize>,
    pub type_: Option<String>,
    pub exp: Option<String>,
    pub message: Option<String>,
}

/// An error under construction: the evaluator adds position and token as it
/// unwinds (as jsonata-js does), and `finish` renders the message once.
#[derive(Debug, Clone)]
pub(crate) struct RawError {
    pub code: &'static str,
    pub position: Option<usize>,
    pub token: Option<String>,
    pub inserts: Box<Inserts>,
}

impl RawError {
    pub fn new(code: &'static str) -> RawError {
        RawError {
            code,
            position: None,
            token: None,
            inserts: Box::default(),
        }
    }
    pub fn pos(mut self, position: usize) -> RawError {
        self.position = Some(position);
        self
    }
    pub fn token(mut self, token: impl Into<String>) -> RawError {
        self.token = Some(token.into());
        self
    }
    pub fn value(mut self, value: impl Into<String>) -> RawError {
        self.inserts.value = Some(value.into());
        self
    }
    pub fn value2(mut self, value: impl Into<String>) -> RawError {
        self.inserts.value2 = Some(value.into());
        self
    }
    pub fn index(mut self, index: usize) -> RawError {
        self.inserts.index = Some(index);
        self
    }
    pub fn type_(mut self, t: impl Into<String>) -> RawError {
        self.inserts.type_ = Some(t.into());
        self
    }
    pub fn exp(mut self, e: impl Into<String>) -> RawError {
        self.inserts.exp = Some(e.into());
        self
    }
    pub fn message(mut self, m: impl Into<String>) -> RawError {
        self.inserts.message = Some(m.into());
        self
    }

    /// Renders the message as jsonata-js's `populateMessage` does: `{{x}}`
    /// inserts JSON text, `{{{x}}}` the raw text.
    pub fn finish(self) -> Error {
        let template = template(self.code);
        let mut message = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("{{") {
            message.push_str(&rest[..start]);
            let triple = rest[start..].starts_with("{{{");
            let open = if triple { 3 } else { 2 };
            let after = &rest[start + open..];
            let Some(end) = after.find("}}") else {
                message.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let name = &after[..end];
            let insert = match name {
                "token" => self.token.as_ref().map(|t| json_text(t)),
                "value" => self.inserts.value.clone(),
                "value2" => self.inserts.value2.clone(),
                "index" => self.inserts.index.map(|i| i.to_string()),
                "type" => self.inserts.type_.as_ref().map(|t| json_text(t)),
                "exp" => self.inserts.exp.clone(),
                "message" => self.inserts.message.clone(),
                _ => None,
            };
            let insert = insert.unwrap_or_else(|| "undefined".to_string());
            if triple && name == "token" {
                message.push_str(self.token.as_deref().unwrap_or("undefined"));
            } else {
                message.push_str(&insert);
            }
            let close = if triple { 3 } else { 2 };
            rest = after.get(end + close..).unwrap_or("");
        }
        message.push_str(rest);
        Error {
            code: self.code,
            position: self.position,
            token: self.token,
            message,
            value: self.inserts.value,
        }
    }
}

fn json_text(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// jsonata-js's message catalogue (`errorCodes` in jsonata.js), plus the
/// limits this crate adds (U1001 for depth and budget, S0220 for parser
/// nesting).
fn template(code: &str) -> &'static str {
    match code {
        "S0101" => "String literal must be terminated by a matching quote",
        "S0102" => "Number out of range: {{token}}",
        "S0103" => "Unsupported escape sequence: \\{{token}}",
        "S0104" => "The escape sequence \\u must be followed by 4 hex digits",
        "S0105" => "Quoted property name must be terminated with a backquote (`)",
        "S0106" => "Comment has no closing tag",
        "S0201" => "Syntax error: {{token}}",
        "S0202" => "Expected {{value}}, got {{token}}",
        "S0203" => "Expected {{value}} before end of expression",
        "S0204" => "Unknown operator: {{token}}",
        "S0205" => "Unexpected token: {{token}}",
        "S0206" => "Unknown expression type: {{token}}",
        "S0207" => "Unexpected end of expression",
        "S0208" => "Parameter {{value}} of function definition must be a variable name (start with $)",
        "S0209" => "A predicate cannot follow a grouping expression in a step",
        "S0210" => "Each step can only have one grouping expression",
        "S0211" => "The symbol {{token}} cannot be used as a unary operator",
        "S0212" => "The left side of := must be a variable name (start with $)",
        "S0213" => "The literal value {{value}} cannot be used as a step within a path expression",
        "S0214" => "The right side of {{token}} must be a variable name (start with $)",
        "S0215" => "A context variable binding must precede any predicates on a step",
        "S0216" => "A context variable binding must precede the 'order-by' clause on a step",
        "S0217" => "The object representing the 'parent' cannot be derived from this expression",
        "S0220" => "The expression is nested too deeply",
        "S0301" => "Empty regular expressions are not allowed",
        "S0302" => "No terminating / in regular expression",
        "S0303" => "Invalid regular expression: {{value}}",
        "S0402" => "Choice groups containing parameterized types are not supported",
        "S0401" => "Type parameters can only be applied to functions and arrays",
        "S0500" => "Attempted to evaluate an expression containing syntax error(s)",
        "T0410" => "Argument {{index}} of function {{token}} does not match function signature",
        "T0411" => "Context value is not a compatible type with argument {{index}} of function {{token}}",
        "T0412" => "Argument {{index}} of function {{token}} must be an array of {{type}}",
        "D1001" => "Number out of range: {{value}}",
        "D1002" => "Cannot negate a non-numeric value: {{value}}",
        "T1003" => "Key in object structure must evaluate to a string; got: {{value}}",
        "D1004" => "Regular expression matches zero length string",
        "T1005" => "Attempted to invoke a non-function. Did you mean ${{{token}}}?",
        "T1006" => "Attempted to invoke a non-function",
        "T1007" => "Attempted to partially apply a non-function. Did you mean ${{{token}}}?",
        "T1008" => "Attempted to partially apply a non-function",
        "D1009" => "Multiple key definitions evaluate to same key: {{value}}",
        "T1010" => "The matcher function argument passed to function {{token}} does not return the correct object structure",
        "T2001" => "The left side of the {{token}} operator must evaluate to a number",
        "T2002" => "The right side of the {{token}} operator must evaluate to a number",
        "T2003" => "The left side of the range operator (..) must evaluate to an integer",
        "T2004" => "The right side of the range operator (..) must evaluate to an integer",
        "T2006" => "The right side of the function application operator ~> must be a function",
        "T2007" => "Type mismatch when comparing values {{value}} and {{value2}} in order-by clause",
        "T2008" => "The expressions within an order-by clause must evaluate to numeric or string values",
        "T2009" => "The values {{value}} and {{value2}} either side of operator {{token}} must be of the same data type",
        "T2010" => "The expressions either side of operator {{token}} must evaluate to numeric or string values",
        "T2011" => "The insert/update clause of the transform expression must evaluate to an object: {{value}}",
        "T2012" => "The delete clause of the transform expression must evaluate to a string or array of strings: {{value}}",
        "T2013" => "The transform expression clones the input object using the $clone() function.  This has been overridden in the current scope by a non-function.",
        "D2014" => "The size of the sequence allocated by the range operator (..) must not exceed 1e7.  Attempted to allocate {{value}}.",
        "D3001" => "Attempting to invoke string function on Infinity or NaN",
        "D3010" => "Second argument of replace function cannot be an empty string",
        "D3011" => "Fourth argument of replace function must evaluate to a positive number",
        "D3012" => "Attempted to replace a matched string with a non-string value",
        "D3020" => "Third argument of split function must evaluate to a positive number",
        "D3030" => "Unable to cast value to a number: {{value}}",
        "D3040" => "Third argument of match function must evaluate to a positive number",
        "D3050" => "The second argument of reduce function must be a function with at least two arguments",
        "D3060" => "The sqrt function cannot be applied to a negative number: {{value}}",
        "D3061" => "The power function has resulted in a value that cannot be represented as a JSON number: base={{value}}, exponent={{exp}}",
        "D3070" => "The single argument form of the sort function can only be applied to an array of strings or an array of numbers.  Use the second argument to specify a comparison function",
        "D3100" => "The radix of the formatBase function must be between 2 and 36.  It was given {{value}}",
        "D3110" => "The argument of the toMillis function must be an ISO 8601 formatted timestamp. Given {{value}}",
        "D3120" => "Syntax error in expression passed to function eval: {{value}}",
        "D3121" => "Dynamic error evaluating the expression passed to function eval: {{value}}",
        "D3137" => "{{{message}}}",
        "D3138" => "The $single() function expected exactly 1 matching result.  Instead it matched more.",
        "D3139" => "The $single() function expected exactly 1 matching result.  Instead it matched 0.",
        "D3140" => "Malformed URL passed to ${{{token}}}(): {{value}}",
        "D3141" => "{{{message}}}",
        // Both the depth limit and the evaluation budget raise U1001, as
        // jsonata-js's test harness does; the caller supplies the text.
        "U1001" => "{{{message}}}",
        // This crate's own: a result nested too deeply to hand out as JSON.
        "U1003" => "{{{message}}}",
        "U1004" => "{{{message}}}",
        _ => "{{{message}}}",
    }
}
