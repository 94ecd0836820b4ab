//! The object store port's shared suite: each `pub async fn` checks one
//! promise of [`ObjectStore`] against any adapter, through the trait only.
//! The directory store runs it in `crates/archive/tests/port_object_store.rs`,
//! the S3 adapter against moto in `crates/aws/tests/s3.rs`, one test per
//! check so a failure names the promise.
//!
//! Each check expects an empty store (a fresh directory, a fresh bucket)
//! whose parts must be at least S3's [`MIN_PART_SIZE`], and uses the keys
//! it names itself. Checks must not reach behind the trait, and must not
//! depend on what the port leaves unpromised (etag formats, whether `put`
//! or `head` report a checksum).

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};

use crate::checksum::Crc64Nvme;
use crate::ports::object_store::{
    CompletedPart, Error, ObjectStore, PartBody, PartNumber, UploadId, MIN_PART_SIZE,
};

const PREFIX: &str = "recordings/2024/03/05/85746065432/aDYlohsHRtCd4ii1uC2-hA==/";
const FILE: &str =
    "recordings/2024/03/05/85746065432/aDYlohsHRtCd4ii1uC2-hA==/files/shared_screen-abc.mp4";

const MIB: usize = 1024 * 1024;

/// Deterministic bytes that differ at every offset (so a misplaced or
/// duplicated part shows), varied by `seed`.
pub fn pattern(len: usize, seed: u32) -> Bytes {
    (0..len as u32)
        .map(|i| {
            // A hash of the offset (murmur3's finaliser), so no stretch of
            // the object repeats another.
            let mut x = i ^ seed.wrapping_mul(0x9e37_79b9);
            x = (x ^ (x >> 16)).wrapping_mul(0x85eb_ca6b);
            x = (x ^ (x >> 13)).wrapping_mul(0xc2b2_ae35);
            (x ^ (x >> 16)) as u8
        })
        .collect::<Vec<u8>>()
        .into()
}

fn part(n: u32) -> PartNumber {
    PartNumber::new(n).expect("a valid part number")
}

/// The object at `key`, read through `get_stream`, checked against the
/// size the stream announced.
async fn read_all(store: &dyn ObjectStore, key: &str) -> Vec<u8> {
    let object = store.get_stream(key).await.expect("the object exists");
    let size = object.size;
    let bytes: Vec<Bytes> = object.stream.try_collect().await.expect("the stream reads");
    let bytes = bytes.concat();
    assert_eq!(
        bytes.len() as u64,
        size,
        "{key}: the stream's announced size"
    );
    bytes
}

async fn put_part(
    store: &dyn ObjectStore,
    key: &str,
    upload: &UploadId,
    number: u32,
    body: Bytes,
) -> CompletedPart {
    let len = body.len() as u64;
    let expected = Crc64Nvme::of(&body);
    let done = store
        .put_part(key, upload, part(number), PartBody::from_bytes(body))
        .await
        .unwrap_or_else(|e| panic!("part {number} of {key}: {e}"));
    assert_eq!(done.part_number, part(number));
    assert_eq!(done.size, len, "part {number}: the stored size");
    assert_eq!(
        done.crc64nvme,
        Some(expected),
        "part {number}: the store's CRC"
    );
    done
}

