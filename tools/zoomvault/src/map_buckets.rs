//! The buckets a distributed Map's ItemReader reads and its ResultWriter
//! writes, for the embedded engine: the engine's object port
//! (`zoomvault_engine::ObjectStore`, bucket and key) over `archive`'s
//! `ObjectStore` (one store per bucket). Locally each bucket is a directory
//! store under `<data dir>/buckets/<bucket>/` (its objects under
//! `objects/`, as the archive's store keeps them) and a bucket exists when
//! its directory does; with the archive in S3 (`--store s3://...`) every
//! bucket is the S3 bucket of that name, through `crates/aws`.
//!
//! Glue only. Keys go through the archive's key rules
//! (`[A-Za-z0-9._=-]` segments), so a key outside them is refused as
//! missing; the archive's listing carries no ETag or modification time, so
//! a listed item's `Etag` is its CRC64NVME when the store knows it (empty
//! otherwise) and its `LastModified` 0.

use bytes::Bytes;
use std::path::PathBuf;
use std::sync::Arc;
use zoomvault_archive::local::DirObjectStore;
use zoomvault_archive::ports::{self, ObjectStore as ArchiveStore};
use zoomvault_engine::objects::{Error, ObjectEntry};
use zoomvault_engine::{BoxFuture, ObjectStore};

#[derive(Debug, Clone)]
enum Backend {
    Directory(PathBuf),
    S3(aws_sdk_s3::Client),
}

/// Buckets over the archive's object stores.
#[derive(Debug, Clone)]
pub struct MapBuckets {
    backend: Backend,
}

impl MapBuckets {
    /// A directory per bucket under `root`.
    pub fn directory(root: impl Into<PathBuf>) -> MapBuckets {
        MapBuckets {
            backend: Backend::Directory(root.into()),
        }
    }

    /// S3 buckets through `client`.
    pub fn s3(client: aws_sdk_s3::Client) -> MapBuckets {
        MapBuckets {
            backend: Backend::S3(client),
        }
    }

    /// The archive store that is `bucket`.
    fn bucket(&self, bucket: &str) -> Result<Arc<dyn ArchiveStore>, Error> {
        let missing = || Error::NoSuchBucket(bucket.to_string());
        // S3's bucket naming rules, which also keep a name from leaving the
        // buckets' directory.
        let valid = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
            && !bucket.contains("..");
        if !valid {
            return Err(missing());
        }
        match &self.backend {
            Backend::Directory(root) => {
                let dir = root.join(bucket);
                if !dir.is_dir() {
                    return Err(missing());
                }
                let store =
                    DirObjectStore::open(dir).map_err(|e| Error::Unavailable(e.to_string()))?;
                Ok(Arc::new(store))
            }
            Backend::S3(client) => {
                let location = zoomvault_aws::s3::S3Location {
                    bucket: bucket.to_string(),
                    prefix: String::new(),
                };
                Ok(Arc::new(zoomvault_aws::s3::S3ObjectStore::new(
                    client.clone(),
                    location,
                    zoomvault_aws::s3::S3Options::default(),
                )))
            }
        }
    }
}

fn error(bucket: &str, key: &str, e: ports::object_store::Error) -> Error {
    match e {
        ports::object_store::Error::NotFound { .. } | ports::object_store::Error::Key(_) => {
            Error::NoSuchKey {
                bucket: bucket.to_string(),
                key: key.to_string(),
            }
        }
        other => Error::Unavailable(other.to_string()),
    }
}

impl ObjectStore for MapBuckets {
    fn get(&self, bucket: &str, key: &str) -> BoxFuture<Result<Vec<u8>, Error>> {
        let store = self.bucket(bucket);
        let (bucket, key) = (bucket.to_string(), key.to_string());
        Box::pin(async move {
            let bytes = store?
                .get(&key)
                .await
                .map_err(|e| error(&bucket, &key, e))?;
            Ok(bytes.to_vec())
        })
    }

    fn list(&self, bucket: &str, prefix: &str) -> BoxFuture<Result<Vec<ObjectEntry>, Error>> {
        let store = self.bucket(bucket);
        let (bucket, prefix) = (bucket.to_string(), prefix.to_string());
        Box::pin(async move {
            let listed = store?
                .list(&prefix)
                .await
                .map_err(|e| error(&bucket, &prefix, e))?;
            Ok(listed
                .into_iter()
                .map(|o| ObjectEntry {
                    etag: o.crc64nvme.map(|c| format!("\"{c}\"")).unwrap_or_default(),
                    key: o.key,
                    size: o.size,
                    last_modified_ms: 0,
                    storage_class: "STANDARD".into(),
                })
                .collect())
        })
    }

    fn put(&self, bucket: &str, key: &str, body: Vec<u8>) -> BoxFuture<Result<(), Error>> {
        let store = self.bucket(bucket);
        let (bucket, key) = (bucket.to_string(), key.to_string());
        Box::pin(async move {
            store?
                .put(&key, Bytes::from(body), "application/json")
                .await
                .map_err(|e| error(&bucket, &key, e))?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_directory_bucket_round_trips_and_a_missing_one_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("results")).unwrap();
        let buckets = MapBuckets::directory(dir.path());
        buckets
            .put("results", "run/manifest.json", b"{}".to_vec())
            .await
            .unwrap();
        assert_eq!(
            buckets.get("results", "run/manifest.json").await.unwrap(),
            b"{}"
        );
        let listed = buckets.list("results", "run/").await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (listed[0].key.as_str(), listed[0].size),
            ("run/manifest.json", 2)
        );
        assert!(matches!(
            buckets.get("results", "run/absent.json").await,
            Err(Error::NoSuchKey { .. })
        ));
        assert!(matches!(
            buckets.get("nope", "k").await,
            Err(Error::NoSuchBucket(_))
        ));
        assert!(matches!(
            buckets.get("../etc", "passwd").await,
            Err(Error::NoSuchBucket(_))
        ));
    }
}
