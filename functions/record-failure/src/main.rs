//! The `zoomvault-record-failure` Lambda: the ingest state machine's RecordFailure step (keep a failed ingest's cause beside the recording). Wiring only: the
//! step is `zoomvault_archive::steps::record_failure`, and `zoomvault_aws::lambda::run_step`
//! builds its clients from the environment once per cold start and returns
//! a step's error with its ASL error name as `errorType`.

use zoomvault_archive::steps;
use zoomvault_aws::function::ZoomAccess;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    zoomvault_aws::lambda::run_step(ZoomAccess::None, |context, payload| async move {
        steps::record_failure(&context, payload).await
    })
    .await
}
