//! The one object-key scheme. Every key zoomvault writes is derived here,
//! from a recording's start date, Zoom meeting id and recording UUID (and,
//! for a file, its Zoom file id or position), and every key a store is asked
//! to touch is checked here by [`validate_key`].
//!
//! This module must not derive a key from free text such as a meeting topic,
//! and no other module may build a key by formatting strings itself: a second
//! scheme would silently split one recording across two prefixes.
//!
//! Layout, for a recording that started 2024-03-05 (UTC):
//!
//! ```text
//! recordings/2024/03/05/85746065432/aDYlohsHRtCd4ii1uC2-hA==/recording.json
//!                                                           meta/zoom-event.json
//!                                                           meta/zoom-meeting.json
//!                                                           meta/files/<file key>.json
//!                                                           files/<file key>.<ext>
//! dispositions/2024/03/05/85746065432/aDYlohsHRtCd4ii1uC2-hA==/ingested-1709651550250.json  (once purged)
//! ```
//!
//! The UUID segment is the UUID in the URL-safe base64 alphabet (`+` → `-`,
//! `/` → `_`, `=` kept); any other byte, including a literal `-`, `_` or `.`,
//! is written `.` + two lowercase hex digits. Zoom UUIDs only use the standard
//! base64 alphabet, so they never need an escape and stay readable, and the
//! mapping is injective over every string because each input byte has its own
//! output token and no token is a prefix of another.

use std::fmt;
use time::OffsetDateTime;

use crate::document::RecordingDocument;

/// Every recording lives under this prefix, so listing it finds every
/// recording document (what a rebuild of the index from storage needs;
/// `operations::rebuild`).
pub const RECORDINGS_PREFIX: &str = "recordings/";

/// Where an unfinished rebuild of the index from the store keeps its
/// place (`operations::rebuild`); outside [`RECORDINGS_PREFIX`], so no
/// walk of the recordings meets it.
pub const REBUILD_CHECKPOINT_KEY: &str = "operations/rebuild-index.json";

/// Every disposition record (what a purge deleted, when and under which
/// rule; `operations::purge`) lives under this prefix, outside
/// [`RECORDINGS_PREFIX`], so no walk of the recordings meets it and no
/// purge of a recording's prefix can reach it: the log is never purged.
pub const DISPOSITIONS_PREFIX: &str = "dispositions/";

/// S3's limit on a key's length in bytes.
pub const MAX_KEY_LEN: usize = 1024;

/// The longest segment (path component) a key may have: the common file-name
/// limit, so every key also fits a local file system.
pub const MAX_SEGMENT_LEN: usize = 255;

/// Step Functions' limit on an execution name's length.
pub const MAX_EXECUTION_NAME_LEN: usize = 80;

/// The longest extension a file key may carry.
pub const MAX_EXTENSION_LEN: usize = 16;

/// The name of a recording's document under its prefix.
const DOCUMENT_NAME: &str = "recording.json";

/// Room left in a file's segment for `.` plus the longest extension, so
/// `<file key>.<ext>` and `<file key>.json` always fit [`MAX_SEGMENT_LEN`].
const MAX_FILE_KEY_LEN: usize = MAX_SEGMENT_LEN - 1 - MAX_EXTENSION_LEN;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("unsafe object key {key:?}: {problem}")]
    UnsafeKey { key: String, problem: KeyProblem },
    #[error("recording UUID is empty")]
    EmptyUuid,
    #[error("{what} {value:?} makes a key segment longer than {max} bytes")]
    TooLong {
        what: &'static str,
        value: String,
        max: usize,
    },
    #[error("file extension {0:?} is not 1 to 16 ASCII letters or digits")]
    BadExtension(String),
    #[error("{0:?} is not a file key (one key segment as derived by FileKey)")]
    BadFileKey(String),
}

/// Why a key was refused by [`validate_key`] or [`validate_prefix`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyProblem {
    Empty,
    TooLong,
    Absolute,
    TrailingSlash,
    EmptySegment,
    DotSegment,
    SegmentTooLong,
    ForbiddenByte(u8),
    /// A level of the key tree (what `list_prefixes` takes) is empty or
    /// ends with '/'.
    NotALevel,
}

