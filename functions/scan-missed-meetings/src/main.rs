//! The `zoomvault-scan-missed-meetings` Lambda: every user's Zoom cloud
//! recordings of the last days, and an ingest started for each one the
//! archive is missing (`zoomvault scan` on the embedded default). It runs
//! daily on its EventBridge schedule (`serverless.yml`), and by hand with
//! `osls invoke -f scan-missed-meetings --path events/scan-missed-meetings/...`.
//! Wiring only: the work is `zoomvault_archive::operations::scan`.
//!
//! Input: `{}` for the last `ZOOMVAULT_SCAN_DAYS` days (default 30), or any
//! of `"from"`, `"to"` (`YYYY-MM-DD`), `"days"` and `"dry_run"`. Users are
//! listed `ZOOMVAULT_SCAN_CONCURRENCY` at a time (default 4). The answer is
//! the report. It fails (so that the schedule's retry and the function's
//! alarms see it) when Zoom refuses the credentials, when the index or
//! Step Functions cannot be reached, or when any user or recording could
//! not be handled (`Scan.Incomplete`: the summary and the first ten
//! failures in the cause; the ingests it could start are started).

use zoomvault_archive::operations::scan::{self, ScanRequest, DEFAULT_CONCURRENCY};
use zoomvault_archive::steps::StepError;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    zoomvault_aws::lambda::init_logging();
    let days = zoomvault_aws::function::count_setting(
        "ZOOMVAULT_SCAN_DAYS",
        scan::DEFAULT_LOOKBACK_DAYS as u64,
    )?
    .min(i64::MAX as u64) as i64;
    let concurrency = zoomvault_aws::function::count_setting(
        "ZOOMVAULT_SCAN_CONCURRENCY",
        DEFAULT_CONCURRENCY as u64,
    )? as usize;
    let env = zoomvault_aws::function::FunctionEnv::from_env()?;
    let sdk = zoomvault_aws::function::sdk_config().await;
    let starter = zoomvault_aws::function::workflow_starter(&env, &sdk)?;
    let index = zoomvault_aws::function::recording_index(&env, &sdk)?;
    let zoom = zoomvault_aws::function::zoom_client(&env, &sdk).await?;
    let (starter, index, zoom) = (&starter, &index, &zoom);
    zoomvault_aws::lambda::serve_step(move |payload| async move {
        let invalid = |e: scan::Error| StepError::new(e.name(), e.to_string());
        let mut request = ScanRequest::parse(&payload).map_err(invalid)?;
        if request.from.is_none() && request.days.is_none() {
            request.days = Some(days);
        }
        let today = time::OffsetDateTime::now_utc().date();
        let options = request.options(today, concurrency).map_err(invalid)?;
        let report = scan::scan(zoom, index, starter, &options, &|_| {})
            .await
            .map_err(|e| StepError::new(e.name(), e.to_string()))?;
        if report.ok() {
            return Ok(serde_json::to_value(&report).expect("a report serialises"));
        }
        let named: Vec<String> = report
            .errors
            .iter()
            .take(10)
            .map(|e| format!("{}: {}", e.what, e.error))
            .collect();
        Err(StepError::new(
            "Scan.Incomplete",
            format!("{}; {}", report.summary(), named.join("; ")),
        ))
    })
    .await
}
