//! The REST client against the Zoom simulator over real HTTP: OAuth token
//! caching and refresh, retries on 429/5xx, UUID encoding, windowed and
//! paged listings, trash. Assertions read the simulator's request log.

mod common;

use std::time::{Duration, Instant};

use common::{client_for, config_for, requests_under, start_sim, token_requests};
use time::macros::{date, datetime};
use zoomvault_zoom::{Error, ZoomClient};
use zoomvault_zoom_sim::{FileSpec, MeetingSpec, SimConfig, UuidShape};

#[tokio::test]
async fn oauth_token_is_fetched_once_and_reused() {
    let sim = start_sim(SimConfig::default()).await;
    let meeting = sim.demo_meeting();
    let client = client_for(&sim);

    client.list_users().await.expect("users");
    client
        .meeting_recordings(&meeting.uuid)
        .await
        .expect("recordings");
    client
        .past_meeting(&meeting.uuid)
        .await
        .expect("past meeting");

    let log = sim.request_log();
    assert_eq!(token_requests(&log), 1, "{log:#?}");
    assert!(log.iter().all(|r| r.status == 200), "{log:#?}");
}

#[tokio::test]
async fn concurrent_callers_share_one_token_fetch() {
    let sim = start_sim(SimConfig::default()).await;
    let client = client_for(&sim);

    let calls = (0..8).map(|_| client.list_users());
    let results = futures_util::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));

    assert_eq!(token_requests(&sim.request_log()), 1);
}

#[tokio::test]
async fn a_token_past_its_lifetime_is_replaced_before_use() {
    // The simulator reports `expires_in` one second short of the TTL, so a
    // one-second TTL is a token Zoom says is already spent: the client must
    // not reuse it, and must not need a 401 to find that out.
    let sim = start_sim(SimConfig {
        token_ttl: Duration::from_secs(1),
        ..SimConfig::default()
    })
    .await;
    let client = client_for(&sim);

    client.list_users().await.expect("first call");
    client.list_users().await.expect("second call");

    let log = sim.request_log();
    assert_eq!(token_requests(&log), 2, "{log:#?}");
    assert!(log.iter().all(|r| r.status != 401), "{log:#?}");
}

#[tokio::test]
async fn a_rejected_token_is_refreshed_once_and_the_call_succeeds() {
    let sim = start_sim(SimConfig::default()).await;
    let client = client_for(&sim);
    client.list_users().await.expect("first call");

    sim.expire_access_tokens();
    sim.clear_request_log();
    client.list_users().await.expect("call after expiry");

    let statuses: Vec<(String, u16)> = sim
        .request_log()
        .into_iter()
        .map(|r| (r.path, r.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("/v2/users".to_owned(), 401),
            ("/oauth/token".to_owned(), 200),
            ("/v2/users".to_owned(), 200),
        ]
    );
}

#[tokio::test]
async fn wrong_client_secret_is_unauthorized() {
    let sim = start_sim(SimConfig::default()).await;
    let mut config = config_for(&sim);
    config.client_secret = "not-the-secret".into();
    let client = ZoomClient::new(config).expect("valid config");

    let error = client.list_users().await.expect_err("must fail");
    assert_eq!(error.error_name(), "Zoom.Unauthorized", "{error}");
    assert!(
        error.to_string().contains("invalid_client"),
        "Zoom's reason is kept: {error}"
    );
}

#[tokio::test]
async fn rate_limit_with_retry_after_is_waited_out_and_retried() {
    let sim = start_sim(SimConfig::default()).await;
    let client = client_for(&sim);
    client.list_users().await.expect("warm up the token");
    sim.clear_request_log();

    sim.fail_next("/v2/users", 429, 1, Some(Duration::from_secs(1)));
    let started = Instant::now();
    let users = client.list_users().await.expect("succeeds after the wait");
    let waited = started.elapsed();

    assert_eq!(users.len(), 3);
    // The policy's own backoff is milliseconds; only Retry-After explains a
    // wait of a second.
    assert!(waited >= Duration::from_secs(1), "waited {waited:?}");
    let statuses: Vec<u16> = sim.request_log().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 200]);
}

