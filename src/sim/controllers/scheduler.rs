//! The scheduler's one decision: which node a new pod runs on. Nodes are filled evenly, the
//! node with the fewest pods first (ties by name), from counts kept in step with pod changes;
//! cordoned nodes (`spec.unschedulable`) get no new pods.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::k8s::selector::{FieldSelector, LabelSelector};
use crate::sim::store::{Change, ChangeType, Store};

#[derive(Debug, Default)]
struct NodeSlot {
    ip: String,
    pods: usize,
    cordoned: bool,
}

#[derive(Debug, Default)]
pub struct Scheduler {
    nodes: BTreeMap<String, NodeSlot>,
}

fn internal_ip(node: &Value) -> String {
    node["status"]["addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["type"] == "InternalIP")
        .and_then(|a| a["address"].as_str())
        .unwrap_or_default()
        .to_string()
}

impl Scheduler {
    /// Reads the nodes and how many pods each runs.
    pub fn from_store(store: &Store) -> Scheduler {
        let mut scheduler = Scheduler::default();
        for node in store.values("nodes", None) {
            scheduler.add_node(&node);
        }
        let all = store.list(
            "pods",
            None,
            &LabelSelector::default(),
            &FieldSelector::default(),
            None,
            None,
        );
        for (_, pod) in all.items {
            if let Some(node) = &pod.node {
                scheduler.count(node, 1);
            }
        }
        scheduler
    }

    fn add_node(&mut self, node: &Value) {
        let name = node["metadata"]["name"].as_str().unwrap_or_default();
        if name.is_empty() {
            return;
        }
        let slot = self.nodes.entry(name.to_string()).or_default();
        slot.ip = internal_ip(node);
        slot.cordoned = node["spec"]["unschedulable"].as_bool() == Some(true);
    }

    fn count(&mut self, node: &str, delta: isize) {
        if let Some(slot) = self.nodes.get_mut(node) {
            slot.pods = slot.pods.saturating_add_signed(delta);
        }
    }

    /// Follows node and pod changes. Bindings this scheduler makes are counted by `bind`, so a
    /// pod gaining a node in a modification is not counted again.
    pub fn observe(&mut self, change: &Change) {
        match (change.resource, change.kind) {
            ("nodes", ChangeType::Deleted) => {
                self.nodes.remove(&change.key.1);
            }
            ("nodes", _) => self.add_node(&change.object.value()),
            ("pods", ChangeType::Added) => {
                if let Some(node) = &change.object.node {
                    self.count(node, 1);
                }
            }
            ("pods", ChangeType::Deleted) => {
                if let Some(node) = &change.object.node {
                    self.count(node, -1);
                }
            }
            _ => {}
        }
    }

    /// Picks the least loaded schedulable node and counts the pod on it; `None` when there is
    /// none.
    pub fn bind(&mut self) -> Option<(String, String)> {
        let (name, slot) = self
            .nodes
            .iter_mut()
            .filter(|(_, slot)| !slot.cordoned)
            .min_by(|a, b| a.1.pods.cmp(&b.1.pods).then_with(|| a.0.cmp(b.0)))?;
        slot.pods += 1;
        Some((name.clone(), slot.ip.clone()))
    }

    pub fn host_ip(&self, node: &str) -> Option<&str> {
        self.nodes.get(node).map(|slot| slot.ip.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(name: &str, ip: &str) -> Value {
        json!({"metadata": {"name": name}, "status": {"addresses": [{"type": "InternalIP", "address": ip}]}})
    }

    #[test]
    fn pods_spread_to_the_least_loaded_node_first() {
        let mut s = Scheduler::default();
        s.add_node(&node("b", "10.0.0.2"));
        s.add_node(&node("a", "10.0.0.1"));
        s.count("a", 2);
        assert_eq!(s.bind(), Some(("b".into(), "10.0.0.2".into())));
        assert_eq!(s.bind(), Some(("b".into(), "10.0.0.2".into())));
        // Both carry two now: ties go by name.
        assert_eq!(s.bind().map(|b| b.0), Some("a".into()));
        assert_eq!(s.host_ip("a"), Some("10.0.0.1"));
    }

    #[test]
    fn without_schedulable_nodes_nothing_is_bound() {
        assert_eq!(Scheduler::default().bind(), None);
        let mut s = Scheduler::default();
        let mut cordoned = node("a", "10.0.0.1");
        cordoned["spec"]["unschedulable"] = json!(true);
        s.add_node(&cordoned);
        assert_eq!(s.bind(), None);
        s.add_node(&node("a", "10.0.0.1"));
        assert_eq!(s.bind().map(|b| b.0), Some("a".into()));
    }
}
