//! The scan for meetings the webhook missed: every user of the account
//! (paged), each one's cloud recordings between two dates (in windows of at
//! most a month, paged, as Zoom allows), and for each recording that is
//! neither archived (in the index) nor known to the workflow engine, an
//! ingest started under the webhook's own execution name. A webhook that
//! arrives later, or a second scan, then finds that execution and starts
//! nothing new.
//!
//! Recordings whose files Zoom is still processing are left alone (their
//! `recording.completed` is still to come; the next scan finds them if it
//! never does). A recording whose earlier execution ended without
//! archiving it is reported, not started again: its name is taken, and
//! whether to redrive it or force a new ingest is the operator's call.
//!
//! Zoom's rate limits are the client's business: it waits out a 429's
//! `Retry-After` and retries. Users are listed a few at a time
//! ([`ScanOptions::concurrency`]). A user whose listing fails is reported
//! and the scan goes on; a refusal of the app's credentials, or a workflow
//! engine that cannot be reached, stops it.
//!
//! A dry run reads everything a real one does and starts nothing.

use std::sync::Mutex;

use futures_util::TryStreamExt;
use serde::Serialize;
use time::{Date, Duration, OffsetDateTime};
use zoomvault_zoom::{MeetingRecording, ZoomClient};

use crate::document::IngestSource;
use crate::ports::index::{self, RecordingIndex};
use crate::ports::workflow::{self, ExecutionState, ExecutionStatus, StartOutcome};
use crate::ports::WorkflowStarter;
use crate::steps::WorkflowStart;

/// How far back a scan looks when not told: a month of recordings (Zoom
/// lists at most a month per request, so two windows a user).
pub const DEFAULT_LOOKBACK_DAYS: i64 = 30;

/// Users listed at once: enough to hide Zoom's latency, few enough to stay
/// inside its per-second rate limits without leaning on 429s.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// How many recordings each list of the report names; the rest are counted.
pub const MAX_NAMED: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanOptions {
    /// First and last day (UTC) of the recordings' start times.
    pub from: Date,
    pub to: Date,
    /// Find and report, start nothing.
    pub dry_run: bool,
    /// Users listed at once (at least 1).
    pub concurrency: usize,
}

impl ScanOptions {
    /// The last `days` days up to `today`, inclusive.
    pub fn last_days(today: Date, days: i64) -> ScanOptions {
        ScanOptions {
            from: today - Duration::days(days.max(1) - 1),
            to: today,
            dry_run: false,
            concurrency: DEFAULT_CONCURRENCY,
        }
    }

    /// The range the scan's two optional dates give: `to` defaults to
    /// today, `from` to [`DEFAULT_LOOKBACK_DAYS`] before `to`.
    pub fn between(
        from: Option<Date>,
        to: Option<Date>,
        today: Date,
    ) -> Result<ScanOptions, Error> {
        let to = to.unwrap_or(today);
        let from = from.unwrap_or(to - Duration::days(DEFAULT_LOOKBACK_DAYS - 1));
        if from > to {
            return Err(Error::Range(format!("from {from} is after to {to}")));
        }
        Ok(ScanOptions {
            from,
            to,
            ..ScanOptions::last_days(today, DEFAULT_LOOKBACK_DAYS)
        })
    }
}

/// A scan as the `scan-missed-meetings` function and `zoomvault scan`
/// take it: `{}` for the last [`DEFAULT_LOOKBACK_DAYS`] days, or any of
/// `"from"` and `"to"` (`YYYY-MM-DD`), `"days"` (the last N days up to
/// `to`) and `"dry_run"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub days: Option<i64>,
    #[serde(default)]
    pub dry_run: bool,
}

impl ScanRequest {
    /// Reads a request from JSON, naming what is wrong.
    pub fn parse(payload: &serde_json::Value) -> Result<ScanRequest, Error> {
        let refuse = |why: String| {
            Error::Range(format!(
                "a scan takes {{}} or any of \"from\", \"to\" (YYYY-MM-DD), \"days\" and \"dry_run\": {why}"
            ))
        };
        if !payload.is_object() {
            return Err(refuse(format!("not {payload}")));
        }
        serde_json::from_value(payload.clone()).map_err(|e| refuse(e.to_string()))
    }

