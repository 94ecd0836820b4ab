//! The tidy test: it keeps the repository's docs true, as rust-analyzer's
//! `xtask/src/tidy.rs` does for its own. Every Rust file must open with a
//! `//!` paragraph saying what it owns, and every repo path named in the docs
//! (the Markdown files, and the `//!` and `///` comments of Rust files) must
//! exist; Markdown docs must not point outside the repository. Each check
//! reports every offence at once, with file and line, and says how to fix
//! it. The test only reads files (and asks `git ls-files` which ones); it
//! never writes anything or decides what a doc should say.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn every_rust_file_opens_with_a_doc_paragraph() {
    let repo = Repo::load();
    let offences: Vec<String> = repo
        .files
        .iter()
        .filter(|file| file.ends_with(".rs"))
        .filter_map(|file| {
            let source = repo.read(file);
            let first = source.lines().map(str::trim).find(|l| !l.is_empty());
            let first = first.unwrap_or("");
            let text = first.strip_prefix("//!").map_or("", str::trim);
            text.is_empty()
                .then(|| format!("{file}: opens with {first:?}"))
        })
        .collect();
    assert!(
        offences.is_empty(),
        "{} Rust file(s) do not open with a //! paragraph; add one saying what \
         the file owns and what it must not do:\n{}",
        offences.len(),
        offences.join("\n")
    );
}

