//! The static site that lists archived recordings: an index page, one page
//! per recording and a JSON search index (`recordings.json`) that the index
//! page filters in the browser, with no build step and no server logic.
//!
//! A build writes a complete new tree under `builds/` and then points the
//! `current` symlink at it with one atomic rename, so a reader (a web
//! server, a sync to a bucket) never sees half a site. This crate knows
//! nothing of Zoom or storage: callers hand it `SiteRecording`s, made from
//! recording documents by `SiteRecording::from_document`. All text
//! from outside (topics, names) is HTML-escaped; page names are checked.

mod from_document;
mod html;
pub mod publish;

use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use html::escape;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("recording {uuid:?}: page name {slug:?} may only use A-Z a-z 0-9 . _ - = and must not start with '.'")]
    BadSlug { uuid: String, slug: String },
    #[error("two recordings would share the page {slug:?}")]
    DuplicateSlug { slug: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// One recording as the site shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteRecording {
    pub uuid: String,
    /// The page's file stem (`recordings/<slug>.html`); derived by the
    /// caller from the recording's storage keys, never from its topic.
    pub slug: String,
    pub topic: String,
    /// RFC 3339.
    pub start_time: String,
    pub duration_minutes: u64,
    pub host: Option<String>,
    pub files: Vec<SiteFile>,
}

/// One archived file of a recording.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteFile {
    /// What the file is, e.g. `shared_screen_with_speaker_view`.
    pub label: String,
    pub file_type: String,
    pub size: u64,
    /// Where the file can be fetched, relative to the site root or absolute.
    pub href: String,
}

#[derive(Debug, Clone)]
pub struct SiteConfig {
    /// Holds `current` (a symlink to the live build) and `builds/`.
    pub root: PathBuf,
    pub title: String,
}

/// What a build produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    /// The live site directory (`<root>/current`).
    pub dir: PathBuf,
    pub recordings: usize,
}

/// Builds the whole site from `recordings` and makes it live atomically.
/// Recordings are listed newest first; older builds beyond the previous one
/// are removed, as are partial builds a crash left behind. One builder per
/// root at a time: callers serialise builds (the site rebuild consumer does).
pub fn build(config: &SiteConfig, recordings: &[SiteRecording]) -> Result<Built, Error> {
    let mut sorted: Vec<&SiteRecording> = recordings.iter().collect();
    sorted.sort_by(|a, b| {
        b.start_time
            .cmp(&a.start_time)
            .then_with(|| a.uuid.cmp(&b.uuid))
    });
    let mut seen = std::collections::HashSet::new();
    for r in &sorted {
        if !slug_is_safe(&r.slug) {
            return Err(Error::BadSlug {
                uuid: r.uuid.clone(),
                slug: r.slug.clone(),
            });
        }
        if !seen.insert(r.slug.as_str()) {
            return Err(Error::DuplicateSlug {
                slug: r.slug.clone(),
            });
        }
    }

    let builds = config.root.join("builds");
    create_dir_all(&builds)?;
    let build_name = next_build_name(&builds)?;
    let tmp = builds.join(format!(".{build_name}.partial"));
    let dir = builds.join(&build_name);
    create_dir_all(&tmp.join("recordings"))?;

    write_file(
        &tmp.join("index.html"),
        html::index_page(&config.title, &sorted).as_bytes(),
    )?;
    for r in &sorted {
        let page = html::recording_page(&config.title, r);
        write_file(
            &tmp.join("recordings").join(format!("{}.html", r.slug)),
            page.as_bytes(),
        )?;
    }
    let search: Vec<SearchEntry> = sorted.iter().map(|r| SearchEntry::from(*r)).collect();
    let json = serde_json::to_vec_pretty(&search).expect("search entries serialize");
    write_file(&tmp.join("recordings.json"), &json)?;
    rename(&tmp, &dir)?;

    // Swap `current` to the new build: a new symlink renamed over the old
    // one is atomic, so readers see either the old site or the new one.
    let current = config.root.join("current");
    let link_tmp = config.root.join(format!(".current.{build_name}"));
    let _ = std::fs::remove_file(&link_tmp);
    symlink(Path::new("builds").join(&build_name), &link_tmp)?;
    rename(&link_tmp, &current)?;
    prune_builds(&builds, &build_name)?;
    Ok(Built {
        dir: current,
        recordings: sorted.len(),
    })
}

/// An entry of `recordings.json`, the index page's search data.
#[derive(Debug, Serialize)]
struct SearchEntry<'a> {
    uuid: &'a str,
    topic: &'a str,
    start_time: &'a str,
    duration_minutes: u64,
    host: Option<&'a str>,
    files: usize,
    bytes: u64,
    page: String,
}

impl<'a> From<&'a SiteRecording> for SearchEntry<'a> {
    fn from(r: &'a SiteRecording) -> Self {
        SearchEntry {
            uuid: &r.uuid,
            topic: &r.topic,
            start_time: &r.start_time,
            duration_minutes: r.duration_minutes,
            host: r.host.as_deref(),
            files: r.files.len(),
            bytes: r.files.iter().map(|f| f.size).sum(),
            page: format!("recordings/{}.html", r.slug),
        }
    }
}

fn slug_is_safe(slug: &str) -> bool {
    !slug.is_empty()
        && !slug.starts_with('.')
        && slug.len() <= 200
        && slug
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'='))
}

/// Build directories are numbered; the next one is one past the highest.
fn next_build_name(builds: &Path) -> Result<String, Error> {
    let highest = build_numbers(builds)?.into_iter().max().unwrap_or(0);
    Ok(format!("{:08}", highest + 1))
}

fn build_numbers(builds: &Path) -> Result<Vec<u64>, Error> {
    let entries = std::fs::read_dir(builds).map_err(|source| Error::Io {
        path: builds.to_path_buf(),
        source,
    })?;
    Ok(entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u64>().ok()))
        .collect())
}

/// Keeps the live build and the one before it (a reader may still be in
/// the middle of it); removes older builds and abandoned partial ones.
fn prune_builds(builds: &Path, live: &str) -> Result<(), Error> {
    let live: u64 = live.parse().expect("build names are numbers");
    let entries = std::fs::read_dir(builds).map_err(|source| Error::Io {
        path: builds.to_path_buf(),
        source,
    })?;
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let stale = match name.parse::<u64>() {
            Ok(n) => n + 1 < live,
            Err(_) => name.ends_with(".partial") && !name.starts_with(&format!(".{live:08}")),
        };
        if stale {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    Ok(())
}

fn create_dir_all(path: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::create(path).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)
}

fn rename(from: &Path, to: &Path) -> Result<(), Error> {
    std::fs::rename(from, to).map_err(|source| Error::Io {
        path: to.to_path_buf(),
        source,
    })
}

#[cfg(unix)]
fn symlink(target: PathBuf, link: &Path) -> Result<(), Error> {
    std::os::unix::fs::symlink(target, link).map_err(|source| Error::Io {
        path: link.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests;
