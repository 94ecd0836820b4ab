//! The end-to-end ingest harness `ingest.rs` and `faults.rs` share: a Zoom
//! simulator, `zoomvault serve`'s app over real HTTP on the embedded engine
//! with a directory store in a temp dir, and the checks of an ingest's
//! outcome (archived byte-identical, or the execution's history). It holds
//! no tests; each harness is new and owns its temp dir.

// Each test file uses part of the harness.
#![allow(dead_code)]

use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::sync::Arc;
use zoomvault::embedded::{Embedded, EmbeddedConfig};
use zoomvault::serve::{app, sdk_starter, serve_until_shutdown, ApiKey, AppState, Listener};
use zoomvault_archive::checksum::Crc64Nvme;
use zoomvault_archive::document;
use zoomvault_archive::keys::RecordingKeys;
use zoomvault_archive::steps::IngestConfig;
use zoomvault_engine::store::ExecutionRow;
use zoomvault_engine::Status;
use zoomvault_zoom::{RetryPolicy, WebhookVerifier, ZoomConfig};
use zoomvault_zoom_sim::{SimConfig, SimMeeting, WebhookOptions, ZoomSim};

pub struct Harness {
    pub sim: ZoomSim,
    pub embedded: Embedded,
    pub base: String,
    pub webhook_url: String,
    /// Files bigger than this are fanned out (and have no SHA-256).
    pub invocation_bytes: u64,
    /// The data directory serve's app runs on.
    pub data_dir: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// What a harness is started with.
pub struct HarnessConfig {
    pub sim: SimConfig,
    pub ingest: IngestConfig,
    /// With a key, the Step Functions API takes only requests signed with
    /// it, as when serve listens beyond loopback.
    pub api_key: Option<ApiKey>,
    /// The Zoom client's own retries (429, 5xx, connection failures).
    pub zoom_retry: RetryPolicy,
    /// The data directory, when the test prepares it (a small filesystem
    /// mounted as its store); a temp dir of the harness's own otherwise.
    pub data_dir: Option<std::path::PathBuf>,
}

impl Default for HarnessConfig {
    fn default() -> HarnessConfig {
        HarnessConfig {
            sim: SimConfig::default(),
            ingest: IngestConfig {
                part_size: 5 * 1024 * 1024,
                ..IngestConfig::default()
            },
            api_key: None,
            zoom_retry: RetryPolicy::default(),
            data_dir: None,
        }
    }
}

pub async fn harness() -> Harness {
    start(HarnessConfig::default()).await
}

/// Parts of 5 MiB and at most one part per invocation, so the demo's 8 MiB
/// video is fanned out over two RetrieveParts invocations.
pub async fn fan_out_harness() -> Harness {
    harness_with(IngestConfig {
        part_size: 5 * 1024 * 1024,
        invocation_bytes: 5 * 1024 * 1024,
        ..IngestConfig::default()
    })
    .await
}

pub async fn harness_with(ingest: IngestConfig) -> Harness {
    start(HarnessConfig {
        ingest,
        ..HarnessConfig::default()
    })
    .await
}

pub async fn harness_keyed(ingest: IngestConfig, key: Option<ApiKey>) -> Harness {
    start(HarnessConfig {
        ingest,
        api_key: key,
        ..HarnessConfig::default()
    })
    .await
}

pub async fn start(config: HarnessConfig) -> Harness {
    let sim = ZoomSim::start(config.sim, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sim_config = sim.config();
    let mut zoom = ZoomConfig::new(
        sim_config.account_id.clone(),
        sim_config.client_id.clone(),
        sim_config.client_secret.clone(),
    );
    zoom.api_base = sim.api_base_url();
    zoom.oauth_base = sim.base_url();
    zoom.retry = config.zoom_retry;
    let invocation_bytes = config.ingest.invocation_bytes;
    let data_dir = config.data_dir.unwrap_or_else(|| dir.path().to_path_buf());
    let embedded = Embedded::open(EmbeddedConfig {
        store: None,
        data_dir: data_dir.clone(),
        zoom,
        ingest: config.ingest,
        site_title: "Recordings".into(),
        max_concurrent_tasks: 8,
        journal_retention: Some(zoomvault_engine::DEFAULT_RETENTION),
        journal_sync: zoomvault_engine::Durability::Full,
        map_buckets: None,
        integrations: Default::default(),
    })
    .unwrap();
    let listener = Listener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let base = listener.url().to_string();
    let url = format!("{base}/zoom/webhook");
    let key = config.api_key;
    let state = AppState {
        starter: sdk_starter(&embedded, &base, key.as_ref()),
        embedded: embedded.clone(),
        verifier: Arc::new(WebhookVerifier::new(
            sim_config.webhook_secret_token.clone(),
        )),
        api: ApiKey::api_config(key.as_ref()),
    };
    // Served as `serve` serves it; it stops when the test's runtime does.
    tokio::spawn(serve_until_shutdown(
        listener,
        app(state),
        std::future::pending(),
    ));
    Harness {
        sim,
        embedded,
        base,
        webhook_url: url,
        invocation_bytes,
        data_dir,
        _dir: dir,
    }
}

impl Harness {
    pub async fn deliver(&self, uuid: &str, options: WebhookOptions) -> (u16, serde_json::Value) {
        let body = self.sim.recording_completed_event(uuid);
        let (status, reply) = self
            .sim
            .send_webhook(&self.webhook_url, &body, options)
            .await
            .unwrap();
        (status, serde_json::from_str(&reply).unwrap())
    }

    pub fn executions(&self) -> usize {
        self.embedded
            .engine
            .list_executions(None, None, None, 100)
            .unwrap()
            .len()
    }
}

pub fn sha256_file(path: &std::path::Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

pub fn crc64nvme_file(path: &std::path::Path) -> Crc64Nvme {
    Crc64Nvme::of(&std::fs::read(path).unwrap())
}

/// Delivers `event` (for `meeting`), waits for the ingest and checks it
/// succeeded with every file byte-identical on disk; returns the document.
pub async fn ingest_and_check(
    h: &Harness,
    meeting: &SimMeeting,
    event: &serde_json::Value,
) -> document::RecordingDocument {
    let (status, reply) = h
        .sim
        .send_webhook(&h.webhook_url, event, WebhookOptions::default())
        .await
        .unwrap();
    assert_eq!(status, 200, "{reply}");
    let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
    let row = h
        .embedded
        .engine
        .wait_for(reply["execution_arn"].as_str().unwrap())
        .await
        .unwrap();
    check_archived(h, meeting, &row).await
}

/// Checks that the ingest that ended in `row` succeeded and left every file
/// of `meeting` byte-identical on disk, its checksum in a valid document,
/// and Zoom's copy trashed; returns the document.
pub async fn check_archived(
    h: &Harness,
    meeting: &SimMeeting,
    row: &ExecutionRow,
) -> document::RecordingDocument {
    assert_eq!(
        row.status,
        Status::Succeeded,
        "{:?} {:?}",
        row.error,
        row.cause
    );
    let keys = RecordingKeys::new(meeting.start_time, meeting.id, &meeting.uuid).unwrap();
    let bytes = h.embedded.store.get(&keys.document()).await.unwrap();
    let doc = document::validate(&serde_json::from_slice(&bytes).unwrap()).unwrap();
    assert_eq!(doc.files.len(), meeting.files.len());
    for file in &meeting.files {
        let stored = doc
            .files
            .iter()
            .find(|f| f.zoom_file_id == file.id && f.file_type == file.file_type)
            .unwrap();
        let expected = h.sim.expected_sha256(&meeting.uuid, file.index);
        assert_eq!(
            sha256_file(&h.embedded.object_path(&stored.storage_key).unwrap()),
            expected,
            "{}",
            stored.storage_key
        );
        // A file read in order has its SHA-256; a fanned-out one only its
        // CRC64NVME.
        let read_in_order = stored.size_bytes <= h.invocation_bytes;
        assert_eq!(
            stored.sha256.as_deref(),
            read_in_order.then_some(expected.as_str()),
            "{}",
            stored.storage_key
        );
        assert_eq!(
            stored.crc64nvme,
            crc64nvme_file(&h.embedded.object_path(&stored.storage_key).unwrap()),
            "{}",
            stored.storage_key
        );
    }
    assert!(h.sim.is_trashed(&meeting.uuid));
    doc
}

/// Delivers `meeting`'s `recording.completed` and returns the execution the
/// webhook started.
pub async fn deliver_event(h: &Harness, meeting: &SimMeeting) -> String {
    let event = h.sim.recording_completed_event(&meeting.uuid);
    let (status, reply) = h
        .sim
        .send_webhook(&h.webhook_url, &event, WebhookOptions::default())
        .await
        .unwrap();
    assert_eq!(status, 200, "{reply}");
    let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
    reply["execution_arn"].as_str().unwrap().to_string()
}

/// Waits until some task of `execution` has failed; returns the TaskFailed
/// events so far.
pub async fn wait_for_failed_task(h: &Harness, execution: &str) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let failed = failed_tasks(h, execution);
        if !failed.is_empty() {
            return failed;
        }
        let history = h.embedded.engine.history(execution).unwrap();
        let types: Vec<&serde_json::Value> = history.iter().map(|e| &e["type"]).collect();
        assert!(
            std::time::Instant::now() < deadline,
            "no attempt failed: {types:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The TaskFailed events of `execution` so far, as JSON text.
pub fn failed_tasks(h: &Harness, execution: &str) -> Vec<String> {
    h.embedded
        .engine
        .history(execution)
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "TaskFailed")
        .map(|e| e.to_string())
        .collect()
}

/// The TaskScheduled events of `execution` (nested Map iterations included)
/// that invoke `function`.
pub fn invocations_of(h: &Harness, execution: &str, function: &str) -> usize {
    h.embedded
        .engine
        .history(execution)
        .unwrap()
        .iter()
        .filter(|e| {
            e["type"] == "TaskScheduled"
                && e["taskScheduledEventDetails"]["parameters"]
                    .as_str()
                    .is_some_and(|p| p.contains(&format!("\"FunctionName\":\"{function}\"")))
        })
        .count()
}

/// Every regular file below `dir` (none when it does not exist).
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// The environment that points a `zoomvault serve` process at `sim`'s
/// account, API and downloads (plain http on loopback allowed).
pub fn zoom_env(sim: &ZoomSim) -> Vec<(&'static str, String)> {
    let c = sim.config();
    vec![
        ("ZOOM_ACCOUNT_ID", c.account_id.clone()),
        ("ZOOM_CLIENT_ID", c.client_id.clone()),
        ("ZOOM_CLIENT_SECRET", c.client_secret.clone()),
        ("ZOOM_WEBHOOK_SECRET_TOKEN", c.webhook_secret_token.clone()),
        ("ZOOM_API_BASE", sim.api_base_url()),
        ("ZOOM_OAUTH_BASE", sim.base_url()),
        ("ZOOM_DOWNLOAD_HOSTS", "http://127.0.0.1".to_string()),
    ]
}

/// `zoomvault serve` as a process on a free loopback port and `data`, with
/// `env` set; killed on drop. Everything it prints is kept in `log`, read
/// as it comes so serve never blocks on a full pipe.
pub struct ServeProcess {
    pub child: std::process::Child,
    pub url: String,
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts serve and returns once it says where it listens.
pub fn serve_process(data: &std::path::Path, env: Vec<(&'static str, String)>) -> ServeProcess {
    use std::io::{BufRead, BufReader, Read};
    use std::process::{Command, Stdio};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_zoomvault"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data)
        .envs(env)
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    loop {
        let line = lines.next().expect("serve says where it listens").unwrap();
        let up = line.starts_with("zoomvault serving on");
        log.lock().unwrap().push(line);
        if up {
            break;
        }
    }
    let kept = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            kept.lock().unwrap().push(line);
        }
    });
    let mut stdout = child.stdout.take().unwrap();
    let kept = log.clone();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        kept.lock().unwrap().push(text);
    });
    ServeProcess {
        child,
        url: format!("http://127.0.0.1:{port}"),
        log,
    }
}
