//! Recording downloads: token checks, the redirect to the CDN, generated
//! bytes matching the library's helpers, Range handling, and file and
//! request faults. Each test starts a simulator of its own.

use std::time::{Duration, Instant};

use reqwest::header;
use sha2::{Digest, Sha256};
use zoomvault_zoom_sim::{file_bytes, DownloadErrorBody, FileFault, SimMeeting, ZoomSim};

use crate::support::{client, following_client, sim, token};

/// A demo meeting and a webhook download token for it.
fn demo_with_token(sim: &ZoomSim) -> (SimMeeting, String) {
    let meeting = sim.demo_meeting();
    let event = sim.recording_completed_event(&meeting.uuid);
    let token = event["download_token"].as_str().expect("token").to_owned();
    (meeting, token)
}

#[tokio::test]
async fn download_redirects_to_the_cdn_which_serves_the_expected_bytes() {
    let sim = sim().await;
    let (meeting, token) = demo_with_token(&sim);
    let file = &meeting.files[0];
    let url = format!("{}?access_token={token}", file.download_url);

    let redirect = client().get(&url).send().await.expect("download");
    assert_eq!(redirect.status(), 302);
    let location = redirect.headers()[header::LOCATION]
        .to_str()
        .expect("location");
    assert!(
        location.starts_with(&format!("{}/cdn/", sim.base_url())),
        "{location}"
    );

    let response = following_client().get(&url).send().await.expect("download");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "video/mp4");
    assert_eq!(response.headers()[header::ACCEPT_RANGES], "bytes");
    assert_eq!(
        response.headers()[header::CONTENT_LENGTH],
        file.size.to_string().as_str()
    );
    let body = response.bytes().await.expect("body");
    assert_eq!(body.len() as u64, file.size);
    assert_eq!(
        body.as_ref(),
        file_bytes(sim.config().seed, &file.content_key, 0..file.size)
    );
    assert_eq!(
        hex::encode(Sha256::digest(&body)),
        sim.expected_sha256(&meeting.uuid, 0)
    );
    assert_eq!(
        sim.expected_sha256(&meeting.uuid, file.id.as_deref().expect("id")),
        file.expected_sha256()
    );

    // The text files serve their text, and the TIMELINE file (no id) too.
    for index in [3, 5] {
        let file = &meeting.files[index];
        let body = following_client()
            .get(format!("{}?access_token={token}", file.download_url))
            .send()
            .await
            .expect("download")
            .bytes()
            .await
            .expect("body");
        assert_eq!(
            body.as_ref(),
            sim.expected_bytes(&meeting.uuid, index, 0..file.size)
        );
    }
    let transcript = sim.expected_bytes(&meeting.uuid, 3, 0..6);
    assert_eq!(transcript, b"WEBVTT");
}

#[tokio::test]
async fn download_accepts_an_oauth_token_as_bearer_or_query() {
    let sim = sim().await;
    let meeting = sim.demo_meeting();
    let access = token(&sim).await;
    let file = &meeting.files[2];
    let response = following_client()
        .get(&file.download_url)
        .bearer_auth(&access)
        .send()
        .await
        .expect("download");
    assert_eq!(response.status(), 200);
    let response = following_client()
        .get(format!("{}?access_token={access}", file.download_url))
        .send()
        .await
        .expect("download");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.bytes().await.expect("body").len() as u64,
        file.size
    );
}

