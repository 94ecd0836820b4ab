//! The Step Functions wire API over zoomvault's engine: AWS JSON 1.0
//! (`POST /` with `X-Amz-Target: AWSStepFunctions.<Action>`), AWS's error
//! shapes, SigV4 verification, and the console page. It translates and
//! checks; every decision about executions stays in the engine.

pub mod console;
pub mod sigv4;
