//! The fan-out of one big file over several invocations, so that no
//! invocation moves more than `IngestConfig::invocation_bytes` (a Lambda
//! stops at 15 minutes; Zoom recordings reach tens of GiB). IngestMetadata
//! cuts such a file's parts into batches ([`plan_batches`]); the state
//! machine then runs BeginFile (one multipart upload), a Map of
//! RetrieveParts over the batches (each streams its ranged GETs straight
//! into multipart parts) and CompleteFile (joins and verifies).
//!
//! The whole-file checksum is S3's full-object CRC-64/NVME, because it
//! composes: each RetrieveParts computes the CRC of every part from the
//! bytes Zoom sent (never from what the store says it stored), checks it
//! against the store's CRC of that part, and answers its batch's CRC, the
//! parts' CRCs combined. CompleteFile combines the batches' CRCs in order
//! into the CRC the whole file must have and hands it to
//! `complete_multipart`, where the store (S3 itself, or the directory
//! store) composes its own from the parts it holds and refuses a mismatch.
//! A fanned-out file has no SHA-256: nothing reads it in order.
//!
//! Results stay small whatever the file's size (a Step Functions payload
//! is at most 256 KiB): a batch answers one line, and CompleteFile reads
//! the parts' etags from the store (`list_parts`), not from the workflow.

use super::retrieve_file::{
    already_retrieved, body_error, discard_stale_uploads, retrieved, size_mismatch,
};
use super::{parse, put_json, to_value, FilePlan, StepContext, StepError};
use crate::checksum::{compose, Crc64Nvme, Crc64NvmeDigest};
use crate::ports::{CompletedPart, PartBody, PartNumber, UploadId, UploadShape};
use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use zoomvault_zoom::{ByteRange, DownloadAuth, DownloadStatus};

/// A run of consecutive parts one RetrieveParts invocation uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartBatch {
    /// The first part's number (parts count from 1).
    pub first_part: u32,
    pub part_count: u32,
}

/// The batches of a file of `size` bytes in parts of `part_size`, when it
/// needs more than one invocation of at most `invocation_bytes` (rounded
/// down to whole parts, at least one); `None` when one invocation moves it
/// all (RetrieveFile then reads it in order).
pub fn plan_batches(size: u64, part_size: u64, invocation_bytes: u64) -> Option<Vec<PartBatch>> {
    let part_size = part_size.max(1);
    if size <= invocation_bytes.max(part_size) {
        return None;
    }
    let parts = size.div_ceil(part_size);
    let per_batch = (invocation_bytes / part_size).max(1);
    let mut batches = Vec::new();
    let mut first = 1u64;
    while first <= parts {
        let count = per_batch.min(parts - first + 1);
        batches.push(PartBatch {
            first_part: first as u32,
            part_count: count as u32,
        });
        first += count;
    }
    Some(batches)
}

/// What one RetrieveParts invocation uploaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchResult {
    pub first_part: u32,
    pub part_count: u32,
    pub size: u64,
    /// The CRC of the batch's bytes as Zoom sent them.
    pub crc64nvme: Crc64Nvme,
}

#[derive(Debug, Deserialize)]
struct BeginPayload {
    file: FilePlan,
}

/// BeginFile. Payload: `{"recording", "file"}` (the file's
/// Map item). Result: `{"upload_id"}` for a new upload, or
/// `{"retrieved": RetrievedFile}` when an earlier run finished the file.
pub async fn begin_file(ctx: &StepContext, payload: Value) -> Result<Value, StepError> {
    let BeginPayload { file } = parse("BeginFile", payload)?;
    if let Some(done) = already_retrieved(ctx, &file).await? {
        return Ok(json!({ "retrieved": done }));
    }
    let shape = fan_out_shape("BeginFile", &file)?;
    let upload = ctx
        .store
        .create_multipart_shaped(&file.storage_key, &file.content_type, shape)
        .await?;
    tracing::info!(key = %file.storage_key, upload = %upload, batches = file.batches.as_ref().map_or(0, Vec::len), "fan-out upload begun");
    Ok(json!({ "upload_id": upload }))
}