#[tokio::test]
async fn ranges_get_206_with_content_range_and_416_when_unsatisfiable() {
    let sim = sim().await;
    let (meeting, token) = demo_with_token(&sim);
    let file = &meeting.files[1];
    let len = file.size;
    let url = format!("{}?access_token={token}", file.download_url);
    let seed = sim.config().seed;

    for (range, first, last) in [
        (format!("bytes=0-{}", 65_535), 0, 65_535),
        (format!("bytes=100000-{}", len + 50), 100_000, len - 1),
        ("bytes=123457-".to_owned(), 123_457, len - 1),
        ("bytes=-1000".to_owned(), len - 1000, len - 1),
    ] {
        let response = following_client()
            .get(&url)
            .header(header::RANGE, &range)
            .send()
            .await
            .expect("ranged get");
        assert_eq!(response.status(), 206, "{range}");
        let headers = response.headers();
        assert_eq!(
            headers[header::CONTENT_RANGE],
            format!("bytes {first}-{last}/{len}").as_str(),
            "{range}"
        );
        assert_eq!(
            headers[header::CONTENT_LENGTH],
            (last - first + 1).to_string().as_str()
        );
        let body = response.bytes().await.expect("body");
        assert_eq!(
            body.as_ref(),
            file_bytes(seed, &file.content_key, first..last + 1),
            "{range}"
        );
    }

    let response = following_client()
        .get(&url)
        .header(header::RANGE, format!("bytes={len}-"))
        .send()
        .await
        .expect("ranged get");
    assert_eq!(response.status(), 416);
    assert_eq!(
        response.headers()[header::CONTENT_RANGE],
        format!("bytes */{len}").as_str()
    );

    // The request log shows the client's ranged GETs at the CDN.
    let ranged: Vec<_> = sim
        .request_log()
        .into_iter()
        .filter(|r| r.path.starts_with("/cdn/") && r.range.is_some())
        .map(|r| r.status)
        .collect();
    assert_eq!(ranged, [206, 206, 206, 206, 416]);
}

#[tokio::test]
async fn with_range_support_off_the_whole_file_comes_back_with_200() {
    let sim = sim().await;
    let (meeting, token) = demo_with_token(&sim);
    sim.set_range_support(false);
    let file = &meeting.files[2];
    let response = following_client()
        .get(format!("{}?access_token={token}", file.download_url))
        .header(header::RANGE, "bytes=10-19")
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 200);
    assert!(response.headers().get(header::CONTENT_RANGE).is_none());
    assert_eq!(
        response.bytes().await.expect("body").len() as u64,
        file.size
    );
}

#[tokio::test]
async fn expired_or_foreign_download_tokens_get_a_small_401_not_the_file() {
    let sim = sim().await;
    let (meeting, token) = demo_with_token(&sim);
    let other = sim.demo_meeting();
    let file = &meeting.files[0];
    let url = format!("{}?access_token={token}", file.download_url);
    assert_eq!(
        following_client()
            .get(&url)
            .send()
            .await
            .expect("get")
            .status(),
        200
    );

    sim.expire_download_tokens();
    let response = following_client().get(&url).send().await.expect("get");
    assert_eq!(response.status(), 401);
    assert!(response.headers()[header::CONTENT_TYPE]
        .to_str()
        .expect("type")
        .starts_with("application/json"));
    let body = response.bytes().await.expect("body");
    assert!(body.len() < 200, "small body, not the file");
    let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(json["errorCode"], 124);

    sim.set_download_error_body(DownloadErrorBody::Html);
    let response = following_client().get(&url).send().await.expect("get");
    assert_eq!(response.status(), 401);
    let text = response.text().await.expect("body");
    assert!(
        text.starts_with("<!DOCTYPE html>") && text.len() < 300,
        "{text}"
    );

    // A fresh token for one meeting does not open another meeting's files.
    let fresh = sim.issue_download_token(&other.uuid);
    let response = following_client()
        .get(format!("{}?access_token={fresh}", file.download_url))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 401);
    let response = following_client()
        .get(&file.download_url)
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 401, "no token at all");
}

