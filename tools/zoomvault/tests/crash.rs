//! Crashes in the middle of ingests (issue 14, points 2 and 7): the real
//! `zoomvault serve` binary, a child process on one data directory and
//! port, ingests 20 recordings (several files each, one of 1 GiB fanned
//! out over several RetrieveParts batches) from the Zoom simulator, which
//! runs in this test's process and delivers signed webhooks, redelivering
//! any that got no 200 as Zoom does. Serve is killed with SIGKILL 50 times
//! at chosen moments and restarted on the same data directory each time.
//!
//! Each kill is classified from serve's engine journal (`engine.db`, opened
//! read-only right after the kill, while serve is dead) by what its running
//! executions had open, a task being open from its `TaskScheduled` event
//! until the event that ends it:
//!
//! - *retrieval*: a RetrieveFile, BeginFile, RetrieveParts or CompleteFile
//!   task was open;
//! - *Finalize*: a Finalize task was open;
//! - *between steps*: no task was open in any running execution (each was
//!   waiting on a Retry's backoff, or none was running) while recordings
//!   were still to be archived: the moments a wave of deliveries has
//!   finished and the next is not yet sent, or an execution is between
//!   attempts;
//! - *metadata*: only IngestMetadata (or RecordFailure, or the putEvents
//!   task of AnnounceArchived) was open.
//!
//! A kill can be both retrieval and Finalize (several executions run at
//! once). Kills are timed against observed progress: a retrieval kill lands
//! up to 400 ms after the journal has moved on since the restart with a
//! retrieval task open, a Finalize kill within 150 ms of a Finalize being
//! seen open (Zoom's meeting endpoints hold each request 150 ms before
//! and 150 ms after handling it, which keeps Finalize's trash call in
//! flight that long) or, half the time, the
//! moment a trash has gone through (before Finalize's result is
//! journaled, so the Finalize run again meets a recording already in the
//! trash), a between-steps kill once every delivered recording is archived
//! and before the next wave is sent, and some kills at a random instant
//! after the restart (recovery).
//!
//! Then: every execution SUCCEEDED (none stuck), one document and one index
//! entry per recording, every file byte-identical to the simulator's
//! (streamed and compared, never held whole), nothing left in the store's
//! staging (`.multipart/`, `.tmp/`) and no object outside the recordings,
//! each Zoom copy trashed by exactly one successful call, after the last
//! download of its files, and only once its document and files were in
//! the store.
//!
//! `ZOOMVAULT_CRASH_SEED` replays a run's kill plan (where inside serve a
//! kill lands still varies); `ZOOMVAULT_CRASH_KILLS` changes the count.
//! The second test stops serve with SIGTERM in the middle of a download
//! and checks it exits 0 promptly and the ingest completes after a restart.

mod support;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::zoom_env;
use zoomvault_archive::keys::{self, RecordingKeys};
use zoomvault_zoom_sim::{FileSpec, MeetingSpec, SimConfig, SimMeeting, WebhookOptions, ZoomSim};

const MIB: u64 = 1024 * 1024;
const RECORDINGS: usize = 20;
/// Deliveries come in waves, so that there are moments with nothing in
/// flight between them; the 1 GiB recording is in the last, whose many
/// batches take up the kills the quick waves before it left over.
const WAVES: usize = 5;
const DEFAULT_KILLS: usize = 50;
/// How long a condition a kill waits for may take to appear before the
/// kill lands anyway.
const TARGET_PATIENCE: Duration = Duration::from_secs(20);
/// How long the simulator holds each CDN request, and how long while the
/// current wave still has kills to take.
const CDN_DELAY: Duration = Duration::from_millis(100);
const CDN_DELAY_WHILE_KILLING: Duration = Duration::from_millis(400);
/// How long a Finalize kill waits for a Finalize: not long, since while
/// only the big file is being retrieved none comes for a while.
const FINALIZE_PATIENCE: Duration = Duration::from_secs(3);
/// How long the last serve may take to finish everything.
const FINISH_DEADLINE: Duration = Duration::from_secs(300);

const RETRIEVAL_STEPS: [&str; 4] = [
    "zoomvault-retrieve-file",
    "zoomvault-begin-file",
    "zoomvault-retrieve-parts",
    "zoomvault-complete-file",
];
const FINALIZE_STEP: &str = "zoomvault-finalize";

/// A small deterministic generator (SplitMix64), so a seed replays a plan.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