#[derive(Debug, Deserialize)]
struct PartsPayload {
    file: FilePlan,
    upload_id: UploadId,
    batch: PartBatch,
}

/// RetrieveParts. Payload: `{"recording", "file", "upload_id", "batch":
/// PartBatch}`. Result: `BatchResult`. Downloads with OAuth, as RetrieveFile.
pub async fn retrieve_parts(ctx: &StepContext, payload: Value) -> Result<Value, StepError> {
    let PartsPayload {
        file,
        upload_id,
        batch,
    } = parse("RetrieveParts", payload)?;
    let shape = fan_out_shape("RetrieveParts", &file)?;
    let last = u64::from(batch.first_part) + u64::from(batch.part_count) - 1;
    if batch.part_count == 0 || batch.first_part == 0 || last > shape.part_count() {
        return Err(StepError::invalid_input(
            "RetrieveParts",
            format!(
                "batch {}+{} is outside the file's {} parts",
                batch.first_part,
                batch.part_count,
                shape.part_count()
            ),
        ));
    }
    let result = upload_batch(
        ctx,
        &file,
        &file.download_url,
        &DownloadAuth::OAuth,
        &upload_id,
        shape,
        batch,
    )
    .await?;
    Ok(to_value(&result))
}

/// Streams each part of `batch` from a ranged GET into its multipart part,
/// `part_concurrency` at a time, checking each part's CRC from the download
/// against the store's.
async fn upload_batch(
    ctx: &StepContext,
    file: &FilePlan,
    url: &str,
    auth: &DownloadAuth,
    upload: &UploadId,
    shape: UploadShape,
    batch: PartBatch,
) -> Result<BatchResult, StepError> {
    let numbers = batch.first_part..batch.first_part + batch.part_count;
    let parts: Vec<(u32, u64, Crc64Nvme)> = futures_util::stream::iter(numbers)
        .map(|number| upload_part(ctx, file, url, auth, upload, shape, number))
        .buffered(ctx.config.part_concurrency.max(1))
        .try_collect()
        .await?;
    Ok(BatchResult {
        first_part: batch.first_part,
        part_count: batch.part_count,
        size: parts.iter().map(|(_, len, _)| len).sum(),
        crc64nvme: compose(parts.iter().map(|(_, len, crc)| (*crc, *len))),
    })
}

async fn upload_part(
    ctx: &StepContext,
    file: &FilePlan,
    url: &str,
    auth: &DownloadAuth,
    upload: &UploadId,
    shape: UploadShape,
    number: u32,
) -> Result<(u32, u64, Crc64Nvme), StepError> {
    let part_number = PartNumber::new(number)?;
    let (offset, len) = shape
        .part_range(part_number)
        .expect("batches are checked against the shape");
    let range = ByteRange::from_offset_len(offset, len).expect("a part is never empty");
    let response = ctx.zoom.download(url, auth, Some(range)).await?;
    // Zoom serves another file than it lists: no retry will change that.
    if let (Some(total), Some(announced)) = (response.total_size, file.announced_size) {
        if total != announced {
            return Err(size_mismatch(file, announced, total));
        }
    }
    let body = match response.status {
        DownloadStatus::RangeHonoured if response.content_length.is_some_and(|l| l != len) => {
            return Err(StepError::new(
                "Zoom.Transient",
                format!(
                    "{}: part {number} (bytes {}-{}) came back with {:?} bytes",
                    file.storage_key,
                    range.first(),
                    range.last(),
                    response.content_length,
                ),
            ));
        }
        DownloadStatus::RangeHonoured => response.stream,
        // A CDN that ignores Range sends the whole file: the part is cut
        // out of it.
        DownloadStatus::WholeFile => Box::pin(part_of_whole(response.stream, offset, len)),
    };
    let digest = Arc::new(Mutex::new(Crc64NvmeDigest::new()));
    let hashing = digest.clone();
    let stream = body.map(move |chunk| match chunk {
        Ok(bytes) => {
            hashing.lock().expect("digest lock").update(&bytes);
            Ok(bytes)
        }
        Err(e) => Err(std::io::Error::other(e)),
    });
    let stored: CompletedPart = ctx
        .store
        .put_part(
            &file.storage_key,
            upload,
            part_number,
            PartBody::new(len, Box::pin(stream)),
        )
        .await
        .map_err(|e| body_error(file, number as usize - 1, e))?;
    let downloaded = digest.lock().expect("digest lock").clone().finish();
    if stored.crc64nvme != Some(downloaded) {
        let stored = stored
            .crc64nvme
            .map_or_else(|| "unknown".to_string(), |crc| crc.to_string());
        return Err(StepError::new(
            "Ingest.ChecksumMismatch",
            format!(
                "{}: part {number} was downloaded with CRC64NVME {downloaded} but the store reports {stored}",
                file.storage_key
            ),
        ));
    }
    Ok((number, len, downloaded))
}

