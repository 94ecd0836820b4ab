//! The evaluator: jsonata-js's `evaluate` over the processed tree, with its
//! sequence rules (flattening, singleton unwrapping, keep-array), tuple
//! streams for `@`, `#` and `%`, grouping, sorting, lambdas and closures,
//! partial application, the tail-call trampoline, the transform operator
//! and the depth and step limits. It must do no I/O; time, randomness and
//! host functions come from the `Environment`.

use crate::{NEW_SEGMENT, RED_ZONE};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use crate::ast::{BinOp, Group, Kind, LambdaDef, Node, RegexLit, Stage, TransformDef};
use crate::error::RawError;
use crate::functions;
use crate::value::{deep_equal, error_text, Flags, Items, Object, Value};
use crate::Environment;

pub(crate) type R<T> = Result<T, RawError>;

/// A scope of variable bindings; frames chain to their enclosing scope.
#[derive(Debug, Default)]
pub(crate) struct Frame<'j> {
    vars: RefCell<Vec<(Rc<str>, Value<'j>)>>,
    parent: Option<Rc<Frame<'j>>>,
}

impl<'j> Frame<'j> {
    pub fn new(parent: Option<Rc<Frame<'j>>>) -> Rc<Frame<'j>> {
        Rc::new(Frame {
            vars: RefCell::new(Vec::new()),
            parent,
        })
    }
    pub fn bind(&self, name: &str, value: Value<'j>) {
        let mut vars = self.vars.borrow_mut();
        if let Some(slot) = vars.iter_mut().find(|(k, _)| &**k == name) {
            slot.1 = value;
        } else {
            vars.push((Rc::from(name), value));
        }
    }
    pub fn lookup(&self, name: &str) -> Option<Value<'j>> {
        let mut frame = self;
        loop {
            if let Some((_, v)) = frame.vars.borrow().iter().find(|(k, _)| &**k == name) {
                return Some(v.clone());
            }
            match &frame.parent {
                Some(p) => frame = p,
                None => return None,
            }
        }
    }
}

#[derive(Debug)]
pub(crate) struct Lambda<'j> {
    pub def: Arc<LambdaDef>,
    pub env: Rc<Frame<'j>>,
    pub input: Value<'j>,
}

#[derive(Debug)]
pub(crate) enum Function<'j> {
    Lambda(Lambda<'j>),
    Builtin(&'static functions::Builtin),
    Host(usize),
    Partial(Value<'j>, Vec<Option<Value<'j>>>),
    Chain(Value<'j>, Value<'j>),
    Regex(Arc<RegexLit>),
    RegexNext(Arc<RegexLit>, Rc<str>, RegexFrom, usize),
    Transform(Arc<TransformDef>, Rc<Frame<'j>>, usize),
}

/// Where a function was called from, for errors raised inside it.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallSite {
    pub token: Option<String>,
    pub position: Option<usize>,
}

pub(crate) struct Evaluator<'x, 'a> {
    pub env: &'x mut Environment<'a>,
    depth: usize,
    steps: u64,
}

fn seq<'j>(items: Vec<Value<'j>>) -> Value<'j> {
    Value::sequence(items)
}

pub(crate) fn boolean<'j>(v: &Value<'j>) -> Option<bool> {
    Some(match v {
        Value::Undefined => return None,
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => *n != 0.0,
        Value::String(s) => !s.is_empty(),
        Value::Array(a, _) => match a.len() {
            0 => false,
            1 => boolean(&a[0]).unwrap_or(false),
            _ => a.iter().any(|x| boolean(x) == Some(true)),
        },
        Value::Object(o) => !o.is_empty(),
        Value::Function(_) => false,
        Value::Json(_) => return boolean(&v.expand()),
    })
}

/// jsonata-js's `isNumeric`: a number that is not NaN; an infinite one is
/// the D1001 error.
pub(crate) fn is_numeric<'j>(v: &Value<'j>) -> R<bool> {
    match v {
        Value::Number(n) if n.is_nan() => Ok(false),
        Value::Number(n) if n.is_infinite() => Err(RawError::new("D1001").value(error_text(v))),
        Value::Number(_) => Ok(true),
        _ => Ok(false),
    }
}

/// `fn.append`: concatenation where undefined is the identity and a
/// non-array is a singleton.
pub(crate) fn append<'j>(a: Value<'j>, b: Value<'j>) -> Value<'j> {
    if b.is_undefined() {
        return a;
    }
    if a.is_undefined() {
        return b;
    }
    let (a, b) = (a.expand_array(), b.expand_array());
    let mut items = match a {
        Value::Array(x, _) => Rc::try_unwrap(x)
            .map(Items::into_vec)
            .unwrap_or_else(|x| x.to_vec()),
        v => vec![v],
    };
    match b {
        Value::Array(y, _) => items.extend(y.iter().cloned()),
        v => items.push(v),
    }
    // Array.prototype.concat: the result is a plain array.
    Value::Array(Rc::new(Items(items)), Flags::NONE)
}

/// Adds a step's result to the step's output sequence, flattening arrays
/// that were not built by a constructor.
fn push_flat<'j>(out: &mut Vec<Value<'j>>, res: Value<'j>) {
    match res {
        Value::Array(a, f) if !f.has(Flags::CONS) => match Rc::try_unwrap(a).map(Items::into_vec) {
            Ok(items) if out.is_empty() => *out = items,
            Ok(items) => out.extend(items),
            Err(a) => out.extend(a.iter().cloned()),
        },
        Value::Json(serde_json::Value::Array(a)) => out.extend(a.iter().map(Value::from_ref)),
        v => out.push(v),
    }
}

fn tuple_get<'j>(t: &Value<'j>, key: &str) -> Value<'j> {
    match t {
        Value::Object(o) => o.get(key).cloned().unwrap_or(Value::Undefined),
        _ => Value::Undefined,
    }
}

fn frame_from_tuple<'j>(env: &Rc<Frame<'j>>, tuple: &Value<'j>) -> Rc<Frame<'j>> {
    let frame = Frame::new(Some(env.clone()));
    if let Value::Object(o) = tuple {
        for (k, v) in o.iter() {
            frame.bind(k, v.clone());
        }
    }
    frame
}

impl<'x, 'a> Evaluator<'x, 'a> {
    pub fn new(env: &'x mut Environment<'a>) -> Self {
        Evaluator {
            env,
            depth: 0,
            steps: 0,
        }
    }

