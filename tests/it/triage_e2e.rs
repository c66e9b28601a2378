//! Triage in the real cockpit, read-only, on the simulator under a NACK fault: from a NACK
//! line, `s` shows the proxy's stale type as istiod's syncz reports it, `l` its own log with
//! the rejection marked, `e` its events. The cluster says the same (kubectl), and the request
//! log shows the cockpit only read.

use crate::common::Sim;
use crate::common::cluster::{all_ready_on, label_for, pods_json};
use crate::common::cockpit_term::*;
use crate::common::journal::journal_file;
use crate::common::sim::eventually;

/// The pod of the newest NACK on screen, when a NACK line shows one.
fn nacked_pod(screen: &str) -> Option<(String, String)> {
    let line = screen.lines().rev().find(|l| l.contains("ACK ERROR"))?;
    let rest = line.split("ACK ERROR ").nth(1)?;
    let (ns, pod) = rest.split_whitespace().next()?.split_once('/')?;
    Some((ns.to_string(), pod.to_string()))
}

#[test]
fn a_nack_lines_pod_shows_its_stale_type_its_rejections_and_its_events() {
    let sim = Sim::start_logging(&[]);
    // checkout moves to the new revision: its new pods start now, so they have events.
    label_for(&sim, "checkout", "1-25-0");
    sim.kubectl(&["rollout", "restart", "deployment", "-n", "checkout"]);
    eventually(LONG, || {
        let pods = pods_json(&sim, "checkout");
        (!pods.is_empty() && all_ready_on(&pods, "1-25-0")).then_some(())
    })
    .expect("checkout never came up on 1-25-0");
    sim.set_faults(r#"{"data":{"nacks.1-25-0":"120"}}"#);

    let dir = tempfile::tempdir().unwrap();
    let line = cockpit_line(
        &sim,
        "",
        "sim-admin",
        &journal_file(&dir, "watcher"),
        "--read-only",
    );
    let term = open_cockpit(&line);
    term.keys(&["Tab", "Tab", "n"]);
    let (ok, screen) = term.wait_for(LONG, |s| nacked_pod(s).is_some());
    assert!(ok, "no NACK line naming a pod:\n{screen}");

    term.keys(&["s"]);
    let (ok, screen) = term.wait_for(SHORT, |s| s.contains("proxy status") && s.contains("STALE"));
    assert!(ok, "no stale type in the proxy status:\n{screen}");
    let title = screen
        .lines()
        .find(|l| l.contains("· proxy status"))
        .expect("the pane's title");
    let (ns, pod) = title
        .split_whitespace()
        .find(|w| w.contains('/') && !w.starts_with('/'))
        .and_then(|w| w.split_once('/'))
        .map(|(n, p)| (n.trim_start_matches('┌').to_string(), p.to_string()))
        .expect("namespace/pod in the title");
    assert_eq!(ns, "checkout", "{title}");
    assert!(
        screen.contains("istiod   istio-system/istiod-1-25-0-"),
        "{screen}"
    );

    term.keys(&["l"]);
    let (ok, screen) = term.wait_for(SHORT, |s| {
        s.contains("istio-proxy log") && s.contains(" rejected: ")
    });
    assert!(ok, "the proxy log shows no rejection:\n{screen}");
    let styled = term.styled_screen();
    let rejected = styled
        .lines()
        .find(|l| l.contains(" rejected: "))
        .expect("the rejection line");
    assert!(
        rejected.contains("\u{1b}[1m") || rejected.contains(";1m") || rejected.contains("[1;"),
        "the rejection is not marked: {rejected:?}"
    );
    // kubectl reads the same lines from the same container.
    let logs = sim.kubectl(&["logs", "-n", &ns, &pod, "-c", "istio-proxy"]);
    assert!(logs.contains(" rejected: "), "{logs}");

    term.keys(&["e"]);
    let (ok, screen) = term.wait_for(SHORT, |s| {
        s.contains("· events") && s.contains("Started container istio-proxy")
    });
    assert!(ok, "the pod's events are not shown:\n{screen}");
    assert!(screen.contains("Scheduled"), "{screen}");

    let requests = sim.requests();
    let asked = |needle: &str| requests.iter().any(|r| r.contains(needle));
    assert!(
        asked(":15014/proxy/debug/syncz?namespace=checkout"),
        "syncz was not asked through the pod proxy"
    );
    assert!(
        asked(&format!("/namespaces/{ns}/pods/{pod}/log?")),
        "the proxy log was not read"
    );
    assert!(
        asked("fieldSelector=involvedObject.kind%3DPod%2CinvolvedObject.name%3D"),
        "the events were not listed for the pod"
    );
    term.keys(&["q"]);
}
