//! Files a test writes for the code under test to read: plans, themes, manifests.

use std::path::{Path, PathBuf};

/// Writes `text` to `name` in `dir` and returns the file's path.
pub fn write(dir: impl AsRef<Path>, name: &str, text: &str) -> PathBuf {
    let path = dir.as_ref().join(name);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}
