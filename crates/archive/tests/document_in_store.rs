//! The pieces together: a document written under its derived key, beside
//! files uploaded in parts, is found again by listing the store, reads back
//! valid, and indexes to the same entry; so the index can be rebuilt from
//! storage alone. It goes through the crate's public API only.

mod common;

use bytes::Bytes;
use common::TestDir;
use sha2::{Digest, Sha256};
use time::macros::datetime;
use zoomvault_archive::checksum::Crc64Nvme;
use zoomvault_archive::document::{
    Host, IngestProvenance, IngestSource, Meeting, RecordingDocument, RecordingFile, SCHEMA_VERSION,
};
use zoomvault_archive::keys::{self, FileIdentity, FileKey, RecordingKeys};
use zoomvault_archive::local::{DirObjectStore, DirStoreConfig, SqliteIndex};
use zoomvault_archive::ports::{
    IndexEntry, ListQuery, ObjectStore, PartBody, PartNumber, RecordingIndex,
};

#[tokio::test]
async fn index_rebuilds_from_documents_in_the_store() {
    let dir = TestDir::new("document-in-store");
    let store = DirObjectStore::open_with(
        dir.path().join("store"),
        DirStoreConfig { min_part_size: 3 },
    )
    .expect("open store");
    let index = SqliteIndex::open(dir.path().join("index.db")).expect("open index");

    let meeting = Meeting {
        id: 85746065432,
        uuid: "aDYlohsHRtCd4ii1uC2+hA==".to_owned(),
        topic: "Weekly sync".to_owned(),
        meeting_type: 2,
        start_time: datetime!(2024-03-05 14:00 UTC),
        duration_minutes: 60,
        timezone: None,
    };
    let keys = RecordingKeys::new(meeting.start_time, meeting.id, &meeting.uuid).expect("keys");

    // Two files of the same recording type, uploaded in parts.
    let mut files = Vec::new();
    for (position, (id, content)) in [("f1", "abcdefgh"), ("f2", "ijklmn")]
        .into_iter()
        .enumerate()
    {
        let file_key = FileKey::new(&FileIdentity {
            recording_type: Some("audio_only"),
            file_type: "M4A",
            zoom_file_id: Some(id),
            position,
        })
        .expect("file key");
        let storage_key = keys.file(&file_key, "M4A").expect("storage key");
        let upload = store
            .create_multipart(&storage_key, "audio/mp4")
            .await
            .expect("create");
        let mut parts = Vec::new();
        for (n, chunk) in content.as_bytes().chunks(4).enumerate() {
            let number = PartNumber::new(n as u32 + 1).expect("part number");
            let body = PartBody::from_bytes(Bytes::copy_from_slice(chunk));
            parts.push(
                store
                    .put_part(&storage_key, &upload, number, body)
                    .await
                    .expect("part"),
            );
        }
        let meta = store
            .complete_multipart(
                &storage_key,
                &upload,
                &parts,
                Crc64Nvme::of(content.as_bytes()),
            )
            .await
            .expect("complete");
        files.push(RecordingFile {
            zoom_file_id: Some(id.to_owned()),
            recording_type: Some("audio_only".to_owned()),
            file_type: "M4A".to_owned(),
            extension: "M4A".to_owned(),
            size_bytes: meta.size,
            crc64nvme: meta.crc64nvme.expect("a completed upload has its CRC"),
            sha256: Some(hex::encode(Sha256::digest(content.as_bytes()))),
            storage_key,
            content_type: "audio/mp4".to_owned(),
            recording_start: None,
            recording_end: None,
        });
    }
    let document = RecordingDocument {
        schema_version: SCHEMA_VERSION,
        meeting,
        host: Host {
            id: "host-id".to_owned(),
            email: Some("host@example.com".to_owned()),
            name: None,
        },
        files,
        participants: None,
        ingest: IngestProvenance {
            execution_arn: "arn:aws:states:local:0:execution:ingest:x".to_owned(),
            source: IngestSource::Manual,
            started_at: datetime!(2024-03-05 15:00 UTC),
            finished_at: datetime!(2024-03-05 15:01 UTC),
            zoomvault_version: "0.1.0".to_owned(),
        },
        legal_hold: None,
    };
    let json = document.to_json().expect("valid document");
    store
        .put(&keys.document(), Bytes::from(json), "application/json")
        .await
        .expect("put document");

    // Rebuild: list everything, read each document, index it.
    for object in store.list(keys::RECORDINGS_PREFIX).await.expect("list") {
        if !keys::is_document_key(&object.key) {
            continue;
        }
        let bytes = store.get(&object.key).await.expect("get");
        let read = RecordingDocument::from_json(&bytes).expect("valid");
        assert_eq!(read, document);
        for file in &read.files {
            let stored = store.head(&file.storage_key).await.expect("head");
            assert_eq!(stored.map(|meta| meta.size), Some(file.size_bytes));
        }
        let entry = IndexEntry::from_document(&read).expect("entry");
        assert_eq!(entry.document_key, object.key);
        index.upsert(entry).await.expect("upsert");
    }
    let page = index.list(ListQuery::default()).await.expect("list");
    assert_eq!(page.entries.len(), 1);
    let entry = &page.entries[0];
    assert_eq!((entry.file_count, entry.total_bytes), (2, 14));
    assert_eq!(entry.host_email.as_deref(), Some("host@example.com"));
}
