//! A recording document as the site shows it: [`SiteRecording::from_document`].
//! The caller says where a stored file is fetched from (`serve`'s `/files/`
//! route embedded; the bucket's own paths on AWS).

use crate::{SiteFile, SiteRecording};
use zoomvault_archive::document::RecordingDocument;
use zoomvault_archive::keys;

impl SiteRecording {
    /// The page of `document`; `file_href` maps a file's storage key to its
    /// link.
    pub fn from_document(
        document: &RecordingDocument,
        file_href: &dyn Fn(&str) -> String,
    ) -> Result<SiteRecording, keys::Error> {
        Ok(SiteRecording {
            uuid: document.meeting.uuid.clone(),
            slug: keys::uuid_segment(&document.meeting.uuid)?,
            topic: document.meeting.topic.clone(),
            start_time: document
                .meeting
                .start_time
                .format(&time::format_description::well_known::Rfc3339)
                .expect("a document's start time is a valid RFC 3339 instant"),
            duration_minutes: document.meeting.duration_minutes.into(),
            host: document
                .host
                .email
                .clone()
                .or_else(|| document.host.name.clone()),
            files: document
                .files
                .iter()
                .map(|f| SiteFile {
                    label: f
                        .recording_type
                        .clone()
                        .unwrap_or_else(|| f.file_type.to_ascii_lowercase()),
                    file_type: f.file_type.clone(),
                    size: f.size_bytes,
                    href: file_href(&f.storage_key),
                })
                .collect(),
        })
    }
}
