//! The storage ports: the traits through which the step handlers reach the
//! outside world, each with its own `Error`. Each is object-safe and
//! `Send + Sync`, used as `Arc<dyn ...>`, with a local adapter in
//! [`crate::local`] and AWS adapters in `crates/aws`.
//!
//! Ports state the contract (S3's semantics for objects) and nothing about
//! any backend; they must not import an adapter.

/// An error from behind a port that the port cannot classify further.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub mod events;
pub mod index;
pub mod object_store;
pub mod workflow;

pub use events::{ArchiveEvent, EventEntry, EventSink, RebuildReason};
pub use index::{Cursor, IndexEntry, ListPage, ListQuery, RecordingIndex};
pub use object_store::{
    ByteStream, CompletedPart, ObjectMeta, ObjectStore, ObjectStream, PartBody, PartInfo,
    PartNumber, UploadId, UploadShape,
};
pub use workflow::{StartOutcome, StartedExecution, WorkflowStarter};
