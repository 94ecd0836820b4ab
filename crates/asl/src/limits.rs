//! Step Functions' limits on the JSON an execution carries, and reading
//! JSON text within them: a payload (a state's input or output, a task's
//! result, an execution's input or output) is at most 256 KiB of text
//! (AWS's quota), and nests at most [`MAX_NESTING_DEPTH`] arrays and
//! objects (the embedded engine's own limit, see there). This module only
//! measures and parses; what a value over a limit means (an API error, a
//! `States.DataLimitExceeded`) is decided by whoever asked.

use serde::de::{DeserializeOwned, Error as _};
use serde_json::Value;

/// The largest input or output a state, task or execution may have: 256
/// KiB of UTF-8 JSON text
/// (<https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html>,
/// "Maximum input or output size for a task, state, or execution").
pub const MAX_PAYLOAD_BYTES: usize = 262_144;

/// How deeply a payload may nest arrays and objects in the embedded engine.
/// AWS documents no depth limit besides the payload size, which allows
/// some 130,000 levels; but copying, writing, reading and dropping a
/// `serde_json::Value` recurse once per level, a few KiB of stack each in a
/// debug build, so the engine holds payloads to a depth its 2 MiB threads
/// can always walk. It is twice what serde_json reads by default (128).
pub const MAX_NESTING_DEPTH: usize = 256;

/// The size of `value` as compact JSON text, in bytes, counted without
/// building the text; it stops counting once past [`MAX_PAYLOAD_BYTES`].
/// Ask [`nests_deeper_than`] first: writing recurses once per level.
pub fn payload_size(value: &Value) -> usize {
    /// Counts bytes and refuses more once past the limit, so a huge value
    /// is not walked to its end only to be refused.
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            if self.0 > MAX_PAYLOAD_BYTES {
                return Err(std::io::Error::other("over the payload limit"));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // The only error is the counter's own refusal; the count says so.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

/// Whether `value` fits Step Functions' payload limit.
pub fn fits_payload_limit(value: &Value) -> bool {
    payload_size(value) <= MAX_PAYLOAD_BYTES
}

/// Whether `value` nests more than `limit` arrays and objects in each
/// other. Iterative, so any depth is safe to ask about; it stops at the
/// first branch past the limit.
pub fn nests_deeper_than(value: &Value, limit: usize) -> bool {
    let mut pending = vec![(value, 1usize)];
    while let Some((value, depth)) = pending.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(fields) => Box::new(fields.values()),
            _ => continue,
        };
        if depth > limit {
            return true;
        }
        pending.extend(children.map(|child| (child, depth + 1)));
    }
    false
}

/// How deeply JSON text nests arrays and objects, read byte by byte (so
/// without recursion), strings skipped. Text that is not JSON gets some
/// answer; the parser that follows reports what is wrong with it.
pub fn text_depth(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut in_string = false;
    let mut escaped = false;
    for byte in text.bytes() {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Parses JSON text nested at most [`MAX_NESTING_DEPTH`] deep (serde_json
/// alone stops at 128). Deeper text is an error that says so.
pub fn parse_json<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    let depth = text_depth(text);
    if depth > MAX_NESTING_DEPTH {
        return Err(serde_json::Error::custom(format!(
            "the JSON nests {depth} arrays and objects deep; at most {MAX_NESTING_DEPTH} are allowed"
        )));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    // The depth was checked above, so recursing is bounded.
    de.disable_recursion_limit();
    let value = T::deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn payload_size_counts_json_bytes_and_stops_past_the_limit() {
        assert_eq!(payload_size(&json!({"a": "é"})), 10);
        let big = Value::String("x".repeat(MAX_PAYLOAD_BYTES));
        assert!(!fits_payload_limit(&big));
        let exact = Value::String("x".repeat(MAX_PAYLOAD_BYTES - 2));
        assert!(fits_payload_limit(&exact));
    }

    fn nested(depth: usize) -> String {
        format!(
            "{}1{}",
            "{\"a\":[".repeat(depth / 2),
            "]}".repeat(depth / 2)
        )
    }

    #[test]
    fn text_depth_skips_strings() {
        assert_eq!(text_depth(r#"{"a": "[[[{{", "b": [[1]]}"#), 3);
        assert_eq!(text_depth(r#"["\"[" , {}]"#), 2);
        assert_eq!(text_depth(&nested(200)), 200);
    }

    #[test]
    fn parse_json_reads_past_serde_json_s_default_up_to_the_limit() {
        let value: Value = parse_json(&nested(MAX_NESTING_DEPTH)).unwrap();
        assert!(!nests_deeper_than(&value, MAX_NESTING_DEPTH));
        assert!(nests_deeper_than(&value, MAX_NESTING_DEPTH - 1));
        let err = parse_json::<Value>(&nested(MAX_NESTING_DEPTH + 2)).unwrap_err();
        assert!(err.to_string().contains("at most 256"), "{err}");
        assert!(parse_json::<Value>("[1] x").is_err());
    }

    #[test]
    fn depth_of_a_very_deep_value_is_asked_without_recursing() {
        // Built and dropped by hand: `Value`'s own drop would recurse.
        let mut value = json!(1);
        for _ in 0..100_000 {
            value = Value::Array(vec![value]);
        }
        assert!(nests_deeper_than(&value, MAX_NESTING_DEPTH));
        let mut node = value;
        while let Value::Array(mut items) = node {
            node = items.pop().unwrap_or(Value::Null);
        }
    }
}
