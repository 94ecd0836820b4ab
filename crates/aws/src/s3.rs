//! [`S3ObjectStore`]: the object store port on S3 (or anything that speaks
//! its API: MinIO, Ceph, R2, moto), through aws-sdk-s3. The caller builds
//! the `Client` (endpoint URL, path-style addressing, credentials); this
//! module owns only how the port's operations become S3 requests, under a
//! bucket and key prefix ([`S3Location`]), with server-side encryption
//! ([`S3Options`]).
//!
//! Checksums: uploads are multipart with `ChecksumAlgorithm: CRC64NVME` and
//! `ChecksumType: FULL_OBJECT`. A part's body is streamed (never held whole)
//! through a wrapper that computes its CRC as the bytes pass; when the
//! caller declared a CRC, it goes in the request for S3 to verify, and the
//! wrapper withholds the last bytes of a body that does not match, so the
//! request fails and no part is stored even on a backend that does not
//! verify (moto echoes declared checksums). Completion sends the expected
//! full-object CRC (S3 verifies it and answers BadDigest) and compares it
//! with what the backend reports for the object (moto computes its own and
//! does not compare): on a difference the object is deleted and the
//! completion refused.
//!
//! Completion first lists the upload's parts: that is how a completed
//! upload is told apart (S3 may answer a repeated completion with success;
//! the port promises `NoSuchUpload`), and how a wrong etag or a small part
//! is named precisely before S3 is asked.
//!
//! Every key passes `keys::validate_key` before a request is built; no
//! response field is unwrapped; every error names the bucket and key.
//! Throttling, 5xx and transport failures are [`Error::Unavailable`].

use std::io;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use async_trait::async_trait;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream as SdkByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, ChecksumType, CompletedMultipartUpload,
    CompletedPart as SdkCompletedPart, ServerSideEncryption,
};
use bytes::Bytes;
use zoomvault_archive::checksum::{self, Crc64Nvme, Crc64NvmeDigest};
use zoomvault_archive::keys::{validate_key, validate_level, validate_prefix};
use zoomvault_archive::ports::object_store::{
    CompletedPart, Error, ObjectMeta, ObjectStore, ObjectStream, PartBody, PartInfo, PartNumber,
    UploadId, MAX_PART_SIZE, MIN_PART_SIZE,
};

/// Where the archive lives in S3: a bucket and a key prefix (empty, or
/// ending in `/`) under which every port key is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    pub prefix: String,
}

/// Why an `s3://` location was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    #[error("{0:?} is not an S3 location; expected s3://bucket or s3://bucket/prefix")]
    NotS3(String),
    #[error("{bucket:?} is not a valid S3 bucket name: {reason}")]
    Bucket {
        bucket: String,
        reason: &'static str,
    },
    #[error("{prefix:?} is not a usable key prefix: {reason}")]
    Prefix { prefix: String, reason: String },
}

impl S3Location {
    /// Reads `s3://bucket` or `s3://bucket/prefix[/]`.
    pub fn parse(text: &str) -> Result<S3Location, LocationError> {
        let rest = text
            .strip_prefix("s3://")
            .ok_or_else(|| LocationError::NotS3(text.to_owned()))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        check_bucket(bucket)?;
        let trimmed = prefix.strip_suffix('/').unwrap_or(prefix);
        let prefix = if trimmed.is_empty() {
            if !prefix.is_empty() {
                return Err(LocationError::Prefix {
                    prefix: prefix.to_owned(),
                    reason: "it is only a slash".to_owned(),
                });
            }
            String::new()
        } else {
            // The prefix is part of every key, so it follows the key rules.
            validate_key(trimmed).map_err(|e| LocationError::Prefix {
                prefix: prefix.to_owned(),
                reason: e.to_string(),
            })?;
            format!("{trimmed}/")
        };
        Ok(S3Location {
            bucket: bucket.to_owned(),
            prefix,
        })
    }
}

impl FromStr for S3Location {
    type Err = LocationError;

    fn from_str(text: &str) -> Result<S3Location, LocationError> {
        S3Location::parse(text)
    }
}