    /// The options it asks for, `today` being the default end.
    pub fn options(&self, today: Date, concurrency: usize) -> Result<ScanOptions, Error> {
        let date = |field: &str, text: &Option<String>| -> Result<Option<Date>, Error> {
            text.as_deref()
                .map(|text| crate::start::parse_day(field, text).map_err(Error::Range))
                .transpose()
        };
        let to = date("to", &self.to)?;
        let from = match (date("from", &self.from)?, self.days) {
            (Some(_), Some(_)) => {
                return Err(Error::Range("give from or days, not both".into()));
            }
            (from, None) => from,
            (None, Some(days)) if days >= 1 => Some(to.unwrap_or(today) - Duration::days(days - 1)),
            (None, Some(days)) => {
                return Err(Error::Range(format!("days must be at least 1, not {days}")));
            }
        };
        Ok(ScanOptions {
            dry_run: self.dry_run,
            concurrency: concurrency.max(1),
            ..ScanOptions::between(from, to, today)?
        })
    }
}

/// What a scan found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScanReport {
    pub from: String,
    pub to: String,
    pub dry_run: bool,
    /// Users whose recordings were listed.
    pub users: u64,
    /// Recordings Zoom listed in the range.
    pub recordings: u64,
    /// Already in the index.
    pub archived: u64,
    /// Files still processing in Zoom: left for their webhook.
    pub processing: u64,
    /// An ingest of it is running.
    pub in_flight: u64,
    /// Ingests started (in a dry run: that would be started); the first
    /// [`MAX_NAMED`] are named in `started`.
    pub started_count: u64,
    pub started: Vec<ScanStart>,
    /// Recordings whose execution ended without archiving them (failed,
    /// timed out, aborted, or succeeded with no index entry): redrive
    /// them, or `ingest --force`.
    pub ended_count: u64,
    pub ended: Vec<EndedIngest>,
    /// Users or recordings that could not be read or started, with why.
    pub errors: Vec<ScanFailure>,
}

