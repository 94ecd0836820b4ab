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
use zoomvault_archive::local::{DirObjectStore, SqliteIndex};
use zoomvault_archive::operations::rebuild::{
    self, RebuildOptions, RebuildProgress, RebuildReport,
};
use zoomvault_archive::ports::ObjectStore;

use crate::serve::{archive_store, StoreSetting};

/// One data directory's archive: where recordings are stored and the index.
#[derive(Debug, Clone)]
pub struct Archive {
    pub store: Arc<dyn ObjectStore>,
    pub index: Arc<SqliteIndex>,
}

impl Archive {
    /// Opens the archive of `data_dir` as `serve` would, creating nothing
    /// but the index: a data directory that does not exist is an error.
    pub async fn open(data_dir: &Path, store: &StoreSetting) -> anyhow::Result<Archive> {
        anyhow::ensure!(
            data_dir.is_dir(),
            "no data directory at {} (give the one `zoomvault serve` uses with --data-dir or ZOOMVAULT_DATA_DIR)",
            data_dir.display()
        );
        let store: Arc<dyn ObjectStore> = match archive_store(store).await {
            Some(store) => store,
            None => Arc::new(
                DirObjectStore::open(data_dir.join("store"))
                    .with_context(|| format!("opening the store in {}", data_dir.display()))?,
            ),
        };
        let index = Arc::new(
            SqliteIndex::open(data_dir.join("index.db"))
                .with_context(|| format!("opening {}", data_dir.join("index.db").display()))?,
        );
        Ok(Archive { store, index })
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
    Ok(report?)
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
