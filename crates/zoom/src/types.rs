//! Zoom's REST and webhook JSON shapes that zoomvault reads: recordings and
//! their files, past meetings, participants, users. Parsing is lenient on
//! purpose: unknown fields are ignored and anything Zoom omits for some
//! meetings or file types is an `Option`, so a new Zoom field or a TIMELINE
//! file without `id` never fails an ingest. This module owns the shapes only;
//! it must not fetch, validate business rules, or hold credentials (a
//! recording's `download_access_token` is deliberately not modelled).

use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;

/// One meeting instance's cloud recording: `GET /meetings/{id}/recordings`,
/// an element of `GET /users/{id}/recordings`, and `payload.object` of the
/// `recording.completed` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeetingRecording {
    /// The meeting instance's UUID (base64; may contain `/`, `+`, `=`).
    pub uuid: String,
    /// The meeting number shared by every instance of a recurring meeting.
    #[serde(deserialize_with = "u64_from_number_or_string")]
    pub id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Zoom's meeting `type` (1 instant, 2 scheduled, 3/8 recurring, ...).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub meeting_type: Option<i64>,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_time: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u64>,
    /// Bytes, all files together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_url: Option<String>,
    #[serde(default)]
    pub recording_files: Vec<RecordingFile>,
    /// Per-participant audio, present only when the account enables it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_audio_files: Option<Vec<RecordingFile>>,
}

/// One file of a recording. Zoom omits `id` and `file_size` for some types
/// (TIMELINE), and one recording may have several files of the same
/// `recording_type`, so neither identifies a file on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordingFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The meeting instance's UUID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting_id: Option<String>,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub recording_start: Option<OffsetDateTime>,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub recording_end: Option<OffsetDateTime>,
    /// MP4, M4A, CHAT, TRANSCRIPT, CC, CSV, TIMELINE, SUMMARY, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_extension: Option<String>,
    /// Participant audio files carry a display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub play_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
    /// `completed`, or `processing` while Zoom is still transcoding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// shared_screen_with_speaker_view, audio_only, chat_file, timeline, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_type: Option<String>,
}

/// `GET /past_meetings/{meetingUUID}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PastMeeting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    #[serde(default, deserialize_with = "option_u64_from_number_or_string")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_id: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub meeting_type: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// The host's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// The host's email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_email: Option<String>,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_time: Option<OffsetDateTime>,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub end_time: Option<OffsetDateTime>,
    /// Minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u64>,
    /// Participant-minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_minutes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participants_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dept: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// An element of `GET /past_meetings/{meetingUUID}/participants`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    /// The participant's user id; empty or absent for guests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registrant_id: Option<String>,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub join_time: Option<OffsetDateTime>,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub leave_time: Option<OffsetDateTime>,
    /// Seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u64>,
}

/// An element of `GET /users`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// 1 basic, 2 licensed, 4 unassigned, 99 none.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub user_type: Option<i64>,
    /// active, inactive, pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dept: Option<String>,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_at: Option<OffsetDateTime>,
}

/// One page of a list endpoint. Zoom signals the last page with an absent or
/// empty `next_page_token`.
#[derive(Debug, Deserialize)]
pub(crate) struct Page<T> {
    #[serde(default)]
    pub next_page_token: Option<String>,
    #[serde(flatten)]
    pub items: T,
}

impl<T> Page<T> {
    pub(crate) fn next_token(&self) -> Option<&str> {
        self.next_page_token.as_deref().filter(|t| !t.is_empty())
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct MeetingsField {
    #[serde(default)]
    pub meetings: Vec<MeetingRecording>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ParticipantsField {
    #[serde(default)]
    pub participants: Vec<Participant>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct UsersField {
    #[serde(default)]
    pub users: Vec<User>,
}

/// Meeting numbers are JSON numbers in most Zoom responses but strings in a
/// few (and in hand-written manual-ingest events); accept both.
fn u64_from_number_or_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrString {
        Number(u64),
        String(String),
    }
    match NumberOrString::deserialize(deserializer)? {
        NumberOrString::Number(n) => Ok(n),
        NumberOrString::String(s) => s
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("expected a meeting number, got {s:?}"))),
    }
}

fn option_u64_from_number_or_string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    u64_from_number_or_string(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeline_file_without_id_or_size_parses() {
        let file: RecordingFile = serde_json::from_value(serde_json::json!({
            "meeting_id": "abc==",
            "recording_start": "2024-01-02T10:00:00Z",
            "recording_end": "2024-01-02T10:30:00Z",
            "file_type": "TIMELINE",
            "file_extension": "JSON",
            "download_url": "https://zoom.us/rec/download/x",
            "status": "completed",
            "recording_type": "timeline",
            "a_field_zoom_adds_next_year": true
        }))
        .expect("lenient parse");
        assert_eq!(file.id, None);
        assert_eq!(file.file_size, None);
        assert_eq!(file.file_type.as_deref(), Some("TIMELINE"));
    }

    #[test]
    fn meeting_number_may_be_a_string() {
        let recording: MeetingRecording = serde_json::from_value(serde_json::json!({
            "uuid": "/ajXp112QmuoKj4854875==",
            "id": "85746065432"
        }))
        .expect("lenient parse");
        assert_eq!(recording.id, 85_746_065_432);
        assert!(recording.recording_files.is_empty());
    }
}

/// One ended instance of a meeting, as `GET /past_meetings/{meetingId}/instances`
/// lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeetingInstance {
    pub uuid: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub start_time: Option<OffsetDateTime>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct MeetingInstances {
    #[serde(default)]
    pub meetings: Vec<MeetingInstance>,
}
