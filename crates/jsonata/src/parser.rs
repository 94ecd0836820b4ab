//! Source text to processed tree: jsonata-js's tokenizer, its Pratt parser
//! (same binding powers, same error codes and positions) and its
//! `processAST` pass (paths, stages, grouping, ancestry for `%`, tail-call
//! thunks). It must not evaluate anything. Nesting is bounded (S0220) so a
//! hostile expression cannot overflow the stack.

use crate::{NEW_SEGMENT, RED_ZONE};
use std::sync::Arc;

use crate::ast::{BinOp, Group, Kind, LambdaDef, Node, RegexLit, SortTerm, Stage, TransformDef};
use crate::error::RawError;
use crate::signature::Signature;

/// How deeply expressions may nest (parentheses, operands, arguments).
/// jsonata-js has no limit and overflows its stack; 1000 levels is far
/// beyond hand-written expressions. Recursion past the thread's stack
/// continues on heap segments (`stacker`), so the bound is about memory
/// and time, not the caller's stack size.
pub(crate) const MAX_NESTING: usize = 1000;

type PResult<T> = Result<T, RawError>;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Variable(String),
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    Regex(String, String),
    Op(&'static str),
    End,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    position: usize,
}

const OPERATORS: &[(&str, u32)] = &[
    (".", 75),
    ("[", 80),
    ("]", 0),
    ("{", 70),
    ("}", 0),
    ("(", 80),
    (")", 0),
    (",", 0),
    ("@", 80),
    ("#", 80),
    (";", 80),
    (":", 80),
    ("?", 20),
    ("+", 50),
    ("-", 50),
    ("*", 60),
    ("/", 60),
    ("%", 60),
    ("|", 20),
    ("=", 40),
    ("<", 40),
    (">", 40),
    ("^", 40),
    ("**", 60),
    ("..", 20),
    (":=", 10),
    ("!=", 40),
    ("<=", 40),
    (">=", 40),
    ("~>", 40),
    ("?:", 40),
    ("??", 40),
    ("and", 30),
    ("or", 25),
    ("in", 40),
    ("&", 50),
    ("!", 0),
    ("~", 0),
];

fn op_static(s: &str) -> Option<&'static str> {
    OPERATORS.iter().find(|(o, _)| *o == s).map(|(o, _)| *o)
}

fn lbp(tok: &Tok) -> u32 {
    match tok {
        // Only symbols registered as infix operators bind to their left;
        // terminators and prefix-only symbols have binding power 0.
        Tok::Op(o)
            if matches!(
                *o,
                "]" | "}" | ")" | "," | ";" | ":" | "|" | "**" | ".." | "!" | "~"
            ) =>
        {
            0
        }
        Tok::Op(o) => OPERATORS
            .iter()
            .find(|(x, _)| x == o)
            .map(|(_, b)| *b)
            .unwrap_or(0),
        _ => 0,
    }
}

fn is_single_op(c: char) -> bool {
    matches!(
        c,
        '.' | '['
            | ']'
            | '{'
            | '}'
            | '('
            | ')'
            | ','
            | '@'
            | '#'
            | ';'
            | ':'
            | '?'
            | '+'
            | '-'
            | '*'
            | '/'
            | '%'
            | '|'
            | '='
            | '<'
            | '>'
            | '^'
            | '&'
            | '!'
            | '~'
    )
}

fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{b}')
}

struct Lexer {
    src: Vec<char>,
    pos: usize,
}

impl Lexer {
    fn at(&self, i: usize) -> Option<char> {
        self.src.get(i).copied()
    }

    fn token(&self, tok: Tok) -> Token {
        Token {
            tok,
            position: self.pos,
        }
    }

    fn next(&mut self, prefix: bool) -> PResult<Token> {
        loop {
            while self.at(self.pos).is_some_and(is_ws) {
                self.pos += 1;
            }
            if self.at(self.pos) == Some('/') && self.at(self.pos + 1) == Some('*') {
                let start = self.pos;
                self.pos += 2;
                loop {
                    if self.pos + 1 >= self.src.len() {
                        return Err(RawError::new("S0106").pos(start));
                    }
                    if self.at(self.pos) == Some('*') && self.at(self.pos + 1) == Some('/') {
                        self.pos += 2;
                        break;
                    }
                    self.pos += 1;
                }
                continue;
            }
            break;
        }
        let Some(c) = self.at(self.pos) else {
            return Ok(self.token(Tok::End));
        };
        if !prefix && c == '/' {
            self.pos += 1;
            return self.scan_regex();
        }
        let c2 = self.at(self.pos + 1);
        let double = match (c, c2) {
            ('.', Some('.')) => Some(".."),
            (':', Some('=')) => Some(":="),
            ('!', Some('=')) => Some("!="),
            ('>', Some('=')) => Some(">="),
            ('<', Some('=')) => Some("<="),
            ('*', Some('*')) => Some("**"),
            ('~', Some('>')) => Some("~>"),
            ('?', Some(':')) => Some("?:"),
            ('?', Some('?')) => Some("??"),
            _ => None,
        };
        if let Some(op) = double {
            self.pos += 2;
            return Ok(self.token(Tok::Op(op)));
        }
        if is_single_op(c) {
            self.pos += 1;
            let s = c.to_string();
            return Ok(self.token(Tok::Op(op_static(&s).unwrap_or("?"))));
        }
        if c == '"' || c == '\'' {
            return self.scan_string(c);
        }
        if c.is_ascii_digit() {
            return self.scan_number();
        }
        if c == '`' {
            self.pos += 1;
            let start = self.pos;
            while let Some(ch) = self.at(self.pos) {
                if ch == '`' {
                    let name: String = self.src[start..self.pos].iter().collect();
                    self.pos += 1;
                    return Ok(self.token(Tok::Name(name)));
                }
                self.pos += 1;
            }
            self.pos = self.src.len();
            return Err(RawError::new("S0105").pos(self.pos));
        }
        let mut i = self.pos;
        while let Some(ch) = self.at(i) {
            if is_ws(ch) || is_single_op(ch) {
                break;
            }
            i += 1;
        }
        let word: String = self.src[self.pos..i].iter().collect();
        self.pos = i;
        if let Some(var) = word.strip_prefix('$') {
            return Ok(self.token(Tok::Variable(var.to_string())));
        }
        Ok(self.token(match word.as_str() {
            "or" => Tok::Op("or"),
            "in" => Tok::Op("in"),
            "and" => Tok::Op("and"),
            "true" => Tok::Bool(true),
            "false" => Tok::Bool(false),
            "null" => Tok::Null,
            _ => Tok::Name(word),
        }))
    }