impl std::fmt::Display for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// S3's general-purpose bucket naming rules.
fn check_bucket(bucket: &str) -> Result<(), LocationError> {
    let refuse = |reason| {
        Err(LocationError::Bucket {
            bucket: bucket.to_owned(),
            reason,
        })
    };
    if !(3..=63).contains(&bucket.len()) {
        return refuse("it must be 3 to 63 characters long");
    }
    if !bucket
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return refuse("only lower-case letters, digits, '.' and '-' are allowed");
    }
    let edge_ok = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !edge_ok(bucket.bytes().next()) || !edge_ok(bucket.bytes().last()) {
        return refuse("it must begin and end with a letter or digit");
    }
    if bucket.contains("..") {
        return refuse("it must not contain two adjacent periods");
    }
    Ok(())
}

/// Server-side encryption of everything the store writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Encryption {
    /// SSE-S3 (`AES256`).
    #[default]
    Aes256,
    /// SSE-KMS (`aws:kms`), with the bucket's or account's default key when
    /// `key_id` is `None`.
    Kms { key_id: Option<String> },
}

/// How the store writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Options {
    pub encryption: Encryption,
}

#[derive(Debug, Clone)]
pub struct S3ObjectStore {
    client: aws_sdk_s3::Client,
    location: S3Location,
    options: S3Options,
}

/// An S3 request that failed for a reason the port does not name.
#[derive(Debug, thiserror::Error)]
#[error("{operation} s3://{bucket}/{key}: {detail}")]
struct Failure {
    operation: &'static str,
    bucket: String,
    key: String,
    detail: String,
}

/// What went wrong while streaming a part's body, kept by the body for the
/// store to report once the request has failed.
#[derive(Debug)]
enum BodyFailure {
    Stream(io::Error),
    TooLong,
    TooShort(u64),
    Mismatch {
        declared: Crc64Nvme,
        actual: Crc64Nvme,
    },
}

#[derive(Debug, Default)]
struct BodyOutcome {
    failure: Option<BodyFailure>,
    /// Set once the whole body passed: its CRC.
    crc64nvme: Option<Crc64Nvme>,
}

/// A part's body as an HTTP body of exactly `len` bytes, streamed from the
/// port's stream, its CRC computed on the way. The last chunk is withheld
/// when the CRC is not the declared one, so the request cannot complete.
struct CheckedBody {
    /// In a mutex only so the body is `Sync`, as the SDK requires; it is
    /// reached through `get_mut`, never locked.
    stream: Mutex<zoomvault_archive::ports::ByteStream>,
    len: u64,
    received: u64,
    crc: Crc64NvmeDigest,
    declared: Option<Crc64Nvme>,
    outcome: Arc<Mutex<BodyOutcome>>,
    done: bool,
}

impl CheckedBody {
    fn fail(&mut self, failure: BodyFailure) -> io::Error {
        let error = io::Error::other(format!("part body refused: {failure:?}"));
        if let Ok(mut outcome) = self.outcome.lock() {
            outcome.failure.get_or_insert(failure);
        }
        self.done = true;
        error
    }

    /// Called once every byte has been seen: checks the declared CRC.
    fn finish(&mut self) -> Result<(), io::Error> {
        let actual = self.crc.finish();
        if let Some(declared) = self.declared.filter(|&d| d != actual) {
            return Err(self.fail(BodyFailure::Mismatch { declared, actual }));
        }
        if let Ok(mut outcome) = self.outcome.lock() {
            outcome.crc64nvme = Some(actual);
        }
        Ok(())
    }
}

