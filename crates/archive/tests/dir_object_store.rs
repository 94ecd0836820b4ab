//! The directory object store against the object store port's contract:
//! S3's semantics for objects and multipart uploads, atomic visibility,
//! retried parts, cleanup, and refusal of unsafe keys. Each test works in a
//! scratch directory of its own, and touches the store's files directly
//! only to plant crash leftovers and to see what the store left behind.

mod common;

use std::io;
use std::task::Poll;

use bytes::Bytes;
use common::TestDir;
use futures_util::StreamExt;
use zoomvault_archive::checksum::Crc64Nvme;
use zoomvault_archive::local::{DirObjectStore, DirStoreConfig, SweepReport};
use zoomvault_archive::ports::object_store::{
    CompletedPart, Error, ObjectMeta, ObjectStore, PartBody, PartNumber, UploadId, UploadShape,
};

const KEY: &str =
    "recordings/2024/03/05/85746065432/aDYlohsHRtCd4ii1uC2-hA==/files/audio_only-x.m4a";

/// A store whose parts may be small, so tests move kilobytes, not the 5 MiB
/// S3 requires.
fn small_part_store(dir: &TestDir) -> DirObjectStore {
    DirObjectStore::open_with(dir.path(), DirStoreConfig { min_part_size: 4 }).expect("open store")
}

fn crc(bytes: &[u8]) -> Crc64Nvme {
    Crc64Nvme::of(bytes)
}

fn part(n: u32) -> PartNumber {
    PartNumber::new(n).expect("valid part number")
}

fn body(text: &str) -> PartBody {
    PartBody::from_bytes(Bytes::from(text.to_owned()))
}

/// A body delivered in several chunks, as a ranged download would be.
fn chunked(declared: u64, chunks: &[&str]) -> PartBody {
    let chunks: Vec<io::Result<Bytes>> = chunks
        .iter()
        .map(|chunk| Ok(Bytes::from(chunk.to_string())))
        .collect();
    PartBody::new(declared, Box::pin(futures_util::stream::iter(chunks)))
}

async fn read_stream(store: &DirObjectStore, key: &str) -> Vec<u8> {
    let mut object = store.get_stream(key).await.expect("object exists");
    let mut bytes = Vec::new();
    while let Some(chunk) = object.stream.next().await {
        bytes.extend_from_slice(&chunk.expect("chunk reads"));
    }
    assert_eq!(bytes.len() as u64, object.size);
    bytes
}