#[tokio::test]
async fn download_tokens_expire_with_the_clock_and_cdn_urls_too() {
    let sim = sim().await;
    let (meeting, token) = demo_with_token(&sim);
    let url = format!("{}?access_token={token}", meeting.files[4].download_url);
    let redirect = client().get(&url).send().await.expect("get");
    let cdn = redirect.headers()[header::LOCATION]
        .to_str()
        .expect("location")
        .to_owned();
    assert_eq!(client().get(&cdn).send().await.expect("cdn").status(), 200);

    sim.advance_clock(Duration::from_secs(3601));
    assert_eq!(client().get(&cdn).send().await.expect("cdn").status(), 403);
    assert_eq!(client().get(&url).send().await.expect("get").status(), 302);
    sim.advance_clock(Duration::from_secs(24 * 3600));
    assert_eq!(client().get(&url).send().await.expect("get").status(), 401);

    let forged = cdn.replace("sig=", "sig=00");
    sim.clear_request_log();
    assert_eq!(
        client().get(&forged).send().await.expect("cdn").status(),
        403
    );
}

#[tokio::test]
async fn trashed_recordings_cannot_be_downloaded() {
    let sim = sim().await;
    let (meeting, token) = demo_with_token(&sim);
    let access = self::token(&sim).await;
    let response = client()
        .delete(format!(
            "{}/meetings/{}/recordings",
            sim.api_base_url(),
            meeting.uuid_path_segment()
        ))
        .bearer_auth(&access)
        .send()
        .await
        .expect("trash");
    assert_eq!(response.status(), 204);
    let response = following_client()
        .get(format!(
            "{}?access_token={token}",
            meeting.files[0].download_url
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn fail_next_answers_the_given_status_then_recovers() {
    let sim = sim().await;
    let access = token(&sim).await;
    let url = format!("{}/users", sim.api_base_url());
    sim.fail_next("/v2/users", 429, 2, Some(Duration::from_secs(3)));
    sim.fail_next("/v2/", 503, 1, None);
    for expected in [429, 429, 503, 200] {
        let response = client()
            .get(&url)
            .bearer_auth(&access)
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), expected);
        if expected == 429 {
            assert_eq!(response.headers()[header::RETRY_AFTER], "3");
            let body: serde_json::Value = response.json().await.expect("json");
            assert_eq!(body["code"], 429);
        }
    }
    let statuses: Vec<u16> = sim.request_log().iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [200, 429, 429, 503, 200],
        "token request, then the four"
    );
}

#[tokio::test]
async fn file_faults_change_served_bytes_but_not_the_listing() {
    let sim = sim().await;
    let (meeting, download) = demo_with_token(&sim);
    let file = &meeting.files[1];
    let url = format!("{}?access_token={download}", file.download_url);
    let truth = sim.expected_bytes(&meeting.uuid, 1, 0..file.size);

    assert!(sim.set_file_fault(
        &meeting.uuid,
        1,
        FileFault {
            served_len: Some(file.size - 10),
            ..FileFault::default()
        }
    ));
    let body = following_client()
        .get(&url)
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("body");
    assert_eq!(body.as_ref(), &truth[..truth.len() - 10]);
    let access = token(&sim).await;
    let listing: serde_json::Value = client()
        .get(format!(
            "{}/meetings/{}/recordings",
            sim.api_base_url(),
            meeting.uuid_path_segment()
        ))
        .bearer_auth(&access)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(
        listing["recording_files"][1]["file_size"], file.size,
        "listing unchanged"
    );

    sim.set_file_fault(
        &meeting.uuid,
        1,
        FileFault {
            corrupt_at: Some(1000),
            ..FileFault::default()
        },
    );
    let body = following_client()
        .get(&url)
        .header(header::RANGE, "bytes=990-1009")
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("body");
    let mut expected = truth[990..1010].to_vec();
    expected[10] ^= 0xFF;
    assert_eq!(body.as_ref(), expected);

    sim.set_file_fault(
        &meeting.uuid,
        1,
        FileFault {
            cut_after: Some(5000),
            ..FileFault::default()
        },
    );
    let response = following_client()
        .get(&url)
        .send()
        .await
        .expect("headers arrive");
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.is_err(), "body is cut short");

    sim.clear_faults();
    let body = following_client()
        .get(&url)
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("body");
    assert_eq!(body.as_ref(), truth);
}