impl fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyProblem::Empty => f.write_str("it is empty"),
            KeyProblem::TooLong => write!(f, "it is longer than {MAX_KEY_LEN} bytes"),
            KeyProblem::Absolute => f.write_str("it starts with '/'"),
            KeyProblem::TrailingSlash => f.write_str("it ends with '/'"),
            KeyProblem::EmptySegment => f.write_str("it has an empty segment ('//')"),
            KeyProblem::DotSegment => f.write_str("it has a '.' or '..' segment"),
            KeyProblem::SegmentTooLong => {
                write!(f, "a segment is longer than {MAX_SEGMENT_LEN} bytes")
            }
            KeyProblem::ForbiddenByte(b) => {
                write!(f, "byte 0x{b:02x} is outside [A-Za-z0-9._=-] and '/'")
            }
            KeyProblem::NotALevel => f.write_str("a level must be empty or end with '/'"),
        }
    }
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'=' | b'-')
}

/// Checks a key that came from outside (a request, a hand-edited document)
/// before any store touches it: relative, `/`-separated non-empty segments
/// of `[A-Za-z0-9._=-]`, no `.` or `..` segment, within S3's and file
/// systems' length limits. Every key this module derives passes.
pub fn validate_key(key: &str) -> Result<(), Error> {
    check_key(key, KeyShape::Object).map_err(|problem| Error::UnsafeKey {
        key: key.to_owned(),
        problem,
    })
}

/// Checks a listing prefix: like [`validate_key`], except that it may be
/// empty (everything) and may end with `/` (a "directory").
pub fn validate_prefix(prefix: &str) -> Result<(), Error> {
    check_key(prefix, KeyShape::Prefix).map_err(|problem| Error::UnsafeKey {
        key: prefix.to_owned(),
        problem,
    })
}

