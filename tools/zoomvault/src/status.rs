//! Where recordings stand, for `GET /status` in `serve` and `zoomvault
//! status`: each recording's state (received, retrieving with bytes done
//! of total, archived, failed with its cause, skipped, trashed in Zoom),
//! derived from the index and the ingest executions in the engine's
//! journal, and the journal's size on disk.
//!
//! An execution's progress is read from its history: IngestMetadata's
//! plan gives the files and the sizes Zoom announced, each RetrieveFile,
//! already-retrieved file and fan-out batch that finished adds its bytes,
//! and Finalize says whether Zoom's copy went to the trash. Bytes count
//! when a file or batch is done, not while it streams.
//!
//! It only reads; the journal and the index stay as they are.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use zoomvault_archive::keys;
use zoomvault_archive::ports::{IndexEntry, ListFilter, ListQuery, RecordingIndex};
use zoomvault_engine::store::ExecutionRow;
use zoomvault_engine::{Engine, Status};

/// What a status request asks about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusQuery {
    /// One recording, by UUID.
    Recording(String),
    /// Every archived instance of a meeting number.
    Meeting(u64),
    /// Every recording an ingest started for since then.
    Since(OffsetDateTime),
}

impl StatusQuery {
    /// The query `GET /status` and `zoomvault status` send: `recording`,
    /// `meeting` or `since` (a duration back from `now`: `24h`, `7d`); by
    /// default the last day.
    pub fn from_params(
        params: &std::collections::HashMap<String, String>,
        now: OffsetDateTime,
    ) -> Result<StatusQuery, String> {
        let given: Vec<&str> = ["recording", "meeting", "since"]
            .into_iter()
            .filter(|k| params.contains_key(*k))
            .collect();
        if given.len() > 1 {
            return Err(format!(
                "give one of recording, meeting and since, not {}",
                given.join(" and ")
            ));
        }
        if let Some(unknown) = params
            .keys()
            .find(|k| !["recording", "meeting", "since"].contains(&k.as_str()))
        {
            return Err(format!(
                "unknown parameter {unknown:?} (recording, meeting or since)"
            ));
        }
        if let Some(uuid) = params.get("recording") {
            if uuid.is_empty() {
                return Err("recording must be a recording's UUID".into());
            }
            return Ok(StatusQuery::Recording(uuid.clone()));
        }
        if let Some(id) = params.get("meeting") {
            return id
                .replace(' ', "")
                .parse()
                .map(StatusQuery::Meeting)
                .map_err(|_| format!("meeting must be a meeting number, not {id:?}"));
        }
        let since = params.get("since").map_or("24h", String::as_str);
        let back = humantime::parse_duration(since).map_err(|e| {
            format!("since must be a duration such as 24h or 7d, not {since:?}: {e}")
        })?;
        let back = time::Duration::try_from(back).map_err(|e| format!("since {since:?}: {e}"))?;
        Ok(StatusQuery::Since(now - back))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// An ingest started and has not planned the files yet.
    Received,
    /// Files are being retrieved.
    Retrieving,
    /// Files retrieved, the document being written.
    Finalizing,
    Archived,
    /// The ingest failed, timed out or was stopped.
    Failed,
    /// The ingest decided not to archive it (too short, ...).
    Skipped,
    /// The ingest succeeded but the index has no entry (run `zoomvault
    /// rebuild`).
    NotIndexed,
    /// Neither the index nor the engine knows it.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingStatus {
    pub recording_uuid: String,
    pub state: State,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meeting_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// Bytes of the files and batches retrieved so far, and of all the
    /// files as Zoom announced them (a lower bound when Zoom announced no
    /// size for some).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_done: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_total: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files_done: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files_total: Option<u64>,
    /// Whether Finalize moved Zoom's copy to the trash (unknown when the
    /// execution is gone from the journal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trashed_in_zoom: Option<bool>,
    /// Why it failed, or was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingested_at: Option<String>,
}

/// The engine journal's files and executions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalSize {
    pub database_bytes: u64,
    pub wal_bytes: u64,
    /// Free pages inside the database, reused before it grows.
    pub free_bytes: u64,
    pub executions: u64,
    pub running: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    pub recordings: Vec<RecordingStatus>,
    pub journal: JournalSize,
}

/// How far back a `Since` query reads the journal at most, in executions.
const MAX_EXECUTIONS: usize = 10_000;

