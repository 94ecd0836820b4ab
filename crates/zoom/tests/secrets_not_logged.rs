//! Credentials never reach logs: every tracing event this crate (and the
//! HTTP stack under it) emits during token fetches, refreshes, retries and
//! downloads is captured into a buffer and searched for the tokens and the
//! client secret. Debug output of configs, events and errors is checked too.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{client_for, config_for, start_sim};
use futures_util::StreamExt;
use tracing_subscriber::fmt::MakeWriter;
use zoomvault_zoom::{parse_event, DownloadAuth, SecretString, ZoomEvent};
use zoomvault_zoom_sim::SimConfig;

/// A `MakeWriter` that appends everything to one shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

// The default test runtime is single-threaded, so a thread-local default
// subscriber sees every task: the client's, reqwest's and the simulator's.
#[tokio::test]
async fn no_token_or_secret_appears_in_logs_or_debug_output() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(captured.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sim = start_sim(SimConfig::default()).await;
    let meeting = sim.demo_meeting();
    let client = client_for(&sim);
    let raw = serde_json::to_vec(&sim.recording_completed_event(&meeting.uuid)).expect("json");
    let ZoomEvent::RecordingCompleted(event) = parse_event(&raw).expect("parses") else {
        panic!("not recording.completed");
    };
    let download_token = event.download_token.clone().expect("token");
    let url = event.recording.recording_files[2]
        .download_url
        .clone()
        .expect("url");

    // Token fetch, API calls, a refresh after a 401, a retried 429, and
    // downloads with both credentials, including a refused one.
    client.list_users().await.expect("users");
    sim.expire_access_tokens();
    sim.fail_next("/v2/meetings/", 429, 1, Some(Duration::ZERO));
    client
        .meeting_recordings(&meeting.uuid)
        .await
        .expect("recordings");
    let auth = DownloadAuth::DownloadToken(SecretString::new(download_token.clone()));
    let download = client.download(&url, &auth, None).await.expect("download");
    let mut stream = download.stream;
    while let Some(chunk) = stream.next().await {
        chunk.expect("chunk");
    }
    client
        .probe_range(&url, &DownloadAuth::OAuth)
        .await
        .expect("probe");
    sim.expire_download_tokens();
    let refused = client
        .download(&url, &auth, None)
        .await
        .expect_err("expired");

    let mut shown = captured.text();
    assert!(
        shown.contains("Zoom response"),
        "the capture works: {shown}"
    );
    shown.push_str(&format!(
        "{event:?} {auth:?} {refused:?} {refused} {:?} {client:?}",
        config_for(&sim)
    ));

    let client_secret = sim.config().client_secret.clone();
    for secret in [
        download_token.as_str(),
        client_secret.as_str(),
        // Every token the simulator issues carries one of these prefixes.
        "zvsim_at_",
        "zvsim_dl_",
        "access_token=",
    ] {
        assert!(
            !shown.contains(secret),
            "{secret:?} leaked into logs or Debug output"
        );
    }
}
