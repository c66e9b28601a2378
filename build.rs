//! Stamps the build with the git revision it comes from, for `--version`:
//! `ISTIO_COCKPIT_REVISION` is the short hash of HEAD, or `unknown` outside a git checkout
//! (a source tarball still builds).
//!
//! The script runs again only when HEAD moves: when the checkout's HEAD file, the branch's
//! ref or the checkout's HEAD reflog changes. It never watches a whole refs folder, where
//! other checkouts of the same repository would trigger rebuilds here.

use std::path::{Path, PathBuf};
use std::process::Command;

const VARIABLE: &str = "ISTIO_COCKPIT_REVISION";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from) else {
        println!("cargo:rustc-env={VARIABLE}=unknown");
        return;
    };
    let revision = if own_checkout(&dir) {
        watch_head(&dir);
        git(&dir, &["rev-parse", "--short", "HEAD"])
    } else {
        None
    };
    let revision = revision.unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env={VARIABLE}={revision}");
}

/// Whether `dir` is the top of a git checkout, not a folder unpacked inside another
/// repository (whose revision would say nothing about this source).
fn own_checkout(dir: &Path) -> bool {
    let Some(top) = git(dir, &["rev-parse", "--show-toplevel"]) else {
        return false;
    };
    match (Path::new(&top).canonicalize(), dir.canonicalize()) {
        (Ok(top), Ok(dir)) => top == dir,
        _ => false,
    }
}

/// Asks cargo to run this script again when HEAD points elsewhere. Only files that exist
/// are named: cargo reruns a script on every build while a named file is missing.
fn watch_head(dir: &Path) {
    let mut files = vec!["HEAD".to_owned(), "logs/HEAD".to_owned()];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        files.push(branch);
    }
    for file in files {
        let Some(path) = git(dir, &["rev-parse", "--git-path", &file]) else {
            continue;
        };
        let path = dir.join(path);
        if path.is_file() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}

/// One line of git's answer, or None when git is missing or refuses.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let line = text.trim();
    (!line.is_empty()).then(|| line.to_owned())
}
