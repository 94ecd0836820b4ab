//! The path grammar: a recursive-descent parser that reads the text of one
//! JSONPath into the typed tree its parent module evaluates (a [`Root`] and
//! its segments, each with the character offset where it starts). It owns
//! every syntax message (`invalid path '...' at offset N: ...`), the cap on
//! nesting ([`MAX_NESTING`]) and which characters a dot-notation name may
//! hold, a choice the parent module's header explains.
//!
//! It must not evaluate anything, nor judge which steps a caller allows:
//! that a reference path may use only names and indices is
//! [`Path::parse_reference`]'s rule, checked with the offsets returned here.
//! Like the rest of `path`, it never panics on its input.
//!
//! [`Path::parse_reference`]: super::Path::parse_reference

use super::{Comparison, Operand, Predicate, Query, Root, Segment, Selector, MAX_NESTING};
use serde_json::{Number, Value};
use std::fmt;

/// A recursive-descent parser over the characters of one path. Offsets in
/// messages count characters from 0.
#[derive(Debug, Clone)]
pub(super) struct Parser<'t> {
    text: &'t str,
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

/// Characters that end a name in dot notation. Jayway stops only at `.`,
/// `[`, `(` and space; this also stops at quotes, brackets, `,`, `*` and the
/// filter operators so that `@.price<10` reads as a comparison and stray
/// punctuation is reported rather than silently becoming part of a name.
fn is_name_char(c: char) -> bool {
    !c.is_whitespace() && !c.is_control() && !".[]()'\",*<>=!&|".contains(c)
}

fn is_identifier_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_identifier_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn describe(c: Option<char>) -> String {
    match c {
        Some(c) if c.is_whitespace() => format!("whitespace {c:?}"),
        Some(c) => format!("'{c}'"),
        None => "the end of the path".to_string(),
    }
}

impl<'t> Parser<'t> {
    pub(super) fn new(text: &'t str) -> Self {
        Parser {
            text,
            chars: text.chars().collect(),
            pos: 0,
            depth: 0,
        }
    }

