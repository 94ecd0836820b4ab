//! The `zoomvault` tool's library half: the embedded deployment's wiring
//! (`embedded`) and `zoomvault serve` (`serve`), kept out of `main.rs` so
//! end-to-end tests drive the same code the binary runs.

pub mod demo;
pub mod embedded;
pub mod serve;
