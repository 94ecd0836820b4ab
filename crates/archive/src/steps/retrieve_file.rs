//! RetrieveFile: one file of a recording into the object store. A file Zoom
//! announces at no more than one part comes in one GET, held in memory, and
//! is stored with one `put`. A bigger file's parts are fetched by parallel
//! ranged GETs, each streamed straight into a multipart part; the
//! whole-file SHA-256 and CRC64NVME are computed on the way, in order, from
//! the same chunks. It must not hold a file bigger than a part in memory whole, nor
//! copy one to a temp file outside the store's own staging: at most
//! `part_concurrency` parts are buffered, and only while the hash catches up
//! with them.
//!
//! When the CDN ignores `Range` (answers 200), or Zoom announces no size,
//! the file comes in one streamed GET cut into parts. Size is verified
//! against Zoom's announced size and the stored object; a body that is not
//! the file (an expired token's JSON or HTML) is refused by the Zoom client
//! before any byte is stored. A failed transfer aborts its upload; the
//! object appears only on completion, so a retry starts clean.
//!
//! Checksums: the CRC64NVME computed here from the bytes as they came is
//! the whole object's expected checksum at completion, where the store
//! composes its own from the parts it stored and refuses the object when
//! the two differ; so the recorded `crc64nvme` is of the bytes received
//! and of the bytes stored. The SHA-256 is kept too, because this step
//! reads the file in order; a file fanned out over several workers will
//! have only the CRC, which composes from parts and SHA-256 does not.

use super::{
    parse, put_json, to_value, FilePlan, RecordingRef, RetrievedFile, StepContext, StepError,
};
use crate::checksum::{Crc64Nvme, Crc64NvmeDigest};
use crate::ports::{CompletedPart, PartBody, PartNumber, UploadId, UploadShape};
use bytes::{Bytes, BytesMut};
use futures_util::{StreamExt, TryStreamExt};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::future::Future;
use std::pin::Pin;
use tokio::sync::{mpsc, watch};
use tracing::Instrument;
use zoomvault_zoom::{ByteRange, Download, DownloadAuth, DownloadStatus};

#[derive(Debug, Deserialize)]
struct Payload {
    recording: RecordingRef,
    file: FilePlan,
}

/// The step. Payload: `{"recording", "file": FilePlan}` (the
/// Map's item). Result: `RetrievedFile`, also written as the file's
/// metadata object.
pub async fn retrieve_file(ctx: &StepContext, payload: Value) -> Result<Value, StepError> {
    let Payload { recording, file } = parse("RetrieveFile", payload)?;
    let span = tracing::info_span!(
        "retrieve_file",
        recording_uuid = %recording.uuid,
        file = %file.storage_key
    );
    retrieve(ctx, file).instrument(span).await
}

/// Downloads use the OAuth access token, never the webhook's
/// `download_token`: that token would have to travel in the execution's
/// input and history, where anyone who may read executions would see it.
async fn retrieve(ctx: &StepContext, file: FilePlan) -> Result<Value, StepError> {
    if let Some(done) = already_retrieved(ctx, &file).await? {
        return Ok(to_value(&done));
    }
    let result = fetch(ctx, &file, &file.download_url, &DownloadAuth::OAuth).await?;
    put_json(ctx, &file.metadata_key, &result).await?;
    Ok(to_value(&result))
}

/// A previous attempt finished this file if its metadata object exists and
/// the stored object has the recorded size.
pub(super) async fn already_retrieved(
    ctx: &StepContext,
    file: &FilePlan,
) -> Result<Option<RetrievedFile>, StepError> {
    if ctx.store.head(&file.metadata_key).await?.is_none() {
        return Ok(None);
    }
    let bytes = ctx.store.get(&file.metadata_key).await?;
    let Ok(done) = serde_json::from_slice::<RetrievedFile>(&bytes) else {
        return Ok(None);
    };
    let stored = ctx.store.head(&file.storage_key).await?;
    Ok(match stored {
        Some(meta) if meta.size == done.file.size_bytes && done.verified => {
            discard_stale_uploads(ctx, file).await;
            Some(done)
        }
        _ => None,
    })
}

/// Aborts every upload to the file's key: once its object is complete,
/// any upload still there was left by an attempt that was cut short (its
/// process killed mid-transfer, or its result lost after it began an
/// upload, so the attempt run again began another) and will never be
/// completed. A failure here only leaves them to the store's own cleanup
/// (the directory store's sweep, S3's lifecycle rule), so it is logged.
pub(super) async fn discard_stale_uploads(ctx: &StepContext, file: &FilePlan) {
    let uploads = match ctx.store.list_uploads(&file.storage_key).await {
        Ok(uploads) => uploads,
        Err(e) => {
            tracing::warn!(error = %e, key = %file.storage_key, "could not list stale uploads");
            return;
        }
    };
    for upload in uploads {
        tracing::info!(key = %file.storage_key, upload = %upload, "discarding an upload an interrupted attempt left");
        abort(ctx, file, &upload).await;
    }
}