    fn scan_string(&mut self, quote: char) -> PResult<Token> {
        self.pos += 1;
        let mut s = String::new();
        while let Some(c) = self.at(self.pos) {
            if c == '\\' {
                self.pos += 1;
                let e = self.at(self.pos);
                match e {
                    Some('"') => s.push('"'),
                    Some('\\') => s.push('\\'),
                    Some('/') => s.push('/'),
                    Some('b') => s.push('\u{8}'),
                    Some('f') => s.push('\u{c}'),
                    Some('n') => s.push('\n'),
                    Some('r') => s.push('\r'),
                    Some('t') => s.push('\t'),
                    Some('u') => {
                        let hex: String = self.src.iter().skip(self.pos + 1).take(4).collect();
                        if hex.len() == 4 && hex.chars().all(|h| h.is_ascii_hexdigit()) {
                            let mut code = u32::from_str_radix(&hex, 16).unwrap_or(0xfffd);
                            self.pos += 4;
                            // A surrogate pair written as two escapes is one character.
                            if (0xd800..0xdc00).contains(&code)
                                && self.at(self.pos + 1) == Some('\\')
                                && self.at(self.pos + 2) == Some('u')
                            {
                                let low: String =
                                    self.src.iter().skip(self.pos + 3).take(4).collect();
                                if let Ok(lo) = u32::from_str_radix(&low, 16) {
                                    if (0xdc00..0xe000).contains(&lo) {
                                        code = 0x10000 + ((code - 0xd800) << 10) + (lo - 0xdc00);
                                        self.pos += 6;
                                    }
                                }
                            }
                            s.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                        } else {
                            return Err(RawError::new("S0104").pos(self.pos));
                        }
                    }
                    other => {
                        return Err(RawError::new("S0103")
                            .pos(self.pos)
                            .token(other.map(String::from).unwrap_or_default()));
                    }
                }
            } else if c == quote {
                self.pos += 1;
                return Ok(self.token(Tok::Str(s)));
            } else {
                s.push(c);
            }
            self.pos += 1;
        }
        Err(RawError::new("S0101").pos(self.pos))
    }

    fn scan_number(&mut self) -> PResult<Token> {
        // /^-?(0|([1-9][0-9]*))(\.[0-9]+)?([Ee][-+]?[0-9]+)?/
        let start = self.pos;
        let mut i = self.pos;
        if self.at(i) == Some('0') {
            i += 1;
        } else {
            while self.at(i).is_some_and(|c| c.is_ascii_digit()) {
                i += 1;
            }
        }
        if self.at(i) == Some('.') && self.at(i + 1).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
            while self.at(i).is_some_and(|c| c.is_ascii_digit()) {
                i += 1;
            }
        }
        if matches!(self.at(i), Some('e') | Some('E')) {
            let mut j = i + 1;
            if matches!(self.at(j), Some('+') | Some('-')) {
                j += 1;
            }
            if self.at(j).is_some_and(|c| c.is_ascii_digit()) {
                while self.at(j).is_some_and(|c| c.is_ascii_digit()) {
                    j += 1;
                }
                i = j;
            }
        }
        let text: String = self.src[start..i].iter().collect();
        let n: f64 = text.parse().unwrap_or(f64::NAN);
        if n.is_finite() {
            self.pos = i;
            Ok(self.token(Tok::Num(n)))
        } else {
            Err(RawError::new("S0102").pos(self.pos).token(text))
        }
    }

    fn scan_regex(&mut self) -> PResult<Token> {
        let start = self.pos;
        let mut depth: i32 = 0;
        while self.pos < self.src.len() {
            let c = self.src[self.pos];
            if c == '/' && depth == 0 {
                let mut backslashes = 0;
                while self.pos > backslashes && self.src[self.pos - backslashes - 1] == '\\' {
                    backslashes += 1;
                }
                if backslashes % 2 == 0 {
                    let pattern: String = self.src[start..self.pos].iter().collect();
                    if pattern.is_empty() {
                        return Err(RawError::new("S0301").pos(self.pos));
                    }
                    self.pos += 1;
                    let fstart = self.pos;
                    while matches!(self.at(self.pos), Some('i') | Some('m')) {
                        self.pos += 1;
                    }
                    let flags: String = self.src[fstart..self.pos].iter().collect();
                    return Ok(self.token(Tok::Regex(pattern, flags)));
                }
            }
            let prev = if self.pos > 0 {
                self.src.get(self.pos - 1).copied()
            } else {
                None
            };
            if matches!(c, '(' | '[' | '{') && prev != Some('\\') {
                depth += 1;
            }
            if matches!(c, ')' | ']' | '}') && prev != Some('\\') {
                depth -= 1;
            }
            self.pos += 1;
        }
        Err(RawError::new("S0302").pos(self.pos))
    }
}

/// The parse tree before `process` (jsonata-js's raw Pratt output).
#[derive(Debug, Clone)]
struct Raw {
    kind: RawKind,
    position: usize,
    keep_array: bool,
}

