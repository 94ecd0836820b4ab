//! The archive domain: the recording document and its JSON Schema
//! ([`document`]), the one object-key scheme ([`keys`]), the storage ports
//! the step handlers work through ([`ports`]) and their local adapters
//! ([`local`]).
//!
//! The domain modules (`document`, `keys`, `ports`) know nothing of SQLite,
//! directories or AWS; only `local` does, and nothing else in the crate
//! depends on it.

pub mod document;
pub mod keys;
pub mod local;
pub mod ports;
pub mod steps;
pub mod webhook;

pub use document::RecordingDocument;
pub use keys::{FileIdentity, FileKey, RecordingKeys};