/// What a transfer produced, before completion.
struct Transferred {
    parts: Vec<CompletedPart>,
    size: u64,
    sha256: String,
    crc64nvme: Crc64Nvme,
    transfer: &'static str,
}

/// Fetches the file into a new multipart upload, completes it and checks
/// the stored size. Any failure aborts the upload.
async fn fetch(
    ctx: &StepContext,
    file: &FilePlan,
    url: &str,
    auth: &DownloadAuth,
) -> Result<RetrievedFile, StepError> {
    if let Some(size) = file.announced_size {
        if size <= file.part_size {
            return fetch_small(ctx, file, url, auth, size).await;
        }
    }
    // With the size known, the store may put every part straight where it
    // belongs (the directory store then writes the file once, in place).
    let upload = match file.announced_size {
        Some(total_size) if total_size > 0 => {
            let shape = UploadShape {
                total_size,
                part_size: file.part_size.max(1),
            };
            ctx.store
                .create_multipart_shaped(&file.storage_key, &file.content_type, shape)
                .await?
        }
        _ => {
            ctx.store
                .create_multipart(&file.storage_key, &file.content_type)
                .await?
        }
    };
    let outcome = transfer(ctx, file, url, auth, &upload).await;
    let transferred = match outcome {
        Ok(t) => t,
        Err(e) => {
            abort(ctx, file, &upload).await;
            return Err(e);
        }
    };
    if let Some(announced) = file.announced_size {
        if transferred.size != announced {
            abort(ctx, file, &upload).await;
            return Err(size_mismatch(file, announced, transferred.size));
        }
    }
    let stored = if transferred.size == 0 {
        // S3 needs at least one part; an empty file is a plain put.
        abort(ctx, file, &upload).await;
        ctx.store
            .put(&file.storage_key, Bytes::new(), &file.content_type)
            .await?
    } else {
        let completed = ctx
            .store
            .complete_multipart(
                &file.storage_key,
                &upload,
                &transferred.parts,
                transferred.crc64nvme,
            )
            .await;
        match completed {
            Ok(stored) => {
                discard_stale_uploads(ctx, file).await;
                stored
            }
            Err(e) => {
                // A refused completion (a checksum mismatch) leaves the
                // upload behind on some stores; a retry starts a new one.
                abort(ctx, file, &upload).await;
                return Err(e.into());
            }
        }
    };
    check_stored(file, stored.size, transferred.size)?;
    Ok(retrieved(
        file,
        transferred.size,
        Some(transferred.sha256),
        transferred.crc64nvme,
        transferred.transfer,
    ))
}

