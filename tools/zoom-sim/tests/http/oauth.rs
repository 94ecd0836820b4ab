//! Server-to-Server OAuth: the token endpoint, and bearer tokens required
//! (and expiring) on every REST call. Each test starts a simulator of its
//! own.

use std::time::Duration;

use serde_json::Value;
use zoomvault_zoom_sim::SimConfig;

use crate::support::{client, get_json, sim, start, token};

async fn token_request(
    sim: &zoomvault_zoom_sim::ZoomSim,
    grant_type: &str,
    account_id: &str,
    secret: &str,
) -> (u16, Value) {
    let response = client()
        .post(sim.oauth_token_url())
        .query(&[("grant_type", grant_type), ("account_id", account_id)])
        .basic_auth(&sim.config().client_id, Some(secret))
        .send()
        .await
        .expect("token request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

#[tokio::test]
async fn token_endpoint_issues_bearer_tokens_like_zoom() {
    let sim = sim().await;
    let (status, body) = token_request(
        &sim,
        "account_credentials",
        "zv_sim_account",
        "zv_sim_secret",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3599);
    assert!(body["access_token"].as_str().is_some_and(|t| t.len() > 20));
    assert!(body["scope"]
        .as_str()
        .is_some_and(|s| s.contains("cloud_recording")));
    assert_eq!(body["api_url"], sim.base_url());
}

#[tokio::test]
async fn token_endpoint_refuses_bad_credentials_grant_and_account() {
    let sim = sim().await;
    let (status, body) =
        token_request(&sim, "account_credentials", "zv_sim_account", "wrong").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert!(body["reason"].is_string());

    let (status, body) = token_request(
        &sim,
        "client_credentials",
        "zv_sim_account",
        "zv_sim_secret",
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );

    let (status, body) =
        token_request(&sim, "account_credentials", "someone_else", "zv_sim_secret").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );

    let response = client()
        .post(sim.oauth_token_url())
        .query(&[
            ("grant_type", "account_credentials"),
            ("account_id", "zv_sim_account"),
        ])
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 401, "no Basic credentials");
}

#[tokio::test]
async fn token_endpoint_accepts_a_form_body() {
    let sim = sim().await;
    let response = client()
        .post(sim.oauth_token_url())
        .basic_auth("zv_sim_client", Some("zv_sim_secret"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=account_credentials&account_id=zv_sim_account")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn rest_calls_need_a_valid_bearer_token() {
    let sim = sim().await;
    let url = format!("{}/users", sim.api_base_url());
    let response = client().get(&url).send().await.expect("request");
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body,
        serde_json::json!({"code": 124, "message": "Invalid access token."})
    );

    let (status, body) = get_json(&url, "not-a-token").await;
    assert_eq!((status, body["code"].as_u64()), (401, Some(124)));

    let (status, _) = get_json(&url, &token(&sim).await).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn expired_tokens_are_refused_and_a_new_one_works() {
    let sim = sim().await;
    let url = format!("{}/users", sim.api_base_url());
    let old = token(&sim).await;
    assert_eq!(get_json(&url, &old).await.0, 200);

    sim.advance_clock(Duration::from_secs(3600));
    let (status, body) = get_json(&url, &old).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], 124);
    assert_eq!(body["message"], "Access token is expired.");

    let fresh = token(&sim).await;
    assert_eq!(get_json(&url, &fresh).await.0, 200);

    sim.expire_access_tokens();
    assert_eq!(get_json(&url, &fresh).await.0, 401);
}

#[tokio::test]
async fn short_token_ttl_is_reported_in_expires_in() {
    let sim = start(SimConfig {
        token_ttl: Duration::from_secs(5),
        ..SimConfig::default()
    })
    .await;
    let (status, body) = token_request(
        &sim,
        "account_credentials",
        "zv_sim_account",
        "zv_sim_secret",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["expires_in"], 4);
    let url = format!("{}/users", sim.api_base_url());
    let token = body["access_token"].as_str().expect("token");
    assert_eq!(get_json(&url, token).await.0, 200);
    sim.advance_clock(Duration::from_secs(5));
    assert_eq!(get_json(&url, token).await.0, 401);
}