/// Bytes `offset..offset + len` of a stream of the whole file. The bytes
/// before the part are read and dropped, so a part far into a big file
/// costs the download of everything before it: the price of a CDN that
/// ignores Range, which Zoom's does not. The stream ends once the part is
/// complete, which closes the connection.
fn part_of_whole(
    whole: impl Stream<Item = zoomvault_zoom::Result<Bytes>>,
    offset: u64,
    len: u64,
) -> impl Stream<Item = zoomvault_zoom::Result<Bytes>> {
    let end = offset + len;
    whole
        .scan(0u64, move |position, chunk| {
            if *position >= end {
                return std::future::ready(None);
            }
            let part = chunk.map(|bytes| {
                let start = *position;
                *position += bytes.len() as u64;
                let clip = |at: u64| at.saturating_sub(start).min(bytes.len() as u64) as usize;
                bytes.slice(clip(offset)..clip(end))
            });
            std::future::ready(Some(part))
        })
        .try_filter(|bytes| std::future::ready(!bytes.is_empty()))
}

#[derive(Debug, Deserialize)]
struct CompletePayload {
    file: FilePlan,
    upload_id: UploadId,
    batches: Vec<BatchResult>,
}

/// CompleteFile. Payload: `{"file", "upload_id", "batches":
/// [BatchResult]}`. Result: `RetrievedFile`, also written as the file's
/// metadata object, as RetrieveFile's is.
pub async fn complete_file(ctx: &StepContext, payload: Value) -> Result<Value, StepError> {
    let CompletePayload {
        file,
        upload_id,
        mut batches,
    } = parse("CompleteFile", payload)?;
    // A retry after a completion that succeeded finds the file done.
    if let Some(done) = already_retrieved(ctx, &file).await? {
        return Ok(to_value(&done));
    }
    let shape = fan_out_shape("CompleteFile", &file)?;
    batches.sort_by_key(|b| b.first_part);
    let mut next_part = 1u64;
    for batch in &batches {
        if u64::from(batch.first_part) != next_part {
            return Err(StepError::invalid_input(
                "CompleteFile",
                format!(
                    "{}: the batches do not cover the parts in order (expected part {next_part}, got a batch from {})",
                    file.storage_key, batch.first_part
                ),
            ));
        }
        next_part += u64::from(batch.part_count);
    }
    let size: u64 = batches.iter().map(|b| b.size).sum();
    let whole = compose(batches.iter().map(|b| (b.crc64nvme, b.size)));
    let announced = match file.announced_size {
        Some(announced) if next_part - 1 == shape.part_count() => announced,
        _ => {
            return Err(StepError::invalid_input(
                "CompleteFile",
                format!(
                    "{}: the batches cover {} of the file's {} parts",
                    file.storage_key,
                    next_part - 1,
                    shape.part_count()
                ),
            ))
        }
    };
    if size != announced {
        return Err(StepError::new(
            "Ingest.SizeMismatch",
            format!(
                "{}: Zoom announced {announced} bytes, the batches hold {size}",
                file.storage_key
            ),
        ));
    }
    let listed = ctx.store.list_parts(&file.storage_key, &upload_id).await?;
    let mut parts = Vec::with_capacity(listed.len());
    for (i, part) in listed.into_iter().enumerate() {
        let expected_len = shape.part_range(part.part_number).map(|(_, len)| len);
        if part.part_number.get() as usize != i + 1 || expected_len != Some(part.size) {
            return Err(StepError::new(
                "Ingest.SizeMismatch",
                format!(
                    "{}: the upload holds part {} of {} bytes where part {} of {:?} bytes belongs",
                    file.storage_key,
                    part.part_number,
                    part.size,
                    i + 1,
                    expected_len
                ),
            ));
        }
        parts.push(CompletedPart::from(part));
    }
    if parts.len() as u64 != shape.part_count() {
        return Err(StepError::new(
            "Ingest.SizeMismatch",
            format!(
                "{}: the upload holds {} parts, the file has {}",
                file.storage_key,
                parts.len(),
                shape.part_count()
            ),
        ));
    }
    let stored = ctx
        .store
        .complete_multipart(&file.storage_key, &upload_id, &parts, whole)
        .await?;
    // A BeginFile whose result was lost (its process killed) began an
    // upload nobody will complete.
    discard_stale_uploads(ctx, &file).await;
    if stored.size != announced {
        return Err(StepError::new(
            "Ingest.SizeMismatch",
            format!(
                "{}: stored object has {} bytes, Zoom announced {announced}",
                file.storage_key, stored.size
            ),
        ));
    }
    let result = retrieved(&file, announced, None, whole, "fan-out");
    put_json(ctx, &file.metadata_key, &result).await?;
    Ok(to_value(&result))
}

