//! The REST API under /v2: recording and past-meeting shapes, Zoom's UUID
//! encoding rule, paging, the one-month listing window and the trash. Each
//! test starts a simulator of its own.

use serde_json::Value;
use time::macros::datetime;
use zoomvault_zoom_sim::{
    encode_meeting_uuid_for_path, FileSpec, MeetingSpec, RecordingState, UserSpec, UuidShape,
};

use crate::support::{client, get_json, sim, token};

fn recordings_url(sim: &zoomvault_zoom_sim::ZoomSim, segment: &str) -> String {
    format!("{}/meetings/{segment}/recordings", sim.api_base_url())
}

#[tokio::test]
async fn meeting_recordings_have_zoom_shape() {
    let sim = sim().await;
    let meeting = sim.demo_meeting();
    assert!(meeting.uuid.starts_with('/'), "demo UUID begins with /");
    let token = token(&sim).await;
    let (status, body) =
        get_json(&recordings_url(&sim, &meeting.uuid_path_segment()), &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["uuid"], meeting.uuid.as_str());
    assert_eq!(body["id"], meeting.id);
    assert_eq!(body["account_id"], "zv_sim_account");
    assert_eq!(body["host_email"], "ada@example.com");
    assert_eq!(body["recording_count"], 6);
    let files = body["recording_files"].as_array().expect("files");
    let types: Vec<&str> = files
        .iter()
        .map(|f| f["file_type"].as_str().expect("file_type"))
        .collect();
    assert_eq!(
        types,
        ["MP4", "MP4", "M4A", "TRANSCRIPT", "CHAT", "TIMELINE"]
    );
    let screen = files
        .iter()
        .filter(|f| f["recording_type"] == "shared_screen_with_speaker_view")
        .count();
    assert_eq!(screen, 2, "two segments of the same recording_type");
    for file in &files[..5] {
        for field in [
            "id",
            "meeting_id",
            "recording_start",
            "recording_end",
            "file_type",
            "file_extension",
            "file_size",
            "play_url",
            "download_url",
            "status",
            "recording_type",
        ] {
            assert!(!file[field].is_null(), "{field} missing in {file}");
        }
        assert_eq!(file["meeting_id"], meeting.uuid.as_str());
        assert!(file["download_url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&format!("{}/rec/download/", sim.base_url()))));
    }
    let timeline = &files[5];
    assert!(timeline.get("id").is_none() && timeline.get("file_size").is_none());
    assert_eq!(timeline["file_extension"], "JSON");
    let listed: u64 = files.iter().filter_map(|f| f["file_size"].as_u64()).sum();
    assert_eq!(body["total_size"], listed);
}

#[tokio::test]
async fn slash_uuids_must_be_double_encoded() {
    let sim = sim().await;
    let token = token(&sim).await;
    for shape in [UuidShape::LeadingSlash, UuidShape::DoubleSlash] {
        let meeting = sim.add_meeting(MeetingSpec {
            uuid_shape: shape,
            files: vec![FileSpec::audio(10)],
            ..MeetingSpec::default()
        });
        let double = encode_meeting_uuid_for_path(&meeting.uuid);
        assert!(double.contains("%25"), "{double}");
        let (status, body) = get_json(&recordings_url(&sim, &double), &token).await;
        assert_eq!(
            (status, body["uuid"].as_str()),
            (200, Some(meeting.uuid.as_str()))
        );

        let single = zoomvault_zoom_sim::ids::encode_path_segment(&meeting.uuid);
        let (status, body) = get_json(&recordings_url(&sim, &single), &token).await;
        assert_eq!(status, 404, "single-encoded {single}");
        assert_eq!(body["code"], 3301);

        let past = format!("{}/past_meetings/{double}", sim.api_base_url());
        assert_eq!(get_json(&past, &token).await.0, 200);
        let past = format!("{}/past_meetings/{single}", sim.api_base_url());
        assert_eq!(get_json(&past, &token).await.0, 404);
    }
}

#[tokio::test]
async fn plain_uuids_work_encoded_once_and_numbers_give_the_latest_instance() {
    let sim = sim().await;
    let token = token(&sim).await;
    let older = sim.add_meeting(MeetingSpec {
        id: Some(81_234_567_890),
        start_time: Some(datetime!(2024-05-01 10:00 UTC)),
        ..MeetingSpec::default()
    });
    let newer = sim.add_meeting(MeetingSpec {
        id: Some(81_234_567_890),
        start_time: Some(datetime!(2024-05-08 10:00 UTC)),
        ..MeetingSpec::default()
    });
    let (status, body) = get_json(&recordings_url(&sim, &older.uuid_path_segment()), &token).await;
    assert_eq!(
        (status, body["uuid"].as_str()),
        (200, Some(older.uuid.as_str()))
    );
    let (status, body) = get_json(&recordings_url(&sim, "81234567890"), &token).await;
    assert_eq!(
        (status, body["uuid"].as_str()),
        (200, Some(newer.uuid.as_str()))
    );
}

#[tokio::test]
async fn unknown_meetings_get_zoom_not_found_errors() {
    let sim = sim().await;
    let token = token(&sim).await;
    let (status, body) = get_json(&recordings_url(&sim, "nope%3D%3D"), &token).await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        serde_json::json!({"code": 3301, "message": "This recording does not exist."})
    );
    let (status, body) = get_json(
        &format!("{}/past_meetings/nope", sim.api_base_url()),
        &token,
    )
    .await;
    assert_eq!((status, body["code"].as_u64()), (404, Some(3001)));
}

#[tokio::test]
async fn past_meeting_details_and_paged_participants() {
    let sim = sim().await;
    let meeting = sim.demo_meeting();
    let token = token(&sim).await;
    let base = format!(
        "{}/past_meetings/{}",
        sim.api_base_url(),
        meeting.uuid_path_segment()
    );
    let (status, details) = get_json(&base, &token).await;
    assert_eq!(status, 200);
    assert_eq!(details["uuid"], meeting.uuid.as_str());
    assert_eq!(details["topic"], "Quarterly planning review");
    assert_eq!(details["user_email"], "ada@example.com");
    assert_eq!(details["participants_count"], 4);
    assert!(details["end_time"].is_string());

    let (status, first) = get_json(&format!("{base}/participants?page_size=3"), &token).await;
    assert_eq!(status, 200);
    assert_eq!(first["total_records"], 4);
    assert_eq!(first["participants"].as_array().map(Vec::len), Some(3));
    let next = first["next_page_token"].as_str().expect("token");
    assert!(!next.is_empty());
    let (_, second) = get_json(
        &format!("{base}/participants?page_size=3&next_page_token={next}"),
        &token,
    )
    .await;
    assert_eq!(second["participants"].as_array().map(Vec::len), Some(1));
    assert_eq!(second["next_page_token"], "");
    assert_eq!(second["participants"][0]["status"], "in_meeting");
}

#[tokio::test]
async fn users_are_paged_with_next_page_token_and_filtered_by_status() {
    let sim = sim().await;
    for n in 0..70 {
        sim.add_user(UserSpec::active(
            "User",
            &n.to_string(),
            &format!("user{n}@example.com"),
        ));
    }
    let token = token(&sim).await;
    let mut seen = Vec::new();
    let mut next = String::new();
    loop {
        let url = format!(
            "{}/users?status=active&page_size=30&next_page_token={next}",
            sim.api_base_url()
        );
        let (status, page) = get_json(&url, &token).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["total_records"], 73);
        assert_eq!(page["page_count"], 3);
        let users = page["users"].as_array().expect("users");
        seen.push(users.len());
        next = page["next_page_token"].as_str().expect("token").to_owned();
        if next.is_empty() {
            break;
        }
    }
    assert_eq!(seen, [30, 30, 13]);

    let url = format!("{}/users?status=inactive", sim.api_base_url());
    let (_, page) = get_json(&url, &token).await;
    assert_eq!(page["users"][0]["email"], "ken@example.com");

    let url = format!("{}/users?next_page_token=bogus", sim.api_base_url());
    let (status, body) = get_json(&url, &token).await;
    assert_eq!((status, body["code"].as_u64()), (400, Some(300)));
}

