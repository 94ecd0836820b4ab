//! Bounded fuzzing of the archive's hostile edges (issue 14, point 6): the
//! object keys derived from what Zoom sends (recording UUIDs, file ids and
//! types, extensions, start times) and from documents with hostile topics
//! must stay inside the archive's prefixes, whatever the input; the local
//! directory store must never touch a path outside its root; recording
//! documents mutated at random must be validated without a panic, and one
//! that passes must name only safe keys under its own prefix; and the
//! webhook handler must answer any signed body with 200 or 400. Each
//! property runs through `zoomvault_fuzz::check` on a 2 MiB stack; the case
//! counts are in each test's doc comment.

use crate::document::{self, RecordingDocument};
use crate::fixtures::{self, RecordingStarter};
use crate::keys::{
    execution_name, forced_execution_name, validate_key, FileIdentity, FileKey, RecordingKeys,
    DISPOSITIONS_PREFIX, MAX_EXECUTION_NAME_LEN, MAX_KEY_LEN, RECORDINGS_PREFIX,
};
use crate::local::DirObjectStore;
use crate::ports::object_store::Error as ObjectStoreError;
use crate::ports::ObjectStore;
use bytes::Bytes;
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::path::{Component, Path};
use time::{OffsetDateTime, UtcOffset};
use zoomvault_fuzz::{check, linear};

/// Text an attacker would try in a name: traversal in every spelling,
/// separators, NUL and other controls, bidirectional overrides, and
/// characters that change under Unicode normalisation.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just(".."),
        Just("."),
        Just("/"),
        Just("\\"),
        Just("../"),
        Just("..\\"),
        Just("%2e%2e"),
        Just("%2F"),
        Just("%00"),
        Just("\0"),
        Just("\n"),
        Just("\u{202e}"),
        Just("\u{2066}"),
        Just("\u{200b}"),
        Just("\u{ff0e}\u{ff0e}"),
        Just("\u{2024}\u{2024}"),
        Just("C:"),
        Just("~"),
        Just("a"),
        Just("+"),
        Just("="),
        Just("-"),
        Just("_"),
    ];
    prop_oneof![
        4 => prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat()),
        2 => "\\PC{0,40}",
        1 => "[A-Za-z0-9+/=]{1,30}",
        1 => ".{0,20}",
        1 => (1usize..600).prop_map(|n| "/..".repeat(n)),
    ]
}

/// What `validate_key` promises, checked here without it: a relative
/// path of plain segments that every file system reads the same way.
fn assert_inside(key: &str, prefix: &str) -> Result<(), TestCaseError> {
    prop_assert!(key.starts_with(prefix), "{key:?} is outside {prefix:?}");
    prop_assert!(key.len() <= MAX_KEY_LEN, "{key:?}");
    prop_assert!(validate_key(key).is_ok(), "{key:?}");
    prop_assert!(
        key.bytes()
            .all(|b| b == b'/' || b.is_ascii_alphanumeric() || b"._=-".contains(&b)),
        "{key:?}"
    );
    prop_assert!(
        Path::new(key)
            .components()
            .all(|c| matches!(c, Component::Normal(_))),
        "{key:?}"
    );
    prop_assert!(
        !key.split('/')
            .any(|s| s.is_empty() || s == "." || s == ".."),
        "{key:?}"
    );
    Ok(())
}

#[derive(Debug, Clone)]
struct Identity {
    uuid: String,
    meeting_id: u64,
    start: OffsetDateTime,
    recording_type: Option<String>,
    file_type: String,
    file_id: Option<String>,
    position: usize,
    extension: String,
    forced_at: u64,
}