#[tokio::test]
async fn put_get_head_list_delete() {
    let dir = TestDir::new("store-basics");
    let store = small_part_store(&dir);
    let keys = [
        "recordings/2024/03/05/1/u/recording.json",
        "recordings/2024/03/05/1/u/files/a.mp4",
        "recordings/2024/04/01/2/v/recording.json",
        "other/thing",
    ];
    for key in keys {
        store
            .put(
                key,
                Bytes::from(format!("body of {key}")),
                "application/json",
            )
            .await
            .expect("put");
    }
    assert_eq!(
        store.get(keys[0]).await.expect("get"),
        Bytes::from(format!("body of {}", keys[0]))
    );
    assert_eq!(
        read_stream(&store, keys[1]).await,
        format!("body of {}", keys[1]).into_bytes()
    );
    assert_eq!(
        store.head(keys[1]).await.expect("head"),
        Some(ObjectMeta {
            key: keys[1].to_owned(),
            size: format!("body of {}", keys[1]).len() as u64,
            crc64nvme: None,
        })
    );

    let listed = |prefix: &'static str| {
        let store = store.clone();
        async move {
            store
                .list(prefix)
                .await
                .expect("list")
                .into_iter()
                .map(|meta| meta.key)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        listed("recordings/").await,
        [
            "recordings/2024/03/05/1/u/files/a.mp4",
            "recordings/2024/03/05/1/u/recording.json",
            "recordings/2024/04/01/2/v/recording.json",
        ]
    );
    // A prefix need not end at a segment boundary.
    assert_eq!(listed("recordings/2024/0").await.len(), 3);
    assert_eq!(listed("recordings/2024/03").await.len(), 2);
    assert_eq!(listed("").await.len(), 4);
    assert!(listed("nothing/here/").await.is_empty());

    // A put replaces the object whole.
    store
        .put(keys[0], Bytes::from_static(b"v2"), "application/json")
        .await
        .expect("put again");
    assert_eq!(
        store.get(keys[0]).await.expect("get"),
        Bytes::from_static(b"v2")
    );

    for key in keys {
        store.delete(key).await.expect("delete");
    }
    // Deleting what is not there succeeds, as in S3.
    store.delete(keys[0]).await.expect("delete again");
    assert!(matches!(
        store.get(keys[0]).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        store.get_stream(keys[0]).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(store.head(keys[0]).await.expect("head"), None);
    // Deletes prune the directories they empty.
    assert!(
        dir.entries("objects").is_empty(),
        "{:?}",
        dir.entries("objects")
    );
}

#[tokio::test]
async fn a_prefix_of_a_key_is_not_an_object() {
    let dir = TestDir::new("store-prefix");
    let store = small_part_store(&dir);
    store
        .put("a/b", Bytes::from_static(b"x"), "text/plain")
        .await
        .expect("put");
    assert_eq!(store.head("a").await.expect("head"), None);
    assert!(matches!(store.get("a").await, Err(Error::NotFound { .. })));
    // A directory cannot hold both `a` and `a/b`; it says so rather than
    // losing either.
    assert!(matches!(
        store.put("a", Bytes::from_static(b"y"), "text/plain").await,
        Err(Error::Conflict { .. })
    ));
    assert!(matches!(
        store
            .put("a/b/c", Bytes::from_static(b"y"), "text/plain")
            .await,
        Err(Error::Conflict { .. })
    ));
    assert_eq!(
        store.get("a/b").await.expect("get"),
        Bytes::from_static(b"x")
    );
    assert!(dir.entries(".tmp").is_empty());
}

#[tokio::test]
async fn multipart_round_trip_with_out_of_order_parts() {
    let dir = TestDir::new("store-multipart");
    let store = small_part_store(&dir);
    let upload = store
        .create_multipart(KEY, "audio/mp4")
        .await
        .expect("create");

    // Parts arrive in any order, concurrently.
    let (third, first, second) = tokio::join!(
        store.put_part(KEY, &upload, part(3), body("tail")),
        store.put_part(KEY, &upload, part(1), chunked(8, &["firs", "t-pa"])),
        store.put_part(KEY, &upload, part(2), chunked(9, &["sec", "ond-p", "a"])),
    );
    let parts = [
        first.expect("part 1"),
        second.expect("part 2"),
        third.expect("part 3"),
    ];
    let listed = store.list_parts(KEY, &upload).await.expect("list parts");
    let numbers: Vec<u32> = listed.iter().map(|p| p.part_number.get()).collect();
    assert_eq!(numbers, [1, 2, 3]);
    assert_eq!(listed.iter().map(|p| p.size).collect::<Vec<_>>(), [8, 9, 4]);
    assert_eq!(listed[0].etag, parts[0].etag);
    assert_eq!(listed[1].crc64nvme, Some(crc(b"second-pa")));

    let meta = store
        .complete_multipart(KEY, &upload, &parts, crc(b"first-pasecond-patail"))
        .await
        .expect("complete");
    assert_eq!(meta.size, 21);
    assert_eq!(meta.crc64nvme, Some(crc(b"first-pasecond-patail")));
    assert_eq!(
        store.get(KEY).await.expect("get"),
        Bytes::from_static(b"first-pasecond-patail")
    );
    assert!(dir.entries(".multipart").is_empty());
    assert!(dir.entries(".tmp").is_empty());
}

#[tokio::test]
async fn a_part_uploaded_again_gets_a_new_etag_and_the_old_one_is_refused() {
    let dir = TestDir::new("store-etag");
    let store = small_part_store(&dir);
    let upload = store
        .create_multipart(KEY, "audio/mp4")
        .await
        .expect("create");
    let first = store
        .put_part(KEY, &upload, part(1), body("abc"))
        .await
        .expect("part");
    let again = store
        .put_part(KEY, &upload, part(1), body("abc"))
        .await
        .expect("part again");
    assert_ne!(
        first.etag, again.etag,
        "the same bytes uploaded twice are two versions"
    );
    let error = store
        .complete_multipart(KEY, &upload, &[first], crc(b"abc"))
        .await
        .expect_err("the replaced version");
    assert!(
        error.to_string().contains("is not the uploaded part's"),
        "{error}"
    );
    let meta = store
        .complete_multipart(KEY, &upload, &[again], crc(b"abc"))
        .await
        .expect("the current version");
    assert_eq!(meta.size, 3);
}

#[tokio::test]
async fn object_is_not_visible_before_completion() {
    let dir = TestDir::new("store-atomic");
    let store = small_part_store(&dir);
    let upload = store
        .create_multipart(KEY, "audio/mp4")
        .await
        .expect("create");
    let first = store
        .put_part(KEY, &upload, part(1), body("01234"))
        .await
        .expect("part");
    assert_eq!(store.head(KEY).await.expect("head"), None);
    assert!(store.list("recordings/").await.expect("list").is_empty());
    assert!(matches!(store.get(KEY).await, Err(Error::NotFound { .. })));

    store
        .complete_multipart(KEY, &upload, &[first], crc(b"01234"))
        .await
        .expect("complete");
    assert_eq!(
        store.head(KEY).await.expect("head").map(|m| m.size),
        Some(5)
    );
    assert!(dir.entries(".multipart").is_empty(), "staging removed");
}

#[tokio::test]
async fn retried_part_replaces_the_previous_upload_of_that_part() {
    let dir = TestDir::new("store-retry");
    let store = small_part_store(&dir);
    let upload = store
        .create_multipart(KEY, "audio/mp4")
        .await
        .expect("create");
    let stale = store
        .put_part(KEY, &upload, part(1), body("AAAA"))
        .await
        .expect("part");
    let fresh = store
        .put_part(KEY, &upload, part(1), body("BBBBBB"))
        .await
        .expect("retry");
    let again = store
        .put_part(KEY, &upload, part(1), body("BBBBBB"))
        .await
        .expect("retry");
    assert_ne!(fresh, again, "every upload of a part is its own version");

    let listed = store.list_parts(KEY, &upload).await.expect("list parts");
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].etag.as_str(), listed[0].size),
        (again.etag.as_str(), 6)
    );

    // The replaced versions cannot be completed any more.
    for replaced in [stale, fresh] {
        assert!(matches!(
            store
                .complete_multipart(KEY, &upload, &[replaced], crc(b"BBBBBB"))
                .await,
            Err(Error::InvalidPart { .. })
        ));
    }
    store
        .complete_multipart(KEY, &upload, &[again], crc(b"BBBBBB"))
        .await
        .expect("complete");
    assert_eq!(
        store.get(KEY).await.expect("get"),
        Bytes::from_static(b"BBBBBB")
    );
}

