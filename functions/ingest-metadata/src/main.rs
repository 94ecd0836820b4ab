//! The `zoomvault-ingest-metadata` Lambda: the ingest state machine's IngestMetadata step (store the event and metadata, plan every file's retrieval). Wiring only: the
//! step is `zoomvault_archive::steps::ingest_metadata`, and `zoomvault_aws::lambda::run_step`
//! builds its clients from the environment once per cold start and returns
//! a step's error with its ASL error name as `errorType`.

use zoomvault_archive::steps;
use zoomvault_aws::function::ZoomAccess;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    zoomvault_aws::lambda::run_step(ZoomAccess::Credentials, |context, payload| async move {
        steps::ingest_metadata(&context, payload).await
    })
    .await
}
