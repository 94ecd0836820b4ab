//! The `zoomvault-begin-file` Lambda: the ingest state machine's BeginFile step (open the multipart upload of a fanned-out file). Wiring only: the
//! step is `zoomvault_archive::steps::begin_file`, and `zoomvault_aws::lambda::run_step`
//! builds its clients from the environment once per cold start and returns
//! a step's error with its ASL error name as `errorType`.

use zoomvault_archive::steps;
use zoomvault_aws::function::ZoomAccess;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    zoomvault_aws::lambda::run_step(ZoomAccess::None, |context, payload| async move {
        steps::begin_file(&context, payload).await
    })
    .await
}