#[tokio::test]
async fn wrong_length_or_failed_body_is_rejected_and_changes_nothing() {
    let dir = TestDir::new("store-length");
    let store = small_part_store(&dir);
    let upload = store
        .create_multipart(KEY, "audio/mp4")
        .await
        .expect("create");
    let good = store
        .put_part(KEY, &upload, part(1), body("good"))
        .await
        .expect("part");

    let short = store
        .put_part(KEY, &upload, part(1), chunked(10, &["ab", "c"]))
        .await;
    assert!(
        matches!(
            short,
            Err(Error::BodyTooShort {
                declared: 10,
                received: 3,
                ..
            })
        ),
        "{short:?}"
    );
    let long = store
        .put_part(KEY, &upload, part(1), chunked(3, &["ab", "cd"]))
        .await;
    assert!(
        matches!(long, Err(Error::BodyTooLong { declared: 3, .. })),
        "{long:?}"
    );
    let failing = PartBody::new(
        4,
        Box::pin(futures_util::stream::iter([
            Ok(Bytes::from_static(b"ab")),
            Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "Zoom hung up",
            )),
        ])),
    );
    let failed = store.put_part(KEY, &upload, part(1), failing).await;
    assert!(matches!(failed, Err(Error::Body { .. })), "{failed:?}");
    let fresh_part = store
        .put_part(KEY, &upload, part(2), chunked(5, &["xy"]))
        .await;
    assert!(fresh_part.is_err());

    // The good version of part 1 is still the part; part 2 never appeared.
    let listed = store.list_parts(KEY, &upload).await.expect("list parts");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].etag, good.etag);
    assert!(dir.entries(".tmp").is_empty(), "{:?}", dir.entries(".tmp"));
}