#[derive(Debug, Clone)]
enum RawKind {
    Name(String),
    Variable(String),
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    Regex(String, String),
    /// `and`, `or`, `in` used as names, and the `?` placeholder.
    Operator(&'static str),
    Binary(&'static str, Box<Raw>, Box<Raw>),
    GroupBy(Box<Raw>, Vec<(Raw, Raw)>),
    OrderBy(Box<Raw>, Vec<(bool, Raw)>),
    Neg(Box<Raw>),
    ArrayCons(Vec<Raw>),
    ObjectCons(Vec<(Raw, Raw)>),
    Wildcard,
    Descendant,
    Parent,
    Block(Vec<Raw>),
    Function(Box<Raw>, Vec<Raw>, bool),
    Lambda(Vec<String>, Option<Signature>, Box<Raw>),
    Condition(Box<Raw>, Box<Raw>, Option<Box<Raw>>),
    Transform(Box<Raw>, Box<Raw>, Option<Box<Raw>>),
}

impl Raw {
    fn new(kind: RawKind, position: usize) -> Raw {
        Raw {
            kind,
            position,
            keep_array: false,
        }
    }
    fn value_text(&self) -> String {
        match &self.kind {
            RawKind::Name(s) | RawKind::Variable(s) | RawKind::Str(s) => s.clone(),
            RawKind::Num(n) => crate::value::js_number_string(*n),
            RawKind::Bool(b) => b.to_string(),
            RawKind::Null => "null".into(),
            RawKind::Operator(o) | RawKind::Binary(o, ..) => o.to_string(),
            _ => String::new(),
        }
    }
}

struct Parser {
    lexer: Lexer,
    node: Token,
    depth: usize,
}

fn tok_text(t: &Tok) -> String {
    match t {
        Tok::Name(s) | Tok::Variable(s) | Tok::Str(s) => s.clone(),
        Tok::Num(n) => crate::value::js_number_string(*n),
        Tok::Bool(b) => b.to_string(),
        Tok::Null => "null".into(),
        Tok::Regex(p, _) => p.clone(),
        Tok::Op(o) => o.to_string(),
        Tok::End => "(end)".into(),
    }
}

impl Parser {
    fn advance(&mut self, expect: Option<&str>, infix: bool) -> PResult<Token> {
        if let Some(id) = expect {
            let matches = matches!(&self.node.tok, Tok::Op(o) if *o == id);
            if !matches {
                let code = if self.node.tok == Tok::End {
                    "S0203"
                } else {
                    "S0202"
                };
                return Err(RawError::new(code)
                    .pos(self.node.position)
                    .token(tok_text(&self.node.tok))
                    .value(serde_json::Value::String(id.to_string()).to_string()));
            }
        }
        let next = self.lexer.next(infix)?;
        if let Tok::Op(o) = &next.tok {
            if matches!(*o, "!" | "~") {
                return Err(RawError::new("S0204").pos(next.position).token(*o));
            }
        }
        Ok(std::mem::replace(&mut self.node, next))
    }

    fn is(&self, id: &str) -> bool {
        matches!(&self.node.tok, Tok::Op(o) if *o == id)
    }

    fn expression(&mut self, rbp: u32) -> PResult<Raw> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(RawError::new("S0220").pos(self.node.position));
        }
        let left = stacker::maybe_grow(RED_ZONE, NEW_SEGMENT, || -> PResult<Raw> {
            let t = self.advance(None, true)?;
            let mut left = self.nud(t)?;
            while rbp < lbp(&self.node.tok) {
                let t = self.advance(None, false)?;
                left = self.led(t, left)?;
            }
            Ok(left)
        })?;
        self.depth -= 1;
        Ok(left)
    }

    #[inline(never)]
    fn nud(&mut self, t: Token) -> PResult<Raw> {
        let pos = t.position;
        Ok(match t.tok {
            Tok::Name(n) => Raw::new(RawKind::Name(n), pos),
            Tok::Variable(n) => Raw::new(RawKind::Variable(n), pos),
            Tok::Str(s) => Raw::new(RawKind::Str(s), pos),
            Tok::Num(n) => Raw::new(RawKind::Num(n), pos),
            Tok::Bool(b) => Raw::new(RawKind::Bool(b), pos),
            Tok::Null => Raw::new(RawKind::Null, pos),
            Tok::Regex(p, f) => Raw::new(RawKind::Regex(p, f), pos),
            Tok::End => return Err(RawError::new("S0207").pos(pos).token("(end)")),
            Tok::Op(op) => match op {
                "and" | "or" | "in" => Raw::new(RawKind::Operator(op), pos),
                "-" => {
                    let e = self.expression(70)?;
                    Raw::new(RawKind::Neg(Box::new(e)), pos)
                }
                "*" => Raw::new(RawKind::Wildcard, pos),
                "**" => Raw::new(RawKind::Descendant, pos),
                "%" => Raw::new(RawKind::Parent, pos),
                "(" => self.nud_block(pos)?,
                "[" => self.nud_array(pos)?,
                "{" => {
                    let pairs = self.object_pairs()?;
                    Raw::new(RawKind::ObjectCons(pairs), pos)
                }
                "|" => self.nud_transform(pos)?,
                _ => return Err(RawError::new("S0211").pos(pos).token(op)),
            },
        })
    }

    #[inline(never)]
    fn nud_block(&mut self, pos: usize) -> PResult<Raw> {
        let mut exprs = Vec::new();
        while !self.is(")") {
            exprs.push(self.expression(0)?);
            if !self.is(";") {
                break;
            }
            self.advance(Some(";"), false)?;
        }
        self.advance(Some(")"), true)?;
        Ok(Raw::new(RawKind::Block(exprs), pos))
    }