// ---------------------------------------------------------------------------
// serve as a child process

/// Where one test keeps its data directory, settings and serve's logs.
struct Workspace {
    dir: tempfile::TempDir,
    port: u16,
}

impl Workspace {
    fn new(settings: &str) -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("settings.toml"), settings).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Workspace { dir, port }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn journal(&self) -> PathBuf {
        self.data().join("engine.db")
    }

    fn store(&self) -> PathBuf {
        self.data().join("store")
    }

    fn log(&self, run: u32) -> PathBuf {
        self.dir.path().join(format!("serve-{run}.log"))
    }

    fn webhook_url(&self) -> String {
        format!("http://127.0.0.1:{}/zoom/webhook", self.port)
    }

    /// Starts serve run number `run` and waits until it listens.
    async fn start(&self, run: u32, sim: &ZoomSim) -> Serve {
        let log = std::fs::File::create(self.log(run)).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_zoomvault"))
            .args(["serve", "--listen", &format!("127.0.0.1:{}", self.port)])
            .arg("--data-dir")
            .arg(self.data())
            .arg("--config")
            .arg(self.dir.path().join("settings.toml"))
            .env_remove("ZOOMVAULT_DATA_DIR")
            .env_remove("ZOOMVAULT_STORE")
            // Set, so serve does not re-execute itself to set it.
            .env("MIMALLOC_PURGE_DELAY", "10")
            .envs(zoom_env(sim))
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("serve starts");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = std::fs::read_to_string(self.log(run)).unwrap_or_default();
            if text.contains("zoomvault serving on") {
                return Serve(child);
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("serve run {run} exited with {status} before listening:\n{text}");
            }
            assert!(
                Instant::now() < deadline,
                "serve run {run} did not listen within 60 s:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Panics, with serve's log, if run `run` has exited on its own.
    fn require_alive(&self, child: &mut Child, run: u32) {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "serve run {run} exited on its own with {status}:\n{}",
                self.log_tail(run)
            );
        }
    }

    fn log_tail(&self, run: u32) -> String {
        let text = std::fs::read_to_string(self.log(run)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

/// A serve process, killed if the test ends (or fails) while it runs.
struct Serve(Child);

impl std::ops::Deref for Serve {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Serve {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends SIGTERM and waits (at most `within`) for serve to exit.
async fn terminate(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "serve is still running {within:?} after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------------------
// the journal, read-only

/// What serve's journal says: each execution's status by name, and the
/// tasks open in running executions (execution name, function name).
#[derive(Debug, Default)]
struct JournalView {
    status: BTreeMap<String, String>,
    open: Vec<(String, String)>,
    /// History events in every execution: grows with any progress.
    events: usize,
}

impl JournalView {
    fn open_functions(&self) -> BTreeSet<&str> {
        self.open.iter().map(|(_, f)| f.as_str()).collect()
    }

    fn retrieval_open(&self) -> bool {
        self.open
            .iter()
            .any(|(_, f)| RETRIEVAL_STEPS.contains(&f.as_str()))
    }

    fn finalize_open(&self) -> bool {
        self.open.iter().any(|(_, f)| f == FINALIZE_STEP)
    }

    fn succeeded(&self, name: &str) -> bool {
        self.status.get(name).map(String::as_str) == Some("SUCCEEDED")
    }
}

/// Reads the journal at `path` without writing to it (serve may be running
/// or dead); `None` before serve has created it.
fn read_journal(path: &Path) -> Option<JournalView> {
    use rusqlite::{Connection, OpenFlags};
    if !path.exists() {
        return None;
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .ok()?;
    conn.busy_timeout(Duration::from_secs(5)).ok()?;
    let mut view = JournalView::default();
    let mut running = BTreeMap::new();
    let mut executions = conn
        .prepare("SELECT id, name, status FROM executions")
        .ok()?;
    let rows = executions
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .ok()?;
    for row in rows {
        let (id, name, status) = row.ok()?;
        if status == "RUNNING" {
            running.insert(id, name.clone());
        }
        view.status.insert(name, status);
    }
    view.events = conn
        .query_row("SELECT COUNT(*) FROM history", [], |r| r.get::<_, i64>(0))
        .ok()? as usize;
    let mut history = conn
        .prepare("SELECT body FROM history WHERE execution_id = ?1 ORDER BY id")
        .ok()?;
    for (id, name) in running {
        let bodies = history
            .query_map([id], |r| r.get::<_, String>(0))
            .ok()?
            .collect::<Result<Vec<_>, _>>()
            .ok()?;
        for function in open_tasks(&bodies) {
            view.open.push((name.clone(), function));
        }
    }
    Some(view)
}

/// The function names of the tasks an execution's history leaves open: a
/// `TaskScheduled` that no later task event ends (an event's
/// `previousEventId` chains it to the event before it in its run, so an
/// ending event walks back through `TaskStarted` to its `TaskScheduled`).
fn open_tasks(bodies: &[String]) -> Vec<String> {
    let events: BTreeMap<u64, serde_json::Value> = bodies
        .iter()
        .filter_map(|b| serde_json::from_str::<serde_json::Value>(b).ok())
        .filter_map(|e| Some((e["id"].as_u64()?, e)))
        .collect();
    let kind = |e: &serde_json::Value| e["type"].as_str().unwrap_or_default().to_string();
    let mut open: BTreeMap<u64, String> = BTreeMap::new();
    for (id, event) in &events {
        match kind(event).as_str() {
            "TaskScheduled" => {
                let parameters = event["taskScheduledEventDetails"]["parameters"]
                    .as_str()
                    .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
                    .unwrap_or_default();
                // A Lambda task by its function, AnnounceArchived's
                // putEvents by its resource.
                let function = parameters["FunctionName"]
                    .as_str()
                    .or(event["taskScheduledEventDetails"]["resource"].as_str())
                    .unwrap_or("?")
                    .to_string();
                open.insert(*id, function);
            }
            "TaskSucceeded" | "TaskFailed" | "TaskTimedOut" | "TaskStartFailed"
            | "TaskSubmitFailed" => {
                let mut at = event["previousEventId"].as_u64();
                while let Some(previous) = at {
                    let Some(before) = events.get(&previous) else {
                        break;
                    };
                    if kind(before) == "TaskScheduled" {
                        open.remove(&previous);
                        break;
                    }
                    at = before["previousEventId"].as_u64();
                }
            }
            _ => {}
        }
    }
    open.into_values().collect()
}

// ---------------------------------------------------------------------------
// Zoom's side: recordings and webhook deliveries

/// The test's recordings: the last with a 1 GiB video, the rest with a
/// video of a few parts; each with an audio file, a transcript and a chat,
/// some with a timeline.
fn add_recordings(sim: &ZoomSim) -> Vec<SimMeeting> {
    (0..RECORDINGS)
        .map(|i| {
            let video = if i == RECORDINGS - 1 {
                1024 * MIB
            } else {
                (10 + (i as u64 * 7) % 20) * MIB + 4321 * i as u64
            };
            let mut files = vec![
                FileSpec::video("shared_screen_with_speaker_view", video),
                FileSpec::audio((1 + i as u64 % 4) * MIB + 999),
                FileSpec::transcript(),
                FileSpec::chat(),
            ];
            if i % 5 == 0 {
                files.push(FileSpec::timeline());
            }
            sim.add_meeting(MeetingSpec {
                topic: format!("Crash test meeting {i}"),
                files,
                ..MeetingSpec::default()
            })
        })
        .collect()
}

/// Zoom's webhook deliveries: every released recording's event is sent,
/// and sent again until serve answers 200, as Zoom retries a delivery
/// that got no 200 (here after 20 ms, so retries also meet a serve that is
/// down).
#[derive(Debug, Default)]
struct Deliveries {
    released: Vec<usize>,
    acknowledged: HashSet<usize>,
    attempts: usize,
    failed: usize,
}

fn spawn_deliveries(
    sim: ZoomSim,
    url: String,
    bodies: Vec<serde_json::Value>,
    deliveries: Arc<Mutex<Deliveries>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let due: Vec<usize> = {
                let d = deliveries.lock().unwrap();
                d.released
                    .iter()
                    .copied()
                    .filter(|i| !d.acknowledged.contains(i))
                    .collect()
            };
            for i in due {
                let sent = tokio::time::timeout(
                    Duration::from_secs(10),
                    sim.send_webhook(&url, &bodies[i], WebhookOptions::default()),
                )
                .await;
                let mut d = deliveries.lock().unwrap();
                d.attempts += 1;
                match sent {
                    Ok(Ok((200, _))) => {
                        d.acknowledged.insert(i);
                    }
                    _ => d.failed += 1,
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
}

/// Watches Zoom's trash: the moment a recording is first seen trashed, its
/// document and every file it lists must already be in the store at their
/// full size. Returns what it found wrong.
fn spawn_trash_watch(
    sim: ZoomSim,
    meetings: Vec<SimMeeting>,
    objects: PathBuf,
    problems: Arc<Mutex<Vec<String>>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut seen = HashSet::new();
        loop {
            for uuid in sim.trashed() {
                if !seen.insert(uuid.clone()) {
                    continue;
                }
                let meeting = meetings.iter().find(|m| m.uuid == uuid).unwrap();
                if let Err(problem) = archived_on_disk(&objects, meeting) {
                    problems
                        .lock()
                        .unwrap()
                        .push(format!("{uuid} trashed before it was archived: {problem}"));
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
}

/// Whether `meeting`'s document is in the store and every file it lists
/// has its recorded size there.
fn archived_on_disk(objects: &Path, meeting: &SimMeeting) -> Result<(), String> {
    let keys = RecordingKeys::new(meeting.start_time, meeting.id, &meeting.uuid).unwrap();
    let text =
        std::fs::read(objects.join(keys.document())).map_err(|e| format!("no document ({e})"))?;
    let document: serde_json::Value = serde_json::from_slice(&text).map_err(|e| e.to_string())?;
    let files = document["files"].as_array().cloned().unwrap_or_default();
    if files.len() != meeting.files.len() {
        return Err(format!(
            "the document lists {} files of {}",
            files.len(),
            meeting.files.len()
        ));
    }
    for file in files {
        let key = file["storage_key"].as_str().unwrap_or_default();
        let size = std::fs::metadata(objects.join(key)).map(|m| m.len()).ok();
        if size != file["size_bytes"].as_u64() {
            return Err(format!(
                "{key} has {size:?} bytes, not {}",
                file["size_bytes"]
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// the kills

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    Retrieval,
    Finalize,
    Between,
    Anytime,
}

/// One kill: what it aimed at, and what the journal showed right after.
#[derive(Debug)]
struct Kill {
    target: Target,
    retrieval: bool,
    finalize: bool,
    between: bool,
    open: BTreeSet<String>,
}

impl Kill {
    fn classes(&self) -> Vec<&'static str> {
        let mut classes = Vec::new();
        if self.retrieval {
            classes.push("retrieval");
        }
        if self.finalize {
            classes.push("Finalize");
        }
        if self.between {
            classes.push("between steps");
        }
        if classes.is_empty() {
            classes.push("metadata");
        }
        classes
    }
}

/// Waits, polling the journal, until `ready` holds or `patience` has
/// passed; false on timeout.
async fn wait_for(
    ws: &Workspace,
    child: &mut Child,
    run: u32,
    patience: Duration,
    mut ready: impl FnMut(&JournalView) -> bool,
) -> bool {
    let deadline = Instant::now() + patience;
    while Instant::now() < deadline {
        ws.require_alive(child, run);
        if read_journal(&ws.journal()).is_some_and(|v| ready(&v)) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    false
}

/// Every released recording's execution has SUCCEEDED.
fn wave_done(view: &JournalView, deliveries: &Mutex<Deliveries>, names: &[String]) -> bool {
    let d = deliveries.lock().unwrap();
    d.released
        .iter()
        .all(|&i| d.acknowledged.contains(&i) && view.succeeded(&names[i]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkilled_serve_archives_every_recording_exactly_once() {
    let began = Instant::now();
    let seed = std::env::var("ZOOMVAULT_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    let kills_wanted: usize = std::env::var("ZOOMVAULT_CRASH_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_KILLS);
    eprintln!("crash test: seed {seed} (ZOOMVAULT_CRASH_SEED={seed} replays the plan)");
    let mut rng = SplitMix(seed);

    let sim = ZoomSim::start(SimConfig::default(), SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    // Finalize's trash call (and IngestMetadata's reads) take 300 ms, so a
    // Finalize is open long enough to be seen and killed: 150 ms before
    // the trash takes effect, and 150 ms after it did with serve not yet
    // answered (where a kill makes the Finalize run again meet a recording
    // already in the trash).
    sim.set_delay("/v2/meetings/", Duration::from_millis(150));
    sim.set_response_delay("/v2/meetings/", Duration::from_millis(150));
    // Each ranged GET waits first, as a distant CDN would, so that the
    // retrievals last long enough for the kills to land among them (set
    // per kill below).
    let meetings = add_recordings(&sim);
    let names: Vec<String> = meetings
        .iter()
        .map(|m| keys::execution_name(&m.uuid).unwrap())
        .collect();
    let bodies: Vec<serde_json::Value> = meetings
        .iter()
        .map(|m| sim.recording_completed_event(&m.uuid))
        .collect();
    let total_bytes: u64 = meetings.iter().flat_map(|m| &m.files).map(|f| f.size).sum();

    // Parts of 8 MiB and at most 32 MiB per invocation: the 1 GiB video
    // is fanned out over 32 RetrieveParts batches; the other videos are
    // read in order by RetrieveFile in a few parts each.
    let ws = Workspace::new("scan_every = \"off\"\npart_size_mib = 8\ninvocation_mib = 32\n");
    let deliveries = Arc::new(Mutex::new(Deliveries::default()));
    let delivering = spawn_deliveries(
        sim.clone(),
        ws.webhook_url(),
        bodies.clone(),
        deliveries.clone(),
    );
    let problems = Arc::new(Mutex::new(Vec::new()));
    let watching = spawn_trash_watch(
        sim.clone(),
        meetings.clone(),
        ws.store().join("objects"),
        problems.clone(),
    );

    let per_wave = RECORDINGS.div_ceil(WAVES);
    let release = |wave: usize| {
        let mut d = deliveries.lock().unwrap();
        for i in wave * per_wave..((wave + 1) * per_wave).min(RECORDINGS) {
            d.released.push(i);
        }
    };
    let mut run = 1;
    let mut child = ws.start(run, &sim).await;
    let mut wave = 0;
    release(wave);
    let mut kills: Vec<Kill> = Vec::new();
    while kills.len() < kills_wanted {
        let started = Instant::now();
        let at_start = read_journal(&ws.journal()).unwrap_or_default().events;
        // Kills are spread over the waves; a wave that has used its share
        // runs to its end, then one kill lands between it and the next.
        let share = kills_wanted * (wave + 1) / WAVES;
        // The CDN is slower while the wave still has kills to take, so a
        // wave does not finish before its share has landed however long a
        // restart takes (a loaded machine restarts serve slowly), and
        // quick again once it has, so the wave then runs to its end.
        let cdn_delay = if kills.len() + 1 < share {
            CDN_DELAY_WHILE_KILLING
        } else {
            CDN_DELAY
        };
        sim.set_delay("/cdn/", cdn_delay);
        let wave_finished = wait_for(&ws, &mut child, run, TARGET_PATIENCE, |v| {
            kills.len() < share || wave_done(v, &deliveries, &names)
        })
        .await;
        assert!(wave_finished, "wave {wave} made no progress in 20 s");
        let now = read_journal(&ws.journal()).unwrap_or_default();
        let target = if wave_done(&now, &deliveries, &names) {
            Target::Between
        } else {
            match rng.below(10) {
                0..=4 => Target::Retrieval,
                5..=7 => Target::Finalize,
                _ => Target::Anytime,
            }
        };
        let boundary = target == Target::Between && wave + 1 < WAVES;
        let release_first = boundary && wave % 2 == 1;
        match target {
            Target::Retrieval => {
                wait_for(&ws, &mut child, run, TARGET_PATIENCE, |v| {
                    v.events > at_start && v.retrieval_open()
                })
                .await;
                tokio::time::sleep(Duration::from_millis(rng.below(400))).await;
            }
            Target::Finalize if rng.below(2) == 0 => {
                // The moment after a trash went through, before Finalize's
                // result is journaled: the Finalize run again must find
                // the recording already in the trash, not trash it twice.
                let trashed = sim.trashed().len();
                let deadline = Instant::now() + FINALIZE_PATIENCE;
                while sim.trashed().len() == trashed && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            Target::Finalize => {
                wait_for(
                    &ws,
                    &mut child,
                    run,
                    FINALIZE_PATIENCE,
                    JournalView::finalize_open,
                )
                .await;
                tokio::time::sleep(Duration::from_millis(rng.below(150))).await;
            }
            Target::Between if release_first => {
                // Every other wave is released just before the kill, so
                // the kill lands among its deliveries: some answered,
                // some cut off, some refused.
                wave += 1;
                release(wave);
                tokio::time::sleep(Duration::from_millis(rng.below(100))).await;
            }
            Target::Between => {
                tokio::time::sleep(Duration::from_millis(rng.below(50))).await;
            }
            Target::Anytime => {
                let after = Duration::from_millis(30 + rng.below(1500));
                tokio::time::sleep(after.saturating_sub(started.elapsed())).await;
            }
        }
        ws.require_alive(&mut child, run);
        child.kill().unwrap();
        child.wait().unwrap();
        let view = read_journal(&ws.journal()).unwrap_or_default();
        let open: BTreeSet<String> = view
            .open_functions()
            .into_iter()
            .map(String::from)
            .collect();
        let kill = Kill {
            target,
            retrieval: view.retrieval_open(),
            finalize: view.finalize_open(),
            between: view.open.is_empty(),
            open,
        };
        eprintln!(
            "kill {:2} (run {run}, wave {wave}, aimed at {:?}): {} [{}]",
            kills.len() + 1,
            kill.target,
            kill.classes().join(", "),
            kill.open.iter().cloned().collect::<Vec<_>>().join(" ")
        );
        kills.push(kill);
        if boundary && !release_first {
            // The next wave is released while serve is down: its first
            // deliveries fail and Zoom sends them again.
            wave += 1;
            release(wave);
        }
        run += 1;
        child = ws.start(run, &sim).await;
    }
    while wave + 1 < WAVES {
        wave += 1;
        release(wave);
    }

    // The last serve runs everything to its end.
    let deadline = Instant::now() + FINISH_DEADLINE;
    loop {
        ws.require_alive(&mut child, run);
        let view = read_journal(&ws.journal()).unwrap_or_default();
        if wave_done(&view, &deliveries, &names) {
            break;
        }
        if Instant::now() > deadline {
            let stuck: Vec<String> = names
                .iter()
                .filter(|n| !view.succeeded(n))
                .map(|n| format!("{n}: {:?}", view.status.get(n)))
                .collect();
            panic!(
                "not archived {FINISH_DEADLINE:?} after the last kill: {stuck:?}; open tasks \
                 {:?}\n{}",
                view.open,
                ws.log_tail(run)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = terminate(&mut child, Duration::from_secs(30)).await;
    assert!(status.success(), "serve exits 0 on SIGTERM, not {status:?}");
    delivering.abort();
    // Give the trash watch a last look.
    tokio::time::sleep(Duration::from_millis(50)).await;
    watching.abort();
    let ingest_time = began.elapsed();

    // Every execution SUCCEEDED, one per recording, and nothing else ran.
    let view = read_journal(&ws.journal()).unwrap();
    let expected_names: BTreeSet<&String> = names.iter().collect();
    let journal_names: BTreeSet<&String> = view.status.keys().collect();
    assert_eq!(journal_names, expected_names, "one execution per recording");
    for name in &names {
        assert!(view.succeeded(name), "{name}: {:?}", view.status.get(name));
    }

    let bytes_checked = check_archive(&ws, &sim, &meetings).await;
    let repeated_trash_calls = check_trash(&sim, &meetings);
    let problems = problems.lock().unwrap().clone();
    assert!(problems.is_empty(), "{problems:#?}");

    // Report, and check each class of kill happened.
    let count = |f: &dyn Fn(&Kill) -> bool| kills.iter().filter(|k| f(k)).count();
    let retrieval = count(&|k| k.retrieval);
    let finalize = count(&|k| k.finalize);
    let between = count(&|k| k.between);
    let metadata = count(&|k| !k.retrieval && !k.finalize && !k.between);
    let d = deliveries.lock().unwrap();
    eprintln!(
        "crash test: seed {seed}; {} SIGKILLs, {run} serve runs; kills with retrieval in \
         flight {retrieval}, Finalize in flight {finalize}, between steps {between}, only \
         metadata {metadata} (retrieval and Finalize overlap: {}); {RECORDINGS} recordings, \
         {} files, {:.2} GiB archived and compared byte for byte ({bytes_checked} bytes); \
         {} webhook deliveries, {} of them failed and were redelivered; \
         {repeated_trash_calls} trash calls refused as already trashed; ingest {:.1?}, whole \
         test {:.1?}",
        kills.len(),
        count(&|k| k.retrieval && k.finalize),
        meetings.iter().map(|m| m.files.len()).sum::<usize>(),
        total_bytes as f64 / (1024.0 * MIB as f64),
        d.attempts,
        d.failed,
        ingest_time,
        began.elapsed(),
    );
    assert_eq!(kills.len(), kills_wanted);
    assert!(retrieval > 0, "no kill landed during retrieval");
    assert!(finalize > 0, "no kill landed during Finalize");
    assert!(between > 0, "no kill landed between steps");
    assert!(
        d.failed > 0,
        "no delivery failed, so no redelivery was tested"
    );
    assert!(
        repeated_trash_calls > 0,
        "no Finalize ran again after its trash went through"
    );
}

/// Checks the store and index after the last serve stopped: one document
/// and index entry per recording, every file byte-identical, nothing in
/// staging and no object outside the recordings. Returns the bytes
/// compared.
async fn check_archive(ws: &Workspace, sim: &ZoomSim, meetings: &[SimMeeting]) -> u64 {
    use zoomvault_archive::ports::{ListQuery, RecordingIndex};
    let store = ws.store();
    let left: Vec<PathBuf> = [".multipart", ".tmp"]
        .iter()
        .flat_map(|staging| std::fs::read_dir(store.join(staging)).unwrap())
        .map(|e| e.unwrap().path())
        .collect();
    assert!(left.is_empty(), "stray staging: {left:#?}");
    let objects = store.join("objects");
    let mut all_objects = Vec::new();
    walk(&objects, &mut all_objects);
    let prefixes: Vec<String> = meetings
        .iter()
        .map(|m| {
            RecordingKeys::new(m.start_time, m.id, &m.uuid)
                .unwrap()
                .recording_prefix()
                .to_string()
        })
        .collect();
    for path in &all_objects {
        let key = path.strip_prefix(&objects).unwrap().to_str().unwrap();
        assert!(
            prefixes.iter().any(|p| key.starts_with(p.as_str())),
            "an object outside every recording: {key}"
        );
        assert!(
            !key.ends_with("meta/failure.json"),
            "an ingest failed on its way: {key}"
        );
    }
    let documents = all_objects
        .iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "recording.json"))
        .count();
    assert_eq!(documents, meetings.len(), "one document per recording");

    let index = zoomvault_archive::local::SqliteIndex::open(ws.data().join("index.db")).unwrap();
    let entries = index
        .list(ListQuery {
            limit: 1000,
            ..ListQuery::default()
        })
        .await
        .unwrap()
        .entries;
    assert_eq!(
        entries.len(),
        meetings.len(),
        "one index entry per recording"
    );

    let mut compared = 0;
    for meeting in meetings {
        let keys = RecordingKeys::new(meeting.start_time, meeting.id, &meeting.uuid).unwrap();
        let entry = entries
            .iter()
            .find(|e| e.recording_uuid == meeting.uuid)
            .unwrap_or_else(|| panic!("{} is not indexed", meeting.uuid));
        assert_eq!(entry.document_key, keys.document());
        let document: serde_json::Value =
            serde_json::from_slice(&std::fs::read(objects.join(keys.document())).unwrap()).unwrap();
        let files = document["files"].as_array().unwrap();
        assert_eq!(files.len(), meeting.files.len(), "{}", meeting.uuid);
        for file in &meeting.files {
            let stored = files
                .iter()
                .find(|f| {
                    f["zoom_file_id"].as_str() == file.id.as_deref()
                        && f["file_type"].as_str() == Some(file.file_type.as_str())
                })
                .unwrap_or_else(|| {
                    panic!("{} file {} not in the document", meeting.uuid, file.index)
                });
            let key = stored["storage_key"].as_str().unwrap();
            compared += compare_with_zoom(sim, meeting, file.index, &objects.join(key));
        }
    }
    compared
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, found);
        } else {
            found.push(path);
        }
    }
}

/// Compares the file at `path` with the simulator's bytes of the
/// meeting's file `index`, a MiB at a time; returns its length.
fn compare_with_zoom(sim: &ZoomSim, meeting: &SimMeeting, index: usize, path: &Path) -> u64 {
    let size = meeting.files[index].size;
    let mut file = std::fs::File::open(path).unwrap();
    assert_eq!(file.metadata().unwrap().len(), size, "{}", path.display());
    let mut buf = vec![0u8; MIB as usize];
    let mut offset = 0;
    while offset < size {
        let len = (size - offset).min(MIB) as usize;
        file.read_exact(&mut buf[..len]).unwrap();
        let expected = sim.expected_bytes(&meeting.uuid, index, offset..offset + len as u64);
        assert!(
            buf[..len] == expected[..],
            "{} differs from Zoom's file in bytes {offset}..{}",
            path.display(),
            offset + len as u64
        );
        offset += len as u64;
    }
    size
}

/// Each recording was trashed by exactly one successful call, after the
/// last download of any of its files. Returns how many trash calls were
/// refused (a Finalize run again after its trash had gone through).
fn check_trash(sim: &ZoomSim, meetings: &[SimMeeting]) -> usize {
    let log = sim.request_log();
    let mut refused = 0;
    for meeting in meetings {
        assert!(
            sim.is_trashed(&meeting.uuid),
            "{} not trashed",
            meeting.uuid
        );
        let recordings = format!("/v2/meetings/{}/recordings", meeting.uuid_path_segment());
        let trashes: Vec<usize> = log
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.method == "DELETE" && r.path == recordings && (200..300).contains(&r.status)
            })
            .map(|(i, _)| i)
            .collect();
        refused += log
            .iter()
            .filter(|r| r.method == "DELETE" && r.path == recordings)
            .count()
            - trashes.len();
        assert_eq!(
            trashes.len(),
            1,
            "{}: trashed by {} successful calls",
            meeting.uuid,
            trashes.len()
        );
        let download_paths: HashSet<String> = meeting
            .files
            .iter()
            .flat_map(|f| [&f.download_url, &f.webhook_download_url])
            .filter_map(|url| reqwest::Url::parse(url).ok())
            .map(|url| url.path().to_string())
            .collect();
        let last_download = log
            .iter()
            .rposition(|r| download_paths.contains(&r.path))
            .unwrap_or_else(|| panic!("{}: no download logged", meeting.uuid));
        assert!(
            last_download < trashes[0],
            "{}: a download (request {last_download}) came after the trash (request {})",
            meeting.uuid,
            trashes[0]
        );
    }
    refused
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_download_exits_cleanly_and_the_ingest_resumes() {
    let sim = ZoomSim::start(SimConfig::default(), SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let meeting = sim.add_meeting(MeetingSpec {
        topic: "Slow download".into(),
        files: vec![
            FileSpec::video("shared_screen_with_speaker_view", 40 * MIB + 17),
            FileSpec::transcript(),
        ],
        ..MeetingSpec::default()
    });
    let name = keys::execution_name(&meeting.uuid).unwrap();
    // Every ranged GET waits a second first: the download is surely in
    // flight when SIGTERM comes.
    sim.set_delay("/cdn/", Duration::from_secs(1));
    let ws = Workspace::new("scan_every = \"off\"\npart_size_mib = 8\n");
    let mut child = ws.start(1, &sim).await;
    let body = sim.recording_completed_event(&meeting.uuid);
    let (status, reply) = sim
        .send_webhook(&ws.webhook_url(), &body, WebhookOptions::default())
        .await
        .unwrap();
    assert_eq!(status, 200, "{reply}");
    let mid_download = wait_for(&ws, &mut child, 1, TARGET_PATIENCE, |v| {
        v.open_functions().contains("zoomvault-retrieve-file")
            && sim
                .request_log()
                .iter()
                .any(|r| r.path.starts_with("/cdn/"))
    })
    .await;
    assert!(mid_download, "the download never started");

    let stopping = Instant::now();
    let status = terminate(&mut child, Duration::from_secs(15)).await;
    let stopped_in = stopping.elapsed();
    assert!(
        status.success(),
        "serve exits 0 on SIGTERM, not {status:?}:\n{}",
        ws.log_tail(1)
    );
    let view = read_journal(&ws.journal()).unwrap();
    assert_eq!(
        view.status.get(&name).map(String::as_str),
        Some("RUNNING"),
        "the ingest was interrupted, not ended"
    );
    assert!(!sim.is_trashed(&meeting.uuid));

    sim.set_delay("/cdn/", Duration::ZERO);
    let mut child = ws.start(2, &sim).await;
    let finished = wait_for(&ws, &mut child, 2, TARGET_PATIENCE, |v| v.succeeded(&name)).await;
    assert!(
        finished,
        "the ingest did not resume:\n{}\n{}",
        ws.log_tail(1),
        ws.log_tail(2)
    );
    let status = terminate(&mut child, Duration::from_secs(30)).await;
    assert!(status.success());
    let compared = check_archive(&ws, &sim, std::slice::from_ref(&meeting)).await;
    check_trash(&sim, std::slice::from_ref(&meeting));
    eprintln!("sigterm test: serve stopped {stopped_in:?} after SIGTERM mid-download; {compared} bytes archived after the restart");
}
