//! Payload templates: the values of `Parameters`, `ResultSelector`,
//! `ItemSelector` and `Assign`. A key ending in `.$` takes a path or an
//! intrinsic function whose result is stored under the key without the
//! `.$`; nested objects and arrays are templates too; every other value is
//! copied as it is.
//!
//! This module parses a template once, reporting every problem by the JSON
//! pointer of the offending field, and evaluates it against a `Scope`. Path
//! syntax belongs to `crate::path` and intrinsic functions to
//! `crate::intrinsic`; this module only decides which applies where.

use crate::error::pointer_join;
use crate::intrinsic::Intrinsic;
use crate::path::Path;
use crate::{DefinitionError, Entropy, Failure, JsonType, Scope};
use serde_json::{Map, Value};

/// The suffix that marks a field whose value is computed.
const DYNAMIC_SUFFIX: &str = ".$";

#[derive(Debug, Clone, PartialEq)]
pub struct PayloadTemplate {
    root: Node,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// A subtree with nothing to compute.
    Literal(Value),
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
    /// `"key.$": "$.path"`; `field` is the key as written, for messages.
    Path {
        field: String,
        path: Path,
    },
    /// `"key.$": "States.Function(...)"`.
    Intrinsic {
        field: String,
        call: Intrinsic,
    },
}

impl PayloadTemplate {
    /// Parses a Parameters / ResultSelector / ItemSelector / Assign value,
    /// pushing every problem (bad path, bad intrinsic, `.$` on a non-string,
    /// two fields producing the same key) into `errors`, named by JSON
    /// pointer under `pointer`. Any JSON value is a template: one that is
    /// not an object or array is a literal, as AWS accepts.
    pub fn parse(
        value: &Value,
        pointer: &str,
        errors: &mut Vec<DefinitionError>,
    ) -> PayloadTemplate {
        PayloadTemplate {
            root: parse_node(value, pointer, errors),
        }
    }

    pub fn eval(&self, scope: &Scope, entropy: &mut dyn Entropy) -> Result<Value, Failure> {
        self.root.eval(scope, entropy)
    }

    /// True when the template computes nothing, so `eval` returns it as
    /// written.
    pub fn is_literal(&self) -> bool {
        matches!(self.root, Node::Literal(_))
    }
}

fn parse_node(value: &Value, pointer: &str, errors: &mut Vec<DefinitionError>) -> Node {
    let node = match value {
        Value::Object(fields) => Node::Object(parse_object(fields, pointer, errors)),
        Value::Array(items) => Node::Array(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| {
                    parse_node(item, &pointer_join(pointer, &index.to_string()), errors)
                })
                .collect(),
        ),
        other => Node::Literal(other.clone()),
    };
    collapse_literal(node)
}

fn parse_object(
    fields: &Map<String, Value>,
    pointer: &str,
    errors: &mut Vec<DefinitionError>,
) -> Vec<(String, Node)> {
    let mut nodes = Vec::with_capacity(fields.len());
    for (key, value) in fields {
        let field_pointer = pointer_join(pointer, key);
        let Some(name) = key.strip_suffix(DYNAMIC_SUFFIX) else {
            nodes.push((key.clone(), parse_node(value, &field_pointer, errors)));
            continue;
        };
        if fields.contains_key(name) {
            errors.push(DefinitionError::new(
                &field_pointer,
                format!("the fields '{key}' and '{name}' would both produce the key '{name}'"),
            ));
        }
        match parse_dynamic(key, value) {
            Ok(node) => nodes.push((name.to_string(), node)),
            Err(message) => errors.push(DefinitionError::new(&field_pointer, message)),
        }
    }
    nodes
}