fn identity() -> impl Strategy<Value = Identity> {
    let start = (
        (-9999i32 * 365)..(9999 * 365),
        0i64..86_400,
        -86_399i32..86_400,
    )
        .prop_map(|(days, seconds, offset)| {
            let date = time::Date::from_julian_day(days + 1_721_426).expect("in range");
            let offset = UtcOffset::from_whole_seconds(offset).unwrap_or(UtcOffset::UTC);
            let utc = date.midnight().assume_utc() + time::Duration::seconds(seconds);
            utc.checked_to_offset(offset).unwrap_or(utc)
        });
    (
        (hostile_text(), any::<u64>(), start),
        (
            prop::option::of(hostile_text()),
            hostile_text(),
            prop::option::of(hostile_text()),
            any::<usize>(),
        ),
        (
            prop_oneof![3 => "[A-Za-z0-9]{1,16}", 1 => hostile_text()],
            any::<u64>(),
        ),
    )
        .prop_map(
            |(
                (uuid, meeting_id, start),
                (recording_type, file_type, file_id, position),
                (extension, forced_at),
            )| {
                Identity {
                    uuid,
                    meeting_id,
                    start,
                    recording_type,
                    file_type,
                    file_id,
                    position,
                    extension,
                    forced_at,
                }
            },
        )
}

/// 2000 cases: every key derived from a hostile identity is refused or lies
/// under `recordings/` (a disposition under `dispositions/`) in the
/// recording's own prefix, and every execution name is one Step Functions
/// takes.
#[test]
fn fuzz_keys_from_hostile_identities_stay_inside_the_prefix() {
    check(
        2000,
        identity,
        |identity| {
            linear(
                identity.uuid.len() + identity.file_type.len(),
                64,
                64 * 1024,
            )
        },
        |identity| {
            for name in [
                execution_name(&identity.uuid),
                forced_execution_name(&identity.uuid, identity.forced_at),
            ]
            .into_iter()
            .flatten()
            {
                prop_assert!(
                    !name.is_empty() && name.len() <= MAX_EXECUTION_NAME_LEN,
                    "{name:?}"
                );
                prop_assert!(
                    name.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._=-".contains(&b)),
                    "{name:?}"
                );
            }
            let Ok(keys) = RecordingKeys::new(identity.start, identity.meeting_id, &identity.uuid)
            else {
                return Ok(());
            };
            let prefix = keys.recording_prefix().to_owned();
            assert_inside(&format!("{prefix}x"), RECORDINGS_PREFIX)?;
            prop_assert_eq!(prefix.matches('/').count(), 6, "{}", prefix);
            for key in [
                keys.document(),
                keys.raw_event(),
                keys.meeting_metadata(),
                keys.failure(),
            ] {
                assert_inside(&key, &prefix)?;
            }
            assert_inside(&keys.disposition(identity.start), DISPOSITIONS_PREFIX)?;
            let file = FileKey::new(&FileIdentity {
                recording_type: identity.recording_type.as_deref(),
                file_type: &identity.file_type,
                zoom_file_id: identity.file_id.as_deref(),
                position: identity.position,
            });
            if let Ok(file) = file {
                assert_inside(&keys.file_metadata(&file), &format!("{prefix}meta/files/"))?;
                if let Ok(key) = keys.file(&file, &identity.extension) {
                    assert_inside(&key, &format!("{prefix}files/"))?;
                }
                // A file key read back from a workflow's state is accepted as
                // it was written.
                prop_assert!(FileKey::try_from(file.as_str().to_owned()).is_ok());
            }
            Ok(())
        },
    );
}

/// 2000 cases: a file key read back from a workflow's state (hostile text)
/// is refused or is one safe segment.
#[test]
fn fuzz_keys_file_keys_read_back_from_state() {
    check(
        2000,
        hostile_text,
        |text| linear(text.len(), 16, 16 * 1024),
        |text| {
            if let Ok(file) = FileKey::try_from(text) {
                assert_inside(&format!("x/{}", file.as_str()), "x/")?;
                prop_assert!(!file.as_str().contains('/'));
            }
            Ok(())
        },
    );
}

/// A key or prefix as a caller of the store might pass it.
fn store_key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::collection::vec(
            prop_oneof![
                4 => "[a-z0-9=_-]{1,6}".boxed(),
                1 => Just(".".to_owned()).boxed(),
                1 => Just("..".to_owned()).boxed(),
                1 => Just(String::new()).boxed(),
                1 => Just(".x".to_owned()).boxed(),
                1 => Just("..x".to_owned()).boxed(),
                1 => hostile_text().boxed(),
            ],
            1..6,
        )
        .prop_map(|segments| segments.join("/")),
        1 => hostile_text(),
    ]
}