#[tokio::test]
async fn a_cancelled_part_upload_leaves_nothing_behind() {
    let dir = TestDir::new("store-cancel");
    let store = small_part_store(&dir);
    let upload = store
        .create_multipart(KEY, "audio/mp4")
        .await
        .expect("create");

    // A body that delivers one chunk and then stalls, telling us when.
    let (stalled_tx, stalled) = tokio::sync::oneshot::channel::<()>();
    let mut stalled_tx = Some(stalled_tx);
    let stall = futures_util::stream::poll_fn(move |_| {
        if let Some(tx) = stalled_tx.take() {
            let _ = tx.send(());
        }
        Poll::<Option<io::Result<Bytes>>>::Pending
    });
    let stream = futures_util::stream::once(async { Ok(Bytes::from_static(b"half")) }).chain(stall);
    let task = tokio::spawn({
        let store = store.clone();
        let upload = upload.clone();
        async move {
            store
                .put_part(KEY, &upload, part(1), PartBody::new(8, Box::pin(stream)))
                .await
        }
    });
    stalled.await.expect("the upload reached the stalled body");
    assert_eq!(dir.entries(".tmp").len(), 1, "the part is being written");
    task.abort();
    assert!(task.await.is_err(), "the task was cancelled");

    assert!(dir.entries(".tmp").is_empty(), "{:?}", dir.entries(".tmp"));
    assert!(store
        .list_parts(KEY, &upload)
        .await
        .expect("list parts")
        .is_empty());
}

#[tokio::test]
async fn abort_removes_the_upload() {
    let dir = TestDir::new("store-abort");
    let store = small_part_store(&dir);
    let upload = store
        .create_multipart(KEY, "audio/mp4")
        .await
        .expect("create");
    let first = store
        .put_part(KEY, &upload, part(1), body("data"))
        .await
        .expect("part");
    store.abort_multipart(KEY, &upload).await.expect("abort");

    assert!(dir.entries(".multipart").is_empty());
    assert!(dir.entries(".tmp").is_empty());
    assert_eq!(store.head(KEY).await.expect("head"), None);
    for result in [
        store
            .put_part(KEY, &upload, part(2), body("more"))
            .await
            .map(|_| ()),
        store
            .complete_multipart(KEY, &upload, &[first], crc(b"data"))
            .await
            .map(|_| ()),
        store.list_parts(KEY, &upload).await.map(|_| ()),
        store.abort_multipart(KEY, &upload).await,
    ] {
        assert!(
            matches!(result, Err(Error::NoSuchUpload { .. })),
            "{result:?}"
        );
    }
}

