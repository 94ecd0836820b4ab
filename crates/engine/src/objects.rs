//! The object store a distributed Map reads its items from (ItemReader) and
//! writes its results to (ResultWriter): a port the engine is given
//! (`EngineConfig::objects`), addressed by bucket and key as S3 is, with a
//! directory implementation (`DirectoryObjects`, one directory per bucket)
//! for tests and the embedded deployment.
//!
//! The engine knows nothing of S3 or of `archive`'s stores; whoever opens the
//! engine adapts them to this port. Nothing here touches the journal.

use crate::handler::BoxFuture;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// One object of a listing, with what `ListObjectsV2` says of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectEntry {
    pub key: String,
    pub size: u64,
    /// The object's ETag, quoted as S3 returns it.
    pub etag: String,
    /// When the object was last written, in milliseconds since the epoch.
    pub last_modified_ms: i64,
    pub storage_class: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("The specified bucket does not exist")]
    NoSuchBucket(String),
    #[error("The specified key does not exist.")]
    NoSuchKey { bucket: String, key: String },
    #[error("{0}")]
    Unavailable(String),
}

/// Objects by bucket and key.
pub trait ObjectStore: Send + Sync + std::fmt::Debug {
    fn get(&self, bucket: &str, key: &str) -> BoxFuture<Result<Vec<u8>, Error>>;
    /// Every object whose key starts with `prefix`, in key order.
    fn list(&self, bucket: &str, prefix: &str) -> BoxFuture<Result<Vec<ObjectEntry>, Error>>;
    fn put(&self, bucket: &str, key: &str, body: Vec<u8>) -> BoxFuture<Result<(), Error>>;
}

/// The port when the engine was given none: every bucket is missing, so a
/// distributed Map with an ItemReader or ResultWriter fails as on AWS
/// without access to the bucket.
#[derive(Debug, Default)]
pub struct NoObjects;

impl ObjectStore for NoObjects {
    fn get(&self, bucket: &str, _key: &str) -> BoxFuture<Result<Vec<u8>, Error>> {
        let e = Error::NoSuchBucket(bucket.to_string());
        Box::pin(async move { Err(e) })
    }
    fn list(&self, bucket: &str, _prefix: &str) -> BoxFuture<Result<Vec<ObjectEntry>, Error>> {
        let e = Error::NoSuchBucket(bucket.to_string());
        Box::pin(async move { Err(e) })
    }
    fn put(&self, bucket: &str, _key: &str, _body: Vec<u8>) -> BoxFuture<Result<(), Error>> {
        let e = Error::NoSuchBucket(bucket.to_string());
        Box::pin(async move { Err(e) })
    }
}

/// Buckets as directories under one root: bucket `b`, key `k/x.json` is
/// the file `root/b/k/x.json`. A bucket exists when its directory does.
/// Keys that would leave the bucket's directory (`..`, absolute paths) are
/// refused as missing.
#[derive(Debug, Clone)]
pub struct DirectoryObjects {
    root: Arc<PathBuf>,
}

impl DirectoryObjects {
    pub fn new(root: impl Into<PathBuf>) -> DirectoryObjects {
        DirectoryObjects {
            root: Arc::new(root.into()),
        }
    }

    fn bucket_dir(&self, bucket: &str) -> Result<PathBuf, Error> {
        let plain =
            !bucket.is_empty() && !bucket.contains(['/', '\\']) && bucket != "." && bucket != "..";
        let dir = self.root.join(bucket);
        if plain && dir.is_dir() {
            Ok(dir)
        } else {
            Err(Error::NoSuchBucket(bucket.to_string()))
        }
    }

    fn object_path(&self, bucket: &str, key: &str) -> Result<PathBuf, Error> {
        let dir = self.bucket_dir(bucket)?;
        let relative = Path::new(key);
        let safe = !key.is_empty()
            && relative
                .components()
                .all(|c| matches!(c, Component::Normal(_)));
        if safe {
            Ok(dir.join(relative))
        } else {
            Err(Error::NoSuchKey {
                bucket: bucket.to_string(),
                key: key.to_string(),
            })
        }
    }
}

fn unavailable(e: std::io::Error) -> Error {
    Error::Unavailable(e.to_string())
}

fn walk(dir: &Path, base: &Path, out: &mut Vec<ObjectEntry>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let meta = entry.metadata()?;
        if meta.is_dir() {
            walk(&path, base, out)?;
            continue;
        }
        let Ok(relative) = path.strip_prefix(base) else {
            continue;
        };
        let key = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as i64);
        let bytes = std::fs::read(&path)?;
        out.push(ObjectEntry {
            key,
            size: meta.len(),
            etag: format!("\"{}\"", etag_of(&bytes)),
            last_modified_ms: modified,
            storage_class: "STANDARD".into(),
        });
    }
    Ok(())
}

/// An ETag for a directory object: the SHA-256 of its bytes, cut to the
/// 32 hex digits of S3's MD5 ETags (the workspace has no MD5, and no
/// client may read meaning into an ETag beyond equality).
fn etag_of(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

impl ObjectStore for DirectoryObjects {
    fn get(&self, bucket: &str, key: &str) -> BoxFuture<Result<Vec<u8>, Error>> {
        let path = self.object_path(bucket, key);
        let (bucket, key) = (bucket.to_string(), key.to_string());
        Box::pin(async move {
            let path = path?;
            match tokio::fs::read(&path).await {
                Ok(bytes) => Ok(bytes),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    Err(Error::NoSuchKey { bucket, key })
                }
                Err(e) => Err(unavailable(e)),
            }
        })
    }

    fn list(&self, bucket: &str, prefix: &str) -> BoxFuture<Result<Vec<ObjectEntry>, Error>> {
        let dir = self.bucket_dir(bucket);
        let prefix = prefix.to_string();
        Box::pin(async move {
            let dir = dir?;
            let mut all = tokio::task::spawn_blocking(move || {
                let mut out = Vec::new();
                walk(&dir, &dir, &mut out).map(|()| out)
            })
            .await
            .map_err(|e| Error::Unavailable(e.to_string()))?
            .map_err(unavailable)?;
            all.retain(|o| o.key.starts_with(&prefix));
            all.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(all)
        })
    }

    fn put(&self, bucket: &str, key: &str, body: Vec<u8>) -> BoxFuture<Result<(), Error>> {
        let path = self.object_path(bucket, key);
        Box::pin(async move {
            let path = path?;
            if let Some(parent) = path.parent() {
                tokio::fs::create_dir_all(parent)
                    .await
                    .map_err(unavailable)?;
            }
            // Written whole under a temporary name, then renamed, so a reader
            // never sees half an object.
            let tmp = path.with_extension("zoomvault-partial");
            tokio::fs::write(&tmp, &body).await.map_err(unavailable)?;
            tokio::fs::rename(&tmp, &path).await.map_err(unavailable)
        })
    }
}
