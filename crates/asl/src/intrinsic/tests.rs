//! Unit tests of `crate::intrinsic`: the call grammar and its escapes, the
//! checks made at definition time, and each function's results and failure
//! texts, with AWS's documented examples among them. Each case is one
//! expression against the fixed input, context and variables defined here;
//! randomness comes from a seeded `SplitMix64`, so every run is the same.

use super::*;
use expect_test::{expect, Expect};
use proptest::prelude::*;
use serde_json::json;

/// The state's data (`$`) the tests evaluate against.
fn input() -> Value {
    json!({
        "name": "Arnav",
        "template": "Hello, my name is {}.",
        "escaped": "{\"foo\": \"bar\"}",
        "notJson": "{foo",
        "object": {"foo": "bar"},
        "numbers": [1, 2, 3, 4, 5, 6, 7, 8, 9],
        "dupes": [1, 2, 2, 3, 3, 3, {"a": 1}, {"a": 1}, "1"],
        "text": "input data",
        "encoded": "RGF0YSB0byBlbmNvZGU=",
        "latin1": "/w==",
        "algorithm": "SHA-1",
        "badAlgorithm": "SHA-2",
        "recipe": "arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/recipe-name/1.0.0",
        "big": 1001,
        "zero": 0,
        "negative": -1,
        "half": 2.5,
        "start": 1,
        "end": 999,
        "json1": {"a": {"a1": 1, "a2": 2}, "b": 2},
        "json2": {"a": {"a3": 1, "a4": 2}, "c": 3},
        "csv": "1,2,3,4,5",
        "long": "x".repeat(MAX_CODEC_INPUT_CHARS + 1),
        "exactlyLong": "x".repeat(MAX_CODEC_INPUT_CHARS),
    })
}

fn context() -> Value {
    json!({"Execution": {"Id": "arn:aws:states:execution:demo:1"}, "State": {"Name": "Build"}})
}

fn variables() -> Map<String, Value> {
    let mut variables = Map::new();
    variables.insert("greeting".into(), json!("hi"));
    variables.insert("count".into(), json!(3));
    variables
}

/// Parses and evaluates `expression`, rendering the value, the failure
/// (`<error>: <cause>`) or the definition error.
fn render(expression: &str) -> String {
    let call = match Intrinsic::parse(expression) {
        Ok(call) => call,
        Err(message) => return format!("definition error: {message}"),
    };
    let (input, context, variables) = (input(), context(), variables());
    let scope = Scope::new(&input, &context, &variables);
    match call.eval(&scope, &mut SplitMix64(7)) {
        Ok(value) => value.to_string(),
        Err(failure) => format!("{}: {}", failure.error, failure.cause),
    }
}

fn check(expression: &str, expected: Expect) {
    expected.assert_eq(&render(expression));
}

fn value(expression: &str) -> Value {
    let rendered = render(expression);
    serde_json::from_str(&rendered).unwrap_or_else(|_| panic!("{expression}: {rendered}"))
}

// --- Recognising a call -------------------------------------------------

#[test]
fn call_is_recognised_by_its_states_prefix() {
    assert!(Intrinsic::looks_like_call("States.Array()"));
    assert!(Intrinsic::looks_like_call("  States.UUID()"));
    assert!(!Intrinsic::looks_like_call("$.States"));
    assert!(!Intrinsic::looks_like_call("states.Array()"));
}

#[test]
fn text_is_kept_as_written() {
    let call = Intrinsic::parse(" States.Array( 1 ,2 ) ").unwrap();
    assert_eq!(call.text(), " States.Array( 1 ,2 ) ");
}

// --- Grammar ------------------------------------------------------------

#[test]
fn unknown_function_is_a_definition_error() {
    check(
        "States.Nope(1)",
        expect!["definition error: unknown intrinsic function States.Nope at offset 0"],
    );
}

#[test]
fn function_names_are_case_sensitive() {
    check(
        "States.format('x')",
        expect!["definition error: unknown intrinsic function States.format at offset 0"],
    );
}

#[test]
fn missing_parenthesis_is_a_definition_error() {
    check(
        "States.UUID",
        expect!["definition error: expected '(' after States.UUID, found end of text at offset 11"],
    );
}

#[test]
fn unterminated_call_is_a_definition_error() {
    check(
        "States.Array(1, 2",
        expect!["definition error: unterminated call to States.Array: expected ')' at offset 17"],
    );
}

#[test]
fn trailing_text_after_the_call_is_a_definition_error() {
    check(
        "States.Array(1) x",
        expect!["definition error: unexpected 'x' after the end of the call at offset 16"],
    );
}

#[test]
fn trailing_comma_is_a_definition_error() {
    check("States.Array(1,)", expect!["definition error: expected an argument (a 'quoted string', a number, true, false, null, a path starting with '$' or an intrinsic function), found ')' at offset 15"]);
}

#[test]
fn bare_word_argument_is_a_definition_error() {
    check(
        "States.Array(foo)",
        expect!["definition error: unknown intrinsic function foo at offset 13"],
    );
}