#[tokio::test]
async fn completing_twice_reports_no_such_upload_and_keeps_the_object() {
    let dir = TestDir::new("store-complete-twice");
    let store = small_part_store(&dir);
    let upload = store
        .create_multipart(KEY, "audio/mp4")
        .await
        .expect("create");
    let first = store
        .put_part(KEY, &upload, part(1), body("data"))
        .await
        .expect("part");
    let parts = [first];
    store
        .complete_multipart(KEY, &upload, &parts, crc(b"data"))
        .await
        .expect("complete");
    assert!(matches!(
        store
            .complete_multipart(KEY, &upload, &parts, crc(b"data"))
            .await,
        Err(Error::NoSuchUpload { .. })
    ));
    assert_eq!(
        store.head(KEY).await.expect("head").map(|m| m.size),
        Some(4)
    );
}

#[tokio::test]
async fn completion_follows_s3_rules() {
    let dir = TestDir::new("store-rules");
    // S3's real minimum part size.
    let store = DirObjectStore::open(dir.path()).expect("open store");
    let upload = store
        .create_multipart(KEY, "audio/mp4")
        .await
        .expect("create");
    let one = store
        .put_part(KEY, &upload, part(1), body("small"))
        .await
        .expect("part");
    let two = store
        .put_part(KEY, &upload, part(2), body("last"))
        .await
        .expect("part");
    // Every refusal below comes before the checksum is looked at; the
    // last completion's object is "last".
    let complete = |parts: Vec<CompletedPart>| {
        let store = store.clone();
        let upload = upload.clone();
        async move {
            store
                .complete_multipart(KEY, &upload, &parts, crc(b"last"))
                .await
        }
    };

    let result = complete(vec![]).await;
    assert!(matches!(result, Err(Error::NoParts)), "{result:?}");
    let result = complete(vec![two.clone(), one.clone()]).await;
    assert!(
        matches!(result, Err(Error::InvalidPartOrder { .. })),
        "{result:?}"
    );
    let result = complete(vec![one.clone(), one.clone()]).await;
    assert!(
        matches!(result, Err(Error::InvalidPartOrder { .. })),
        "{result:?}"
    );
    let missing = CompletedPart {
        part_number: part(3),
        ..two.clone()
    };
    let result = complete(vec![one.clone(), missing]).await;
    assert!(
        matches!(result, Err(Error::InvalidPart { .. })),
        "{result:?}"
    );
    let wrong_etag = CompletedPart {
        etag: one.etag.clone(),
        ..two.clone()
    };
    let result = complete(vec![one.clone(), wrong_etag]).await;
    assert!(
        matches!(result, Err(Error::InvalidPart { .. })),
        "{result:?}"
    );
    let result = complete(vec![one.clone(), two.clone()]).await;
    assert!(
        matches!(
            result,
            Err(Error::PartTooSmall {
                size: 5,
                minimum: 5_242_880,
                ..
            })
        ),
        "{result:?}"
    );
    // A single part may be small: it is the last.
    let meta = complete(vec![two])
        .await
        .expect("complete with the last part only");
    assert_eq!(meta.size, 4);
    assert_eq!(
        store.get(KEY).await.expect("get"),
        Bytes::from_static(b"last")
    );

    assert!(matches!(
        PartNumber::new(0),
        Err(Error::InvalidPartNumber(0))
    ));
    assert!(PartNumber::new(10_000).is_ok());
    assert!(matches!(
        PartNumber::new(10_001),
        Err(Error::InvalidPartNumber(10_001))
    ));
}

#[tokio::test]
async fn an_upload_belongs_to_its_key() {
    let dir = TestDir::new("store-upload-key");
    let store = small_part_store(&dir);
    let upload = store
        .create_multipart(KEY, "audio/mp4")
        .await
        .expect("create");
    let result = store
        .put_part("other/key", &upload, part(1), body("x"))
        .await;
    assert!(
        matches!(result, Err(Error::NoSuchUpload { .. })),
        "{result:?}"
    );
    for forged in [
        "../../objects",
        "",
        "ABCDEF",
        "0123456789abcdef0123456789abcdeg",
    ] {
        let result = store.list_parts(KEY, &UploadId::new(forged)).await;
        assert!(
            matches!(result, Err(Error::NoSuchUpload { .. })),
            "{forged}: {result:?}"
        );
    }
}

