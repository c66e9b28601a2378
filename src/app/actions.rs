//! The upgrade's writes, as data: what each action changes, the exact patch, and the preview
//! the user confirms. Pure: the cluster side sends what is computed here.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::mesh::injection::{DATAPLANE_MODE, INJECTION, REV};
use crate::mesh::journal::JournalAction;

/// Where a migrated namespace keeps its injection labels as they were, for `revert`.
pub const PREVIOUS: &str = "istio-cockpit.io/previous-injection";
/// The revision a namespace was migrated to.
pub const MIGRATED_TO: &str = "istio-cockpit.io/migrated-to";
pub use crate::mesh::resources::PREVIOUS_REVISION;
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

const INJECTION_KEYS: [&str; 3] = [INJECTION, REV, DATAPLANE_MODE];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Migrate {
        namespace: String,
        to: String,
    },
    Revert {
        namespace: String,
    },
    MoveTag {
        tag: String,
        from: String,
        to: String,
    },
    Restart {
        namespace: String,
    },
    Advance {
        from: String,
        to: String,
        overridden: bool,
    },
    TakeOver,
    /// A paced wave (`M`) reached a point the journal keeps: it stopped, and why, or its last
    /// namespace finished (the command's record then says when).
    WaveNote {
        phase: String,
        note: String,
    },
    /// The phase of every cluster of a fleet, recorded on the primary (the command's record).
    RecordFleet {
        summary: String,
    },
}

impl Action {
    /// What the journal calls it; also the verb the screen names it by.
    pub fn verb(&self) -> JournalAction {
        match self {
            Action::Migrate { .. } => JournalAction::Migrate,
            Action::Revert { .. } => JournalAction::Revert,
            Action::MoveTag { .. } => JournalAction::MoveTag,
            Action::Restart { .. } => JournalAction::Restart,
            Action::Advance { .. } => JournalAction::Advance,
            Action::TakeOver => JournalAction::TakeOver,
            Action::WaveNote { .. } => JournalAction::Wave,
            Action::RecordFleet { .. } => JournalAction::Fleet,
        }
    }

    pub fn target(&self) -> String {
        match self {
            Action::Migrate { namespace, .. }
            | Action::Revert { namespace }
            | Action::Restart { namespace } => {
                format!("namespace/{namespace}")
            }
            Action::MoveTag { tag, .. } => format!("tag/{tag}"),
            Action::Advance { to, .. } => format!("phase/{to}"),
            Action::TakeOver => "lease/istio-cockpit-driver".into(),
            Action::WaveNote { phase, .. } => format!("phase/{phase}"),
            Action::RecordFleet { .. } => "record/fleet".into(),
        }
    }
}