/// Answers `query` from the engine's executions of the state machine
/// `machine` (by name) and the index.
pub async fn status(
    engine: &Engine,
    machine: &str,
    index: &dyn RecordingIndex,
    query: &StatusQuery,
) -> anyhow::Result<StatusReport> {
    let machine_arn = &zoomvault_engine::arn::state_machine(machine);
    let mut recordings = Vec::new();
    match query {
        StatusQuery::Recording(uuid) => {
            let execution = execution_of(engine, machine, uuid)?;
            let entry = index.get(uuid).await?;
            recordings.push(derive(engine, uuid, entry, execution)?);
        }
        StatusQuery::Meeting(id) => {
            let mut after = None;
            loop {
                let page = index
                    .list(ListQuery {
                        limit: 100,
                        after,
                        started_before: None,
                        filter: ListFilter::Meeting(*id),
                    })
                    .await?;
                for entry in page.entries {
                    let uuid = entry.recording_uuid.clone();
                    let execution = execution_of(engine, machine, &uuid)?;
                    recordings.push(derive(engine, &uuid, Some(entry), execution)?);
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        StatusQuery::Since(since) => {
            let since_ms = (since.unix_timestamp_nanos() / 1_000_000) as i64;
            let mut seen = std::collections::HashSet::new();
            let mut before = None;
            let mut read = 0;
            'pages: loop {
                let page = engine.list_executions(Some(machine_arn), None, before, 100)?;
                let Some(last) = page.last() else { break };
                before = Some(last.id);
                for row in page {
                    read += 1;
                    if row.start_ms < since_ms || read > MAX_EXECUTIONS {
                        break 'pages;
                    }
                    let Some(uuid) = recording_of(&row) else {
                        continue;
                    };
                    // Newest first: a recording's latest execution speaks
                    // for it (a forced re-ingest after a failed one).
                    if !seen.insert(uuid.clone()) {
                        continue;
                    }
                    let entry = index.get(&uuid).await?;
                    recordings.push(derive(engine, &uuid, entry, Some(row))?);
                }
            }
        }
    }
    let stats = engine.journal_stats()?;
    Ok(StatusReport {
        recordings,
        journal: JournalSize {
            database_bytes: stats.database_bytes,
            wal_bytes: stats.wal_bytes,
            free_bytes: stats.free_bytes,
            executions: stats.executions,
            running: stats.running,
        },
    })
}

/// The ingest execution named for `uuid` by the webhook's rule, if the
/// journal still has it.
fn execution_of(
    engine: &Engine,
    machine: &str,
    uuid: &str,
) -> anyhow::Result<Option<ExecutionRow>> {
    let Ok(name) = keys::execution_name(uuid) else {
        return Ok(None);
    };
    match engine.describe_execution(&zoomvault_engine::arn::execution(machine, &name)) {
        Ok(row) => Ok(Some(row)),
        Err(zoomvault_engine::Error::ExecutionDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The recording an ingest execution is for, from its input.
fn recording_of(row: &ExecutionRow) -> Option<String> {
    let input: Value = serde_json::from_str(&row.input).ok()?;
    input["meeting_uuid"].as_str().map(str::to_owned)
}

/// What an execution's history says about its recording.
#[derive(Debug, Default)]
struct Progress {
    planned: bool,
    meeting_id: Option<u64>,
    start_time: Option<String>,
    files_total: u64,
    bytes_total: u64,
    files_done: u64,
    bytes_done: u64,
    skipped: Option<String>,
    finalizing: bool,
    trashed: Option<bool>,
}

fn progress(history: &[Value]) -> Progress {
    let mut p = Progress::default();
    for event in history {
        let kind = event["type"].as_str().unwrap_or_default();
        if kind.ends_with("StateEntered") {
            if event["stateEnteredEventDetails"]["name"] == "Finalize" {
                p.finalizing = true;
            }
            continue;
        }
        if !kind.ends_with("StateExited") {
            continue;
        }
        let details = &event["stateExitedEventDetails"];
        let output: Value = details["output"]
            .as_str()
            .and_then(|o| serde_json::from_str(o).ok())
            .unwrap_or(Value::Null);
        match details["name"].as_str().unwrap_or_default() {
            "IngestMetadata" => {
                let plan = &output["plan"];
                p.planned = true;
                p.meeting_id = plan["recording"]["meeting_id"].as_u64();
                p.start_time = plan["recording"]["start_time"].as_str().map(str::to_owned);
                let files = plan["files"].as_array().map(Vec::as_slice).unwrap_or(&[]);
                p.files_total = files.len() as u64;
                p.bytes_total = files
                    .iter()
                    .filter_map(|f| f["announced_size"].as_u64())
                    .sum();
                p.skipped = plan["skipped"].as_str().map(str::to_owned);
            }
            // A whole file in one invocation, or one found done already.
            "RetrieveFile" | "Retrieved" => {
                p.files_done += 1;
                p.bytes_done += output["size_bytes"].as_u64().unwrap_or(0);
            }
            // A fan-out's batch; its file counts when CompleteFile ends.
            "RetrieveBatch" => p.bytes_done += output["size"].as_u64().unwrap_or(0),
            "CompleteFile" => p.files_done += 1,
            // Finalize's result sits beside the plan (ResultPath).
            "Finalize" => p.trashed = output["finalized"]["Payload"]["trashed"].as_bool(),
            _ => {}
        }
    }
    p
}

fn derive(
    engine: &Engine,
    uuid: &str,
    entry: Option<IndexEntry>,
    execution: Option<ExecutionRow>,
) -> anyhow::Result<RecordingStatus> {
    let format = |at: OffsetDateTime| {
        at.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    let mut status = RecordingStatus {
        recording_uuid: uuid.to_owned(),
        state: State::Unknown,
        topic: entry.as_ref().map(|e| e.topic.clone()),
        meeting_id: entry.as_ref().map(|e| e.meeting_id),
        start_time: entry.as_ref().map(|e| format(e.start_time)),
        bytes_done: None,
        bytes_total: entry.as_ref().map(|e| e.total_bytes),
        files_done: None,
        files_total: entry.as_ref().map(|e| e.file_count),
        trashed_in_zoom: None,
        error: None,
        cause: None,
        execution_arn: execution.as_ref().map(|row| row.arn.clone()),
        document_key: entry.as_ref().map(|e| e.document_key.clone()),
        ingested_at: entry.as_ref().map(|e| format(e.ingested_at)),
    };
    let Some(row) = execution else {
        if entry.is_some() {
            status.state = State::Archived;
        }
        return Ok(status);
    };
    let p = progress(&engine.history(&row.arn)?);
    if status.meeting_id.is_none() {
        status.meeting_id = p.meeting_id;
        status.start_time = p.start_time.clone();
    }
    status.trashed_in_zoom = p.trashed;
    status.state = match row.status {
        Status::Running if !p.planned => State::Received,
        Status::Running => {
            status.bytes_done = Some(p.bytes_done);
            status.bytes_total = Some(p.bytes_total);
            status.files_done = Some(p.files_done);
            status.files_total = Some(p.files_total);
            if p.finalizing {
                State::Finalizing
            } else {
                State::Retrieving
            }
        }
        Status::Succeeded if p.skipped.is_some() => {
            status.cause = p.skipped;
            State::Skipped
        }
        Status::Succeeded if entry.is_some() => State::Archived,
        Status::Succeeded => State::NotIndexed,
        // A failed re-ingest leaves the archived copy as it was.
        _ if entry.is_some() => {
            status.error = row.error;
            status.cause = row.cause;
            State::Archived
        }
        _ => {
            status.error = row.error.or_else(|| Some(row.status.api_name().to_owned()));
            status.cause = row.cause;
            State::Failed
        }
    };
    Ok(status)
}

/// One line per recording, and the journal's size, as `zoomvault status`
/// prints them.
pub fn write_report(report: &StatusReport, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    for r in &report.recordings {
        let state = serde_json::to_value(&r.state).expect("a state serialises");
        let mut line = format!("{} {}", r.recording_uuid, state.as_str().unwrap_or("?"));
        if let Some(topic) = &r.topic {
            line.push_str(&format!(" {topic:?}"));
        }
        if let Some(start) = &r.start_time {
            line.push_str(&format!(" started {start}"));
        }
        match r.state {
            State::Retrieving | State::Finalizing => line.push_str(&format!(
                ": {} of {} ({} of {} files)",
                mib(r.bytes_done.unwrap_or(0)),
                mib(r.bytes_total.unwrap_or(0)),
                r.files_done.unwrap_or(0),
                r.files_total.unwrap_or(0),
            )),
            State::Archived => line.push_str(&format!(
                ": {} files, {}{}",
                r.files_total.unwrap_or(0),
                mib(r.bytes_total.unwrap_or(0)),
                match r.trashed_in_zoom {
                    Some(true) => ", Zoom's copy in the trash",
                    Some(false) => ", Zoom's copy kept",
                    None => "",
                }
            )),
            State::Failed => line.push_str(&format!(
                ": {}: {} (redrive it, or zoomvault ingest --force)",
                r.error.as_deref().unwrap_or("?"),
                r.cause.as_deref().unwrap_or("")
            )),
            State::Skipped => line.push_str(&format!(": {}", r.cause.as_deref().unwrap_or(""))),
            State::NotIndexed => {
                line.push_str(": ingested but not in the index (zoomvault rebuild)")
            }
            State::Received | State::Unknown => {}
        }
        writeln!(out, "{line}")?;
    }
    let j = &report.journal;
    writeln!(
        out,
        "journal: {} executions ({} running), database {} ({} free), write-ahead log {}",
        j.executions,
        j.running,
        mib(j.database_bytes),
        mib(j.free_bytes),
        mib(j.wal_bytes)
    )
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}