fn add_may_meetings(sim: &zoomvault_zoom_sim::ZoomSim) -> Vec<String> {
    (1..=5)
        .map(|day| {
            sim.add_meeting(MeetingSpec {
                topic: format!("May {day}"),
                start_time: Some(datetime!(2024-05-01 09:00 UTC) + time::Duration::days(day * 3)),
                files: vec![FileSpec::audio(100)],
                ..MeetingSpec::default()
            })
            .uuid
        })
        .collect()
}

#[tokio::test]
async fn user_recordings_are_paged_newest_first() {
    let sim = sim().await;
    let uuids = add_may_meetings(&sim);
    let token = token(&sim).await;
    let mut listed = Vec::new();
    let mut next = String::new();
    let mut pages = 0;
    loop {
        let url = format!(
            "{}/users/me/recordings?from=2024-05-01&to=2024-05-31&page_size=2&next_page_token={next}",
            sim.api_base_url()
        );
        let (status, page) = get_json(&url, &token).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(
            (page["from"].as_str(), page["to"].as_str()),
            (Some("2024-05-01"), Some("2024-05-31"))
        );
        assert_eq!(page["total_records"], 5);
        for meeting in page["meetings"].as_array().expect("meetings") {
            assert!(meeting["recording_files"].is_array());
            listed.push(meeting["uuid"].as_str().expect("uuid").to_owned());
        }
        pages += 1;
        next = page["next_page_token"].as_str().expect("token").to_owned();
        if next.is_empty() {
            break;
        }
    }
    assert_eq!(pages, 3);
    let newest_first: Vec<String> = uuids.into_iter().rev().collect();
    assert_eq!(listed, newest_first);

    // Outside the window, and for another user, nothing is listed.
    let url = format!(
        "{}/users/me/recordings?from=2024-06-01&to=2024-06-30",
        sim.api_base_url()
    );
    assert_eq!(get_json(&url, &token).await.1["total_records"], 0);
    let url = format!(
        "{}/users/grace@example.com/recordings?from=2024-05-01&to=2024-05-31",
        sim.api_base_url()
    );
    assert_eq!(get_json(&url, &token).await.1["total_records"], 0);
    let url = format!("{}/users/nobody/recordings", sim.api_base_url());
    assert_eq!(get_json(&url, &token).await.1["code"], 1001);
}