/// The injection labels of a namespace (the only labels the cockpit ever touches).
pub fn injection_labels(labels: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    labels
        .iter()
        .filter(|(k, _)| INJECTION_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The injection labels recorded before a migration, if the namespace carries the record.
pub fn recorded_labels(annotations: &BTreeMap<String, String>) -> Option<BTreeMap<String, String>> {
    serde_json::from_str(annotations.get(PREVIOUS)?).ok()
}

/// One merge patch: `istio.io/rev=<to>`, `istio-injection` removed, and the labels as they
/// were stored in an annotation. A namespace migrated before keeps its first record, so a
/// repeated migrate never loses the way back.
pub fn migrate_patch(
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
    to: &str,
) -> Value {
    let mut label_changes = Map::new();
    label_changes.insert(REV.into(), json!(to));
    if labels.contains_key(INJECTION) {
        label_changes.insert(INJECTION.into(), Value::Null);
    }
    let mut annotation_changes = Map::new();
    if !annotations.contains_key(PREVIOUS) {
        annotation_changes.insert(
            PREVIOUS.into(),
            json!(json!(injection_labels(labels)).to_string()),
        );
    }
    annotation_changes.insert(MIGRATED_TO.into(), json!(to));
    json!({"metadata": {"labels": label_changes, "annotations": annotation_changes}})
}

/// A revert asked of a namespace that keeps no record of its labels from before a migration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("nothing to revert: the namespace has no {PREVIOUS} annotation")]
pub struct NothingToRevert;

/// One merge patch restoring exactly the recorded injection labels and dropping the record.
pub fn revert_patch(
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
) -> Result<Value, NothingToRevert> {
    let previous = recorded_labels(annotations).ok_or(NothingToRevert)?;
    let mut label_changes = Map::new();
    for key in INJECTION_KEYS {
        match (labels.get(key), previous.get(key)) {
            (_, Some(v)) => {
                label_changes.insert(key.into(), json!(v));
            }
            (Some(_), None) => {
                label_changes.insert(key.into(), Value::Null);
            }
            (None, None) => {}
        }
    }
    Ok(json!({"metadata": {
        "labels": label_changes,
        "annotations": {PREVIOUS: null, MIGRATED_TO: null},
    }}))
}

/// The labels a merge patch leaves, for previews and checks.
pub fn labels_after(labels: &BTreeMap<String, String>, patch: &Value) -> BTreeMap<String, String> {
    let mut out = labels.clone();
    if let Some(changes) = patch["metadata"]["labels"].as_object() {
        for (k, v) in changes {
            match v.as_str() {
                Some(v) => {
                    out.insert(k.clone(), v.to_string());
                }
                None => {
                    out.remove(k);
                }
            }
        }
    }
    out
}

/// Lines describing a label change: `istio-injection: enabled -> (removed)`.
pub fn label_diff(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| {
            let show = |v: Option<&String>| v.map_or("(none)".to_string(), String::clone);
            format!(
                "label {k}: {} -> {}",
                show(before.get(k)),
                show(after.get(k)).replace("(none)", "(removed)")
            )
        })
        .collect()
}

/// The strategic merge patch `kubectl rollout restart` sends.
pub fn restart_patch(at: &str) -> Value {
    json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: at}}}}})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn migrate_then_revert_restores_the_labels_exactly() {
        let labels = map(&[
            ("istio-injection", "enabled"),
            ("tier", "staging"),
            ("team", "web"),
        ]);
        let annotations = map(&[("owner", "web-team")]);
        let migrate = migrate_patch(&labels, &annotations, "1-25-0");
        let migrated = labels_after(&labels, &migrate);
        assert_eq!(
            migrated,
            map(&[
                ("istio.io/rev", "1-25-0"),
                ("tier", "staging"),
                ("team", "web")
            ])
        );
        let mut annotated = annotations.clone();
        for (k, v) in migrate["metadata"]["annotations"].as_object().unwrap() {
            annotated.insert(k.clone(), v.as_str().unwrap().to_string());
        }
        assert_eq!(
            recorded_labels(&annotated),
            Some(map(&[("istio-injection", "enabled")]))
        );
        let revert = revert_patch(&migrated, &annotated).unwrap();
        assert_eq!(labels_after(&migrated, &revert), labels);
        assert_eq!(revert["metadata"]["annotations"][PREVIOUS], Value::Null);
    }

    #[test]
    fn a_repeated_migrate_keeps_the_first_record() {
        let labels = map(&[("istio.io/rev", "1-25-0")]);
        let annotations = map(&[(PREVIOUS, r#"{"istio.io/rev":"stable"}"#)]);
        let again = migrate_patch(&labels, &annotations, "1-25-0");
        assert!(again["metadata"]["annotations"].get(PREVIOUS).is_none());
        let revert = revert_patch(&labels, &annotations).unwrap();
        assert_eq!(
            labels_after(&labels, &revert),
            map(&[("istio.io/rev", "stable")])
        );
    }

    #[test]
    fn revert_without_a_record_is_refused_and_diffs_read_well() {
        assert_eq!(
            revert_patch(&map(&[]), &map(&[])).unwrap_err().to_string(),
            format!("nothing to revert: the namespace has no {PREVIOUS} annotation")
        );
        let diff = label_diff(
            &map(&[("istio-injection", "enabled")]),
            &map(&[("istio.io/rev", "1-25-0")]),
        );
        assert_eq!(
            diff,
            [
                "label istio-injection: enabled -> (removed)",
                "label istio.io/rev: (none) -> 1-25-0"
            ]
        );
    }
}
