//! The type of a JSON value, and the words error messages use for it. Every
//! message in the crate (and the engine's) that names what it found asks
//! here, so a type is named one way in each style and nowhere else.
//!
//! This module only names types: it must not build messages, which stay with
//! the code that reports them, nor judge whether a type is acceptable.

use serde_json::Value;

/// One of the six types a JSON value can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    Null,
    Boolean,
    Number,
    String,
    Array,
    Object,
}

impl JsonType {
    pub fn of(value: &Value) -> JsonType {
        match value {
            Value::Null => JsonType::Null,
            Value::Bool(_) => JsonType::Boolean,
            Value::Number(_) => JsonType::Number,
            Value::String(_) => JsonType::String,
            Value::Array(_) => JsonType::Array,
            Value::Object(_) => JsonType::Object,
        }
    }

    /// The bare name, as Jayway JsonPath quotes it: `but found 'boolean'`.
    pub fn name(self) -> &'static str {
        match self {
            JsonType::Null => "null",
            JsonType::Boolean => "boolean",
            JsonType::Number => "number",
            JsonType::String => "string",
            JsonType::Array => "array",
            JsonType::Object => "object",
        }
    }

    /// The name with its article, for prose: "a boolean", "an object";
    /// `null` is a value rather than a kind of one, so it stays "null".
    pub fn with_article(self) -> &'static str {
        match self {
            JsonType::Null => "null",
            JsonType::Boolean => "a boolean",
            JsonType::Number => "a number",
            JsonType::String => "a string",
            JsonType::Array => "an array",
            JsonType::Object => "an object",
        }
    }

    /// As [`JsonType::with_article`], but an object is "a JSON object", the
    /// wording of intrinsic-function errors.
    pub fn in_intrinsic_errors(self) -> &'static str {
        // Apart from with_article only because the intrinsic tests pin "got a JSON object".
        match self {
            JsonType::Object => "a JSON object",
            other => other.with_article(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;
    use serde_json::json;

    /// One row per JSON kind, from a value of that kind: the type `of` finds,
    /// then its bare name, its name with an article and its intrinsic wording.
    #[test]
    fn every_json_type_is_named_in_each_style() {
        let values = [
            json!(null),
            json!(true),
            json!(1.5),
            json!("text"),
            json!([1]),
            json!({"a": 1}),
        ];
        let table: String = values
            .iter()
            .map(|value| {
                let kind = JsonType::of(value);
                format!(
                    "{:<10} {:<8} | {:<8} | {:<10} | {}\n",
                    value.to_string(),
                    format!("{kind:?}"),
                    kind.name(),
                    kind.with_article(),
                    kind.in_intrinsic_errors(),
                )
            })
            .collect();
        expect![[r#"
            null       Null     | null     | null       | null
            true       Boolean  | boolean  | a boolean  | a boolean
            1.5        Number   | number   | a number   | a number
            "text"     String   | string   | a string   | a string
            [1]        Array    | array    | an array   | an array
            {"a":1}    Object   | object   | an object  | a JSON object
        "#]]
        .assert_eq(&table);
    }
}
