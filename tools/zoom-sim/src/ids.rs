//! Identifiers in Zoom's shapes (meeting UUIDs, meeting numbers, file ids,
//! user ids, opaque tokens) and Zoom's rule for putting a meeting UUID in a
//! URL path. Generation is deterministic from a seed so that a demo is the
//! same every time it is started with the same seed (tokens differ: `state`
//! salts the seed of their stream per run). This module must not use any
//! randomness but the seed it is given.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Which of Zoom's awkward UUID shapes a generated meeting UUID takes. Zoom
/// UUIDs are base64 of 16 bytes, so they may contain `/`; the ones that begin
/// with `/` or contain `//` must be double URL-encoded in API paths.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UuidShape {
    /// Needs no double encoding (may still contain a single `/`).
    #[default]
    Plain,
    /// Begins with `/`, e.g. `/ajXp112QmuoKj4854875==`.
    LeadingSlash,
    /// Contains `//`, e.g. `Sy4w//kXQ8+6BnPfk9W1yA==`.
    DoubleSlash,
}

/// A deterministic stream of identifiers. Each call advances a counter that
/// is hashed with the seed, so identifiers look random but repeat per seed.
#[derive(Debug)]
pub(crate) struct IdSource {
    seed: u64,
    counter: u64,
}

impl IdSource {
    pub(crate) fn new(seed: u64) -> IdSource {
        IdSource { seed, counter: 0 }
    }

    fn next_block(&mut self) -> [u8; 32] {
        self.counter += 1;
        let mut hasher = Sha256::new();
        hasher.update(b"zoomvault-zoom-sim/ids/v1\0");
        hasher.update(self.seed.to_le_bytes());
        hasher.update(self.counter.to_le_bytes());
        hasher.finalize().into()
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let block = self.next_block();
        let mut first = [0u8; 8];
        first.copy_from_slice(&block[..8]);
        u64::from_le_bytes(first)
    }

    /// A meeting UUID: base64 of 16 bytes, 24 characters ending in `==`.
    pub(crate) fn meeting_uuid(&mut self, shape: UuidShape) -> String {
        let block = self.next_block();
        let mut chars: Vec<u8> = STANDARD.encode(&block[..16]).into_bytes();
        // Characters 0..=20 each carry six free bits, so overwriting them
        // with `/` still leaves the base64 of some 16 bytes.
        match shape {
            UuidShape::Plain => {
                // Rule out the awkward shapes by chance so that a caller who
                // asks for a plain UUID gets one that single encoding serves.
                if chars[0] == b'/' {
                    chars[0] = b'P';
                }
                for i in 1..21 {
                    if chars[i] == b'/' && chars[i - 1] == b'/' {
                        chars[i] = b'p';
                    }
                }
            }
            UuidShape::LeadingSlash => chars[0] = b'/',
            UuidShape::DoubleSlash => {
                chars[6] = b'/';
                chars[7] = b'/';
                // Keep the other shapes distinct: no leading slash here.
                if chars[0] == b'/' {
                    chars[0] = b'A';
                }
            }
        }
        String::from_utf8(chars).expect("base64 is ASCII")
    }

    /// An 11-digit meeting number, as Zoom's meeting ids are.
    pub(crate) fn meeting_number(&mut self) -> u64 {
        80_000_000_000 + self.next_u64() % 19_999_999_999
    }

    /// A recording file id in Zoom's hyphenated hex shape.
    pub(crate) fn file_id(&mut self) -> String {
        let hexed = hex::encode(&self.next_block()[..16]);
        format!(
            "{}-{}-{}-{}-{}",
            &hexed[0..8],
            &hexed[8..12],
            &hexed[12..16],
            &hexed[16..20],
            &hexed[20..32]
        )
    }

    /// A 22-character URL-safe id, the shape of Zoom user and account ids.
    pub(crate) fn short_id(&mut self) -> String {
        URL_SAFE_NO_PAD.encode(&self.next_block()[..16])
    }

    /// An opaque URL-safe token of `bytes` random-looking bytes.
    pub(crate) fn opaque(&mut self, bytes: usize) -> String {
        let mut raw = Vec::with_capacity(bytes);
        while raw.len() < bytes {
            let block = self.next_block();
            let take = (bytes - raw.len()).min(block.len());
            raw.extend_from_slice(&block[..take]);
        }
        URL_SAFE_NO_PAD.encode(raw)
    }
}

