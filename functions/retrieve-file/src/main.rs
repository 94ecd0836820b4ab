//! The `zoomvault-retrieve-file` Lambda: the ingest state machine's RetrieveFile step (one file, read in order, into the archive). Wiring only: the
//! step is `zoomvault_archive::steps::retrieve_file`, and `zoomvault_aws::lambda::run_step`
//! builds its clients from the environment once per cold start and returns
//! a step's error with its ASL error name as `errorType`.

use zoomvault_archive::steps;
use zoomvault_aws::function::ZoomAccess;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    zoomvault_aws::lambda::run_step(ZoomAccess::Credentials, |context, payload| async move {
        steps::retrieve_file(&context, payload).await
    })
    .await
}
