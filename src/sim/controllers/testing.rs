//! A deterministic stand-in for time in controller tests: the scenario in a store, and a
//! kubelet step that makes every starting pod ready and removes every terminating one.

use std::sync::Arc;

use serde_json::{Value, json};

use super::Env;
use super::objects::{is_ready, is_terminating, name};
use crate::sim::store::Store;
use crate::sim::{Timing, scenario, workloads};

pub fn cluster() -> Env {
    let store = Arc::new(Store::default());
    scenario::load(&store, &scenario::Options::default()).expect("scenario loads");
    Env {
        store,
        timing: Timing::default(),
        events: Default::default(),
    }
}

/// What `kubectl rollout restart` does.
pub fn restart(env: &Env, resource: &'static str, ns: &str, target: &str, at: &str) {
    env.store
        .modify(resource, ns, target, |old| {
            let mut new = old.clone();
            new["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] =
                json!(at);
            Ok(new)
        })
        .expect("restart");
}

pub fn pods_of(env: &Env, ns: &str, app: &str) -> Vec<Value> {
    env.store
        .values("pods", Some(ns))
        .into_iter()
        .filter(|p| p["metadata"]["labels"]["app"] == app)
        .collect()
}

/// (live, available) pods of `app`.
pub fn availability(env: &Env, ns: &str, app: &str) -> (i64, i64) {
    let pods = pods_of(env, ns, app);
    let live = pods.iter().filter(|p| !is_terminating(p)).count() as i64;
    let ready = pods.iter().filter(|p| is_ready(p)).count() as i64;
    (live, ready)
}

/// Every pod that is starting becomes ready on its node; every terminating pod is gone.
pub fn kubelet_step(env: &Env, ns: &str) {
    for pod in env.store.values("pods", Some(ns)) {
        let pod_name = name(&pod).to_string();
        if is_terminating(&pod) {
            let _ = env.store.delete("pods", ns, &pod_name, None);
        } else if !is_ready(&pod) {
            let _ = env.store.modify("pods", ns, &pod_name, |old| {
                let mut new = old.clone();
                if new["spec"]["nodeName"]
                    .as_str()
                    .unwrap_or_default()
                    .is_empty()
                {
                    new["spec"]["nodeName"] = json!("node-000");
                }
                new["status"] = workloads::running_status(&new, "10.0.0.1", "192.168.0.1", "now");
                Ok(new)
            });
        }
    }
}
