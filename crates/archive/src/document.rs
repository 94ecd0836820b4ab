//! The recording document (`recording.json`): the one Rust type
//! [`RecordingDocument`] and the one JSON Schema
//! (`schema/recording.schema.json`), kept in agreement by this module's
//! tests. [`validate`] is the only way in from JSON, so a document from
//! outside (such as an edited `recording.json`, once reindexing exists) is
//! checked against the schema, and then against the rules the schema cannot
//! say, before any code trusts it.
//!
//! This module describes what was archived; it must not fetch, store or
//! derive keys itself (it asks `keys` whether a file's key belongs to the
//! recording).

use std::collections::hash_map::{Entry, HashMap};
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::checksum::Crc64Nvme;
use crate::keys::RecordingKeys;

/// The version this crate writes and the only one it reads.
pub const SCHEMA_VERSION: u32 = 1;

/// The JSON Schema text, for publishing next to the archive.
pub const SCHEMA_JSON: &str = include_str!("../schema/recording.schema.json");

/// What zoomvault archived for one Zoom cloud recording (one recording UUID).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordingDocument {
    pub schema_version: u32,
    pub meeting: Meeting,
    pub host: Host,
    /// Every archived file, in Zoom's order.
    pub files: Vec<RecordingFile>,
    /// `None` when Zoom did not report participants (unknown), which is not
    /// the same as `Some(vec![])` (known to be nobody).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participants: Option<Vec<Participant>>,
    pub ingest: IngestProvenance,
    /// Present while the recording is under a legal hold, which wins over
    /// every retention rule: no purge deletes a held recording
    /// (`operations::purge`). An operator places or lifts it by editing
    /// the document (`operations::reindex`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_hold: Option<LegalHold>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meeting {
    /// Zoom's meeting id, the number people dial; shared by every instance
    /// of a recurring meeting.
    pub id: u64,
    /// Zoom's meeting UUID: this instance, hence this recording.
    pub uuid: String,
    pub topic: String,
    /// Zoom's meeting type (1 instant, 2 scheduled, 3 and 8 recurring,
    /// 4 personal room), kept as the number Zoom sends.
    #[serde(rename = "type")]
    pub meeting_type: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub start_time: OffsetDateTime,
    pub duration_minutes: u32,
    /// IANA time zone, where Zoom gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// Zoom's user id of the host.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordingFile {
    /// Zoom's file id; Zoom gives none for TIMELINE files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoom_file_id: Option<String>,
    /// Zoom's `recording_type`; Zoom gives none for TIMELINE files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_type: Option<String>,
    /// Zoom's `file_type` (MP4, M4A, TIMELINE, TRANSCRIPT, CHAT, ...).
    pub file_type: String,
    pub extension: String,
    /// Size of the archived object, verified after upload.
    pub size_bytes: u64,
    /// Full-object CRC64NVME of the archived object, base64 as S3 writes
    /// it; the store verified it when the object was completed (see
    /// [`crate::checksum`]).
    pub crc64nvme: Crc64Nvme,
    /// Lower-case hex SHA-256 of the archived object; present when the
    /// file was read in order (a file fetched in parts by several workers
    /// has only its CRC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Where the file is stored; under the recording's own prefix.
    pub storage_key: String,
    pub content_type: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub recording_start: Option<OffsetDateTime>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub recording_end: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Participant {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub join_time: Option<OffsetDateTime>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub leave_time: Option<OffsetDateTime>,
}

/// How the document came to be written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestProvenance {
    /// The workflow execution that archived the recording.
    pub execution_arn: String,
    pub source: IngestSource,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
    pub zoomvault_version: String,
}

/// A legal hold: the recording is kept, whatever the retention rules say,
/// until the hold is lifted (the field removed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegalHold {
    /// Why the recording is held (a matter, a request), in the words of
    /// whoever placed the hold; required, so a hold always says why.
    pub reason: String,
    /// Who placed the hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placed_by: Option<String>,
    /// When the hold was placed.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub since: Option<OffsetDateTime>,
}

