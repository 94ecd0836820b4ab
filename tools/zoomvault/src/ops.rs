//! The operators' commands on the embedded default (`zoomvault rebuild`,
//! ...): each opens the archive of one data directory (its object store,
//! or the S3 store it is configured with, and its SQLite index), calls the
//! operation in `zoomvault_archive::operations`, shows progress and prints
//! a summary. The same operations run as Lambda functions on AWS.
//!
//! They work beside a running `serve` on the same data directory: the
//! index is SQLite in WAL mode and the directory store's writes are atomic
//! renames, so both processes may use them at once.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use zoomvault_archive::local::{LocalEventSink, SqliteIndex};
use zoomvault_archive::operations::rebuild::{
    self, RebuildOptions, RebuildProgress, RebuildReport,
};
use zoomvault_archive::ports::ObjectStore;

use crate::embedded::Storage;
use crate::serve::{archive_store, StoreSetting};

/// One data directory's archive: where recordings are stored and the index.
#[derive(Debug, Clone)]
pub struct Archive {
    pub store: Arc<dyn ObjectStore>,
    pub index: Arc<SqliteIndex>,
    /// The event queue `serve`'s site builder reads.
    pub events: Arc<LocalEventSink>,
}

impl Archive {
    /// Opens the archive of `data_dir` as `serve` does ([`Storage`]),
    /// creating no data directory: one that does not exist is an error.
    pub async fn open(data_dir: &Path, store: &StoreSetting) -> anyhow::Result<Archive> {
        anyhow::ensure!(
            data_dir.is_dir(),
            "no data directory at {} (give the one `zoomvault serve` uses with --data-dir or ZOOMVAULT_DATA_DIR)",
            data_dir.display()
        );
        let storage = Storage::open(data_dir, archive_store(store).await)?;
        Ok(Archive {
            store: storage.store,
            index: storage.index,
            events: storage.events,
        })
    }
}

/// Progress of a long command on stderr: a bar on a terminal, otherwise a
/// plain line at most every few seconds (and at the end).
#[derive(Debug)]
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    what: &'static str,
    last_line: std::sync::Mutex<Option<Instant>>,
}

impl Progress {
    pub fn new(what: &'static str) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed})",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(what);
            bar
        });
        Progress {
            bar,
            what,
            last_line: std::sync::Mutex::new(None),
        }
    }

    /// `done` of `total` units, with a short message.
    pub fn update(&self, done: u64, total: u64, message: String) {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.set_position(done);
            bar.set_message(message);
            return;
        }
        let mut last = self.last_line.lock().expect("progress lock");
        let due = last.is_none_or(|at| at.elapsed() >= Duration::from_secs(5));
        if due || done == total {
            eprintln!("{}: {done}/{total} {message}", self.what);
            *last = Some(Instant::now());
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `zoomvault rebuild`: the index rebuilt from the documents in the store.
pub async fn rebuild(archive: &Archive, fresh: bool) -> anyhow::Result<RebuildReport> {
    let progress = Progress::new("rebuild");
    let show = |p: RebuildProgress<'_>| {
        progress.update(
            p.days_done,
            p.days_total,
            format!("days, {} documents", p.report.found),
        )
    };
    let report = rebuild::rebuild_index(
        archive.store.as_ref(),
        archive.index.as_ref(),
        &RebuildOptions {
            fresh,
            ..RebuildOptions::default()
        },
        &show,
    )
    .await;
    progress.finish();
    let report = report?;
    rebuild::request_site_rebuild(archive.events.as_ref(), &report).await?;
    Ok(report)
}

/// The summary `zoomvault rebuild` prints.
pub fn write_rebuild_report(report: &RebuildReport, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "rebuild {}: {} days, {} documents found, {} written, {} unchanged, {} kept (newer in the index), {} invalid, {} stale entries removed",
        if report.complete { "complete" } else { "stopped (run again to resume)" },
        report.days,
        report.found,
        report.written,
        report.unchanged,
        report.kept_newer,
        report.invalid_count,
        report.stale_removed,
    )?;
    for invalid in &report.invalid {
        writeln!(out, "invalid: {}: {}", invalid.key, invalid.reason)?;
    }
    let unnamed = report.invalid_count - report.invalid.len() as u64;
    if unnamed > 0 {
        writeln!(out, "invalid: {unnamed} more not named")?;
    }
    Ok(())
}

