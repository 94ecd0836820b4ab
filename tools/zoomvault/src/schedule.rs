//! The jobs `serve` runs on a schedule (the scan for missed meetings, the
//! purge), as EventBridge schedules run them on AWS. Each job remembers
//! when it last succeeded in `schedule.json` in the data directory, so a
//! restart neither skips a run that is due nor repeats one that is not: a
//! daily job restarted every hour still runs once a day. A job that fails
//! is tried again after [`RETRY_AFTER`] (or its interval, if shorter).
//! A job never run before runs [`FIRST_RUN_AFTER`] (or its interval, if
//! shorter) after the process starts, once the webhook's backlog is in.
//!
//! It only decides when; each job's work is an operation of its own.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use time::OffsetDateTime;

/// When a job that has never run first runs, after the process starts.
pub const FIRST_RUN_AFTER: Duration = Duration::from_secs(60);
/// When a failed job is tried again.
pub const RETRY_AFTER: Duration = Duration::from_secs(3600);

/// The data directory's record of when each job last succeeded.
#[derive(Debug, Clone)]
pub struct ScheduleState {
    path: PathBuf,
    runs: Arc<Mutex<BTreeMap<String, i64>>>,
}

impl ScheduleState {
    /// Reads `schedule.json` in `data_dir` (none yet: nothing has run).
    pub fn open(data_dir: &Path) -> anyhow::Result<ScheduleState> {
        let path = data_dir.join("schedule.json");
        let runs = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .with_context(|| format!("{}: not a schedule record", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        Ok(ScheduleState {
            path,
            runs: Arc::new(Mutex::new(runs)),
        })
    }

    /// When `job` last succeeded.
    pub fn last_success(&self, job: &str) -> Option<OffsetDateTime> {
        let runs = self.runs.lock().expect("schedule lock");
        runs.get(job)
            .and_then(|at| OffsetDateTime::from_unix_timestamp(*at).ok())
    }

    /// Records that `job` succeeded at `at`, on disk before returning
    /// (written aside and renamed, so a crash leaves the old record or the
    /// new one).
    pub fn record_success(&self, job: &str, at: OffsetDateTime) -> anyhow::Result<()> {
        let json = {
            let mut runs = self.runs.lock().expect("schedule lock");
            runs.insert(job.to_owned(), at.unix_timestamp());
            serde_json::to_vec_pretty(&*runs).expect("a map of numbers serialises")
        };
        let aside = self.path.with_extension("json.new");
        std::fs::write(&aside, json).with_context(|| format!("writing {}", aside.display()))?;
        std::fs::rename(&aside, &self.path)
            .with_context(|| format!("replacing {}", self.path.display()))
    }

    /// How long from `now` until `job`, run every `every`, is due.
    pub fn due_in(&self, job: &str, every: Duration, now: OffsetDateTime) -> Duration {
        match self.last_success(job) {
            None => FIRST_RUN_AFTER.min(every),
            Some(last) => {
                let next = last + every;
                Duration::try_from(next - now).unwrap_or(Duration::ZERO)
            }
        }
    }
}

/// Runs `job` every `every` for as long as the process runs (spawn it),
/// recording each success in `state`. The job answers a summary line for
/// the log.
pub async fn run_every<F, Fut>(state: ScheduleState, name: &'static str, every: Duration, job: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = anyhow::Result<String>>,
{
    let mut wait = state.due_in(name, every, OffsetDateTime::now_utc());
    loop {
        tracing::debug!(
            job = name,
            in_seconds = wait.as_secs(),
            "next scheduled run"
        );
        tokio::time::sleep(wait).await;
        let started = OffsetDateTime::now_utc();
        match job().await {
            Ok(summary) => {
                tracing::info!(job = name, "{summary}");
                if let Err(e) = state.record_success(name, started) {
                    tracing::warn!(job = name, error = %format!("{e:#}"), "recording the run failed");
                }
                wait = every;
            }
            Err(e) => {
                tracing::warn!(job = name, error = %format!("{e:#}"), "scheduled run failed; trying again later");
                wait = RETRY_AFTER.min(every);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_job_is_due_an_interval_after_its_last_success_even_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let day = Duration::from_secs(86_400);
        let state = ScheduleState::open(dir.path()).unwrap();
        let now = datetime!(2026-12-06 10:00 UTC);
        assert_eq!(state.due_in("scan", day, now), FIRST_RUN_AFTER);
        assert_eq!(
            state.due_in("scan", Duration::from_secs(5), now),
            Duration::from_secs(5),
            "a short interval runs first after itself"
        );
        state.record_success("scan", now).unwrap();

        let reopened = ScheduleState::open(dir.path()).unwrap();
        assert_eq!(reopened.last_success("scan"), Some(now));
        let an_hour_later = now + time::Duration::hours(1);
        assert_eq!(
            reopened.due_in("scan", day, an_hour_later),
            Duration::from_secs(23 * 3600)
        );
        assert_eq!(
            reopened.due_in("scan", day, now + time::Duration::days(3)),
            Duration::ZERO,
            "overdue runs at once"
        );
        assert_eq!(reopened.due_in("purge", day, now), FIRST_RUN_AFTER);
    }

    #[test]
    fn a_damaged_record_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("schedule.json"), "{not json").unwrap();
        let e = ScheduleState::open(dir.path()).unwrap_err();
        assert!(
            format!("{e:#}").contains("schedule.json: not a schedule record"),
            "{e:#}"
        );
    }
}