    #[inline(never)]
    fn nud_array(&mut self, pos: usize) -> PResult<Raw> {
        let mut items = Vec::new();
        if !self.is("]") {
            loop {
                let mut item = self.expression(0)?;
                if self.is("..") {
                    let rpos = self.node.position;
                    self.advance(Some(".."), false)?;
                    let rhs = self.expression(0)?;
                    item = Raw::new(RawKind::Binary("..", Box::new(item), Box::new(rhs)), rpos);
                }
                items.push(item);
                if !self.is(",") {
                    break;
                }
                self.advance(Some(","), false)?;
            }
        }
        self.advance(Some("]"), true)?;
        Ok(Raw::new(RawKind::ArrayCons(items), pos))
    }

    #[inline(never)]
    fn nud_transform(&mut self, pos: usize) -> PResult<Raw> {
        let pattern = self.expression(0)?;
        self.advance(Some("|"), false)?;
        let update = self.expression(0)?;
        let mut delete = None;
        if self.is(",") {
            self.advance(Some(","), false)?;
            delete = Some(Box::new(self.expression(0)?));
        }
        self.advance(Some("|"), false)?;
        Ok(Raw::new(
            RawKind::Transform(Box::new(pattern), Box::new(update), delete),
            pos,
        ))
    }

    #[inline(never)]
    fn object_pairs(&mut self) -> PResult<Vec<(Raw, Raw)>> {
        let mut pairs = Vec::new();
        if !self.is("}") {
            loop {
                let k = self.expression(0)?;
                self.advance(Some(":"), false)?;
                let v = self.expression(0)?;
                pairs.push((k, v));
                if !self.is(",") {
                    break;
                }
                self.advance(Some(","), false)?;
            }
        }
        self.advance(Some("}"), true)?;
        Ok(pairs)
    }

    #[inline(never)]
    fn led(&mut self, t: Token, left: Raw) -> PResult<Raw> {
        let pos = t.position;
        let Tok::Op(op) = t.tok else {
            return Err(RawError::new("S0201").pos(pos).token(tok_text(&t.tok)));
        };
        let bp = lbp(&Tok::Op(op));
        Ok(match op {
            "." | "+" | "-" | "*" | "/" | "%" | "=" | "<" | ">" | "!=" | "<=" | ">=" | "&"
            | "and" | "or" | "in" => {
                let rhs = self.expression(bp)?;
                Raw::new(RawKind::Binary(op, Box::new(left), Box::new(rhs)), pos)
            }
            "~>" => {
                let rhs = self.expression(bp)?;
                Raw::new(RawKind::Binary("~>", Box::new(left), Box::new(rhs)), pos)
            }
            ":=" => {
                if !matches!(left.kind, RawKind::Variable(_)) {
                    return Err(RawError::new("S0212")
                        .pos(left.position)
                        .token(left.value_text()));
                }
                let rhs = self.expression(bp - 1)?;
                Raw::new(RawKind::Binary(":=", Box::new(left), Box::new(rhs)), pos)
            }
            "@" | "#" => {
                let rhs = self.expression(bp)?;
                if !matches!(rhs.kind, RawKind::Variable(_)) {
                    return Err(RawError::new("S0214").pos(rhs.position).token(op));
                }
                Raw::new(RawKind::Binary(op, Box::new(left), Box::new(rhs)), pos)
            }
            "?" => {
                let then = self.expression(0)?;
                let mut els = None;
                if self.is(":") {
                    self.advance(Some(":"), false)?;
                    els = Some(Box::new(self.expression(0)?));
                }
                Raw::new(RawKind::Condition(Box::new(left), Box::new(then), els), pos)
            }
            "?:" => {
                let els = self.expression(0)?;
                Raw::new(
                    RawKind::Condition(Box::new(left.clone()), Box::new(left), Some(Box::new(els))),
                    pos,
                )
            }
            "??" => {
                let els = self.expression(0)?;
                let exists = Raw::new(
                    RawKind::Function(
                        Box::new(Raw::new(RawKind::Variable("exists".into()), pos)),
                        vec![left.clone()],
                        false,
                    ),
                    pos,
                );
                Raw::new(
                    RawKind::Condition(Box::new(exists), Box::new(left), Some(Box::new(els))),
                    pos,
                )
            }
            "(" => self.call(left, pos)?,
            "[" => {
                if self.is("]") {
                    let mut left = left;
                    mark_keep_array(&mut left);
                    self.advance(Some("]"), false)?;
                    left
                } else {
                    let rhs = self.expression(0)?;
                    self.advance(Some("]"), true)?;
                    Raw::new(RawKind::Binary("[", Box::new(left), Box::new(rhs)), pos)
                }
            }
            "^" => {
                self.advance(Some("("), false)?;
                let mut terms = Vec::new();
                loop {
                    let mut descending = false;
                    if self.is("<") {
                        self.advance(Some("<"), false)?;
                    } else if self.is(">") {
                        descending = true;
                        self.advance(Some(">"), false)?;
                    }
                    terms.push((descending, self.expression(0)?));
                    if !self.is(",") {
                        break;
                    }
                    self.advance(Some(","), false)?;
                }
                self.advance(Some(")"), true)?;
                Raw::new(RawKind::OrderBy(Box::new(left), terms), pos)
            }
            "{" => {
                let pairs = self.object_pairs()?;
                Raw::new(RawKind::GroupBy(Box::new(left), pairs), pos)
            }
            _ => return Err(RawError::new("S0201").pos(pos).token(op)),
        })
    }

