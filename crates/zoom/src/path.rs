//! How a Zoom identifier becomes one URL path segment. It owns the single rule
//! for meeting UUIDs and must not build whole URLs (the client does).
//!
//! Zoom documents that a meeting UUID which begins with `/` or contains `//`
//! must be URL-encoded twice, because its gateway decodes the path once before
//! routing; any other UUID (and a numeric meeting id, user id or email) is
//! encoded once. Encoding is of everything but RFC 3986's unreserved
//! characters, so `+`, `=` and `/` in base64 UUIDs never reach Zoom raw.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything except `A-Z a-z 0-9 - . _ ~`.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A meeting UUID or numeric id as a path segment, double-encoded when Zoom
/// requires it.
pub fn encode_meeting_id(uuid_or_id: &str) -> String {
    let once = encode_segment(uuid_or_id);
    if needs_double_encoding(uuid_or_id) {
        encode_segment(&once)
    } else {
        once
    }
}

/// Zoom's rule, word for word: begins with `/` or contains `//`.
pub fn needs_double_encoding(uuid: &str) -> bool {
    uuid.starts_with('/') || uuid.contains("//")
}

/// Any other identifier (user id, email) as one path segment.
pub fn encode_segment(value: &str) -> String {
    utf8_percent_encode(value, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    #[test]
    fn meeting_ids_are_encoded_once_or_twice_by_zoom_rule() {
        let cases = [
            "85746065432",
            "4444AAAiAAAAAiAiAiiAii==",
            "WEz4RT2lSyKx2MD9Z+lYfA==",
            "abc/def==",
            "/ajXp112QmuoKj4854875==",
            "ab//cd==",
        ];
        let shown: Vec<String> = cases
            .iter()
            .map(|id| format!("{id} -> {}", encode_meeting_id(id)))
            .collect();
        expect![[r#"
            85746065432 -> 85746065432
            4444AAAiAAAAAiAiAiiAii== -> 4444AAAiAAAAAiAiAiiAii%3D%3D
            WEz4RT2lSyKx2MD9Z+lYfA== -> WEz4RT2lSyKx2MD9Z%2BlYfA%3D%3D
            abc/def== -> abc%2Fdef%3D%3D
            /ajXp112QmuoKj4854875== -> %252FajXp112QmuoKj4854875%253D%253D
            ab//cd== -> ab%252F%252Fcd%253D%253D"#]]
        .assert_eq(&shown.join("\n"));
    }

    #[test]
    fn emails_are_one_segment() {
        assert_eq!(
            encode_segment("jane.doe@example.com"),
            "jane.doe%40example.com"
        );
    }
}
