//! A cockpit opened in the middle of an upgrade: it finds the upgrade and its phase, reverts a
//! tag moved before it started, and refuses writes towards a control plane that is not ready.
//! The real cockpit in tmux against the real simulator; the cluster changed and checked with
//! kubectl as `sim-admin`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::cluster::*;
use crate::common::cockpit_term::*;
use crate::common::files::write;
use crate::common::journal::*;
use crate::common::tmux;
use crate::common::{Sim, eventually};

const STAGING: [&str; 2] = ["staging-web", "staging-api"];
const NON_CRITICAL: [&str; 6] = [
    "internal-tools",
    "ci-runners",
    "reporting",
    "recommendations",
    "search",
    "notifications",
];

/// Moves a namespace to `revision` by hand, as an engineer without the cockpit would.
fn move_by_hand(sim: &Sim, ns: &str, revision: &str) {
    label_for(sim, ns, revision);
    sim.kubectl(&["rollout", "restart", "deploy", "-n", ns]);
}

/// Waits until every pod of the namespace runs a sidecar injected by `revision`, ready.
fn wait_pods_on(sim: &Sim, ns: &str, revision: &str) {
    let mut last = Value::Null;
    let done = eventually(LONG, || {
        last = json(sim, &["get", "pods", "-n", ns, "-o", "json"]);
        let pods = last["items"].as_array()?;
        let on = |p: &Value| {
            injected_by(p).as_deref() == Some(revision)
                && is_ready(p)
                && p["metadata"]["deletionTimestamp"].is_null()
        };
        (!pods.is_empty() && pods.iter().all(on)).then_some(())
    });
    assert!(
        done.is_some(),
        "{ns}: not every pod on {revision}:\n{last:#}"
    );
}

/// The phase part of the phase bar: from ` · phase ` to the first gate.
fn shown_phase(screen: &str) -> Option<String> {
    let bar = phase_bar(screen);
    let start = bar.find(" · phase ")?;
    let rest = &bar[start + 3..];
    let end = rest.find(['✓', '✗', '?']).unwrap_or(rest.len());
    Some(rest[..end].trim().to_string())
}

fn wait_phase(term: &tmux::Tmux, expected: &str) -> String {
    let (ok, screen) = term.wait_for(LONG, |s| {
        phase_bar(s).contains("1-24-0 → 1-25-0")
            && shown_phase(s).is_some_and(|p| p.starts_with(expected))
    });
    assert!(
        ok,
        "the phase bar does not show the upgrade in `{expected}`:\n{screen}"
    );
    shown_phase(&screen).unwrap_or_default()
}

fn type_text(term: &tmux::Tmux, text: &str) {
    let chars: Vec<String> = text.chars().map(String::from).collect();
    let chars: Vec<&str> = chars.iter().map(String::as_str).collect();
    term.keys(&chars);
}

/// Focuses the control-planes pane (three Tabs from the namespaces).
// ---------------------------------------------------------------------------------------------

#[test]
fn a_cockpit_started_after_most_pods_moved_finds_the_upgrade_and_its_phase() {
    let sim = Sim::start(&["--ready-after", "1"]);
    let dir = tempfile::tempdir().unwrap();
    for ns in STAGING.iter().chain(&NON_CRITICAL) {
        move_by_hand(&sim, ns, "1-25-0");
    }
    for ns in STAGING.iter().chain(&NON_CRITICAL) {
        wait_pods_on(&sim, ns, "1-25-0");
    }

    // No upgrade record: the phase is where the cluster is, the first wave not yet moved.
    let first = open_cockpit(&cockpit_line(
        &sim,
        "",
        "sim-admin",
        &journal_file(&dir, "a"),
        "",
    ));
    let phase = wait_phase(&first, "phase 3/7: wave 3: critical");
    assert!(phase.ends_with("(not started)"), "{phase}");
    assert!(
        !phase_bar(&first.screen()).contains("nothing to upgrade"),
        "{}",
        first.screen()
    );
    first.keys(&["q"]);

    // With the record a driver writes, every cockpit started later shows its phase.
    let started = json!({"wave 1: staging": "2026-12-04T20:00:00Z", "wave 2: non-critical": "2026-12-04T20:30:00Z"});
    let record = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "istio-cockpit-upgrade",
            "namespace": "istio-system",
            "labels": {"app.kubernetes.io/managed-by": "istio-cockpit"}
        },
        "data": {"from": "1-24-0", "to": "1-25-0", "phase": "wave 2: non-critical", "started": started.to_string()}
    });
    let out = sim.kubectl_stdin(
        "sim-admin",
        &["apply", "--validate=false", "-f", "-"],
        record.to_string().as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let driver = open_cockpit(&cockpit_line(
        &sim,
        "",
        "sim-admin",
        &journal_file(&dir, "b"),
        "",
    ));
    let driven = wait_phase(&driver, "phase 2/7: wave 2: non-critical");
    assert!(!driven.contains("not started"), "{driven}");
    // A second cockpit, started later still, shows the same phase.
    let follower = open_cockpit(&cockpit_line(
        &sim,
        "",
        "sim-admin",
        &journal_file(&dir, "c"),
        "",
    ));
    let followed = wait_phase(&follower, "phase 2/7: wave 2: non-critical");
    assert_eq!(followed, driven, "the follower shows the driver's phase");
    assert!(
        status_bar(&driver.screen()).contains("DRIVER")
            && status_bar(&follower.screen()).contains("READ-ONLY"),
        "one drives, the other follows"
    );
    follower.keys(&["q"]);
    driver.keys(&["q"]);
}

