//! Helpers shared by this crate's integration tests: a scratch directory
//! that removes itself (tests must not share one), and a Zoom simulator
//! with a client for it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug)]
pub struct TestDir(PathBuf);

impl TestDir {
    pub fn new(name: &str) -> TestDir {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "zoomvault-archive-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create test dir");
        TestDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Names of the entries directly in `relative`, sorted.
    pub fn entries(&self, relative: &str) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.0.join(relative))
            .map(|entries| {
                entries
                    .filter_map(|entry| entry.ok())
                    .map(|entry| entry.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A Zoom simulator on a free loopback port, and a client for it.
pub async fn sim_and_client() -> (zoomvault_zoom_sim::ZoomSim, zoomvault_zoom::ZoomClient) {
    let sim = zoomvault_zoom_sim::ZoomSim::start(
        zoomvault_zoom_sim::SimConfig::default(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let c = sim.config();
    let mut config = zoomvault_zoom::ZoomConfig::new(
        c.account_id.clone(),
        c.client_id.clone(),
        c.client_secret.clone(),
    );
    config.api_base = sim.api_base_url();
    config.oauth_base = sim.base_url();
    let client = zoomvault_zoom::ZoomClient::new(config).unwrap();
    (sim, client)
}