#[tokio::test]
async fn delay_knob_slows_matching_requests_only() {
    let sim = sim().await;
    let access = token(&sim).await;
    sim.set_delay("/v2/users", Duration::from_millis(300));
    let started = Instant::now();
    let response = client()
        .get(format!("{}/users", sim.api_base_url()))
        .bearer_auth(&access)
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    sim.set_delay("/v2/users", Duration::ZERO);
    let started = Instant::now();
    client()
        .get(format!("{}/users", sim.api_base_url()))
        .bearer_auth(&access)
        .send()
        .await
        .expect("get");
    assert!(started.elapsed() < Duration::from_millis(300));
}

/// Reads a body to its end or its first error; returns the bytes that came
/// and whether it ended cleanly.
async fn read_body(mut response: reqwest::Response) -> (Vec<u8>, bool) {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => return (body, true),
            Err(_) => return (body, false),
        }
    }
}

#[tokio::test]
async fn body_rate_knob_trickles_matching_bodies_after_prompt_headers() {
    let sim = sim().await;
    let (meeting, token) = demo_with_token(&sim);
    let file = &meeting.files[2];
    assert_eq!(file.size, 65_539);
    // Through the control API, as a script would set it.
    let set = client()
        .post(format!("{}/_sim/faults/body-rate", sim.base_url()))
        .json(&serde_json::json!({"path_prefix": "/cdn/", "bytes_per_second": 100_000}))
        .send()
        .await
        .expect("post");
    assert_eq!(set.status(), 200);
    let url = format!("{}?access_token={token}", file.download_url);

    let started = Instant::now();
    let response = following_client().get(&url).send().await.expect("get");
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "headers are not held back"
    );
    assert_eq!(
        response.headers()[header::CONTENT_LENGTH],
        file.size.to_string().as_str()
    );
    let (body, clean) = read_body(response).await;
    let took = started.elapsed();
    assert!(clean);
    assert_eq!(body, sim.expected_bytes(&meeting.uuid, 2, 0..file.size));
    // 65,539 bytes at 100,000 B/s: about 0.65 s.
    assert!(
        took >= Duration::from_millis(600) && took < Duration::from_secs(3),
        "{took:?}"
    );

    // Other paths are not slowed, and zero removes the knob.
    let started = Instant::now();
    token_and_users(&sim).await;
    assert!(started.elapsed() < Duration::from_millis(300));
    sim.set_body_rate("/cdn/", 0);
    let started = Instant::now();
    let (body, _) = read_body(following_client().get(&url).send().await.expect("get")).await;
    assert_eq!(body.len() as u64, file.size);
    assert!(started.elapsed() < Duration::from_millis(300));
}

async fn token_and_users(sim: &ZoomSim) {
    let access = token(sim).await;
    let response = client()
        .get(format!("{}/users", sim.api_base_url()))
        .bearer_auth(&access)
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_misstated_content_length_announces_more_or_fewer_bytes_than_are_sent() {
    let sim = sim().await;
    let (meeting, token) = demo_with_token(&sim);
    let file = &meeting.files[1];
    let truth = sim.expected_bytes(&meeting.uuid, 1, 0..file.size);
    let url = format!("{}?access_token={token}", file.download_url);
    let http = following_client();

    // More than is sent: the whole file comes, then the connection closes
    // short of the announced length.
    sim.set_file_fault(
        &meeting.uuid,
        1,
        FileFault {
            misstated_length: Some(100),
            ..FileFault::default()
        },
    );
    let response = http.get(&url).send().await.expect("headers arrive");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()[header::CONTENT_LENGTH],
        (file.size + 100).to_string().as_str()
    );
    let (body, clean) = read_body(response).await;
    assert!(!clean, "the body ends short of its Content-Length");
    assert_eq!(body, truth);

    // Fewer than the file: a complete-looking response that is short, on
    // a connection that stays sound for the next request.
    sim.set_file_fault(
        &meeting.uuid,
        1,
        FileFault {
            misstated_length: Some(-100),
            ..FileFault::default()
        },
    );
    let response = http
        .get(&url)
        .header(header::RANGE, "bytes=0-999")
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 206);
    assert_eq!(response.headers()[header::CONTENT_LENGTH], "900");
    assert_eq!(
        response.headers()[header::CONTENT_RANGE],
        format!("bytes 0-999/{}", file.size).as_str(),
        "Content-Range stays true"
    );
    let (body, clean) = read_body(response).await;
    assert!(clean);
    assert_eq!(body, &truth[..900]);
    let (body, clean) = read_body(http.get(&url).send().await.expect("get")).await;
    assert!(clean);
    assert_eq!(body, &truth[..truth.len() - 100]);
}

