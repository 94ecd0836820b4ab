//! The simulator's configuration: credentials, token lifetimes, the demo
//! recording's sizes and the account's users. Defaults are fixed, documented
//! demo values so that a developer can point zoomvault at a simulator
//! without reading any output. These are plain values: nothing here starts
//! or changes a running simulator.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Default Server-to-Server OAuth account id of the simulated account.
pub const DEMO_ACCOUNT_ID: &str = "zv_sim_account";
/// Default OAuth client id.
pub const DEMO_CLIENT_ID: &str = "zv_sim_client";
/// Default OAuth client secret.
pub const DEMO_CLIENT_SECRET: &str = "zv_sim_secret";
/// Default webhook secret token (signs `x-zm-signature`).
pub const DEMO_WEBHOOK_SECRET_TOKEN: &str = "zv_sim_webhook_secret";

/// The body of a refused download: a missing, invalid or expired token
/// (401) or a recording that is not listed (404). Either way the body is
/// small: a client must never store it as the recording.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DownloadErrorBody {
    /// `{"status":false,"errorCode":124,"errorMessage":"..."}`
    #[default]
    Json,
    /// A short HTML page, as a browser-facing endpoint would send.
    Html,
}

/// Sizes of the demo recording's media files, in bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DemoSizes {
    /// First `shared_screen_with_speaker_view` MP4 segment.
    pub video_segment_1: u64,
    /// Second `shared_screen_with_speaker_view` MP4 segment (after a pause).
    pub video_segment_2: u64,
    /// The `audio_only` M4A.
    pub audio: u64,
}

impl Default for DemoSizes {
    fn default() -> Self {
        DemoSizes {
            video_segment_1: 8 * 1024 * 1024 + 123,
            video_segment_2: 3 * 1024 * 1024 + 45,
            audio: 1024 * 1024 + 6,
        }
    }
}

/// A user of the simulated account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSpec {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// `active`, `inactive` or `pending`, as `GET /v2/users?status=` filters.
    #[serde(default = "active")]
    pub status: String,
}

fn active() -> String {
    "active".to_owned()
}

impl UserSpec {
    /// An active user.
    pub fn active(first_name: &str, last_name: &str, email: &str) -> UserSpec {
        UserSpec {
            first_name: first_name.to_owned(),
            last_name: last_name.to_owned(),
            email: email.to_owned(),
            status: active(),
        }
    }
}

/// Everything a simulator is started with. `Default` gives the demo
/// credentials above, Zoom's token lifetimes (1 h access tokens, 24 h
/// download tokens) and Range support on.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Seeds generated identifiers and every file's contents.
    pub seed: u64,
    pub account_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub webhook_secret_token: String,
    /// Lifetime of OAuth access tokens (Zoom: one hour).
    pub token_ttl: Duration,
    /// Lifetime of webhook `download_token`s (Zoom: 24 hours).
    pub download_token_ttl: Duration,
    /// Lifetime of the signed CDN URL a download redirects to.
    pub cdn_url_ttl: Duration,
    /// Whether the CDN honours `Range`; when off it answers 200 with the
    /// whole file, as some origins do.
    pub range_support: bool,
    /// Body of a refused download.
    pub download_error_body: DownloadErrorBody,
    /// The OAuth scopes reported with each token.
    pub scope: String,
    /// Sizes of the demo recording's media files.
    pub demo: DemoSizes,
    /// The account's users; the first is the account owner (`me`).
    pub users: Vec<UserSpec>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 1,
            account_id: DEMO_ACCOUNT_ID.to_owned(),
            client_id: DEMO_CLIENT_ID.to_owned(),
            client_secret: DEMO_CLIENT_SECRET.to_owned(),
            webhook_secret_token: DEMO_WEBHOOK_SECRET_TOKEN.to_owned(),
            token_ttl: Duration::from_secs(3600),
            download_token_ttl: Duration::from_secs(24 * 3600),
            cdn_url_ttl: Duration::from_secs(3600),
            range_support: true,
            download_error_body: DownloadErrorBody::Json,
            scope: "cloud_recording:read:list_user_recordings:admin \
                    cloud_recording:read:list_recording_files:admin \
                    cloud_recording:delete:meeting_recording:admin \
                    meeting:read:past_meeting:admin \
                    meeting:read:list_past_participants:admin \
                    user:read:list_users:admin"
                .to_owned(),
            demo: DemoSizes::default(),
            users: vec![
                UserSpec::active("Ada", "Lovelace", "ada@example.com"),
                UserSpec::active("Grace", "Hopper", "grace@example.com"),
                UserSpec::active("Alan", "Turing", "alan@example.com"),
                UserSpec {
                    status: "inactive".to_owned(),
                    ..UserSpec::active("Ken", "Thompson", "ken@example.com")
                },
            ],
        }
    }
}