#[tokio::test]
async fn a_retry_after_beyond_the_policy_is_returned_not_slept() {
    let sim = start_sim(SimConfig::default()).await;
    let client = client_for(&sim);
    client.list_users().await.expect("warm up the token");
    sim.clear_request_log();

    // Zoom's answer to an exhausted daily quota: come back in hours.
    sim.fail_next("/v2/users", 429, 1, Some(Duration::from_secs(6 * 3600)));
    let error = client.list_users().await.expect_err("rate limited");

    assert_eq!(error.error_name(), "Zoom.RateLimited");
    match error {
        Error::RateLimited {
            attempts,
            retry_after,
        } => {
            assert_eq!(attempts, 1);
            assert_eq!(retry_after, Some(Duration::from_secs(6 * 3600)));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(sim.request_log().len(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_then_reported_as_transient() {
    let sim = start_sim(SimConfig::default()).await;
    let meeting = sim.demo_meeting();
    let client = client_for(&sim);

    sim.fail_next("/v2/meetings/", 500, 2, None);
    client
        .meeting_recordings(&meeting.uuid)
        .await
        .expect("third attempt succeeds");
    let attempts: Vec<u16> = requests_under(&sim.request_log(), "/v2/meetings/")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(attempts, [500, 500, 200]);

    sim.clear_request_log();
    sim.fail_next("/v2/meetings/", 503, 100, None);
    let error = client
        .meeting_recordings(&meeting.uuid)
        .await
        .expect_err("attempts run out");
    assert_eq!(error.error_name(), "Zoom.Transient");
    assert!(error.is_transient());
    assert_eq!(
        requests_under(&sim.request_log(), "/v2/meetings/").len(),
        4,
        "max_attempts bounds the retries"
    );
}

#[tokio::test]
async fn uuids_with_slashes_are_double_encoded_end_to_end() {
    let sim = start_sim(SimConfig::default()).await;
    let leading = sim.demo_meeting();
    assert!(leading.uuid.starts_with('/'));
    let double = sim.add_meeting(MeetingSpec {
        uuid_shape: UuidShape::DoubleSlash,
        files: vec![FileSpec::audio(1000)],
        ..MeetingSpec::default()
    });
    assert!(double.uuid.contains("//"));
    let client = client_for(&sim);

    for meeting in [&leading, &double] {
        let recording = client
            .meeting_recordings(&meeting.uuid)
            .await
            .expect("found by UUID");
        assert_eq!(recording.uuid, meeting.uuid);
        assert_eq!(recording.recording_files.len(), meeting.files.len());

        let past = client
            .past_meeting(&meeting.uuid)
            .await
            .expect("past meeting");
        assert_eq!(past.uuid.as_deref(), Some(meeting.uuid.as_str()));
        let participants = client
            .past_meeting_participants(&meeting.uuid)
            .await
            .expect("participants");
        assert_eq!(participants.len(), meeting.participants.len());
    }

    let log = sim.request_log();
    let recording_paths: Vec<&str> = requests_under(&log, "/v2/meetings/")
        .iter()
        .map(|r| r.path.as_str())
        .collect();
    assert_eq!(
        recording_paths,
        [
            format!("/v2/meetings/{}/recordings", leading.uuid_path_segment()),
            format!("/v2/meetings/{}/recordings", double.uuid_path_segment()),
        ]
    );
    assert!(recording_paths.iter().all(|p| p.contains("%252F")));
}

#[tokio::test]
async fn timeline_files_parse_without_id_or_size() {
    let sim = start_sim(SimConfig::default()).await;
    let meeting = sim.demo_meeting();
    let client = client_for(&sim);

    let recording = client
        .meeting_recordings(&meeting.uuid)
        .await
        .expect("recording");
    let timeline = recording
        .recording_files
        .iter()
        .find(|f| f.file_type.as_deref() == Some("TIMELINE"))
        .expect("demo has a timeline");
    assert_eq!((timeline.id.as_ref(), timeline.file_size), (None, None));
    let videos = recording
        .recording_files
        .iter()
        .filter(|f| f.recording_type.as_deref() == Some("shared_screen_with_speaker_view"))
        .count();
    assert_eq!(videos, 2, "two files may share a recording_type");
}

#[tokio::test]
async fn listing_75_days_makes_three_windowed_calls_and_follows_pages() {
    let sim = start_sim(SimConfig::default()).await;
    let host = sim.users()[0].email.clone();
    // Window 1 (Jan 1-30) holds three meetings, window 2 (Jan 31-Feb 29)
    // two, window 3 (Mar 1-15) one; with two per page that is 2 + 1 + 1
    // pages.
    let starts = [
        datetime!(2024-01-02 10:00 UTC),
        datetime!(2024-01-15 10:00 UTC),
        datetime!(2024-01-30 23:30 UTC),
        datetime!(2024-01-31 00:10 UTC),
        datetime!(2024-02-29 12:00 UTC),
        datetime!(2024-03-15 09:00 UTC),
    ];
    let mut expected: Vec<String> = starts
        .iter()
        .map(|start| {
            sim.add_meeting(MeetingSpec {
                start_time: Some(*start),
                host_email: Some(host.clone()),
                files: vec![FileSpec::audio(10)],
                ..MeetingSpec::default()
            })
            .uuid
        })
        .collect();
    // Outside the range on both sides: must not be listed.
    for start in [
        datetime!(2023-12-31 23:00 UTC),
        datetime!(2024-03-16 01:00 UTC),
    ] {
        sim.add_meeting(MeetingSpec {
            start_time: Some(start),
            host_email: Some(host.clone()),
            ..MeetingSpec::default()
        });
    }
    let mut config = config_for(&sim);
    config.page_size = 2;
    let client = ZoomClient::new(config).expect("valid config");

    let listed = client
        .list_user_recordings(&host, date!(2024 - 01 - 01), date!(2024 - 03 - 15))
        .await
        .expect("listing");

    let mut listed_uuids: Vec<String> = listed.into_iter().map(|r| r.uuid).collect();
    listed_uuids.sort();
    expected.sort();
    assert_eq!(listed_uuids, expected);

    let log = sim.request_log();
    let calls: Vec<String> = requests_under(&log, "/v2/users/")
        .iter()
        .map(|r| {
            let query = r.query.clone().unwrap_or_default();
            let window: Vec<&str> = query
                .split('&')
                .filter(|p| p.starts_with("from=") || p.starts_with("to="))
                .collect();
            let paged = query.contains("next_page_token=");
            format!(
                "{} {}",
                window.join(" "),
                if paged { "next page" } else { "first page" }
            )
        })
        .collect();
    assert_eq!(
        calls,
        [
            "from=2024-01-01 to=2024-01-30 first page",
            "from=2024-01-01 to=2024-01-30 next page",
            "from=2024-01-31 to=2024-02-29 first page",
            "from=2024-03-01 to=2024-03-15 first page",
        ]
    );
}

#[tokio::test]
async fn list_users_follows_next_page_token() {
    let sim = start_sim(SimConfig::default()).await;
    let mut config = config_for(&sim);
    config.page_size = 2;
    let client = ZoomClient::new(config).expect("valid config");

    let users = client.list_users().await.expect("users");
    let emails: Vec<&str> = users.iter().filter_map(|u| u.email.as_deref()).collect();
    assert_eq!(
        emails,
        ["ada@example.com", "grace@example.com", "alan@example.com"]
    );
    assert_eq!(requests_under(&sim.request_log(), "/v2/users").len(), 2);
}

#[tokio::test]
async fn trash_moves_the_recording_and_a_repeat_is_not_found() {
    let sim = start_sim(SimConfig::default()).await;
    let meeting = sim.demo_meeting();
    let client = client_for(&sim);

    client
        .trash_meeting_recordings(&meeting.uuid)
        .await
        .expect("trashed");
    assert!(sim.is_trashed(&meeting.uuid));
    let trash_call = requests_under(&sim.request_log(), "/v2/meetings/")
        .last()
        .map(|r| (r.method.clone(), r.query.clone()));
    assert_eq!(
        trash_call,
        Some(("DELETE".to_owned(), Some("action=trash".to_owned())))
    );

    let again = client
        .trash_meeting_recordings(&meeting.uuid)
        .await
        .expect_err("already in the trash");
    assert_eq!(again.error_name(), "Zoom.NotFound");
}

#[tokio::test]
async fn an_unknown_meeting_is_not_found() {
    let sim = start_sim(SimConfig::default()).await;
    let client = client_for(&sim);
    let error = client
        .meeting_recordings("NoSuchMeeting0000000A==")
        .await
        .expect_err("unknown");
    assert_eq!(error.error_name(), "Zoom.NotFound");
    assert!(
        matches!(error, Error::NotFound { code: Some(_), .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn every_instance_of_a_recurring_meeting_is_listed_oldest_first() {
    let sim = start_sim(SimConfig::default()).await;
    let client = client_for(&sim);
    let starts = [
        datetime!(2024-03-12 09:00 UTC),
        datetime!(2024-03-05 09:00 UTC),
        datetime!(2024-03-19 09:00 UTC),
    ];
    let mut uuids = Vec::new();
    for start in starts {
        let meeting = sim.add_meeting(MeetingSpec {
            id: Some(81234567890),
            uuid_shape: UuidShape::LeadingSlash,
            start_time: Some(start),
            ..MeetingSpec::default()
        });
        uuids.push((start, meeting.uuid));
    }
    uuids.sort();
    let instances = client
        .past_meeting_instances(81234567890)
        .await
        .expect("instances");
    let listed: Vec<_> = instances
        .iter()
        .map(|i| (i.start_time.expect("a start time"), i.uuid.clone()))
        .collect();
    assert_eq!(listed, uuids);

    let missing = client.past_meeting_instances(1).await.unwrap_err();
    assert!(matches!(missing, Error::NotFound { .. }), "{missing:?}");
}

#[tokio::test]
async fn a_trashed_recording_is_recovered() {
    let sim = start_sim(SimConfig::default()).await;
    let meeting = sim.demo_meeting();
    let client = client_for(&sim);
    client
        .trash_meeting_recordings(&meeting.uuid)
        .await
        .expect("trash");
    let gone = client.meeting_recordings(&meeting.uuid).await.unwrap_err();
    assert!(matches!(gone, Error::NotFound { .. }), "{gone:?}");
    client
        .recover_meeting_recordings(&meeting.uuid)
        .await
        .expect("recover");
    let back = client
        .meeting_recordings(&meeting.uuid)
        .await
        .expect("listed again");
    assert_eq!(back.uuid, meeting.uuid);
}