#[tokio::test]
async fn a_sign_in_page_comes_with_200_in_place_of_the_file() {
    let sim = sim().await;
    let (meeting, token) = demo_with_token(&sim);
    let file = &meeting.files[5];
    sim.set_file_fault(
        &meeting.uuid,
        5,
        FileFault {
            sign_in_page: true,
            ..FileFault::default()
        },
    );
    let response = following_client()
        .get(format!("{}?access_token={token}", file.download_url))
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), 200);
    assert!(response.headers()[header::CONTENT_TYPE]
        .to_str()
        .expect("ascii")
        .starts_with("text/html"));
    let page = response.text().await.expect("text");
    assert!(page.contains("<title>Sign In - Zoom</title>"), "{page}");
    assert!(
        sim.request_log()
            .iter()
            .all(|r| !r.path.starts_with("/cdn/")),
        "no redirect to the file"
    );
}

#[tokio::test]
async fn a_redirect_to_a_foreign_host_keeps_the_cdn_path_and_signature() {
    let sim = sim().await;
    // Another loopback address: a different host, as far as URLs go.
    let elsewhere = ZoomSim::start(
        crate::support::config(),
        "127.0.0.2:0".parse().expect("address"),
    )
    .await
    .expect("second simulator starts");
    let (meeting, token) = demo_with_token(&sim);
    let file = &meeting.files[0];
    sim.set_file_fault(
        &meeting.uuid,
        0,
        FileFault {
            redirect_to: Some(elsewhere.base_url()),
            ..FileFault::default()
        },
    );
    let redirect = client()
        .get(format!("{}?access_token={token}", file.download_url))
        .send()
        .await
        .expect("get");
    assert_eq!(redirect.status(), 302);
    let location = redirect.headers()[header::LOCATION]
        .to_str()
        .expect("location");
    assert!(
        location.starts_with(&format!("{}/cdn/", elsewhere.base_url())),
        "{location}"
    );
    assert!(location.contains("&sig="), "{location}");
    assert!(elsewhere.base_url().starts_with("http://127.0.0.2:"));
    assert!(elsewhere.request_log().is_empty());
}

#[tokio::test]
async fn a_fault_with_times_heals_after_that_many_responses() {
    let sim = sim().await;
    let (meeting, token) = demo_with_token(&sim);
    let file = &meeting.files[1];
    let truth = sim.expected_bytes(&meeting.uuid, 1, 0..file.size);
    let url = format!("{}?access_token={token}", file.download_url);
    sim.set_file_fault(
        &meeting.uuid,
        1,
        FileFault {
            cut_after: Some(5000),
            times: Some(2),
            ..FileFault::default()
        },
    );
    for expected_clean in [false, false, true, true] {
        let (body, clean) =
            read_body(following_client().get(&url).send().await.expect("get")).await;
        assert_eq!(clean, expected_clean);
        if clean {
            assert_eq!(body, truth);
        }
    }

    // A download URL fault counts the download URL's answers only.
    sim.set_file_fault(
        &meeting.uuid,
        1,
        FileFault {
            sign_in_page: true,
            times: Some(1),
            ..FileFault::default()
        },
    );
    let first = following_client().get(&url).send().await.expect("get");
    assert!(first.text().await.expect("text").contains("Sign In"));
    let (body, clean) = read_body(following_client().get(&url).send().await.expect("get")).await;
    assert!(clean);
    assert_eq!(body, truth);
}
