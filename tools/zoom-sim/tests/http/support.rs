//! Shared test plumbing: start a simulator with small demo files, get an
//! OAuth token the way a client does, and run a webhook receiver that
//! records what it was sent. It holds no tests and no state shared between
//! tests: each call starts something new.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use serde_json::Value;
use zoomvault_zoom_sim::{DemoSizes, SimConfig, ZoomSim};

/// Demo sizes that are not multiples of anything, so that off-by-one
/// errors in chunking show.
pub fn small_demo() -> DemoSizes {
    DemoSizes {
        video_segment_1: 700_001,
        video_segment_2: 300_007,
        audio: 65_539,
    }
}

pub fn config() -> SimConfig {
    SimConfig {
        demo: small_demo(),
        ..SimConfig::default()
    }
}

pub async fn start(config: SimConfig) -> ZoomSim {
    ZoomSim::start(config, "127.0.0.1:0".parse().expect("address"))
        .await
        .expect("simulator starts")
}

pub async fn sim() -> ZoomSim {
    start(config()).await
}

/// A client that does not follow redirects, so tests see the 302.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A client that follows redirects, as a downloader would.
pub fn following_client() -> reqwest::Client {
    reqwest::Client::new()
}

/// An access token from the OAuth endpoint with the default credentials.
pub async fn token(sim: &ZoomSim) -> String {
    let config = sim.config();
    let response = client()
        .post(sim.oauth_token_url())
        .query(&[
            ("grant_type", "account_credentials"),
            ("account_id", config.account_id.as_str()),
        ])
        .basic_auth(&config.client_id, Some(&config.client_secret))
        .send()
        .await
        .expect("token request");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// GET `url` with a bearer token; returns status and JSON body.
pub async fn get_json(url: &str, token: &str) -> (u16, Value) {
    let response = client()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// One delivery a `Receiver` got.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub headers: HeaderMap,
    pub body: String,
}

/// A webhook endpoint on a free port that records deliveries and answers
/// `endpoint.url_validation` correctly for `secret`.
pub struct Receiver {
    pub url: String,
    pub deliveries: Arc<Mutex<Vec<Delivery>>>,
}

pub async fn receiver(secret: &str) -> Receiver {
    let deliveries: Arc<Mutex<Vec<Delivery>>> = Arc::default();
    let seen = deliveries.clone();
    let secret = secret.to_owned();
    let app = Router::new().route(
        "/webhook",
        post(move |headers: HeaderMap, body: Bytes| {
            let seen = seen.clone();
            let secret = secret.clone();
            async move {
                let text = String::from_utf8_lossy(&body).into_owned();
                seen.lock().expect("lock").push(Delivery {
                    headers,
                    body: text.clone(),
                });
                let event: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                if event["event"] == "endpoint.url_validation" {
                    let plain = event["payload"]["plainToken"].as_str().unwrap_or("");
                    let encrypted =
                        zoomvault_zoom_sim::url_validation_encrypted_token(&secret, plain);
                    axum::Json(
                        serde_json::json!({"plainToken": plain, "encryptedToken": encrypted}),
                    )
                } else {
                    axum::Json(serde_json::json!({"received": true}))
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind receiver");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Receiver {
        url: format!("http://{addr}/webhook"),
        deliveries,
    }
}
