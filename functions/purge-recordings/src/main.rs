//! The `zoomvault-purge-recordings` Lambda: purges the recordings past
//! their retention from S3 and DynamoDB, each after its disposition record
//! is written under `dispositions/` (`zoomvault purge` on the embedded
//! default). It runs daily on its EventBridge schedule (`serverless.yml`),
//! and by hand with `osls invoke -f purge-recordings --path
//! events/purge-recordings/...`. Wiring only: the work is
//! `zoomvault_archive::operations::purge`.
//!
//! The policy comes from the environment: `ZOOMVAULT_RETENTION_DAYS` (the
//! default rule: days, or `forever`; unset keeps everything) and
//! `ZOOMVAULT_RETENTION_HOSTS` (`EMAIL=DAYS` or `EMAIL=forever`,
//! comma-separated). Input: `{}`, or `{"dry_run": true}` to judge and
//! report only. A run stops between pages of the index once
//! `ZOOMVAULT_PURGE_SECONDS` (default 780) have passed and answers
//! `"complete": false`; the next run goes on. The answer is the report; the
//! function fails with `Purge.Incomplete` when a recording could not be
//! judged or purged (the summary and the first ten in the cause).

use std::time::{Duration, Instant};

use zoomvault_archive::operations::purge::{
    purge_recordings, PurgeOptions, PurgeRequest, RetentionPolicy,
};
use zoomvault_archive::steps::StepError;
use zoomvault_aws::function::ZoomAccess;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let budget = zoomvault_aws::function::seconds_setting(
        "ZOOMVAULT_PURGE_SECONDS",
        Duration::from_secs(780),
    )?;
    let hosts: Vec<String> = std::env::var("ZOOMVAULT_RETENTION_HOSTS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|rule| !rule.is_empty())
        .map(str::to_owned)
        .collect();
    let days = std::env::var("ZOOMVAULT_RETENTION_DAYS")
        .ok()
        .filter(|d| !d.trim().is_empty());
    let policy = RetentionPolicy::from_settings(days.as_deref(), &hosts)?;
    let policy = &policy;
    zoomvault_aws::lambda::run_step(ZoomAccess::None, |context, event| async move {
        let started = Instant::now();
        let input =
            PurgeRequest::parse(&event).map_err(|e| StepError::new("Purge.InvalidInput", e))?;
        let options = PurgeOptions {
            now: time::OffsetDateTime::now_utc(),
            dry_run: input.dry_run,
            purged_by: "zoomvault-purge-recordings".to_owned(),
            deadline: Some(started + budget),
        };
        let report = purge_recordings(
            context.store.as_ref(),
            context.index.as_ref(),
            context.events.as_ref(),
            policy,
            &options,
            &|_| {},
        )
        .await
        .map_err(|e| StepError::operation("Purge.Failed", e.is_transient(), &e))?;
        if report.failed_count == 0 {
            return Ok(serde_json::to_value(&report).expect("a report serialises"));
        }
        let named: Vec<String> = report
            .failed
            .iter()
            .take(10)
            .map(|f| format!("{}: {}", f.recording_uuid, f.reason))
            .collect();
        Err(StepError::new(
            "Purge.Incomplete",
            format!("{}; {}", report.summary(), named.join("; ")),
        ))
    })
    .await
}