impl http_body::Body for CheckedBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, io::Error>>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        let polled = match this.stream.get_mut() {
            Ok(stream) => stream.as_mut().poll_next(cx),
            Err(_) => {
                return Poll::Ready(Some(Err(
                    this.fail(BodyFailure::Stream(io::Error::other("poisoned")))
                )))
            }
        };
        match polled {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Err(error))) => {
                Poll::Ready(Some(Err(this.fail(BodyFailure::Stream(error)))))
            }
            Poll::Ready(Some(Ok(chunk))) => {
                this.received += chunk.len() as u64;
                if this.received > this.len {
                    return Poll::Ready(Some(Err(this.fail(BodyFailure::TooLong))));
                }
                this.crc.update(&chunk);
                if this.received == this.len {
                    // The last bytes go only if the whole body is the one
                    // vouched for.
                    if let Err(error) = this.finish() {
                        return Poll::Ready(Some(Err(error)));
                    }
                }
                Poll::Ready(Some(Ok(http_body::Frame::data(chunk))))
            }
            Poll::Ready(None) => {
                if this.received < this.len {
                    let received = this.received;
                    return Poll::Ready(Some(Err(this.fail(BodyFailure::TooShort(received)))));
                }
                this.done = true;
                if this.len == 0 {
                    if let Err(error) = this.finish() {
                        return Poll::Ready(Some(Err(error)));
                    }
                }
                Poll::Ready(None)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.len - self.received.min(self.len))
    }
}

fn is_transient(code: Option<&str>, status: u16) -> bool {
    matches!(
        code,
        Some(
            "SlowDown"
                | "ServiceUnavailable"
                | "InternalError"
                | "RequestTimeout"
                | "Throttling"
                | "ThrottlingException"
                | "RequestLimitExceeded"
        )
    ) || status == 429
        || status >= 500
}

/// A CRC as S3 reports it for a whole object or a part: full-object values
/// only (a composite one ends in `-<parts>`).
fn reported_crc(value: Option<&str>) -> Option<Crc64Nvme> {
    value.and_then(|text| text.parse().ok())
}

impl S3ObjectStore {
    pub fn new(
        client: aws_sdk_s3::Client,
        location: S3Location,
        options: S3Options,
    ) -> S3ObjectStore {
        S3ObjectStore {
            client,
            location,
            options,
        }
    }

    pub fn location(&self) -> &S3Location {
        &self.location
    }

    fn full_key(&self, key: &str) -> String {
        format!("{}{key}", self.location.prefix)
    }

    fn failure(
        &self,
        operation: &'static str,
        key: &str,
        detail: impl std::fmt::Display,
    ) -> Failure {
        Failure {
            operation,
            bucket: self.location.bucket.clone(),
            key: self.full_key(key),
            detail: detail.to_string(),
        }
    }