/// The value of a `.$` field: a path when it starts with `$`, an intrinsic
/// function when it starts with `States.`.
fn parse_dynamic(key: &str, value: &Value) -> Result<Node, String> {
    let Value::String(text) = value else {
        return Err(format!(
            "the value of '{key}' must be a string holding a JSONPath or an intrinsic function, \
             got {}",
            JsonType::of(value).with_article()
        ));
    };
    let field = key.to_string();
    // AWS's words for a `.$` value that is neither (quoted from failed
    // deployments: "SCHEMA_VALIDATION_FAILED: The value for the field
    // 'previousVerificationId.$' must be a valid JSONPath or a valid
    // intrinsic function call").
    let invalid = || {
        format!("The value for the field '{key}' must be a valid JSONPath or a valid intrinsic function call")
    };
    if Intrinsic::looks_like_call(text) {
        Intrinsic::parse(text)
            .map(|call| Node::Intrinsic { field, call })
            .map_err(|e| format!("invalid intrinsic function '{text}': {e}"))
    } else if text.starts_with('$') {
        Path::parse(text)
            .map(|path| Node::Path { field, path })
            .map_err(|_| invalid())
    } else {
        Err(invalid())
    }
}

/// Folds an object or array whose children are all literals into one
/// literal, so evaluation copies it in one go.
fn collapse_literal(node: Node) -> Node {
    match node {
        Node::Object(fields) if fields.iter().all(|(_, n)| matches!(n, Node::Literal(_))) => {
            Node::Literal(Value::Object(
                fields
                    .into_iter()
                    .filter_map(|(key, n)| match n {
                        Node::Literal(value) => Some((key, value)),
                        _ => None,
                    })
                    .collect(),
            ))
        }
        Node::Array(items) if items.iter().all(|n| matches!(n, Node::Literal(_))) => {
            Node::Literal(Value::Array(
                items
                    .into_iter()
                    .filter_map(|n| match n {
                        Node::Literal(value) => Some(value),
                        _ => None,
                    })
                    .collect(),
            ))
        }
        other => other,
    }
}

