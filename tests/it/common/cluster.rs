//! What a user would check in the cluster, read with kubectl as `sim-admin`, and the cockpit's
//! local journal: shared by the end-to-end tests.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::common::{Sim, eventually};

/// How long the cluster may take to show a change.
const SETTLE: Duration = Duration::from_secs(60);

/// kubectl's JSON output.
pub fn json(sim: &Sim, args: &[&str]) -> Value {
    serde_json::from_str(&sim.kubectl(args)).expect("kubectl printed JSON")
}

/// A namespace's labels exactly as kubectl prints them.
pub fn labels_text(sim: &Sim, ns: &str) -> String {
    sim.kubectl(&["get", "ns", ns, "-o", "jsonpath={.metadata.labels}"])
}

/// A namespace's labels as JSON.
pub fn namespace_labels(sim: &Sim, ns: &str) -> Value {
    json(sim, &["get", "namespace", ns, "-o", "json"])["metadata"]["labels"].clone()
}

pub fn tag_webhook(sim: &Sim, tag: &str) -> Value {
    json(
        sim,
        &[
            "get",
            "mutatingwebhookconfiguration",
            &format!("istio-revision-tag-{tag}"),
            "-o",
            "json",
        ],
    )
}

/// The tag's `istio.io/rev` label and the istiod services its webhooks call.
pub fn tag_target(sim: &Sim, tag: &str) -> (String, Vec<String>) {
    let hook = tag_webhook(sim, tag);
    let label = hook["metadata"]["labels"]["istio.io/rev"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let services = hook["webhooks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w["clientConfig"]["service"]["name"].as_str())
        .map(str::to_string)
        .collect();
    (label, services)
}

/// Waits until the tag's label and every one of its webhooks name `revision`.
pub fn wait_tag_on(sim: &Sim, tag: &str, revision: &str) {
    let service = format!("istiod-{revision}");
    let mut last = (String::new(), Vec::new());
    let done = eventually(SETTLE, || {
        last = tag_target(sim, tag);
        (last.0 == revision && !last.1.is_empty() && last.1.iter().all(|s| *s == service))
            .then_some(())
    });
    assert!(
        done.is_some(),
        "tag {tag} is not on {revision}: label and webhook services {last:?}"
    );
}

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