/// Checks a level of the key tree: a valid prefix that is empty or ends
/// with '/' (`recordings/2024/`).
pub fn validate_level(prefix: &str) -> Result<(), Error> {
    validate_prefix(prefix)?;
    if prefix.is_empty() || prefix.ends_with('/') {
        Ok(())
    } else {
        Err(Error::UnsafeKey {
            key: prefix.to_owned(),
            problem: KeyProblem::NotALevel,
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyShape {
    Object,
    Prefix,
}

fn check_key(key: &str, shape: KeyShape) -> Result<(), KeyProblem> {
    if key.is_empty() {
        return match shape {
            KeyShape::Object => Err(KeyProblem::Empty),
            KeyShape::Prefix => Ok(()),
        };
    }
    if key.len() > MAX_KEY_LEN {
        return Err(KeyProblem::TooLong);
    }
    if let Some(&b) = key
        .as_bytes()
        .iter()
        .find(|&&b| b != b'/' && !is_key_byte(b))
    {
        return Err(KeyProblem::ForbiddenByte(b));
    }
    if key.starts_with('/') {
        return Err(KeyProblem::Absolute);
    }
    let body = match (shape, key.strip_suffix('/')) {
        (KeyShape::Object, Some(_)) => return Err(KeyProblem::TrailingSlash),
        (KeyShape::Prefix, Some(body)) => body,
        (_, None) => key,
    };
    for segment in body.split('/') {
        if segment.is_empty() {
            return Err(KeyProblem::EmptySegment);
        }
        if segment == "." || segment == ".." {
            return Err(KeyProblem::DotSegment);
        }
        if segment.len() > MAX_SEGMENT_LEN {
            return Err(KeyProblem::SegmentTooLong);
        }
    }
    Ok(())
}

fn push_escaped(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('.');
    out.push(HEX[usize::from(b >> 4)] as char);
    out.push(HEX[usize::from(b & 0x0f)] as char);
}

/// A recording UUID as one key segment (see the module docs for the mapping
/// and why it is injective).
pub fn uuid_segment(recording_uuid: &str) -> Result<String, Error> {
    if recording_uuid.is_empty() {
        return Err(Error::EmptyUuid);
    }
    let mut out = String::with_capacity(recording_uuid.len());
    for &b in recording_uuid.as_bytes() {
        match b {
            b'+' => out.push('-'),
            b'/' => out.push('_'),
            b'=' => out.push('='),
            b if b.is_ascii_alphanumeric() => out.push(b as char),
            b => push_escaped(&mut out, b),
        }
    }
    if out.len() > MAX_SEGMENT_LEN {
        return Err(Error::TooLong {
            what: "recording UUID",
            value: recording_uuid.to_owned(),
            max: MAX_SEGMENT_LEN,
        });
    }
    Ok(out)
}

/// The execution name for ingesting a recording, so that a repeated webhook
/// delivery names the same execution and is not a second ingest. It is the
/// UUID segment, whose bytes are all allowed in Step Functions names.
pub fn execution_name(recording_uuid: &str) -> Result<String, Error> {
    fitting_execution_name(uuid_segment(recording_uuid)?, recording_uuid)
}

/// The execution name of a forced re-ingest of a recording (`zoomvault
/// ingest --force`), at `unix_ms`: the UUID segment, then `.r` and the
/// time. The UUID segment never has `.` followed by anything but two hex
/// digits, so no webhook's execution name is ever one of these, and two
/// forced ingests a millisecond apart or more never share one.
pub fn forced_execution_name(recording_uuid: &str, unix_ms: u64) -> Result<String, Error> {
    let name = format!("{}.r{unix_ms}", uuid_segment(recording_uuid)?);
    fitting_execution_name(name, recording_uuid)
}

/// `name`, if Step Functions can take it; else the UUID was too long.
fn fitting_execution_name(name: String, recording_uuid: &str) -> Result<String, Error> {
    if name.len() > MAX_EXECUTION_NAME_LEN {
        return Err(Error::TooLong {
            what: "recording UUID",
            value: recording_uuid.to_owned(),
            max: MAX_EXECUTION_NAME_LEN,
        });
    }
    Ok(name)
}

/// Where RecordFailure keeps a failure before the recording's own keys
/// are known (IngestMetadata failed): `failures/<execution name>.json`.
pub fn failure_without_recording(execution_name: &str) -> Result<String, Error> {
    let key = format!("failures/{execution_name}.json");
    validate_key(&key)?;
    Ok(key)
}

/// The keys of one recording. Built once from the identity Zoom gives a
/// recording; every object of that recording is named by a method here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingKeys {
    prefix: String,
}

impl RecordingKeys {
    /// `start_time` is the meeting's start as Zoom reports it; its UTC date
    /// places the recording, so the prefix does not depend on the offset the
    /// time was written with.
    pub fn new(
        start_time: OffsetDateTime,
        meeting_id: u64,
        recording_uuid: &str,
    ) -> Result<RecordingKeys, Error> {
        let date = start_time.to_offset(time::UtcOffset::UTC).date();
        let uuid = uuid_segment(recording_uuid)?;
        let prefix = format!(
            "{RECORDINGS_PREFIX}{:04}/{:02}/{:02}/{meeting_id}/{uuid}/",
            date.year(),
            u8::from(date.month()),
            date.day(),
        );
        Ok(RecordingKeys { prefix })
    }

    /// The keys of the recording a document describes.
    pub fn for_document(document: &RecordingDocument) -> Result<RecordingKeys, Error> {
        RecordingKeys::new(
            document.meeting.start_time,
            document.meeting.id,
            &document.meeting.uuid,
        )
    }

    /// `recordings/YYYY/MM/DD/<meeting id>/<uuid segment>/`, ending in `/`.
    pub fn recording_prefix(&self) -> &str {
        &self.prefix
    }

    /// The recording document, `recording.json`.
    pub fn document(&self) -> String {
        format!("{}{DOCUMENT_NAME}", self.prefix)
    }

    /// The webhook or manual-ingest event exactly as received.
    pub fn raw_event(&self) -> String {
        format!("{}meta/zoom-event.json", self.prefix)
    }

    /// Zoom's meeting and recording metadata as fetched at ingest.
    pub fn meeting_metadata(&self) -> String {
        format!("{}meta/zoom-meeting.json", self.prefix)
    }

    /// Why the last ingest of this recording failed (RecordFailure).
    pub fn failure(&self) -> String {
        format!("{}meta/failure.json", self.prefix)
    }

    /// A recording file's content. The extension is lower-cased so `MP4`
    /// and `mp4` from Zoom name the same object.
    pub fn file(&self, file: &FileKey, extension: &str) -> Result<String, Error> {
        let valid = !extension.is_empty()
            && extension.len() <= MAX_EXTENSION_LEN
            && extension.bytes().all(|b| b.is_ascii_alphanumeric());
        if !valid {
            return Err(Error::BadExtension(extension.to_owned()));
        }
        Ok(format!(
            "{}files/{}.{}",
            self.prefix,
            file.0,
            extension.to_ascii_lowercase()
        ))
    }

    /// The per-file metadata JSON written once the file is verified.
    pub fn file_metadata(&self, file: &FileKey) -> String {
        format!("{}meta/files/{}.json", self.prefix, file.0)
    }

    /// Where the disposal of this recording, as archived by the ingest
    /// that finished at `ingested_at`, is recorded (a purge writes it
    /// before it deletes anything): the recording's own place in the key
    /// tree under [`DISPOSITIONS_PREFIX`] instead of [`RECORDINGS_PREFIX`],
    /// `dispositions/YYYY/MM/DD/<meeting id>/<uuid segment>/ingested-<ms>.json`,
    /// `<ms>` the ingest's finish in whole milliseconds since the Unix
    /// epoch (as the index compares it). It never depends on when the
    /// purge ran, so a purge run again after a crash finds the record it
    /// wrote and one archived copy never has two; a recording archived
    /// again after its purge (recovered from Zoom's trash) is another copy,
    /// whose purge has a record of its own.
    pub fn disposition(&self, ingested_at: OffsetDateTime) -> String {
        let place = self
            .prefix
            .strip_prefix(RECORDINGS_PREFIX)
            .expect("a recording prefix starts with RECORDINGS_PREFIX");
        let ms = ingested_at.unix_timestamp_nanos() / 1_000_000;
        format!("{DISPOSITIONS_PREFIX}{place}ingested-{ms}.json")
    }
}

/// Whether a listed key is a recording document (what rebuilding the index
/// from storage looks for).
pub fn is_document_key(key: &str) -> bool {
    let Some(rest) = key.strip_prefix(RECORDINGS_PREFIX) else {
        return false;
    };
    let segments: Vec<&str> = rest.split('/').collect();
    // YYYY / MM / DD / meeting id / uuid / recording.json
    segments.len() == 6 && segments[5] == DOCUMENT_NAME
}

/// Where a file sits in Zoom's recording metadata: what [`FileKey`] is
/// derived from.
#[derive(Debug, Clone, Copy)]
pub struct FileIdentity<'a> {
    /// Zoom's `recording_type`; Zoom omits it for TIMELINE files.
    pub recording_type: Option<&'a str>,
    /// Zoom's `file_type` (`MP4`, `TIMELINE`, ...), used when there is no
    /// recording type.
    pub file_type: &'a str,
    /// Zoom's file `id`; Zoom omits it for TIMELINE files.
    pub zoom_file_id: Option<&'a str>,
    /// The file's index in Zoom's `recording_files`, used only when there is
    /// no id. The retrieval plan fixes it once, so retries agree on it.
    pub position: usize,
}

/// One key segment naming a file within its recording:
/// `<kind>-<zoom file id>` or, for a file without an id, `<kind>=<position>`.
///
/// `kind` (the recording type, else the lower-cased file type, else `file`)
/// keeps `[A-Za-z0-9_]` and escapes everything else, so it never holds a raw
/// `-` or `=`; the first of those therefore tells which form follows, and
/// the id (which keeps `[A-Za-z0-9_-]` and escapes the rest) or position is
/// what makes the key unique. Several files of one recording type, and
/// several files without an id, therefore never collide.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FileKey(String);

impl FileKey {
    pub fn new(file: &FileIdentity<'_>) -> Result<FileKey, Error> {
        let kind = match file.recording_type {
            Some(recording_type) if !recording_type.is_empty() => recording_type.to_owned(),
            _ if !file.file_type.is_empty() => file.file_type.to_ascii_lowercase(),
            _ => "file".to_owned(),
        };
        let mut out = String::new();
        for &b in kind.as_bytes() {
            if b.is_ascii_alphanumeric() || b == b'_' {
                out.push(b as char);
            } else {
                push_escaped(&mut out, b);
            }
        }
        match file.zoom_file_id {
            Some(id) if !id.is_empty() => {
                out.push('-');
                for &b in id.as_bytes() {
                    if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
                        out.push(b as char);
                    } else {
                        push_escaped(&mut out, b);
                    }
                }
            }
            _ => {
                out.push('=');
                out.push_str(&file.position.to_string());
            }
        }
        if out.len() > MAX_FILE_KEY_LEN {
            return Err(Error::TooLong {
                what: "file identity",
                value: out,
                max: MAX_FILE_KEY_LEN,
            });
        }
        Ok(FileKey(out))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FileKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for FileKey {
    type Error = Error;

    /// Accepts a file key read back from a plan or state input: one safe
    /// segment, short enough for an extension, holding the `-` or `=` that
    /// separates a kind from an id or a position.
    fn try_from(value: String) -> Result<FileKey, Error> {
        let well_formed = value.len() <= MAX_FILE_KEY_LEN
            && !value.contains('/')
            && check_key(&value, KeyShape::Object).is_ok()
            && value.contains(['-', '=']);
        if well_formed {
            Ok(FileKey(value))
        } else {
            Err(Error::BadFileKey(value))
        }
    }
}

impl From<FileKey> for String {
    fn from(key: FileKey) -> String {
        key.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};
    use proptest::prelude::*;
    use time::macros::datetime;

    fn keys(uuid: &str) -> RecordingKeys {
        RecordingKeys::new(datetime!(2024-03-05 23:30 -05:00), 85746065432, uuid)
            .expect("valid recording identity")
    }

    fn file_key(
        recording_type: Option<&str>,
        file_type: &str,
        id: Option<&str>,
        position: usize,
    ) -> FileKey {
        FileKey::new(&FileIdentity {
            recording_type,
            file_type,
            zoom_file_id: id,
            position,
        })
        .expect("valid file identity")
    }

    #[test]
    fn recording_layout() {
        let keys = keys("aDYlohsHRtCd4ii1uC2+hA==");
        let mp4 = file_key(
            Some("shared_screen_with_speaker_view"),
            "MP4",
            Some("ed6c2f27-2ae7-42f4-b3d0-835b493e4fa8"),
            0,
        );
        let timeline = file_key(None, "TIMELINE", None, 3);
        let layout = [
            keys.recording_prefix().to_owned(),
            keys.document(),
            keys.raw_event(),
            keys.meeting_metadata(),
            keys.file(&mp4, "MP4").expect("valid extension"),
            keys.file_metadata(&mp4),
            keys.file(&timeline, "json").expect("valid extension"),
            keys.file_metadata(&timeline),
        ]
        .join("\n");
        // The start time is 2024-03-06 in UTC, which is the date used.
        expect![[r#"
            recordings/2024/03/06/85746065432/aDYlohsHRtCd4ii1uC2-hA==/
            recordings/2024/03/06/85746065432/aDYlohsHRtCd4ii1uC2-hA==/recording.json
            recordings/2024/03/06/85746065432/aDYlohsHRtCd4ii1uC2-hA==/meta/zoom-event.json
            recordings/2024/03/06/85746065432/aDYlohsHRtCd4ii1uC2-hA==/meta/zoom-meeting.json
            recordings/2024/03/06/85746065432/aDYlohsHRtCd4ii1uC2-hA==/files/shared_screen_with_speaker_view-ed6c2f27-2ae7-42f4-b3d0-835b493e4fa8.mp4
            recordings/2024/03/06/85746065432/aDYlohsHRtCd4ii1uC2-hA==/meta/files/shared_screen_with_speaker_view-ed6c2f27-2ae7-42f4-b3d0-835b493e4fa8.json
            recordings/2024/03/06/85746065432/aDYlohsHRtCd4ii1uC2-hA==/files/timeline=3.json
            recordings/2024/03/06/85746065432/aDYlohsHRtCd4ii1uC2-hA==/meta/files/timeline=3.json"#]]
        .assert_eq(&layout);
    }

    fn check_uuid(uuid: &str, expect: Expect) {
        let actual = match uuid_segment(uuid) {
            Ok(segment) => segment,
            Err(error) => format!("error: {error}"),
        };
        expect.assert_eq(&actual);
    }

    #[test]
    fn uuid_segments() {
        check_uuid("4444AAAiAAAAAiAAAAA==", expect!["4444AAAiAAAAAiAAAAA=="]);
        check_uuid("ab/c+d==", expect!["ab_c-d=="]);
        // A literal '-' or '_' must not meet the images of '+' and '/'.
        check_uuid("ab_c-d", expect!["ab.5fc.2dd"]);
        check_uuid("..", expect![".2e.2e"]);
        check_uuid("/", expect!["_"]);
        check_uuid("a b\u{0}é", expect!["a.20b.00.c3.a9"]);
        check_uuid("", expect!["error: recording UUID is empty"]);
    }

    fn check_file_key(
        recording_type: Option<&str>,
        file_type: &str,
        id: Option<&str>,
        expect: Expect,
    ) {
        expect.assert_eq(file_key(recording_type, file_type, id, 7).as_str());
    }

    #[test]
    fn file_keys() {
        check_file_key(
            Some("audio_only"),
            "M4A",
            Some("2f6bbbb-0fd7-4691"),
            expect!["audio_only-2f6bbbb-0fd7-4691"],
        );
        check_file_key(None, "TIMELINE", None, expect!["timeline=7"]);
        check_file_key(Some(""), "", Some(""), expect!["file=7"]);
        check_file_key(
            Some("shared_screen_with_speaker_view(CC)"),
            "MP4",
            Some("a/b+c=.d"),
            expect!["shared_screen_with_speaker_view.28CC.29-a.2fb.2bc.3d.2ed"],
        );
        // A kind with '-' or '=' cannot pass for the separator.
        check_file_key(Some("a-b=c"), "MP4", Some("x"), expect!["a.2db.3dc-x"]);
    }

    #[test]
    fn files_of_one_type_or_without_ids_do_not_collide() {
        let keys = [
            file_key(Some("audio_only"), "M4A", Some("id1"), 0),
            file_key(Some("audio_only"), "M4A", Some("id2"), 1),
            file_key(None, "TIMELINE", None, 2),
            file_key(None, "TIMELINE", None, 3),
            // An id that looks like a position is still a different key.
            file_key(None, "TIMELINE", Some("2"), 4),
        ];
        let distinct: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len(), "{keys:?}");
    }

    fn check_validate(key: &str, expect: Expect) {
        let actual = match validate_key(key) {
            Ok(()) => "ok".to_owned(),
            Err(error) => error.to_string(),
        };
        expect.assert_eq(&actual);
    }

    #[test]
    fn validate_key_cases() {
        check_validate("recordings/2024/01/01/1/x/recording.json", expect!["ok"]);
        check_validate(".hidden/a..b/=x-_", expect!["ok"]);
        check_validate("", expect![[r#"unsafe object key "": it is empty"#]]);
        check_validate(
            "../x",
            expect![[r#"unsafe object key "../x": it has a '.' or '..' segment"#]],
        );
        check_validate(
            "a/./b",
            expect![[r#"unsafe object key "a/./b": it has a '.' or '..' segment"#]],
        );
        check_validate(
            "/abs",
            expect![[r#"unsafe object key "/abs": it starts with '/'"#]],
        );
        check_validate(
            "a//b",
            expect![[r#"unsafe object key "a//b": it has an empty segment ('//')"#]],
        );
        check_validate(
            "a/",
            expect![[r#"unsafe object key "a/": it ends with '/'"#]],
        );
        check_validate(
            "a b",
            expect![[r#"unsafe object key "a b": byte 0x20 is outside [A-Za-z0-9._=-] and '/'"#]],
        );
        check_validate(
            "a\\..\\b",
            expect![[
                r#"unsafe object key "a\\..\\b": byte 0x5c is outside [A-Za-z0-9._=-] and '/'"#
            ]],
        );
        check_validate(
            "a\nb",
            expect![[r#"unsafe object key "a\nb": byte 0x0a is outside [A-Za-z0-9._=-] and '/'"#]],
        );
        let problem = |key: &str| match validate_key(key) {
            Err(Error::UnsafeKey { problem, .. }) => Some(problem),
            _ => None,
        };
        assert_eq!(problem(&"a".repeat(255)), None);
        assert_eq!(problem(&"a".repeat(256)), Some(KeyProblem::SegmentTooLong));
        assert_eq!(problem(&"a/".repeat(513)), Some(KeyProblem::TooLong));
    }

    #[test]
    fn prefixes_may_be_empty_or_end_in_a_slash() {
        assert_eq!(validate_prefix(""), Ok(()));
        assert_eq!(validate_prefix("recordings/"), Ok(()));
        assert_eq!(validate_prefix("recordings/20"), Ok(()));
        assert!(validate_prefix("/").is_err());
        assert!(validate_prefix("../").is_err());
        assert!(validate_prefix("a//").is_err());
    }

    #[test]
    fn disposition_keys_mirror_the_recording_outside_its_prefix() {
        let keys = keys("aDYlohsHRtCd4ii1uC2+hA==");
        let key = keys.disposition(datetime!(2024-03-06 15:12:30.2509 UTC));
        expect!["dispositions/2024/03/06/85746065432/aDYlohsHRtCd4ii1uC2-hA==/ingested-1709737950250.json"]
            .assert_eq(&key);
        assert!(!key.starts_with(RECORDINGS_PREFIX));
        assert!(!is_document_key(&key));
        // Before 1970, and at the earliest time there is, still one safe key.
        for at in [
            datetime!(1969-12-31 23:59:59.9995 UTC),
            datetime!(-9999-01-01 0:00 UTC),
        ] {
            let key = keys.disposition(at);
            assert!(validate_key(&key).is_ok(), "{key}");
        }
    }

    #[test]
    fn document_keys_are_recognised() {
        assert!(is_document_key(&keys("x==").document()));
        assert!(!is_document_key(&keys("x==").raw_event()));
        assert!(!is_document_key("recordings/recording.json"));
        assert!(!is_document_key("elsewhere/2024/01/01/1/x/recording.json"));
    }

    #[test]
    fn bad_extensions_are_refused() {
        let keys = keys("x==");
        let file = file_key(None, "TIMELINE", None, 0);
        for extension in ["", "mp4/../x", ".mp4", "a-b", "x".repeat(17).as_str()] {
            assert!(keys.file(&file, extension).is_err(), "{extension:?}");
        }
    }

    #[test]
    fn file_keys_round_trip_through_json_and_refuse_paths() {
        let file = file_key(Some("chat_file"), "CHAT", Some("abc"), 0);
        let json = serde_json::to_string(&file).expect("serialises");
        assert_eq!(json, r#""chat_file-abc""#);
        assert_eq!(serde_json::from_str::<FileKey>(&json).ok(), Some(file));
        for bad in [r#""../x""#, r#""a/b-c""#, r#""plain""#, r#""""#] {
            assert!(serde_json::from_str::<FileKey>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn execution_names_follow_the_uuid_segment() {
        assert_eq!(execution_name("ab/c+d==").as_deref(), Ok("ab_c-d=="));
        assert!(execution_name(&"a".repeat(81)).is_err());
    }

    fn is_safe(key: &str) -> bool {
        !key.starts_with('/')
            && key
                .split('/')
                .all(|segment| !segment.is_empty() && segment != "." && segment != "..")
            && key.bytes().all(|b| b == b'/' || is_key_byte(b))
            && validate_key(key).is_ok()
    }

    proptest! {
        #[test]
        fn any_uuid_gives_safe_keys(
            // Lengths stay within what a segment can hold even fully escaped.
            uuid in "\\PC{1,20}|[A-Za-z0-9+/=._-]{1,80}",
            meeting_id in any::<u64>(),
            day in 0i64..40_000,
            id in proptest::option::of("\\PC{1,14}"),
            recording_type in proptest::option::of("\\PC{0,5}"),
            position in 0usize..1000,
        ) {
            let start = datetime!(1990-01-01 0:00 UTC) + time::Duration::days(day);
            let keys = RecordingKeys::new(start, meeting_id, &uuid).expect("derivable");
            let file = FileKey::new(&FileIdentity {
                recording_type: recording_type.as_deref(),
                file_type: "MP4",
                zoom_file_id: id.as_deref(),
                position,
            })
            .expect("derivable");
            let all = [
                keys.document(),
                keys.raw_event(),
                keys.meeting_metadata(),
                keys.file(&file, "mp4").expect("valid extension"),
                keys.file_metadata(&file),
            ];
            for key in &all {
                prop_assert!(is_safe(key), "{key:?}");
            }
            prop_assert!(validate_prefix(keys.recording_prefix()).is_ok());
            let disposition = keys.disposition(start + time::Duration::hours(1));
            prop_assert!(is_safe(&disposition), "{disposition:?}");
            prop_assert!(!disposition.starts_with(keys.recording_prefix()));
            let segment = uuid_segment(&uuid).expect("derivable");
            match execution_name(&uuid) {
                Ok(name) => prop_assert_eq!(name, segment),
                Err(_) => prop_assert!(segment.len() > MAX_EXECUTION_NAME_LEN),
            }
        }

        #[test]
        fn distinct_uuids_give_distinct_keys(
            a in "\\PC{1,20}|[A-Za-z0-9+/=_-]{1,30}",
            b in "\\PC{1,20}|[A-Za-z0-9+/=_-]{1,30}",
        ) {
            prop_assume!(a != b);
            let start = datetime!(2024-01-01 0:00 UTC);
            let key_a = RecordingKeys::new(start, 1, &a).expect("derivable").document();
            let key_b = RecordingKeys::new(start, 1, &b).expect("derivable").document();
            prop_assert_ne!(key_a, key_b);
            let disposition = |uuid: &str| {
                RecordingKeys::new(start, 1, uuid).expect("derivable").disposition(start)
            };
            prop_assert_ne!(disposition(&a), disposition(&b));
        }

        #[test]
        fn distinct_file_identities_give_distinct_file_keys(
            a in proptest::option::of("[a-z0-9+/=_.-]{1,12}"),
            b in proptest::option::of("[a-z0-9+/=_.-]{1,12}"),
            kind_a in "[a-z_=-]{0,6}",
            kind_b in "[a-z_=-]{0,6}",
            position_a in 0usize..20,
            position_b in 0usize..20,
        ) {
            // Two files of one recording differ in id or, lacking ids, in position.
            prop_assume!(a != b || (a.is_none() && position_a != position_b));
            let key = |kind: &str, id: &Option<String>, position| FileKey::new(&FileIdentity {
                recording_type: Some(kind),
                file_type: "MP4",
                zoom_file_id: id.as_deref(),
                position,
            }).expect("derivable");
            prop_assert_ne!(key(&kind_a, &a, position_a), key(&kind_b, &b, position_b));
        }
    }
}