    /// The port's error for an SDK error, by S3's error code; what the port
    /// does not name becomes `Unavailable` (worth retrying) or `Backend`.
    fn error<E>(
        &self,
        operation: &'static str,
        key: &str,
        upload_id: Option<&UploadId>,
        error: SdkError<E, HttpResponse>,
    ) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        if matches!(
            error,
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_)
        ) {
            return Error::Unavailable(Box::new(self.failure(
                operation,
                key,
                DisplayErrorContext(&error),
            )));
        }
        let status = error
            .raw_response()
            .map(|response| response.status().as_u16())
            .unwrap_or(0);
        let code = error.code().map(str::to_owned);
        match (code.as_deref(), upload_id) {
            (Some("NoSuchUpload"), Some(upload_id)) => Error::NoSuchUpload {
                key: key.to_owned(),
                upload_id: upload_id.clone(),
            },
            (Some("NoSuchKey" | "NotFound"), _) => Error::NotFound {
                key: key.to_owned(),
            },
            (code, _) if is_transient(code, status) => Error::Unavailable(Box::new(self.failure(
                operation,
                key,
                DisplayErrorContext(&error),
            ))),
            _ => Error::Backend(Box::new(self.failure(
                operation,
                key,
                DisplayErrorContext(&error),
            ))),
        }
    }

    fn encrypt_put(
        &self,
        request: aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder,
    ) -> aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder {
        match &self.options.encryption {
            Encryption::Aes256 => request.server_side_encryption(ServerSideEncryption::Aes256),
            Encryption::Kms { key_id } => request
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .set_ssekms_key_id(key_id.clone()),
        }
    }

    /// Every part of an upload, following S3's pages (the SDK's paginator,
    /// which also stops on a marker that repeats).
    async fn all_parts(&self, key: &str, upload_id: &UploadId) -> Result<Vec<PartInfo>, Error> {
        let mut parts = Vec::new();
        let mut pages = self
            .client
            .list_parts()
            .bucket(&self.location.bucket)
            .key(self.full_key(key))
            .upload_id(upload_id.as_str())
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.error("ListParts", key, Some(upload_id), e))?;
            for part in page.parts() {
                let number = part
                    .part_number()
                    .and_then(|n| u32::try_from(n).ok())
                    .and_then(|n| PartNumber::new(n).ok());
                let (Some(part_number), Some(etag), Some(size)) = (
                    number,
                    part.e_tag(),
                    part.size().and_then(|s| u64::try_from(s).ok()),
                ) else {
                    return Err(Error::Backend(Box::new(self.failure(
                        "ListParts",
                        key,
                        format!("a part without a number, etag or size: {part:?}"),
                    ))));
                };
                parts.push(PartInfo {
                    part_number,
                    etag: etag.to_owned(),
                    size,
                    crc64nvme: reported_crc(part.checksum_crc64_nvme()),
                });
            }
        }
        parts.sort_by_key(|part| part.part_number);
        Ok(parts)
    }

    /// The port's checks of a completion, against the parts S3 holds: each
    /// listed part is the uploaded version, and every part but the last is
    /// big enough. Returns the object's size.
    fn check_listed(&self, parts: &[CompletedPart], stored: &[PartInfo]) -> Result<u64, Error> {
        let mut size = 0u64;
        for (i, part) in parts.iter().enumerate() {
            let invalid = |reason: String| Error::InvalidPart {
                part_number: part.part_number,
                reason,
            };
            let found = stored
                .iter()
                .find(|info| info.part_number == part.part_number)
                .ok_or_else(|| invalid("it was never uploaded".to_owned()))?;
            if found.etag.trim_matches('"') != part.etag.trim_matches('"') {
                return Err(invalid(format!(
                    "etag {:?} is not the uploaded part's {:?}",
                    part.etag, found.etag
                )));
            }
            if i + 1 < parts.len() && found.size < MIN_PART_SIZE {
                return Err(Error::PartTooSmall {
                    part_number: part.part_number,
                    size: found.size,
                    minimum: MIN_PART_SIZE,
                });
            }
            size += found.size;
        }
        Ok(size)
    }
}

#[async_trait]
impl ObjectStore for S3ObjectStore {
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> Result<ObjectMeta, Error> {
        validate_key(key)?;
        let crc64nvme = Crc64Nvme::of(&body);
        let size = body.len() as u64;
        let request = self
            .client
            .put_object()
            .bucket(&self.location.bucket)
            .key(self.full_key(key))
            .content_type(content_type)
            .checksum_crc64_nvme(crc64nvme.to_string())
            .body(SdkByteStream::from(body));
        self.encrypt_put(request)
            .send()
            .await
            .map_err(|e| self.error("PutObject", key, None, e))?;
        Ok(ObjectMeta {
            key: key.to_owned(),
            size,
            crc64nvme: Some(crc64nvme),
        })
    }