/// What `zoomvault ingest` was given, turned into a start request
/// (`archive::start`): a JSON file (a saved webhook body, or any request
/// `start-ingest` takes), a share link, a meeting number, or a recording
/// UUID.
pub fn ingest_request(
    target: &str,
    all_instances: bool,
    force: bool,
    from: Option<&str>,
    to: Option<&str>,
) -> anyhow::Result<serde_json::Value> {
    use serde_json::{json, Value};
    let path = Path::new(target);
    let mut request = if target.ends_with(".json") || path.is_file() {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str::<Value>(&text)
            .with_context(|| format!("{}: not JSON", path.display()))?
    } else if target.starts_with("https://") || target.starts_with("http://") {
        json!({ "share_url": target })
    } else if !target.is_empty() && target.chars().all(|c| c.is_ascii_digit() || c == ' ') {
        json!({ "meeting_id": target })
    } else {
        json!({ "recording_uuid": target })
    };
    let object = request
        .as_object_mut()
        .with_context(|| format!("{target}: a start request is a JSON object"))?;
    if all_instances {
        anyhow::ensure!(
            object.contains_key("meeting_id"),
            "--all-instances goes with a meeting number"
        );
        object.insert("all_instances".into(), json!(true));
    }
    if force {
        object.insert("force".into(), json!(true));
    }
    for (field, value) in [("from", from), ("to", to)] {
        if let Some(value) = value {
            anyhow::ensure!(
                object.contains_key("share_url"),
                "--{field} bounds a share link's search"
            );
            object.insert(field.into(), json!(value));
        }
    }
    Ok(request)
}

/// The Step Functions endpoint of a running `zoomvault serve` and how to
/// sign for it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub url: String,
    pub key: Option<crate::serve::ApiKey>,
}

impl Endpoint {
    /// A Step Functions client for it, and a starter of ingests through it.
    fn ingest_starter(
        &self,
    ) -> (
        aws_sdk_sfn::Client,
        zoomvault_aws::step_functions::SfnStarter,
    ) {
        let client = crate::serve::sfn_client(&self.url, self.key.as_ref());
        let starter = zoomvault_aws::step_functions::SfnStarter::new(
            client.clone(),
            zoomvault_engine::arn::state_machine(crate::embedded::INGEST_STATE_MACHINE),
        );
        (client, starter)
    }
}

