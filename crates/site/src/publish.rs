//! Publishing the site into an object store, as the AWS deployment's
//! `build-site` function does: every indexed recording's document read
//! back (`zoomvault_archive::listing`), the site built whole in a scratch
//! directory, then each file put under `site/` in the store, `index.html`
//! last, so a reader finds new pages before the index links them. Files
//! are linked by their absolute path in the bucket (`/<key>`), which is
//! right when the bucket is served from its root (S3 website hosting or a
//! CDN in front of it).

use crate::{build, SiteConfig, SiteRecording};
use bytes::Bytes;
use std::path::Path;
use zoomvault_archive::listing;
use zoomvault_archive::ports::{object_store, ObjectStore, RecordingIndex};

/// Where the site lives in the store.
pub const SITE_PREFIX: &str = "site/";

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("reading the archive: {0}")]
    Listing(#[from] listing::Error),
    #[error("a recording's page: {0}")]
    Key(#[from] zoomvault_archive::keys::Error),
    #[error("building the site: {0}")]
    Build(#[from] crate::Error),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("storing the site: {0}")]
    Store(#[from] object_store::Error),
}

impl PublishError {
    /// Whether publishing again may succeed (the store or index was busy).
    pub fn is_transient(&self) -> bool {
        match self {
            PublishError::Store(e) => e.is_transient(),
            PublishError::Listing(listing::Error::Store(e)) => e.is_transient(),
            PublishError::Listing(listing::Error::Index(e)) => e.is_transient(),
            _ => false,
        }
    }
}

/// Rebuilds the site from `index` and `store` and puts it under
/// [`SITE_PREFIX`]; returns how many recordings it lists.
pub async fn publish(
    index: &dyn RecordingIndex,
    store: &dyn ObjectStore,
    title: &str,
) -> Result<usize, PublishError> {
    let documents = listing::archived_documents(index, store).await?;
    let recordings = documents
        .iter()
        .map(|d| SiteRecording::from_document(d, &|key| format!("/{key}")))
        .collect::<Result<Vec<_>, _>>()?;
    let scratch = tempfile::tempdir().map_err(|source| PublishError::Io {
        path: std::env::temp_dir().display().to_string(),
        source,
    })?;
    let config = SiteConfig {
        root: scratch.path().to_path_buf(),
        title: title.to_string(),
    };
    let built = build(&config, &recordings)?;
    let mut files = Vec::new();
    collect(&built.dir, &built.dir, &mut files)?;
    // The index page last: it links the others.
    files.sort_by_key(|relative| relative == "index.html");
    for relative in &files {
        let path = built.dir.join(relative);
        let body = std::fs::read(&path).map_err(|source| PublishError::Io {
            path: path.display().to_string(),
            source,
        })?;
        store
            .put(
                &format!("{SITE_PREFIX}{relative}"),
                Bytes::from(body),
                content_type(relative),
            )
            .await?;
    }
    Ok(built.recordings)
}

/// Every file under `dir`, as paths relative to `root` with `/`.
fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), PublishError> {
    let io = |source| PublishError::Io {
        path: dir.display().to_string(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            collect(root, &path, out)?;
        } else {
            let relative = path.strip_prefix(root).expect("under the root");
            out.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("json") => "application/json",
        Some("css") => "text/css",
        Some("js") => "text/javascript",
        _ => "application/octet-stream",
    }
}