/// A file no bigger than one part (transcripts, chats, short audio): one
/// GET into memory (at most `part_size` bytes) and one `put`, without the
/// bookkeeping of a multipart upload.
async fn fetch_small(
    ctx: &StepContext,
    file: &FilePlan,
    url: &str,
    auth: &DownloadAuth,
    announced: u64,
) -> Result<RetrievedFile, StepError> {
    let response = ctx.zoom.download(url, auth, None).await?;
    let mut stream = response.stream;
    let mut body = BytesMut::with_capacity(announced as usize);
    while let Some(chunk) = stream.next().await.transpose()? {
        if body.len() as u64 + chunk.len() as u64 > announced {
            return Err(size_mismatch(
                file,
                announced,
                body.len() as u64 + chunk.len() as u64,
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let size = body.len() as u64;
    if size != announced {
        return Err(size_mismatch(file, announced, size));
    }
    let sha256 = hex::encode(Sha256::digest(&body));
    let crc64nvme = Crc64Nvme::of(&body);
    let stored = ctx
        .store
        .put(&file.storage_key, body.freeze(), &file.content_type)
        .await?;
    check_stored(file, stored.size, size)?;
    Ok(retrieved(file, size, Some(sha256), crc64nvme, "single"))
}

/// The store must hold exactly the bytes that came.
fn check_stored(file: &FilePlan, stored: u64, received: u64) -> Result<(), StepError> {
    if stored == received {
        return Ok(());
    }
    Err(StepError::new(
        "Ingest.SizeMismatch",
        format!(
            "{}: stored object has {stored} bytes, {received} were received",
            file.storage_key
        ),
    ))
}

pub(super) fn retrieved(
    file: &FilePlan,
    size: u64,
    sha256: Option<String>,
    crc64nvme: Crc64Nvme,
    transfer: &str,
) -> RetrievedFile {
    RetrievedFile {
        position: file.position,
        file_key: file.file_key.clone(),
        verified: true,
        transfer: transfer.to_string(),
        file: crate::document::RecordingFile {
            zoom_file_id: file.zoom_file_id.clone(),
            recording_type: file.recording_type.clone(),
            file_type: file.file_type.clone(),
            extension: file.extension.clone(),
            size_bytes: size,
            crc64nvme,
            sha256,
            storage_key: file.storage_key.clone(),
            content_type: file.content_type.clone(),
            recording_start: file.recording_start,
            recording_end: file.recording_end,
        },
    }
}

async fn abort(ctx: &StepContext, file: &FilePlan, upload: &UploadId) {
    if let Err(e) = ctx.store.abort_multipart(&file.storage_key, upload).await {
        // Leftover staging is swept later; the failure that led here is
        // what the caller must see.
        tracing::warn!(error = %e, key = %file.storage_key, "could not abort multipart upload");
    }
}

pub(super) fn size_mismatch(file: &FilePlan, announced: u64, received: u64) -> StepError {
    StepError::new(
        "Ingest.SizeMismatch",
        format!(
            "{}: Zoom announced {announced} bytes, the download has {received}",
            file.storage_key
        ),
    )
}

async fn transfer(
    ctx: &StepContext,
    file: &FilePlan,
    url: &str,
    auth: &DownloadAuth,
    upload: &UploadId,
) -> Result<Transferred, StepError> {
    let part_size = file.part_size.max(1);
    match file.announced_size {
        Some(size) if size > 0 => {
            let first = ByteRange::from_offset_len(0, part_size.min(size))
                .expect("a non-empty first range");
            let response = ctx.zoom.download(url, auth, Some(first)).await?;
            match response.status {
                DownloadStatus::RangeHonoured => {
                    if response.total_size != Some(size) {
                        return Err(size_mismatch(
                            file,
                            size,
                            response.total_size.unwrap_or_default(),
                        ));
                    }
                    ranged(ctx, file, url, auth, upload, response, size).await
                }
                DownloadStatus::WholeFile => whole(ctx, file, upload, response).await,
            }
        }
        _ => {
            let response = ctx.zoom.download(url, auth, None).await?;
            whole(ctx, file, upload, response).await
        }
    }
}

type PartFuture<'a> = Pin<Box<dyn Future<Output = Result<CompletedPart, StepError>> + Send + 'a>>;

/// Parallel ranged GETs, each streamed into its part. Every chunk is also
/// handed to the hashing task, which consumes part 1, then part 2, ...; a
/// part may start only when the part `part_concurrency` places before it is
/// hashed, which bounds what waits in memory to that many parts.
async fn ranged(
    ctx: &StepContext,
    file: &FilePlan,
    url: &str,
    auth: &DownloadAuth,
    upload: &UploadId,
    first: Download,
    size: u64,
) -> Result<Transferred, StepError> {
    let part_size = file.part_size.max(1);
    let count = size.div_ceil(part_size) as usize;
    let window = ctx.config.part_concurrency.max(1);
    let (hashed_tx, hashed_rx) = watch::channel(0usize);
    let mut senders = Vec::with_capacity(count);
    let mut receivers = Vec::with_capacity(count);
    for _ in 0..count {
        let (tx, rx) = mpsc::unbounded_channel::<Bytes>();
        senders.push(tx);
        receivers.push(rx);
    }
    // The hashes are the one strictly sequential job of a transfer and are
    // bound by the CPU (see BENCHMARKS.md), so it runs on its own thread: on
    // a runtime worker it would hold up, while it caught up on a part, the
    // downloads sharing that worker.
    let hasher = tokio::task::spawn_blocking(move || {
        let mut hasher = Sha256::new();
        let mut crc = Crc64NvmeDigest::new();
        let mut total = 0u64;
        for (i, mut rx) in receivers.into_iter().enumerate() {
            while let Some(chunk) = rx.blocking_recv() {
                total += chunk.len() as u64;
                hasher.update(&chunk);
                crc.update(&chunk);
            }
            let _ = hashed_tx.send(i + 1);
        }
        (total, hex::encode(hasher.finalize()), crc.finish())
    });
    // A blocking task cannot be aborted; this one ends by itself once every
    // part's sender is gone, as on an early return from here.

    let mut first = Some(first);
    let mut futures: Vec<PartFuture<'_>> = Vec::with_capacity(count);
    for (i, tx) in senders.into_iter().enumerate() {
        let offset = i as u64 * part_size;
        let len = part_size.min(size - offset);
        let range = ByteRange::from_offset_len(offset, len).expect("non-empty part range");
        let preloaded = first.take();
        let mut hashed = hashed_rx.clone();
        futures.push(Box::pin(async move {
            if i >= window {
                let _ = hashed.wait_for(|&done| done > i - window).await;
            }
            let response = match preloaded {
                Some(response) => response,
                None => ctx.zoom.download(url, auth, Some(range)).await?,
            };
            if response.status != DownloadStatus::RangeHonoured
                || response.content_length.is_some_and(|l| l != len)
            {
                return Err(StepError::new(
                    "Zoom.Transient",
                    format!(
                        "{}: part {} (bytes {}-{}) came back as {:?} with {:?} bytes",
                        file.storage_key,
                        i + 1,
                        range.first(),
                        range.last(),
                        response.status,
                        response.content_length
                    ),
                ));
            }
            let stream = response.stream.map(move |chunk| match chunk {
                Ok(bytes) => {
                    let _ = tx.send(bytes.clone());
                    Ok(bytes)
                }
                Err(e) => Err(std::io::Error::other(e)),
            });
            let number = PartNumber::new(i as u32 + 1)?;
            let part = ctx
                .store
                .put_part(
                    &file.storage_key,
                    upload,
                    number,
                    PartBody::new(len, Box::pin(stream)),
                )
                .await
                .map_err(|e| body_error(file, i, e))?;
            Ok(part)
        }));
    }
    let mut parts: Vec<CompletedPart> = futures_util::stream::iter(futures)
        .buffer_unordered(window)
        .try_collect()
        .await?;
    parts.sort_by_key(|p| p.part_number);
    let (hashed_bytes, sha256, crc64nvme) = hasher
        .await
        .map_err(|e| StepError::new("Ingest.Internal", format!("hashing task failed: {e}")))?;
    if hashed_bytes != size {
        return Err(size_mismatch(file, size, hashed_bytes));
    }
    Ok(Transferred {
        parts,
        size,
        sha256,
        crc64nvme,
        transfer: "ranged",
    })
}

/// One streamed GET cut into parts of `part_size`: each part is gathered in
/// memory (one part at a time), hashed and uploaded.
async fn whole(
    ctx: &StepContext,
    file: &FilePlan,
    upload: &UploadId,
    response: Download,
) -> Result<Transferred, StepError> {
    let part_size = file.part_size.max(1) as usize;
    let mut stream = response.stream;
    let mut hasher = Sha256::new();
    let mut crc = Crc64NvmeDigest::new();
    let mut buffer = BytesMut::with_capacity(part_size);
    let mut parts = Vec::new();
    let mut size = 0u64;
    loop {
        let chunk = stream.next().await.transpose()?;
        let done = chunk.is_none();
        if let Some(mut chunk) = chunk {
            size += chunk.len() as u64;
            if let Some(announced) = file.announced_size {
                if size > announced {
                    return Err(size_mismatch(file, announced, size));
                }
            }
            hasher.update(&chunk);
            crc.update(&chunk);
            while !chunk.is_empty() {
                let take = (part_size - buffer.len()).min(chunk.len());
                buffer.extend_from_slice(&chunk.split_to(take));
                if buffer.len() == part_size {
                    let body = buffer.split().freeze();
                    parts.push(put_buffered(ctx, file, upload, parts.len(), body).await?);
                }
            }
        }
        if done {
            break;
        }
    }
    if let Some(announced) = file.announced_size {
        if size != announced {
            return Err(size_mismatch(file, announced, size));
        }
    }
    if !buffer.is_empty() {
        let body = buffer.split().freeze();
        parts.push(put_buffered(ctx, file, upload, parts.len(), body).await?);
    }
    Ok(Transferred {
        parts,
        size,
        sha256: hex::encode(hasher.finalize()),
        crc64nvme: crc.finish(),
        transfer: "whole",
    })
}

async fn put_buffered(
    ctx: &StepContext,
    file: &FilePlan,
    upload: &UploadId,
    index: usize,
    body: Bytes,
) -> Result<CompletedPart, StepError> {
    let number = PartNumber::new(index as u32 + 1)?;
    ctx.store
        .put_part(
            &file.storage_key,
            upload,
            number,
            PartBody::from_bytes(body),
        )
        .await
        .map_err(|e| body_error(file, index, e))
}

/// A part's body failing mid-stream is the download breaking, which is
/// Zoom's (transient) side; other store errors keep their own names.
pub(super) fn body_error(
    file: &FilePlan,
    index: usize,
    e: crate::ports::object_store::Error,
) -> StepError {
    use crate::ports::object_store::Error as StoreError;
    match e {
        StoreError::Body { .. } | StoreError::BodyTooShort { .. } => StepError::new(
            "Zoom.Transient",
            format!(
                "{}: part {} download broke off: {e}",
                file.storage_key,
                index + 1
            ),
        ),
        other => other.into(),
    }
}