#[tokio::test]
async fn unsafe_keys_are_rejected_by_every_operation() {
    let dir = TestDir::new("store-unsafe");
    let store = small_part_store(&dir);
    let upload = store
        .create_multipart(KEY, "audio/mp4")
        .await
        .expect("create");
    for key in [
        "../x",
        "/abs",
        "a//b",
        "",
        "a/../../b",
        "a/./b",
        "a\\b",
        "dir/",
    ] {
        let results = [
            store
                .put(key, Bytes::from_static(b"x"), "text/plain")
                .await
                .map(|_| ()),
            store.get(key).await.map(|_| ()),
            store.get_stream(key).await.map(|_| ()),
            store.head(key).await.map(|_| ()),
            store.delete(key).await,
            store.create_multipart(key, "text/plain").await.map(|_| ()),
            store
                .put_part(key, &upload, part(1), body("x"))
                .await
                .map(|_| ()),
            store
                .complete_multipart(key, &upload, &[], crc(b""))
                .await
                .map(|_| ()),
            store.abort_multipart(key, &upload).await,
            store.list_parts(key, &upload).await.map(|_| ()),
        ];
        for result in results {
            assert!(matches!(result, Err(Error::Key(_))), "{key:?}: {result:?}");
        }
    }
    for prefix in ["../", "/", "a//"] {
        let result = store.list(prefix).await;
        assert!(
            matches!(result, Err(Error::Key(_))),
            "{prefix:?}: {result:?}"
        );
    }
    assert!(dir.entries("objects").is_empty());
    assert_eq!(
        dir.entries("").len(),
        3,
        "nothing written outside the store's own directories"
    );
}