    pub fn eval<'j>(
        &mut self,
        expr: &Node,
        input: &Value<'j>,
        env: &Rc<Frame<'j>>,
    ) -> R<Value<'j>> {
        self.depth += 1;
        self.steps += 1;
        if self.depth > self.env.limits.max_depth {
            self.depth -= 1;
            return Err(RawError::new("U1001").message(
                "Stack overflow error: Check for non-terminating recursive function.  Consider rewriting as tail-recursive.",
            ));
        }
        if self.steps > self.env.limits.max_steps {
            self.depth -= 1;
            return Err(RawError::new("U1001")
                .message("Expression evaluation timeout: Check for infinite loop"));
        }
        // Past 64 KiB from the end of the stack, continue on a fresh 1 MiB
        // segment: the depth limit, not the thread's stack, bounds recursion.
        let r = stacker::maybe_grow(RED_ZONE, NEW_SEGMENT, || self.eval_inner(expr, input, env));
        self.depth -= 1;
        r
    }

    /// The value of a node before its predicates, grouping and sequence
    /// unwrapping; kept out of `eval_inner` so each recursion level's
    /// stack frame stays small.
    #[inline(never)]
    fn eval_kind<'j>(
        &mut self,
        expr: &Node,
        input: &Value<'j>,
        env: &Rc<Frame<'j>>,
    ) -> R<Value<'j>> {
        Ok(match &expr.kind {
            Kind::Path(steps) => self.eval_path(expr, steps, input, env)?,
            Kind::Binary(op, l, r) => self.eval_binary(expr, *op, l, r, input, env)?,
            Kind::Neg(e) => {
                let v = self.eval(e, input, env)?;
                match v {
                    Value::Undefined => Value::Undefined,
                    v if is_numeric(&v)? => Value::Number(-v.as_f64().unwrap_or(0.0)),
                    v => {
                        return Err(RawError::new("D1002")
                            .pos(expr.position)
                            .token("-")
                            .value(error_text(&v)))
                    }
                }
            }
            Kind::ArrayCons(items) => {
                let mut out: Vec<Value<'j>> = Vec::new();
                for item in items {
                    let v = self.eval(item, input, env)?;
                    if v.is_undefined() {
                        continue;
                    }
                    if matches!(item.kind, Kind::ArrayCons(_)) {
                        out.push(v);
                    } else {
                        match v.expand_array() {
                            Value::Array(a, _) => out.extend(a.iter().cloned()),
                            v => out.push(v),
                        }
                    }
                }
                let flags = if expr.consarray {
                    Flags::CONS
                } else {
                    Flags::NONE
                };
                Value::Array(Rc::new(Items(out)), flags)
            }
            Kind::ObjectCons(pairs) => {
                let g = Group {
                    pairs: pairs.clone(),
                    position: expr.position,
                };
                self.eval_group(&g, input.clone(), env)?
            }
            Kind::Name(name) => lookup(input, name),
            Kind::Str(s) => Value::str(s),
            Kind::Num(n) => Value::Number(*n),
            Kind::Bool(b) => Value::Bool(*b),
            Kind::Null => Value::Null,
            Kind::Wildcard => self.eval_wildcard(input),
            Kind::Descendant => {
                if input.is_undefined() {
                    Value::Undefined
                } else {
                    let mut out = Vec::new();
                    descendants(input, &mut out);
                    if out.len() == 1 {
                        out.pop().unwrap_or(Value::Undefined)
                    } else {
                        seq(out)
                    }
                }
            }
            Kind::Parent => env
                .lookup(expr.label.as_deref().unwrap_or(""))
                .unwrap_or(Value::Undefined),
            Kind::Condition(c, t, e) => {
                let cv = self.eval(c, input, env)?;
                if boolean(&cv) == Some(true) {
                    self.eval(t, input, env)?
                } else if let Some(e) = e {
                    self.eval(e, input, env)?
                } else {
                    Value::Undefined
                }
            }
            Kind::Block(exprs) => {
                let frame = Frame::new(Some(env.clone()));
                let mut r = Value::Undefined;
                for e in exprs {
                    r = self.eval(e, input, &frame)?;
                }
                r
            }
            Kind::Bind(name, rhs) => {
                let v = self.eval(rhs, input, env)?;
                env.bind(name, v.clone());
                v
            }
            Kind::Regex(r) => Value::Function(Rc::new(Function::Regex(r.clone()))),
            Kind::Function(procedure, args) => {
                self.eval_function(expr, procedure, args, input, env, None)?
            }
            Kind::Partial(procedure, args) => {
                self.eval_partial(expr, procedure, args, input, env)?
            }
            Kind::Variable(name) => {
                if name.is_empty() {
                    match input {
                        Value::Array(a, f) if f.has(Flags::OUTER_WRAPPER) => {
                            a.first().cloned().unwrap_or(Value::Undefined)
                        }
                        v => v.clone(),
                    }
                } else {
                    self.lookup_var(name, env)
                }
            }
            Kind::Lambda(def) => Value::Function(Rc::new(Function::Lambda(Lambda {
                def: def.clone(),
                env: env.clone(),
                input: input.clone(),
            }))),
            Kind::Apply(l, r) => self.eval_apply(expr, l, r, input, env)?,
            Kind::Sort(_) => {
                // A sort outside a path does not occur: order-by always
                // becomes a path step.
                input.clone()
            }
            Kind::Transform(def) => Value::Function(Rc::new(Function::Transform(
                def.clone(),
                env.clone(),
                expr.position,
            ))),
        })
    }

    fn eval_inner<'j>(
        &mut self,
        expr: &Node,
        input: &Value<'j>,
        env: &Rc<Frame<'j>>,
    ) -> R<Value<'j>> {
        let mut result = self.eval_kind(expr, input, env)?;
        for stage in &expr.predicate {
            if let Stage::Filter(p) = stage {
                result = self.eval_filter(p, result, env)?;
            }
        }
        if !matches!(expr.kind, Kind::Path(_)) {
            if let Some(g) = &expr.group {
                result = self.eval_group(g, result, env)?;
            }
        }
        if let Value::Array(a, f) = &result {
            if f.has(Flags::SEQUENCE) && !f.has(Flags::TUPLE_STREAM) {
                let f = if expr.keep_array {
                    f.with(Flags::KEEP_SINGLETON)
                } else {
                    *f
                };
                if a.is_empty() {
                    return Ok(Value::Undefined);
                }
                if a.len() == 1 && !f.has(Flags::KEEP_SINGLETON) {
                    return Ok(a[0].clone());
                }
                return Ok(Value::Array(a.clone(), f));
            }
        }
        Ok(result)
    }

    /// Charges bulk work (items allocated, bytes built) to the step budget.
    pub fn charge(&mut self, units: u64) -> R<()> {
        self.steps = self.steps.saturating_add(units);
        if self.steps > self.env.limits.max_steps {
            return Err(RawError::new("U1001")
                .message("Expression evaluation timeout: Check for infinite loop"));
        }
        Ok(())
    }

    pub fn lookup_var<'j>(&self, name: &str, env: &Rc<Frame<'j>>) -> Value<'j> {
        if let Some(v) = env.lookup(name) {
            return v;
        }
        if self.env.hidden.iter().any(|h| h == name) {
            return Value::Undefined;
        }
        if let Some(i) = self.env.natives.iter().position(|n| n.name == name) {
            return Value::Function(Rc::new(Function::Host(i)));
        }
        match functions::builtin(name) {
            Some(b) => Value::Function(Rc::new(Function::Builtin(b))),
            None => Value::Undefined,
        }
    }

    #[inline(never)]
    fn eval_path<'j>(
        &mut self,
        expr: &Node,
        steps: &[Node],
        input: &Value<'j>,
        env: &Rc<Frame<'j>>,
    ) -> R<Value<'j>> {
        // A step's input is a sequence; a single non-array value stands for
        // the singleton sequence holding it (saving two allocations per
        // step on the common path), except where jsonata-js hands the
        // sequence itself on: to a leading array constructor and to tuple
        // streams.
        let bare_ok = !steps.iter().any(|s| s.tuple) && !steps.first().is_some_and(|s| s.consarray);
        let mut input_seq: Value<'j> = match (steps.first().map(|s| &s.kind), input) {
            (Some(Kind::Variable(_)), v) if bare_ok && !v.is_array_like() => input.clone(),
            (Some(Kind::Variable(_)), _) => seq(vec![input.clone()]),
            (_, v) if v.is_array_like() => input.expand_array(),
            _ if bare_ok => input.clone(),
            _ => seq(vec![input.clone()]),
        };
        let mut result = Value::Undefined;
        let mut is_tuple = false;
        let mut tuples: Option<Vec<Value<'j>>> = None;
        for (i, step) in steps.iter().enumerate() {
            if step.tuple {
                is_tuple = true;
            }
            if i == 0 && step.consarray {
                result = self.eval(step, &input_seq, env)?;
            } else if is_tuple {
                tuples = Some(self.eval_tuple_step(step, &input_seq, tuples, env)?);
            } else {
                result = self.eval_step(step, &input_seq, env, i == steps.len() - 1)?;
            }
            if !is_tuple
                && (result.is_undefined() || result.as_array().is_some_and(|a| a.is_empty()))
            {
                break;
            }
            if step.focus.is_none() {
                input_seq = result.clone();
            }
        }
        let mut stream = None;
        if is_tuple {
            let t = Value::Array(
                Rc::new(Items(tuples.unwrap_or_default())),
                Flags::SEQUENCE.with(Flags::TUPLE_STREAM),
            );
            if expr.tuple {
                result = t.clone();
            } else {
                result = seq(t.members().iter().map(|x| tuple_get(x, "@")).collect());
            }
            stream = Some(t);
        }
        if expr.keep_singleton_array {
            let f = result.flags();
            let bare = !result.is_undefined() && !result.is_array_like();
            if bare || (f.has(Flags::CONS) && !f.has(Flags::SEQUENCE)) {
                result = seq(vec![result]);
            }
            result = result.with_flags(Flags::KEEP_SINGLETON.with(Flags::SEQUENCE));
        }
        if let Some(g) = &expr.group {
            // A tuple stream reaches the grouping whole, so that keys and
            // values can see its bindings.
            let src = stream.unwrap_or_else(|| result.clone());
            result = self.eval_group(g, src, env)?;
        }
        Ok(result)
    }

    #[inline(never)]
    fn eval_step<'j>(
        &mut self,
        step: &Node,
        input: &Value<'j>,
        env: &Rc<Frame<'j>>,
        last: bool,
    ) -> R<Value<'j>> {
        if let Kind::Sort(_) = &step.kind {
            let mut r = self.eval_sort(step, input, env)?;
            r = self.eval_stages(&step.stages, r, env)?;
            return Ok(r);
        }
        // Iterate without copying the input sequence (the common case is a
        // single item: one object navigated by name).
        let owned;
        let items: &[Value<'j>] = match input {
            Value::Array(a, _) => a,
            Value::Json(serde_json::Value::Array(_)) => {
                owned = input.members();
                &owned
            }
            v => std::slice::from_ref(v),
        };
        let mut out = Vec::new();
        let mut count = 0;
        let mut first: Option<Value<'j>> = None;
        for item in items {
            let mut res = self.eval(step, item, env)?;
            for stage in &step.stages {
                if let Stage::Filter(p) = stage {
                    res = self.eval_filter(p, res, env)?;
                }
            }
            if res.is_undefined() {
                continue;
            }
            count += 1;
            if count == 1 && last {
                // Held back: a lone non-sequence array on the last step is
                // the result as it is (not flattened).
                first = Some(res);
                continue;
            }
            if let Some(f) = first.take() {
                push_flat(&mut out, f);
            }
            push_flat(&mut out, res);
        }
        if let Some(f) = first {
            if f.is_array_like() && !f.flags().has(Flags::SEQUENCE) {
                return Ok(f);
            }
            push_flat(&mut out, f);
        }
        // A single plain value is its own singleton sequence (see
        // `eval_path`).
        if out.len() == 1 && !out[0].is_array_like() {
            return Ok(out.pop().unwrap_or(Value::Undefined));
        }
        Ok(seq(out))
    }

    #[inline(never)]
    fn eval_stages<'j>(
        &mut self,
        stages: &[Stage],
        input: Value<'j>,
        env: &Rc<Frame<'j>>,
    ) -> R<Value<'j>> {
        let mut result = input;
        for stage in stages {
            match stage {
                Stage::Filter(p) => result = self.eval_filter(p, result, env)?,
                Stage::Index(name) => {
                    let f = result.flags();
                    let items: Vec<Value<'j>> = result
                        .members()
                        .into_iter()
                        .enumerate()
                        .map(|(i, t)| match t {
                            Value::Object(o) => {
                                let mut o = (*o).clone();
                                o.insert(name.clone(), Value::Number(i as f64));
                                Value::object(o)
                            }
                            v => v,
                        })
                        .collect();
                    result = Value::Array(Rc::new(Items(items)), f);
                }
            }
        }
        Ok(result)
    }

    #[inline(never)]
    fn eval_tuple_step<'j>(
        &mut self,
        step: &Node,
        input: &Value<'j>,
        tuples: Option<Vec<Value<'j>>>,
        env: &Rc<Frame<'j>>,
    ) -> R<Vec<Value<'j>>> {
        if let Kind::Sort(_) = &step.kind {
            let result = match tuples {
                Some(t) => {
                    let v =
                        Value::Array(Rc::new(Items(t)), Flags::SEQUENCE.with(Flags::TUPLE_STREAM));
                    self.eval_sort(step, &v, env)?
                }
                None => {
                    let sorted = self.eval_sort(step, input, env)?;
                    let items: Vec<Value<'j>> = sorted
                        .members()
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| {
                            let mut o = Object::new();
                            o.insert("@".into(), v);
                            if let Some(ix) = &step.index {
                                o.insert(ix.clone(), Value::Number(i as f64));
                            }
                            Value::object(o)
                        })
                        .collect();
                    Value::Array(
                        Rc::new(Items(items)),
                        Flags::SEQUENCE.with(Flags::TUPLE_STREAM),
                    )
                }
            };
            let r = self.eval_stages(&step.stages, result, env)?;
            return Ok(r.members());
        }
        let tuples = tuples.unwrap_or_else(|| {
            input
                .members()
                .into_iter()
                .map(|item| {
                    let mut o = Object::new();
                    o.insert("@".into(), item);
                    Value::object(o)
                })
                .collect()
        });
        let mut result = Vec::new();
        for tuple in &tuples {
            let step_env = frame_from_tuple(env, tuple);
            let focus_in = tuple_get(tuple, "@");
            let res = self.eval(step, &focus_in, &step_env)?;
            if res.is_undefined() {
                continue;
            }
            let is_stream = res.flags().has(Flags::TUPLE_STREAM);
            let res_items = match &res.expand_array() {
                Value::Array(a, _) => a.to_vec(),
                v => vec![v.clone()],
            };
            let Value::Object(base) = tuple else { continue };
            for (bb, item) in res_items.into_iter().enumerate() {
                let mut t = (**base).clone();
                if is_stream {
                    if let Value::Object(o) = &item {
                        for (k, v) in o.iter() {
                            t.insert(k.clone(), v.clone());
                        }
                    }
                } else {
                    if let Some(f) = &step.focus {
                        t.insert(f.clone(), item);
                        t.insert("@".into(), focus_in.clone());
                    } else {
                        t.insert("@".into(), item);
                    }
                    if let Some(ix) = &step.index {
                        t.insert(ix.clone(), Value::Number(bb as f64));
                    }
                    if let Some(label) = &step.label {
                        if step.ancestor.is_some() {
                            t.insert(label.clone(), focus_in.clone());
                        }
                    }
                }
                result.push(Value::object(t));
            }
        }
        let v = Value::Array(
            Rc::new(Items(result)),
            Flags::SEQUENCE.with(Flags::TUPLE_STREAM),
        );
        let r = self.eval_stages(&step.stages, v, env)?;
        Ok(r.members())
    }

    #[inline(never)]
    fn eval_filter<'j>(
        &mut self,
        predicate: &Node,
        input: Value<'j>,
        env: &Rc<Frame<'j>>,
    ) -> R<Value<'j>> {
        let is_tuple = input.flags().has(Flags::TUPLE_STREAM);
        let out_flags = if is_tuple {
            Flags::SEQUENCE.with(Flags::TUPLE_STREAM)
        } else {
            Flags::SEQUENCE
        };
        let items = match &input {
            Value::Array(a, _) => a.clone(),
            v => Rc::new(Items(v.members())),
        };
        let mut results = Vec::new();
        if let Kind::Num(n) = predicate.kind {
            let mut index = n.floor();
            if index < 0.0 {
                index += items.len() as f64;
            }
            if index >= 0.0 {
                if let Some(item) = items.get(index as usize) {
                    if item.is_array_like() {
                        return Ok(item.clone());
                    }
                    results.push(item.clone());
                }
            }
            return Ok(Value::Array(Rc::new(Items(results)), out_flags));
        }
        let len = items.len() as f64;
        for (index, item) in items.iter().enumerate() {
            let (context, frame) = if is_tuple {
                (tuple_get(item, "@"), frame_from_tuple(env, item))
            } else {
                (item.clone(), env.clone())
            };
            let res = self.eval(predicate, &context, &frame)?.expand_array();
            let nums: Option<Vec<f64>> = match &res {
                Value::Number(_) if is_numeric(&res)? => Some(vec![res.as_f64().unwrap_or(0.0)]),
                Value::Array(a, _)
                    if !a.is_empty() && a.iter().all(|x| matches!(x, Value::Number(_))) =>
                {
                    Some(a.iter().filter_map(|x| x.as_f64()).collect())
                }
                _ => None,
            };
            if let Some(nums) = nums {
                for n in nums {
                    let mut ii = n.floor();
                    if ii < 0.0 {
                        ii += len;
                    }
                    if ii == index as f64 {
                        results.push(item.clone());
                    }
                }
            } else if boolean(&res) == Some(true) {
                results.push(item.clone());
            }
        }
        Ok(Value::Array(Rc::new(Items(results)), out_flags))
    }

    #[inline(never)]
    fn eval_wildcard<'j>(&mut self, input: &Value<'j>) -> Value<'j> {
        let input = match input {
            Value::Array(a, f) if f.has(Flags::OUTER_WRAPPER) && !a.is_empty() => a[0].expand(),
            v => v.expand(),
        };
        // JavaScript's Object.keys also lists an array's indexes, so `*`
        // over an array yields its (flattened) members.
        let members: Vec<Value<'j>> = match &input {
            Value::Object(o) => o.values().cloned().collect(),
            Value::Array(a, _) => a.to_vec(),
            _ => Vec::new(),
        };
        let mut out = Vec::new();
        let mut plain = false;
        for v in members {
            if v.is_array_like() {
                flatten(&v, &mut out);
                plain = true;
            } else {
                out.push(v);
            }
        }
        // fn.append returns a plain array (Array.prototype.concat), which
        // evaluate() does not unwrap; a wildcard that only pushed keeps
        // its sequence.
        Value::Array(
            Rc::new(Items(out)),
            if plain { Flags::NONE } else { Flags::SEQUENCE },
        )
    }

    #[inline(never)]
    fn eval_binary<'j>(
        &mut self,
        expr: &Node,
        op: BinOp,
        l: &Node,
        r: &Node,
        input: &Value<'j>,
        env: &Rc<Frame<'j>>,
    ) -> R<Value<'j>> {
        let lhs = self.eval(l, input, env)?;
        let wrap = |e: RawError| e.pos(expr.position).token(op.symbol());
        if matches!(op, BinOp::And | BinOp::Or) {
            let lb = boolean(&lhs).unwrap_or(false);
            if op == BinOp::And && !lb {
                return Ok(Value::Bool(false));
            }
            if op == BinOp::Or && lb {
                return Ok(Value::Bool(true));
            }
            let rhs = self.eval(r, input, env)?;
            return Ok(Value::Bool(boolean(&rhs).unwrap_or(false)));
        }
        let rhs = self.eval(r, input, env)?;
        match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
                if !lhs.is_undefined() && !is_numeric(&lhs).map_err(wrap)? {
                    return Err(wrap(RawError::new("T2001").value(error_text(&lhs))));
                }
                if !rhs.is_undefined() && !is_numeric(&rhs).map_err(wrap)? {
                    return Err(wrap(RawError::new("T2002").value(error_text(&rhs))));
                }
                let (Some(a), Some(b)) = (lhs.as_f64(), rhs.as_f64()) else {
                    return Ok(Value::Undefined);
                };
                Ok(Value::Number(match op {
                    BinOp::Add => a + b,
                    BinOp::Sub => a - b,
                    BinOp::Mul => a * b,
                    BinOp::Div => a / b,
                    _ => a % b,
                }))
            }
            BinOp::Eq | BinOp::Ne => {
                if lhs.is_undefined() || rhs.is_undefined() {
                    return Ok(Value::Bool(false));
                }
                let eq = deep_equal(&lhs, &rhs);
                Ok(Value::Bool(if op == BinOp::Eq { eq } else { !eq }))
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let comparable = |v: &Value<'j>| {
                    matches!(v, Value::Undefined | Value::String(_) | Value::Number(_))
                };
                if !comparable(&lhs) || !comparable(&rhs) {
                    let bad = if matches!(lhs, Value::String(_) | Value::Number(_)) {
                        &rhs
                    } else {
                        &lhs
                    };
                    return Err(wrap(RawError::new("T2010").value(error_text(bad))));
                }
                if lhs.is_undefined() || rhs.is_undefined() {
                    return Ok(Value::Undefined);
                }
                let ord = match (&lhs, &rhs) {
                    (Value::Number(a), Value::Number(b)) => a.partial_cmp(b),
                    (Value::String(a), Value::String(b)) => Some(utf16_cmp(a, b)),
                    _ => {
                        return Err(wrap(
                            RawError::new("T2009")
                                .value(error_text(&lhs))
                                .value2(error_text(&rhs)),
                        ))
                    }
                };
                let Some(ord) = ord else {
                    return Ok(Value::Bool(false));
                };
                use std::cmp::Ordering::*;
                Ok(Value::Bool(match op {
                    BinOp::Lt => ord == Less,
                    BinOp::Le => ord != Greater,
                    BinOp::Gt => ord == Greater,
                    _ => ord != Less,
                }))
            }
            BinOp::Concat => {
                let a = if lhs.is_undefined() {
                    String::new()
                } else {
                    functions::to_string(&lhs).map_err(wrap)?
                };
                let b = if rhs.is_undefined() {
                    String::new()
                } else {
                    functions::to_string(&rhs).map_err(wrap)?
                };
                // Doubling a string is one step; its length is charged so
                // that repeated doubling runs out of budget, not memory.
                self.charge(((a.len() + b.len()) / 16) as u64)?;
                Ok(Value::string(a + &b))
            }
            BinOp::In => {
                if lhs.is_undefined() || rhs.is_undefined() {
                    return Ok(Value::Bool(false));
                }
                let found = match &rhs.expand_array() {
                    Value::Array(a, _) => a.iter().any(|x| deep_equal(x, &lhs)),
                    v => deep_equal(v, &lhs),
                };
                Ok(Value::Bool(found))
            }
            BinOp::Range => {
                let int = |v: &Value<'j>| matches!(v, Value::Number(n) if n.fract() == 0.0 && n.is_finite());
                if !lhs.is_undefined() && !int(&lhs) {
                    return Err(wrap(RawError::new("T2003").value(error_text(&lhs))));
                }
                if !rhs.is_undefined() && !int(&rhs) {
                    return Err(wrap(RawError::new("T2004").value(error_text(&rhs))));
                }
                let (Some(a), Some(b)) = (lhs.as_f64(), rhs.as_f64()) else {
                    return Ok(Value::Undefined);
                };
                if a > b {
                    return Ok(Value::Undefined);
                }
                let size = b - a + 1.0;
                if size > 1e7 {
                    return Err(wrap(
                        RawError::new("D2014").value(error_text(&Value::Number(size))),
                    ));
                }
                // Building a large sequence is work the step count alone
                // would not see (one step can allocate ten million items).
                self.charge(size as u64)?;
                let items: Vec<Value<'j>> = (0..size as i64)
                    .map(|i| Value::Number(a + i as f64))
                    .collect();
                Ok(seq(items))
            }
            BinOp::And | BinOp::Or => Ok(Value::Undefined),
        }
    }

    #[inline(never)]
    pub fn eval_group<'j>(
        &mut self,
        g: &Group,
        input: Value<'j>,
        env: &Rc<Frame<'j>>,
    ) -> R<Value<'j>> {
        let reduce = input.flags().has(Flags::TUPLE_STREAM);
        let mut items = input.members();
        if !matches!(input, Value::Array(..)) && input.is_undefined() {
            items = Vec::new();
        }
        if items.is_empty() {
            items.push(Value::Undefined);
        }
        // key -> (data, pair index), in first-seen order
        let mut groups: indexmap::IndexMap<String, (Value<'j>, usize)> = indexmap::IndexMap::new();
        for item in &items {
            let frame = if reduce {
                frame_from_tuple(env, item)
            } else {
                env.clone()
            };
            let ctx = if reduce {
                tuple_get(item, "@")
            } else {
                item.clone()
            };
            for (pi, (k, _)) in g.pairs.iter().enumerate() {
                let key = self.eval(k, &ctx, &frame)?;
                match key {
                    Value::Undefined => {}
                    Value::String(s) => {
                        if let Some(entry) = groups.get_mut(&*s) {
                            if entry.1 != pi {
                                return Err(RawError::new("D1009")
                                    .pos(g.position)
                                    .value(error_text(&Value::String(s))));
                            }
                            let data = std::mem::replace(&mut entry.0, Value::Undefined);
                            entry.0 = append(data, item.clone());
                        } else {
                            groups.insert(s.to_string(), (item.clone(), pi));
                        }
                    }
                    other => {
                        return Err(RawError::new("T1003")
                            .pos(g.position)
                            .value(error_text(&other)))
                    }
                }
            }
        }
        let mut result = Object::new();
        for (key, (data, pi)) in groups {
            let (ctx, frame) = if reduce {
                let tuple = reduce_tuple_stream(&data);
                let ctx = tuple_get(&tuple, "@");
                let mut t = match tuple {
                    Value::Object(o) => (*o).clone(),
                    _ => Object::new(),
                };
                t.shift_remove("@");
                (ctx, frame_from_tuple(env, &Value::object(t)))
            } else {
                (data, env.clone())
            };
            let v = self.eval(&g.pairs[pi].1, &ctx, &frame)?;
            if !v.is_undefined() {
                result.insert(key, v);
            }
        }
        Ok(Value::object(result))
    }

    #[inline(never)]
    fn eval_sort<'j>(
        &mut self,
        step: &Node,
        input: &Value<'j>,
        env: &Rc<Frame<'j>>,
    ) -> R<Value<'j>> {
        let Kind::Sort(terms) = &step.kind else {
            return Ok(input.clone());
        };
        let is_tuple = input.flags().has(Flags::TUPLE_STREAM);
        let items = input.members();
        if items.len() <= 1 {
            return Ok(input.clone());
        }
        let mut keys: Vec<Vec<Value<'j>>> = Vec::with_capacity(items.len());
        for item in &items {
            let (ctx, frame) = if is_tuple {
                (tuple_get(item, "@"), frame_from_tuple(env, item))
            } else {
                (item.clone(), env.clone())
            };
            let mut k = Vec::with_capacity(terms.len());
            for t in terms {
                k.push(self.eval(&t.expression, &ctx, &frame)?);
            }
            keys.push(k);
        }
        let pos = step.position;
        let mut idx: Vec<usize> = (0..items.len()).collect();
        let mut err = None;
        let cmp = |a: &usize, b: &usize| -> std::cmp::Ordering {
            use std::cmp::Ordering::*;
            for (ti, t) in terms.iter().enumerate() {
                let (aa, bb) = (&keys[*a][ti], &keys[*b][ti]);
                let c = match (aa, bb) {
                    (Value::Undefined, Value::Undefined) => Equal,
                    (Value::Undefined, _) => return Greater,
                    (_, Value::Undefined) => return Less,
                    (Value::Number(x), Value::Number(y)) => x.partial_cmp(y).unwrap_or(Equal),
                    (Value::String(x), Value::String(y)) => utf16_cmp(x, y),
                    (x, y) => {
                        let ok = |v: &Value<'j>| matches!(v, Value::String(_) | Value::Number(_));
                        if err.is_none() {
                            err = Some(if !ok(x) || !ok(y) {
                                let bad = if ok(x) { y } else { x };
                                RawError::new("T2008").pos(pos).value(error_text(bad))
                            } else {
                                RawError::new("T2007")
                                    .pos(pos)
                                    .value(error_text(x))
                                    .value2(error_text(y))
                            });
                        }
                        Equal
                    }
                };
                let c = if t.descending { c.reverse() } else { c };
                if c != Equal {
                    return c;
                }
            }
            Equal
        };
        idx.sort_by(cmp);
        if let Some(e) = err {
            return Err(e);
        }
        let out: Vec<Value<'j>> = idx.into_iter().map(|i| items[i].clone()).collect();
        let flags = if is_tuple {
            Flags::SEQUENCE.with(Flags::TUPLE_STREAM)
        } else {
            Flags::SEQUENCE
        };
        Ok(Value::Array(Rc::new(Items(out)), flags))
    }

    #[inline(never)]
    fn eval_apply<'j>(
        &mut self,
        expr: &Node,
        l: &Node,
        r: &Node,
        input: &Value<'j>,
        env: &Rc<Frame<'j>>,
    ) -> R<Value<'j>> {
        let lhs = self.eval(l, input, env)?;
        if let Kind::Function(procedure, args) = &r.kind {
            return self.eval_function(r, procedure, args, input, env, Some(lhs));
        }
        let func = self.eval(r, input, env)?;
        if !func.is_function() {
            return Err(RawError::new("T2006")
                .pos(expr.position)
                .value(error_text(&func)));
        }
        if lhs.is_function() {
            return Ok(Value::Function(Rc::new(Function::Chain(lhs, func))));
        }
        self.apply(&func, vec![lhs], input, env, &CallSite::default())
    }

    #[inline(never)]
    fn eval_function<'j>(
        &mut self,
        expr: &Node,
        procedure: &Node,
        args: &[Node],
        input: &Value<'j>,
        env: &Rc<Frame<'j>>,
        context: Option<Value<'j>>,
    ) -> R<Value<'j>> {
        let proc_ = self.eval(procedure, input, env)?;
        let proc_name = proc_name(procedure);
        if proc_.is_undefined() {
            if let Kind::Path(steps) = &procedure.kind {
                if let Some(Kind::Name(n)) = steps.first().map(|s| &s.kind) {
                    if !self.lookup_var(n, env).is_undefined() {
                        return Err(RawError::new("T1005").pos(expr.position).token(n.clone()));
                    }
                }
            }
        }
        let mut evaluated = Vec::with_capacity(args.len() + 1);
        if let Some(c) = context {
            evaluated.push(c);
        }
        for a in args {
            evaluated.push(self.eval(a, input, env)?);
        }
        let site = CallSite {
            token: proc_name.clone(),
            position: Some(expr.position),
        };
        self.apply(&proc_, evaluated, input, env, &site)
            .map_err(|mut e| {
                if e.position.is_none() {
                    e.position = Some(expr.position);
                }
                if e.token.is_none() {
                    e.token = proc_name;
                }
                e
            })
    }

    #[inline(never)]
    fn eval_partial<'j>(
        &mut self,
        expr: &Node,
        procedure: &Node,
        args: &[Option<Node>],
        input: &Value<'j>,
        env: &Rc<Frame<'j>>,
    ) -> R<Value<'j>> {
        let mut evaluated = Vec::with_capacity(args.len());
        for a in args {
            evaluated.push(match a {
                Some(n) => Some(self.eval(n, input, env)?),
                None => None,
            });
        }
        let proc_ = self.eval(procedure, input, env)?;
        if proc_.is_undefined() {
            if let Kind::Path(steps) = &procedure.kind {
                if let Some(Kind::Name(n)) = steps.first().map(|s| &s.kind) {
                    if !self.lookup_var(n, env).is_undefined() {
                        return Err(RawError::new("T1007").pos(expr.position).token(n.clone()));
                    }
                }
            }
        }
        if !proc_.is_function() {
            let mut e = RawError::new("T1008").pos(expr.position);
            if let Some(n) = proc_name(procedure) {
                e = e.token(n);
            }
            return Err(e);
        }
        Ok(Value::Function(Rc::new(Function::Partial(
            proc_, evaluated,
        ))))
    }

    /// Applies a function and runs the tail-call trampoline.
    pub fn apply<'j>(
        &mut self,
        proc_: &Value<'j>,
        args: Vec<Value<'j>>,
        input: &Value<'j>,
        env: &Rc<Frame<'j>>,
        site: &CallSite,
    ) -> R<Value<'j>> {
        let mut result = self.apply_inner(proc_, args, input, env, site)?;
        while let Value::Function(f) = &result {
            let Function::Lambda(lam) = &**f else { break };
            if !lam.def.thunk {
                break;
            }
            let Kind::Function(procedure, args) = &lam.def.body.kind else {
                break;
            };
            let next = self.eval(procedure, &lam.input, &lam.env)?;
            let mut evaluated = Vec::with_capacity(args.len());
            for a in args {
                evaluated.push(self.eval(a, &lam.input, &lam.env)?);
            }
            let site = CallSite {
                token: proc_name(procedure),
                position: Some(procedure.position),
            };
            let lam_input = lam.input.clone();
            let lam_env = lam.env.clone();
            result = self.apply_inner(&next, evaluated, &lam_input, &lam_env, &site)?;
        }
        Ok(result)
    }

    fn apply_inner<'j>(
        &mut self,
        proc_: &Value<'j>,
        args: Vec<Value<'j>>,
        input: &Value<'j>,
        env: &Rc<Frame<'j>>,
        site: &CallSite,
    ) -> R<Value<'j>> {
        let r = self.apply_unchecked(proc_, args, input, env);
        r.map_err(|mut e| {
            if e.token.is_none() {
                e.token = site.token.clone();
            }
            if let Some(p) = site.position {
                e.position = Some(p);
            }
            e
        })
    }

    #[inline(never)]
    fn apply_unchecked<'j>(
        &mut self,
        proc_: &Value<'j>,
        args: Vec<Value<'j>>,
        input: &Value<'j>,
        env: &Rc<Frame<'j>>,
    ) -> R<Value<'j>> {
        let Value::Function(f) = proc_ else {
            return Err(RawError::new("T1006"));
        };
        match &**f {
            Function::Lambda(lam) => {
                let args = match &lam.def.signature {
                    Some(sig) => sig.validate(&args, input)?,
                    None => args,
                };
                let frame = Frame::new(Some(lam.env.clone()));
                for (i, p) in lam.def.params.iter().enumerate() {
                    frame.bind(p, args.get(i).cloned().unwrap_or(Value::Undefined));
                }
                self.eval(&lam.def.body, &lam.input, &frame)
            }
            Function::Builtin(b) => {
                // Functions see borrowed containers as their own arrays and
                // objects (one level); these few need no expansion.
                let args = b.signature().validate(&args, input)?;
                let args = if matches!(
                    b.name,
                    "exists" | "type" | "string" | "lookup" | "boolean" | "not" | "clone"
                ) {
                    args
                } else {
                    args.iter().map(Value::expand).collect()
                };
                (b.imp)(self, &args, input, env)
            }
            Function::Host(i) => self.call_host(*i, args, input),
            Function::Partial(func, bound) => {
                let mut supplied = args.into_iter();
                let full: Vec<Value<'j>> = bound
                    .iter()
                    .map(|b| match b {
                        Some(v) => v.clone(),
                        None => supplied.next().unwrap_or(Value::Undefined),
                    })
                    .collect();
                let func = func.clone();
                self.apply(&func, full, input, env, &CallSite::default())
            }
            Function::Chain(f1, f2) => {
                let (f1, f2) = (f1.clone(), f2.clone());
                let mid = self.apply(&f1, args, input, env, &CallSite::default())?;
                self.apply(&f2, vec![mid], input, env, &CallSite::default())
            }
            Function::Regex(re) => {
                let s = match args.first() {
                    Some(Value::String(s)) => s.clone(),
                    _ => return Ok(Value::Undefined),
                };
                let (found, work) = regex_match(re, &s, RegexFrom::start(&s), 0, false)?;
                self.charge(work)?;
                Ok(found)
            }
            Function::RegexNext(re, s, from, pos) => {
                let (found, work) = regex_next(re, s, from, *pos)?;
                self.charge(work)?;
                Ok(found)
            }
            Function::Transform(def, frame, pos) => {
                let (def, frame, pos) = (def.clone(), frame.clone(), *pos);
                let obj = args.into_iter().next().unwrap_or(Value::Undefined);
                self.transform(&def, &frame, pos, obj)
            }
        }
    }

    #[inline(never)]
    fn call_host<'j>(&mut self, i: usize, args: Vec<Value<'j>>, input: &Value<'j>) -> R<Value<'j>> {
        let args = match &self.env.natives[i].signature {
            Some(sig) => sig.validate(&args, input)?,
            None => args,
        };
        let json_args: Vec<Option<serde_json::Value>> = args.iter().map(|a| a.to_json()).collect();
        let native = &self.env.natives[i];
        match (native.function)(&json_args) {
            Ok(Some(v)) => Ok(Value::from_json(&v)),
            Ok(None) => Ok(Value::Undefined),
            Err(e) => Err(RawError::new(e.code)
                .message(e.message.clone())
                .token(native.name.clone())),
        }
    }

    /// How many arguments a function takes, for passing `(value, index,
    /// array)` to higher-order callbacks.
    pub fn arity<'j>(&self, f: &Value<'j>) -> usize {
        let Value::Function(f) = f else { return 0 };
        match &**f {
            Function::Lambda(l) => l.def.params.len(),
            // jsonata-js counts a built-in's JavaScript parameters;
            // `$string`'s second one has a default, so it counts one.
            Function::Builtin(b) if b.name == "string" => 1,
            Function::Builtin(b) => b.signature().arity(),
            Function::Host(i) => self.env.natives[*i]
                .signature
                .as_ref()
                .map(|s| s.arity())
                .unwrap_or(1),
            Function::Partial(_, args) => args.iter().filter(|a| a.is_none()).count(),
            Function::Chain(..) | Function::Regex(_) | Function::Transform(..) => 1,
            Function::RegexNext(..) => 0,
        }
    }

    #[inline(never)]
    fn transform<'j>(
        &mut self,
        def: &TransformDef,
        env: &Rc<Frame<'j>>,
        pos: usize,
        obj: Value<'j>,
    ) -> R<Value<'j>> {
        if obj.is_undefined() {
            return Ok(Value::Undefined);
        }
        let clone = self.lookup_var("clone", env);
        if !clone.is_function() {
            return Err(RawError::new("T2013").pos(pos));
        }
        let mut result = self.apply(
            &clone,
            vec![obj],
            &Value::Undefined,
            env,
            &CallSite::default(),
        )?;
        let matches = self.eval(&def.pattern, &result, env)?;
        if matches.is_undefined() {
            return Ok(result);
        }
        let matches = matches.members();
        // Objects in `result` are identified by their `Rc`; each update
        // rebuilds the path to the matched object, and `renamed` maps a
        // rebuilt object's old identity to its new value so that later
        // matches (ancestors of earlier ones) see earlier updates.
        let mut renamed: Vec<(*const Object<'j>, Value<'j>)> = Vec::new();
        for m in matches {
            let Value::Object(orig) = &m else { continue };
            let mut current = Value::Object(orig.clone());
            let mut key = Rc::as_ptr(orig);
            while let Some((_, v)) = renamed.iter().rev().find(|(p, _)| *p == key) {
                current = v.clone();
                match &current {
                    Value::Object(o) if Rc::as_ptr(o) != key => key = Rc::as_ptr(o),
                    _ => break,
                }
            }
            let update = self.eval(&def.update, &current, env)?;
            let mut obj = match &current {
                Value::Object(o) => (**o).clone(),
                _ => continue,
            };
            let update = update.expand();
            if !update.is_undefined() {
                let Value::Object(u) = &update else {
                    return Err(RawError::new("T2011")
                        .pos(def.update.position)
                        .value(error_text(&update)));
                };
                for (k, v) in u.iter() {
                    obj.insert(k.clone(), v.clone());
                }
            }
            if let Some(d) = &def.delete {
                let dels = self.eval(d, &current, env)?;
                if !dels.is_undefined() {
                    let list = dels.members();
                    if !list.iter().all(|x| matches!(x, Value::String(_))) {
                        return Err(RawError::new("T2012")
                            .pos(d.position)
                            .value(error_text(&dels)));
                    }
                    for k in list {
                        if let Value::String(k) = k {
                            obj.shift_remove(&*k);
                        }
                    }
                }
            }
            let new_val = Value::object(obj);
            let target = match &current {
                Value::Object(o) => Rc::as_ptr(o),
                _ => continue,
            };
            result = replace_object(&result, target, &new_val, &mut renamed);
        }
        Ok(result)
    }
}

