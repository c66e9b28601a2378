//! Events about pods, as the scheduler and the kubelet record them: `Scheduled` when a pod is
//! bound, `Pulled`, `Created` and `Started` for each container once it runs. Kubernetes keeps
//! events for an hour; the simulator keeps the newest `KEPT` and deletes older ones, so a long
//! run with churn does not grow without bound. Pods the scenario starts with have no events,
//! as in a cluster whose pods started more than an hour ago.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Value, json};

use super::objects::{name, text, uid};
use crate::sim::store::{Store, now_rfc3339};

/// Events kept per cluster.
const KEPT: usize = 5000;

#[derive(Default)]
pub struct Recorder {
    kept: Mutex<VecDeque<(String, String)>>,
}

/// What happened to a pod, as one event says it.
pub struct Happening<'a> {
    pub reason: &'a str,
    pub message: String,
    pub component: &'a str,
}

impl Recorder {
    pub fn record(&self, store: &Store, pod: &Value, what: Happening<'_>) {
        let ns = text(pod, "namespace");
        let now = now_rfc3339();
        let event = json!({
            "metadata": {"generateName": format!("{}.", name(pod))},
            "involvedObject": {"kind": "Pod", "namespace": ns, "name": name(pod),
                               "uid": uid(pod), "apiVersion": "v1"},
            "reason": what.reason,
            "message": what.message,
            "type": "Normal",
            "source": {"component": what.component},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        });
        let Ok(stored) = store.create("events", ns, event) else {
            return;
        };
        let created = (ns.to_string(), name(&stored.value()).to_string());
        let doomed = {
            let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
            kept.push_back(created);
            (kept.len() > KEPT).then(|| kept.pop_front()).flatten()
        };
        if let Some((ns, old)) = doomed {
            let _ = store.delete("events", &ns, &old, None);
        }
    }

    /// `Scheduled`, as the scheduler records binding `pod` to `node`.
    pub fn scheduled(&self, store: &Store, pod: &Value, node: &str) {
        let message = format!(
            "Successfully assigned {}/{} to {node}",
            text(pod, "namespace"),
            name(pod)
        );
        self.record(
            store,
            pod,
            Happening {
                reason: "Scheduled",
                message,
                component: "default-scheduler",
            },
        );
    }

    /// `Pulled`, `Created` and `Started` for every container of `pod`, init containers first.
    pub fn started(&self, store: &Store, pod: &Value) {
        for field in ["initContainers", "containers"] {
            for c in pod["spec"][field].as_array().into_iter().flatten() {
                let container = c["name"].as_str().unwrap_or_default();
                let image = c["image"].as_str().unwrap_or_default();
                for (reason, message) in [
                    (
                        "Pulled",
                        format!("Container image \"{image}\" already present on machine"),
                    ),
                    ("Created", format!("Created container: {container}")),
                    ("Started", format!("Started container {container}")),
                ] {
                    let what = Happening {
                        reason,
                        message,
                        component: "kubelet",
                    };
                    self.record(store, pod, what);
                }
            }
        }
    }
}

/// One recorder per cluster, shared by its controllers.
pub type Shared = Arc<Recorder>;

#[cfg(test)]
mod tests {
    use super::*;

    fn pod() -> Value {
        json!({"metadata": {"name": "cart-1", "namespace": "checkout", "uid": "u-1"},
               "spec": {"initContainers": [{"name": "istio-init", "image": "proxyv2:1.25.0"}],
                        "containers": [{"name": "cart", "image": "cart:2"},
                                       {"name": "istio-proxy", "image": "proxyv2:1.25.0"}]}})
    }

    #[test]
    fn a_started_pod_has_its_containers_events_and_old_ones_go() {
        let store = Store::default();
        store
            .create("namespaces", "", json!({"metadata": {"name": "checkout"}}))
            .expect("namespace");
        let recorder = Recorder::default();
        recorder.scheduled(&store, &pod(), "node-1");
        recorder.started(&store, &pod());
        let events = store.values("events", Some("checkout"));
        assert_eq!(events.len(), 1 + 3 * 3);
        let reasons: Vec<&str> = events.iter().filter_map(|e| e["reason"].as_str()).collect();
        assert!(reasons.contains(&"Scheduled") && reasons.contains(&"Started"));
        assert!(
            events
                .iter()
                .any(|e| e["message"] == "Started container istio-proxy")
        );
        for _ in 0..KEPT {
            recorder.scheduled(&store, &pod(), "node-2");
        }
        assert_eq!(store.values("events", Some("checkout")).len(), KEPT);
    }
}
