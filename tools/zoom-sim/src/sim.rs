//! `ZoomSim`: a running simulator and the library API tests drive it with
//! (add recordings, build and send webhooks, observe trash and requests, set
//! knobs). Apart from starting, stopping and sending a webhook, each method
//! is a thin, synchronous step on the shared state; the HTTP surface lives
//! in `api`, `download` and `admin`. No method may hold the state's lock
//! across an await or a long computation (hashes run on a copy).

use std::net::SocketAddr;
use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use axum::http::StatusCode;
use axum::Router;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::{DownloadErrorBody, SimConfig, UserSpec};
use crate::faults::{self, FileFault, LoggedRequest};
use crate::model::{FileRef, MeetingSpec, SimMeeting};
use crate::state::{RecordingState, Shared, SimUser};
use crate::webhook::{self, WebhookOptions};
use crate::{admin, api, download};

/// The simulator's whole HTTP surface over `shared`: Zoom's routes wrapped
/// in the fault and logging middleware, plus the `/_sim` control API.
pub(crate) fn app(shared: Arc<Shared>) -> Router {
    let zoom_error_404 =
        || async { crate::error::Error::zoom(StatusCode::NOT_FOUND, 404, "Not Found") };
    Router::new()
        .merge(api::routes())
        .merge(download::routes())
        .nest("/_sim", admin::routes())
        .fallback(zoom_error_404)
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            faults::zoom_surface,
        ))
        .with_state(shared)
}

#[derive(Debug)]
struct ServerTask {
    stop: oneshot::Sender<()>,
    join: JoinHandle<()>,
}

/// A running Zoom simulator. Cloning gives another handle to the same
/// server; `shutdown` on any handle stops it.
#[derive(Clone, Debug)]
pub struct ZoomSim {
    shared: Arc<Shared>,
    server: Arc<Mutex<Option<ServerTask>>>,
    local_addr: SocketAddr,
}

