//! Parses the sample payloads in `crates/zoom/tests/fixtures/` (shaped after Zoom's
//! documented examples) and pins what zoomvault reads from them. No network.

use expect_test::expect;
use zoomvault_zoom::{parse_event, MeetingRecording, Participant, PastMeeting, User, ZoomEvent};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn summarize(recording: &MeetingRecording) -> String {
    let mut lines = vec![format!(
        "{} #{} {:?} start={:?} files={} total={:?}",
        recording.uuid,
        recording.id,
        recording.topic.as_deref().unwrap_or(""),
        recording.start_time.map(|t| t.unix_timestamp()),
        recording.recording_files.len(),
        recording.total_size,
    )];
    for file in &recording.recording_files {
        lines.push(format!(
            "  {:?} {:?}/{:?} size={:?} type={:?}",
            file.id.as_deref().map(|id| &id[..8]),
            file.file_type.as_deref().unwrap_or(""),
            file.file_extension.as_deref().unwrap_or(""),
            file.file_size,
            file.recording_type.as_deref().unwrap_or(""),
        ));
    }
    for file in recording.participant_audio_files.iter().flatten() {
        lines.push(format!(
            "  participant audio {:?} size={:?}",
            file.file_name.as_deref().unwrap_or(""),
            file.file_size
        ));
    }
    lines.join("\n")
}

#[test]
fn recording_completed_fixture_parses_every_file_including_timeline() {
    let ZoomEvent::RecordingCompleted(event) =
        parse_event(&fixture("recording_completed.json")).expect("fixture parses")
    else {
        panic!("not a recording.completed event");
    };
    assert_eq!(event.event_ts, Some(1_701_461_017_461));
    assert_eq!(event.account_id.as_deref(), Some("AAAAAABBBB"));
    assert!(event
        .download_token
        .as_deref()
        .is_some_and(|t| t.contains("FIXTURE-DOWNLOAD-TOKEN")));
    assert!(event.raw.get("download_token").is_none());
    expect![[r#"
        /ajXp112QmuoKj4854875== #87565330005 "Quarterly planning" start=Some(1701460916) files=5 total=Some(3500663)
          Some("ed6c2f27") "MP4"/"MP4" size=Some(2040001) type="shared_screen_with_speaker_view"
          Some("0f8a1c2e") "MP4"/"MP4" size=Some(1020002) type="shared_screen_with_speaker_view"
          Some("8f25b8c1") "M4A"/"M4A" size=Some(440000) type="audio_only"
          Some("c4a1e2b3") "CHAT"/"TXT" size=Some(660) type="chat_file"
          None "TIMELINE"/"JSON" size=None type="timeline"
          participant audio "Audio only - Jill Chill" size=Some(246560)"#]]
    .assert_eq(&summarize(&event.recording));
}

#[test]
fn url_validation_and_other_events_parse() {
    assert_eq!(
        parse_event(&fixture("url_validation.json")).expect("parses"),
        ZoomEvent::UrlValidation {
            plain_token: "qgg8vlvZRS6UYooatFL8Aw".into()
        }
    );
    let other = parse_event(&fixture("meeting_ended.json")).expect("parses");
    assert_eq!(other.name(), "meeting.ended");
}

#[test]
fn rest_fixtures_parse() {
    let recording: MeetingRecording =
        serde_json::from_slice(&fixture("meeting_recordings.json")).expect("parses");
    assert_eq!(recording.recording_files.len(), 5);

    let list: serde_json::Value =
        serde_json::from_slice(&fixture("user_recordings.json")).expect("json");
    let meetings: Vec<MeetingRecording> =
        serde_json::from_value(list["meetings"].clone()).expect("parses");
    assert_eq!(meetings, vec![recording]);

    let past: PastMeeting = serde_json::from_slice(&fixture("past_meeting.json")).expect("parses");
    assert_eq!(
        (past.id, past.participants_count, past.duration),
        (Some(87_565_330_005), Some(3), Some(53))
    );

    let page: serde_json::Value =
        serde_json::from_slice(&fixture("past_meeting_participants.json")).expect("json");
    let participants: Vec<Participant> =
        serde_json::from_value(page["participants"].clone()).expect("parses");
    let names: Vec<&str> = participants
        .iter()
        .filter_map(|p| p.name.as_deref())
        .collect();
    assert_eq!(names, ["Jill Chill", "Ada Lovelace", "Dial-in guest"]);

    let page: serde_json::Value = serde_json::from_slice(&fixture("users.json")).expect("json");
    let users: Vec<User> = serde_json::from_value(page["users"].clone()).expect("parses");
    assert_eq!(users[0].display_name.as_deref(), Some("Jill Chill"));
    assert_eq!(users[1].user_type, Some(1));
}

#[test]
fn recordings_round_trip_through_serde() {
    let recording: MeetingRecording =
        serde_json::from_slice(&fixture("meeting_recordings.json")).expect("parses");
    let again: MeetingRecording =
        serde_json::from_value(serde_json::to_value(&recording).expect("serializes"))
            .expect("parses back");
    assert_eq!(again, recording);
}