fn replace_object<'j>(
    v: &Value<'j>,
    target: *const Object<'j>,
    new_val: &Value<'j>,
    renamed: &mut Vec<(*const Object<'j>, Value<'j>)>,
) -> Value<'j> {
    match v {
        Value::Object(o) => {
            if Rc::as_ptr(o) == target {
                renamed.push((target, new_val.clone()));
                return new_val.clone();
            }
            let mut changed = false;
            let mut out = Object::with_capacity(o.len());
            for (k, x) in o.iter() {
                let y = replace_object(x, target, new_val, renamed);
                if !ptr_same(x, &y) {
                    changed = true;
                }
                out.insert(k.clone(), y);
            }
            if changed {
                let nv = Value::object(out);
                renamed.push((Rc::as_ptr(o), nv.clone()));
                nv
            } else {
                v.clone()
            }
        }
        Value::Array(a, f) => {
            let mut changed = false;
            let items: Vec<Value<'j>> = a
                .iter()
                .map(|x| {
                    let y = replace_object(x, target, new_val, renamed);
                    if !ptr_same(x, &y) {
                        changed = true;
                    }
                    y
                })
                .collect();
            if changed {
                Value::Array(Rc::new(Items(items)), *f)
            } else {
                v.clone()
            }
        }
        _ => v.clone(),
    }
}

