//! A pod's life on its node: bound and given an IP while its containers are created, Ready once
//! the simulated start-up time has passed, and gone a grace period after it was deleted. Each
//! pending step is a sleeping task, so nothing polls.

use std::time::Duration;

use serde_json::{Value, json};

use super::Env;
use super::objects::{is_terminating, name, text, uid};
use super::pods::Pod;
use super::scheduler::Scheduler;
use crate::sim::store::now_rfc3339;
use crate::sim::workloads;

/// Pod IPs handed out here start this far above the scenario's, so they never collide.
const IP_OFFSET: u64 = 1_000_000;

pub struct Kubelet {
    env: Env,
    next_ip: u64,
}

fn phase(pod: &Value) -> Option<&str> {
    pod["status"]["phase"].as_str()
}

fn has_ip(pod: &Value) -> bool {
    pod["status"]["podIP"]
        .as_str()
        .is_some_and(|ip| !ip.is_empty())
}

impl Kubelet {
    pub fn new(env: Env, existing_pods: usize) -> Kubelet {
        Kubelet {
            env,
            next_ip: existing_pods as u64 + IP_OFFSET,
        }
    }

    /// Takes on a pod nobody runs yet, or re-arms the readiness of one already starting.
    /// Running, finished and terminating pods are left alone.
    pub fn start(&mut self, scheduler: &mut Scheduler, pod: &Value) {
        if is_terminating(pod) || !matches!(phase(pod), None | Some("Pending")) {
            return;
        }
        if has_ip(pod) {
            self.arm_readiness(pod);
            return;
        }
        let preset = pod["spec"]["nodeName"].as_str().unwrap_or_default();
        let (node, host_ip) = if preset.is_empty() {
            match scheduler.bind() {
                Some(bound) => bound,
                // No node to run on: the pod stays Pending, as an unschedulable one does.
                None => return,
            }
        } else {
            let ip = scheduler.host_ip(preset).unwrap_or_default().to_string();
            (preset.to_string(), ip)
        };
        let ip = workloads::pod_ip(self.next_ip);
        self.next_ip += 1;
        let want_uid = uid(pod).to_string();
        let now = now_rfc3339();
        let scheduled_here = preset.is_empty();
        let mut applied = false;
        let result = self
            .env
            .store
            .modify("pods", text(pod, "namespace"), name(pod), |old| {
                if uid(old) != want_uid || has_ip(old) || is_terminating(old) {
                    return Ok(old.clone());
                }
                let mut new = old.clone();
                new["spec"]["nodeName"] = json!(node);
                new["status"] = workloads::creating_status(&new, &ip, &host_ip, &now);
                applied = true;
                Ok(new)
            });
        match result {
            Ok(stored) => {
                let pod = stored.value();
                if applied && scheduled_here {
                    self.env.events.scheduled(&self.env.store, &pod, &node);
                }
                self.arm_readiness(&pod);
            }
            Err(e) => log::debug!("kubelet: cannot start pod {}: {e:?}", name(pod)),
        }
    }

    fn arm_readiness(&self, pod: &Value) {
        let store = self.env.store.clone();
        let events = self.env.events.clone();
        let delay = self.env.timing.readiness;
        let (ns, pod_name, want_uid) = (
            text(pod, "namespace").to_string(),
            name(pod).to_string(),
            uid(pod).to_string(),
        );
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let mut started = false;
            let stored = store.modify("pods", &ns, &pod_name, |old| {
                if uid(old) != want_uid
                    || is_terminating(old)
                    || phase(old) != Some("Pending")
                    || !has_ip(old)
                {
                    return Ok(old.clone());
                }
                let ip = old["status"]["podIP"].as_str().unwrap_or_default();
                let host_ip = old["status"]["hostIP"].as_str().unwrap_or_default();
                let mut new = old.clone();
                new["status"] = workloads::running_status(old, ip, host_ip, &now_rfc3339());
                started = true;
                Ok(new)
            });
            if let (true, Ok(stored)) = (started, stored) {
                events.started(&store, &stored.value());
            }
        });
    }
}

/// Deletes a pod the way a controller does: it is marked terminating at once and removed
/// when its grace period (capped by the simulator's termination time) has passed.
pub fn terminate(env: &Env, pod: &Pod) {
    let meta = &pod.metadata;
    let (ns, pod_name, want_uid) = (meta.namespace.clone(), meta.name.clone(), meta.uid.clone());
    let grace = pod.grace_seconds();
    let marked = env.store.modify("pods", &ns, &pod_name, |old| {
        if uid(old) != want_uid || is_terminating(old) {
            return Ok(old.clone());
        }
        let mut new = old.clone();
        new["metadata"]["deletionTimestamp"] = json!(now_rfc3339());
        new["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
        Ok(new)
    });
    if marked.is_err() {
        return;
    }
    let store = env.store.clone();
    let delay = env.timing.termination.min(Duration::from_secs(grace));
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        // Only the pod that was marked: a new one may have taken the name since.
        for _ in 0..3 {
            let Some(current) = store.get("pods", &ns, &pod_name) else {
                return;
            };
            if uid(&current.value()) != want_uid {
                return;
            }
            let rv = current.rv.to_string();
            if store.delete("pods", &ns, &pod_name, Some(&rv)).is_ok() {
                return;
            }
        }
    });
}