/// Puts a small JSON object at every key, 16 at a time.
async fn put_all(store: &dyn ObjectStore, keys: &[String]) {
    futures_util::stream::iter(keys)
        .map(|key| async move {
            store
                .put(key, Bytes::from_static(b"{}"), "application/json")
                .await
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await
        .expect("put every key");
}

/// Starts the multipart upload of [`FILE`] most checks use.
async fn begin(store: &dyn ObjectStore) -> UploadId {
    store
        .create_multipart(FILE, "video/mp4")
        .await
        .expect("create")
}

/// Nothing is visible at [`FILE`], `why` saying when.
async fn assert_nothing_at_file(store: &dyn ObjectStore, why: &str) {
    assert_absent(store.head(FILE).await.expect("head"), FILE, why);
}

fn assert_absent(result: Option<crate::ports::ObjectMeta>, key: &str, why: &str) {
    assert!(
        result.is_none(),
        "{key}: nothing may be visible {why}, found {result:?}"
    );
}

/// `put` replaces whole; `get`, `head` and `list` see what was put, in key
/// order and by prefix; `delete` removes, and deleting a missing key
/// succeeds.
pub async fn put_get_head_list_delete(store: &dyn ObjectStore) {
    let keys = [
        format!("{PREFIX}recording.json"),
        format!("{PREFIX}files/b.m4a"),
        format!("{PREFIX}files/a.mp4"),
        "recordings/2024/03/06/1/other/recording.json".to_owned(),
    ];
    for key in &keys {
        let body = Bytes::from(format!("first body of {key}"));
        let meta = store
            .put(key, body.clone(), "text/plain")
            .await
            .expect("put");
        assert_eq!(
            (meta.key.as_str(), meta.size),
            (key.as_str(), body.len() as u64)
        );
    }
    // A second put replaces the object whole.
    let body = Bytes::from_static(b"second");
    store
        .put(&keys[0], body.clone(), "application/json")
        .await
        .expect("put again");
    assert_eq!(store.get(&keys[0]).await.expect("get"), body);
    let meta = store.head(&keys[0]).await.expect("head").expect("present");
    assert_eq!(meta.size, 6);
    if let Some(crc) = meta.crc64nvme {
        assert_eq!(crc, Crc64Nvme::of(&body), "head's CRC, when given");
    }

    let listed: Vec<(String, u64)> = store
        .list(PREFIX)
        .await
        .expect("list")
        .into_iter()
        .map(|meta| (meta.key, meta.size))
        .collect();
    let expected = vec![
        (
            keys[2].clone(),
            format!("first body of {}", keys[2]).len() as u64,
        ),
        (
            keys[1].clone(),
            format!("first body of {}", keys[1]).len() as u64,
        ),
        (keys[0].clone(), 6),
    ];
    assert_eq!(listed, expected, "the prefix's objects, in key order");
    let files = store.list(&format!("{PREFIX}files/a")).await.expect("list");
    assert_eq!(files.len(), 1, "a prefix may end inside a name: {files:?}");
    assert!(store
        .list("recordings/2025/")
        .await
        .expect("list")
        .is_empty());

    store.delete(&keys[1]).await.expect("delete");
    store
        .delete(&keys[1])
        .await
        .expect("deleting a missing key succeeds");
    assert_absent(
        store.head(&keys[1]).await.expect("head"),
        &keys[1],
        "after delete",
    );
    let result = store.get(&keys[1]).await;
    assert!(matches!(result, Err(Error::NotFound { .. })), "{result:?}");
    let result = store.get_stream(&keys[1]).await.map(|o| o.size);
    assert!(matches!(result, Err(Error::NotFound { .. })), "{result:?}");
    assert_eq!(store.list(PREFIX).await.expect("list").len(), 2);
}

/// `list` returns every match, past the 1,000 keys S3 answers per page.
pub async fn list_returns_every_key_past_one_page(store: &dyn ObjectStore) {
    const COUNT: usize = 1_005;
    let keys: Vec<String> = (0..COUNT)
        .map(|i| format!("{PREFIX}many/object-{i:05}.json"))
        .collect();
    put_all(store, &keys).await;
    let listed: Vec<String> = store
        .list(&format!("{PREFIX}many/"))
        .await
        .expect("list")
        .into_iter()
        .map(|meta| meta.key)
        .collect();
    assert_eq!(listed.len(), COUNT, "every key, not one page");
    assert!(listed == keys, "in key order");
}

/// `list_prefixes` gives one level of the key tree: each distinct next
/// segment once, in key order, past a page of S3's 1,000; objects at the
/// level itself are not listed; a level that is not one is refused.
pub async fn list_prefixes_gives_one_level(store: &dyn ObjectStore) {
    const COUNT: usize = 1_003;
    let root = "recordings/2024/";
    let mut keys: Vec<String> = (0..COUNT)
        .map(|i| format!("{root}d{i:04}/meeting/recording.json"))
        .collect();
    // Two objects under one segment, and one object at the level itself.
    keys.push(format!("{root}d0007/other/recording.json"));
    keys.push(format!("{root}loose.json"));
    put_all(store, &keys).await;
    let expected: Vec<String> = (0..COUNT).map(|i| format!("{root}d{i:04}/")).collect();
    let listed = store.list_prefixes(root).await.expect("list_prefixes");
    assert_eq!(listed.len(), COUNT, "each segment once, every page");
    assert!(listed == expected, "in key order: {:?}...", &listed[..3]);
    assert_eq!(
        store.list_prefixes("").await.expect("the root level"),
        vec!["recordings/".to_string()]
    );
    assert_eq!(
        store
            .list_prefixes(&format!("{root}d0007/"))
            .await
            .expect("a deeper level"),
        vec![
            format!("{root}d0007/meeting/"),
            format!("{root}d0007/other/")
        ]
    );
    assert!(
        store
            .list_prefixes("recordings/1999/")
            .await
            .expect("an absent level")
            .is_empty(),
        "an absent level has nothing"
    );
    let refused = store.list_prefixes("recordings/2024").await;
    assert!(
        matches!(refused, Err(Error::Key(_))),
        "a level without its '/' is refused: {refused:?}"
    );
}

/// `get_stream` gives an object of several chunks whole, with its size.
pub async fn get_stream_reads_the_whole_object(store: &dyn ObjectStore) {
    let body = pattern(3 * MIB + 17, 3);
    store
        .put(FILE, body.clone(), "video/mp4")
        .await
        .expect("put");
    assert!(read_all(store, FILE).await == body[..], "the bytes put");
}

/// A 50 MiB object in 5 MiB parts, one part sent twice (first with other
/// bytes, as a retry after a broken download would): the retry replaces
/// it, the object is byte-identical to the file, and completion reports
/// the full-object CRC.
pub async fn large_object_in_parts_with_a_part_sent_twice(store: &dyn ObjectStore) {
    let part_size = MIN_PART_SIZE as usize;
    let file = pattern(10 * part_size, 50);
    let upload = begin(store).await;
    let mut parts = Vec::new();
    for (i, chunk) in file.chunks(part_size).enumerate() {
        let number = i as u32 + 1;
        if number == 4 {
            put_part(store, FILE, &upload, number, pattern(part_size, 99)).await;
        }
        parts.push(put_part(store, FILE, &upload, number, Bytes::copy_from_slice(chunk)).await);
    }
    assert_nothing_at_file(store, "before completion").await;
    let expected = Crc64Nvme::of(&file);
    let meta = store
        .complete_multipart(FILE, &upload, &parts, expected)
        .await
        .expect("complete");
    assert_eq!(meta.size, file.len() as u64);
    assert_eq!(meta.crc64nvme, Some(expected), "completion reports the CRC");
    assert!(read_all(store, FILE).await == file[..], "byte-identical");
}

/// Parts must be listed in ascending order, each once.
pub async fn parts_listed_out_of_order_are_refused(store: &dyn ObjectStore) {
    let one = pattern(MIN_PART_SIZE as usize, 1);
    let two = pattern(100, 2);
    let upload = begin(store).await;
    let first = put_part(store, FILE, &upload, 1, one.clone()).await;
    let second = put_part(store, FILE, &upload, 2, two.clone()).await;
    let whole = Crc64Nvme::of(&[one, two].concat());
    let result = store
        .complete_multipart(FILE, &upload, &[second, first], whole)
        .await;
    assert!(
        matches!(result, Err(Error::InvalidPartOrder { .. })),
        "{result:?}"
    );
    assert_nothing_at_file(store, "after a refusal").await;
}

/// Every part but the last must be at least 5 MiB.
pub async fn a_too_small_middle_part_is_refused(store: &dyn ObjectStore) {
    let bodies = [
        pattern(MIN_PART_SIZE as usize, 1),
        pattern(1024, 2),
        pattern(1024, 3),
    ];
    let upload = begin(store).await;
    let mut parts = Vec::new();
    for (i, body) in bodies.iter().enumerate() {
        parts.push(put_part(store, FILE, &upload, i as u32 + 1, body.clone()).await);
    }
    let whole = Crc64Nvme::of(&bodies.concat());
    let result = store.complete_multipart(FILE, &upload, &parts, whole).await;
    assert!(
        matches!(result, Err(Error::PartTooSmall { part_number, .. }) if part_number == part(2)),
        "{result:?}"
    );
    assert_nothing_at_file(store, "after a refusal").await;
}

/// A completion naming a part by an etag that is not its current one is
/// refused.
pub async fn a_wrong_etag_is_refused(store: &dyn ObjectStore) {
    let body = pattern(1000, 1);
    let upload = begin(store).await;
    let uploaded = put_part(store, FILE, &upload, 1, body.clone()).await;
    let wrong = CompletedPart {
        etag: format!("{}0", uploaded.etag),
        ..uploaded
    };
    let result = store
        .complete_multipart(FILE, &upload, &[wrong], Crc64Nvme::of(&body))
        .await;
    assert!(
        matches!(result, Err(Error::InvalidPart { part_number, .. }) if part_number == part(1)),
        "{result:?}"
    );
    assert_nothing_at_file(store, "after a refusal").await;
}

/// An aborted upload leaves nothing: no object, and the upload is gone.
pub async fn abort_leaves_nothing(store: &dyn ObjectStore) {
    let body = pattern(1000, 1);
    let upload = begin(store).await;
    let uploaded = put_part(store, FILE, &upload, 1, body.clone()).await;
    store.abort_multipart(FILE, &upload).await.expect("abort");
    assert_nothing_at_file(store, "after abort").await;
    assert!(store.list(PREFIX).await.expect("list").is_empty());
    let result = store.list_parts(FILE, &upload).await;
    assert!(
        matches!(result, Err(Error::NoSuchUpload { .. })),
        "{result:?}"
    );
    let result = store
        .complete_multipart(FILE, &upload, &[uploaded], Crc64Nvme::of(&body))
        .await;
    assert!(
        matches!(result, Err(Error::NoSuchUpload { .. })),
        "{result:?}"
    );
}

/// `list_uploads` names the uploads to exactly one key that are still
/// open: not those to another key (even one it is a prefix of), nor a
/// completed or aborted one.
pub async fn list_uploads_names_the_open_uploads_to_one_key(store: &dyn ObjectStore) {
    let longer = format!("{FILE}.part");
    let sorted = |mut ids: Vec<UploadId>| {
        ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        ids
    };
    assert!(store.list_uploads(FILE).await.expect("list").is_empty());
    let first = begin(store).await;
    let second = begin(store).await;
    let third = begin(store).await;
    let other = store
        .create_multipart(&longer, "video/mp4")
        .await
        .expect("create");
    assert_eq!(
        sorted(store.list_uploads(FILE).await.expect("list")),
        sorted(vec![first.clone(), second.clone(), third.clone()])
    );
    store.abort_multipart(FILE, &first).await.expect("abort");
    let body = pattern(1000, 3);
    let part = put_part(store, FILE, &second, 1, body.clone()).await;
    store
        .complete_multipart(FILE, &second, &[part], Crc64Nvme::of(&body))
        .await
        .expect("complete");
    assert_eq!(
        store.list_uploads(FILE).await.expect("list"),
        vec![third.clone()]
    );
    assert_eq!(
        store.list_uploads(&longer).await.expect("list"),
        vec![other.clone()]
    );
    store.abort_multipart(FILE, &third).await.expect("abort");
    store.abort_multipart(&longer, &other).await.expect("abort");
    assert!(store.list_uploads(FILE).await.expect("list").is_empty());
}

/// Another handle on the same storage (`reopened`, opened after the
/// parts were sent, as a later step or another worker would) lists the
/// parts with their sizes, etags and CRCs, and can complete the upload.
pub async fn list_parts_from_a_reopened_store(store: &dyn ObjectStore, reopened: &dyn ObjectStore) {
    let bodies = [pattern(MIN_PART_SIZE as usize, 1), pattern(777, 2)];
    let upload = begin(store).await;
    let mut parts = Vec::new();
    for (i, body) in bodies.iter().enumerate() {
        parts.push(put_part(store, FILE, &upload, i as u32 + 1, body.clone()).await);
    }
    let listed = reopened
        .list_parts(FILE, &upload)
        .await
        .expect("list parts");
    assert_eq!(listed.len(), 2, "{listed:?}");
    for (info, part) in listed.iter().zip(&parts) {
        assert_eq!(
            (info.part_number, info.etag.as_str(), info.size),
            (part.part_number, part.etag.as_str(), part.size)
        );
        // A backend that omits part checksums from its listing may say
        // None; one that gives a CRC gives the right one.
        if let Some(crc) = info.crc64nvme {
            assert_eq!(Some(crc), part.crc64nvme, "part {}", info.part_number);
        }
    }
    let whole = bodies.concat();
    reopened
        .complete_multipart(FILE, &upload, &parts, Crc64Nvme::of(&whole))
        .await
        .expect("the reopened store completes");
    assert!(read_all(store, FILE).await == whole);
}

/// A part whose declared CRC64NVME is not its body's is refused, and the
/// upload keeps the part's earlier version; a correct declaration is
/// accepted.
pub async fn a_part_with_a_mismatched_declared_checksum_is_refused(store: &dyn ObjectStore) {
    let body = pattern(MIN_PART_SIZE as usize, 1);
    let upload = begin(store).await;
    let earlier = put_part(store, FILE, &upload, 1, body.clone()).await;
    let declared = Crc64Nvme::of(b"other bytes");
    let result = store
        .put_part(
            FILE,
            &upload,
            part(1),
            PartBody::from_bytes(pattern(MIN_PART_SIZE as usize, 2)).with_crc64nvme(declared),
        )
        .await;
    match result {
        Err(Error::ChecksumMismatch {
            part_number,
            expected,
            actual,
            ..
        }) => {
            assert_eq!(part_number, Some(part(1)));
            assert_eq!(expected, declared);
            assert_eq!(actual, Crc64Nvme::of(&pattern(MIN_PART_SIZE as usize, 2)));
        }
        other => panic!("a mismatched part must be refused, got {other:?}"),
    }
    let listed = store.list_parts(FILE, &upload).await.expect("list parts");
    assert_eq!(
        listed.iter().map(|p| p.etag.as_str()).collect::<Vec<_>>(),
        [earlier.etag.as_str()],
        "the earlier version stays"
    );
    let declared_right = store
        .put_part(
            FILE,
            &upload,
            part(2),
            PartBody::from_bytes(pattern(10, 3)).with_crc64nvme(Crc64Nvme::of(&pattern(10, 3))),
        )
        .await
        .expect("a correct declaration is accepted");
    let whole = [body, pattern(10, 3)].concat();
    store
        .complete_multipart(
            FILE,
            &upload,
            &[earlier, declared_right],
            Crc64Nvme::of(&whole),
        )
        .await
        .expect("complete");
    assert!(read_all(store, FILE).await == whole);
}

/// A completion whose expected whole-object CRC64NVME is not the object's
/// is refused, and nothing is left at the key.
pub async fn a_completion_with_a_mismatched_checksum_leaves_nothing(store: &dyn ObjectStore) {
    let bodies = [pattern(MIN_PART_SIZE as usize, 1), pattern(4096, 2)];
    let upload = begin(store).await;
    let mut parts = Vec::new();
    for (i, body) in bodies.iter().enumerate() {
        parts.push(put_part(store, FILE, &upload, i as u32 + 1, body.clone()).await);
    }
    let wrong = Crc64Nvme::of(&bodies[0]);
    let result = store.complete_multipart(FILE, &upload, &parts, wrong).await;
    match result {
        Err(Error::ChecksumMismatch {
            part_number,
            expected,
            actual,
            ..
        }) => {
            assert_eq!(part_number, None);
            assert_eq!(expected, wrong);
            assert_eq!(actual, Crc64Nvme::of(&bodies.concat()));
        }
        other => panic!("a mismatched completion must be refused, got {other:?}"),
    }
    assert_nothing_at_file(store, "after a refusal").await;
    assert!(store.list(PREFIX).await.expect("list").is_empty());
    let result = store.get(FILE).await;
    assert!(matches!(result, Err(Error::NotFound { .. })), "{result:?}");
}

/// Completing an upload a second time is `NoSuchUpload`, as in S3, and the
/// object stays.
pub async fn completing_twice_is_no_such_upload(store: &dyn ObjectStore) {
    let body = pattern(3000, 1);
    let upload = begin(store).await;
    let parts = [put_part(store, FILE, &upload, 1, body.clone()).await];
    let crc = Crc64Nvme::of(&body);
    store
        .complete_multipart(FILE, &upload, &parts, crc)
        .await
        .expect("complete");
    let result = store.complete_multipart(FILE, &upload, &parts, crc).await;
    assert!(
        matches!(result, Err(Error::NoSuchUpload { .. })),
        "{result:?}"
    );
    assert!(read_all(store, FILE).await == body[..], "the object stays");
}