fn ptr_same<'j>(a: &Value<'j>, b: &Value<'j>) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => Rc::ptr_eq(x, y),
        (Value::Array(x, _), Value::Array(y, _)) => Rc::ptr_eq(x, y),
        _ => true,
    }
}

fn proc_name(procedure: &Node) -> Option<String> {
    match &procedure.kind {
        Kind::Path(steps) => match steps.first().map(|s| &s.kind) {
            Some(Kind::Name(n)) => Some(n.clone()),
            _ => None,
        },
        Kind::Variable(v) => Some(v.clone()),
        _ => None,
    }
}

fn reduce_tuple_stream<'j>(v: &Value<'j>) -> Value<'j> {
    let Value::Array(items, _) = v else {
        return v.clone();
    };
    let mut result = match items.first() {
        Some(Value::Object(o)) => (**o).clone(),
        _ => Object::new(),
    };
    for t in items.iter().skip(1) {
        if let Value::Object(o) = t {
            for (k, x) in o.iter() {
                let cur = result.shift_remove(k).unwrap_or(Value::Undefined);
                result.insert(k.clone(), append(cur, x.clone()));
            }
        }
    }
    Value::object(result)
}

/// `fn.lookup`: a field of an object, or of every object in an array
/// (flattening one level).
pub(crate) fn lookup<'j>(input: &Value<'j>, key: &str) -> Value<'j> {
    match input {
        // Borrowed data is read in place: a field of a large object is
        // reached without copying its siblings.
        Value::Json(serde_json::Value::Object(o)) => {
            o.get(key).map(Value::from_ref).unwrap_or(Value::Undefined)
        }
        Value::Json(serde_json::Value::Array(a)) => {
            let mut out = Vec::new();
            for item in a {
                match lookup(&Value::from_ref(item), key) {
                    Value::Undefined => {}
                    Value::Array(x, _) => out.extend(x.iter().cloned()),
                    Value::Json(serde_json::Value::Array(x)) => {
                        out.extend(x.iter().map(Value::from_ref))
                    }
                    v => out.push(v),
                }
            }
            seq(out)
        }
        Value::Array(a, _) => {
            let mut out = Vec::new();
            for item in a.iter() {
                match lookup(item, key) {
                    Value::Undefined => {}
                    Value::Array(x, _) => out.extend(x.iter().cloned()),
                    Value::Json(serde_json::Value::Array(x)) => {
                        out.extend(x.iter().map(Value::from_ref))
                    }
                    v => out.push(v),
                }
            }
            seq(out)
        }
        Value::Object(o) => o.get(key).cloned().unwrap_or(Value::Undefined),
        _ => Value::Undefined,
    }
}