    #[inline(never)]
    fn call(&mut self, left: Raw, pos: usize) -> PResult<Raw> {
        let mut args = Vec::new();
        let mut partial = false;
        if !self.is(")") {
            loop {
                if self.is("?") {
                    partial = true;
                    let p = self.node.position;
                    self.advance(Some("?"), false)?;
                    args.push(Raw::new(RawKind::Operator("?"), p));
                } else {
                    args.push(self.expression(0)?);
                }
                if !self.is(",") {
                    break;
                }
                self.advance(Some(","), false)?;
            }
        }
        self.advance(Some(")"), true)?;
        let is_lambda = matches!(&left.kind, RawKind::Name(n) if n == "function" || n == "\u{3bb}");
        if !is_lambda {
            return Ok(Raw::new(
                RawKind::Function(Box::new(left), args, partial),
                pos,
            ));
        }
        let mut params = Vec::new();
        for (i, a) in args.iter().enumerate() {
            match &a.kind {
                RawKind::Variable(v) => params.push(v.clone()),
                _ => {
                    return Err(RawError::new("S0208")
                        .pos(a.position)
                        .token(a.value_text())
                        .value((i + 1).to_string()))
                }
            }
        }
        let mut signature = None;
        if self.is("<") {
            let sig_pos = self.node.position;
            let mut depth = 1;
            let mut sig = String::from("<");
            while depth > 0 && !self.is("{") && self.node.tok != Tok::End {
                self.advance(None, false)?;
                let tok = self.node.clone();
                if tok.tok == Tok::Op(">") {
                    depth -= 1;
                } else if tok.tok == Tok::Op("<") {
                    depth += 1;
                }
                sig.push_str(&tok_text(&tok.tok));
            }
            self.advance(Some(">"), false)?;
            signature = Some(Signature::parse(&sig).map_err(|e| {
                let offset = e.position.unwrap_or(0);
                RawError {
                    position: Some(sig_pos + offset),
                    ..e
                }
            })?);
        }
        self.advance(Some("{"), false)?;
        let body = self.expression(0)?;
        self.advance(Some("}"), false)?;
        Ok(Raw::new(
            RawKind::Lambda(params, signature, Box::new(body)),
            pos,
        ))
    }
}

fn mark_keep_array(raw: &mut Raw) {
    let mut step = raw;
    while let RawKind::Binary("[", lhs, _) = &mut step.kind {
        step = lhs;
    }
    step.keep_array = true;
}

/// Parses and processes a whole expression.
pub(crate) fn parse(source: &str) -> Result<Node, RawError> {
    let mut lexer = Lexer {
        src: source.chars().collect(),
        pos: 0,
    };
    let first = lexer.next(false)?;
    let mut p = Parser {
        lexer,
        node: first,
        depth: 0,
    };
    let raw = p.expression(0)?;
    if p.node.tok != Tok::End {
        return Err(RawError::new("S0201")
            .pos(p.node.position)
            .token(tok_text(&p.node.tok)));
    }
    let mut pr = Processor {
        slots: Vec::new(),
        depth: 0,
    };
    let mut node = pr.process(raw)?;
    if matches!(node.kind, Kind::Parent) || !node.seeking_parent.is_empty() {
        return Err(RawError::new("S0217")
            .pos(node.position)
            .token(node.type_name()));
    }
    pr.resolve_labels(&mut node);
    Ok(node)
}

#[derive(Debug, Clone)]
struct Slot {
    label: String,
    level: i32,
}

struct Processor {
    slots: Vec<Slot>,
    depth: usize,
}

impl Processor {
    fn process(&mut self, raw: Raw) -> PResult<Node> {
        self.depth += 1;
        if self.depth > MAX_NESTING * 4 {
            return Err(RawError::new("S0220").pos(raw.position));
        }
        let r = stacker::maybe_grow(RED_ZONE, NEW_SEGMENT, || self.process_inner(raw));
        self.depth -= 1;
        r
    }

