//! The `zoomvault` tool's library half: the embedded deployment's wiring
//! (`embedded`), `zoomvault serve` and `zoomvault engine serve` (`serve`),
//! the operators' commands (`ops`: `zoomvault rebuild`, ...), the jobs
//! `serve` runs on a schedule (`schedule`) and the example workflows' demo
//! handlers (`demo`), kept out of
//! `main.rs` so end-to-end tests and benches drive the same code the
//! binary runs. It parses no command line; that stays in `main.rs`.

pub mod demo;
pub mod embedded;
pub mod map_buckets;
pub mod ops;
pub mod schedule;
pub mod serve;
pub mod status;
