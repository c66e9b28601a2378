//! What the controllers read from a pod, decoded straight from the stored JSON: a pod is read
//! on every change of its siblings, so only these fields are materialized.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::objects::{text, uid};
use crate::k8s::selector::{FieldSelector, LabelSelector};
use crate::sim::injection::selector_matches;
use crate::sim::store::Store;

/// An explicit `null` reads as the default, as Kubernetes treats it.
fn or_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Pod {
    #[serde(deserialize_with = "or_default")]
    pub metadata: Meta,
    #[serde(deserialize_with = "or_default")]
    pub spec: Spec,
    #[serde(deserialize_with = "or_default")]
    pub status: Status,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Meta {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    #[serde(deserialize_with = "or_default")]
    pub creation_timestamp: String,
    pub deletion_timestamp: Option<String>,
    #[serde(deserialize_with = "or_default")]
    pub owner_references: Vec<OwnerRef>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OwnerRef {
    pub kind: String,
    pub name: String,
    pub uid: String,
    pub controller: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Spec {
    pub node_name: Option<String>,
    pub termination_grace_period_seconds: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Status {
    pub phase: Option<String>,
    #[serde(deserialize_with = "or_default")]
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Condition {
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
}

impl Pod {
    pub fn parse(raw: &[u8]) -> Pod {
        serde_json::from_slice(raw).unwrap_or_default()
    }

    pub fn from_value(value: &Value) -> Pod {
        Pod::deserialize(value).unwrap_or_default()
    }

    pub fn terminating(&self) -> bool {
        self.metadata.deletion_timestamp.is_some()
    }

    /// Ready and not terminating: what counts as available.
    pub fn ready(&self) -> bool {
        !self.terminating()
            && self
                .status
                .conditions
                .iter()
                .any(|c| c.kind == "Ready" && c.status == "True")
    }

    pub fn scheduled(&self) -> bool {
        self.spec
            .node_name
            .as_deref()
            .is_some_and(|n| !n.is_empty())
    }

    pub fn controller(&self) -> Option<&OwnerRef> {
        self.metadata
            .owner_references
            .iter()
            .find(|r| r.controller == Some(true))
    }

    pub fn controlled_by(&self, owner_uid: &str) -> bool {
        self.controller()
            .is_some_and(|r| !r.uid.is_empty() && r.uid == owner_uid)
    }

    pub fn grace_seconds(&self) -> u64 {
        self.spec.termination_grace_period_seconds.unwrap_or(30)
    }
}

/// Pods in `ns` that `selector` (a `LabelSelector` object) matches; labels are checked on the
/// store's index, so only matches are decoded.
pub fn selected(store: &Store, ns: &str, selector: &Value) -> Vec<Pod> {
    if !selector.is_object() {
        return Vec::new();
    }
    store
        .list(
            "pods",
            Some(ns),
            &LabelSelector::default(),
            &FieldSelector::default(),
            None,
            None,
        )
        .items
        .into_iter()
        .filter(|(_, s)| selector_matches(selector, &s.labels))
        .map(|(_, s)| Pod::parse(&s.raw))
        .collect()
}

/// Pods `owner` selects and controls.
pub fn owned(store: &Store, owner: &Value) -> Vec<Pod> {
    let owner_uid = uid(owner);
    selected(store, text(owner, "namespace"), &owner["spec"]["selector"])
        .into_iter()
        .filter(|p| p.controlled_by(owner_uid))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_fields_controllers_need_are_read_and_the_rest_skipped() {
        let raw = json!({
            "metadata": {"name": "p", "uid": "u", "creationTimestamp": "t", "deletionTimestamp": "d",
                         "annotations": {"x": "y"},
                         "ownerReferences": [{"kind": "ReplicaSet", "name": "rs", "uid": "o", "controller": true}]},
            "spec": {"nodeName": "n", "containers": [{"name": "c"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
        })
        .to_string();
        let pod = Pod::parse(raw.as_bytes());
        assert_eq!(pod.metadata.name, "p");
        assert!(pod.terminating());
        assert!(!pod.ready(), "terminating pods are not available");
        assert!(pod.scheduled());
        assert!(pod.controlled_by("o"));
        assert_eq!(pod.grace_seconds(), 30);
        assert_eq!(Pod::parse(b"not json").metadata.name, "");
        let sparse =
            Pod::parse(br#"{"metadata": {"name": "q", "ownerReferences": null}, "status": null}"#);
        assert_eq!(sparse.metadata.name, "q");
        assert!(sparse.controller().is_none() && !sparse.ready());
    }
}