#[tokio::test]
async fn crash_leftovers_are_never_listed_and_are_swept() {
    let dir = TestDir::new("store-leftovers");
    let store = small_part_store(&dir);
    store
        .put("kept/object", Bytes::from_static(b"x"), "text/plain")
        .await
        .expect("put");
    // What a crash mid-write leaves: a temp file (of a process that still
    // runs, so only its age can tell), and an upload never finished.
    let temp = format!(".tmp/{}-456-0.tmp", std::process::id());
    std::fs::write(dir.path().join(temp), b"half an object").expect("write");
    let upload = store
        .create_multipart(KEY, "audio/mp4")
        .await
        .expect("create");
    store
        .put_part(KEY, &upload, part(1), body("part"))
        .await
        .expect("part");

    let listed: Vec<String> = store
        .list("")
        .await
        .expect("list")
        .into_iter()
        .map(|meta| meta.key)
        .collect();
    assert_eq!(listed, ["kept/object"]);
    assert_eq!(store.head(KEY).await.expect("head"), None);

    // An upload touched just now survives a sweep for day-old leftovers.
    let report = store
        .sweep_abandoned(std::time::Duration::from_secs(86_400))
        .await
        .expect("sweep");
    assert_eq!(report, SweepReport::default());
    let report = store
        .sweep_abandoned(std::time::Duration::ZERO)
        .await
        .expect("sweep");
    assert_eq!(
        report,
        SweepReport {
            temp_entries: 1,
            uploads: 1
        }
    );
    assert!(dir.entries(".tmp").is_empty());
    assert!(dir.entries(".multipart").is_empty());
    assert_eq!(
        store.get("kept/object").await.expect("get"),
        Bytes::from_static(b"x")
    );
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn temp_files_of_a_gone_process_are_swept_at_once() {
    let dir = TestDir::new("store-gone-process");
    let store = small_part_store(&dir);
    // Above any pid Linux hands out (pid_max is at most 2^22).
    let gone = ".tmp/4294967290-456-0.tmp";
    let ours = format!(".tmp/{}-456-1.tmp", std::process::id());
    std::fs::write(dir.path().join(gone), b"half an object").expect("write");
    std::fs::write(dir.path().join(&ours), b"being written").expect("write");
    std::fs::create_dir(dir.path().join(".tmp/4294967290-456-2.discarded")).expect("mkdir");
    let report = store
        .sweep_abandoned(std::time::Duration::from_secs(86_400))
        .await
        .expect("sweep");
    assert_eq!(
        report,
        SweepReport {
            temp_entries: 2,
            uploads: 0
        }
    );
    assert_eq!(
        dir.entries(".tmp"),
        [ours.trim_start_matches(".tmp/").to_string()]
    );
}

fn shape(total_size: u64, part_size: u64) -> UploadShape {
    UploadShape {
        total_size,
        part_size,
    }
}

#[tokio::test]
async fn shaped_upload_writes_parts_in_place_and_completes_without_copying() {
    let dir = TestDir::new("store-shaped");
    let store = small_part_store(&dir);
    let upload = store
        .create_multipart_shaped(KEY, "audio/mp4", shape(14, 5))
        .await
        .expect("create");
    // Out of order, and in chunks, as parallel ranged GETs deliver them.
    let third = store
        .put_part(KEY, &upload, part(3), chunked(4, &["wx", "yz"]))
        .await
        .expect("part 3");
    let first = store
        .put_part(KEY, &upload, part(1), body("abcde"))
        .await
        .expect("part 1");
    let second = store
        .put_part(KEY, &upload, part(2), chunked(5, &["fg", "hij"]))
        .await
        .expect("part 2");
    assert!(
        store.head(KEY).await.expect("head").is_none(),
        "nothing visible yet"
    );
    let listed = store.list_parts(KEY, &upload).await.expect("list parts");
    let sizes: Vec<u64> = listed.iter().map(|p| p.size).collect();
    assert_eq!(sizes, [5, 5, 4]);

    let meta = store
        .complete_multipart(
            KEY,
            &upload,
            &[first, second, third],
            crc(b"abcdefghijwxyz"),
        )
        .await
        .expect("complete");
    assert_eq!(meta.size, 14);
    assert_eq!(
        store.get(KEY).await.expect("get"),
        Bytes::from_static(b"abcdefghijwxyz")
    );
    assert!(dir.entries(".multipart").is_empty(), "staging removed");
    assert!(dir.entries(".tmp").is_empty());
}

/// Deterministic bytes that differ at every offset a block boundary could
/// cut wrongly.
fn pattern(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 13) as u8)
        .collect()
}

/// Real part sizes (whole MiB, so parts start block-aligned and are written
/// with O_DIRECT where the filesystem allows), odd chunk sizes, and a last
/// part whose tail does not fill a block. Parts go in the given order; the
/// store reuses its write blocks, so the short last part sent after full
/// ones shows that no earlier part's bytes come along.
async fn shaped_upload_of_real_sizes(store: &DirObjectStore, order: [u32; 3]) {
    let part_size = 5 * 1024 * 1024u64;
    let total = 2 * part_size + 12_345;
    let bytes = pattern(total as usize, 7);
    let upload = store
        .create_multipart_shaped(KEY, "audio/mp4", shape(total, part_size))
        .await
        .expect("create");
    let mut parts = Vec::new();
    for n in order {
        let start = (n as u64 - 1) * part_size;
        let end = (start + part_size).min(total);
        let chunks: Vec<io::Result<Bytes>> = bytes[start as usize..end as usize]
            .chunks(70_001)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let body = PartBody::new(end - start, Box::pin(futures_util::stream::iter(chunks)));
        parts.push(
            store
                .put_part(KEY, &upload, part(n), body)
                .await
                .expect("part"),
        );
    }
    parts.sort_by_key(|p| p.part_number);
    let meta = store
        .complete_multipart(KEY, &upload, &parts, crc(&bytes))
        .await
        .expect("complete");
    assert_eq!(meta.size, total);
    assert!(
        read_stream(store, KEY).await == bytes,
        "the object is the bytes sent"
    );
}

