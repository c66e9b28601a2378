//! The cockpit's journal, as the tests read it: the local file of each cockpit and the
//! ConfigMap every cockpit of the cluster shares.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::Sim;

/// Where a cockpit named `name` keeps its local journal, under `dir`.
pub fn journal_file(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name).join("journal.jsonl")
}

/// The entries of a local journal file written so far (none when it does not exist yet).
pub fn journal_entries(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The lines of a local journal, each of which must be JSON.
pub fn journal_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad journal line {l:?}: {e}")))
        .collect()
}

/// The entries of the journal ConfigMap in istio-system.
pub fn cluster_journal(sim: &Sim) -> Vec<Value> {
    let text = sim.kubectl(&[
        "get",
        "configmap",
        "istio-cockpit-journal",
        "-n",
        "istio-system",
        "-o",
        "jsonpath={.data.entries}",
    ]);
    serde_json::from_str::<Value>(&text)
        .unwrap_or_else(|e| panic!("journal entries are not JSON ({e}): {text}"))
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// What an entry did, without when and who: `(action, target, result, dry_run)`.
pub fn gist(entry: &Value) -> (String, String, String, bool) {
    (
        entry["action"].as_str().unwrap_or_default().to_string(),
        entry["target"].as_str().unwrap_or_default().to_string(),
        entry["result"].as_str().unwrap_or_default().to_string(),
        entry["dry_run"].as_bool().unwrap_or(false),
    )
}
