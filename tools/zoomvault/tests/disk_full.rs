//! A full disk: the archive's store on a 12 MiB tmpfs the test mounts (it
//! needs root; as another user it says so and passes without running), an
//! ingest of a recording that does not fit. The ingest fails with
//! `Storage.Full` and a cause that says what to do, nothing partial is
//! visible (no document, no index entry, no short file at any key, Zoom's
//! copy untouched), and once the tmpfs is grown a redrive archives the
//! recording byte-identical and leaves no upload or temp file behind.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::{files_under, sha256_file, start, HarnessConfig};
use zoomvault_archive::ports::{ListQuery, RecordingIndex};
use zoomvault_archive::steps::IngestConfig;
use zoomvault_engine::Status;
use zoomvault_zoom_sim::{FileSpec, MeetingSpec, WebhookOptions};

const MIB: u64 = 1024 * 1024;

/// A tmpfs mounted for the test's lifetime.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size_mib: u64) -> Tmpfs {
        std::fs::create_dir_all(at).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mib}m"), "tmpfs"])
            .arg(at)
            .status()
            .expect("running mount");
        assert!(
            status.success(),
            "mounting a tmpfs at {} failed ({status}): this test needs root with CAP_SYS_ADMIN",
            at.display()
        );
        Tmpfs(at.to_path_buf())
    }

    fn grow(&self, size_mib: u64) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={size_mib}m")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(status.success(), "remounting {}", self.0.display());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_store_fails_the_ingest_clearly_and_a_redrive_completes_it_once_space_is_freed() {
    if !is_root() {
        eprintln!("skipped: mounting the small filesystem needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store_dir = dir.path().join("store");
    let tmpfs = Tmpfs::mount(&store_dir, 12);
    // The video is fanned out: 5 parts of 5 MiB, two per invocation.
    let h = start(HarnessConfig {
        ingest: IngestConfig {
            part_size: 5 * MIB,
            invocation_bytes: 10 * MIB,
            ..IngestConfig::default()
        },
        data_dir: Some(dir.path().to_path_buf()),
        ..HarnessConfig::default()
    })
    .await;
    let (sim, embedded) = (&h.sim, &h.embedded);
    let meeting = sim.add_meeting(MeetingSpec {
        topic: "Does not fit".into(),
        files: vec![
            FileSpec::audio(2 * MIB),
            FileSpec::video("shared_screen_with_speaker_view", 24 * MIB),
        ],
        ..MeetingSpec::default()
    });

    let event = sim.recording_completed_event(&meeting.uuid);
    let (status, reply) = sim
        .send_webhook(&h.webhook_url, &event, WebhookOptions::default())
        .await
        .unwrap();
    assert_eq!(status, 200, "{reply}");
    let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
    let arn = reply["execution_arn"].as_str().unwrap().to_string();
    let failed = embedded.engine.wait_for(&arn).await.unwrap();
    assert_eq!(failed.status, Status::Failed);
    assert_eq!(failed.error.as_deref(), Some("Storage.Full"), "{failed:?}");
    let cause = failed.cause.clone().unwrap_or_default();
    assert!(
        cause.contains("out of space") && cause.contains("redrive"),
        "{cause}"
    );

    // Nothing partial is visible: no document, no index entry, Zoom's copy
    // untouched, and a file at a key is a whole, true file.
    let objects = store_dir.join("objects");
    let visible = files_under(&objects);
    assert!(
        !visible.iter().any(|p| p.ends_with("recording.json")),
        "{visible:?}"
    );
    let listed = embedded.index.list(ListQuery::default()).await.unwrap();
    assert!(listed.entries.is_empty());
    assert!(sim.trashed().is_empty(), "Zoom's copy stays");
    for (position, spec) in meeting.files.iter().enumerate() {
        let expected = sim.expected_sha256(&meeting.uuid, position);
        for path in visible.iter().filter(|p| {
            p.extension().and_then(|e| e.to_str())
                == Some(spec.file_extension.to_lowercase().as_str())
        }) {
            assert_eq!(sha256_file(path), expected, "{} is whole", path.display());
        }
    }

    // Space is freed: a redrive archives it, once, byte-identical.
    tmpfs.grow(64);
    embedded.engine.redrive_execution(&arn).await.unwrap();
    let done = embedded.engine.wait_for(&arn).await.unwrap();
    assert_eq!(done.status, Status::Succeeded, "{done:?}");
    let listed = embedded.index.list(ListQuery::default()).await.unwrap();
    assert_eq!(listed.entries.len(), 1);
    assert_eq!(sim.trashed(), vec![meeting.uuid.clone()]);
    let visible = files_under(&objects);
    assert_eq!(
        visible
            .iter()
            .filter(|p| p.ends_with("recording.json"))
            .count(),
        1
    );
    for (position, spec) in meeting.files.iter().enumerate() {
        let extension = spec.file_extension.to_lowercase();
        let stored: Vec<_> = visible
            .iter()
            .filter(|p| p.extension().and_then(|e| e.to_str()) == Some(extension.as_str()))
            .collect();
        assert_eq!(stored.len(), 1, "{extension}: {stored:?}");
        assert_eq!(
            sha256_file(stored[0]),
            sim.expected_sha256(&meeting.uuid, position)
        );
    }
    let leftovers: Vec<_> = files_under(&store_dir.join(".multipart"))
        .into_iter()
        .chain(files_under(&store_dir.join(".tmp")))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no upload or temp file: {leftovers:?}"
    );
}