    fn process_inner(&mut self, raw: Raw) -> PResult<Node> {
        let pos = raw.position;
        let keep_array = raw.keep_array;
        let mut result = match raw.kind {
            RawKind::Binary(".", lhs, rhs) => {
                let lstep = self.process(*lhs)?;
                let mut result = if matches!(lstep.kind, Kind::Path(_)) {
                    lstep
                } else {
                    let mut p = Node::new(Kind::Path(Vec::new()), lstep.position);
                    if matches!(lstep.kind, Kind::Parent) {
                        p.seeking_parent = vec![lstep.slot.unwrap_or(0)];
                    }
                    if let Kind::Path(steps) = &mut p.kind {
                        steps.push(lstep);
                    }
                    p
                };
                let mut rest = self.process(*rhs)?;
                let Kind::Path(steps) = &mut result.kind else {
                    return Err(RawError::new("S0206").pos(pos));
                };
                if let Kind::Path(rsteps) = rest.kind {
                    steps.extend(rsteps);
                } else {
                    if !rest.predicate.is_empty() {
                        rest.stages = std::mem::take(&mut rest.predicate);
                    }
                    steps.push(rest);
                }
                for step in steps.iter_mut() {
                    match &step.kind {
                        Kind::Num(_) | Kind::Bool(_) | Kind::Null => {
                            let v = match &step.kind {
                                Kind::Num(n) => crate::value::js_number_string(*n),
                                Kind::Bool(b) => b.to_string(),
                                _ => "null".to_string(),
                            };
                            return Err(RawError::new("S0213").pos(step.position).value(v));
                        }
                        Kind::Str(s) => {
                            let s = s.clone();
                            step.kind = Kind::Name(s);
                        }
                        _ => {}
                    }
                }
                if steps.iter().any(|s| s.keep_array) {
                    result.keep_singleton_array = true;
                }
                let Kind::Path(steps) = &mut result.kind else {
                    return Err(RawError::new("S0206").pos(pos));
                };
                if let Some(first) = steps.first_mut() {
                    if matches!(first.kind, Kind::ArrayCons(_)) {
                        first.consarray = true;
                    }
                }
                if let Some(last) = steps.last_mut() {
                    if matches!(last.kind, Kind::ArrayCons(_)) {
                        last.consarray = true;
                    }
                }
                self.resolve_ancestry(&mut result)?;
                result
            }
            RawKind::Binary("[", lhs, rhs) => {
                let mut result = self.process(*lhs)?;
                let predicate = self.process(*rhs)?;
                {
                    let is_path = matches!(result.kind, Kind::Path(_));
                    let step: &mut Node = match &mut result.kind {
                        Kind::Path(steps) => match steps.last_mut() {
                            Some(s) => s,
                            None => return Err(RawError::new("S0201").pos(pos)),
                        },
                        _ => &mut result,
                    };
                    if step.group.is_some() {
                        return Err(RawError::new("S0209").pos(pos));
                    }
                    let mut predicate = predicate;
                    if !predicate.seeking_parent.is_empty() {
                        let slots = predicate.seeking_parent.clone();
                        for slot in slots {
                            if self.slots[slot].level == 1 {
                                self.seek_parent(step, slot)?;
                            } else {
                                self.slots[slot].level -= 1;
                            }
                        }
                        push_ancestry(step, &predicate);
                    }
                    predicate.seeking_parent.clear();
                    if is_path {
                        step.stages.push(Stage::Filter(Box::new(predicate)));
                    } else {
                        step.predicate.push(Stage::Filter(Box::new(predicate)));
                    }
                }
                result
            }
            RawKind::GroupBy(lhs, pairs) => {
                let mut result = self.process(*lhs)?;
                if result.group.is_some() {
                    return Err(RawError::new("S0210").pos(pos));
                }
                let mut out = Vec::new();
                for (k, v) in pairs {
                    out.push((self.process(k)?, self.process(v)?));
                }
                result.group = Some(Box::new(Group {
                    pairs: out,
                    position: pos,
                }));
                result
            }
            RawKind::OrderBy(lhs, terms) => {
                let mut result = self.process(*lhs)?;
                if !matches!(result.kind, Kind::Path(_)) {
                    let p = Node::new(Kind::Path(vec![result]), pos);
                    result = p;
                }
                let mut sort = Node::new(Kind::Sort(Vec::new()), pos);
                let mut out = Vec::new();
                for (descending, e) in terms {
                    let expression = self.process(e)?;
                    push_ancestry(&mut sort, &expression);
                    out.push(SortTerm {
                        descending,
                        expression,
                    });
                }
                sort.kind = Kind::Sort(out);
                if let Kind::Path(steps) = &mut result.kind {
                    steps.push(sort);
                }
                self.resolve_ancestry(&mut result)?;
                result
            }
            RawKind::Binary(":=", lhs, rhs) => {
                let name = match lhs.kind {
                    RawKind::Variable(v) => v,
                    _ => return Err(RawError::new("S0212").pos(pos)),
                };
                let rhs = self.process(*rhs)?;
                let mut n = Node::new(Kind::Bind(name, Box::new(Node::new(Kind::Null, pos))), pos);
                push_ancestry(&mut n, &rhs);
                if let Kind::Bind(_, b) = &mut n.kind {
                    **b = rhs;
                }
                n
            }
            RawKind::Binary("@", lhs, rhs) => {
                let mut result = self.process(*lhs)?;
                let var = match rhs.kind {
                    RawKind::Variable(v) => v,
                    _ => return Err(RawError::new("S0214").pos(pos).token("@")),
                };
                let step: &mut Node = match &mut result.kind {
                    Kind::Path(steps) => match steps.last_mut() {
                        Some(s) => s,
                        None => return Err(RawError::new("S0201").pos(pos)),
                    },
                    _ => &mut result,
                };
                if !step.stages.is_empty() || !step.predicate.is_empty() {
                    return Err(RawError::new("S0215").pos(pos).token("@"));
                }
                if matches!(step.kind, Kind::Sort(_)) {
                    return Err(RawError::new("S0216").pos(pos).token("@"));
                }
                if keep_array {
                    step.keep_array = true;
                }
                step.focus = Some(var);
                step.tuple = true;
                result
            }
            RawKind::Binary("#", lhs, rhs) => {
                let mut result = self.process(*lhs)?;
                let var = match rhs.kind {
                    RawKind::Variable(v) => v,
                    _ => return Err(RawError::new("S0214").pos(pos).token("#")),
                };
                if !matches!(result.kind, Kind::Path(_)) {
                    let mut step = result;
                    if !step.predicate.is_empty() {
                        step.stages = std::mem::take(&mut step.predicate);
                    }
                    result = Node::new(Kind::Path(vec![step]), pos);
                }
                if let Kind::Path(steps) = &mut result.kind {
                    if let Some(step) = steps.last_mut() {
                        if step.stages.is_empty() {
                            step.index = Some(var);
                        } else {
                            step.stages.push(Stage::Index(var));
                        }
                        step.tuple = true;
                    }
                }
                result
            }
            RawKind::Binary("~>", lhs, rhs) => {
                let l = self.process(*lhs)?;
                let r = self.process(*rhs)?;
                let ka = l.keep_array || r.keep_array;
                let mut n = Node::new(Kind::Apply(Box::new(l), Box::new(r)), pos);
                n.keep_array = ka;
                n
            }
            RawKind::Binary(op, lhs, rhs) => {
                let l = self.process(*lhs)?;
                let r = self.process(*rhs)?;
                let Some(bop) = BinOp::from_symbol(op) else {
                    return Err(RawError::new("S0201").pos(pos).token(op));
                };
                let mut n = Node::new(Kind::Null, pos);
                push_ancestry(&mut n, &l);
                push_ancestry(&mut n, &r);
                n.kind = Kind::Binary(bop, Box::new(l), Box::new(r));
                n
            }
            RawKind::Neg(e) => {
                let e = self.process(*e)?;
                if let Kind::Num(v) = e.kind {
                    let mut e = e;
                    e.kind = Kind::Num(-v);
                    e
                } else {
                    let mut n = Node::new(Kind::Null, pos);
                    push_ancestry(&mut n, &e);
                    n.kind = Kind::Neg(Box::new(e));
                    n
                }
            }
            RawKind::ArrayCons(items) => {
                let mut n = Node::new(Kind::Null, pos);
                let mut out = Vec::new();
                for i in items {
                    let v = self.process(i)?;
                    push_ancestry(&mut n, &v);
                    out.push(v);
                }
                n.kind = Kind::ArrayCons(out);
                n
            }
            RawKind::ObjectCons(pairs) => {
                let mut n = Node::new(Kind::Null, pos);
                let mut out = Vec::new();
                for (k, v) in pairs {
                    let k = self.process(k)?;
                    push_ancestry(&mut n, &k);
                    let v = self.process(v)?;
                    push_ancestry(&mut n, &v);
                    out.push((k, v));
                }
                n.kind = Kind::ObjectCons(out);
                n
            }
            RawKind::Function(proc_, args, partial) => {
                let mut n = Node::new(Kind::Null, pos);
                let mut out = Vec::new();
                for a in args {
                    if matches!(a.kind, RawKind::Operator("?")) {
                        out.push(None);
                    } else {
                        let v = self.process(a)?;
                        push_ancestry(&mut n, &v);
                        out.push(Some(v));
                    }
                }
                let procedure = Box::new(self.process(*proc_)?);
                n.kind = if partial {
                    Kind::Partial(procedure, out)
                } else {
                    Kind::Function(procedure, out.into_iter().flatten().collect())
                };
                n
            }
            RawKind::Lambda(params, signature, body) => {
                let body = self.process(*body)?;
                let body = tail_call_optimize(body);
                Node::new(
                    Kind::Lambda(Arc::new(LambdaDef {
                        params,
                        signature,
                        body,
                        thunk: false,
                    })),
                    pos,
                )
            }
            RawKind::Condition(c, t, e) => {
                let mut n = Node::new(Kind::Null, pos);
                let c = self.process(*c)?;
                push_ancestry(&mut n, &c);
                let t = self.process(*t)?;
                push_ancestry(&mut n, &t);
                let e = match e {
                    Some(e) => {
                        let e = self.process(*e)?;
                        push_ancestry(&mut n, &e);
                        Some(Box::new(e))
                    }
                    None => None,
                };
                n.kind = Kind::Condition(Box::new(c), Box::new(t), e);
                n
            }
            RawKind::Transform(p, u, d) => {
                let pattern = self.process(*p)?;
                let update = self.process(*u)?;
                let delete = match d {
                    Some(d) => Some(self.process(*d)?),
                    None => None,
                };
                Node::new(
                    Kind::Transform(Arc::new(TransformDef {
                        pattern,
                        update,
                        delete,
                    })),
                    pos,
                )
            }
            RawKind::Block(exprs) => {
                let mut n = Node::new(Kind::Null, pos);
                let mut out = Vec::new();
                for e in exprs {
                    let part = self.process(e)?;
                    push_ancestry(&mut n, &part);
                    let cons = part.consarray
                        || matches!(&part.kind, Kind::Path(steps) if steps.first().is_some_and(|s| s.consarray));
                    if cons {
                        n.consarray = true;
                    }
                    out.push(part);
                }
                n.kind = Kind::Block(out);
                n
            }
            RawKind::Name(name) => {
                let mut step = Node::new(Kind::Name(name), pos);
                step.keep_array = keep_array;
                let mut p = Node::new(Kind::Path(vec![step]), pos);
                if keep_array {
                    p.keep_singleton_array = true;
                }
                p
            }
            RawKind::Parent => {
                let id = self.slots.len();
                self.slots.push(Slot {
                    label: format!("!{id}"),
                    level: 1,
                });
                let mut n = Node::new(Kind::Parent, pos);
                n.slot = Some(id);
                n
            }
            RawKind::Str(s) => Node::new(Kind::Str(s), pos),
            RawKind::Num(v) => Node::new(Kind::Num(v), pos),
            RawKind::Bool(b) => Node::new(Kind::Bool(b), pos),
            RawKind::Null => Node::new(Kind::Null, pos),
            RawKind::Wildcard => Node::new(Kind::Wildcard, pos),
            RawKind::Descendant => Node::new(Kind::Descendant, pos),
            RawKind::Variable(v) => Node::new(Kind::Variable(v), pos),
            RawKind::Regex(pattern, flags) => {
                Node::new(Kind::Regex(regex_literal(pattern, &flags, pos)?), pos)
            }
            RawKind::Operator(op) => {
                if matches!(op, "and" | "or" | "in") {
                    let step = Node::new(Kind::Name(op.to_string()), pos);
                    Node::new(Kind::Path(vec![step]), pos)
                } else {
                    return Err(RawError::new("S0201").pos(pos).token(op));
                }
            }
        };
        if keep_array {
            result.keep_array = true;
        }
        Ok(result)
    }

