//! Unit tests of `crate::path`: the path grammar, selection from the input,
//! the context object and variables, Jayway's failure texts and placement at
//! a `ResultPath`. Each case is a path and a document written here; the tests
//! pin behaviour through the module's own functions and touch nothing outside
//! the crate.

use super::*;
use expect_test::{expect, Expect};
use proptest::prelude::*;
use serde_json::json;

fn store() -> Value {
    json!({
        "store": {
            "book": [
                {"category": "reference", "author": "Nigel Rees", "title": "Sayings", "price": 8.95},
                {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword", "price": 12.99},
                {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick",
                 "isbn": "0-553-21311-3", "price": 8.99},
                {"category": "fiction", "author": "J. R. R. Tolkien", "title": "The Lord",
                 "isbn": "0-395-19395-8", "price": 22.99}
            ],
            "bicycle": {"color": "red", "price": 19.95}
        },
        "expensive": 10
    })
}

fn eval_with(
    text: &str,
    input: &Value,
    context: &Value,
    variables: &Map<String, Value>,
) -> Result<Value, Failure> {
    let path = Path::parse(text).unwrap_or_else(|e| panic!("{text} should parse: {e}"));
    path.eval(&Scope::new(input, context, variables))
}

fn eval(text: &str, input: &Value) -> Result<Value, Failure> {
    eval_with(text, input, &json!({}), &Map::new())
}

fn selects(text: &str, input: Value, expected: Value) {
    assert_eq!(eval(text, &input), Ok(expected), "path {text}");
}

fn fails(text: &str, input: Value, expected: Expect) {
    let failure = eval(text, &input).expect_err("evaluation should fail");
    assert_eq!(failure.error, "States.Runtime");
    expected.assert_eq(&failure.cause);
}

fn parse_error(text: &str, expected: Expect) {
    expected.assert_eq(&Path::parse(text).expect_err("parse should fail"));
}

fn reference_error(text: &str, expected: Expect) {
    expected.assert_eq(&Path::parse_reference(text).expect_err("parse should fail"));
}

// --- roots -----------------------------------------------------------

#[test]
fn dollar_selects_whole_input() {
    selects("$", json!({"a": 1}), json!({"a": 1}));
    selects("$", json!("text"), json!("text"));
}

#[test]
fn double_dollar_reads_the_context_object() {
    let context = json!({"Execution": {"Id": "arn:exec"}, "Map": {"Item": {"Value": {"n": 3}}}});
    let variables = Map::new();
    let input = json!({});
    assert_eq!(
        eval_with("$$.Execution.Id", &input, &context, &variables),
        Ok(json!("arn:exec"))
    );
    assert_eq!(
        eval_with("$$.Map.Item.Value.n", &input, &context, &variables),
        Ok(json!(3))
    );
    assert_eq!(
        eval_with("$$", &input, &context, &variables),
        Ok(context.clone())
    );
}

#[test]
fn dollar_name_reads_a_variable() {
    let mut variables = Map::new();
    variables.insert(
        "order".into(),
        json!({"items": [{"sku": "a"}, {"sku": "b"}]}),
    );
    variables.insert("count_2".into(), json!(42));
    let input = json!({"order": "not this"});
    let context = json!({});
    let run = |text| eval_with(text, &input, &context, &variables);
    assert_eq!(run("$count_2"), Ok(json!(42)));
    assert_eq!(run("$order.items[1].sku"), Ok(json!("b")));
    assert_eq!(run("$order['items'][0]"), Ok(json!({"sku": "a"})));
    assert_eq!(run("$order.items[*].sku"), Ok(json!(["a", "b"])));
}

#[test]
fn unknown_variable_is_no_match() {
    let variables = Map::new();
    let (input, context) = (json!({}), json!({}));
    let failure = eval_with("$missing.a", &input, &context, &variables).unwrap_err();
    expect![[r#"Invalid path '$missing.a' : No results for path: $missing['a'] (no variable named 'missing' is in scope)"#]]
            .assert_eq(&failure.cause);
    assert_eq!(
        eval_with("$missing[*]", &input, &context, &variables),
        Ok(json!([]))
    );
    let path = Path::parse("$missing").unwrap();
    assert_eq!(path.lookup(&Scope::new(&input, &context, &variables)), None);
}

#[test]
fn root_reports_what_the_path_starts_from() {
    assert_eq!(Path::parse("$.a").unwrap().root(), Root::Input);
    assert_eq!(Path::parse("$").unwrap().root(), Root::Input);
    assert_eq!(Path::parse("$$.Task.Token").unwrap().root(), Root::Context);
    assert_eq!(
        Path::parse("$x.y").unwrap().root(),
        Root::Variable("x".into())
    );
    assert_eq!(
        Path::parse("$_under").unwrap().root(),
        Root::Variable("_under".into())
    );
    assert_eq!(
        Path::parse("$ünï").unwrap().root(),
        Root::Variable("ünï".into())
    );
}

// --- names and indices -----------------------------------------------

#[test]
fn dot_name_selects_a_field() {
    selects("$.store.bicycle.color", store(), json!("red"));
    selects("$.expensive", store(), json!(10));
}

#[test]
fn bracket_names_accept_both_quotes_and_escapes() {
    let input =
        json!({"a b": 1, "it's": 2, "say \"hi\"": 3, "back\\slash": 4, "é": 5, "😀": 6, "": 7});
    selects("$['a b']", input.clone(), json!(1));
    selects("$[\"a b\"]", input.clone(), json!(1));
    selects("$['it\\'s']", input.clone(), json!(2));
    selects("$[\"it's\"]", input.clone(), json!(2));
    selects("$['say \\\"hi\\\"']", input.clone(), json!(3));
    selects("$['back\\\\slash']", input.clone(), json!(4));
    selects("$['\\u00e9']", input.clone(), json!(5));
    selects("$['\\ud83d\\ude00']", input.clone(), json!(6));
    selects("$['']", input, json!(7));
}

#[test]
fn dot_bracket_notation_from_the_aws_guide_works() {
    selects(
        "$.abc.['def ghi']",
        json!({"abc": {"def ghi": true}}),
        json!(true),
    );
}

#[test]
fn dot_names_may_hold_dashes_dollars_and_colons() {
    let input = json!({"detail-type": "x", "a$b": 1, "ns:key": 2, "@odata": 3, "0": 4});
    selects("$.detail-type", input.clone(), json!("x"));
    selects("$.a$b", input.clone(), json!(1));
    selects("$.ns:key", input.clone(), json!(2));
    selects("$.@odata", input.clone(), json!(3));
    selects("$.0", input, json!(4));
}

#[test]
fn index_selects_an_element() {
    selects("$.store.book[1].title", store(), json!("Sword"));
    selects("$[0]", json!(["x", "y"]), json!("x"));
    selects("$[ 1 ]", json!(["x", "y"]), json!("y"));
}

#[test]
fn negative_index_counts_from_the_end() {
    selects("$[-1]", json!([1, 2, 3]), json!(3));
    selects("$[-3]", json!([1, 2, 3]), json!(1));
}

#[test]
fn index_out_of_range_is_no_match() {
    fails(
        "$[3]",
        json!([1, 2, 3]),
        expect![[r#"Invalid path '$[3]' : No results for path: $[3]"#]],
    );
    fails(
        "$[-4]",
        json!([1, 2, 3]),
        expect![[r#"Invalid path '$[-4]' : No results for path: $[-4]"#]],
    );
}

#[test]
fn null_value_is_a_match() {
    selects("$.a", json!({"a": null}), json!(null));
}

// --- definite path failures (Jayway's messages) ----------------------

#[test]
fn definite_path_without_match_fails_naming_the_path() {
    fails(
        "$.foo",
        json!({}),
        expect![[r#"Invalid path '$.foo' : No results for path: $['foo']"#]],
    );
    fails(
        "$.a.b",
        json!({"a": {}}),
        expect![[r#"Invalid path '$.a.b' : No results for path: $['a']['b']"#]],
    );
}

#[test]
fn missing_intermediate_property_fails_where_it_is_missing() {
    fails(
        "$.a.b.c",
        json!({"a": {}}),
        expect![[r#"Invalid path '$.a.b.c' : Missing property in path $['a']['b']"#]],
    );
}

#[test]
fn name_applied_to_a_non_object_fails() {
    fails(
        "$.a.b",
        json!({"a": "text"}),
        expect![[
            r#"Invalid path '$.a.b' : Expected to find an object with property ['b'] in path $['a'] but found 'string'"#
        ]],
    );
}

#[test]
fn index_applied_to_a_non_array_fails() {
    fails(
        "$.a[0]",
        json!({"a": {"0": 1}}),
        expect![[
            r#"Invalid path '$.a[0]' : Expected to find an array for [0] in path $['a'] but found 'object'"#
        ]],
    );
}

#[test]
fn indefinite_path_whose_definite_prefix_is_missing_fails_as_in_jayway() {
    fails(
        "$.missing[*]",
        json!({}),
        expect![[r#"Invalid path '$.missing[*]' : Missing property in path $['missing']"#]],
    );
    fails(
        "$.text[?(@.a)]",
        json!({"text": "abc"}),
        expect![[
            r#"Invalid path '$.text[?(@.a)]' : Filter [?] can not be applied to primitives: path $['text'] is a string"#
        ]],
    );
}

// --- indefinite paths ------------------------------------------------

#[test]
fn indefinite_path_without_match_is_empty_array() {
    selects("$.items[*].missing", json!({"items": [{}, {}]}), json!([]));
    selects(
        "$.items[?(@.x > 1)]",
        json!({"items": [{"x": 0}]}),
        json!([]),
    );
    selects("$..nothing", json!({"a": {"b": 1}}), json!([]));
    selects("$.items[5:]", json!({"items": [1]}), json!([]));
}

#[test]
fn wildcard_selects_array_elements_and_object_values_in_order() {
    selects("$[*]", json!([1, 2, 3]), json!([1, 2, 3]));
    selects("$.*", json!({"z": 1, "a": 2}), json!([1, 2]));
    selects("$.store.bicycle[*]", store(), json!(["red", 19.95]));
    selects("$.x[*]", json!({"x": 5}), json!([]));
}

#[test]
fn wildcard_then_name_skips_elements_without_it() {
    selects(
        "$.store.book[*].isbn",
        store(),
        json!(["0-553-21311-3", "0-395-19395-8"]),
    );
}

#[test]
fn nested_wildcards_flatten_arrays_of_arrays() {
    // The AWS guide's ResultSelector example for flattening Parallel results.
    selects("$[*][*]", json!([[1, 2], [3], []]), json!([1, 2, 3]));
}

#[test]
fn union_of_indices_returns_each_in_the_order_written() {
    selects("$[0,2]", json!(["a", "b", "c"]), json!(["a", "c"]));
    selects("$[2, 0, 9]", json!(["a", "b", "c"]), json!(["c", "a"]));
    selects("$[-1,0]", json!(["a", "b", "c"]), json!(["c", "a"]));
}

#[test]
fn trailing_union_of_names_merges_into_an_object_as_in_jayway() {
    let path = Path::parse("$['a','c']").unwrap();
    assert!(path.is_definite());
    selects(
        "$['a','c']",
        json!({"a": 1, "b": 2, "c": 3}),
        json!({"a": 1, "c": 3}),
    );
    selects("$['a', \"zz\"]", json!({"a": 1}), json!({"a": 1}));
}

#[test]
fn inner_union_of_names_iterates() {
    let input = json!({"a": {"v": 1}, "b": {"v": 2}});
    assert!(!Path::parse("$['a','b'].v").unwrap().is_definite());
    selects("$['b','a'].v", input, json!([2, 1]));
}

#[test]
fn slices_follow_jayway() {
    let list = json!([0, 1, 2, 3, 4]);
    selects("$[1:3]", list.clone(), json!([1, 2]));
    selects("$[3:]", list.clone(), json!([3, 4]));
    selects("$[:2]", list.clone(), json!([0, 1]));
    selects("$[-2:]", list.clone(), json!([3, 4]));
    selects("$[:-1]", list.clone(), json!([0, 1, 2, 3]));
    selects("$[-3:-1]", list.clone(), json!([2, 3]));
    selects("$[2:100]", list.clone(), json!([2, 3, 4]));
    // `[a:b]` reads indices a..b, each negative one from the end: it wraps.
    selects("$[-100:1]", list.clone(), json!([0, 1, 2, 3, 4, 0]));
    selects("$[3:1]", list.clone(), json!([]));
    // Jayway reads a step and ignores it.
    selects("$[0:4:2]", list.clone(), json!([0, 1, 2, 3]));
    selects("$[1::2]", list.clone(), json!([1, 2, 3, 4]));
    selects("$[:3:2]", list, json!([0, 1, 2]));
}

/// Jayway's answers as json-path-comparison records them
/// (bug_reports/Java_com.jayway.jsonpath.md), where they differ from
/// other implementations'.
#[test]
fn slices_answer_as_jayway_where_it_is_odd() {
    let six = json!([2, "a", 4, 5, 100, "nice"]);
    selects("$[-4:1]", six.clone(), json!([4, 5, 100, "nice", 2]));
    selects("$[-4:2]", six.clone(), json!([4, 5, 100, "nice", 2, "a"]));
    selects(
        "$[-4:3]",
        six.clone(),
        json!([4, 5, 100, "nice", 2, "a", 4]),
    );
    selects("$[3:-2]", six, json!([]));
    let five = json!(["first", "second", "third", "forth", "fifth"]);
    selects("$[3:0:-2]", five.clone(), json!([]));
    selects(
        "$[0:3:-2]",
        five.clone(),
        json!(["first", "second", "third"]),
    );
    selects("$[0:3:2]", five, json!(["first", "second", "third"]));
}

// --- deep scan -------------------------------------------------------

#[test]
fn deep_scan_finds_names_at_any_depth_in_document_order() {
    selects(
        "$..price",
        store(),
        json!([8.95, 12.99, 8.99, 22.99, 19.95]),
    );
    selects(
        "$..a",
        json!({"a": 1, "b": {"a": 2, "c": [{"a": 3}]}}),
        json!([1, 2, 3]),
    );
}

#[test]
fn deep_scan_visits_a_node_before_its_children() {
    selects(
        "$..a",
        json!({"a": {"a": {"a": 0}}}),
        json!([{"a": {"a": 0}}, {"a": 0}, 0]),
    );
}

#[test]
fn deep_scan_wildcard_lists_children_then_descendants() {
    selects(
        "$..*",
        json!({"a": {"b": 1}, "c": [2]}),
        json!([{"b": 1}, [2], 1, 2]),
    );
}

#[test]
fn deep_scan_with_index_applies_to_every_array() {
    selects(
        "$..[0]",
        json!({"a": [1, [2, 3]], "b": {"c": [4]}}),
        json!([1, 2, 4]),
    );
    selects("$..book[2].title", store(), json!(["Moby Dick"]));
    selects(
        "$..['color','title']",
        store(),
        json!(["Sayings", "Sword", "Moby Dick", "The Lord", "red"]),
    );
}

#[test]
fn deep_scan_with_filter_tests_every_object() {
    selects(
        "$..[?(@.id == 2)]",
        json!({"id": 2, "more": [{"id": 2}, {"more": {"id": 2}}, {"id": {"id": 2}}, [{"id": 2}]]}),
        json!([
            {"id": 2, "more": [{"id": 2}, {"more": {"id": 2}}, {"id": {"id": 2}}, [{"id": 2}]]},
            {"id": 2},
            {"id": 2},
            {"id": 2},
            {"id": 2}
        ]),
    );
}

#[test]
fn deep_scan_reaches_the_bottom_of_nested_documents() {
    // Documents parsed by serde_json are at most 128 levels deep.
    let mut value = json!(1);
    for _ in 0..128 {
        value = json!({"n": [value]});
    }
    let found = eval("$..n[0]", &value).unwrap();
    assert_eq!(found.as_array().map(Vec::len), Some(128));
    assert_eq!(found.as_array().and_then(|a| a.last()), Some(&json!(1)));
}

// --- filters ---------------------------------------------------------

#[test]
fn filter_compares_numbers() {
    let titles =
        |filter: &str| eval(&format!("$.store.book[?({filter})].title"), &store()).unwrap();
    assert_eq!(titles("@.price < 10"), json!(["Sayings", "Moby Dick"]));
    assert_eq!(titles("@.price<=8.99"), json!(["Sayings", "Moby Dick"]));
    assert_eq!(titles("@.price > 20"), json!(["The Lord"]));
    assert_eq!(titles("@.price >= 22.99"), json!(["The Lord"]));
    assert_eq!(titles("@.price == 12.99"), json!(["Sword"]));
    assert_eq!(titles("10 > @.price"), json!(["Sayings", "Moby Dick"]));
}

#[test]
fn filter_compares_strings() {
    let titles =
        |filter: &str| eval(&format!("$.store.book[?({filter})].title"), &store()).unwrap();
    assert_eq!(titles("@.category == 'reference'"), json!(["Sayings"]));
    assert_eq!(titles("@.category != \"fiction\""), json!(["Sayings"]));
    assert_eq!(titles("@.author < 'F'"), json!(["Sword"]));
}

#[test]
fn integer_and_float_literals_compare_by_value() {
    selects(
        "$[?(@.n == 1.0)].n",
        json!([{"n": 1}, {"n": 2}]),
        json!([1]),
    );
    selects(
        "$[?(@.n >= 1e1)].n",
        json!([{"n": 9}, {"n": 10}]),
        json!([10]),
    );
    selects(
        "$[?(@.n < -1)].n",
        json!([{"n": -2}, {"n": 0}]),
        json!([-2]),
    );
    selects(
        "$[?(@.n > 9007199254740993)].n",
        json!([{"n": 9007199254740993_u64}, {"n": 9007199254740994_u64}]),
        json!([9007199254740994_u64]),
    );
}

#[test]
fn filter_existence_selects_items_with_the_field_even_when_null() {
    selects(
        "$[?(@.isbn)].t",
        json!([{"t": 1, "isbn": null}, {"t": 2}]),
        json!([1]),
    );
    selects(
        "$[?(!@.isbn)].t",
        json!([{"t": 1, "isbn": "x"}, {"t": 2}]),
        json!([2]),
    );
}

#[test]
fn values_of_different_types_never_compare() {
    selects(
        "$[?(@.v == '1')].v",
        json!([{"v": 1}, {"v": "1"}]),
        json!(["1"]),
    );
    selects(
        "$[?(@.v < 'b')].v",
        json!([{"v": 1}, {"v": "a"}]),
        json!(["a"]),
    );
    selects(
        "$[?(@.v == true)].v",
        json!([{"v": 1}, {"v": true}]),
        json!([true]),
    );
    selects(
        "$[?(@.v == null)].v",
        json!([{"v": 0}, {"v": null}, {}]),
        json!([null]),
    );
}

#[test]
fn not_equal_matches_items_missing_the_field_as_in_jayway() {
    selects(
        "$[?(@.v != 1)]",
        json!([{"v": 1}, {"v": 2}, {}]),
        json!([{"v": 2}, {}]),
    );
}

#[test]
fn filter_combines_with_and_or_not_and_parentheses() {
    let titles =
        |filter: &str| eval(&format!("$.store.book[?({filter})].title"), &store()).unwrap();
    assert_eq!(titles("@.price < 10 && @.isbn"), json!(["Moby Dick"]));
    assert_eq!(
        titles("@.price > 20 || @.category == 'reference'"),
        json!(["Sayings", "The Lord"])
    );
    assert_eq!(titles("!(@.price > 10)"), json!(["Sayings", "Moby Dick"]));
    assert_eq!(
        titles("(@.price < 10 || @.price > 20) && @.isbn"),
        json!(["Moby Dick", "The Lord"])
    );
    assert_eq!(
        titles("@.price < 10 || @.price > 20 && @.isbn"),
        json!(["Sayings", "Moby Dick", "The Lord"])
    );
    assert_eq!(titles("!!@.isbn"), json!(["Moby Dick", "The Lord"]));
}

#[test]
fn filter_can_compare_against_the_document_root() {
    selects(
        "$.store.book[?(@.price < $.expensive)].price",
        store(),
        json!([8.95, 8.99]),
    );
}

#[test]
fn filter_on_scalars_uses_at_alone() {
    selects("$[?(@ > 1)]", json!([1, 2, 3]), json!([2, 3]));
    selects("$[?(@ == 'b')]", json!(["a", "b"]), json!(["b"]));
}

#[test]
fn filter_paths_may_go_deep_and_index() {
    let input = json!([{"a": {"b": [5, 6]}}, {"a": {"b": [7]}}]);
    selects(
        "$[?(@.a.b[0] == 7)]",
        input.clone(),
        json!([{"a": {"b": [7]}}]),
    );
    selects("$[?(@['a']['b'][-1] == 6)].a.b[0]", input, json!([5]));
}

#[test]
fn filter_compares_whole_arrays_and_objects() {
    selects(
        "$.items[?(@.t == $.want)].id",
        json!({"want": [1, 2.0], "items": [{"t": [1, 2], "id": 9}, {"t": [1], "id": 8}]}),
        json!([9]),
    );
    let list = json!([{"t": {"k": 1}, "id": 1}, {"t": {"k": 2}, "id": 2}]);
    selects("$[?(@.t == $[1].t)].id", list, json!([2]));
}

#[test]
fn nested_filter_is_true_when_it_matches_something() {
    let input = json!([{"id": 1, "tags": [{"n": "x"}]}, {"id": 2, "tags": [{"n": "y"}]}]);
    selects("$[?(@.tags[?(@.n == 'y')])].id", input, json!([2]));
}

#[test]
fn filter_on_an_object_tests_the_object_itself_as_in_jayway() {
    selects(
        "$.bike[?(@.color == 'red')]",
        json!({"bike": {"color": "red"}}),
        json!([{"color": "red"}]),
    );
    selects(
        "$.bike[?(@.color == 'blue')]",
        json!({"bike": {"color": "red"}}),
        json!([]),
    );
}

#[test]
fn filter_path_on_wrong_type_is_simply_false() {
    selects(
        "$[?(@.a.b == 1)]",
        json!([{"a": "s"}, {"a": {"b": 1}}, 7]),
        json!([{"a": {"b": 1}}]),
    );
}

// --- definiteness and references ------------------------------------

#[test]
fn definite_and_reference_classification() {
    let cases = [
        ("$", true, true),
        ("$.a", true, true),
        ("$['a'][0].b", true, true),
        ("$$.Execution.Id", true, true),
        ("$v[1]", true, true),
        ("$['a','b']", true, false),
        ("$[0,1]", false, false),
        ("$[*]", false, false),
        ("$.*", false, false),
        ("$..a", false, false),
        ("$[1:2]", false, false),
        ("$[?(@.a)]", false, false),
    ];
    for (text, definite, reference) in cases {
        let path = Path::parse(text).unwrap();
        assert_eq!(path.is_definite(), definite, "is_definite({text})");
        assert_eq!(path.is_reference(), reference, "is_reference({text})");
        assert_eq!(
            Path::parse_reference(text).is_ok(),
            reference,
            "parse_reference({text})"
        );
    }
}

#[test]
fn parse_reference_names_the_offending_step() {
    reference_error(
            "$.a[*]",
            expect!["invalid path '$.a[*]' at offset 3: a wildcard '*' is not allowed in a reference path, which may only use '.name', ['name'] and [index]"],
        );
    reference_error(
            "$..a",
            expect!["invalid path '$..a' at offset 1: a deep scan '..' is not allowed in a reference path, which may only use '.name', ['name'] and [index]"],
        );
    reference_error(
            "$.a[?(@.x)]",
            expect!["invalid path '$.a[?(@.x)]' at offset 3: a filter '[?(...)]' is not allowed in a reference path, which may only use '.name', ['name'] and [index]"],
        );
    reference_error(
            "$[0:1]",
            expect!["invalid path '$[0:1]' at offset 1: a slice '[start:end]' is not allowed in a reference path, which may only use '.name', ['name'] and [index]"],
        );
    reference_error(
            "$['a','b']",
            expect!["invalid path '$['a','b']' at offset 1: a union '[a,b]' is not allowed in a reference path, which may only use '.name', ['name'] and [index]"],
        );
    reference_error(
            "$.a.",
            expect!["invalid path '$.a.' at offset 4: expected a name, '*' or '[' after '.', found the end of the path"],
        );
}

#[test]
fn text_and_display_keep_what_was_written() {
    let path = Path::parse("$.a['b c'][0]").unwrap();
    assert_eq!(path.text(), "$.a['b c'][0]");
    assert_eq!(path.to_string(), "$.a['b c'][0]");
    assert_eq!(path.normalized(), "$['a']['b c'][0]");
}

#[test]
fn normalized_form_escapes_quotes() {
    let path = Path::parse(r#"$["it's"]..['a\\b'][1:][*][?(@)]"#).unwrap();
    assert_eq!(path.normalized(), r"$['it\'s']..['a\\b'][1:][*][?]");
}

// --- lookup ----------------------------------------------------------

#[test]
fn lookup_is_none_when_nothing_matches() {
    let input = json!({"a": {"b": 0}, "list": []});
    let (context, variables) = (json!({}), Map::new());
    let scope = Scope::new(&input, &context, &variables);
    let look = |text: &str| Path::parse(text).unwrap().lookup(&scope);
    assert_eq!(look("$.a.b"), Some(json!(0)));
    assert_eq!(look("$.a.c"), None);
    assert_eq!(look("$.x.y.z"), None);
    assert_eq!(look("$.a.b.c"), None);
    assert_eq!(look("$.list[*]"), None);
    assert_eq!(look("$.a.*"), Some(json!([0])));
}

// --- parse errors ----------------------------------------------------

#[test]
fn path_must_start_with_dollar() {
    parse_error(
        "",
        expect![
            "invalid path '' at offset 0: a path must start with '$', found the end of the path"
        ],
    );
    parse_error(
        "a.b",
        expect!["invalid path 'a.b' at offset 0: a path must start with '$', found 'a'"],
    );
    parse_error(
        " $.a",
        expect![
            "invalid path ' $.a' at offset 0: a path must start with '$', found whitespace ' '"
        ],
    );
}

#[test]
fn trailing_dots_are_rejected() {
    parse_error(
            "$.",
            expect!["invalid path '$.' at offset 2: expected a name, '*' or '[' after '.', found the end of the path"],
        );
    parse_error(
            "$..",
            expect!["invalid path '$..' at offset 3: expected a name, '*' or '[' after '..', found the end of the path"],
        );
    parse_error(
            "$...a",
            expect!["invalid path '$...a' at offset 3: expected a name, '*' or '[' after '..', found '.'; use bracket notation such as ['a b'] for names with special characters"],
        );
}

#[test]
fn spaces_in_dot_names_point_to_bracket_notation() {
    parse_error(
            "$.my name",
            expect!["invalid path '$.my name' at offset 4: unexpected whitespace ' ', expected '.', '[' or the end of the path; use bracket notation such as ['my name'] for names with spaces"],
        );
    parse_error(
            "$.a ",
            expect!["invalid path '$.a ' at offset 3: unexpected whitespace ' ', expected '.', '[' or the end of the path; use bracket notation such as ['my name'] for names with spaces"],
        );
}

#[test]
fn brackets_must_close() {
    parse_error(
        "$[",
        expect!["invalid path '$[' at offset 1: '[' is never closed"],
    );
    parse_error(
        "$[0",
        expect!["invalid path '$[0' at offset 1: '[' is never closed"],
    );
    parse_error(
        "$['a'",
        expect!["invalid path '$['a'' at offset 1: '[' is never closed"],
    );
    parse_error(
            "$[0 1]",
            expect!["invalid path '$[0 1]' at offset 4: expected ']' to close the '[' at offset 1, found '1'"],
        );
    parse_error(
            "$]",
            expect!["invalid path '$]' at offset 1: unexpected ']', expected '.', '[' or the end of the path"],
        );
}

#[test]
fn strings_must_close_and_escape_properly() {
    parse_error(
        "$['abc]",
        expect!["invalid path '$['abc]' at offset 2: string is never closed"],
    );
    parse_error(
        "$['a\\qb']",
        expect![[r#"invalid path '$['a\qb']' at offset 4: unknown escape '\q'"#]],
    );
    parse_error(
        "$['\\u12']",
        expect![[
            r#"invalid path '$['\u12']' at offset 3: '\u' must be followed by four hex digits"#
        ]],
    );
    parse_error(
        "$['\\ud800x']",
        expect![[
            r#"invalid path '$['\ud800x']' at offset 3: a high surrogate '\u' escape must be followed by a low one"#
        ]],
    );
    parse_error(
        "$['\\udc00']",
        expect![[
            r#"invalid path '$['\udc00']' at offset 3: '\u' escape is not a valid character"#
        ]],
    );
    parse_error(
        "$['a',]",
        expect!["invalid path '$['a',]' at offset 6: expected a quoted name after ',', found ']'"],
    );
}

#[test]
fn bad_bracket_contents_are_named() {
    parse_error(
            "$[abc]",
            expect!["invalid path '$[abc]' at offset 2: expected a quoted name, an index, a slice, '*' or '?(' after '[', found 'a'"],
        );
    parse_error(
        "$[-]",
        expect!["invalid path '$[-]' at offset 3: expected digits after '-', found ']'"],
    );
    parse_error(
        "$[1,]",
        expect!["invalid path '$[1,]' at offset 4: expected an index after ',', found ']'"],
    );
    parse_error(
            "$[::2]",
            expect!["invalid path '$[::2]' at offset 2: a slice needs a start or an end ('[:]' and '[::step]' are not JSONPath as Step Functions reads it)"],
        );
    parse_error(
            "$[99999999999999999999]",
            expect!["invalid path '$[99999999999999999999]' at offset 2: index 99999999999999999999 is out of range"],
        );
    parse_error(
        "$[?@.a]",
        expect!["invalid path '$[?@.a]' at offset 3: expected '(' after '[?', found '@'"],
    );
}

#[test]
fn roots_must_be_well_formed() {
    parse_error(
            "$1abc",
            expect!["invalid path '$1abc' at offset 1: a variable name must start with a letter or '_', not a digit"],
        );
    parse_error(
            "$$$",
            expect!["invalid path '$$$' at offset 2: unexpected '$', expected '.', '[' or the end of the path"],
        );
    parse_error(
            "$$abc",
            expect!["invalid path '$$abc' at offset 2: unexpected 'a', expected '.', '[' or the end of the path"],
        );
    parse_error(
            "$var-x",
            expect!["invalid path '$var-x' at offset 4: unexpected '-', expected '.', '[' or the end of the path"],
        );
}

#[test]
fn filter_syntax_errors_are_named() {
    parse_error(
        "$[?(@.a = 1)]",
        expect!["invalid path '$[?(@.a = 1)]' at offset 8: use '==' to compare, not '='"],
    );
    parse_error(
            "$[?(@.a =~ /x/)]",
            expect!["invalid path '$[?(@.a =~ /x/)]' at offset 8: regular expressions ('=~') are not supported in filters"],
        );
    parse_error(
            "$[?(@.a in [1])]",
            expect!["invalid path '$[?(@.a in [1])]' at offset 8: operator 'in' is not supported in filters; use '==', '!=', '<', '<=', '>', '>=', '&&', '||' or '!'"],
        );
    parse_error(
            "$[?(1)]",
            expect!["invalid path '$[?(1)]' at offset 4: a literal on its own is not a condition; compare it with '==', '!=', '<', '<=', '>' or '>='"],
        );
    parse_error(
            "$[?(@.a == )]",
            expect!["invalid path '$[?(@.a == )]' at offset 11: expected a path ('@...' or '$...'), a quoted string, a number, true, false or null, found ')'"],
        );
    parse_error(
            "$[?(@.a == yes)]",
            expect!["invalid path '$[?(@.a == yes)]' at offset 11: unknown word 'yes' in filter; expected a path ('@...' or '$...'), a quoted string, a number, true, false or null"],
        );
    parse_error(
            "$[?(@.a == 1.)]",
            expect!["invalid path '$[?(@.a == 1.)]' at offset 12: expected ')' to close the filter, found '.'"],
        );
    parse_error(
        "$[?(@.a == 1e)]",
        expect!["invalid path '$[?(@.a == 1e)]' at offset 11: '1e' is not a valid number"],
    );
    parse_error(
        "$[?(@.a == 1e999)]",
        expect!["invalid path '$[?(@.a == 1e999)]' at offset 11: '1e999' is not a valid number"],
    );
    parse_error(
        "$[?(@.a)",
        expect!["invalid path '$[?(@.a)' at offset 1: '[' is never closed"],
    );
    parse_error(
        "$[?(@.a]",
        expect!["invalid path '$[?(@.a]' at offset 7: expected ')' to close the filter, found ']'"],
    );
    parse_error(
        "$[?((@.a)]",
        expect![
            "invalid path '$[?((@.a)]' at offset 9: expected ')' to close the filter, found ']'"
        ],
    );
    parse_error(
            "$[?(@.a &&)]",
            expect!["invalid path '$[?(@.a &&)]' at offset 10: expected a path ('@...' or '$...'), a quoted string, a number, true, false or null, found ')'"],
        );
    parse_error(
            "$[?($$.a)]",
            expect!["invalid path '$[?($$.a)]' at offset 4: only '@' and '$' paths can be used inside a filter, not '$$' or variables"],
        );
    parse_error(
            "$[?($x)]",
            expect!["invalid path '$[?($x)]' at offset 4: only '@' and '$' paths can be used inside a filter, not '$$' or variables"],
        );
}

#[test]
fn nesting_up_to_the_cap_parses() {
    let deep = format!(
        "$[?({}@.a{})]",
        "(".repeat(MAX_NESTING - 1),
        ")".repeat(MAX_NESTING - 1)
    );
    assert!(Path::parse(&deep).is_ok());
    let nots = format!("$[?({}@.a)]", "!".repeat(MAX_NESTING - 1));
    assert!(Path::parse(&nots).is_ok());
}

#[test]
fn nesting_beyond_the_cap_is_an_error_not_a_crash() {
    let deep = format!(
        "$[?({}@.a{})]",
        "(".repeat(MAX_NESTING),
        ")".repeat(MAX_NESTING)
    );
    let error = Path::parse(&deep).unwrap_err();
    assert!(
        error.contains("at offset 67: filters, parentheses and '!' nest more than 64 levels deep"),
        "{error}"
    );
    for huge in [
        format!("$[?({}", "(".repeat(100_000)),
        format!("$[?({}@)]", "!".repeat(100_000)),
        "$[?(@[?(".repeat(10_000),
    ] {
        assert!(Path::parse(&huge)
            .unwrap_err()
            .contains("nest more than 64 levels"));
    }
}

#[test]
fn long_flat_chains_do_not_nest() {
    let chain = vec!["@.a == 1"; 20_000].join(" || ");
    let path = Path::parse(&format!("$[?({chain})]")).unwrap();
    let input = json!([{"a": 1}, {"a": 2}]);
    let (context, variables) = (json!({}), Map::new());
    assert_eq!(
        path.eval(&Scope::new(&input, &context, &variables)),
        Ok(json!([{"a": 1}]))
    );
}

// --- ResultPath ------------------------------------------------------

fn apply(path: &str, input: Value, result: Value) -> Result<Value, Failure> {
    apply_result_path(input, &Path::parse_reference(path).unwrap(), result)
}

#[test]
fn result_path_dollar_replaces_the_input() {
    assert_eq!(
        apply("$", json!({"a": 1}), json!("done")),
        Ok(json!("done"))
    );
    assert_eq!(apply("$", json!("scalar"), json!([1])), Ok(json!([1])));
}

#[test]
fn result_path_sets_a_field_at_the_end() {
    assert_eq!(
        apply(
            "$.taskresult",
            json!({"comment": "x", "who": "y"}),
            json!("Hello")
        ),
        Ok(json!({"comment": "x", "who": "y", "taskresult": "Hello"}))
    );
    let output = apply("$.taskresult", json!({"b": 1, "a": 2}), json!(3)).unwrap();
    assert_eq!(
        output.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["b", "a", "taskresult"]
    );
}

#[test]
fn result_path_replaces_an_existing_field_in_place() {
    let output = apply("$.a", json!({"a": 1, "b": 2}), json!({"new": true})).unwrap();
    assert_eq!(output, json!({"a": {"new": true}, "b": 2}));
    assert_eq!(
        output.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["a", "b"]
    );
}

#[test]
fn result_path_creates_missing_objects() {
    assert_eq!(
        apply("$.a.b.c", json!({"x": 1}), json!(true)),
        Ok(json!({"x": 1, "a": {"b": {"c": true}}}))
    );
    assert_eq!(
        apply("$.a['b c'].d", json!({"a": {"keep": 1}}), json!(2)),
        Ok(json!({"a": {"keep": 1, "b c": {"d": 2}}}))
    );
}

#[test]
fn result_path_into_a_non_object_fails_with_result_path_match_failure() {
    let failure = apply("$.a.b", json!({"a": "text"}), json!(1)).unwrap_err();
    assert_eq!(failure.error, "States.ResultPathMatchFailure");
    expect![[r#"Unable to apply ReferencePath $.a.b to input {"a":"text"}"#]]
        .assert_eq(&failure.cause);
    let failure = apply("$.a.b", json!({"a": [1]}), json!(1)).unwrap_err();
    expect![[r#"Unable to apply ReferencePath $.a.b to input {"a":[1]}"#]]
        .assert_eq(&failure.cause);
    let failure = apply("$.a.b", json!({"a": null}), json!(1)).unwrap_err();
    assert_eq!(failure.error, RESULT_PATH_MATCH_FAILURE);
}

#[test]
fn result_path_on_a_non_object_input_fails() {
    let failure = apply("$.partitioned", json!("{\"min_size\":1}"), json!(1)).unwrap_err();
    assert_eq!(failure.error, "States.ResultPathMatchFailure");
    expect![[r#"Unable to apply ReferencePath $.partitioned to input "{\"min_size\":1}""#]]
        .assert_eq(&failure.cause);
    assert!(apply("$.a", json!([1, 2]), json!(1)).is_err());
    assert!(apply("$.a", json!(null), json!(1)).is_err());
}

#[test]
fn result_path_index_replaces_an_existing_element_only() {
    assert_eq!(
        apply("$.list[1]", json!({"list": [1, 2, 3]}), json!("x")),
        Ok(json!({"list": [1, "x", 3]}))
    );
    assert_eq!(
        apply("$.list[-1]", json!({"list": [1, 2]}), json!("x")),
        Ok(json!({"list": [1, "x"]}))
    );
    assert_eq!(
        apply("$.list[0].r", json!({"list": [{"a": 1}]}), json!(2)),
        Ok(json!({"list": [{"a": 1, "r": 2}]}))
    );
    let failure = apply("$.list[3]", json!({"list": [1]}), json!("x")).unwrap_err();
    expect![[r#"Unable to apply ReferencePath $.list[3] to input {"list":[1]}"#]]
        .assert_eq(&failure.cause);
    assert!(apply("$.missing[0]", json!({}), json!("x")).is_err());
    assert!(apply("$.missing.deeper[0]", json!({}), json!("x")).is_err());
    assert!(apply("$.obj[0]", json!({"obj": {}}), json!("x")).is_err());
}

#[test]
fn result_path_must_be_an_input_reference_path() {
    for text in ["$$.Execution", "$var.a", "$.a[*]", "$..a"] {
        let failure =
            apply_result_path(json!({}), &Path::parse(text).unwrap(), json!(1)).unwrap_err();
        assert_eq!(failure.error, RESULT_PATH_MATCH_FAILURE, "{text}");
        assert!(
            failure
                .cause
                .contains("must be a reference path starting with '$'"),
            "{text}"
        );
    }
}

#[test]
fn result_path_failure_leaves_no_partial_objects_in_the_cause() {
    // The fit check runs before anything is created, so the cause shows the input unchanged.
    let failure = apply("$.new.list[0]", json!({"k": 1}), json!(1)).unwrap_err();
    expect![[r#"Unable to apply ReferencePath $.new.list[0] to input {"k":1}"#]]
        .assert_eq(&failure.cause);
}

// --- properties ------------------------------------------------------

fn sample() -> Value {
    json!({"a": [1, {"b": "x", "c": [true, null]}, 3.5], "b": {"a": {"b": 2}}, "c": "s", "": 0})
}

proptest! {
    #[test]
    fn parse_never_panics(s in ".*") {
        let _ = Path::parse(&s);
        let _ = Path::parse_reference(&s);
    }

    #[test]
    fn path_like_strings_parse_and_evaluate_without_panicking(
        s in "\\$[$@.\\[\\]*?()'\"a-c0-9:,<>=!&| -]{0,40}"
    ) {
        exercise(&s)?;
    }

    #[test]
    fn token_soup_parses_and_evaluates_without_panicking(
        tokens in prop::collection::vec(path_token(), 0..24)
    ) {
        exercise(&format!("${}", tokens.concat()))?;
    }

    #[test]
    fn generated_paths_with_filters_parse_and_evaluate(
        root in prop_oneof![Just("$"), Just("$$"), Just("$a"), Just("$nope")],
        steps in prop::collection::vec(prop_oneof![4 => step_strategy(), 2 => filter_step(), 1 => path_token()], 0..6)
    ) {
        exercise(&format!("{root}{}", steps.concat()))?;
    }

    #[test]
    fn normalized_form_parses_back_to_the_same_path(
        steps in prop::collection::vec(step_strategy(), 0..6)
    ) {
        let text = format!("${}", steps.concat());
        let path = Path::parse(&text).map_err(TestCaseError::fail)?;
        let again = Path::parse(&path.normalized()).map_err(TestCaseError::fail)?;
        prop_assert_eq!(again.segments, path.segments);
    }

    #[test]
    fn result_path_then_eval_reads_back_the_result(
        names in prop::collection::vec("[a-z ']{1,4}", 1..4),
        value in any::<i64>()
    ) {
        let text = format!(
            "${}",
            names.iter().map(|n| format!("['{}']", n.replace('\'', "\\'"))).collect::<String>()
        );
        let path = Path::parse_reference(&text).map_err(TestCaseError::fail)?;
        let output = apply_result_path(json!({"keep": 1}), &path, json!(value))
            .map_err(|f| TestCaseError::fail(f.cause))?;
        let (context, variables) = (json!({}), Map::new());
        prop_assert_eq!(path.eval(&Scope::new(&output, &context, &variables)), Ok(json!(value)));
    }
}

/// Parses `text`; when it parses, evaluates it every way this module
/// offers and checks the invariants that tie those ways together.
fn exercise(text: &str) -> Result<(), TestCaseError> {
    let Ok(path) = Path::parse(text) else {
        prop_assert!(Path::parse_reference(text).is_err());
        return Ok(());
    };
    prop_assert_eq!(path.text(), text);
    let input = sample();
    let mut variables = Map::new();
    variables.insert("a".into(), sample());
    let context = json!({"Execution": {"Id": "e"}});
    let scope = Scope::new(&input, &context, &variables);
    let result = path.eval(&scope);
    if !path.is_definite() {
        // Indefinite paths yield arrays whenever they succeed.
        prop_assert!(result.as_ref().map(Value::is_array).unwrap_or(true));
    }
    if let Err(failure) = &result {
        prop_assert_eq!(failure.error.as_str(), "States.Runtime");
        prop_assert!(failure.cause.contains(text));
    }
    prop_assert_eq!(
        path.lookup(&scope).is_some(),
        result.is_ok_and(|v| path.is_definite() || v != json!([]))
    );
    if path.is_reference() {
        prop_assert!(path.is_definite());
        prop_assert!(Path::parse_reference(text).is_ok());
        let _ = apply_result_path(input.clone(), &path, json!("r"));
    } else {
        prop_assert!(Path::parse_reference(text).is_err());
    }
    Ok(())
}

/// Pieces of path grammar, so random concatenations often parse.
fn path_token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("."),
        Just(".."),
        Just("["),
        Just("]"),
        Just("*"),
        Just("[*]"),
        Just("?("),
        Just("[?("),
        Just(")]"),
        Just("("),
        Just(")"),
        Just("@"),
        Just("$"),
        Just("'a'"),
        Just("\"b\""),
        Just("a"),
        Just("b"),
        Just("c"),
        Just("0"),
        Just("1"),
        Just("-1"),
        Just(":"),
        Just(","),
        Just(" "),
        Just("=="),
        Just("!="),
        Just("<"),
        Just(">="),
        Just("!"),
        Just("&&"),
        Just("||"),
        Just("true"),
        Just("null"),
        Just("1.5"),
    ]
    .prop_map(str::to_string)
}

fn filter_step() -> impl Strategy<Value = String> {
    let operand = prop_oneof![
        Just("@"),
        Just("@.a"),
        Just("@.b"),
        Just("@[0]"),
        Just("@..b"),
        Just("@.*"),
        Just("$.c"),
        Just("$.a[1].b"),
        Just("'x'"),
        Just("\"s\""),
        Just("1"),
        Just("-2.5"),
        Just("true"),
        Just("null"),
    ];
    let op = prop_oneof![
        Just("=="),
        Just("!="),
        Just("<"),
        Just("<="),
        Just(">"),
        Just(">=")
    ];
    let leaf = prop_oneof![
        operand.clone().prop_map(str::to_string),
        (operand.clone(), op, operand).prop_map(|(l, o, r)| format!("{l} {o} {r}")),
    ];
    let predicate = leaf.prop_recursive(4, 16, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} && {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}||{b}")),
            inner.clone().prop_map(|a| format!("!({a})")),
            inner.prop_map(|a| format!("({a})")),
        ]
    });
    (prop_oneof![Just(""), Just("..")], predicate).prop_map(|(scan, p)| format!("{scan}[?({p})]"))
}

fn step_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_][a-z0-9_-]{0,5}".prop_map(|n| format!(".{n}")),
        "[a-z_][a-z0-9_-]{0,5}".prop_map(|n| format!("..{n}")),
        "[ -~]{0,6}".prop_map(|n| format!("['{}']", n.replace('\\', "\\\\").replace('\'', "\\'"))),
        "[ -~]{0,6}"
            .prop_map(|n| format!("[\"{}\"]", n.replace('\\', "\\\\").replace('"', "\\\""))),
        (-5i64..5).prop_map(|i| format!("[{i}]")),
        (-5i64..5, -5i64..5).prop_map(|(a, b)| format!("[{a},{b}]")),
        // A slice has a start or an end, or both (Jayway refuses `[:]`).
        (-5i64..5, prop::option::of(-5i64..5))
            .prop_map(|(a, b)| format!("[{a}:{}]", b.map(|n| n.to_string()).unwrap_or_default())),
        (-5i64..5).prop_map(|b| format!("[:{b}]")),
        Just(".*".to_string()),
        Just("[*]".to_string()),
        Just("..*".to_string()),
    ]
}