impl Node {
    fn eval(&self, scope: &Scope, entropy: &mut dyn Entropy) -> Result<Value, Failure> {
        match self {
            Node::Literal(value) => Ok(value.clone()),
            Node::Object(fields) => {
                let mut out = Map::with_capacity(fields.len());
                for (key, node) in fields {
                    out.insert(key.clone(), node.eval(scope, entropy)?);
                }
                Ok(Value::Object(out))
            }
            Node::Array(items) => items
                .iter()
                .map(|node| node.eval(scope, entropy))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Node::Intrinsic { call, .. } => call.eval(scope, entropy),
            Node::Path { field, path } => path.eval(scope).map_err(|failure| {
                if failure.is_runtime() {
                    // AWS's wording; the engine prefixes the state's name.
                    Failure::runtime(format!(
                        "The JSONPath '{}' specified for the field '{}' could not be found in the input '{}'",
                        path.text(),
                        field,
                        scope.input
                    ))
                } else {
                    failure
                }
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SplitMix64;
    use expect_test::{expect, Expect};
    use proptest::prelude::*;
    use serde_json::json;

    fn input() -> Value {
        json!({
            "name": "Arnav",
            "order": {"id": 7, "items": ["a", "b"]},
            "flag": null,
        })
    }

    fn context() -> Value {
        json!({"Execution": {"Id": "arn:aws:states:execution:demo:1"}})
    }

    fn variables() -> Map<String, Value> {
        let mut variables = Map::new();
        variables.insert("region".into(), json!("eu-west-1"));
        variables
    }

    /// Parses `template` under `/States/S/Parameters` and evaluates it,
    /// rendering the value, the failure or every definition error.
    fn render(template: Value) -> String {
        let mut errors = Vec::new();
        let parsed = PayloadTemplate::parse(&template, "/States/S/Parameters", &mut errors);
        if !errors.is_empty() {
            return errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n");
        }
        let (input, context, variables) = (input(), context(), variables());
        let scope = Scope::new(&input, &context, &variables);
        match parsed.eval(&scope, &mut SplitMix64(5)) {
            Ok(value) => value.to_string(),
            Err(failure) => format!("{}: {}", failure.error, failure.cause),
        }
    }

    fn check(template: Value, expected: Expect) {
        expected.assert_eq(&render(template));
    }

    #[test]
    fn static_fields_are_copied_as_written() {
        check(
            json!({"a": 1, "b": "$.name", "c": [true, null], "d": {"e": "States.UUID()"}}),
            expect![[r#"{"a":1,"b":"$.name","c":[true,null],"d":{"e":"States.UUID()"}}"#]],
        );
    }

    #[test]
    fn all_static_template_is_literal() {
        let mut errors = Vec::new();
        let parsed = PayloadTemplate::parse(&json!({"a": [1, {"b": 2}]}), "", &mut errors);
        assert!(errors.is_empty());
        assert!(parsed.is_literal());
        let dynamic = PayloadTemplate::parse(&json!({"a": [{"b.$": "$"}]}), "", &mut errors);
        assert!(!dynamic.is_literal());
    }

    #[test]
    fn non_object_template_is_a_literal() {
        check(json!("just text"), expect![[r#""just text""#]]);
        check(json!(42), expect!["42"]);
    }

    #[test]
    fn path_field_takes_the_selected_value_under_the_bare_key() {
        check(
            json!({"who.$": "$.name", "id.$": "$.order.id", "all.$": "$"}),
            expect![[
                r#"{"who":"Arnav","id":7,"all":{"name":"Arnav","order":{"id":7,"items":["a","b"]},"flag":null}}"#
            ]],
        );
    }

    #[test]
    fn path_field_may_select_null() {
        check(json!({"flag.$": "$.flag"}), expect![[r#"{"flag":null}"#]]);
    }

    #[test]
    fn path_field_reads_the_context_object_and_variables() {
        check(
            json!({"execution.$": "$$.Execution.Id", "region.$": "$region"}),
            expect![[r#"{"execution":"arn:aws:states:execution:demo:1","region":"eu-west-1"}"#]],
        );
    }

    #[test]
    fn indefinite_path_gives_an_array() {
        check(
            json!({"items.$": "$.order.items[*]"}),
            expect![[r#"{"items":["a","b"]}"#]],
        );
    }

    #[test]
    fn intrinsic_field_takes_the_call_result() {
        check(
            json!({"greeting.$": "States.Format('Hello, {}!', $.name)", "count.$": "States.ArrayLength($.order.items)"}),
            expect![[r#"{"greeting":"Hello, Arnav!","count":2}"#]],
        );
    }

    #[test]
    fn nested_objects_are_processed_recursively() {
        check(
            json!({"outer": {"inner": {"id.$": "$.order.id", "fixed": "x"}}}),
            expect![[r#"{"outer":{"inner":{"id":7,"fixed":"x"}}}"#]],
        );
    }

    #[test]
    fn objects_inside_arrays_are_processed_recursively() {
        check(
            json!({"list": [1, {"who.$": "$.name"}, [{"first.$": "$.order.items[0]"}]]}),
            expect![[r#"{"list":[1,{"who":"Arnav"},[{"first":"a"}]]}"#]],
        );
    }

    #[test]
    fn template_may_be_an_array_at_the_top() {
        check(
            json!([{"who.$": "$.name"}, "x"]),
            expect![[r#"[{"who":"Arnav"},"x"]"#]],
        );
    }

    #[test]
    fn field_order_is_kept() {
        check(
            json!({"z": 1, "y.$": "$.name", "x": 2}),
            expect![[r#"{"z":1,"y":"Arnav","x":2}"#]],
        );
    }

    #[test]
    fn dollar_field_with_a_non_string_value_is_a_definition_error_at_its_pointer() {
        check(
            json!({"outer": {"bad.$": 5}}),
            expect!["/States/S/Parameters/outer/bad.$: the value of 'bad.$' must be a string holding a JSONPath or an intrinsic function, got a number"],
        );
        check(json!({"list": [{"bad.$": {"a": 1}}]}), expect!["/States/S/Parameters/list/0/bad.$: the value of 'bad.$' must be a string holding a JSONPath or an intrinsic function, got an object"]);
    }

    #[test]
    fn dollar_field_with_text_that_is_neither_path_nor_call_is_a_definition_error() {
        check(json!({"a.$": "name"}), expect!["/States/S/Parameters/a.$: The value for the field 'a.$' must be a valid JSONPath or a valid intrinsic function call"]);
    }

    #[test]
    fn key_and_dollar_key_for_the_same_name_are_rejected() {
        check(
            json!({"a": 1, "a.$": "$.name"}),
            expect![
                "/States/S/Parameters/a.$: the fields 'a.$' and 'a' would both produce the key 'a'"
            ],
        );
    }

    #[test]
    fn invalid_path_is_a_definition_error_at_its_pointer() {
        check(json!({"a.$": "$.order["}), expect!["/States/S/Parameters/a.$: The value for the field 'a.$' must be a valid JSONPath or a valid intrinsic function call"]);
    }

    #[test]
    fn invalid_intrinsic_is_a_definition_error_at_its_pointer() {
        check(
            json!({"a.$": "States.ArrayRange(0, 5000, 1)"}),
            expect!["/States/S/Parameters/a.$: invalid intrinsic function 'States.ArrayRange(0, 5000, 1)': States.ArrayRange: the range would hold 5001 items; an array may hold at most 1000 at offset 0"],
        );
    }

    #[test]
    fn every_definition_error_is_reported() {
        check(
            json!({"a.$": 1, "b": {"c.$": "nope"}, "d.$": "States.Bogus()"}),
            expect![[r#"
                /States/S/Parameters/a.$: the value of 'a.$' must be a string holding a JSONPath or an intrinsic function, got a number
                /States/S/Parameters/b/c.$: The value for the field 'c.$' must be a valid JSONPath or a valid intrinsic function call
                /States/S/Parameters/d.$: invalid intrinsic function 'States.Bogus()': unknown intrinsic function States.Bogus at offset 0"#]],
        );
    }

    #[test]
    fn pointer_segments_are_escaped() {
        check(json!({"a/b": {"c~d.$": true}}), expect!["/States/S/Parameters/a~1b/c~0d.$: the value of 'c~d.$' must be a string holding a JSONPath or an intrinsic function, got a boolean"]);
    }

    #[test]
    fn path_with_no_match_fails_with_runtime_naming_the_field() {
        check(
            json!({"nested": {"missing.$": "$.nothing"}}),
            expect![[
                r#"States.Runtime: The JSONPath '$.nothing' specified for the field 'missing.$' could not be found in the input '{"name":"Arnav","order":{"id":7,"items":["a","b"]},"flag":null}'"#
            ]],
        );
    }

    #[test]
    fn intrinsic_failure_propagates() {
        check(
            json!({"item.$": "States.ArrayGetItem($.order.items, $.order.id)"}),
            expect!["States.IntrinsicFailure: The function 'States.ArrayGetItem($.order.items, $.order.id)' had the following error: States.ArrayGetItem: index 7 is out of bounds for an array of length 2"],
        );
    }

    #[test]
    fn literal_dollar_in_a_static_field_is_not_evaluated() {
        check(
            json!({"a": "$.name", "b.$$": "$.name"}),
            expect![[r#"{"a":"$.name","b.$$":"$.name"}"#]],
        );
    }

    /// Small JSON objects whose keys may end in `.$` and whose values may be
    /// paths, calls, garbage or nested templates.
    fn template() -> impl Strategy<Value = Value> {
        let key = prop::sample::select(vec!["a", "a.$", "b.$", "c", ".$", "d.$"]);
        let leaf = prop_oneof![
            Just(json!(null)),
            any::<i32>().prop_map(Value::from),
            prop::sample::select(vec![
                "$",
                "$.name",
                "$.order.items[0]",
                "$.missing",
                "$$.Execution.Id",
                "$region",
                "$nobody",
                "States.UUID()",
                "States.Format('{}', $.name)",
                "States.Array(",
                "States.ArrayGetItem($.order.items, 9)",
                "$[",
                "text",
            ])
            .prop_map(Value::from),
            "[$.a-zA-Z(){}',]{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((key.clone(), inner), 0..4).prop_map(|fields| Value::Object(
                    fields
                        .into_iter()
                        .map(|(key, value)| (key.to_string(), value))
                        .collect()
                )),
            ]
        })
    }

    proptest! {
        #[test]
        fn parse_and_eval_never_panic(template in template()) {
            let _ = render(template);
        }

        #[test]
        fn template_without_dollar_keys_evaluates_to_itself(template in template()) {
            fn has_dollar_key(value: &Value) -> bool {
                match value {
                    Value::Object(fields) => fields
                        .iter()
                        .any(|(key, value)| key.ends_with(DYNAMIC_SUFFIX) || has_dollar_key(value)),
                    Value::Array(items) => items.iter().any(has_dollar_key),
                    _ => false,
                }
            }
            prop_assume!(!has_dollar_key(&template));
            prop_assert_eq!(render(template.clone()), template.to_string());
        }
    }
}