#[derive(Debug, Clone)]
enum StoreCall {
    Put(String),
    Get(String),
    Head(String),
    Delete(String),
    List(String),
    ListPrefixes(String),
    CreateMultipart(String),
}

fn store_calls() -> impl Strategy<Value = Vec<StoreCall>> {
    prop::collection::vec(
        prop_oneof![
            4 => store_key().prop_map(StoreCall::Put),
            1 => store_key().prop_map(StoreCall::Get),
            1 => store_key().prop_map(StoreCall::Head),
            1 => store_key().prop_map(StoreCall::Delete),
            1 => store_key().prop_map(StoreCall::List),
            1 => store_key().prop_map(StoreCall::ListPrefixes),
            1 => store_key().prop_map(StoreCall::CreateMultipart),
        ],
        1..12,
    )
}

/// A key `validate_key` refuses is refused as such, before the disk; a
/// valid key may still fail on the disk (a directory cannot also be a
/// file, where S3 would keep `a` and `a/b` side by side), but never as a
/// refused key.
fn refused_exactly_when_invalid(
    key: &str,
    error: Option<&ObjectStoreError>,
) -> Result<(), TestCaseError> {
    let refused = matches!(error, Some(ObjectStoreError::Key(_)));
    prop_assert_eq!(
        refused,
        validate_key(key).is_err(),
        "{:?}: {:?}",
        key,
        error
    );
    Ok(())
}

/// Every file under `dir`, without following links.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => pending.push(path),
                _ => found.push(path),
            }
        }
    }
    found
}

/// 256 cases: a run of store calls with hostile keys and prefixes writes
/// nothing outside the store's root, every object it reports lies under
/// `objects/` at the path its key names, and a call with a key that
/// `validate_key` refuses fails without touching the disk.
#[test]
fn fuzz_dir_store_never_resolves_a_key_outside_its_root() {
    check(
        256,
        store_calls,
        // The store's blocking threads allocate; this thread only awaits them.
        |_| 32 * 1024 * 1024,
        |calls| {
            let outer = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
            let root = outer.path().join("store");
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let store =
                DirObjectStore::open(&root).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut written = Vec::new();
            runtime.block_on(async {
                for call in &calls {
                    match call {
                        StoreCall::Put(key) => {
                            let outcome =
                                store.put(key, Bytes::from_static(b"x"), "text/plain").await;
                            refused_exactly_when_invalid(key, outcome.as_ref().err())?;
                            if outcome.is_ok() {
                                written.push(key.clone());
                            }
                        }
                        StoreCall::Get(key) => drop(store.get(key).await),
                        StoreCall::Head(key) => drop(store.head(key).await),
                        StoreCall::Delete(key) => {
                            if store.delete(key).await.is_ok() {
                                written.retain(|k| k != key);
                            }
                        }
                        StoreCall::List(prefix) => {
                            for object in store.list(prefix).await.unwrap_or_default() {
                                prop_assert!(validate_key(&object.key).is_ok(), "{:?}", object.key);
                                prop_assert!(object.key.starts_with(prefix.as_str()));
                            }
                        }
                        StoreCall::ListPrefixes(prefix) => {
                            for level in store.list_prefixes(prefix).await.unwrap_or_default() {
                                prop_assert!(level.starts_with(prefix.as_str()));
                                assert_inside(&format!("{level}x"), "")?;
                            }
                        }
                        StoreCall::CreateMultipart(key) => {
                            let outcome = store.create_multipart(key, "text/plain").await;
                            refused_exactly_when_invalid(key, outcome.as_ref().err())?;
                        }
                    }
                }
                Ok(())
            })?;
            let canonical_root = root
                .canonicalize()
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            for file in files_under(outer.path()) {
                let canonical = file.canonicalize().unwrap_or(file.clone());
                prop_assert!(canonical.starts_with(&canonical_root), "{}", file.display());
            }
            for key in &written {
                let path = canonical_root.join("objects").join(key);
                prop_assert!(path.is_file(), "{}", path.display());
                let canonical = path
                    .canonicalize()
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert!(canonical.starts_with(canonical_root.join("objects")));
            }
            Ok(())
        },
    );
}