    async fn get(&self, key: &str) -> Result<Bytes, Error> {
        let object = self.get_stream(key).await?;
        let mut bytes = bytes::BytesMut::with_capacity(usize::try_from(object.size).unwrap_or(0));
        let mut stream = object.stream;
        while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
            let chunk = chunk
                .map_err(|e| Error::Unavailable(Box::new(self.failure("GetObject", key, e))))?;
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes.freeze())
    }

    async fn get_stream(&self, key: &str) -> Result<ObjectStream, Error> {
        validate_key(key)?;
        let output = self
            .client
            .get_object()
            .bucket(&self.location.bucket)
            .key(self.full_key(key))
            .send()
            .await
            .map_err(|e| self.error("GetObject", key, None, e))?;
        let size = output
            .content_length()
            .and_then(|len| u64::try_from(len).ok())
            .ok_or_else(|| {
                Error::Backend(Box::new(self.failure(
                    "GetObject",
                    key,
                    "no Content-Length",
                )))
            })?;
        let stream = futures_util::stream::unfold(output.body, |mut body| async move {
            body.next()
                .await
                .map(|chunk| (chunk.map_err(io::Error::other), body))
        });
        Ok(ObjectStream {
            size,
            stream: Box::pin(stream),
        })
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, Error> {
        validate_key(key)?;
        let result = self
            .client
            .head_object()
            .bucket(&self.location.bucket)
            .key(self.full_key(key))
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await;
        let output = match result {
            Ok(output) => output,
            Err(e) => {
                return match self.error("HeadObject", key, None, e) {
                    Error::NotFound { .. } => Ok(None),
                    other => Err(other),
                }
            }
        };
        let size = output
            .content_length()
            .and_then(|len| u64::try_from(len).ok())
            .ok_or_else(|| {
                Error::Backend(Box::new(self.failure(
                    "HeadObject",
                    key,
                    "no Content-Length",
                )))
            })?;
        let full_object = !matches!(output.checksum_type(), Some(ChecksumType::Composite));
        Ok(Some(ObjectMeta {
            key: key.to_owned(),
            size,
            crc64nvme: reported_crc(output.checksum_crc64_nvme()).filter(|_| full_object),
        }))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, Error> {
        validate_prefix(prefix)?;
        let mut found = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.location.bucket)
            .prefix(self.full_key(prefix))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.error("ListObjectsV2", prefix, None, e))?;
            for object in page.contents() {
                let key = object
                    .key()
                    .and_then(|full| full.strip_prefix(self.location.prefix.as_str()));
                // Only what this store could have written, and could address.
                let (Some(key), Some(size)) =
                    (key, object.size().and_then(|s| u64::try_from(s).ok()))
                else {
                    continue;
                };
                if validate_key(key).is_ok() {
                    found.push(ObjectMeta {
                        key: key.to_owned(),
                        size,
                        crc64nvme: None,
                    });
                }
            }
        }
        // S3 lists in UTF-8 binary order, which is byte order; keys are ASCII.
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }

    async fn list_prefixes(&self, prefix: &str) -> Result<Vec<String>, Error> {
        validate_level(prefix)?;
        let mut found = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.location.bucket)
            .prefix(self.full_key(prefix))
            .delimiter("/")
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.error("ListObjectsV2", prefix, None, e))?;
            for common in page.common_prefixes() {
                let level = common
                    .prefix()
                    .and_then(|full| full.strip_prefix(self.location.prefix.as_str()));
                if let Some(level) = level.filter(|level| validate_level(level).is_ok()) {
                    found.push(level.to_owned());
                }
            }
        }
        found.sort();
        Ok(found)
    }

    async fn delete(&self, key: &str) -> Result<(), Error> {
        validate_key(key)?;
        self.client
            .delete_object()
            .bucket(&self.location.bucket)
            .key(self.full_key(key))
            .send()
            .await
            .map_err(|e| self.error("DeleteObject", key, None, e))?;
        Ok(())
    }

    async fn create_multipart(&self, key: &str, content_type: &str) -> Result<UploadId, Error> {
        validate_key(key)?;
        let request = self
            .client
            .create_multipart_upload()
            .bucket(&self.location.bucket)
            .key(self.full_key(key))
            .content_type(content_type)
            .checksum_algorithm(ChecksumAlgorithm::Crc64Nvme)
            .checksum_type(ChecksumType::FullObject);
        let request = match &self.options.encryption {
            Encryption::Aes256 => request.server_side_encryption(ServerSideEncryption::Aes256),
            Encryption::Kms { key_id } => request
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .set_ssekms_key_id(key_id.clone()),
        };
        let output = request
            .send()
            .await
            .map_err(|e| self.error("CreateMultipartUpload", key, None, e))?;
        let upload_id = output.upload_id().ok_or_else(|| {
            Error::Backend(Box::new(self.failure(
                "CreateMultipartUpload",
                key,
                "the answer has no UploadId",
            )))
        })?;
        Ok(UploadId::new(upload_id))
    }

    async fn put_part(
        &self,
        key: &str,
        upload_id: &UploadId,
        part_number: PartNumber,
        body: PartBody,
    ) -> Result<CompletedPart, Error> {
        validate_key(key)?;
        if body.len > MAX_PART_SIZE {
            return Err(Error::PartTooLarge {
                part_number,
                len: body.len,
            });
        }
        let outcome = Arc::new(Mutex::new(BodyOutcome::default()));
        let declared = body.crc64nvme;
        let len = body.len;
        let checked = CheckedBody {
            stream: Mutex::new(body.stream),
            len,
            received: 0,
            crc: Crc64NvmeDigest::new(),
            declared,
            outcome: Arc::clone(&outcome),
            done: false,
        };
        let request = self
            .client
            .upload_part()
            .bucket(&self.location.bucket)
            .key(self.full_key(key))
            .upload_id(upload_id.as_str())
            .part_number(part_number.get() as i32)
            .content_length(len as i64)
            .body(SdkByteStream::from_body_1_x(checked));
        // A declared CRC goes in the request for S3 to verify; otherwise the
        // SDK sends the CRC it computes, as a trailer.
        let request = match declared {
            Some(crc) => request.checksum_crc64_nvme(crc.to_string()),
            None => request.checksum_algorithm(ChecksumAlgorithm::Crc64Nvme),
        };
        let sent = request.send().await;
        let (failure, crc64nvme) = match outcome.lock() {
            Ok(mut outcome) => (outcome.failure.take(), outcome.crc64nvme),
            Err(_) => (None, None),
        };
        if let Some(failure) = failure {
            return Err(match failure {
                BodyFailure::Stream(source) => Error::Body {
                    part_number,
                    source,
                },
                BodyFailure::TooLong => Error::BodyTooLong {
                    part_number,
                    declared: len,
                },
                BodyFailure::TooShort(received) => Error::BodyTooShort {
                    part_number,
                    declared: len,
                    received,
                },
                BodyFailure::Mismatch { declared, actual } => Error::ChecksumMismatch {
                    key: key.to_owned(),
                    part_number: Some(part_number),
                    expected: declared,
                    actual,
                },
            });
        }
        let output = match sent {
            Ok(output) => output,
            Err(e) if matches!(e.code(), Some("BadDigest" | "InvalidDigest")) => {
                return Err(Error::ChecksumMismatch {
                    key: key.to_owned(),
                    part_number: Some(part_number),
                    expected: declared.unwrap_or_default(),
                    actual: crc64nvme.unwrap_or_default(),
                })
            }
            Err(e) => return Err(self.error("UploadPart", key, Some(upload_id), e)),
        };
        let crc64nvme = crc64nvme.ok_or_else(|| {
            Error::Backend(Box::new(self.failure(
                "UploadPart",
                key,
                format!("part {part_number} was accepted before its body ended"),
            )))
        })?;
        if let Some(reported) = reported_crc(output.checksum_crc64_nvme()) {
            if reported != crc64nvme {
                return Err(Error::ChecksumMismatch {
                    key: key.to_owned(),
                    part_number: Some(part_number),
                    expected: crc64nvme,
                    actual: reported,
                });
            }
        }
        let etag = output.e_tag().ok_or_else(|| {
            Error::Backend(Box::new(self.failure(
                "UploadPart",
                key,
                format!("part {part_number}: the answer has no ETag"),
            )))
        })?;
        Ok(CompletedPart {
            part_number,
            etag: etag.to_owned(),
            size: len,
            crc64nvme: Some(crc64nvme),
        })
    }

    async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &UploadId,
        parts: &[CompletedPart],
        checksum: Crc64Nvme,
    ) -> Result<ObjectMeta, Error> {
        validate_key(key)?;
        zoomvault_archive::ports::object_store::check_part_list(parts)?;
        // Also how a completed (or aborted) upload answers NoSuchUpload.
        let stored = self.all_parts(key, upload_id).await?;
        let size = self.check_listed(parts, &stored)?;
        // What the parts' CRCs, taken as they were sent, make of the whole:
        // the object's CRC where the backend reports none.
        // (None when a part came from a listing that omits checksums.)
        let composed = parts
            .iter()
            .map(|part| part.crc64nvme.map(|crc| (crc, part.size)))
            .collect::<Option<Vec<_>>>()
            .map(checksum::compose);
        let completed = CompletedMultipartUpload::builder()
            .set_parts(Some(
                parts
                    .iter()
                    .map(|part| {
                        SdkCompletedPart::builder()
                            .part_number(part.part_number.get() as i32)
                            .e_tag(&part.etag)
                            .build()
                    })
                    .collect(),
            ))
            .build();
        let result = self
            .client
            .complete_multipart_upload()
            .bucket(&self.location.bucket)
            .key(self.full_key(key))
            .upload_id(upload_id.as_str())
            .multipart_upload(completed)
            .checksum_crc64_nvme(checksum.to_string())
            .checksum_type(ChecksumType::FullObject)
            .send()
            .await;
        let output = match result {
            Ok(output) => output,
            Err(e) if matches!(e.code(), Some("BadDigest" | "InvalidDigest")) => {
                return Err(match composed {
                    Some(actual) => Error::ChecksumMismatch {
                        key: key.to_owned(),
                        part_number: None,
                        expected: checksum,
                        actual,
                    },
                    None => Error::Backend(
                        format!(
                            "s3://{}/{}: S3 refused the expected CRC64NVME {checksum} ({})",
                            self.location.bucket,
                            self.full_key(key),
                            e.code().unwrap_or_default()
                        )
                        .into(),
                    ),
                })
            }
            Err(e) => return Err(self.error("CompleteMultipartUpload", key, Some(upload_id), e)),
        };
        let reported = match reported_crc(output.checksum_crc64_nvme()) {
            Some(crc) => Some(crc),
            None => self.head(key).await?.and_then(|meta| meta.crc64nvme),
        };
        let Some(actual) = reported.or(composed) else {
            // Nothing vouches for the object: it may not stay.
            self.delete(key).await?;
            return Err(Error::Backend(
                format!(
                    "s3://{}/{}: neither S3 nor the parts report the object's CRC64NVME, so it cannot be verified",
                    self.location.bucket,
                    self.full_key(key)
                )
                .into(),
            ));
        };
        if actual != checksum {
            // The backend did not check (S3 would have refused): take the
            // object away again.
            self.delete(key).await?;
            return Err(Error::ChecksumMismatch {
                key: key.to_owned(),
                part_number: None,
                expected: checksum,
                actual,
            });
        }
        Ok(ObjectMeta {
            key: key.to_owned(),
            size,
            crc64nvme: Some(actual),
        })
    }

    async fn abort_multipart(&self, key: &str, upload_id: &UploadId) -> Result<(), Error> {
        validate_key(key)?;
        self.client
            .abort_multipart_upload()
            .bucket(&self.location.bucket)
            .key(self.full_key(key))
            .upload_id(upload_id.as_str())
            .send()
            .await
            .map_err(|e| self.error("AbortMultipartUpload", key, Some(upload_id), e))?;
        Ok(())
    }

    async fn list_parts(&self, key: &str, upload_id: &UploadId) -> Result<Vec<PartInfo>, Error> {
        validate_key(key)?;
        self.all_parts(key, upload_id).await
    }

    async fn list_uploads(&self, key: &str) -> Result<Vec<UploadId>, Error> {
        validate_key(key)?;
        let full_key = self.full_key(key);
        let mut ids = Vec::new();
        let mut markers: Option<(String, String)> = None;
        loop {
            let mut request = self
                .client
                .list_multipart_uploads()
                .bucket(&self.location.bucket)
                .prefix(&full_key);
            if let Some((key_marker, upload_marker)) = &markers {
                request = request
                    .key_marker(key_marker)
                    .upload_id_marker(upload_marker);
            }
            let page = request
                .send()
                .await
                .map_err(|e| self.error("ListMultipartUploads", key, None, e))?;
            // The prefix also matches longer keys; only this key's count.
            ids.extend(
                page.uploads()
                    .iter()
                    .filter(|u| u.key() == Some(full_key.as_str()))
                    .filter_map(|u| u.upload_id())
                    .map(|id| UploadId::new(id.to_owned())),
            );
            match (
                page.is_truncated().unwrap_or(false),
                page.next_key_marker(),
                page.next_upload_id_marker(),
            ) {
                (true, Some(k), Some(u)) => markers = Some((k.to_owned(), u.to_owned())),
                _ => return Ok(ids),
            }
        }
    }
}
