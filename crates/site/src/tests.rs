//! Unit tests of the site builder: pages and the search index are built
//! from recordings written here into a fresh temporary directory, and the
//! tests pin what a reader sees (escaped topics, newest first, file tables,
//! the atomic swap of the live build, refused page names). They drive only
//! this crate's functions and write nothing outside their temp directories.

use super::*;
use expect_test::expect;

fn recording(uuid: &str, slug: &str, topic: &str, start: &str) -> SiteRecording {
    SiteRecording {
        uuid: uuid.into(),
        slug: slug.into(),
        topic: topic.into(),
        start_time: start.into(),
        duration_minutes: 42,
        host: Some("host@example.com".into()),
        files: vec![SiteFile {
            label: "shared_screen_with_speaker_view".into(),
            file_type: "MP4".into(),
            size: 3 * 1024 * 1024,
            href: "/files/recordings/2026/11/23/1/x/files/a.mp4".into(),
        }],
    }
}

fn temp_root(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zoomvault-site-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn config(root: &Path) -> SiteConfig {
    SiteConfig {
        root: root.to_path_buf(),
        title: "Recordings".into(),
    }
}

#[test]
fn topics_are_escaped_everywhere_they_appear() {
    let root = temp_root("escape");
    let r = recording(
        "u1",
        "u1",
        "<script>alert(\"x\")</script> & co",
        "2026-11-23T10:00:00Z",
    );
    let built = build(&config(&root), &[r]).unwrap();
    let index = std::fs::read_to_string(built.dir.join("index.html")).unwrap();
    let page = std::fs::read_to_string(built.dir.join("recordings/u1.html")).unwrap();
    for html in [&index, &page] {
        assert!(!html.contains("<script>alert"), "unescaped topic in {html}");
        assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co"));
    }
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn index_lists_newest_first_and_search_index_matches() {
    let root = temp_root("order");
    let old = recording("old", "old", "Old meeting", "2026-01-01T09:00:00Z");
    let new = recording("new", "new", "New meeting", "2026-11-01T09:00:00Z");
    let built = build(&config(&root), &[old, new]).unwrap();
    assert_eq!(built.recordings, 2);
    let index = std::fs::read_to_string(built.dir.join("index.html")).unwrap();
    let (new_at, old_at) = (
        index.find("New meeting").unwrap(),
        index.find("Old meeting").unwrap(),
    );
    assert!(new_at < old_at, "newest first");
    let search: serde_json::Value =
        serde_json::from_slice(&std::fs::read(built.dir.join("recordings.json")).unwrap()).unwrap();
    let topics: Vec<&str> = search
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["topic"].as_str().unwrap())
        .collect();
    assert_eq!(topics, ["New meeting", "Old meeting"]);
    assert_eq!(search[0]["page"], "recordings/new.html");
    assert_eq!(search[0]["bytes"], 3 * 1024 * 1024);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn recording_page_shows_files_with_links_and_sizes() {
    let r = recording("u1", "u1", "Weekly", "2026-11-23T10:00:00Z");
    let html = html::recording_page("Recordings", &r);
    let table = &html[html.find("<table>").unwrap()..html.find("</table>").unwrap()];
    expect![[r#"
        <table>
        <thead><tr><th>File</th><th>Type</th><th>Size</th></tr></thead>
        <tbody>
        <tr><td><a href="/files/recordings/2026/11/23/1/x/files/a.mp4">shared_screen_with_speaker_view</a></td><td>MP4</td><td class="num">3.0 MiB</td></tr>
        </tbody>
    "#]]
    .assert_eq(table);
}

#[test]
fn a_rebuild_swaps_the_live_site_and_prunes_old_builds() {
    let root = temp_root("swap");
    let cfg = config(&root);
    build(
        &cfg,
        &[recording("a", "a", "First", "2026-11-01T00:00:00Z")],
    )
    .unwrap();
    build(&cfg, &[]).unwrap();
    let built = build(
        &cfg,
        &[recording("b", "b", "Third", "2026-11-03T00:00:00Z")],
    )
    .unwrap();
    let index = std::fs::read_to_string(built.dir.join("index.html")).unwrap();
    assert!(index.contains("Third") && !index.contains("First"));
    assert_eq!(
        std::fs::read_link(root.join("current")).unwrap(),
        Path::new("builds").join("00000003")
    );
    let mut kept = build_numbers(&root.join("builds")).unwrap();
    kept.sort();
    assert_eq!(kept, [2, 3], "the live build and the one before it");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn unsafe_or_duplicate_page_names_are_refused() {
    let root = temp_root("slugs");
    let bad = recording("u1", "../escape", "x", "2026-11-23T10:00:00Z");
    let err = build(&config(&root), &[bad]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "recording \"u1\": page name \"../escape\" may only use A-Z a-z 0-9 . _ - = and must not start with '.'"
    );
    let twice = [
        recording("u1", "same", "x", "2026-11-23T10:00:00Z"),
        recording("u2", "same", "y", "2026-11-23T11:00:00Z"),
    ];
    let err = build(&config(&root), &twice).unwrap_err();
    assert_eq!(
        err.to_string(),
        "two recordings would share the page \"same\""
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn an_empty_archive_still_has_an_index_page() {
    let root = temp_root("empty");
    let built = build(&config(&root), &[]).unwrap();
    let index = std::fs::read_to_string(built.dir.join("index.html")).unwrap();
    assert!(index.contains("No recordings archived yet."));
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn sizes_read_in_binary_units() {
    assert_eq!(html::human_size(512), "512 B");
    assert_eq!(html::human_size(1536), "1.5 KiB");
    assert_eq!(html::human_size(2 * 1024 * 1024 * 1024), "2.0 GiB");
}