#[test]
fn every_repo_path_named_in_the_docs_exists() {
    let repo = Repo::load();
    let mut offences = Vec::new();
    let docs = repo
        .files
        .iter()
        .filter(|f| f.ends_with(".md") || f.ends_with(".rs"));
    for doc in docs {
        let source = repo.read(doc);
        for (line, word) in mentioned_words(&doc_lines(doc, &source)) {
            let word = clean(&word);
            if doc.ends_with(".md") && leaves_repo(doc, word) {
                offences.push(format!(
                    "{doc}:{line}: `{word}` points outside the repository; \
                     name what it is in words instead of linking to it"
                ));
            } else if let Some(path) = repo_path(word, &repo.top_dirs) {
                if !repo.paths.contains(&path) {
                    offences.push(format!(
                        "{doc}:{line}: `{word}` names `{path}`, which does not exist; \
                         fix the path to what the doc means, or drop the mention"
                    ));
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "{} doc mention(s) of repo paths are broken:\n{}",
        offences.len(),
        offences.join("\n")
    );
}

/// Pins what counts as a repo path, so the rules in `repo_path` stay the
/// documented ones.
#[test]
fn repo_paths_are_recognised_by_their_first_segment() {
    let top_dirs = ["crates", "scripts", ".ci"].map(String::from).into();
    let cases = [
        ("crates/engine/src/lib.rs", Some("crates/engine/src/lib.rs")),
        ("./scripts/test", Some("scripts/test")),
        (".ci/run", Some(".ci/run")),
        ("crates/engine/tests/", Some("crates/engine/tests")),
        (
            "crates/engine/src/store.rs:42",
            Some("crates/engine/src/store.rs"),
        ),
        ("crates/*/Cargo.toml", Some("crates")),
        (
            "crates/engine/tests/{engine,crash}.rs",
            Some("crates/engine/tests"),
        ),
        ("crates/aws/...", Some("crates/aws")),
        ("README.md", Some("README.md")),
        ("Cargo.toml", Some("Cargo.toml")),
        ("recording.json", None),
        ("conformance/", None),
        ("objects/recordings/<uuid>/...", None),
        ("https://zoom.us/oauth", None),
        ("../shared/DESIGN.md", None),
    ];
    for (word, expected) in cases {
        assert_eq!(repo_path(word, &top_dirs).as_deref(), expected, "{word}");
    }
}

/// Pins which words of a doc are looked at: those of code spans (also one
/// wrapped onto the next line) and link targets, not those of plain text or
/// fenced code blocks.
#[test]
fn only_code_spans_and_link_targets_are_read() {
    let doc = "see `bench/run` and [the map](ARCHITECTURE.md#code-map), not bench/x\n\
               a span `zoomvault\n\
               zoom-sim` wraps\n\
               ```sh\n\
               `inside/a/fence`\n\
               ```";
    let words = mentioned_words(&doc_lines("README.md", doc));
    let words: Vec<(usize, &str)> = words.iter().map(|(l, w)| (*l, w.as_str())).collect();
    let expected = [
        (1, "bench/run"),
        (1, "ARCHITECTURE.md"),
        (2, "zoomvault"),
        (2, "zoom-sim"),
    ];
    assert_eq!(words, expected);
}

/// The repository as the checks see it: its files and the directories
/// holding them.
struct Repo {
    root: PathBuf,
    /// Every file, as a `/`-separated path from the root, sorted.
    files: Vec<String>,
    /// Every file and every directory holding one: what a repo path may name.
    paths: BTreeSet<String>,
    /// The top-level directories: a word starting with one names a repo path.
    top_dirs: BTreeSet<String>,
}

impl Repo {
    fn load() -> Repo {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let files = git_files(&root).unwrap_or_else(|| walked_files(&root));
        let mut paths = BTreeSet::new();
        let mut top_dirs = BTreeSet::new();
        for file in &files {
            for (end, _) in file.match_indices('/') {
                paths.insert(file[..end].to_string());
            }
            if let Some((top, _)) = file.split_once('/') {
                top_dirs.insert(top.to_string());
            }
            paths.insert(file.clone());
        }
        Repo {
            root,
            files,
            paths,
            top_dirs,
        }
    }

    fn read(&self, file: &str) -> String {
        fs::read_to_string(self.root.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
    }
}

/// The files git knows: tracked ones plus new ones not ignored, so the test
/// sees what a clone will hold (and what is about to be added), never the
/// ignored `target/` or data directories. `None` without git or outside a
/// repository, e.g. in an unpacked source archive.
fn git_files(root: &Path) -> Option<Vec<String>> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let listing = String::from_utf8(output.stdout).ok()?;
    // A deleted file stays listed until its deletion is staged.
    let mut files: Vec<String> = listing
        .split('\0')
        .filter(|file| !file.is_empty() && root.join(file).is_file())
        .map(String::from)
        .collect();
    files.sort();
    files.dedup();
    Some(files)
}

/// Every file under `root` except in dot-directories (`.git`, so also
/// `.ci`, whose paths then go unchecked) and `target` directories: the
/// fallback when git cannot list the files.
fn walked_files(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut dirs = vec![PathBuf::new()];
    while let Some(dir) = dirs.pop() {
        let entries = fs::read_dir(root.join(&dir));
        for entry in entries.unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let entry = entry.unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = dir.join(&name);
            if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                files.push(path.to_string_lossy().replace('\\', "/"));
            } else if !name.starts_with('.') && name != "target" {
                dirs.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The documentation in `file`, line by line with 1-based line numbers: all
/// of a Markdown file, and the text of a Rust file's `//!` and `///` lines.
fn doc_lines<'a>(file: &str, source: &'a str) -> Vec<(usize, &'a str)> {
    let numbered = source.lines().enumerate().map(|(i, line)| (i + 1, line));
    if file.ends_with(".md") {
        return numbered.collect();
    }
    numbered
        .filter_map(|(n, line)| {
            let line = line.trim_start();
            let doc = line.strip_prefix("//!");
            let doc = doc.or_else(|| line.strip_prefix("///").filter(|t| !t.starts_with('/')));
            Some((n, doc?))
        })
        .collect()
}

/// The words of every code span and every Markdown link target in `lines`,
/// each with the line it starts on. Fenced code blocks are skipped; a code
/// span may wrap onto the next line, as Markdown allows, but ends at a blank
/// line or a gap between doc comments.
fn mentioned_words(lines: &[(usize, &str)]) -> Vec<(usize, String)> {
    let mut words = Vec::new();
    let mut in_fence = false;
    // A code span open at the end of the line before: its first line, its text so far.
    let mut open: Option<(usize, String)> = None;
    let mut previous = 0;
    for &(n, text) in lines {
        if n != previous + 1 || text.trim().is_empty() {
            open = None;
        }
        previous = n;
        if text.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        for (i, piece) in text.split('`').enumerate() {
            if i > 0 {
                // Every backtick opens or closes a code span.
                open = match open.take() {
                    Some((start, span)) => {
                        words.extend(span.split_whitespace().map(|w| (start, w.to_string())));
                        None
                    }
                    None => Some((n, String::new())),
                };
            }
            match &mut open {
                Some((_, span)) => {
                    span.push(' ');
                    span.push_str(piece);
                }
                None => words.extend(link_targets(piece).map(|t| (n, t.to_string()))),
            }
        }
    }
    words
}

/// The targets of the Markdown links `[text](target)` in `text`, without
/// their `#anchor`.
fn link_targets(text: &str) -> impl Iterator<Item = &str> {
    text.split("](").skip(1).filter_map(|rest| {
        let target = rest.split([')', ' ']).next()?;
        target.split('#').next().filter(|t| !t.is_empty())
    })
}

/// `word` without the punctuation around it: brackets, quotes, and a
/// sentence's trailing comma or full stop.
fn clean(word: &str) -> &str {
    word.trim_start_matches(['(', '[', '{', '<', '"', '\''])
        .trim_end_matches([')', ']', '}', '>', '"', '\'', ',', ';', ':', '.'])
}

/// Whether `word`, read relative to the Markdown file `doc`, climbs above
/// the repository's root.
fn leaves_repo(doc: &str, word: &str) -> bool {
    let ups = word
        .split('/')
        .take_while(|segment| *segment == "..")
        .count();
    ups > doc.matches('/').count()
}

/// The repo path `word` names, if it names one: a word whose first segment is
/// a top-level directory (`crates/...`, also as `./scripts/...`), or a root
/// file's name (`Cargo.toml`, `Cargo.lock`, or an upper-case Markdown name
/// such as `README.md`). A trailing `:line` is dropped, and the path is cut
/// before its first segment holding a glob or a placeholder, or `...`:
/// `crates/*/src` checks `crates`. Other relative paths (`conformance/`
/// inside a crate's docs) and URLs are not repo paths.
fn repo_path(word: &str, top_dirs: &BTreeSet<String>) -> Option<String> {
    let word = without_line_number(word.strip_prefix("./").unwrap_or(word));
    let Some((top, _)) = word.split_once('/') else {
        return is_root_file_name(word).then(|| word.to_string());
    };
    if !top_dirs.contains(top) {
        return None;
    }
    let wildcard = |segment: &&str| segment.contains(['*', '?', '<', '>', '{', '}', '[', ']', '|']);
    let segments: Vec<&str> = word
        .split('/')
        .take_while(|segment| !wildcard(segment) && *segment != "...")
        .filter(|segment| !segment.is_empty())
        .collect();
    Some(segments.join("/"))
}

fn without_line_number(word: &str) -> &str {
    match word.rsplit_once(':') {
        Some((path, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            without_line_number(path)
        }
        _ => word,
    }
}

fn is_root_file_name(word: &str) -> bool {
    let upper_case = |stem: &str| {
        let name_byte = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit() || b"_-".contains(&b);
        stem.bytes().any(|b| b.is_ascii_uppercase()) && stem.bytes().all(name_byte)
    };
    word == "Cargo.toml" || word == "Cargo.lock" || word.strip_suffix(".md").is_some_and(upper_case)
}
