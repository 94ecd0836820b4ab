//! Which names an expression reads from its top-level context item: the
//! first step of a path evaluated where the context is the evaluation's
//! input, as in `phone` or `phone.number`. Step Functions evaluates
//! JSONata with no input (the state's input is `$states.input`), so such a
//! name can never find anything there, and AWS refuses the definition. This
//! module only answers the question; the refusal is the caller's.
//!
//! Later steps of a path, predicates, sort terms, groupings and transform
//! patterns are read against values the expression itself selected, so
//! their names are not top-level. A lambda body keeps the context of the
//! expression that defines it, so its names count.

use crate::ast::{Kind, Node, Stage};
use crate::Expression;

impl Expression {
    /// The names read at the top level, in the order they appear, each
    /// once.
    pub fn root_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        walk(&self.root, true, &mut names);
        names
    }
}

fn walk(node: &Node, top: bool, names: &mut Vec<String>) {
    match &node.kind {
        Kind::Name(name) => {
            if top && !names.contains(name) {
                names.push(name.clone());
            }
        }
        Kind::Path(steps) => {
            for (i, step) in steps.iter().enumerate() {
                walk(step, top && i == 0, names);
            }
        }
        Kind::Binary(_, a, b) | Kind::Apply(a, b) => {
            walk(a, top, names);
            walk(b, top, names);
        }
        Kind::Neg(a) | Kind::Bind(_, a) => walk(a, top, names),
        Kind::ArrayCons(items) | Kind::Block(items) => {
            for item in items {
                walk(item, top, names);
            }
        }
        Kind::ObjectCons(pairs) => {
            for (k, v) in pairs {
                walk(k, top, names);
                walk(v, top, names);
            }
        }
        Kind::Condition(c, t, e) => {
            walk(c, top, names);
            walk(t, top, names);
            if let Some(e) = e {
                walk(e, top, names);
            }
        }
        Kind::Function(f, args) => {
            walk(f, top, names);
            for a in args {
                walk(a, top, names);
            }
        }
        Kind::Partial(f, args) => {
            walk(f, top, names);
            for a in args.iter().flatten() {
                walk(a, top, names);
            }
        }
        Kind::Lambda(def) => walk(&def.body, top, names),
        Kind::Sort(terms) => {
            for t in terms {
                walk(&t.expression, false, names);
            }
        }
        Kind::Transform(def) => {
            walk(&def.pattern, false, names);
            walk(&def.update, false, names);
            if let Some(d) = &def.delete {
                walk(d, false, names);
            }
        }
        Kind::Str(_)
        | Kind::Num(_)
        | Kind::Bool(_)
        | Kind::Null
        | Kind::Wildcard
        | Kind::Descendant
        | Kind::Parent
        | Kind::Regex(_)
        | Kind::Variable(_) => {}
    }
    for stage in node.predicate.iter().chain(&node.stages) {
        if let Stage::Filter(f) = stage {
            walk(f, false, names);
        }
    }
    if let Some(group) = &node.group {
        for (k, v) in &group.pairs {
            walk(k, false, names);
            walk(v, false, names);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Expression;

    fn roots(source: &str) -> Vec<String> {
        Expression::parse(source).expect("parses").root_names()
    }

    #[test]
    fn first_steps_read_at_the_top_level_are_found() {
        assert_eq!(roots("phone"), ["phone"]);
        assert_eq!(roots("phone.number & name"), ["phone", "name"]);
        assert_eq!(roots("$count(items)"), ["items"]);
        assert_eq!(roots("$map($states.input.a, function($x){ b })"), ["b"]);
    }

    #[test]
    fn names_read_from_selected_values_are_not() {
        assert!(roots("$states.input.items[value > 3]").is_empty());
        assert!(roots("$states.input.a.b.c").is_empty());
        assert!(roots("$states.input.items^(price)").is_empty());
        assert!(roots("$states.input.items{name: price}").is_empty());
        assert!(roots("\"phone\" & 'name'").is_empty());
        assert!(roots("($x := 1; $x + 1)").is_empty());
    }
}