/// A value of some JSON type, often not the one a field wants.
fn junk() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        Just(json!(1e308)),
        Just(json!(-0.0)),
        hostile_text().prop_map(Value::String),
        Just(json!("2024-02-30T25:00:00Z")),
        Just(json!("../../etc/passwd")),
        Just(Value::String("x".repeat(70_000))),
        Just(json!([])),
        Just(json!({})),
        (0usize..120).prop_map(|levels| {
            let mut value = json!(0);
            for _ in 0..levels {
                value = Value::Array(vec![value]);
            }
            value
        }),
    ]
}

/// Every JSON pointer in `value`, the document itself first.
fn pointers(value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![(String::new(), value)];
    while let Some((pointer, value)) = pending.pop() {
        match value {
            Value::Object(fields) => pending.extend(fields.iter().map(|(k, v)| {
                (
                    format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1")),
                    v,
                )
            })),
            Value::Array(items) => pending.extend(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (format!("{pointer}/{i}"), v)),
            ),
            _ => {}
        }
        found.push(pointer);
    }
    found
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, Value),
    Remove(usize),
    Insert(usize, String, Value),
    DuplicateFile,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), junk()).prop_map(|(at, v)| Mutation::Replace(at, v)),
        2 => any::<usize>().prop_map(Mutation::Remove),
        1 => (any::<usize>(), "[a-z_]{1,10}", junk()).prop_map(|(at, k, v)| Mutation::Insert(at, k, v)),
        1 => Just(Mutation::DuplicateFile),
    ]
}