impl ScanReport {
    /// Whether every user and recording was looked at and handled.
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// One line: what was looked at and what came of it.
    pub fn summary(&self) -> String {
        format!(
            "scan {} to {}{}: {} users, {} recordings in Zoom: {} {}, {} archived, {} in flight, {} still processing in Zoom, {} ended without archiving, {} could not be handled",
            self.from,
            self.to,
            if self.dry_run { " (dry run)" } else { "" },
            self.users,
            self.recordings,
            self.started_count,
            if self.dry_run { "would be started" } else { "started" },
            self.archived,
            self.in_flight,
            self.processing,
            self.ended_count,
            self.errors.len(),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanStart {
    pub recording_uuid: String,
    pub meeting_id: u64,
    pub topic: String,
    pub start_time: Option<String>,
    pub host_email: Option<String>,
    pub execution_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndedIngest {
    pub recording_uuid: String,
    pub execution_arn: String,
    pub status: ExecutionStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanFailure {
    /// The user (`user <id>`) or recording (`recording <uuid>`) concerned.
    pub what: String,
    pub error: String,
}

/// How far a scan has got, for a progress display.
#[derive(Debug, Clone, Copy)]
pub struct ScanProgress {
    pub users_done: u64,
    pub users_total: u64,
    pub recordings: u64,
    pub started: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("scan range: {0}")]
    Range(String),
    #[error("listing the account's users: {0}")]
    Users(#[source] zoomvault_zoom::Error),
    #[error("Zoom refused the app's credentials: {0}")]
    Unauthorized(#[source] zoomvault_zoom::Error),
    #[error("reading the index: {0}")]
    Index(#[from] index::Error),
    #[error("the workflow engine: {0}")]
    Workflow(#[from] workflow::Error),
}

impl Error {
    /// The error name a Lambda reports (ASL `Retry`/`Catch` match it).
    pub fn name(&self) -> &'static str {
        match self {
            Error::Range(_) => "Scan.InvalidInput",
            Error::Users(e) | Error::Unauthorized(e) => e.error_name(),
            Error::Index(e) if e.is_transient() => "Storage.Transient",
            Error::Workflow(e) if e.is_transient() => "Workflow.Unavailable",
            Error::Index(_) | Error::Workflow(_) => "Scan.Failed",
        }
    }
}

/// What became of one listed recording.
enum Found {
    Archived,
    Processing,
    InFlight,
    Ended(EndedIngest),
    Started(ScanStart),
}

/// Scans the account's recordings from `options.from` to `options.to` and
/// starts an ingest for each one missing (see the module documentation).
pub async fn scan(
    zoom: &ZoomClient,
    index: &dyn RecordingIndex,
    starter: &dyn WorkflowStarter,
    options: &ScanOptions,
    progress: &(dyn Fn(ScanProgress) + Sync),
) -> Result<ScanReport, Error> {
    if options.from > options.to {
        return Err(Error::Range(format!(
            "from {} is after to {}",
            options.from, options.to
        )));
    }
    let users = zoom.list_users().await.map_err(|e| match e {
        zoomvault_zoom::Error::Unauthorized { .. } => Error::Unauthorized(e),
        e => Error::Users(e),
    })?;
    let report = Mutex::new(ScanReport {
        from: options.from.to_string(),
        to: options.to.to_string(),
        dry_run: options.dry_run,
        ..ScanReport::default()
    });
    let users_total = users.len() as u64;
    let show = |report: &ScanReport| {
        progress(ScanProgress {
            users_done: report.users,
            users_total,
            recordings: report.recordings,
            started: report.started_count,
        })
    };
    show(&report.lock().expect("report lock"));
    futures_util::stream::iter(users.into_iter().map(Ok::<_, Error>))
        .try_for_each_concurrent(options.concurrency.max(1), |user| {
            let report = &report;
            async move {
                let recordings = match zoom
                    .list_user_recordings(&user.id, options.from, options.to)
                    .await
                {
                    Ok(recordings) => recordings,
                    Err(e @ zoomvault_zoom::Error::Unauthorized { .. }) => {
                        return Err(Error::Unauthorized(e))
                    }
                    Err(e) => {
                        let mut report = report.lock().expect("report lock");
                        report.users += 1;
                        report.errors.push(ScanFailure {
                            what: format!("user {}", user.id),
                            error: e.to_string(),
                        });
                        return Ok(());
                    }
                };
                for recording in &recordings {
                    let found = examine(recording, index, starter, options.dry_run).await;
                    let mut report = report.lock().expect("report lock");
                    report.recordings += 1;
                    match found {
                        Ok(Found::Archived) => report.archived += 1,
                        Ok(Found::Processing) => report.processing += 1,
                        Ok(Found::InFlight) => report.in_flight += 1,
                        Ok(Found::Ended(ended)) => {
                            report.ended_count += 1;
                            if report.ended.len() < MAX_NAMED {
                                report.ended.push(ended);
                            }
                        }
                        Ok(Found::Started(start)) => {
                            report.started_count += 1;
                            if report.started.len() < MAX_NAMED {
                                report.started.push(start);
                            }
                        }
                        Err(e) if stops_the_scan(&e) => return Err(e),
                        Err(e) => report.errors.push(ScanFailure {
                            what: format!("recording {}", recording.uuid),
                            error: e.to_string(),
                        }),
                    }
                }
                let mut report = report.lock().expect("report lock");
                report.users += 1;
                show(&report);
                Ok(())
            }
        })
        .await?;
    let mut report = report.into_inner().expect("report lock");
    // Concurrency finishes users in any order; a report reads best in
    // the recordings' order.
    report.started.sort_by(|a, b| {
        (&a.start_time, &a.recording_uuid).cmp(&(&b.start_time, &b.recording_uuid))
    });
    report
        .ended
        .sort_by(|a, b| a.recording_uuid.cmp(&b.recording_uuid));
    Ok(report)
}

/// Whether an error would fail every other recording the same way (the
/// index or the engine is unreachable or misconfigured), rather than being
/// about this recording (a name it cannot have).
fn stops_the_scan(e: &Error) -> bool {
    !matches!(
        e,
        Error::Workflow(workflow::Error::InvalidName { .. } | workflow::Error::InvalidInput(_))
    )
}

async fn examine(
    recording: &MeetingRecording,
    index: &dyn RecordingIndex,
    starter: &dyn WorkflowStarter,
    dry_run: bool,
) -> Result<Found, Error> {
    if index.get(&recording.uuid).await?.is_some() {
        return Ok(Found::Archived);
    }
    let processing = recording
        .recording_files
        .iter()
        .any(|file| file.status.as_deref().is_some_and(|s| s != "completed"));
    if processing || recording.recording_files.is_empty() {
        return Ok(Found::Processing);
    }
    let start = WorkflowStart::for_meeting(&recording.uuid, IngestSource::Scan).map_err(|e| {
        workflow::Error::InvalidName {
            name: recording.uuid.clone(),
            reason: e.cause,
        }
    })?;
    match starter.describe(&start.name).await? {
        Some(ExecutionState {
            status: ExecutionStatus::Running,
            ..
        }) => return Ok(Found::InFlight),
        Some(ended) => {
            return Ok(Found::Ended(EndedIngest {
                recording_uuid: recording.uuid.clone(),
                execution_arn: ended.execution_arn,
                status: ended.status,
                error: ended.error,
            }))
        }
        None => {}
    }
    let found = ScanStart {
        recording_uuid: recording.uuid.clone(),
        meeting_id: recording.id,
        topic: recording.topic.clone().unwrap_or_default(),
        start_time: recording.start_time.map(format_time),
        host_email: recording.host_email.clone(),
        execution_name: start.name.clone(),
    };
    if dry_run {
        return Ok(Found::Started(found));
    }
    let started = starter.start(&start.name, start.input).await?;
    tracing::info!(
        recording = %recording.uuid,
        execution = %started.execution_arn,
        outcome = ?started.outcome,
        "scan found a recording missing from the archive"
    );
    Ok(match started.outcome {
        StartOutcome::Started => Found::Started(found),
        // Started in the meantime (its webhook arrived).
        StartOutcome::AlreadyExists => Found::InFlight,
    })
}

fn format_time(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 12 - 06);

    fn options(payload: serde_json::Value) -> Result<ScanOptions, String> {
        ScanRequest::parse(&payload)
            .and_then(|r| r.options(TODAY, 4))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn every_scan_sample_reads() {
        let dir = format!(
            "{}/../../events/scan-missed-meetings",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut read = Vec::new();
        for entry in std::fs::read_dir(&dir).expect("the samples") {
            let path = entry.unwrap().path();
            let payload: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let options = options(payload).unwrap_or_else(|e| panic!("{name}: {e}"));
            read.push((name, options.from, options.to, options.dry_run));
        }
        read.sort();
        assert_eq!(
            read,
            [
                ("dry-run.json".into(), date!(2026 - 09 - 08), TODAY, true),
                (
                    "range.json".into(),
                    date!(2026 - 09 - 01),
                    date!(2026 - 11 - 29),
                    false
                ),
                ("scheduled.json".into(), date!(2026 - 11 - 07), TODAY, false),
            ]
        );
    }

    #[test]
    fn bad_requests_say_what_is_wrong() {
        for (payload, expected) in [
            (
                json!({"from": "yesterday"}),
                "from must be a date as YYYY-MM-DD",
            ),
            (
                json!({"to": "2026-13-01"}),
                "to must be a date as YYYY-MM-DD",
            ),
            (json!({"days": 0}), "days must be at least 1, not 0"),
            (
                json!({"days": 3, "from": "2026-12-01"}),
                "give from or days, not both",
            ),
            (
                json!({"from": "2026-12-06", "to": "2026-12-01"}),
                "from 2026-12-06 is after to 2026-12-01",
            ),
            (json!({"dryrun": true}), "unknown field `dryrun`"),
            (json!([]), "a scan takes {}"),
        ] {
            let e = options(payload.clone()).unwrap_err();
            assert!(e.contains(expected), "{payload}: {e}");
        }
    }
}