/// Recursion over data depth continues on heap stack segments when the
/// thread's stack runs low (values can nest arbitrarily deep).
fn flatten<'j>(v: &Value<'j>, out: &mut Vec<Value<'j>>) {
    stacker::maybe_grow(RED_ZONE, NEW_SEGMENT, || flatten_inner(v, out))
}

fn flatten_inner<'j>(v: &Value<'j>, out: &mut Vec<Value<'j>>) {
    match v {
        Value::Json(_) if v.is_array_like() => v.members().iter().for_each(|x| flatten(x, out)),
        Value::Array(a, _) => a.iter().for_each(|x| flatten(x, out)),
        v => out.push(v.clone()),
    }
}

/// Recursion over data depth continues on heap stack segments when the
/// thread's stack runs low (values can nest arbitrarily deep).
fn descendants<'j>(v: &Value<'j>, out: &mut Vec<Value<'j>>) {
    stacker::maybe_grow(RED_ZONE, NEW_SEGMENT, || descendants_inner(v, out))
}

fn descendants_inner<'j>(v: &Value<'j>, out: &mut Vec<Value<'j>>) {
    match v {
        Value::Json(_) => descendants(&v.expand(), out),
        Value::Array(a, _) => a.iter().for_each(|x| descendants(x, out)),
        Value::Object(o) => {
            out.push(v.clone());
            o.values().for_each(|x| descendants(x, out));
        }
        v => out.push(v.clone()),
    }
}

