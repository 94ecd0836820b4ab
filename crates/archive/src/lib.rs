//! The archive domain: the recording document and its JSON Schema
//! ([`document`]), the one object-key scheme ([`keys`]), the whole-object
//! checksum ([`checksum`]), the ports through which the steps and the
//! webhook reach storage, events and the workflow engine ([`ports`]), the
//! ingest workflow's steps ([`steps`]), the operators' tasks
//! ([`operations`]: rebuilding the index, ...), the answer to Zoom's webhook
//! ([`webhook`]) and the embedded mode's adapters of the ports ([`local`]).
//!
//! The domain modules (`checksum`, `document`, `keys`, `ports`) know
//! nothing of SQLite, directories or AWS; only `local` does, and nothing
//! else in the crate depends on it.

pub mod checksum;
pub mod document;
pub mod fixtures;
pub mod keys;
pub mod listing;
pub mod local;
pub mod operations;
pub mod port_tests;
pub mod ports;
pub mod start;
pub mod steps;
pub mod webhook;

#[cfg(test)]
mod fuzz;

/// Measures the heap each fuzzing case holds (`zoomvault_fuzz::check`).
#[cfg(test)]
#[global_allocator]
static ALLOCATOR: zoomvault_fuzz::CountingAllocator = zoomvault_fuzz::CountingAllocator;

pub use document::RecordingDocument;
pub use keys::{FileIdentity, FileKey, RecordingKeys};
