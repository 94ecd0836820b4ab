//! A journal path in a scratch directory of its own, for this crate's unit
//! tests; the directory goes when the value is dropped, so test runs leave
//! nothing behind in the system's temporary directory.

use std::path::{Path, PathBuf};

pub(crate) struct ScratchJournal {
    dir: PathBuf,
    path: PathBuf,
}

impl ScratchJournal {
    /// `journal.db` in a fresh directory named after the test (`name`),
    /// the process and the thread.
    pub(crate) fn new(name: &str) -> ScratchJournal {
        let dir = std::env::temp_dir().join(format!(
            "zoomvault-engine-unit-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        let path = dir.join("journal.db");
        ScratchJournal { dir, path }
    }
}

impl std::ops::Deref for ScratchJournal {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for ScratchJournal {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchJournal {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