/// JavaScript compares strings by UTF-16 code units.
pub(crate) fn utf16_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// UTF-16 offset to byte offset in `s`, from the start of the text: what
/// [`RegexFrom::advance`] answers from a known place (kept as its test's
/// reference).
#[cfg(test)]
fn byte_of_utf16(s: &str, u: usize) -> usize {
    let mut count = 0;
    for (i, c) in s.char_indices() {
        if count >= u {
            return i;
        }
        count += c.len_utf16();
    }
    s.len()
}

/// Byte offset to UTF-16 offset in `s`, from the start of the text: what
/// [`RegexFrom::u16_of`] answers from a known place (kept as its test's
/// reference).
#[cfg(test)]
fn utf16_of_byte(s: &str, b: usize) -> usize {
    let b = b.min(s.len());
    if s.is_char_boundary(b) {
        return s[..b].encode_utf16().count();
    }
    // A pattern without the u flag matches by UTF-16 code unit, so a match
    // can start or end between the two halves of a character beyond the
    // Basic Multilingual Plane; the engine puts that position at the
    // character's third byte, one code unit into it.
    let char_start = (0..b).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
    s[..char_start].encode_utf16().count() + 1
}

/// The text of `s` between two byte offsets of a match, widened to whole
/// characters where a match by code unit split one (a Rust string cannot
/// hold half of a surrogate pair; JavaScript's would).
fn match_text(s: &str, range: std::ops::Range<usize>) -> &str {
    let mut start = range.start.min(s.len());
    while !s.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = range.end.clamp(start, s.len());
    while !s.is_char_boundary(end) {
        end += 1;
    }
    &s[start..end]
}

