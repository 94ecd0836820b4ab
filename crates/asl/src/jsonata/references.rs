//! Which references AWS refuses in a JSONata expression when a state
//! machine is created (UNSUPPORTED_JSONATA_EXPRESSION): `$$`; a path that
//! reads the context item at the top level (expressions run with none: the
//! input is `$states.input`); and a part of `$states` the field cannot see
//! (`$states.errorOutput` outside a catcher, `$states.result` where the
//! state has no result yet).
//!
//! Names evaluated against the top-level context come from the parsed
//! expression (`Expression::root_names`); `$states` parts are read from the
//! expression's text outside its string literals and comments.

use zoomvault_jsonata::Expression;

/// Which field an expression is written in, so which parts of `$states`
/// exist there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Before the state's work: `Arguments`, `Items`, `ItemSelector`,
    /// `Seconds`, `TimeoutSeconds`, a Choice `Condition`, a Fail's fields...
    /// `$states.input` and `$states.context`.
    Before,
    /// `Output` and `Assign` of a state with a result (Task, Parallel, Map):
    /// also `$states.result`.
    AfterResult,
    /// `Output` and `Assign` of a state without one (Pass, Wait, Choice).
    AfterInput,
    /// A catcher's `Output` and `Assign`: also `$states.errorOutput`.
    Catcher,
}

/// AWS's message for each refused reference, in the order found.
pub(super) fn check(text: &str, expression: &Expression, place: Place) -> Vec<String> {
    let mut problems = Vec::new();
    let code = outside_literals(text);
    if code.contains("$$") {
        problems.push("Reference to '$$' is not supported.".to_string());
    }
    for name in expression.root_names() {
        problems.push(format!(
            "Reference to '{name}' at the top level is not supported."
        ));
    }
    let refused = |part: &str| match part {
        "errorOutput" => place != Place::Catcher,
        "result" => place != Place::AfterResult,
        _ => false,
    };
    for part in ["errorOutput", "result"] {
        if refused(part) && mentions(&code, &format!("$states.{part}")) {
            problems.push(format!("Reference to '$states.{part}' is not supported."));
        }
    }
    problems
}

/// Whether `code` holds `reference` as a whole reference (not a prefix of a
/// longer name).
fn mentions(code: &str, reference: &str) -> bool {
    code.match_indices(reference).any(|(at, _)| {
        !code[at + reference.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$')
    })
}

/// The expression with its string literals, quoted names and comments blanked
/// out, so a `$$` inside `"..."` is not taken for a reference.
fn outside_literals(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' | '`' => {
                out.push(' ');
                while let Some(d) = chars.next() {
                    if d == '\\' {
                        chars.next();
                    } else if d == c {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for d in chars.by_ref() {
                    if last == '*' && d == '/' {
                        break;
                    }
                    last = d;
                }
                out.push(' ');
            }
            other => out.push(other),
        }
    }
    out
}

/// The names of the `$variables` an expression mentions, outside its string
/// literals and comments (a superset: a lambda's own parameters are in it
/// too, and binding a workflow variable they shadow changes nothing).
pub(super) fn variables(text: &str) -> Vec<String> {
    let code = outside_literals(text);
    let mut names: Vec<String> = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find('$') {
        rest = &rest[at + 1..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}
