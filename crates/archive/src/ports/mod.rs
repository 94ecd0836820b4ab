//! The ports: the traits through which the steps and the webhook reach the
//! outside world (objects, the recording index, events, the workflow
//! engine), each with its own `Error`. Each is object-safe and
//! `Send + Sync`, used as `Arc<dyn ...>`. `ObjectStore`, `RecordingIndex`
//! and `EventSink` have local adapters in [`crate::local`]; their AWS
//! adapters (S3, DynamoDB, EventBridge) are in `crates/aws`. `WorkflowStarter`
//! has one adapter, `crates/aws`'s `SfnStarter`, which today starts
//! executions on the embedded engine through its Step Functions API.
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
pub use index::{Cursor, IndexEntry, ListFilter, ListPage, ListQuery, RecordingIndex, Upserted};
pub use object_store::{
    ByteStream, CompletedPart, ObjectMeta, ObjectStore, ObjectStream, PartBody, PartInfo,
    PartNumber, UploadId, UploadShape,
};
pub use workflow::{
    ExecutionState, ExecutionStatus, StartOutcome, StartedExecution, WorkflowStarter,
};