    pub(super) fn error(&self, at: usize, message: impl fmt::Display) -> String {
        format!("invalid path '{}' at offset {}: {}", self.text, at, message)
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_str(&mut self, s: &str) -> bool {
        let n = s.chars().count();
        if self.chars.len() >= self.pos + n
            && s.chars()
                .eq(self.chars[self.pos..self.pos + n].iter().copied())
        {
            self.pos += n;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char, context: &str) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.error(
                self.pos,
                format!("expected '{c}' {context}, found {}", describe(self.peek())),
            ))
        }
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn enter(&mut self, at: usize) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            Err(self.error(
                at,
                format!("filters, parentheses and '!' nest more than {MAX_NESTING} levels deep"),
            ))
        } else {
            Ok(())
        }
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    pub(super) fn path(mut self) -> Result<(Root, Vec<(Segment, usize)>), String> {
        let root = self.root()?;
        let segments = self.segments()?;
        if let Some(c) = self.peek() {
            let hint = if c.is_whitespace() {
                "; use bracket notation such as ['my name'] for names with spaces"
            } else {
                ""
            };
            return Err(self.error(
                self.pos,
                format!(
                    "unexpected {}, expected '.', '[' or the end of the path{hint}",
                    describe(Some(c))
                ),
            ));
        }
        Ok((root, segments))
    }

    fn root(&mut self) -> Result<Root, String> {
        if !self.eat('$') {
            return Err(self.error(
                self.pos,
                format!(
                    "a path must start with '$', found {}",
                    describe(self.peek())
                ),
            ));
        }
        if self.eat('$') {
            return Ok(Root::Context);
        }
        match self.peek() {
            Some(c) if is_identifier_start(c) => {
                let start = self.pos;
                while self.peek().is_some_and(is_identifier_char) {
                    self.pos += 1;
                }
                Ok(Root::Variable(self.chars[start..self.pos].iter().collect()))
            }
            Some(c) if c.is_ascii_digit() => Err(self.error(
                self.pos,
                "a variable name must start with a letter or '_', not a digit",
            )),
            _ => Ok(Root::Input),
        }
    }

    fn segments(&mut self) -> Result<Vec<(Segment, usize)>, String> {
        let mut segments = Vec::new();
        loop {
            let start = self.pos;
            let segment = match self.peek() {
                Some('.') if self.peek_at(1) == Some('.') => {
                    self.pos += 2;
                    Segment::Descendant(self.after_dot("'..'")?)
                }
                Some('.') => {
                    self.pos += 1;
                    Segment::Child(self.after_dot("'.'")?)
                }
                Some('[') => Segment::Child(self.bracket()?),
                _ => return Ok(segments),
            };
            segments.push((segment, start));
        }
    }

    /// What may follow `.` or `..`: a name, `*`, or (as AWS's own example
    /// `$.abc.['def ghi']` shows) a bracket.
    fn after_dot(&mut self, dot: &str) -> Result<Selector, String> {
        match self.peek() {
            Some('*') => {
                self.pos += 1;
                Ok(Selector::Wildcard)
            }
            Some('[') => self.bracket(),
            Some(c) if is_name_char(c) => {
                let start = self.pos;
                while self.peek().is_some_and(is_name_char) {
                    self.pos += 1;
                }
                Ok(Selector::Name(self.chars[start..self.pos].iter().collect()))
            }
            other => Err(self.error(
                self.pos,
                format!(
                    "expected a name, '*' or '[' after {dot}, found {}{}",
                    describe(other),
                    if other.is_some() {
                        "; use bracket notation such as ['a b'] for names with special characters"
                    } else {
                        ""
                    }
                ),
            )),
        }
    }

    fn bracket(&mut self) -> Result<Selector, String> {
        let open = self.pos;
        self.pos += 1;
        self.skip_whitespace();
        let selector = match self.peek() {
            Some('?') => {
                self.pos += 1;
                self.expect('(', "after '[?'")?;
                self.enter(open)?;
                let predicate = self.or_predicate()?;
                self.skip_whitespace();
                self.expect(')', "to close the filter")?;
                self.leave();
                Selector::Filter(Box::new(predicate))
            }
            Some('*') => {
                self.pos += 1;
                Selector::Wildcard
            }
            Some('\'' | '"') => {
                let mut names = vec![self.string()?];
                loop {
                    self.skip_whitespace();
                    if !self.eat(',') {
                        break;
                    }
                    self.skip_whitespace();
                    match self.peek() {
                        Some('\'' | '"') => names.push(self.string()?),
                        other => {
                            return Err(self.error(
                                self.pos,
                                format!(
                                    "expected a quoted name after ',', found {}",
                                    describe(other)
                                ),
                            ))
                        }
                    }
                }
                if names.len() == 1 {
                    Selector::Name(names.remove(0))
                } else {
                    Selector::Names(names)
                }
            }
            Some(c) if c == '-' || c == ':' || c.is_ascii_digit() => self.indices_or_slice()?,
            None => return Err(self.error(open, "'[' is never closed")),
            other => {
                return Err(self.error(
                    self.pos,
                    format!(
                        "expected a quoted name, an index, a slice, '*' or '?(' after '[', \
                         found {}",
                        describe(other)
                    ),
                ))
            }
        };
        self.skip_whitespace();
        if self.peek().is_none() {
            return Err(self.error(open, "'[' is never closed"));
        }
        self.expect(']', &format!("to close the '[' at offset {open}"))?;
        Ok(selector)
    }

    fn indices_or_slice(&mut self) -> Result<Selector, String> {
        let open = self.pos;
        let start = self.optional_integer()?;
        self.skip_whitespace();
        if self.eat(':') {
            self.skip_whitespace();
            let end = self.optional_integer()?;
            self.skip_whitespace();
            // Jayway reads a third number after a second ':' and ignores it:
            // `[0:4:2]` is `[0:4]` (json-path-comparison's record of
            // Jayway, bug_reports/Java_com.jayway.jsonpath.md).
            if self.eat(':') {
                self.skip_whitespace();
                self.optional_integer()?;
                self.skip_whitespace();
            }
            // Without a start or an end Jayway refuses the slice
            // (`[:]`, `[::2]`: "Failed to parse SliceOperation").
            if start.is_none() && end.is_none() {
                return Err(self.error(
                    open,
                    "a slice needs a start or an end ('[:]' and '[::step]' are not JSONPath \
                     as Step Functions reads it)",
                ));
            }
            return Ok(Selector::Slice { start, end });
        }
        let Some(first) = start else {
            return Err(self.error(
                self.pos,
                format!("expected an index, found {}", describe(self.peek())),
            ));
        };
        let mut indices = vec![first];
        while self.eat(',') {
            self.skip_whitespace();
            match self.optional_integer()? {
                Some(index) => indices.push(index),
                None => {
                    return Err(self.error(
                        self.pos,
                        format!(
                            "expected an index after ',', found {}",
                            describe(self.peek())
                        ),
                    ))
                }
            }
            self.skip_whitespace();
        }
        Ok(if indices.len() == 1 {
            Selector::Index(first)
        } else {
            Selector::Indices(indices)
        })
    }

    /// An optionally signed integer, or `None` when no digits are here.
    fn optional_integer(&mut self) -> Result<Option<i64>, String> {
        let start = self.pos;
        let negative = self.eat('-');
        let digits_start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos == digits_start {
            if negative {
                return Err(self.error(
                    self.pos,
                    format!("expected digits after '-', found {}", describe(self.peek())),
                ));
            }
            return Ok(None);
        }
        let lexeme: String = self.chars[start..self.pos].iter().collect();
        lexeme
            .parse::<i64>()
            .map(Some)
            .map_err(|_| self.error(start, format!("index {lexeme} is out of range")))
    }

    /// A single- or double-quoted string with JSON-style escapes (and `\'`).
    fn string(&mut self) -> Result<String, String> {
        let start = self.pos;
        let Some(quote) = self.peek() else {
            return Err(self.error(start, "expected a quoted string"));
        };
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(self.error(start, "string is never closed")),
                Some(c) if c == quote => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('\\') => {
                    let escape_at = self.pos;
                    self.pos += 1;
                    let escaped = match self.peek() {
                        Some(c @ ('\\' | '\'' | '"' | '/')) => c,
                        Some('b') => '\u{8}',
                        Some('f') => '\u{c}',
                        Some('n') => '\n',
                        Some('r') => '\r',
                        Some('t') => '\t',
                        Some('u') => {
                            self.pos += 1;
                            let c = self.unicode_escape(escape_at)?;
                            out.push(c);
                            continue;
                        }
                        other => {
                            return Err(self.error(
                                escape_at,
                                format!(
                                    "unknown escape '\\{}'",
                                    other.map(String::from).unwrap_or_default()
                                ),
                            ))
                        }
                    };
                    self.pos += 1;
                    out.push(escaped);
                }
                Some(c) => {
                    self.pos += 1;
                    out.push(c);
                }
            }
        }
    }

    /// The `XXXX` of `\uXXXX` (the `\u` already read), joining a UTF-16
    /// surrogate pair written as two escapes.
    fn unicode_escape(&mut self, at: usize) -> Result<char, String> {
        let high = self.hex4(at)?;
        let code = if (0xD800..0xDC00).contains(&high) {
            if !self.eat_str("\\u") {
                return Err(self.error(
                    at,
                    "a high surrogate '\\u' escape must be followed by a low one",
                ));
            }
            let low = self.hex4(at)?;
            if !(0xDC00..0xE000).contains(&low) {
                return Err(self.error(at, "invalid surrogate pair in '\\u' escapes"));
            }
            0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
        } else {
            high
        };
        char::from_u32(code).ok_or_else(|| self.error(at, "'\\u' escape is not a valid character"))
    }

    fn hex4(&mut self, at: usize) -> Result<u32, String> {
        let mut code = 0;
        for _ in 0..4 {
            let digit = self.peek().and_then(|c| c.to_digit(16));
            match digit {
                Some(d) => {
                    code = code * 16 + d;
                    self.pos += 1;
                }
                None => return Err(self.error(at, "'\\u' must be followed by four hex digits")),
            }
        }
        Ok(code)
    }

    fn or_predicate(&mut self) -> Result<Predicate, String> {
        let mut terms = vec![self.and_predicate()?];
        loop {
            self.skip_whitespace();
            if !self.eat_str("||") {
                break;
            }
            terms.push(self.and_predicate()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Predicate::Any(terms)
        })
    }

    fn and_predicate(&mut self) -> Result<Predicate, String> {
        let mut terms = vec![self.unary_predicate()?];
        loop {
            self.skip_whitespace();
            if !self.eat_str("&&") {
                break;
            }
            terms.push(self.unary_predicate()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Predicate::All(terms)
        })
    }

    fn unary_predicate(&mut self) -> Result<Predicate, String> {
        self.skip_whitespace();
        let at = self.pos;
        if self.peek() == Some('!') && self.peek_at(1) != Some('=') {
            self.pos += 1;
            self.enter(at)?;
            let inner = self.unary_predicate()?;
            self.leave();
            return Ok(Predicate::Not(Box::new(inner)));
        }
        if self.eat('(') {
            self.enter(at)?;
            let inner = self.or_predicate()?;
            self.skip_whitespace();
            self.expect(')', &format!("to close the '(' at offset {at}"))?;
            self.leave();
            return Ok(inner);
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Predicate, String> {
        let at = self.pos;
        let left = self.operand()?;
        self.skip_whitespace();
        match self.comparison_operator()? {
            Some(op) => {
                self.skip_whitespace();
                let right = self.operand()?;
                Ok(Predicate::Compare(left, op, right))
            }
            None => match left {
                Operand::Query(query) => Ok(Predicate::Exists(query)),
                Operand::Literal(_) => Err(self.error(
                    at,
                    "a literal on its own is not a condition; compare it with \
                     '==', '!=', '<', '<=', '>' or '>='",
                )),
            },
        }
    }

    fn comparison_operator(&mut self) -> Result<Option<Comparison>, String> {
        let at = self.pos;
        let op = if self.eat_str("==") {
            Comparison::Eq
        } else if self.eat_str("!=") {
            Comparison::Ne
        } else if self.eat_str("<=") {
            Comparison::Le
        } else if self.eat_str(">=") {
            Comparison::Ge
        } else if self.eat_str("<") {
            Comparison::Lt
        } else if self.eat_str(">") {
            Comparison::Gt
        } else if self.eat_str("=~") {
            return Err(self.error(
                at,
                "regular expressions ('=~') are not supported in filters",
            ));
        } else if self.peek() == Some('=') {
            return Err(self.error(at, "use '==' to compare, not '='"));
        } else if self.peek().is_some_and(char::is_alphabetic) {
            let word = self.word();
            return Err(self.error(
                at,
                format!(
                    "operator '{word}' is not supported in filters; use '==', '!=', '<', '<=', \
                     '>', '>=', '&&', '||' or '!'"
                ),
            ));
        } else {
            return Ok(None);
        };
        Ok(Some(op))
    }

    fn word(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(char::is_alphanumeric) {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn operand(&mut self) -> Result<Operand, String> {
        let at = self.pos;
        match self.peek() {
            Some('@') => {
                self.pos += 1;
                let segments = self.segments()?;
                Ok(Operand::Query(Query {
                    current: true,
                    segments: segments.into_iter().map(|(s, _)| s).collect(),
                }))
            }
            Some('$') => {
                if self
                    .peek_at(1)
                    .is_some_and(|c| c == '$' || is_identifier_char(c))
                {
                    return Err(self.error(
                        at,
                        "only '@' and '$' paths can be used inside a filter, not '$$' or variables",
                    ));
                }
                self.pos += 1;
                let segments = self.segments()?;
                Ok(Operand::Query(Query {
                    current: false,
                    segments: segments.into_iter().map(|(s, _)| s).collect(),
                }))
            }
            Some('\'' | '"') => Ok(Operand::Literal(Value::String(self.string()?))),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(),
            Some(c) if c.is_alphabetic() => match self.word().as_str() {
                "true" => Ok(Operand::Literal(Value::Bool(true))),
                "false" => Ok(Operand::Literal(Value::Bool(false))),
                "null" => Ok(Operand::Literal(Value::Null)),
                word => Err(self.error(
                    at,
                    format!(
                        "unknown word '{word}' in filter; expected a path ('@...' or '$...'), \
                         a quoted string, a number, true, false or null"
                    ),
                )),
            },
            other => Err(self.error(
                at,
                format!(
                    "expected a path ('@...' or '$...'), a quoted string, a number, true, false \
                     or null, found {}",
                    describe(other)
                ),
            )),
        }
    }

    fn number(&mut self) -> Result<Operand, String> {
        let start = self.pos;
        self.eat('-');
        let digits = |p: &mut Self| {
            let from = p.pos;
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.pos += 1;
            }
            p.pos > from
        };
        let mut valid = digits(self);
        if self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
            valid &= digits(self);
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some('+' | '-')) {
                self.pos += 1;
            }
            valid &= digits(self);
        }
        let lexeme: String = self.chars[start..self.pos].iter().collect();
        let number = if valid {
            serde_json::from_str::<Number>(&lexeme).ok()
        } else {
            None
        };
        number
            .map(|n| Operand::Literal(Value::Number(n)))
            .ok_or_else(|| self.error(start, format!("'{lexeme}' is not a valid number")))
    }
}