    fn seek_parent(&mut self, node: &mut Node, slot: usize) -> PResult<usize> {
        match &mut node.kind {
            Kind::Name(_) | Kind::Wildcard => {
                self.slots[slot].level -= 1;
                if self.slots[slot].level == 0 {
                    match node.ancestor {
                        None => node.ancestor = Some(slot),
                        Some(existing) => {
                            // Reuse the existing label for this parent slot.
                            self.slots[slot].label = self.slots[existing].label.clone();
                            node.ancestor = Some(slot);
                        }
                    }
                    node.tuple = true;
                }
                Ok(slot)
            }
            Kind::Parent => {
                self.slots[slot].level += 1;
                Ok(slot)
            }
            Kind::Block(exprs) => {
                if let Some(last) = exprs.last_mut() {
                    let s = self.seek_parent(last, slot)?;
                    node.tuple = true;
                    return Ok(s);
                }
                Ok(slot)
            }
            Kind::Path(steps) => {
                let mut slot = slot;
                let mut index = steps.len() as isize - 1;
                if index >= 0 {
                    slot = self.seek_parent(&mut steps[index as usize], slot)?;
                    index -= 1;
                }
                while self.slots[slot].level > 0 && index >= 0 {
                    slot = self.seek_parent(&mut steps[index as usize], slot)?;
                    index -= 1;
                }
                node.tuple = true;
                Ok(slot)
            }
            _ => Err(RawError::new("S0217")
                .pos(node.position)
                .token(node.type_name())),
        }
    }

