//! Small readers and writers of the JSON objects the controllers work on: ownership, selection,
//! counts, status conditions.

use serde_json::{Value, json};

use crate::k8s::selector::{FieldSelector, LabelSelector};
use crate::sim::injection::selector_matches;
use crate::sim::store::{Store, StoreError};
use crate::sim::workloads;

pub fn text<'a>(v: &'a Value, field: &str) -> &'a str {
    v["metadata"][field].as_str().unwrap_or_default()
}

pub fn name(v: &Value) -> &str {
    text(v, "name")
}

pub fn uid(v: &Value) -> &str {
    text(v, "uid")
}

pub fn generation(v: &Value) -> i64 {
    v["metadata"]["generation"].as_i64().unwrap_or(1)
}

/// `spec.replicas`, which defaults to 1.
pub fn spec_replicas(v: &Value) -> i64 {
    v["spec"]["replicas"]
        .as_i64()
        .unwrap_or(1)
        .clamp(0, i64::from(i32::MAX))
}

pub fn is_terminating(pod: &Value) -> bool {
    !pod["metadata"]["deletionTimestamp"].is_null()
}

pub fn is_ready(pod: &Value) -> bool {
    workloads::is_ready(pod)
}

/// The owner reference marked `controller: true`, as (kind, name, uid).
pub fn controller_of(v: &Value) -> Option<(&str, &str, &str)> {
    v["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|r| r["controller"].as_bool() == Some(true))
        .map(|r| {
            (
                r["kind"].as_str().unwrap_or_default(),
                r["name"].as_str().unwrap_or_default(),
                r["uid"].as_str().unwrap_or_default(),
            )
        })
}

pub fn controlled_by(v: &Value, owner_uid: &str) -> bool {
    controller_of(v).is_some_and(|(_, _, uid)| !uid.is_empty() && uid == owner_uid)
}

/// Objects of `resource` in `ns` that `selector` (a `LabelSelector` object) matches. Labels are
/// checked on the store's index, so only the matches are parsed.
pub fn selected(store: &Store, resource: &str, ns: &str, selector: &Value) -> Vec<Value> {
    if !selector.is_object() {
        return Vec::new();
    }
    store
        .list(
            resource,
            Some(ns),
            &LabelSelector::default(),
            &FieldSelector::default(),
            None,
            None,
        )
        .items
        .into_iter()
        .filter(|(_, s)| selector_matches(selector, &s.labels))
        .map(|(_, s)| s.value())
        .collect()
}

/// Objects of `resource` that `owner` selects and controls.
pub fn owned(store: &Store, resource: &str, owner: &Value) -> Vec<Value> {
    let ns = text(owner, "namespace");
    let owner_uid = uid(owner);
    selected(store, resource, ns, &owner["spec"]["selector"])
        .into_iter()
        .filter(|o| controlled_by(o, owner_uid))
        .collect()
}

/// A JSON value without nulls and empty objects, which clients that round-trip objects
/// through typed structs add or drop (`"creationTimestamp": null`, `"resources": {}`).
pub fn normalized(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), normalized(v)))
                .filter(|(_, v)| !v.is_null() && v.as_object().is_none_or(|o| !o.is_empty()))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normalized).collect()),
        other => other.clone(),
    }
}

/// Replaces `status` when it differs; the store skips writes that change nothing.
pub fn write_status(
    store: &Store,
    resource: &'static str,
    ns: &str,
    name: &str,
    status: Value,
) -> Result<(), StoreError> {
    store
        .modify(resource, ns, name, |old| {
            let mut new = old.clone();
            new["status"] = status;
            Ok(new)
        })
        .map(|_| ())
}

/// Sets a condition in `conditions`, keeping its timestamps when nothing about it changed and
/// its transition time when only the reason or message did.
pub fn set_condition(
    conditions: &mut Vec<Value>,
    kind: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: &str,
) {
    let existing = conditions.iter_mut().find(|c| c["type"] == kind);
    match existing {
        Some(c) if c["status"] == status && c["reason"] == reason && c["message"] == message => {}
        Some(c) => {
            if c["status"] != status {
                c["lastTransitionTime"] = json!(now);
            }
            c["status"] = json!(status);
            c["reason"] = json!(reason);
            c["message"] = json!(message);
            c["lastUpdateTime"] = json!(now);
        }
        None => conditions.push(json!({
            "type": kind, "status": status, "reason": reason, "message": message,
            "lastUpdateTime": now, "lastTransitionTime": now,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_keep_their_times_unless_they_change() {
        let mut conds = Vec::new();
        set_condition(&mut conds, "Available", "True", "A", "m", "t1");
        set_condition(&mut conds, "Available", "True", "A", "m", "t2");
        assert_eq!(conds[0]["lastUpdateTime"], "t1");
        set_condition(&mut conds, "Available", "True", "B", "m", "t3");
        assert_eq!(conds[0]["lastUpdateTime"], "t3");
        assert_eq!(conds[0]["lastTransitionTime"], "t1");
        set_condition(&mut conds, "Available", "False", "B", "m", "t4");
        assert_eq!(conds[0]["lastTransitionTime"], "t4");
        assert_eq!(conds.len(), 1);
    }

    #[test]
    fn normalizing_drops_nulls_and_empty_objects_at_any_depth() {
        let typed = json!({"metadata": {"creationTimestamp": null, "labels": {"app": "a"}},
                           "spec": {"containers": [{"name": "c", "resources": {}}]}});
        let raw =
            json!({"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "c"}]}});
        assert_eq!(normalized(&typed), normalized(&raw));
        assert_ne!(
            normalized(&raw),
            normalized(&json!({"metadata": {"labels": {"app": "b"}}}))
        );
    }

    #[test]
    fn the_controller_reference_names_the_owner() {
        let pod = json!({"metadata": {"ownerReferences": [
            {"kind": "Node", "name": "n", "uid": "1"},
            {"kind": "ReplicaSet", "name": "web-abc", "uid": "2", "controller": true}]}});
        assert_eq!(controller_of(&pod), Some(("ReplicaSet", "web-abc", "2")));
        assert!(controlled_by(&pod, "2"));
        assert!(!controlled_by(&pod, "1"));
        assert_eq!(controller_of(&json!({})), None);
    }
}
