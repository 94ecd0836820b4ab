//! The operators' tasks, beside the ingest: each a plain async function
//! over the ports, called by a `zoomvault` subcommand on the embedded
//! default and by a Lambda function on AWS: `rebuild` (the index from the
//! store), `reindex` (a recording from its edited document), `scan` (the
//! account's recordings the webhook missed) and `purge` (recordings past
//! their retention, each recorded in the disposition log first).

pub mod purge;
pub mod rebuild;
pub mod reindex;
pub mod scan;
