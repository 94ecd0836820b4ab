//! The operators' tasks, beside the ingest: each a plain async function
//! over the ports, called by a `zoomvault` subcommand on the embedded
//! default and by a Lambda function on AWS.

pub mod rebuild;
