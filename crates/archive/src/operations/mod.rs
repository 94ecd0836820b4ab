//! The operators' tasks, beside the ingest: each a plain async function
//! over the ports, called by a `zoomvault` subcommand on the embedded
//! default and by a Lambda function on AWS: `rebuild` (the index from the
//! store), `reindex` (a recording from its edited document) and `scan` (the
//! account's recordings the webhook missed).

pub mod rebuild;
pub mod reindex;
pub mod scan;
