//! The `zoomvault-webhook` Lambda: Zoom's webhook behind an API Gateway
//! HTTP API (payload v2) or a function URL. Wiring only: the answer is
//! `zoomvault_archive::webhook::handle`'s, given the raw body (lambda_http
//! undoes API Gateway's base64) and the two signature headers; the
//! verifier's secret token comes from SSM and the starter is aws-sdk-sfn,
//! both built once per cold start.

use lambda_http::{service_fn, Body, Error, Request, Response};
use zoomvault_zoom::webhook::{SIGNATURE_HEADER, TIMESTAMP_HEADER};

#[tokio::main]
async fn main() -> Result<(), Error> {
    zoomvault_aws::lambda::init_logging();
    let env = zoomvault_aws::function::FunctionEnv::from_env()?;
    let sdk = zoomvault_aws::function::sdk_config().await;
    let verifier = zoomvault_aws::function::webhook_verifier(&env, &sdk).await?;
    let starter = zoomvault_aws::function::workflow_starter(&env, &sdk)?;
    let (verifier, starter) = (&verifier, &starter);
    lambda_http::run(service_fn(move |request: Request| async move {
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
        };
        let reply = zoomvault_archive::webhook::handle(
            verifier,
            starter,
            header(TIMESTAMP_HEADER),
            header(SIGNATURE_HEADER),
            request.body().as_ref(),
            time::OffsetDateTime::now_utc(),
        )
        .await;
        let response = Response::builder()
            .status(reply.status)
            .header("content-type", "application/json")
            .body(Body::from(reply.body.to_string()))?;
        Ok::<_, Error>(response)
    }))
    .await
}
