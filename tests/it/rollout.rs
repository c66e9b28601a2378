//! The simulator's controllers as kubectl sees them: rollout restarts that re-inject pods with
//! whatever revision the namespace resolves to, rollouts within maxSurge/maxUnavailable,
//! replaced and scaled pods, DaemonSet restarts.

use std::collections::HashMap;
use std::process::Child;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::cluster::{is_ready, json, label_for};
use crate::common::{Sim, eventually};

/// Every test finishes its waiting within this.
const BUDGET: Duration = Duration::from_secs(60);

fn start() -> (Sim, Instant) {
    (
        Sim::start(&["--ready-after", "0.5"]),
        Instant::now() + BUDGET,
    )
}

fn left(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

fn timeout_flag(deadline: Instant) -> String {
    format!("--timeout={}s", left(deadline).as_secs().max(1))
}

fn items(sim: &Sim, args: &[&str]) -> Vec<Value> {
    let mut full = vec!["get"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["-o", "json"]);
    json(sim, &full)["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn name(obj: &Value) -> &str {
    obj["metadata"]["name"].as_str().unwrap_or_default()
}

fn terminating(pod: &Value) -> bool {
    !pod["metadata"]["deletionTimestamp"].is_null()
}

fn ready(pod: &Value) -> bool {
    !terminating(pod) && is_ready(pod)
}

fn injected_revision(pod: &Value) -> String {
    let status = pod["metadata"]["annotations"]["sidecar.istio.io/status"]
        .as_str()
        .unwrap_or_else(|| panic!("pod {} is not injected", name(pod)));
    let status: Value = serde_json::from_str(status).expect("status annotation is JSON");
    status["revision"].as_str().unwrap_or_default().to_string()
}

fn proxy_image(pod: &Value) -> String {
    pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == "istio-proxy")
        .and_then(|c| c["image"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// Waits until the namespace's pods have settled (none terminating, all ready) and returns them.
fn settled_pods(sim: &Sim, ns: &str, deadline: Instant) -> Vec<Value> {
    eventually(left(deadline), || {
        let pods = items(sim, &["pods", "-n", ns]);
        pods.iter().all(ready).then_some(pods)
    })
    .unwrap_or_else(|| panic!("pods in {ns} did not settle in time"))
}

fn rollout_status(sim: &Sim, target: &str, ns: &str, deadline: Instant) -> String {
    sim.kubectl(&[
        "rollout",
        "status",
        target,
        "-n",
        ns,
        &timeout_flag(deadline),
    ])
}

/// A `kubectl get -w` whose objects arrive on a channel as `{"type", "object"}` events.
struct Watch {
    child: Child,
    events: Receiver<Value>,
}

impl Watch {
    fn start(sim: &Sim, args: &[&str]) -> Watch {
        let mut full = vec!["get"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["-w", "-o", "json", "--output-watch-events"]);
        let mut child = sim.spawn_kubectl(&full);
        let stdout = child.stdout.take().expect("kubectl stdout");
        let (tx, events) = mpsc::channel();
        std::thread::spawn(move || {
            for event in serde_json::Deserializer::from_reader(stdout).into_iter::<Value>() {
                let Ok(event) = event else { return };
                if tx.send(event).is_err() {
                    return;
                }
            }
        });
        Watch { child, events }
    }

    /// The next `n` events (the initial listing, typically).
    fn take(&self, n: usize, deadline: Instant) -> Vec<Value> {
        (0..n)
            .map(|_| {
                self.events
                    .recv_timeout(left(deadline))
                    .expect("watch event in time")
            })
            .collect()
    }

    /// Everything received until the stream has been quiet for a moment.
    fn rest(&self) -> Vec<Value> {
        let mut out = Vec::new();
        while let Ok(event) = self.events.recv_timeout(Duration::from_secs(1)) {
            out.push(event);
        }
        out
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn restarting_after_a_relabel_injects_every_pod_with_the_new_revision() {
    let (sim, deadline) = start();
    let ns = "staging-web";
    label_for(&sim, ns, "1-25-0");
    let before = items(&sim, &["pods", "-n", ns]);
    assert!(before.iter().all(|p| injected_revision(p) == "1-24-0"));

    sim.kubectl(&["rollout", "restart", "deploy", "-n", ns]);
    let deployments = items(&sim, &["deploy", "-n", ns]);
    assert_eq!(deployments.len(), 2);
    let mut replicas = HashMap::new();
    for d in &deployments {
        let out = rollout_status(&sim, &format!("deploy/{}", name(d)), ns, deadline);
        assert!(
            out.contains(&format!(
                "deployment \"{}\" successfully rolled out",
                name(d)
            )),
            "{out}"
        );
        replicas.insert(name(d).to_string(), d["spec"]["replicas"].as_u64().unwrap());
    }

    let pods = settled_pods(&sim, ns, deadline);
    assert_eq!(pods.len() as u64, replicas.values().sum::<u64>());
    for (deploy, want) in &replicas {
        let have = pods
            .iter()
            .filter(|p| p["metadata"]["labels"]["app"] == deploy.as_str())
            .count() as u64;
        assert_eq!(have, *want, "pods of {deploy}");
    }
    for pod in &pods {
        assert!(
            before.iter().all(|old| name(old) != name(pod)),
            "{} was not replaced",
            name(pod)
        );
        assert_eq!(injected_revision(pod), "1-25-0", "{}", name(pod));
        assert_eq!(proxy_image(pod), "istio/proxyv2:1.25.0", "{}", name(pod));
        assert!(
            pod["status"]["podIP"]
                .as_str()
                .is_some_and(|ip| !ip.is_empty())
        );
    }

    let history = sim.kubectl(&["rollout", "history", "deploy/frontend", "-n", ns]);
    assert!(history.contains("\n2 "), "{history}");
}

/// Tracks, per app, the live pods and how many of them are available.
#[derive(Default)]
struct Availability {
    pods: HashMap<String, (String, bool, bool)>,
}

impl Availability {
    fn apply(&mut self, event: &Value) {
        let pod = &event["object"];
        let key = name(pod).to_string();
        if event["type"] == "DELETED" {
            self.pods.remove(&key);
            return;
        }
        let app = pod["metadata"]["labels"]["app"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.pods.insert(key, (app, !terminating(pod), ready(pod)));
    }

    /// (live, available) pods of `app`.
    fn of(&self, app: &str) -> (usize, usize) {
        let mine = self.pods.values().filter(|(a, _, _)| a == app);
        let live = mine.clone().filter(|(_, live, _)| *live).count();
        let available = mine.filter(|(_, _, ready)| *ready).count();
        (live, available)
    }
}

#[test]
fn rollouts_stay_within_max_surge_and_max_unavailable() {
    let (sim, deadline) = start();
    let ns = "staging-web";
    // frontend keeps the scenario's maxSurge 25% / maxUnavailable 0 (3 replicas: surge 1);
    // bff gets maxSurge 0 / maxUnavailable 50% (2 replicas: one may be down).
    sim.kubectl(&[
        "patch",
        "deploy",
        "bff",
        "-n",
        ns,
        "-p",
        r#"{"spec":{"strategy":{"rollingUpdate":{"maxSurge":0,"maxUnavailable":"50%"}}}}"#,
    ]);
    let pods = Watch::start(&sim, &["pods", "-n", ns]);
    let deploys = Watch::start(&sim, &["deploy", "-n", ns]);
    let mut seen = Availability::default();
    for event in pods.take(5, deadline) {
        seen.apply(&event);
    }
    deploys.take(2, deadline);
    assert_eq!(seen.of("frontend"), (3, 3));
    assert_eq!(seen.of("bff"), (2, 2));

    sim.kubectl(&["rollout", "restart", "deploy", "-n", ns]);
    rollout_status(&sim, "deploy/frontend", ns, deadline);
    rollout_status(&sim, "deploy/bff", ns, deadline);
    settled_pods(&sim, ns, deadline);

    let (mut frontend_peak, mut bff_low) = (0, usize::MAX);
    let events = pods.rest();
    assert!(events.len() > 10, "the rollout was not observed");
    for event in &events {
        seen.apply(event);
        let (live, available) = seen.of("frontend");
        assert!(available >= 3, "frontend availability fell to {available}");
        assert!(live <= 4, "frontend surged to {live} live pods");
        frontend_peak = frontend_peak.max(live);
        let (live, available) = seen.of("bff");
        assert!(available >= 1, "bff availability fell to {available}");
        assert!(live <= 2, "bff surged to {live} live pods");
        bff_low = bff_low.min(available);
    }
    // The budgets were used, so the rollout really went step by step through them.
    assert_eq!(frontend_peak, 4);
    assert_eq!(bff_low, 1);
    assert_eq!(seen.of("frontend"), (3, 3));
    assert_eq!(seen.of("bff"), (2, 2));

    for event in deploys.rest() {
        let d = &event["object"];
        let available = d["status"]["availableReplicas"].as_u64().unwrap_or(0);
        let floor = if name(d) == "frontend" { 3 } else { 1 };
        assert!(
            available >= floor,
            "{} reported {available} available",
            name(d)
        );
    }
}

#[test]
fn moving_the_stable_tag_changes_what_a_restart_injects() {
    let (sim, deadline) = start();
    let ns = "internal-tools";
    let before = items(&sim, &["pods", "-n", ns]);
    assert!(!before.is_empty());
    assert!(before.iter().all(|p| injected_revision(p) == "1-24-0"));

    sim.kubectl(&[
        "patch",
        "mutatingwebhookconfiguration",
        "istio-revision-tag-stable",
        "--type",
        "json",
        "-p",
        r#"[{"op":"replace","path":"/webhooks/0/clientConfig/service/name","value":"istiod-1-25-0"},
            {"op":"replace","path":"/metadata/labels/istio.io~1rev","value":"1-25-0"}]"#,
    ]);
    sim.kubectl(&["rollout", "restart", "deploy", "-n", ns]);
    for d in items(&sim, &["deploy", "-n", ns]) {
        rollout_status(&sim, &format!("deploy/{}", name(&d)), ns, deadline);
    }
    let pods = settled_pods(&sim, ns, deadline);
    assert_eq!(pods.len(), before.len());
    for pod in &pods {
        assert_eq!(injected_revision(pod), "1-25-0", "{}", name(pod));
        assert_eq!(proxy_image(pod), "istio/proxyv2:1.25.0", "{}", name(pod));
    }
    // A namespace on the old revision by name, not by tag, is untouched by the move.
    let staging_api = items(&sim, &["pods", "-n", "staging-api"]);
    assert!(staging_api.iter().all(|p| injected_revision(p) == "1-24-0"));
}

#[test]
fn a_deleted_pod_is_replaced_by_a_ready_one() {
    let (sim, deadline) = start();
    let ns = "staging-web";
    let before = items(&sim, &["pods", "-n", ns, "-l", "app=frontend"]);
    assert_eq!(before.len(), 3);
    let victim = name(&before[0]).to_string();
    sim.kubectl(&["delete", "pod", &victim, "-n", ns, "--wait=false"]);

    let after = eventually(left(deadline), || {
        let pods = items(&sim, &["pods", "-n", ns, "-l", "app=frontend"]);
        let done =
            pods.len() == 3 && pods.iter().all(ready) && pods.iter().all(|p| name(p) != victim);
        done.then_some(pods)
    })
    .expect("a ready replacement in time");
    let replacement = after
        .iter()
        .find(|p| before.iter().all(|b| name(b) != name(p)))
        .expect("a new pod");
    assert!(
        replacement["spec"]["nodeName"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    );
    assert_eq!(injected_revision(replacement), "1-24-0");
    let status = sim.kubectl(&["get", "deploy", "frontend", "-n", ns, "-o", "json"]);
    let status: Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["status"]["availableReplicas"], 3);
}

#[test]
fn scaling_a_deployment_up_and_down_ends_with_that_many_ready_pods() {
    let (sim, deadline) = start();
    let ns = "ci-runners";
    for want in [6, 2] {
        sim.kubectl(&[
            "scale",
            "deploy/runner",
            "-n",
            ns,
            &format!("--replicas={want}"),
        ]);
        rollout_status(&sim, "deploy/runner", ns, deadline);
        let pods = settled_pods(&sim, ns, deadline);
        assert_eq!(pods.len(), want, "runner pods after scaling to {want}");
        let mut ips: Vec<&str> = pods
            .iter()
            .filter_map(|p| p["status"]["podIP"].as_str())
            .collect();
        ips.sort();
        ips.dedup();
        assert_eq!(ips.len(), want, "pod IPs are unique");
    }
    let d = sim.kubectl(&["get", "deploy", "runner", "-n", ns, "-o", "json"]);
    let d: Value = serde_json::from_str(&d).unwrap();
    assert_eq!(d["status"]["readyReplicas"], 2);
    assert_eq!(
        d["status"]["observedGeneration"],
        d["metadata"]["generation"]
    );
}

#[test]
fn restarting_a_daemonset_replaces_its_pod_on_every_node() {
    let (sim, deadline) = start();
    let ns = "istio-system";
    let nodes = items(&sim, &["nodes"]).len();
    let before = items(&sim, &["pods", "-n", ns, "-l", "app=ztunnel"]);
    assert_eq!(before.len(), nodes);

    sim.kubectl(&["rollout", "restart", "ds/ztunnel", "-n", ns]);
    let out = rollout_status(&sim, "ds/ztunnel", ns, deadline);
    assert!(
        out.contains("daemon set \"ztunnel\" successfully rolled out"),
        "{out}"
    );
    let pods = eventually(left(deadline), || {
        let pods = items(&sim, &["pods", "-n", ns, "-l", "app=ztunnel"]);
        (pods.len() == nodes && pods.iter().all(ready)).then_some(pods)
    })
    .expect("one ready ztunnel per node");
    let mut on: Vec<&str> = pods
        .iter()
        .map(|p| p["spec"]["nodeName"].as_str().unwrap_or_default())
        .collect();
    on.sort();
    on.dedup();
    assert_eq!(on.len(), nodes, "one pod per node");
    assert!(
        pods.iter()
            .all(|p| before.iter().all(|b| name(b) != name(p)))
    );
}

#[test]
fn a_pod_created_with_kubectl_is_scheduled_and_becomes_ready() {
    let (sim, deadline) = start();
    sim.kubectl(&["run", "probe", "-n", "legacy-batch", "--image=busybox:1.36"]);
    let pod = eventually(left(deadline), || {
        let pod: Value = serde_json::from_str(&sim.kubectl(&[
            "get",
            "pod",
            "probe",
            "-n",
            "legacy-batch",
            "-o",
            "json",
        ]))
        .ok()?;
        ready(&pod).then_some(pod)
    })
    .expect("the pod becomes ready");
    assert_eq!(pod["status"]["phase"], "Running");
    assert!(
        pod["spec"]["nodeName"]
            .as_str()
            .is_some_and(|n| n.starts_with("node-"))
    );
    assert!(
        pod["status"]["podIP"]
            .as_str()
            .is_some_and(|ip| !ip.is_empty())
    );
}
