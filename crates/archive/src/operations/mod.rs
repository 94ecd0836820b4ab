//! The operators' tasks, beside the ingest: each a plain async function
//! over the ports, called by a `zoomvault` subcommand on the embedded
//! default and by a Lambda function on AWS: `rebuild` (the index from the
//! store) and `reindex` (a recording from its edited document).

pub mod rebuild;
pub mod reindex;
