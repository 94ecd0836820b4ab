//! Home of zoomvault's tidy test (`tools/tidy/tests/tidy.rs`), which keeps
//! the repository's docs true: every Rust file opens with a `//!` paragraph,
//! and every repo path named in the Markdown docs or in doc comments exists.
//! The library is empty on purpose: the crate exists so that `cargo test
//! --workspace` runs the checks, and it has no dependencies, so `cargo test
//! -p zoomvault-tidy` builds in seconds. It must never grow code the
//! product uses.