/// What started the ingest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IngestSource {
    /// Zoom's `recording.completed` webhook.
    Webhook,
    /// An operator asked for it (a webhook JSON or a meeting UUID).
    Manual,
    /// The scheduled scan for meetings the webhook missed.
    Scan,
}

/// Why a document was refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("recording document is not JSON: {0}")]
    Json(#[source] serde_json::Error),
    #[error("recording document is invalid:{}", ViolationList(.0))]
    Invalid(Vec<Violation>),
    /// The schema accepted the document but the Rust type did not: the two
    /// disagree, which the tests exist to prevent.
    #[error("recording document passed its schema but does not fit RecordingDocument: {0}")]
    Shape(#[source] serde_json::Error),
}

/// One problem with a document, located by a JSON pointer into it (`""` is
/// the document itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub pointer: String,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "(document)"
        } else {
            &self.pointer
        };
        write!(f, "{pointer}: {}", self.message)
    }
}

struct ViolationList<'a>(&'a [Violation]);

impl fmt::Display for ViolationList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for violation in self.0 {
            write!(f, "\n  {violation}")?;
        }
        Ok(())
    }
}

/// The parsed schema.
pub fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        // The schema is part of this crate's source, and a test compiles it,
        // so failing here is a build defect, not bad input.
        serde_json::from_str(SCHEMA_JSON).expect("schema/recording.schema.json is JSON")
    })
}

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            // Draft 2020-12 treats `format` as an annotation unless asked;
            // timestamps must really be RFC 3339.
            .should_validate_formats(true)
            .build(schema())
            .expect("schema/recording.schema.json is a valid draft 2020-12 schema")
    })
}

/// Checks a document against the schema and the rules the schema cannot
/// express (file keys lie under the recording's own prefix and are
/// distinct), then reads it. Reports every violation found, each with its
/// JSON pointer.
pub fn validate(value: &Value) -> Result<RecordingDocument, Error> {
    let violations: Vec<Violation> = validator()
        .iter_errors(value)
        .map(|error| Violation {
            pointer: error.instance_path().to_string(),
            message: error.to_string(),
        })
        .collect();
    if !violations.is_empty() {
        return Err(Error::Invalid(violations));
    }
    let mut typed = value.clone();
    integral_numbers_as_integers(&mut typed);
    let document: RecordingDocument = serde_json::from_value(typed).map_err(Error::Shape)?;
    let violations = document.cross_field_violations();
    if violations.is_empty() {
        Ok(document)
    } else {
        Err(Error::Invalid(violations))
    }
}

/// JSON Schema counts a number with no fraction as an integer (`50.0`,
/// `-0.0`, `1e3`) and serde's integer types do not, so a document the
/// schema passed could fail to read. Such numbers are read as the integers
/// they are (when they fit 64 bits; the schema's maximums keep the rest
/// out), so the schema and [`RecordingDocument`] agree. Iterative, as the
/// value may come nested from anywhere.
fn integral_numbers_as_integers(value: &mut Value) {
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        match value {
            Value::Number(number) => {
                let Some(float) = number.as_f64().filter(|_| number.is_f64()) else {
                    continue;
                };
                if float.fract() != 0.0 {
                    continue;
                }
                // The bounds are exact powers of two, so these casts are exact.
                if (0.0..18_446_744_073_709_551_616.0).contains(&float) {
                    *value = Value::from(float as u64);
                } else if (-9_223_372_036_854_775_808.0..0.0).contains(&float) {
                    *value = Value::from(float as i64);
                }
            }
            Value::Array(items) => pending.extend(items.iter_mut()),
            Value::Object(fields) => pending.extend(fields.values_mut()),
            _ => {}
        }
    }
}

