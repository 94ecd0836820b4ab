//! zoomvault's adapters to AWS services, each implementing a port of
//! `zoomvault-archive` through the AWS SDK, and the glue that runs a step
//! as a Lambda function. The embedded engine serves the Step Functions API
//! itself, so `SfnStarter` is also how the embedded webhook starts ingests:
//! one code path for both ways of running.

pub mod dynamodb;
pub mod eventbridge;
pub mod function;
pub mod lambda;
pub mod s3;
mod sdk_error;
pub mod secrets;
pub mod step_functions;

pub use step_functions::SfnStarter;