/// `zoomvault ingest`: starts the ingests `request` asks for through the
/// Step Functions API of the `serve` at `endpoint` (the same state machine
/// and execution names as the webhook), and with `wait` follows them to
/// their end. The answer is `start-ingest`'s, and each execution's final
/// status when waited for.
pub async fn ingest(
    endpoint: &Endpoint,
    zoom: Option<&zoomvault_zoom::ZoomClient>,
    request: &serde_json::Value,
    wait: bool,
) -> anyhow::Result<IngestOutcome> {
    let (client, starter) = endpoint.ingest_starter();
    let answer = zoomvault_archive::start::start_ingest(&starter, zoom, request)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {}", e.name, e.cause))
        .with_context(|| {
            format!(
                "starting through the Step Functions API at {}",
                endpoint.url
            )
        })?;
    let mut finished = Vec::new();
    if wait {
        let arns: Vec<String> = answer["executions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["execution_arn"].as_str().map(str::to_owned))
            .collect();
        let progress = Progress::new("ingest");
        let total = arns.len() as u64;
        for arn in arns {
            loop {
                let described = client
                    .describe_execution()
                    .execution_arn(&arn)
                    .send()
                    .await
                    .with_context(|| format!("describing {arn}"))?;
                let status = described.status().as_str().to_owned();
                if status != "RUNNING" {
                    finished.push(Finished {
                        execution_arn: arn.clone(),
                        status,
                        error: described.error().map(str::to_owned),
                        cause: described.cause().map(str::to_owned),
                    });
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            progress.update(
                finished.len() as u64,
                total,
                "executions finished".to_string(),
            );
        }
        progress.finish();
    }
    Ok(IngestOutcome { answer, finished })
}

#[derive(Debug, Clone)]
pub struct IngestOutcome {
    /// `start-ingest`'s answer: `executions` and `skipped`.
    pub answer: serde_json::Value,
    /// Each execution's end, when waited for.
    pub finished: Vec<Finished>,
}

#[derive(Debug, Clone)]
pub struct Finished {
    pub execution_arn: String,
    pub status: String,
    pub error: Option<String>,
    pub cause: Option<String>,
}

impl IngestOutcome {
    /// Whether everything started (or was already there) and, when waited
    /// for, succeeded.
    pub fn ok(&self) -> bool {
        self.finished.iter().all(|f| f.status == "SUCCEEDED")
    }

    pub fn write(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for execution in self.answer["executions"].as_array().into_iter().flatten() {
            let outcome = match execution["outcome"].as_str() {
                Some("already_exists") => "already started (archived or in flight)",
                _ => "started",
            };
            writeln!(
                out,
                "{outcome}: {} as {}",
                execution["recording_uuid"].as_str().unwrap_or("?"),
                execution["execution_name"].as_str().unwrap_or("?"),
            )?;
        }
        for skipped in self.answer["skipped"].as_array().into_iter().flatten() {
            writeln!(
                out,
                "skipped: {}: {}",
                skipped["recording_uuid"].as_str().unwrap_or("?"),
                skipped["reason"].as_str().unwrap_or("?"),
            )?;
        }
        for f in &self.finished {
            match (&f.error, &f.cause) {
                (Some(error), cause) => writeln!(
                    out,
                    "{}: {} ({error}: {})",
                    f.status.to_lowercase(),
                    f.execution_arn,
                    cause.as_deref().unwrap_or("")
                )?,
                _ => writeln!(out, "{}: {}", f.status.to_lowercase(), f.execution_arn)?,
            }
        }
        Ok(())
    }
}

/// `zoomvault scan`: the account's recordings the archive is missing,
/// each started through the `serve` at `endpoint` (in a dry run, only
/// named).
pub async fn scan(
    archive: &Archive,
    endpoint: &Endpoint,
    zoom: &zoomvault_zoom::ZoomClient,
    options: &zoomvault_archive::operations::scan::ScanOptions,
) -> anyhow::Result<zoomvault_archive::operations::scan::ScanReport> {
    use zoomvault_archive::operations::scan::{self, ScanProgress};
    let (_, starter) = endpoint.ingest_starter();
    let progress = Progress::new("scan");
    let show = |p: ScanProgress| {
        progress.update(
            p.users_done,
            p.users_total,
            format!("users, {} recordings, {} to start", p.recordings, p.started),
        )
    };
    let report = scan::scan(zoom, archive.index.as_ref(), &starter, options, &show).await;
    progress.finish();
    report.with_context(|| {
        format!(
            "scanning (the index in the data directory, Zoom, and the Step Functions API of zoomvault serve at {})",
            endpoint.url
        )
    })
}

/// What `zoomvault scan` prints: a line for each recording started (or,
/// in a dry run, to start), ended without archiving, or not handled, and
/// the summary.
pub fn write_scan_report(
    report: &zoomvault_archive::operations::scan::ScanReport,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let verb = if report.dry_run {
        "would start"
    } else {
        "started"
    };
    for start in &report.started {
        writeln!(
            out,
            "{verb}: {} {:?} ({}, {}) as {}",
            start.recording_uuid,
            start.topic,
            start.start_time.as_deref().unwrap_or("?"),
            start.host_email.as_deref().unwrap_or("?"),
            start.execution_name,
        )?;
    }
    let unnamed = report.started_count - report.started.len() as u64;
    if unnamed > 0 {
        writeln!(out, "{verb}: {unnamed} more not named")?;
    }
    for ended in &report.ended {
        writeln!(
            out,
            "ended without archiving: {} ({:?}{}): redrive it, or zoomvault ingest --force",
            ended.recording_uuid,
            ended.status,
            ended
                .error
                .as_deref()
                .map(|e| format!(", {e}"))
                .unwrap_or_default(),
        )?;
    }
    for failure in &report.errors {
        writeln!(out, "not handled: {}: {}", failure.what, failure.error)?;
    }
    writeln!(out, "{}", report.summary())
}

/// `zoomvault purge`: the recordings `policy` makes due, purged (in a dry
/// run, only named), each with its disposition record.
pub async fn purge(
    archive: &Archive,
    policy: &zoomvault_archive::operations::purge::RetentionPolicy,
    dry_run: bool,
) -> anyhow::Result<zoomvault_archive::operations::purge::PurgeReport> {
    use zoomvault_archive::operations::purge::{self, PurgeOptions, PurgeProgress};
    let progress = Progress::new("purge");
    let show = |p: PurgeProgress<'_>| {
        progress.update(
            p.report.examined,
            p.report.examined,
            format!("recordings examined, {} due", p.report.purged_count),
        )
    };
    let options = PurgeOptions {
        now: time::OffsetDateTime::now_utc(),
        dry_run,
        purged_by: purged_by("zoomvault purge"),
        deadline: None,
    };
    let report = purge::purge_recordings(
        archive.store.as_ref(),
        archive.index.as_ref(),
        archive.events.as_ref(),
        policy,
        &options,
        &show,
    )
    .await;
    progress.finish();
    Ok(report?)
}

/// Who a disposition record says purged: the command, on which host.
pub fn purged_by(what: &str) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default();
    if host.is_empty() {
        what.to_owned()
    } else {
        format!("{what} on {host}")
    }
}

/// What `zoomvault purge` prints: each recording purged (or, in a dry
/// run, to purge), held, or not judged, and the summary.
pub fn write_purge_report(
    report: &zoomvault_archive::operations::purge::PurgeReport,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let verb = if report.dry_run {
        "would purge"
    } else {
        "purged"
    };
    let rule = |r: &zoomvault_archive::operations::purge::AppliedRule| match &r.host_email {
        Some(host) => format!("{host}'s rule, {} days", r.days),
        None => format!("default rule, {} days", r.days),
    };
    for p in &report.purged {
        writeln!(
            out,
            "{verb}: {} ({} files, {:.1} MiB; {}){}",
            p.recording_uuid,
            p.files,
            p.bytes as f64 / (1024.0 * 1024.0),
            rule(&p.rule),
            if report.dry_run {
                String::new()
            } else {
                format!(" recorded at {}", p.disposition_key)
            },
        )?;
    }
    for h in &report.held {
        writeln!(
            out,
            "held: {} ({}): legal hold: {}",
            h.recording_uuid,
            rule(&h.rule),
            h.hold.reason
        )?;
    }
    for f in &report.failed {
        writeln!(
            out,
            "not purged: {} ({}): {}",
            f.recording_uuid, f.document_key, f.reason
        )?;
    }
    writeln!(out, "{}", report.summary())
}

/// `zoomvault reindex`: an edited `recording.json` validated and written
/// to the store and the index; `serve`'s site builder picks up the event.
pub async fn reindex(
    archive: &Archive,
    edited: &[u8],
    force: bool,
) -> anyhow::Result<zoomvault_archive::operations::reindex::ReindexReport> {
    Ok(zoomvault_archive::operations::reindex::reindex(
        archive.store.as_ref(),
        archive.index.as_ref(),
        archive.events.as_ref(),
        edited,
        force,
    )
    .await?)
}

/// The archived document of recording `uuid`, as stored.
pub async fn archived_document(archive: &Archive, uuid: &str) -> anyhow::Result<bytes::Bytes> {
    use zoomvault_archive::ports::RecordingIndex;
    let entry = archive
        .index
        .get(uuid)
        .await?
        .with_context(|| format!("no archived recording {uuid:?} in the index"))?;
    Ok(archive.store.get(&entry.document_key).await?)
}