#[tokio::test]
async fn shaped_upload_of_real_part_sizes_is_byte_identical() {
    for order in [[3, 1, 2], [1, 2, 3]] {
        let dir = TestDir::new("store-shaped-real");
        shaped_upload_of_real_sizes(&DirObjectStore::open(dir.path()).expect("open"), order).await;
    }
}

#[tokio::test]
async fn shaped_upload_works_where_o_direct_is_refused() {
    // tmpfs refuses O_DIRECT; the store falls back to buffered writes.
    let root = std::path::Path::new("/dev/shm")
        .join(format!("zoomvault-archive-tmpfs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let store = DirObjectStore::open(&root).expect("open on tmpfs");
    shaped_upload_of_real_sizes(&store, [3, 1, 2]).await;
    std::fs::remove_dir_all(&root).expect("clean up");
}

#[tokio::test]
async fn shaped_upload_refuses_wrong_lengths_and_missing_parts() {
    let dir = TestDir::new("store-shaped-refusals");
    let store = small_part_store(&dir);
    let upload = store
        .create_multipart_shaped(KEY, "audio/mp4", shape(14, 5))
        .await
        .expect("create");
    let error = store
        .put_part(KEY, &upload, part(3), body("abcde"))
        .await
        .expect_err("part 3 is 4 bytes");
    assert!(error.to_string().contains("is 4 bytes, not 5"), "{error}");
    let error = store
        .put_part(KEY, &upload, part(4), body("a"))
        .await
        .expect_err("there is no part 4");
    assert!(
        error.to_string().contains("the upload has 3 parts"),
        "{error}"
    );

    let first = store
        .put_part(KEY, &upload, part(1), body("abcde"))
        .await
        .expect("part 1");
    let third = store
        .put_part(KEY, &upload, part(3), body("wxyz"))
        .await
        .expect("part 3");
    let error = store
        .complete_multipart(KEY, &upload, &[first, third], crc(b"abcdefghijwxyz"))
        .await
        .expect_err("part 2 is missing");
    assert!(matches!(error, Error::InvalidPart { .. }), "{error}");
    assert!(store.head(KEY).await.expect("head").is_none());
}

#[tokio::test]
async fn a_shaped_part_that_fails_midway_must_be_sent_again() {
    let dir = TestDir::new("store-shaped-broken");
    let store = small_part_store(&dir);
    let upload = store
        .create_multipart_shaped(KEY, "audio/mp4", shape(10, 5))
        .await
        .expect("create");
    let good = store
        .put_part(KEY, &upload, part(1), body("abcde"))
        .await
        .expect("part 1");
    let second = store
        .put_part(KEY, &upload, part(2), body("fghij"))
        .await
        .expect("part 2");
    // A retry of part 1 that breaks off overwrites bytes in place, so the
    // earlier version is gone and completion refuses until it comes again.
    store
        .put_part(KEY, &upload, part(1), chunked(5, &["XY"]))
        .await
        .expect_err("short body");
    let error = store
        .complete_multipart(
            KEY,
            &upload,
            &[good.clone(), second.clone()],
            crc(b"abcdefghij"),
        )
        .await
        .expect_err("part 1 was lost");
    assert!(matches!(error, Error::InvalidPart { .. }), "{error}");
    let again = store
        .put_part(KEY, &upload, part(1), body("abcde"))
        .await
        .expect("part 1 again");
    store
        .complete_multipart(KEY, &upload, &[again, second], crc(b"abcdefghij"))
        .await
        .expect("complete");
    assert_eq!(
        store.get(KEY).await.expect("get"),
        Bytes::from_static(b"abcdefghij")
    );
}