    fn resolve_ancestry(&mut self, path: &mut Node) -> PResult<()> {
        let Kind::Path(steps) = &mut path.kind else {
            return Ok(());
        };
        let Some(last) = steps.last() else {
            return Ok(());
        };
        let mut slots = last.seeking_parent.clone();
        if matches!(last.kind, Kind::Parent) {
            slots.push(last.slot.unwrap_or(0));
        }
        let mut unresolved = Vec::new();
        for slot in slots {
            let mut slot = slot;
            let mut index = steps.len() as isize - 2;
            while self.slots[slot].level > 0 {
                if index < 0 {
                    unresolved.push(slot);
                    break;
                }
                let mut i = index as usize;
                index -= 1;
                // Contiguous steps that bind the focus are skipped.
                while index >= 0
                    && steps[i].focus.is_some()
                    && steps[index as usize].focus.is_some()
                {
                    i = index as usize;
                    index -= 1;
                }
                slot = self.seek_parent(&mut steps[i], slot)?;
            }
        }
        path.seeking_parent.extend(unresolved);
        Ok(())
    }

    fn resolve_labels(&self, node: &mut Node) {
        if let Some(s) = node.slot {
            node.label = Some(self.slots[s].label.clone());
        }
        if let Some(s) = node.ancestor {
            node.label = Some(self.slots[s].label.clone());
        }
        for st in node.stages.iter_mut().chain(node.predicate.iter_mut()) {
            if let Stage::Filter(n) = st {
                self.resolve_labels(n);
            }
        }
        if let Some(g) = &mut node.group {
            for (k, v) in g.pairs.iter_mut() {
                self.resolve_labels(k);
                self.resolve_labels(v);
            }
        }
        match &mut node.kind {
            Kind::Path(v) | Kind::ArrayCons(v) | Kind::Block(v) => {
                v.iter_mut().for_each(|n| self.resolve_labels(n))
            }
            Kind::Binary(_, a, b) | Kind::Apply(a, b) => {
                self.resolve_labels(a);
                self.resolve_labels(b);
            }
            Kind::Neg(a) | Kind::Bind(_, a) => self.resolve_labels(a),
            Kind::ObjectCons(pairs) => pairs.iter_mut().for_each(|(k, v)| {
                self.resolve_labels(k);
                self.resolve_labels(v);
            }),
            Kind::Condition(c, t, e) => {
                self.resolve_labels(c);
                self.resolve_labels(t);
                if let Some(e) = e {
                    self.resolve_labels(e);
                }
            }
            Kind::Function(p, args) => {
                self.resolve_labels(p);
                args.iter_mut().for_each(|n| self.resolve_labels(n));
            }
            Kind::Partial(p, args) => {
                self.resolve_labels(p);
                args.iter_mut()
                    .flatten()
                    .for_each(|n| self.resolve_labels(n));
            }
            Kind::Lambda(def) => {
                if let Some(def) = Arc::get_mut(def) {
                    self.resolve_labels(&mut def.body);
                }
            }
            Kind::Sort(terms) => terms
                .iter_mut()
                .for_each(|t| self.resolve_labels(&mut t.expression)),
            Kind::Transform(def) => {
                if let Some(def) = Arc::get_mut(def) {
                    self.resolve_labels(&mut def.pattern);
                    self.resolve_labels(&mut def.update);
                    if let Some(d) = &mut def.delete {
                        self.resolve_labels(d);
                    }
                }
            }
            _ => {}
        }
    }
}

fn push_ancestry(result: &mut Node, value: &Node) {
    result
        .seeking_parent
        .extend(value.seeking_parent.iter().copied());
    if matches!(value.kind, Kind::Parent) {
        if let Some(s) = value.slot {
            result.seeking_parent.push(s);
        }
    }
}

/// Marks calls in tail position so they return a thunk instead of
/// recursing; `apply` then loops (jsonata-js's trampoline).
fn tail_call_optimize(mut expr: Node) -> Node {
    match &mut expr.kind {
        Kind::Function(..) if expr.predicate.is_empty() => {
            let pos = expr.position;
            Node::new(
                Kind::Lambda(Arc::new(LambdaDef {
                    params: Vec::new(),
                    signature: None,
                    body: expr,
                    thunk: true,
                })),
                pos,
            )
        }
        Kind::Condition(_, t, e) => {
            let then = std::mem::replace(t.as_mut(), Node::new(Kind::Null, 0));
            **t = tail_call_optimize(then);
            if let Some(e) = e {
                let els = std::mem::replace(e.as_mut(), Node::new(Kind::Null, 0));
                **e = tail_call_optimize(els);
            }
            expr
        }
        Kind::Block(exprs) => {
            if let Some(last) = exprs.pop() {
                exprs.push(tail_call_optimize(last));
            }
            expr
        }
        _ => expr,
    }
}

/// Compiles a `/pattern/flags` literal, answering a pointer: a compiled
/// pattern is a few KiB, too much to carry by value through the recursive
/// parser's frames. No time limit, whatever the
/// process-wide default: a match must answer the same on every run, and
/// its work is charged to the step budget instead (`eval::regex_match`).
fn regex_literal(pattern: String, flags: &str, pos: usize) -> Result<Arc<RegexLit>, RawError> {
    let regex = corvus_regex_ecma262::RegexBuilder::new(&pattern)
        .flags(flags)
        .match_timeout(None)
        .build()
        .map_err(|e| RawError::new("S0303").pos(pos).value(format!("{e:?}")))?;
    Ok(Arc::new(RegexLit {
        source: pattern,
        regex,
    }))
}