impl RecordingDocument {
    /// Reads and validates a stored `recording.json`.
    pub fn from_json(bytes: &[u8]) -> Result<RecordingDocument, Error> {
        let value: Value = serde_json::from_slice(bytes).map_err(Error::Json)?;
        validate(&value)
    }

    /// The document as pretty JSON, validated first, so that nothing
    /// zoomvault writes could later be refused by [`validate`].
    pub fn to_json(&self) -> Result<Vec<u8>, Error> {
        let value = serde_json::to_value(self).map_err(Error::Shape)?;
        validate(&value)?;
        serde_json::to_vec_pretty(&value).map_err(Error::Shape)
    }

    /// Total bytes archived over all files.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|file| file.size_bytes).sum()
    }

    fn cross_field_violations(&self) -> Vec<Violation> {
        let keys = match RecordingKeys::for_document(self) {
            Ok(keys) => keys,
            Err(error) => {
                return vec![Violation {
                    pointer: "/meeting/uuid".to_owned(),
                    message: error.to_string(),
                }]
            }
        };
        let prefix = keys.recording_prefix();
        let mut violations = Vec::new();
        let mut first_use: HashMap<&str, usize> = HashMap::new();
        for (index, file) in self.files.iter().enumerate() {
            let pointer = format!("/files/{index}/storage_key");
            if !file.storage_key.starts_with(prefix) {
                violations.push(Violation {
                    pointer: pointer.clone(),
                    message: format!(
                        "{:?} is not under this recording's prefix {prefix:?} \
                         (derived from meeting.start_time, meeting.id and meeting.uuid)",
                        file.storage_key
                    ),
                });
            }
            match first_use.entry(&file.storage_key) {
                Entry::Occupied(first) => violations.push(Violation {
                    pointer,
                    message: format!("same storage key as /files/{}/storage_key", first.get()),
                }),
                Entry::Vacant(slot) => {
                    slot.insert(index);
                }
            }
        }
        violations
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{validate_key, FileIdentity, FileKey};
    use expect_test::{expect, Expect};
    use proptest::prelude::*;
    use serde_json::json;
    use std::collections::BTreeSet;
    use time::macros::datetime;

    const UUID: &str = "aDYlohsHRtCd4ii1uC2+hA==";

    fn storage_key(
        recording_type: Option<&str>,
        file_type: &str,
        id: Option<&str>,
        position: usize,
        ext: &str,
    ) -> String {
        let keys = RecordingKeys::new(datetime!(2024-03-05 14:00 UTC), 85746065432, UUID)
            .expect("valid identity");
        let file = FileKey::new(&FileIdentity {
            recording_type,
            file_type,
            zoom_file_id: id,
            position,
        })
        .expect("valid file identity");
        keys.file(&file, ext).expect("valid extension")
    }

    fn full_file() -> RecordingFile {
        RecordingFile {
            zoom_file_id: Some("ed6c2f27-2ae7-42f4-b3d0-835b493e4fa8".to_owned()),
            recording_type: Some("shared_screen_with_speaker_view".to_owned()),
            file_type: "MP4".to_owned(),
            extension: "MP4".to_owned(),
            size_bytes: 123_456_789,
            crc64nvme: Crc64Nvme(0x0123_4567_89ab_cdef),
            sha256: Some("a".repeat(64)),
            storage_key: storage_key(
                Some("shared_screen_with_speaker_view"),
                "MP4",
                Some("ed6c2f27-2ae7-42f4-b3d0-835b493e4fa8"),
                0,
                "mp4",
            ),
            content_type: "video/mp4".to_owned(),
            recording_start: Some(datetime!(2024-03-05 14:00:05 UTC)),
            recording_end: Some(datetime!(2024-03-05 14:59:40 UTC)),
        }
    }

    fn minimal_file() -> RecordingFile {
        RecordingFile {
            zoom_file_id: None,
            recording_type: None,
            file_type: "TIMELINE".to_owned(),
            extension: "JSON".to_owned(),
            size_bytes: 0,
            // The empty file's CRC.
            crc64nvme: Crc64Nvme(0),
            sha256: None,
            storage_key: storage_key(None, "TIMELINE", None, 1, "json"),
            content_type: "application/json".to_owned(),
            recording_start: None,
            recording_end: None,
        }
    }

    fn full_participant() -> Participant {
        Participant {
            name: "Ada Lovelace".to_owned(),
            email: Some("ada@example.com".to_owned()),
            join_time: Some(datetime!(2024-03-05 14:01 UTC)),
            leave_time: Some(datetime!(2024-03-05 14:58 UTC)),
        }
    }

    fn minimal_participant() -> Participant {
        Participant {
            name: "Dial-in caller".to_owned(),
            email: None,
            join_time: None,
            leave_time: None,
        }
    }

    fn ingest() -> IngestProvenance {
        IngestProvenance {
            execution_arn:
                "arn:aws:states:local:000000000000:execution:ingest:aDYlohsHRtCd4ii1uC2-hA=="
                    .to_owned(),
            source: IngestSource::Webhook,
            started_at: datetime!(2024-03-05 15:10 UTC),
            finished_at: datetime!(2024-03-05 15:12:30.25 UTC),
            zoomvault_version: "0.1.0".to_owned(),
        }
    }

    fn full_document() -> RecordingDocument {
        RecordingDocument {
            schema_version: SCHEMA_VERSION,
            meeting: Meeting {
                id: 85746065432,
                uuid: UUID.to_owned(),
                topic: "Weekly sync".to_owned(),
                meeting_type: 8,
                start_time: datetime!(2024-03-05 14:00 UTC),
                duration_minutes: 60,
                timezone: Some("Europe/Berlin".to_owned()),
            },
            host: Host {
                id: "z8yBXksaAAjdhfsfdfkjgg".to_owned(),
                email: Some("host@example.com".to_owned()),
                name: Some("Grace Hopper".to_owned()),
            },
            files: vec![full_file(), minimal_file()],
            participants: Some(vec![full_participant(), minimal_participant()]),
            ingest: ingest(),
            legal_hold: Some(full_legal_hold()),
        }
    }

    fn full_legal_hold() -> LegalHold {
        LegalHold {
            reason: "Litigation hold, matter 2024-117".to_owned(),
            placed_by: Some("counsel@example.com".to_owned()),
            since: Some(datetime!(2024-06-01 09:00 UTC)),
        }
    }

    fn minimal_legal_hold() -> LegalHold {
        LegalHold {
            reason: "Records request".to_owned(),
            placed_by: None,
            since: None,
        }
    }

    fn minimal_document() -> RecordingDocument {
        let full = full_document();
        RecordingDocument {
            meeting: Meeting {
                timezone: None,
                ..full.meeting
            },
            host: Host {
                id: "z8yBXksaAAjdhfsfdfkjgg".to_owned(),
                email: None,
                name: None,
            },
            files: vec![minimal_file()],
            participants: None,
            legal_hold: None,
            ..full
        }
    }

    /// Valid but unusual: no files, participants known to be none, a topic
    /// that is empty, an offset start time, the largest ids, another source.
    fn odd_document() -> RecordingDocument {
        let full = full_document();
        let mut file = full_file();
        file.zoom_file_id = Some("id with spaces/and+slashes".to_owned());
        file.recording_type = Some("shared_screen_with_speaker_view(CC)".to_owned());
        file.size_bytes = u64::MAX;
        let meeting = Meeting {
            id: u64::MAX,
            uuid: "//+/==".to_owned(),
            topic: String::new(),
            meeting_type: u32::MAX,
            start_time: datetime!(2024-03-05 23:59:59.999999999 -12:00),
            duration_minutes: 0,
            timezone: None,
        };
        let keys = RecordingKeys::new(meeting.start_time, meeting.id, &meeting.uuid)
            .expect("valid identity");
        let file_key = FileKey::new(&FileIdentity {
            recording_type: file.recording_type.as_deref(),
            file_type: &file.file_type,
            zoom_file_id: file.zoom_file_id.as_deref(),
            position: 0,
        })
        .expect("valid file identity");
        file.storage_key = keys.file(&file_key, "mp4").expect("valid extension");
        RecordingDocument {
            meeting,
            files: vec![file],
            participants: Some(Vec::new()),
            ingest: IngestProvenance {
                source: IngestSource::Scan,
                ..full.ingest
            },
            ..full
        }
    }

    #[test]
    fn schema_compiles() {
        let _ = validator();
    }

    #[test]
    fn representative_documents_are_valid_and_round_trip() {
        for document in [full_document(), minimal_document(), odd_document()] {
            let bytes = document.to_json().expect("valid document");
            let read = RecordingDocument::from_json(&bytes).expect("reads back");
            assert_eq!(read, document);
        }
    }

    #[test]
    fn full_document_json() {
        let json =
            String::from_utf8(full_document().to_json().expect("valid")).expect("JSON is UTF-8");
        expect![[r#"
            {
              "schema_version": 1,
              "meeting": {
                "id": 85746065432,
                "uuid": "aDYlohsHRtCd4ii1uC2+hA==",
                "topic": "Weekly sync",
                "type": 8,
                "start_time": "2024-03-05T14:00:00Z",
                "duration_minutes": 60,
                "timezone": "Europe/Berlin"
              },
              "host": {
                "id": "z8yBXksaAAjdhfsfdfkjgg",
                "email": "host@example.com",
                "name": "Grace Hopper"
              },
              "files": [
                {
                  "zoom_file_id": "ed6c2f27-2ae7-42f4-b3d0-835b493e4fa8",
                  "recording_type": "shared_screen_with_speaker_view",
                  "file_type": "MP4",
                  "extension": "MP4",
                  "size_bytes": 123456789,
                  "crc64nvme": "ASNFZ4mrze8=",
                  "sha256": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                  "storage_key": "recordings/2024/03/05/85746065432/aDYlohsHRtCd4ii1uC2-hA==/files/shared_screen_with_speaker_view-ed6c2f27-2ae7-42f4-b3d0-835b493e4fa8.mp4",
                  "content_type": "video/mp4",
                  "recording_start": "2024-03-05T14:00:05Z",
                  "recording_end": "2024-03-05T14:59:40Z"
                },
                {
                  "file_type": "TIMELINE",
                  "extension": "JSON",
                  "size_bytes": 0,
                  "crc64nvme": "AAAAAAAAAAA=",
                  "storage_key": "recordings/2024/03/05/85746065432/aDYlohsHRtCd4ii1uC2-hA==/files/timeline=1.json",
                  "content_type": "application/json"
                }
              ],
              "participants": [
                {
                  "name": "Ada Lovelace",
                  "email": "ada@example.com",
                  "join_time": "2024-03-05T14:01:00Z",
                  "leave_time": "2024-03-05T14:58:00Z"
                },
                {
                  "name": "Dial-in caller"
                }
              ],
              "ingest": {
                "execution_arn": "arn:aws:states:local:000000000000:execution:ingest:aDYlohsHRtCd4ii1uC2-hA==",
                "source": "webhook",
                "started_at": "2024-03-05T15:10:00Z",
                "finished_at": "2024-03-05T15:12:30.25Z",
                "zoomvault_version": "0.1.0"
              },
              "legal_hold": {
                "reason": "Litigation hold, matter 2024-117",
                "placed_by": "counsel@example.com",
                "since": "2024-06-01T09:00:00Z"
              }
            }"#]]
        .assert_eq(&json);
    }

    fn keys_of(value: &Value) -> BTreeSet<String> {
        value
            .as_object()
            .map(|object| object.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn schema_keys(node: &Value, field: &str) -> BTreeSet<String> {
        match &node[field] {
            Value::Object(properties) => properties.keys().cloned().collect(),
            Value::Array(required) => required
                .iter()
                .filter_map(|name| name.as_str().map(str::to_owned))
                .collect(),
            _ => BTreeSet::new(),
        }
    }

    /// The schema names exactly the fields the Rust type writes when every
    /// `Option` is set, requires exactly those it writes when none is, and
    /// allows nothing else.
    fn check_object_agrees(name: &str, node: &Value, full: &Value, minimal: &Value) {
        assert_eq!(
            schema_keys(node, "properties"),
            keys_of(full),
            "properties of {name}"
        );
        assert_eq!(
            schema_keys(node, "required"),
            keys_of(minimal),
            "required of {name}"
        );
        assert_eq!(
            node["additionalProperties"],
            json!(false),
            "additionalProperties of {name}"
        );
    }

    #[test]
    fn schema_objects_match_the_rust_type() {
        let schema = schema();
        let full = serde_json::to_value(full_document()).expect("serialises");
        let minimal = serde_json::to_value(minimal_document()).expect("serialises");
        let participant = |p: Participant| serde_json::to_value(p).expect("serialises");
        let pairs = [
            (
                "meeting",
                full["meeting"].clone(),
                minimal["meeting"].clone(),
            ),
            ("host", full["host"].clone(), minimal["host"].clone()),
            (
                "file",
                full["files"][0].clone(),
                minimal["files"][0].clone(),
            ),
            (
                "participant",
                participant(full_participant()),
                participant(minimal_participant()),
            ),
            ("ingest", full["ingest"].clone(), minimal["ingest"].clone()),
            (
                "legal_hold",
                full["legal_hold"].clone(),
                serde_json::to_value(minimal_legal_hold()).expect("serialises"),
            ),
        ];
        check_object_agrees("the document", schema, &full, &minimal);
        for (name, full, minimal) in &pairs {
            check_object_agrees(name, &schema["$defs"][name], full, minimal);
        }
        // Every object definition in the schema was compared above.
        let object_defs: BTreeSet<&str> = schema["$defs"]
            .as_object()
            .expect("$defs is an object")
            .iter()
            .filter(|(_, def)| def["type"] == "object")
            .map(|(name, _)| name.as_str())
            .collect();
        let compared: BTreeSet<&str> = pairs.iter().map(|(name, _, _)| *name).collect();
        assert_eq!(object_defs, compared);
        // The enum of sources is the Rust enum's.
        let sources: Vec<Value> = [
            IngestSource::Webhook,
            IngestSource::Manual,
            IngestSource::Scan,
        ]
        .iter()
        .map(|source| serde_json::to_value(source).expect("serialises"))
        .collect();
        assert_eq!(
            schema["$defs"]["ingest"]["properties"]["source"]["enum"],
            json!(sources)
        );
        assert_eq!(
            schema["properties"]["schema_version"]["const"],
            json!(SCHEMA_VERSION)
        );
    }

    fn check_invalid(edit: impl FnOnce(&mut Value), expect: Expect) {
        let mut value = serde_json::to_value(full_document()).expect("serialises");
        edit(&mut value);
        let actual = match validate(&value) {
            Ok(_) => "valid".to_owned(),
            Err(error) => error.to_string(),
        };
        expect.assert_eq(&actual);
    }

    #[test]
    fn invalid_documents_name_every_pointer() {
        check_invalid(|_| {}, expect!["valid"]);
        check_invalid(
            |doc| {
                doc["meeting"]["id"] = json!("85746065432");
                doc["files"][0]["sha256"] = json!("ABC");
                doc["files"][1]["crc64nvme"] = json!("AAAA");
                doc["participants"][0]["join_time"] = json!("yesterday");
                doc["ingest"]["source"] = json!("carrier pigeon");
                doc["host"].as_object_mut().expect("object").remove("id");
                doc["surprise"] = json!(true);
            },
            expect![[r#"
                recording document is invalid:
                  /meeting/id: "85746065432" is not of type "integer"
                  /host: "id" is a required property
                  /files/0/sha256: "ABC" does not match "^[0-9a-f]{64}$"
                  /files/1/crc64nvme: "AAAA" does not match "^[A-Za-z0-9+/]{10}[AEIMQUYcgkosw048]=$"
                  /participants/0/join_time: "yesterday" is not a "date-time"
                  /ingest/source: "carrier pigeon" is not one of "webhook", "manual" or "scan"
                  (document): Additional properties are not allowed ('surprise' was unexpected)"#]],
        );
        check_invalid(
            |doc| doc["schema_version"] = json!(2),
            expect![[r#"
                recording document is invalid:
                  /schema_version: 1 was expected"#]],
        );
        check_invalid(
            |doc| doc["meeting"]["duration_minutes"] = json!(-1),
            expect![[r#"
                recording document is invalid:
                  /meeting/duration_minutes: -1 is less than the minimum of 0"#]],
        );
    }

    #[test]
    fn a_legal_hold_must_say_why() {
        check_invalid(
            |doc| {
                doc["legal_hold"] = json!({"reason": "", "since": "today", "until": "never"});
            },
            expect![[r#"
                recording document is invalid:
                  /legal_hold/reason: "" is shorter than 1 character
                  /legal_hold/since: "today" is not a "date-time"
                  /legal_hold: Additional properties are not allowed ('until' was unexpected)"#]],
        );
        check_invalid(
            |doc| doc["legal_hold"] = json!({}),
            expect![[r#"
            recording document is invalid:
              /legal_hold: "reason" is a required property"#]],
        );
    }

    #[test]
    fn unsafe_or_foreign_storage_keys_are_refused() {
        check_invalid(
            |doc| {
                doc["files"][0]["storage_key"] = json!("../etc/passwd");
                doc["files"][1]["storage_key"] = json!("/abs/key");
            },
            expect![[r#"
                recording document is invalid:
                  /files/0/storage_key: "../etc/passwd" does not match "^(?!/)(?!.*//)(?!.*/$)(?!(?:.*/)?\.\.?(?:/|$))(?!.*[^/]{256})[A-Za-z0-9._=/-]{1,1024}$"
                  /files/1/storage_key: "/abs/key" does not match "^(?!/)(?!.*//)(?!.*/$)(?!(?:.*/)?\.\.?(?:/|$))(?!.*[^/]{256})[A-Za-z0-9._=/-]{1,1024}$""#]],
        );
        check_invalid(
            |doc| {
                doc["files"][0]["storage_key"] = json!("recordings/2024/03/05/1/other/files/x.mp4");
                doc["files"][1]["storage_key"] = doc["files"][0]["storage_key"].clone();
            },
            expect![[r#"
                recording document is invalid:
                  /files/0/storage_key: "recordings/2024/03/05/1/other/files/x.mp4" is not under this recording's prefix "recordings/2024/03/05/85746065432/aDYlohsHRtCd4ii1uC2-hA==/" (derived from meeting.start_time, meeting.id and meeting.uuid)
                  /files/1/storage_key: "recordings/2024/03/05/1/other/files/x.mp4" is not under this recording's prefix "recordings/2024/03/05/85746065432/aDYlohsHRtCd4ii1uC2-hA==/" (derived from meeting.start_time, meeting.id and meeting.uuid)
                  /files/1/storage_key: same storage key as /files/0/storage_key"#]],
        );
        // Moving the start date moves the prefix: the files no longer belong.
        check_invalid(
            |doc| doc["meeting"]["start_time"] = json!("2024-03-04T14:00:00Z"),
            expect![[r#"
                recording document is invalid:
                  /files/0/storage_key: "recordings/2024/03/05/85746065432/aDYlohsHRtCd4ii1uC2-hA==/files/shared_screen_with_speaker_view-ed6c2f27-2ae7-42f4-b3d0-835b493e4fa8.mp4" is not under this recording's prefix "recordings/2024/03/04/85746065432/aDYlohsHRtCd4ii1uC2-hA==/" (derived from meeting.start_time, meeting.id and meeting.uuid)
                  /files/1/storage_key: "recordings/2024/03/05/85746065432/aDYlohsHRtCd4ii1uC2-hA==/files/timeline=1.json" is not under this recording's prefix "recordings/2024/03/04/85746065432/aDYlohsHRtCd4ii1uC2-hA==/" (derived from meeting.start_time, meeting.id and meeting.uuid)"#]],
        );
    }

    #[test]
    fn not_json_is_its_own_error() {
        let error = RecordingDocument::from_json(b"{").expect_err("not JSON");
        assert!(matches!(error, Error::Json(_)), "{error}");
    }

    fn storage_key_pattern() -> &'static jsonschema::Validator {
        static PATTERN: OnceLock<jsonschema::Validator> = OnceLock::new();
        PATTERN.get_or_init(|| {
            let field = &schema()["$defs"]["file"]["properties"]["storage_key"];
            jsonschema::draft202012::new(field).expect("the storage_key schema compiles")
        })
    }

    /// Found by `fuzz_document_validation_of_mutated_documents`: JSON
    /// Schema passes `-0.0` and `50.0` as integers, serde's `u32` did not,
    /// so a hand-edited document the schema accepted failed as a defect
    /// ("passed its schema but does not fit"). They now read as integers.
    #[test]
    fn integral_numbers_in_integer_fields_read_as_integers() {
        let mut value = serde_json::to_value(crate::fixtures::document(1, 1)).expect("serialises");
        for (written, read) in [(json!(-0.0), 0), (json!(50.0), 50), (json!(1e3), 1000)] {
            value["meeting"]["duration_minutes"] = written.clone();
            let document = validate(&value).unwrap_or_else(|e| panic!("{written}: {e}"));
            assert_eq!(document.meeting.duration_minutes, read);
        }
        value["meeting"]["duration_minutes"] = json!(50.5);
        assert!(matches!(validate(&value), Err(Error::Invalid(_))));
    }

    #[test]
    fn storage_key_pattern_limits_segments_like_validate_key() {
        for key in [
            "a".repeat(255),
            format!("x/{}", "a".repeat(256)),
            "a/".repeat(600),
        ] {
            assert_eq!(
                storage_key_pattern().is_valid(&json!(key)),
                validate_key(&key).is_ok(),
                "{key}"
            );
        }
    }

    fn crc64nvme_pattern() -> &'static jsonschema::Validator {
        static PATTERN: OnceLock<jsonschema::Validator> = OnceLock::new();
        PATTERN.get_or_init(|| {
            let field = &schema()["$defs"]["file"]["properties"]["crc64nvme"];
            jsonschema::draft202012::new(field).expect("the crc64nvme schema compiles")
        })
    }

    proptest! {
        #[test]
        fn crc64nvme_pattern_agrees_with_parsing(text in "[A-Za-z0-9+/]{10,11}=?=?") {
            prop_assert_eq!(
                crc64nvme_pattern().is_valid(&json!(text)),
                text.parse::<Crc64Nvme>().is_ok()
            );
        }

        #[test]
        fn every_crc64nvme_is_written_as_the_pattern_allows(value in any::<u64>()) {
            prop_assert!(crc64nvme_pattern().is_valid(&json!(Crc64Nvme(value).to_string())));
        }

        #[test]
        fn storage_key_pattern_agrees_with_validate_key(key in "[a./=_ -]{0,12}") {
            prop_assert_eq!(
                storage_key_pattern().is_valid(&json!(key)),
                validate_key(&key).is_ok()
            );
        }
    }
}