/// A fanned-out file's upload layout; only a file with an announced size
/// and batches is fanned out.
fn fan_out_shape(step: &str, file: &FilePlan) -> Result<UploadShape, StepError> {
    match (file.announced_size, &file.batches) {
        (Some(total_size), Some(_)) if total_size > 0 => Ok(UploadShape {
            total_size,
            part_size: file.part_size.max(1),
        }),
        _ => Err(StepError::invalid_input(
            step,
            format!(
                "{} is not planned for a fan-out (it needs an announced size and batches)",
                file.storage_key
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn a_file_within_one_invocation_is_not_fanned_out() {
        assert_eq!(plan_batches(100 * MIB, 8 * MIB, 100 * MIB), None);
        assert_eq!(plan_batches(0, 8 * MIB, 100 * MIB), None);
        // A bound below one part still allows one part per invocation.
        assert_eq!(plan_batches(8 * MIB, 8 * MIB, MIB), None);
    }

    #[test]
    fn batches_cover_every_part_once_in_order_within_the_bound() {
        for (size, part, bound) in [
            (100 * MIB + 1, 8 * MIB, 100 * MIB),
            (17 * MIB, 8 * MIB, MIB),
            (1 << 40, 64 * MIB, 2 << 30),
            (10 * MIB, 5 * MIB, 7 * MIB),
        ] {
            let batches = plan_batches(size, part, bound).expect("fanned out");
            assert!(batches.len() > 1, "{size} {part} {bound}");
            let parts = size.div_ceil(part);
            let mut next = 1u64;
            for b in &batches {
                assert_eq!(u64::from(b.first_part), next);
                assert!(b.part_count >= 1);
                assert!(
                    u64::from(b.part_count) * part <= bound.max(part),
                    "a batch of {} parts of {part} exceeds {bound}",
                    b.part_count
                );
                next += u64::from(b.part_count);
            }
            assert_eq!(next - 1, parts);
        }
    }

    #[tokio::test]
    async fn a_part_is_cut_out_of_the_whole_file_across_chunk_boundaries() {
        let file: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        for chunk in [1, 7, 64, 1000] {
            for (offset, len) in [(0, 10), (5, 300), (999, 1), (100, 900), (0, 1000)] {
                let chunks: Vec<zoomvault_zoom::Result<Bytes>> = file
                    .chunks(chunk)
                    .map(|c| Ok(Bytes::copy_from_slice(c)))
                    .collect();
                let pieces: Vec<Bytes> =
                    part_of_whole(futures_util::stream::iter(chunks), offset, len)
                        .try_collect()
                        .await
                        .unwrap();
                let part = pieces.concat();
                let (from, to) = (offset as usize, (offset + len) as usize);
                assert_eq!(part, file[from..to], "chunks of {chunk}, {offset}+{len}");
            }
        }
    }
}