/// What one search of `re` from byte `from` to byte `to` of the text (the
/// end of the match it found, or the end of the text) costs the step
/// budget: those bytes, times the pattern's size. The engine matches a
/// pattern without backreferences in time proportional to the pattern
/// times the text it searches (it remembers the places from which every
/// way has failed), so a search over a long text counts about as many
/// steps as it takes, and the same on every run; charging only up to the
/// match keeps `$split` and `$replace` over many matches linear. A pattern
/// with backreferences is not bounded by it (the engine's only limit for
/// those is a clock, which replay cannot use).
fn search_cost(re: &RegexLit, from: usize, to: usize) -> u64 {
    let read = to.saturating_sub(from) as u64 + 1;
    read.saturating_mul(re.source.len() as u64 + 1)
}

/// Where the next search of a match's `next` starts. jsonata-js keeps a
/// UTF-16 offset (`nominal`, which may point into a surrogate pair or one
/// past the end); the search runs from `byte`, the first character
/// boundary at or after it, whose UTF-16 offset is `byte_u16`. Keeping
/// both, and the text's length in UTF-16 units, lets each match find its
/// offsets from the last one instead of from the start of the text, so a
/// `$split` or `$replace` over many matches is linear.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RegexFrom {
    nominal: usize,
    byte: usize,
    byte_u16: usize,
    total_u16: usize,
}