/// Moves a tag as the cockpit does (label, previous-revision annotation, services), as if its
/// cockpit had been killed right after: no journal anywhere.
fn move_tag_by_hand(sim: &Sim, tag: &str, from: &str, to: &str) {
    let name = format!("istio-revision-tag-{tag}");
    let mut hook = json(
        sim,
        &["get", "mutatingwebhookconfiguration", &name, "-o", "json"],
    );
    hook["metadata"]["labels"]["istio.io/rev"] = json!(to);
    hook["metadata"]["annotations"]["istio-cockpit.io/previous-revision"] = json!(from);
    for webhook in hook["webhooks"].as_array_mut().expect("webhooks") {
        webhook["clientConfig"]["service"]["name"] = json!(format!("istiod-{to}"));
    }
    let out = sim.kubectl_stdin(
        "sim-admin",
        &["replace", "--validate=false", "-f", "-"],
        hook.to_string().as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_tag_on(sim, tag, to);
}

#[test]
fn a_tag_moved_before_the_cockpit_started_goes_back_from_its_webhook() {
    let sim = Sim::start(&["--ready-after", "1"]);
    let dir = tempfile::tempdir().unwrap();
    wait_tag_on(&sim, "stable", "1-24-0");
    move_tag_by_hand(&sim, "stable", "1-24-0", "1-25-0");

    let term = open_driver(&sim, &journal_file(&dir, "a"));
    focus_control_planes(&term);
    let preview = open_dialog(&term, "r", "Move tag stable back from 1-25-0 to 1-24-0?");
    assert!(
        preview.contains("webhooks call istiod-1-24-0 instead of istiod-1-25-0"),
        "{preview}"
    );
    term.keys(&["y"]);
    wait_notice(
        &term,
        "tag stable now points at 1-24-0",
        "no notice after the tag revert",
    );
    wait_tag_on(&sim, "stable", "1-24-0");
    term.keys(&["q"]);
}

#[test]
fn writes_towards_an_istiod_without_ready_pods_are_refused_and_t_in_a_wave_asks_for_the_phase() {
    let sim = Sim::start(&["--ready-after", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let labels_before = labels_text(&sim, "payments");
    let term = open_driver(&sim, &journal_file(&dir, "a"));

    sim.kubectl(&[
        "scale",
        "deploy",
        "istiod-1-25-0",
        "-n",
        "istio-system",
        "--replicas=0",
    ]);
    let (ok, screen) = term.wait_for(LONG, |s| {
        s.lines()
            .any(|l| l.contains("1-25-0") && l.contains(" 0/0 "))
    });
    assert!(
        ok,
        "the control planes never showed istiod-1-25-0 at 0/0:\n{screen}"
    );

    select_namespace(&term, "payments");
    let refusal = open_dialog(
        &term,
        "m",
        "istiod-1-25-0 is not ready: nothing was changed",
    );
    assert!(
        refusal
            .contains("kubectl -n istio-system get deploy,pods -l app=istiod,istio.io/rev=1-25-0"),
        "the refusal says what to check:\n{refusal}"
    );
    assert!(!refusal.contains("Migrate payments"), "{refusal}");
    term.keys(&["y"]);
    term.keys(&["M"]);
    let (ok, screen) = term.wait_for(SHORT, |s| s.contains("istiod-1-25-0 is not ready"));
    assert!(ok, "`M` is not refused:\n{screen}");
    term.keys(&["y", "t"]);
    let (ok, screen) = term.wait_for(SHORT, |s| s.contains("istiod-1-25-0 is not ready"));
    assert!(ok, "`t` is not refused:\n{screen}");
    term.keys(&["y"]);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        sim.kubectl(&["get", "ns", "payments", "-o", "jsonpath={.metadata.labels}"]),
        labels_before,
        "a refused migration wrote labels"
    );
    assert_eq!(
        tag_target(&sim, "stable").0,
        "1-24-0",
        "a refused tag move wrote"
    );

    // istiod back: `t` during wave 1 is an override, by the phase's name.
    sim.kubectl(&[
        "scale",
        "deploy",
        "istiod-1-25-0",
        "-n",
        "istio-system",
        "--replicas=2",
    ]);
    let (ok, screen) = term.wait_for(LONG, |s| {
        s.lines()
            .any(|l| l.contains("1-25-0") && l.contains(" 2/2 "))
    });
    assert!(ok, "istiod-1-25-0 never came back:\n{screen}");
    let asked = open_dialog(
        &term,
        "t",
        "Move tag stable from 1-24-0 to 1-25-0 during wave 1: staging?",
    );
    assert!(
        asked.contains("type \"wave 1: staging\" and Enter to override"),
        "{asked}"
    );
    term.keys(&["y", "Enter"]);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        tag_target(&sim, "stable").0,
        "1-24-0",
        "`y` overrode the phase"
    );
    term.keys(&["BSpace"]);
    type_text(&term, "wave 1: staging");
    term.keys(&["Enter"]);
    wait_tag_on(&sim, "stable", "1-25-0");
    let entries = journal_entries(&journal_file(&dir, "a"));
    let entry = entries
        .iter()
        .find(|e| e["action"] == "move-tag" && e["result"] == "ok")
        .unwrap_or_else(|| panic!("no move-tag in the journal: {entries:#?}"));
    assert_eq!(
        entry["why"], "override: tag moved during wave 1: staging, outside the plan's tag phase",
        "{entry}"
    );
    term.keys(&["q"]);
}

#[test]
fn with_two_moved_tags_and_no_journal_the_user_chooses_which_goes_back() {
    let sim = Sim::start(&["--ready-after", "1"]);
    let dir = tempfile::tempdir().unwrap();
    move_tag_by_hand(&sim, "stable", "1-24-0", "1-25-0");
    move_tag_by_hand(&sim, "default", "1-24-0", "1-25-0");
    let term = open_cockpit(&cockpit_line(
        &sim,
        "",
        "sim-admin",
        &journal_file(&dir, "a"),
        "",
    ));
    focus_control_planes(&term);
    // The selected row (1-24-0) shows neither tag: the cockpit asks.
    let asked = open_dialog(&term, "r", "Which tag goes back?");
    assert!(
        asked.contains("1 tag default: 1-25-0 -> 1-24-0")
            && asked.contains("2 tag stable: 1-25-0 -> 1-24-0"),
        "{asked}"
    );
    open_dialog(&term, "2", "Move tag stable back from 1-25-0 to 1-24-0?");
    term.keys(&["y"]);
    wait_tag_on(&sim, "stable", "1-24-0");
    assert_eq!(
        tag_target(&sim, "default").0,
        "1-25-0",
        "default was not chosen"
    );
    term.keys(&["q"]);
}

#[test]
fn with_a_plan_file_a_record_naming_other_revisions_is_shown_not_used() {
    let sim = Sim::start(&["--ready-after", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let record = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "istio-cockpit-upgrade",
            "namespace": "istio-system",
            "labels": {"app.kubernetes.io/managed-by": "istio-cockpit"}
        },
        "data": {"from": "1-25-0", "to": "1-24-0", "phase": "soak", "started": "{}"}
    });
    let out = sim.kubectl_stdin(
        "sim-admin",
        &["apply", "--validate=false", "-f", "-"],
        record.to_string().as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan = write(&dir, "plan.toml", "from = \"1-24-0\"\nto = \"1-25-0\"\n");
    let term = open_cockpit(&cockpit_line(
        &sim,
        "",
        "sim-admin",
        &journal_file(&dir, "a"),
        &format!("--plan {}", plan.display()),
    ));
    let (ok, screen) = term.wait_for(LONG, |s| {
        phase_bar(s).contains("upgrade record 1-25-0 → 1-24-0 is not the plan's: not used")
    });
    assert!(
        ok,
        "the record's problem is not on the phase bar:\n{screen}"
    );
    // The plan file's phases, from its first wave: not the record's `soak`.
    assert!(
        shown_phase(&screen).is_some_and(|p| p.starts_with("phase 1/7: wave 1: staging")),
        "{screen}"
    );
    term.keys(&["q"]);
}
