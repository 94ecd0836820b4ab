//! zoomvault's end-to-end suites, which cross crates and processes: `aws.rs`
//! runs the AWS deployment as deployed, without an AWS account (the real
//! function binaries under the Lambda emulator, the engine sending
//! `lambda:invoke` there, S3, DynamoDB, EventBridge and SSM on moto's
//! server, Zoom simulated). The library itself is empty; the suites are
//! its tests.
