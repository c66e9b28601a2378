//! The direction of the layers, checked on the source: every `crate::<module>` a file outside
//! its tests names must be a module its layer may use. Flow runs one way, from the command
//! line through the cockpit to the pure layers, and the simulator stands apart.
//!
//! ```text
//! cli, bench ─► cockpit ─► app ─► plan ─► mesh ─► k8s
//!      │           │  │     │  │    └──► metrics
//!      │           │  │     │  └──► precheck ─► mesh, k8s
//!      │           │  └──► ui (reads app, plan, mesh, metrics, precheck)
//!      │           └──► cluster ─► mesh, metrics, precheck (and app's event and action messages)
//!      └──► sim ─► k8s
//! ```
//!
//! `precheck` is pure like `mesh`: every layer above it may read its findings.
//!
//! `plan`, `ui`, `app` (its keymap) and `cli` (the config file) read their files through
//! `toml_file`, which names nothing of the crate.

use std::path::Path;

/// Which top-level modules each one may name. A module always may name itself.
const MAY_USE: &[(&str, &[&str])] = &[
    ("k8s", &[]),
    ("toml_file", &[]),
    ("mesh", &["k8s"]),
    ("metrics", &[]),
    ("precheck", &["mesh", "k8s"]),
    ("plan", &["mesh", "metrics", "k8s", "toml_file", "precheck"]),
    (
        "app",
        &["plan", "mesh", "metrics", "k8s", "toml_file", "precheck"],
    ),
    (
        "ui",
        &["app", "plan", "mesh", "metrics", "toml_file", "precheck"],
    ),
    (
        "cluster",
        &[
            "mesh",
            "metrics",
            "k8s",
            "app::event",
            "app::actions",
            "precheck",
        ],
    ),
    (
        "cockpit",
        &[
            "app", "ui", "cluster", "plan", "mesh", "metrics", "precheck",
        ],
    ),
    ("fixture", &["app", "plan", "mesh", "metrics", "k8s"]),
    ("sim", &["k8s"]),
    (
        "cli",
        &[
            "cockpit",
            "bench",
            "app",
            "ui",
            "cluster",
            "plan",
            "mesh",
            "metrics",
            "k8s",
            "sim",
            "precheck",
            "toml_file",
        ],
    ),
    (
        "bench",
        &[
            "cockpit", "app", "ui", "cluster", "plan", "mesh", "metrics", "k8s", "sim", "precheck",
        ],
    ),
];

/// Every `crate::a::b` path in a file's code outside its tests, as `a::b` (or `a` alone).
fn named_paths(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((n, line)) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            match lines.peek() {
                // The test module comes last: nothing after it is production code.
                Some((_, next)) if next.trim_start().starts_with("mod ") && next.ends_with('{') => {
                    break;
                }
                _ => {
                    lines.next();
                    continue;
                }
            }
        }
        if trimmed.starts_with("//") {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let end = after
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(after.len());
            let segments: Vec<&str> = after[..end].split("::").filter(|s| !s.is_empty()).collect();
            if let Some(first) = segments.first() {
                let path = match segments.get(1) {
                    Some(second) => format!("{first}::{second}"),
                    None => first.to_string(),
                };
                out.push((n + 1, path));
            }
            rest = &after[end..];
        }
    }
    out
}

fn allowed(layer: &str, path: &str) -> bool {
    let target = path.split("::").next().unwrap_or(path);
    if target == layer {
        return true;
    }
    let Some((_, may)) = MAY_USE.iter().find(|(l, _)| *l == layer) else {
        return false;
    };
    may.iter().any(|m| *m == target || *m == path)
}

/// The top-level module a file under `src/` belongs to; None for the crate root files.
fn layer_of(relative: &Path) -> Option<String> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main" | "layering")).then(|| name.to_string())
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every import against the direction, as `file:line: layer names path`.
fn violations(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let relative = file.strip_prefix(src).unwrap_or(&file);
        // A test module kept in a file of its own (`mod tests;` under `#[cfg(test)]`).
        if relative.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let Some(layer) = layer_of(relative) else {
            continue;
        };
        // A module's tests in a file of their own (`#[cfg(test)] mod tests;`) are tests.
        if relative.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for (line, path) in named_paths(&text) {
            if !allowed(&layer, &path) {
                found.push(format!(
                    "src/{}:{line}: {layer} names crate::{path}",
                    relative.display()
                ));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_import_follows_the_direction_of_the_layers() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let found = violations(&src);
        assert!(
            found.is_empty(),
            "imports against the layers:\n{}",
            found.join("\n")
        );
    }

    #[test]
    fn every_layer_is_in_the_table() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        for file in files {
            if let Some(layer) = layer_of(file.strip_prefix(&src).unwrap()) {
                assert!(
                    MAY_USE.iter().any(|(l, _)| *l == layer),
                    "{layer} has no row in MAY_USE"
                );
            }
        }
    }

    #[test]
    fn the_check_catches_an_import_against_the_direction() {
        let dir = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(
            "plan/gates.rs",
            "use crate::app::state::State;\nuse crate::mesh::Mesh;\n",
        );
        write("plan/gates/tests.rs", "use crate::app::rollback;\n");
        write("ui/mod.rs", "fn f() { crate::sim::serve(); }\n");
        write("bench/mod.rs", "use crate::sim::SimOptions;\n");
        write(
            "cluster/watchers.rs",
            "use crate::app::event::Event;\nuse crate::app::state::State;\n",
        );
        write(
            "mesh/pod.rs",
            "use crate::k8s::selector;\n#[cfg(test)]\nmod tests {\n    use crate::app::update;\n}\n",
        );
        write("plan/file/tests.rs", "use crate::fixture::demo;\n");
        assert_eq!(
            violations(dir.path()),
            [
                "src/cluster/watchers.rs:2: cluster names crate::app::state",
                "src/plan/gates.rs:1: plan names crate::app::state",
                "src/ui/mod.rs:1: ui names crate::sim::serve",
            ]
        );
    }
}