/// A valid document from the fixtures, a hostile topic and UUID put in,
/// then mutated at random places.
fn mutated_document() -> impl Strategy<Value = Value> {
    (
        0u64..1000,
        hostile_text(),
        prop::option::weighted(0.3, hostile_text()),
        prop::collection::vec(mutation(), 0..4),
    )
        .prop_map(|(n, topic, uuid, mutations)| {
            let mut value =
                serde_json::to_value(fixtures::document(n, 30)).expect("a fixture serialises");
            value["meeting"]["topic"] = Value::String(topic);
            if let Some(uuid) = uuid {
                value["meeting"]["uuid"] = Value::String(uuid);
            }
            for mutation in mutations {
                let all = pointers(&value);
                match mutation {
                    Mutation::Replace(at, junk) => {
                        if let Some(target) = value.pointer_mut(&all[at % all.len()]) {
                            *target = junk;
                        }
                    }
                    Mutation::Remove(at) => {
                        let pointer = &all[at % all.len()];
                        if let Some((parent, last)) = pointer.rsplit_once('/') {
                            match value.pointer_mut(parent) {
                                Some(Value::Object(fields)) => {
                                    fields.remove(&last.replace("~1", "/").replace("~0", "~"));
                                }
                                Some(Value::Array(items)) => {
                                    if let Ok(i) = last.parse::<usize>() {
                                        if i < items.len() {
                                            items.remove(i);
                                        }
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                    Mutation::Insert(at, key, junk) => {
                        if let Some(Value::Object(fields)) = value.pointer_mut(&all[at % all.len()])
                        {
                            fields.insert(key, junk);
                        }
                    }
                    Mutation::DuplicateFile => {
                        if let Some(Value::Array(files)) = value.pointer_mut("/files") {
                            if let Some(first) = files.first().cloned() {
                                files.push(first);
                            }
                        }
                    }
                }
            }
            value
        })
}

/// Compiles the document schema (once per process, about 1.3 MiB) on the
/// runner's thread, so no case is charged for it.
fn warm_up_the_schema() {
    let _ = document::validate(&json!({}));
}

/// 600 cases: a mutated document is refused with violations that each name
/// a pointer, or accepted; an accepted one names only safe keys under its
/// own recording prefix (whatever its topic), and writes and reads back as
/// the same document.
#[test]
fn fuzz_document_validation_of_mutated_documents() {
    check(
        600,
        || {
            warm_up_the_schema();
            mutated_document()
        },
        // The schema validator's errors and the typed copy, a few times the text.
        |value| linear(value.to_string().len(), 64, 4 * 1024 * 1024),
        |value| {
            match document::validate(&value) {
                Ok(document) => {
                    let keys = RecordingKeys::for_document(&document)
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    assert_inside(&keys.document(), keys.recording_prefix())?;
                    for file in &document.files {
                        assert_inside(
                            &file.storage_key,
                            &format!("{}files/", keys.recording_prefix()),
                        )?;
                    }
                    let text = document
                        .to_json()
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    let again = RecordingDocument::from_json(&text)
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    prop_assert_eq!(again, document);
                }
                Err(document::Error::Invalid(violations)) => {
                    prop_assert!(!violations.is_empty());
                    for violation in &violations {
                        prop_assert!(
                            violation.pointer.is_empty() || violation.pointer.starts_with('/'),
                            "{violation}"
                        );
                    }
                }
                Err(other) => return Err(TestCaseError::fail(other.to_string())),
            }
            Ok(())
        },
    );
}

/// 1000 cases: any bytes as a stored `recording.json`.
#[test]
fn fuzz_document_from_random_bytes() {
    check(
        1000,
        || {
            warm_up_the_schema();
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..400),
                prop::collection::vec(
                    prop::sample::select(b"{}[]\":,0123456789.eE+-tfnul meeting files".to_vec()),
                    0..400
                ),
            ]
        },
        |bytes| linear(bytes.len(), 64, 1024 * 1024),
        |bytes| {
            let _ = RecordingDocument::from_json(&bytes);
            Ok(())
        },
    );
}

/// A `recording.completed` event with hostile parts, as bytes.
fn webhook_body() -> impl Strategy<Value = Vec<u8>> {
    let object = (
        prop_oneof![2 => hostile_text().prop_map(Value::String), 1 => junk()],
        prop_oneof![3 => any::<u64>().prop_map(Value::from), 1 => junk()],
        hostile_text(),
        prop::collection::vec(
            (prop::option::of(hostile_text()), prop::option::of(hostile_text()), junk()),
            0..4,
        ),
    )
        .prop_map(|(uuid, id, topic, files)| {
            let files: Vec<Value> = files
                .into_iter()
                .map(|(id, kind, size)| json!({"id": id, "recording_type": kind, "file_size": size, "file_type": "MP4"}))
                .collect();
            json!({"uuid": uuid, "id": id, "topic": topic, "start_time": "2024-03-05T10:00:00Z", "recording_files": files})
        });
    (
        prop_oneof![4 => Just("recording.completed".to_owned()), 1 => Just("endpoint.url_validation".to_owned()), 1 => hostile_text()],
        object,
        prop::option::of(hostile_text()),
    )
        .prop_map(|(event, object, token)| {
            let mut envelope = Map::new();
            envelope.insert("event".into(), Value::String(event));
            envelope.insert("payload".into(), json!({"object": object, "plainToken": "p"}));
            if let Some(token) = token {
                envelope.insert("download_token".into(), Value::String(token));
            }
            Value::Object(envelope).to_string().into_bytes()
        })
}

/// 500 cases: a correctly signed webhook with a hostile body is answered
/// 200 or 400, never a panic; what it starts is named by a valid execution
/// name, and its input keeps no download token in the stored event.
#[test]
fn fuzz_archive_webhook_handle_signed_hostile_bodies() {
    check(
        500,
        webhook_body,
        |body| linear(body.len(), 64, 1024 * 1024),
        |body| {
            let verifier = zoomvault_zoom::WebhookVerifier::new("fuzz-secret".to_owned());
            let starter = RecordingStarter::default();
            let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).expect("in range");
            let signature =
                zoomvault_zoom::webhook::sign(verifier.secret_token(), now.unix_timestamp(), &body);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let reply = runtime.block_on(crate::webhook::handle(
                &verifier,
                &starter,
                Some(&now.unix_timestamp().to_string()),
                Some(&signature),
                &body,
                now,
            ));
            prop_assert!(matches!(reply.status, 200 | 400), "{:?}", reply);
            for (name, input, _) in starter.calls() {
                prop_assert!(!name.is_empty() && name.len() <= MAX_EXECUTION_NAME_LEN);
                prop_assert!(
                    name.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._=-".contains(&b)),
                    "{name:?}"
                );
                prop_assert!(input.pointer("/event/download_token").is_none());
            }
            Ok(())
        },
    );
}
