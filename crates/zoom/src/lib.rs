//! Zoom, as zoomvault sees it: webhook verification (`webhook`), typed events
//! (`event`), the recording and meeting shapes (`types`), and a REST client
//! with Server-to-Server OAuth, bounded retries and streaming downloads
//! (`client`, `download`). This crate knows nothing of storage, workflows or
//! the archive's documents, and it never logs a credential: tokens and
//! secrets live in [`SecretString`], whose `Debug` is redacted, and tracing
//! fields carry only methods, paths, statuses and attempts.

pub mod client;
pub mod download;
pub mod error;
pub mod event;
mod hosts;
mod oauth;
pub mod path;
pub mod retry;
pub mod secret;
pub mod types;
pub mod webhook;

#[cfg(test)]
mod fuzz;

/// Measures the heap each fuzzing case holds (`zoomvault_fuzz::check`).
#[cfg(test)]
#[global_allocator]
static ALLOCATOR: zoomvault_fuzz::CountingAllocator = zoomvault_fuzz::CountingAllocator;

pub use client::{ZoomClient, ZoomConfig};
pub use download::{ByteRange, Download, DownloadAuth, DownloadStatus, RangeProbe};
pub use error::{Error, Result};
pub use event::{parse_event, EventError, RecordingCompleted, ZoomEvent};
pub use hosts::{DownloadHosts, ZOOM_DOWNLOAD_HOSTS};
pub use retry::RetryPolicy;
pub use secret::SecretString;
pub use types::{MeetingInstance, MeetingRecording, Participant, PastMeeting, RecordingFile, User};
pub use webhook::{WebhookError, WebhookVerifier};