#[tokio::test]
async fn user_recordings_refuse_ranges_over_one_month() {
    let sim = sim().await;
    let token = token(&sim).await;
    let list = |from: &str, to: &str| {
        format!(
            "{}/users/me/recordings?from={from}&to={to}",
            sim.api_base_url()
        )
    };
    assert_eq!(
        get_json(&list("2024-01-31", "2024-02-29"), &token).await.0,
        200
    );
    assert_eq!(
        get_json(&list("2024-05-01", "2024-06-01"), &token).await.0,
        200
    );
    let (status, body) = get_json(&list("2024-05-01", "2024-06-02"), &token).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        serde_json::json!({"code": 300, "message": "The maximum range can be a month."})
    );
    assert_eq!(
        get_json(&list("2024-01-01", "2024-03-01"), &token).await.0,
        400
    );
    assert_eq!(
        get_json(&list("2024-05-10", "2024-05-01"), &token).await.0,
        400
    );
    assert_eq!(get_json(&list("May 1", "2024-05-01"), &token).await.0, 400);
}

#[tokio::test]
async fn trash_is_observable_and_recoverable() {
    let sim = sim().await;
    let meeting = sim.demo_meeting();
    let token = token(&sim).await;
    let url = recordings_url(&sim, &meeting.uuid_path_segment());
    assert!(!sim.is_trashed(&meeting.uuid));

    let response = client()
        .delete(format!("{url}?action=trash"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status(), 204);
    assert!(sim.is_trashed(&meeting.uuid));
    assert_eq!(sim.trashed(), vec![meeting.uuid.as_str()]);
    assert_eq!(
        get_json(&url, &token).await.0,
        404,
        "trashed recordings are not listed"
    );

    let day = meeting.start_time.date();
    let trash_list = format!(
        "{}/users/me/recordings?trash=true&from={day}&to={day}",
        sim.api_base_url()
    );
    let (_, listed) = get_json(&trash_list, &token).await;
    assert_eq!(listed["meetings"][0]["uuid"], meeting.uuid.as_str());

    let response = client()
        .put(format!("{url}/status"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"action": "recover"}))
        .send()
        .await
        .expect("recover");
    assert_eq!(response.status(), 204);
    assert_eq!(
        sim.recording_state(&meeting.uuid),
        Some(RecordingState::Active)
    );

    let response = client()
        .delete(format!("{url}?action=delete"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status(), 204);
    assert_eq!(
        sim.recording_state(&meeting.uuid),
        Some(RecordingState::Deleted)
    );
    let response = client()
        .delete(&url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("delete again");
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["code"], 3301);
}