#[test]
fn literal_arguments_of_every_kind() {
    check(
        "States.Array('a', 1, -2.5, 1e2, true, false, null)",
        expect![[r#"["a",1,-2.5,100.0,true,false,null]"#]],
    );
}

#[test]
fn invalid_number_is_a_definition_error() {
    check(
        "States.Array(1-2)",
        expect!["definition error: invalid number '1-2' at offset 13"],
    );
}

#[test]
fn more_than_ten_calls_in_a_field_is_a_definition_error() {
    let nested = format!("{}1{}", "States.Array(".repeat(11), ")".repeat(11));
    check(
        &nested,
        expect!["definition error: a field may use at most 10 intrinsic functions at offset 130"],
    );
    let ten = format!("{}1{}", "States.Array(".repeat(10), ")".repeat(10));
    assert_eq!(render(&ten), "[[[[[[[[[[1]]]]]]]]]]");
}

#[test]
fn the_nine_call_example_from_the_aws_guide_works() {
    // AWS's example has three placeholders for two values; with two it
    // is the nine-call field the guide means.
    check(
            "States.Format('{}.{}', \
             States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.recipe, '/'), 2), '.'), 0), \
             States.ArrayGetItem(States.StringSplit(States.ArrayGetItem(States.StringSplit($.recipe, '/'), 2), '.'), 1))",
            expect![[r#""1.0""#]],
        );
}

#[test]
fn calls_are_counted_across_the_whole_field_not_by_depth() {
    check(
            "States.Array(States.UUID(), States.UUID(), States.UUID(), States.UUID(), \
             States.UUID(), States.UUID(), States.UUID(), States.UUID(), States.UUID(), States.UUID())",
            expect!["definition error: a field may use at most 10 intrinsic functions at offset 148"],
        );
}

// --- String literals and escapes ----------------------------------------

#[test]
fn escaped_quote_stands_for_a_quote() {
    check(r"States.Array('it\'s')", expect![[r#"["it's"]"#]]);
}

#[test]
fn escaped_braces_stand_for_braces() {
    check(r"States.Array('\{\}')", expect![[r#"["{}"]"#]]);
}

#[test]
fn escaped_backslash_stands_for_a_backslash() {
    check(r"States.Array('a\\b')", expect![[r#"["a\\b"]"#]]);
}

#[test]
fn other_escapes_are_definition_errors() {
    check(
        r"States.Array('a\nb')",
        expect![[
            r#"definition error: invalid escape '\n' in a string literal; only \', \{, \} and \\ are allowed at offset 15"#
        ]],
    );
}

#[test]
fn backslash_at_the_end_is_an_unterminated_string() {
    check(
        r"States.Array('a\",
        expect!["definition error: unterminated string literal at offset 13"],
    );
}

#[test]
fn unescaped_open_brace_is_a_definition_error() {
    check(
        "States.Array('{x')",
        expect![[
            r#"definition error: unescaped '{' in a string literal; write '\{' for a brace or '{}' for a placeholder at offset 14"#
        ]],
    );
}

#[test]
fn unescaped_close_brace_is_a_definition_error() {
    check(
        "States.Array('x}')",
        expect![[
            r#"definition error: unescaped '}' in a string literal; write '\}' at offset 15"#
        ]],
    );
}

#[test]
fn unterminated_string_is_a_definition_error() {
    check(
        "States.Array('abc)",
        expect!["definition error: unterminated string literal at offset 13"],
    );
}

#[test]
fn placeholder_outside_format_is_plain_text() {
    check("States.Array('a{}b')", expect![[r#"["a{}b"]"#]]);
}

#[test]
fn string_literal_may_hold_commas_parentheses_and_non_ascii() {
    check("States.Array('a, (b) – é')", expect![[r#"["a, (b) – é"]"#]]);
}

// --- Path arguments -----------------------------------------------------

#[test]
fn path_argument_reads_the_state_data() {
    check(
        "States.Array($.name, $.object.foo, $.numbers[0])",
        expect![[r#"["Arnav","bar",1]"#]],
    );
}

#[test]
fn path_argument_reads_the_context_object() {
    check(
        "States.Array($$.Execution.Id, $$.State.Name)",
        expect![[r#"["arn:aws:states:execution:demo:1","Build"]"#]],
    );
}

#[test]
fn path_argument_reads_a_variable() {
    check("States.Array($greeting, $count)", expect![[r#"["hi",3]"#]]);
}

#[test]
fn whole_input_is_a_path_argument() {
    assert_eq!(value("States.ArrayLength(States.Array($))"), json!(1));
}

#[test]
fn path_with_brackets_and_commas_is_one_argument() {
    check(
        "States.Array($['name','text'], $.numbers[1,2])",
        expect![[r#"[{"name":"Arnav","text":"input data"},[2,3]]"#]],
    );
}

#[test]
fn path_with_a_filter_is_one_argument() {
    check("States.ArrayLength($.numbers[?(@ > 6)])", expect!["3"]);
}

#[test]
fn path_argument_with_no_match_is_a_runtime_failure_naming_the_path() {
    let rendered = render("States.Format('{}', $.missing)");
    assert!(rendered.starts_with("States.Runtime: The function 'States.Format('{}', $.missing)' had the following error: The JsonPath argument for the field '$.missing' could not be found in the input"), "{rendered}");
}

#[test]
fn undefined_variable_is_a_runtime_failure_naming_the_path() {
    let rendered = render("States.Array($nobody)");
    assert!(rendered.starts_with("States.Runtime: "), "{rendered}");
    assert!(rendered.contains("'$nobody'"), "{rendered}");
}

#[test]
fn invalid_path_is_a_definition_error() {
    check("States.Array($.a[)", expect!["definition error: invalid path '$.a[)': invalid path '$.a[)' at offset 4: expected a quoted name, an index, a slice, '*' or '?(' after '[', found ')' at offset 13"]);
}

// --- States.Format ------------------------------------------------------

#[test]
fn format_replaces_placeholders_in_order() {
    check(
        "States.Format('Hello, my name is {}.', $.name)",
        expect![[r#""Hello, my name is Arnav.""#]],
    );
}

#[test]
fn format_template_may_come_from_a_path() {
    check(
        "States.Format($.template, $.name)",
        expect![[r#""Hello, my name is Arnav.""#]],
    );
}

#[test]
fn format_without_placeholders_returns_the_template() {
    check("States.Format('plain')", expect![[r#""plain""#]]);
}

#[test]
fn format_keeps_escaped_braces_apart_from_placeholders() {
    check(
        r"States.Format('\{{}\}', $.name)",
        expect![[r#""{Arnav}""#]],
    );
}

#[test]
fn format_renders_non_strings() {
    check(
        "States.Format('{} {} {} {} {}', 1.5, true, null, $.object, States.Array(1, 'a'))",
        expect![[r#""1.5 true null {foo=bar} [1, a]""#]],
    );
}

#[test]
fn format_with_too_few_values_is_a_definition_error() {
    check("States.Format('{} and {}', 'a')", expect!["definition error: States.Format: the template has 2 placeholder(s) '{}' but 1 value(s) were given at offset 0"]);
}

#[test]
fn format_with_too_many_values_is_a_definition_error() {
    check("States.Format('{}', 'a', 'b')", expect!["definition error: States.Format: the template has 1 placeholder(s) '{}' but 2 value(s) were given at offset 0"]);
}

#[test]
fn format_with_a_path_template_and_wrong_count_fails_at_runtime() {
    check("States.Format($.template)", expect!["States.IntrinsicFailure: The function 'States.Format($.template)' had the following error: States.Format: the template has 1 placeholder(s) '{}' but 0 value(s) were given"]);
}

#[test]
fn format_needs_a_template() {
    check(
        "States.Format()",
        expect!["definition error: States.Format takes at least 1 argument, got 0 at offset 0"],
    );
}

#[test]
fn format_template_must_be_a_string() {
    check("States.Format(1)", expect!["definition error: States.Format argument 1 must be a string, got a number: 1 at offset 0"]);
    check("States.Format($.numbers)", expect!["States.IntrinsicFailure: The function 'States.Format($.numbers)' had the following error: States.Format: argument 1 must be a string, got an array: [1,2,3,4,5,6,7,8,9]"]);
}

// --- States.StringToJson / States.JsonToString ---------------------------

#[test]
fn string_to_json_parses_the_string() {
    check(
        "States.StringToJson($.escaped)",
        expect![[r#"{"foo":"bar"}"#]],
    );
}

#[test]
fn string_to_json_accepts_a_literal() {
    check("States.StringToJson('[1, 2]')", expect!["[1,2]"]);
}

#[test]
fn string_to_json_rejects_invalid_json() {
    check(
        "States.StringToJson($.notJson)",
        expect![[
            r#"States.IntrinsicFailure: The function 'States.StringToJson($.notJson)' had the following error: States.StringToJson: the string is not valid JSON (key must be a string at line 1 column 2): "{foo""#
        ]],
    );
}

#[test]
fn string_to_json_rejects_a_non_string() {
    check(
        "States.StringToJson($.object)",
        expect![[
            r#"States.IntrinsicFailure: The function 'States.StringToJson($.object)' had the following error: States.StringToJson: argument 1 must be a string, got a JSON object: {"foo":"bar"}"#
        ]],
    );
}

#[test]
fn json_to_string_serialises_compactly() {
    check(
        "States.JsonToString($.object)",
        expect![[r#""{\"foo\":\"bar\"}""#]],
    );
}

#[test]
fn json_to_string_accepts_a_nested_call() {
    check(
        "States.JsonToString(States.Array(1, 'a'))",
        expect![[r#""[1,\"a\"]""#]],
    );
}

#[test]
fn json_to_string_rejects_a_literal() {
    check("States.JsonToString('x')", expect!["definition error: States.JsonToString takes a path (or an intrinsic function), not a literal at offset 0"]);
}

#[test]
fn json_to_string_takes_one_argument() {
    check(
        "States.JsonToString($.a, $.b)",
        expect!["definition error: States.JsonToString takes 1 argument, got 2 at offset 0"],
    );
}

#[test]
fn string_to_json_undoes_json_to_string() {
    assert_eq!(
        value("States.StringToJson(States.JsonToString($.json1))"),
        input()["json1"]
    );
}

// --- States.Array -------------------------------------------------------

#[test]
fn array_without_arguments_is_empty() {
    check("States.Array()", expect!["[]"]);
}

#[test]
fn array_keeps_argument_order() {
    check(
        "States.Array($.start, 'x', $.end)",
        expect![[r#"[1,"x",999]"#]],
    );
}

// --- States.ArrayPartition ----------------------------------------------

#[test]
fn array_partition_chunks_with_a_short_last_chunk() {
    check(
        "States.ArrayPartition($.numbers, 4)",
        expect!["[[1,2,3,4],[5,6,7,8],[9]]"],
    );
}

#[test]
fn array_partition_of_an_empty_array_is_empty() {
    check("States.ArrayPartition(States.Array(), 2)", expect!["[]"]);
}

#[test]
fn array_partition_chunk_larger_than_the_array() {
    check(
        "States.ArrayPartition($.numbers, 100)",
        expect!["[[1,2,3,4,5,6,7,8,9]]"],
    );
}

#[test]
fn array_partition_rejects_a_zero_chunk_size() {
    check("States.ArrayPartition($.numbers, 0)", expect!["definition error: States.ArrayPartition: the chunk size must be a positive integer, got 0 at offset 0"]);
    check("States.ArrayPartition($.numbers, $.zero)", expect!["States.IntrinsicFailure: The function 'States.ArrayPartition($.numbers, $.zero)' had the following error: States.ArrayPartition: the chunk size must be a positive integer, got 0"]);
}

#[test]
fn array_partition_rejects_a_negative_chunk_size() {
    check("States.ArrayPartition($.numbers, -2)", expect!["definition error: States.ArrayPartition: the chunk size must be a positive integer, got -2 at offset 0"]);
}

#[test]
fn array_partition_rejects_a_fractional_chunk_size() {
    check("States.ArrayPartition($.numbers, $.half)", expect!["States.IntrinsicFailure: The function 'States.ArrayPartition($.numbers, $.half)' had the following error: States.ArrayPartition: argument 2 must be an integer, got a number: 2.5"]);
}

#[test]
fn array_partition_rejects_a_non_array() {
    check(
        "States.ArrayPartition($.name, 2)",
        expect![[
            r#"States.IntrinsicFailure: The function 'States.ArrayPartition($.name, 2)' had the following error: States.ArrayPartition: argument 1 must be an array, got a string: "Arnav""#
        ]],
    );
    check(
        "States.ArrayPartition('abc', 2)",
        expect![[
            r#"definition error: States.ArrayPartition argument 1 must be an array, got a string: "abc" at offset 0"#
        ]],
    );
}

// --- States.ArrayContains -----------------------------------------------

#[test]
fn array_contains_finds_a_value() {
    check("States.ArrayContains($.numbers, 5)", expect!["true"]);
}

#[test]
fn array_contains_compares_by_json_value() {
    check(
            "States.Array(States.ArrayContains($.dupes, $.json1), States.ArrayContains($.dupes, States.StringToJson('\\{\"a\":1\\}')), States.ArrayContains($.dupes, '1'))",
            expect!["[false,true,true]"],
        );
}

#[test]
fn array_contains_does_not_coerce_types() {
    check("States.ArrayContains($.numbers, '5')", expect!["false"]);
}

#[test]
fn array_contains_rejects_a_non_array() {
    check(
        "States.ArrayContains($.object, 'foo')",
        expect![[
            r#"States.IntrinsicFailure: The function 'States.ArrayContains($.object, 'foo')' had the following error: States.ArrayContains: argument 1 must be an array, got a JSON object: {"foo":"bar"}"#
        ]],
    );
}

// --- States.ArrayRange --------------------------------------------------

#[test]
fn array_range_counts_up_inclusively() {
    check("States.ArrayRange(1, 9, 2)", expect!["[1,3,5,7,9]"]);
}

#[test]
fn array_range_counts_down_with_a_negative_step() {
    check("States.ArrayRange(5, 1, -2)", expect!["[5,3,1]"]);
}

#[test]
fn array_range_stops_before_passing_the_end() {
    check("States.ArrayRange(0, 10, 4)", expect!["[0,4,8]"]);
}

#[test]
fn array_range_with_a_step_away_from_the_end_is_empty() {
    check("States.ArrayRange(1, 5, -1)", expect!["[]"]);
}

#[test]
fn array_range_rejects_a_zero_step() {
    check(
        "States.ArrayRange(1, 5, 0)",
        expect![
            "definition error: States.ArrayRange: the step (argument 3) must not be 0 at offset 0"
        ],
    );
    check("States.ArrayRange(1, 5, $.zero)", expect!["States.IntrinsicFailure: The function 'States.ArrayRange(1, 5, $.zero)' had the following error: States.ArrayRange: the step (argument 3) must not be 0"]);
}

#[test]
fn array_range_allows_exactly_1000_items() {
    assert_eq!(
        value("States.ArrayLength(States.ArrayRange(1, 1000, 1))"),
        json!(1000)
    );
}

#[test]
fn array_range_over_1000_items_fails() {
    check("States.ArrayRange(0, 1000, 1)", expect!["definition error: States.ArrayRange: the range would hold 1001 items; an array may hold at most 1000 at offset 0"]);
    check("States.ArrayRange(1, $.big, 1)", expect!["States.IntrinsicFailure: The function 'States.ArrayRange(1, $.big, 1)' had the following error: States.ArrayRange: the range would hold 1001 items; an array may hold at most 1000"]);
}

#[test]
fn array_range_with_extreme_bounds_fails_without_overflow() {
    check(
            "States.ArrayRange(-9223372036854775808, 9223372036854775807, 1)",
            expect!["definition error: States.ArrayRange: the range would hold 18446744073709551616 items; an array may hold at most 1000 at offset 0"],
        );
}

#[test]
fn array_range_rejects_fractions() {
    check("States.ArrayRange(1, 2.5, 1)", expect!["definition error: States.ArrayRange argument 2 must be an integer, got a number: 2.5 at offset 0"]);
    check("States.ArrayRange(1, $.half, 1)", expect!["States.IntrinsicFailure: The function 'States.ArrayRange(1, $.half, 1)' had the following error: States.ArrayRange: argument 2 must be an integer, got a number: 2.5"]);
}

#[test]
fn array_range_accepts_whole_floats() {
    check("States.ArrayRange(1.0, 3, 1)", expect!["[1,2,3]"]);
}

#[test]
fn array_range_takes_three_arguments() {
    check(
        "States.ArrayRange(1, 2)",
        expect!["definition error: States.ArrayRange takes 3 arguments, got 2 at offset 0"],
    );
}

// --- States.ArrayGetItem ------------------------------------------------

#[test]
fn array_get_item_returns_the_item() {
    check("States.ArrayGetItem($.numbers, 5)", expect!["6"]);
}

#[test]
fn array_get_item_index_may_come_from_a_nested_call() {
    check(
        "States.ArrayGetItem($.numbers, States.MathAdd(States.ArrayLength($.numbers), -1))",
        expect!["9"],
    );
}

#[test]
fn array_get_item_out_of_bounds_fails() {
    check("States.ArrayGetItem($.numbers, 9)", expect!["States.IntrinsicFailure: The function 'States.ArrayGetItem($.numbers, 9)' had the following error: States.ArrayGetItem: index 9 is out of bounds for an array of length 9"]);
}

#[test]
fn array_get_item_rejects_a_negative_index() {
    check("States.ArrayGetItem($.numbers, -1)", expect!["definition error: States.ArrayGetItem: the index must not be negative, got -1 at offset 0"]);
    check("States.ArrayGetItem($.numbers, $.negative)", expect!["States.IntrinsicFailure: The function 'States.ArrayGetItem($.numbers, $.negative)' had the following error: States.ArrayGetItem: index -1 is out of bounds for an array of length 9"]);
}

#[test]
fn array_get_item_rejects_a_string_index() {
    check(
        "States.ArrayGetItem($.numbers, '1')",
        expect![[
            r#"definition error: States.ArrayGetItem argument 2 must be an integer, got a string: "1" at offset 0"#
        ]],
    );
}

#[test]
fn array_get_item_rejects_a_nested_call_of_the_wrong_type() {
    check("States.ArrayGetItem($.numbers, States.UUID())", expect!["definition error: States.ArrayGetItem argument 2 must be an integer, but States.UUID returns a string at offset 0"]);
}

// --- States.ArrayLength / States.ArrayUnique ----------------------------

#[test]
fn array_length_counts_items() {
    check("States.ArrayLength($.numbers)", expect!["9"]);
    check("States.ArrayLength(States.Array())", expect!["0"]);
}

#[test]
fn array_length_rejects_a_non_array() {
    check(
        "States.ArrayLength($.object)",
        expect![[
            r#"States.IntrinsicFailure: The function 'States.ArrayLength($.object)' had the following error: States.ArrayLength: argument 1 must be an array, got a JSON object: {"foo":"bar"}"#
        ]],
    );
}

#[test]
fn array_unique_keeps_first_occurrences_in_order() {
    check(
        "States.ArrayUnique($.dupes)",
        expect![[r#"[1,2,3,{"a":1},"1"]"#]],
    );
}

#[test]
fn array_unique_rejects_a_non_array() {
    check(
        "States.ArrayUnique($.name)",
        expect![[
            r#"States.IntrinsicFailure: The function 'States.ArrayUnique($.name)' had the following error: States.ArrayUnique: argument 1 must be an array, got a string: "Arnav""#
        ]],
    );
}

// --- States.Base64Encode / States.Base64Decode ---------------------------

#[test]
fn base64_encode_encodes_utf8() {
    check(
        "States.Base64Encode('Data to encode')",
        expect![[r#""RGF0YSB0byBlbmNvZGU=""#]],
    );
}

#[test]
fn base64_decode_decodes() {
    check(
        "States.Base64Decode($.encoded)",
        expect![[r#""Data to encode""#]],
    );
}

#[test]
fn base64_round_trips_non_ascii() {
    assert_eq!(
        value("States.Base64Decode(States.Base64Encode('héllo ✓'))"),
        json!("héllo ✓")
    );
}

#[test]
fn base64_decode_rejects_invalid_base64() {
    check("States.Base64Decode('not base64!')", expect!["definition error: States.Base64Decode: the input is not valid base64 (Invalid symbol 32, offset 3.) at offset 0"]);
}

#[test]
fn base64_decode_rejects_bytes_that_are_not_utf8() {
    check("States.Base64Decode($.latin1)", expect!["States.IntrinsicFailure: The function 'States.Base64Decode($.latin1)' had the following error: States.Base64Decode: the decoded data is not UTF-8 text"]);
}

#[test]
fn base64_rejects_non_strings() {
    check("States.Base64Encode(1)", expect!["definition error: States.Base64Encode argument 1 must be a string, got a number: 1 at offset 0"]);
    check(
        "States.Base64Decode($.object)",
        expect![[
            r#"States.IntrinsicFailure: The function 'States.Base64Decode($.object)' had the following error: States.Base64Decode: argument 1 must be a string, got a JSON object: {"foo":"bar"}"#
        ]],
    );
}

#[test]
fn base64_input_is_limited_to_10000_characters() {
    check("States.Base64Encode($.long)", expect!["States.IntrinsicFailure: The function 'States.Base64Encode($.long)' had the following error: States.Base64Encode: the input holds 10001 characters; at most 10000 are allowed"]);
    check("States.Base64Decode($.long)", expect!["States.IntrinsicFailure: The function 'States.Base64Decode($.long)' had the following error: States.Base64Decode: the input holds 10001 characters; at most 10000 are allowed"]);
    assert!(value("States.Base64Encode($.exactlyLong)").is_string());
}

// --- States.Hash --------------------------------------------------------

#[test]
fn hash_gives_known_digests() {
    let cases = [
            ("MD5", "812f45842bc6d66ee14572ce20db8e86"),
            ("SHA-1", "aaff4a450a104cd177d28d18d74485e8cae074b7"),
            (
                "SHA-256",
                "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3",
            ),
            (
                "SHA-384",
                "d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e9374a15562",
            ),
            (
                "SHA-512",
                "6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf2954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4",
            ),
        ];
    for (algorithm, digest) in cases {
        assert_eq!(
            value(&format!("States.Hash($.text, '{algorithm}')")),
            json!(digest),
            "{algorithm}"
        );
    }
}

#[test]
fn hash_algorithm_may_come_from_a_path() {
    check(
        "States.Hash($.text, $.algorithm)",
        expect![[r#""aaff4a450a104cd177d28d18d74485e8cae074b7""#]],
    );
}

#[test]
fn hash_rejects_an_unknown_literal_algorithm_at_definition() {
    check(
        "States.Hash('x', 'SHA-2')",
        expect![[
            r#"definition error: States.Hash: unsupported hash algorithm "SHA-2"; use one of MD5, SHA-1, SHA-256, SHA-384, SHA-512 at offset 0"#
        ]],
    );
}

#[test]
fn hash_algorithm_names_are_case_sensitive() {
    check(
        "States.Hash($.text, 'sha-256')",
        expect![[
            r#"definition error: States.Hash: unsupported hash algorithm "sha-256"; use one of MD5, SHA-1, SHA-256, SHA-384, SHA-512 at offset 0"#
        ]],
    );
}

#[test]
fn hash_rejects_an_unknown_algorithm_from_a_path() {
    check(
        "States.Hash($.text, $.badAlgorithm)",
        expect![[
            r#"States.IntrinsicFailure: The function 'States.Hash($.text, $.badAlgorithm)' had the following error: States.Hash: unsupported hash algorithm "SHA-2"; use one of MD5, SHA-1, SHA-256, SHA-384, SHA-512"#
        ]],
    );
}

#[test]
fn hash_rejects_non_string_data() {
    check(
        "States.Hash($.object, 'MD5')",
        expect![[
            r#"States.IntrinsicFailure: The function 'States.Hash($.object, 'MD5')' had the following error: States.Hash: argument 1 must be a string, got a JSON object: {"foo":"bar"}"#
        ]],
    );
}

#[test]
fn hash_input_is_limited_to_10000_characters() {
    check("States.Hash($.long, 'MD5')", expect!["States.IntrinsicFailure: The function 'States.Hash($.long, 'MD5')' had the following error: States.Hash: the input holds 10001 characters; at most 10000 are allowed"]);
}

// --- States.JsonMerge ---------------------------------------------------

#[test]
fn json_merge_is_shallow_and_the_second_object_wins() {
    check(
        "States.JsonMerge($.json1, $.json2, false)",
        expect![[r#"{"a":{"a3":1,"a4":2},"b":2,"c":3}"#]],
    );
}

#[test]
fn json_merge_deep_is_rejected_at_definition() {
    check("States.JsonMerge($.json1, $.json2, true)", expect!["definition error: States.JsonMerge: Step Functions supports only the shallow merge mode, so the third argument must be false at offset 0"]);
}

#[test]
fn json_merge_deep_from_a_nested_call_is_rejected_at_runtime() {
    check(
            "States.JsonMerge($.json1, $.json2, States.ArrayContains($.numbers, 1))",
            expect!["States.IntrinsicFailure: The function 'States.JsonMerge($.json1, $.json2, States.ArrayContains($.numbers, 1))' had the following error: States.JsonMerge: Step Functions supports only the shallow merge mode, so the third argument must be false"],
        );
}

#[test]
fn json_merge_rejects_non_objects() {
    check("States.JsonMerge($.numbers, $.json2, false)", expect!["States.IntrinsicFailure: The function 'States.JsonMerge($.numbers, $.json2, false)' had the following error: States.JsonMerge: argument 1 must be a JSON object, got an array: [1,2,3,4,5,6,7,8,9]"]);
    check(
        "States.JsonMerge($.json1, $.name, false)",
        expect![[
            r#"States.IntrinsicFailure: The function 'States.JsonMerge($.json1, $.name, false)' had the following error: States.JsonMerge: argument 2 must be a JSON object, got a string: "Arnav""#
        ]],
    );
}

#[test]
fn json_merge_third_argument_must_be_a_boolean() {
    check(
        "States.JsonMerge($.json1, $.json2, 'false')",
        expect![[
            r#"definition error: States.JsonMerge argument 3 must be a boolean, got a string: "false" at offset 0"#
        ]],
    );
}

#[test]
fn json_merge_takes_three_arguments() {
    check(
        "States.JsonMerge($.json1, $.json2)",
        expect!["definition error: States.JsonMerge takes 3 arguments, got 2 at offset 0"],
    );
}

// --- States.MathRandom --------------------------------------------------

#[test]
fn math_random_is_within_start_inclusive_end_exclusive() {
    let (input, context, variables) = (input(), context(), variables());
    let scope = Scope::new(&input, &context, &variables);
    let call = Intrinsic::parse("States.MathRandom(1, 4)").unwrap();
    let mut entropy = SplitMix64(1);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..200 {
        let drawn = call.eval(&scope, &mut entropy).unwrap().as_i64().unwrap();
        assert!((1..4).contains(&drawn), "{drawn}");
        seen.insert(drawn);
    }
    assert_eq!(seen.len(), 3);
}

#[test]
fn math_random_with_a_seed_is_deterministic() {
    let (input, context, variables) = (input(), context(), variables());
    let scope = Scope::new(&input, &context, &variables);
    let call = Intrinsic::parse("States.MathRandom($.start, $.end, 42)").unwrap();
    let first = call.eval(&scope, &mut SplitMix64(1)).unwrap();
    let second = call.eval(&scope, &mut SplitMix64(2)).unwrap();
    assert_eq!(first, second);
    let other_seed = Intrinsic::parse("States.MathRandom($.start, $.end, 43)").unwrap();
    assert_ne!(first, other_seed.eval(&scope, &mut SplitMix64(1)).unwrap());
}

#[test]
fn math_random_without_a_seed_draws_from_the_entropy() {
    let (input, context, variables) = (input(), context(), variables());
    let scope = Scope::new(&input, &context, &variables);
    let call = Intrinsic::parse("States.MathRandom(0, 1000000)").unwrap();
    let a = call.eval(&scope, &mut SplitMix64(1)).unwrap();
    let b = call.eval(&scope, &mut SplitMix64(1)).unwrap();
    let c = call.eval(&scope, &mut SplitMix64(2)).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn math_random_rounds_fractional_bounds() {
    // 0.5 rounds up to 1 and 2.4 down to 2, so only 1 can be drawn.
    check("States.MathRandom(0.5, 2.4)", expect!["1"]);
}

#[test]
fn math_random_rejects_an_empty_range() {
    check("States.MathRandom(5, 5)", expect!["definition error: States.MathRandom: the start (5) must be less than the end (5), which is exclusive at offset 0"]);
    check("States.MathRandom($.end, $.start)", expect!["States.IntrinsicFailure: The function 'States.MathRandom($.end, $.start)' had the following error: States.MathRandom: the start (999) must be less than the end (1), which is exclusive"]);
}

#[test]
fn math_random_rejects_bounds_beyond_java_int() {
    check("States.MathRandom(0, 2147483648)", expect!["definition error: States.MathRandom: the end must be an integer from -2147483648 to 2147483647, got 2147483648 at offset 0"]);
}

#[test]
fn math_random_rejects_a_fractional_seed() {
    check("States.MathRandom(1, 10, 1.5)", expect!["definition error: States.MathRandom argument 3 must be an integer, got a number: 1.5 at offset 0"]);
}

#[test]
fn math_random_rejects_non_numbers() {
    check(
        "States.MathRandom('1', 10)",
        expect![[
            r#"definition error: States.MathRandom argument 1 must be a number, got a string: "1" at offset 0"#
        ]],
    );
    check(
        "States.MathRandom($.name, 10)",
        expect![[
            r#"States.IntrinsicFailure: The function 'States.MathRandom($.name, 10)' had the following error: States.MathRandom: argument 1 must be a number, got a string: "Arnav""#
        ]],
    );
}

#[test]
fn math_random_takes_two_or_three_arguments() {
    check(
        "States.MathRandom(1)",
        expect!["definition error: States.MathRandom takes 2 or 3 arguments, got 1 at offset 0"],
    );
    check(
        "States.MathRandom(1, 2, 3, 4)",
        expect!["definition error: States.MathRandom takes 2 or 3 arguments, got 4 at offset 0"],
    );
}

// --- States.MathAdd -----------------------------------------------------

#[test]
fn math_add_adds() {
    check("States.MathAdd($.start, $.end)", expect!["1000"]);
    check("States.MathAdd(111, -1)", expect!["110"]);
}

#[test]
fn math_add_rounds_fractions_half_up() {
    check("States.MathAdd(1.5, 2.4)", expect!["4"]);
    check("States.MathAdd(-1.5, 0)", expect!["-1"]);
}

#[test]
fn math_add_uses_a_variable_and_a_context_path() {
    check(
        "States.MathAdd($count, States.ArrayLength(States.Array($$.State.Name)))",
        expect!["4"],
    );
}

#[test]
fn math_add_rejects_values_beyond_java_int() {
    check("States.MathAdd(2147483648, 0)", expect!["definition error: States.MathAdd: the first argument must be an integer from -2147483648 to 2147483647, got 2147483648 at offset 0"]);
}

#[test]
fn math_add_rejects_non_numbers() {
    check(
        "States.MathAdd('1', 2)",
        expect![[
            r#"definition error: States.MathAdd argument 1 must be a number, got a string: "1" at offset 0"#
        ]],
    );
    check(
        "States.MathAdd($.object, 2)",
        expect![[
            r#"States.IntrinsicFailure: The function 'States.MathAdd($.object, 2)' had the following error: States.MathAdd: argument 1 must be a number, got a JSON object: {"foo":"bar"}"#
        ]],
    );
}

// --- States.StringSplit -------------------------------------------------

#[test]
fn string_split_on_one_delimiter() {
    check(
        "States.StringSplit($.csv, ',')",
        expect![[r#"["1","2","3","4","5"]"#]],
    );
}

#[test]
fn string_split_on_each_delimiter_character() {
    check(
        "States.StringSplit('This.is+a,test=string', '.+,=')",
        expect![[r#"["This","is","a","test","string"]"#]],
    );
}

#[test]
fn string_split_drops_empty_pieces() {
    check(
        "States.StringSplit(',a,,b,', ',')",
        expect![[r#"["a","b"]"#]],
    );
}

#[test]
fn string_split_without_a_delimiter_in_the_text_returns_the_text() {
    check("States.StringSplit('abc', ';')", expect![[r#"["abc"]"#]]);
}

#[test]
fn string_split_rejects_non_strings() {
    check("States.StringSplit($.numbers, ',')", expect!["States.IntrinsicFailure: The function 'States.StringSplit($.numbers, ',')' had the following error: States.StringSplit: argument 1 must be a string, got an array: [1,2,3,4,5,6,7,8,9]"]);
    check("States.StringSplit('a', 1)", expect!["definition error: States.StringSplit argument 2 must be a string, got a number: 1 at offset 0"]);
}

// --- States.UUID --------------------------------------------------------

#[test]
fn uuid_is_a_version_4_uuid() {
    let uuid = value("States.UUID()");
    let uuid = uuid.as_str().unwrap();
    assert_eq!(uuid.len(), 36);
    let parts: Vec<&str> = uuid.split('-').collect();
    assert_eq!(
        parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12]
    );
    assert!(parts[2].starts_with('4'));
    assert!(matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
    assert!(uuid
        .bytes()
        .all(|b| b == b'-' || b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
}

#[test]
fn uuid_comes_from_the_entropy() {
    let (input, context, variables) = (input(), context(), variables());
    let scope = Scope::new(&input, &context, &variables);
    let call = Intrinsic::parse("States.UUID()").unwrap();
    let mut entropy = SplitMix64(9);
    let first = call.eval(&scope, &mut entropy).unwrap();
    let second = call.eval(&scope, &mut entropy).unwrap();
    assert_ne!(first, second);
    assert_eq!(first, call.eval(&scope, &mut SplitMix64(9)).unwrap());
}

#[test]
fn uuid_takes_no_arguments() {
    check(
        "States.UUID(1)",
        expect!["definition error: States.UUID takes no arguments, got 1 at offset 0"],
    );
}

// --- Nested calls -------------------------------------------------------

#[test]
fn nested_calls_feed_their_results_outwards() {
    check(
        "States.Format('{} has {} items', $.name, States.ArrayLength(States.ArrayUnique($.dupes)))",
        expect![[r#""Arnav has 5 items""#]],
    );
}

#[test]
fn nested_call_returning_the_wrong_type_is_a_definition_error() {
    check("States.ArrayLength(States.Format('x'))", expect!["definition error: States.ArrayLength argument 1 must be an array, but States.Format returns a string at offset 0"]);
}

#[test]
fn failure_in_a_nested_call_names_the_whole_expression() {
    check(
            "States.Array(States.ArrayGetItem($.numbers, $.big))",
            expect!["States.IntrinsicFailure: The function 'States.Array(States.ArrayGetItem($.numbers, $.big))' had the following error: States.ArrayGetItem: index 1001 is out of bounds for an array of length 9"],
        );
}

// --- No panics ----------------------------------------------------------

fn eval_quietly(call: &Intrinsic) {
    let (input, context, variables) = (input(), context(), variables());
    let scope = Scope::new(&input, &context, &variables);
    let _ = call.eval(&scope, &mut SplitMix64(3));
}

fn function_name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(Function::ALL.map(Function::name).to_vec())
}

proptest! {
    #[test]
    fn parse_never_panics_on_any_text(text in any::<String>()) {
        let _ = Intrinsic::parse(&text);
    }

    #[test]
    fn grammar_shaped_text_parses_and_evaluates_without_panic(
        text in "States\\.[A-Za-z]{0,12}\\(([$'a-z0-9., {}\\\\()-]){0,30}\\)"
    ) {
        if let Ok(call) = Intrinsic::parse(&text) {
            eval_quietly(&call);
        }
    }

    #[test]
    fn calls_to_real_functions_parse_and_evaluate_without_panic(
        name in function_name(),
        args in "([$'a-z0-9., {}\\\\()\\[\\]@?<>=-]|\\$\\.numbers|\\$\\.name|\\$\\.object|States\\.Array\\(|true|null){0,12}",
    ) {
        if let Ok(call) = Intrinsic::parse(&format!("{name}({args})")) {
            eval_quietly(&call);
        }
    }

    #[test]
    fn ranges_never_exceed_1000_items(first in -5000i64..5000, last in -5000i64..5000, step in -50i64..50) {
        if let Ok(call) = Intrinsic::parse(&format!("States.ArrayRange({first}, {last}, {step})")) {
            let (input, context, variables) = (input(), context(), variables());
            let scope = Scope::new(&input, &context, &variables);
            let items = call.eval(&scope, &mut SplitMix64(0)).unwrap();
            prop_assert!(items.as_array().unwrap().len() <= 1000);
        }
    }
}