/// Characters left alone when encoding a path segment: RFC 3986 unreserved.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes `text` for use as one URL path segment.
pub fn encode_path_segment(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

/// Whether Zoom requires this meeting UUID to be double-encoded in a path.
pub fn needs_double_encoding(uuid: &str) -> bool {
    uuid.starts_with('/') || uuid.contains("//")
}

/// A meeting UUID as Zoom wants it in an API path: double URL-encoded when it
/// begins with `/` or contains `//`, encoded once otherwise. Provided so
/// tests can build URLs; a client under test must implement this itself.
pub fn encode_meeting_uuid_for_path(uuid: &str) -> String {
    let once = encode_path_segment(uuid);
    if needs_double_encoding(uuid) {
        encode_path_segment(&once)
    } else {
        once
    }
}

/// What a meeting path segment names once decoded as Zoom decodes it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum MeetingRef {
    /// A meeting UUID.
    Uuid(String),
    /// A numeric meeting id: the latest instance of that meeting.
    Number(u64),
    /// A path Zoom could not resolve: a `/`-UUID that was encoded only once
    /// arrives mangled, so Zoom answers as for a meeting that does not exist.
    Unresolvable,
}

/// Decodes a meeting path segment (already percent-decoded once by the
/// router, as Zoom's gateway decodes once). If the result still holds
/// percent-escapes, the client double-encoded it and it is decoded again.
/// A result that begins with `/` or holds `//` after only one decoding is the
/// single-encoded form Zoom does not accept.
pub(crate) fn decode_meeting_segment(once_decoded: &str) -> MeetingRef {
    let value = if has_percent_escape(once_decoded) {
        match percent_decode_str(once_decoded).decode_utf8() {
            Ok(twice) => twice.into_owned(),
            Err(_) => return MeetingRef::Unresolvable,
        }
    } else {
        if needs_double_encoding(once_decoded) {
            return MeetingRef::Unresolvable;
        }
        once_decoded.to_owned()
    };
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(number) = value.parse() {
            return MeetingRef::Number(number);
        }
    }
    if value.is_empty() {
        return MeetingRef::Unresolvable;
    }
    MeetingRef::Uuid(value)
}

fn has_percent_escape(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes
        .windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router_decode(segment: &str) -> String {
        percent_decode_str(segment)
            .decode_utf8()
            .expect("utf8")
            .into_owned()
    }

    #[test]
    fn generated_uuids_have_zoom_shape() {
        let mut ids = IdSource::new(1);
        for shape in [
            UuidShape::Plain,
            UuidShape::LeadingSlash,
            UuidShape::DoubleSlash,
        ] {
            let uuid = ids.meeting_uuid(shape);
            assert_eq!(uuid.len(), 24, "{uuid}");
            assert!(uuid.ends_with("=="), "{uuid}");
            let raw = STANDARD.decode(&uuid).expect("valid base64");
            assert_eq!(raw.len(), 16);
            assert_eq!(needs_double_encoding(&uuid), shape != UuidShape::Plain);
        }
    }

    #[test]
    fn double_encoded_slash_uuid_resolves_and_single_encoded_does_not() {
        let uuid = "/ajXp112QmuoKj4854875==";
        let double = encode_meeting_uuid_for_path(uuid);
        assert_eq!(double, "%252FajXp112QmuoKj4854875%253D%253D");
        assert_eq!(
            decode_meeting_segment(&router_decode(&double)),
            MeetingRef::Uuid(uuid.to_owned())
        );
        let single = encode_path_segment(uuid);
        assert_eq!(
            decode_meeting_segment(&router_decode(&single)),
            MeetingRef::Unresolvable
        );
    }

    #[test]
    fn plain_uuid_resolves_encoded_once_or_twice() {
        let uuid = "4444AAAiAAAAAiAiAiiAii+/";
        let once = encode_path_segment(uuid);
        let twice = encode_path_segment(&once);
        for form in [once, twice] {
            assert_eq!(
                decode_meeting_segment(&router_decode(&form)),
                MeetingRef::Uuid(uuid.to_owned())
            );
        }
    }

    #[test]
    fn numeric_segment_is_a_meeting_number() {
        assert_eq!(
            decode_meeting_segment("85746065432"),
            MeetingRef::Number(85_746_065_432)
        );
    }
}