impl ZoomSim {
    /// Binds `listen` (port 0 picks a free port) and serves until
    /// `shutdown`.
    pub async fn start(config: SimConfig, listen: SocketAddr) -> anyhow::Result<ZoomSim> {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("binding the Zoom simulator to {listen}"))?;
        let local_addr = listener.local_addr().context("reading the bound address")?;
        // A wildcard bind is reachable on loopback; URLs must name a host.
        let host = if local_addr.ip().is_unspecified() {
            match local_addr {
                SocketAddr::V4(_) => "127.0.0.1".to_owned(),
                SocketAddr::V6(_) => "[::1]".to_owned(),
            }
        } else {
            match local_addr {
                SocketAddr::V4(a) => a.ip().to_string(),
                SocketAddr::V6(a) => format!("[{}]", a.ip()),
            }
        };
        let base_url = format!("http://{host}:{}", local_addr.port());
        let shared = Arc::new(Shared::new(config, base_url));
        let router = app(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let join = tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(error) = served {
                tracing::error!(%error, "zoom simulator stopped with an error");
            }
        });
        tracing::debug!(%local_addr, "zoom simulator listening");
        Ok(ZoomSim {
            shared,
            server: Arc::new(Mutex::new(Some(ServerTask { stop, join }))),
            local_addr,
        })
    }

    /// `http://HOST:PORT`. The REST API is at `base_url() + "/v2"`, OAuth at
    /// `base_url() + "/oauth/token"`.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// `base_url() + "/v2"`.
    pub fn api_base_url(&self) -> String {
        format!("{}/v2", self.shared.base_url)
    }

    /// `base_url() + "/oauth/token"`.
    pub fn oauth_token_url(&self) -> String {
        format!("{}/oauth/token", self.shared.base_url)
    }

    /// The address the server is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The configuration the simulator was started with.
    pub fn config(&self) -> &SimConfig {
        &self.shared.config
    }

    // ---- account contents --------------------------------------------------

    /// Adds a user to the account.
    pub fn add_user(&self, spec: UserSpec) -> SimUser {
        self.shared.lock().add_user(spec)
    }

    /// The account's users, the owner first.
    pub fn users(&self) -> Vec<SimUser> {
        self.shared.lock().users().to_vec()
    }

    /// Adds a meeting instance with a cloud recording. Adding an existing
    /// UUID replaces that recording.
    pub fn add_meeting(&self, spec: MeetingSpec) -> SimMeeting {
        let shared = &self.shared;
        shared
            .lock()
            .add_meeting(&shared.config, &shared.base_url, spec)
    }

    /// Adds the realistic demo recording (see `MeetingSpec::demo`) with the
    /// configured sizes.
    pub fn demo_meeting(&self) -> SimMeeting {
        self.add_meeting(MeetingSpec::demo(&self.shared.config.demo))
    }

    /// The meeting with this UUID, if any.
    pub fn meeting(&self, meeting_uuid: &str) -> Option<SimMeeting> {
        self.shared
            .lock()
            .meeting_entry(meeting_uuid)
            .map(|e| e.meeting.clone())
    }

    /// Every meeting with its recording state.
    pub fn meetings(&self) -> Vec<(SimMeeting, RecordingState)> {
        self.shared
            .lock()
            .meetings()
            .map(|e| (e.meeting.clone(), e.state))
            .collect()
    }

    // ---- tokens and webhooks -----------------------------------------------

    /// Issues an OAuth access token directly, for tests that are not about
    /// the token endpoint.
    pub fn issue_access_token(&self) -> String {
        self.shared
            .lock()
            .issue_access_token(self.shared.config.token_ttl)
            .0
    }

    /// Issues a download token for the meeting's files, as a webhook would.
    pub fn issue_download_token(&self, meeting_uuid: &str) -> String {
        self.shared
            .lock()
            .issue_download_token(meeting_uuid, self.shared.config.download_token_ttl)
    }

    /// Every OAuth access token and download token issued so far: the
    /// secrets a test looks for where they must not be.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.shared.lock().issued_tokens()
    }

    /// A `recording.completed` event body for the meeting, carrying a fresh
    /// `download_token`.
    ///
    /// # Panics
    /// If no meeting has this UUID: a test asked for a meeting it never added.
    pub fn recording_completed_event(&self, meeting_uuid: &str) -> Value {
        self.try_recording_completed_event(meeting_uuid)
            .unwrap_or_else(|| panic!("zoom-sim: no meeting with UUID {meeting_uuid:?}"))
    }

    pub(crate) fn try_recording_completed_event(&self, meeting_uuid: &str) -> Option<Value> {
        let config = &self.shared.config;
        webhook::recording_completed_event(
            &mut self.shared.lock(),
            &config.account_id,
            config.download_token_ttl,
            meeting_uuid,
        )
    }

    /// An `endpoint.url_validation` event body carrying `plain_token`.
    pub fn url_validation_event(&self, plain_token: &str) -> Value {
        webhook::url_validation_event(self.shared.lock().now(), plain_token)
    }

    /// The `encryptedToken` a correct receiver answers `plain_token` with.
    pub fn expected_encrypted_token(&self, plain_token: &str) -> String {
        webhook::url_validation_encrypted_token(
            &self.shared.config.webhook_secret_token,
            plain_token,
        )
    }

    /// POSTs a webhook to `url` as Zoom would, signed with the configured
    /// secret token per `opts`; returns the receiver's status and body.
    pub async fn send_webhook(
        &self,
        url: &str,
        body: &Value,
        opts: WebhookOptions,
    ) -> anyhow::Result<(u16, String)> {
        let now = self.shared.lock().now();
        webhook::deliver(
            &self.shared.config.webhook_secret_token,
            now,
            url,
            body,
            &opts,
        )
        .await
    }

    // ---- observation -------------------------------------------------------

    /// Whether the meeting's recording is in the trash.
    pub fn is_trashed(&self, meeting_uuid: &str) -> bool {
        self.recording_state(meeting_uuid) == Some(RecordingState::Trashed)
    }

    /// Where the meeting's recording is; `None` for an unknown UUID.
    pub fn recording_state(&self, meeting_uuid: &str) -> Option<RecordingState> {
        self.shared
            .lock()
            .meeting_entry(meeting_uuid)
            .map(|e| e.state)
    }

    /// UUIDs of the recordings in the trash.
    pub fn trashed(&self) -> Vec<String> {
        self.shared
            .lock()
            .meetings()
            .filter(|e| e.state == RecordingState::Trashed)
            .map(|e| e.meeting.uuid.clone())
            .collect()
    }

    /// Every request to the Zoom surface so far (not `/_sim`), oldest first.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.shared.lock().log.clone()
    }

    pub fn clear_request_log(&self) {
        self.shared.lock().log.clear();
    }

    /// Hex SHA-256 of the file's true contents: what a correct archive holds.
    ///
    /// # Panics
    /// If the meeting or file does not exist.
    pub fn expected_sha256(&self, meeting_uuid: &str, file: impl Into<FileRef>) -> String {
        let file = file.into();
        // Clone the body out so a multi-gigabyte hash runs without the lock.
        let sim_file = self
            .shared
            .lock()
            .sim_file(meeting_uuid, &file)
            .cloned()
            .unwrap_or_else(|| panic!("zoom-sim: no file {file:?} in meeting {meeting_uuid:?}"));
        sim_file.expected_sha256()
    }

    /// Bytes `range` of the file's true contents.
    ///
    /// # Panics
    /// If the meeting or file does not exist.
    pub fn expected_bytes(
        &self,
        meeting_uuid: &str,
        file: impl Into<FileRef>,
        range: Range<u64>,
    ) -> Vec<u8> {
        let file = file.into();
        let sim_file = self
            .shared
            .lock()
            .sim_file(meeting_uuid, &file)
            .cloned()
            .unwrap_or_else(|| panic!("zoom-sim: no file {file:?} in meeting {meeting_uuid:?}"));
        sim_file.expected_bytes(range)
    }

    // ---- knobs -------------------------------------------------------------

    /// Whether the CDN honours `Range` (206) or always sends the whole file (200).
    pub fn set_range_support(&self, enabled: bool) {
        self.shared.lock().range_support = enabled;
    }

    /// How refused downloads answer.
    pub fn set_download_error_body(&self, body: DownloadErrorBody) {
        self.shared.lock().download_error_body = body;
    }

    /// The next `count` requests whose path starts with `path_prefix` get
    /// `status` (429 with Zoom's rate-limit body and headers), with
    /// `Retry-After` when `retry_after` is given. Rules queue up; the first
    /// matching one is used.
    pub fn fail_next(
        &self,
        path_prefix: &str,
        status: u16,
        count: u32,
        retry_after: Option<Duration>,
    ) {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        self.shared
            .lock()
            .faults
            .fail_next(path_prefix, status, count, retry_after);
    }

    /// Delays every request whose path starts with `path_prefix` by `delay`
    /// (zero removes the delay).
    pub fn set_delay(&self, path_prefix: &str, delay: Duration) {
        self.shared.lock().faults.set_delay(path_prefix, delay);
    }

    /// Sends every response body whose path starts with `path_prefix` at
    /// about `bytes_per_second`, after its headers (zero removes the
    /// knob): a slow network, so a download takes seconds. The slowest
    /// matching rate applies.
    pub fn set_body_rate(&self, path_prefix: &str, bytes_per_second: u64) {
        self.shared
            .lock()
            .faults
            .set_body_rate(path_prefix, bytes_per_second);
    }

    /// Holds the response to every request whose path starts with
    /// `path_prefix` for `delay` after the request was handled (zero
    /// removes it): the request has taken effect, the client has no answer
    /// yet. (`set_delay` holds a request before it is handled.)
    pub fn set_response_delay(&self, path_prefix: &str, delay: Duration) {
        self.shared
            .lock()
            .faults
            .set_response_delay(path_prefix, delay);
    }

    /// Sets (replaces) the fault on one file. Returns false if there is no
    /// such file.
    pub fn set_file_fault(
        &self,
        meeting_uuid: &str,
        file: impl Into<FileRef>,
        fault: FileFault,
    ) -> bool {
        self.shared
            .lock()
            .set_file_fault(meeting_uuid, &file.into(), fault)
    }

    /// Removes every request and file fault.
    pub fn clear_faults(&self) {
        let mut state = self.shared.lock();
        state.faults.clear();
        state.clear_file_faults();
    }

    /// Expires every download token issued so far (new ones still work).
    pub fn expire_download_tokens(&self) {
        self.shared.lock().expire_download_tokens();
    }

    /// Expires every OAuth access token issued so far.
    pub fn expire_access_tokens(&self) {
        self.shared.lock().expire_access_tokens();
    }

    /// Moves the simulator's clock forward: tokens, page cursors and CDN
    /// URLs expire as if that much time had passed, without sleeping.
    pub fn advance_clock(&self, by: Duration) {
        self.shared.lock().advance_clock(by);
    }

    /// Stops the server, letting in-flight requests finish for a moment.
    pub async fn shutdown(self) {
        let task = self
            .server
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(ServerTask { stop, mut join }) = task {
            let _ = stop.send(());
            // A client stuck mid-download must not hang the caller forever.
            if tokio::time::timeout(Duration::from_secs(5), &mut join)
                .await
                .is_err()
            {
                join.abort();
            }
        }
    }
}