impl RegexFrom {
    fn start(s: &str) -> RegexFrom {
        RegexFrom {
            nominal: 0,
            byte: 0,
            byte_u16: 0,
            total_u16: s.encode_utf16().count(),
        }
    }

    /// The first character boundary at or after UTF-16 offset `target`,
    /// walking from this one (at or before it): what `byte_of_utf16`
    /// answers, from here.
    fn advance(self, s: &str, target: usize) -> RegexFrom {
        let (mut byte, mut u16) = (self.byte, self.byte_u16);
        for c in s[byte..].chars() {
            if u16 >= target {
                break;
            }
            byte += c.len_utf8();
            u16 += c.len_utf16();
        }
        RegexFrom {
            nominal: target,
            byte,
            byte_u16: u16,
            total_u16: self.total_u16,
        }
    }

    /// The UTF-16 offset of byte `b` (at or after `self.byte`), as
    /// `utf16_of_byte` counts it: a byte inside a character beyond the
    /// Basic Multilingual Plane is one unit into it.
    fn u16_of(self, s: &str, b: usize) -> usize {
        let b = b.min(s.len());
        let mut boundary = b;
        while !s.is_char_boundary(boundary) {
            boundary -= 1;
        }
        let whole = self.byte_u16 + s[self.byte..boundary.max(self.byte)].encode_utf16().count();
        if boundary == b {
            whole
        } else {
            whole + 1
        }
    }
}

/// One regex match object `{match, start, end, groups, next}` from `from`,
/// as jsonata-js's regex closure returns, with the search's cost to charge
/// to the step budget.
pub(crate) fn regex_match<'j>(
    re: &Arc<RegexLit>,
    s: &Rc<str>,
    from: RegexFrom,
    pos: usize,
    check_empty: bool,
) -> R<(Value<'j>, u64)> {
    let start_byte = from.byte;
    let found = re.regex.captures_at(s, start_byte).map_err(|e| {
        // Only a match given a time limit stops early, and the parser gives
        // none; kept as an error rather than a panic all the same.
        RawError::new("U1004").pos(pos).message(format!(
            "The regular expression /{}/ could not finish matching: {e}",
            re.source
        ))
    })?;
    let Some(m) = found else {
        return Ok((Value::Undefined, search_cost(re, start_byte, s.len())));
    };
    let r = m.get_match().range();
    let work = search_cost(re, start_byte, r.end);
    if check_empty && r.is_empty() {
        return Err(RawError::new("D1004")
            .pos(pos)
            .value(error_text(&Value::str(&re.source))));
    }
    let mut o = Object::new();
    o.insert("match".into(), Value::str(match_text(s, r.clone())));
    let start = from.u16_of(s, r.start);
    let end = from.u16_of(s, r.end);
    o.insert("start".into(), Value::Number(start as f64));
    o.insert("end".into(), Value::Number(end as f64));
    let groups: Vec<Value<'j>> = (1..m.len())
        .map(|i| match m.get(i) {
            Some(g) => Value::str(match_text(s, g.range())),
            None => Value::str(""),
        })
        .collect();
    o.insert("groups".into(), Value::array(groups));
    // From the boundary at or before the match's end, whose offset is its
    // end's, less one inside a character beyond the BMP.
    let mut end_boundary = r.end;
    while !s.is_char_boundary(end_boundary) {
        end_boundary -= 1;
    }
    let at_end = RegexFrom {
        nominal: end,
        byte: end_boundary,
        byte_u16: from.u16_of(s, end_boundary),
        total_u16: from.total_u16,
    };
    let next_from = at_end.advance(s, if r.is_empty() { end + 1 } else { end });
    o.insert(
        "next".into(),
        Value::Function(Rc::new(Function::RegexNext(
            re.clone(),
            s.clone(),
            next_from,
            pos,
        ))),
    );
    Ok((Value::object(o), work))
}

fn regex_next<'j>(
    re: &Arc<RegexLit>,
    s: &Rc<str>,
    from: &RegexFrom,
    pos: usize,
) -> R<(Value<'j>, u64)> {
    if from.nominal >= from.total_u16 {
        return Ok((Value::Undefined, 0));
    }
    regex_match(re, s, *from, pos, true)
}

#[cfg(test)]
mod regex_from_tests {
    use super::*;

    /// From every starting boundary of texts mixing one-, two-, three- and
    /// four-byte characters, the incremental offsets agree with the ones
    /// counted from the start of the text, at every byte (boundaries and
    /// the inside of characters alike) and every UTF-16 target.
    #[test]
    fn incremental_offsets_agree_with_offsets_from_the_start() {
        for s in [
            "",
            "abc",
            "a\u{e9}b",
            "\u{1F600}",
            "x\u{1F600}y\u{20AC}\u{1F680}z",
            "\u{1F600}\u{1F600}",
        ] {
            let total = s.encode_utf16().count();
            let mut from = RegexFrom::start(s);
            assert_eq!(from.total_u16, total);
            loop {
                for b in from.byte..=s.len() {
                    assert_eq!(
                        from.u16_of(s, b),
                        utf16_of_byte(s, b),
                        "{s:?} from {} at byte {b}",
                        from.byte
                    );
                }
                for target in from.byte_u16..=total + 1 {
                    let moved = from.advance(s, target);
                    assert_eq!(
                        moved.byte,
                        byte_of_utf16(s, target),
                        "{s:?} to unit {target}"
                    );
                    assert_eq!(moved.byte_u16, utf16_of_byte(s, moved.byte));
                    assert_eq!(moved.nominal, target);
                }
                if from.byte == s.len() {
                    break;
                }
                from = from.advance(s, from.byte_u16 + 1);
            }
        }
    }
}
