//! Driving an upgrade end to end: the real cockpit in tmux against the real simulator, keys
//! pressed as a person would, and the cluster checked afterwards with kubectl as `sim-admin`.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::common::cluster::*;
use crate::common::cockpit_term::*;
use crate::common::{Sim, eventually};
use serde_json::Value;

const PREVIOUS: &str = "istio-cockpit.io/previous-injection";
const MIGRATED_TO: &str = "istio-cockpit.io/migrated-to";

// ---------------------------------------------------------------------------------------------
// The cockpit's process.

// ---------------------------------------------------------------------------------------------
// The cluster, through kubectl.

/// Labels or annotations.
type Strings = BTreeMap<String, String>;

fn string_map(v: &Value) -> Strings {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn ns_labels(sim: &Sim, ns: &str) -> BTreeMap<String, String> {
    string_map(&json(sim, &["get", "ns", ns, "-o", "json"])["metadata"]["labels"])
}

fn ns_annotations(sim: &Sim, ns: &str) -> BTreeMap<String, String> {
    string_map(&json(sim, &["get", "ns", ns, "-o", "json"])["metadata"]["annotations"])
}

/// Every namespace with its labels and annotations.
fn all_namespaces(sim: &Sim) -> BTreeMap<String, (Strings, Strings)> {
    json(sim, &["get", "ns", "-o", "json"])["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|n| {
            (
                n["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                (
                    string_map(&n["metadata"]["labels"]),
                    string_map(&n["metadata"]["annotations"]),
                ),
            )
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
struct Pod {
    name: String,
    /// From the `sidecar.istio.io/status` annotation, as Istio records it.
    revision: Option<String>,
    proxy_image: Option<String>,
    ready: bool,
    terminating: bool,
}

fn pods(sim: &Sim, ns: &str) -> Vec<Pod> {
    json(sim, &["get", "pods", "-n", ns, "-o", "json"])["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| {
            let status: Option<Value> = p["metadata"]["annotations"]["sidecar.istio.io/status"]
                .as_str()
                .and_then(|s| serde_json::from_str(s).ok());
            Pod {
                name: p["metadata"]["name"].as_str().unwrap_or_default().into(),
                revision: status
                    .as_ref()
                    .and_then(|s| s["revision"].as_str())
                    .map(str::to_string),
                proxy_image: p["spec"]["containers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|c| c["name"] == "istio-proxy")
                    .and_then(|c| c["image"].as_str())
                    .map(str::to_string),
                ready: p["status"]["conditions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True"),
                terminating: !p["metadata"]["deletionTimestamp"].is_null(),
            }
        })
        .collect()
}

/// Waits until the namespace has exactly `count` pods, every one injected by `revision` with
/// the proxy `image`, ready, and none terminating.
fn wait_all_pods_on(sim: &Sim, ns: &str, count: usize, revision: &str, image: &str) {
    let mut last = Vec::new();
    let done = eventually(LONG, || {
        last = pods(sim, ns);
        let settled = last.len() == count
            && last.iter().all(|p| {
                p.revision.as_deref() == Some(revision)
                    && p.proxy_image.as_deref() == Some(image)
                    && p.ready
                    && !p.terminating
            });
        settled.then_some(())
    });
    assert!(
        done.is_some(),
        "{ns}: not every pod came to run on {revision} ({image}), ready:\n{last:#?}"
    );
}

/// Every tag webhook: its labels and the services its webhooks call.
fn all_tags(sim: &Sim) -> Vec<(String, BTreeMap<String, String>, Vec<String>)> {
    json(sim, &["get", "mutatingwebhookconfigurations", "-o", "json"])["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|h| {
            (
                h["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                string_map(&h["metadata"]["labels"]),
                h["webhooks"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|w| w["clientConfig"]["service"]["name"].to_string())
                    .collect(),
            )
        })
        .collect()
}

fn exists(sim: &Sim, args: &[&str]) -> bool {
    let out = sim.kubectl_output(args);
    if out.status.success() {
        return true;
    }
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("NotFound") || err.contains("not found"),
        "kubectl {args:?}: {err}"
    );
    false
}

/// The JSON lines of the local journal.
fn journal_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad journal line {l:?}: {e}")))
        .collect()
}

/// The entries of the journal ConfigMap in istio-system.
fn cluster_journal(sim: &Sim) -> Vec<Value> {
    let text = sim.kubectl(&[
        "get",
        "configmap",
        "istio-cockpit-journal",
        "-n",
        "istio-system",
        "-o",
        "jsonpath={.data.entries}",
    ]);
    serde_json::from_str::<Value>(&text)
        .unwrap_or_else(|e| panic!("journal entries are not JSON ({e}): {text}"))
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// What an entry did, without when and who: `(action, target, result, dry_run)`.
fn gist(entry: &Value) -> (String, String, String, bool) {
    (
        entry["action"].as_str().unwrap_or_default().to_string(),
        entry["target"].as_str().unwrap_or_default().to_string(),
        entry["result"].as_str().unwrap_or_default().to_string(),
        entry["dry_run"].as_bool().unwrap_or(false),
    )
}

// ---------------------------------------------------------------------------------------------

#[test]
fn migrate_and_revert_a_namespace_that_used_istio_injection() {
    let sim = Sim::start(&["--ready-after", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let journal = journal_file(&dir, "driver");
    let labels_before = labels_text(&sim, "staging-web");
    assert!(
        labels_before.contains(r#""istio-injection":"enabled""#),
        "{labels_before}"
    );
    let count = pods(&sim, "staging-web").len();
    assert!(count > 0);

    let term = open_driver(&sim, &journal);
    select_namespace(&term, "staging-web");
    let preview = open_dialog(&term, "m", "Migrate staging-web to 1-25-0?");
    assert!(
        preview.contains("label istio-injection: enabled -> (removed)"),
        "the preview names istio-injection:\n{preview}"
    );
    assert!(
        preview.contains("label istio.io/rev: (none) -> 1-25-0"),
        "the preview names the new revision:\n{preview}"
    );
    assert!(
        preview.contains(r#"{"istio-injection":"enabled"}"#),
        "the preview shows the record kept for revert:\n{preview}"
    );
    term.keys(&["y"]);
    let (ok, screen) = term.wait_for(SHORT, |s| {
        phase_bar(s).contains("staging-web: ") && phase_bar(s).contains("pods on 1-25-0 and ready")
    });
    assert!(ok, "no progress shown while the namespace moves:\n{screen}");
    let (ok, screen) = term.wait_for(SHORT, |s| {
        status_bar(s).contains("staging-web: labels now select 1-25-0")
    });
    assert!(ok, "no notice after the migration:\n{screen}");

    let labels = ns_labels(&sim, "staging-web");
    assert_eq!(
        labels.get("istio.io/rev").map(String::as_str),
        Some("1-25-0"),
        "{labels:?}"
    );
    assert!(!labels.contains_key("istio-injection"), "{labels:?}");
    let annotations = ns_annotations(&sim, "staging-web");
    assert_eq!(
        annotations.get(PREVIOUS).map(String::as_str),
        Some(r#"{"istio-injection":"enabled"}"#),
        "{annotations:?}"
    );
    wait_all_pods_on(&sim, "staging-web", count, "1-25-0", "istio/proxyv2:1.25.0");
    let (ok, screen) = term.wait_for(SHORT, |s| !phase_bar(s).contains("staging-web:"));
    assert!(ok, "the progress stays after every pod moved:\n{screen}");

    let preview = open_dialog(&term, "r", "Revert staging-web?");
    assert!(
        preview.contains("label istio-injection: (none) -> enabled"),
        "the revert preview restores istio-injection:\n{preview}"
    );
    term.keys(&["y"]);
    // The way back is shown while it happens, as the way there was.
    let (ok, screen) = term.wait_for(SHORT, |s| {
        phase_bar(s).contains("staging-web: ") && phase_bar(s).contains("revert")
    });
    assert!(
        ok,
        "no progress shown while the namespace reverts:\n{screen}"
    );
    let (ok, screen) = term.wait_for(SHORT, |s| {
        status_bar(s).contains("staging-web: labels restored")
    });
    assert!(ok, "no notice after the revert:\n{screen}");
    let labels_after = eventually(LONG, || {
        let now = labels_text(&sim, "staging-web");
        (now == labels_before).then_some(now)
    });
    assert_eq!(
        labels_after.unwrap_or_else(|| labels_text(&sim, "staging-web")),
        labels_before,
        "the labels are byte for byte as before the migration"
    );
    let annotations = ns_annotations(&sim, "staging-web");
    assert!(
        !annotations.contains_key(PREVIOUS) && !annotations.contains_key(MIGRATED_TO),
        "the record is gone after the revert: {annotations:?}"
    );
    wait_all_pods_on(&sim, "staging-web", count, "1-24-0", "istio/proxyv2:1.24.0");
    let (ok, screen) = term.wait_for(SHORT, |s| !phase_bar(s).contains("staging-web:"));
    assert!(
        ok,
        "the progress stays after every pod went back:\n{screen}"
    );

    // The local journal and the cluster's say the same: migrate, restart, revert, restart.
    let local = journal_lines(&journal);
    let actions: Vec<_> = local.iter().map(gist).collect();
    let target = "namespace/staging-web".to_string();
    for action in ["migrate", "restart", "revert"] {
        assert!(
            actions
                .iter()
                .any(|(a, t, r, dry)| a == action && *t == target && r == "ok" && !dry),
            "no ok `{action}` in the local journal: {actions:?}"
        );
    }
    // Each write is journalled as an intent before it is sent, then with its result.
    let order: Vec<(&str, &str)> = actions
        .iter()
        .filter(|(_, t, ..)| *t == target)
        .map(|(a, _, r, _)| (a.as_str(), r.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            ("migrate", "intent"),
            ("migrate", "ok"),
            ("restart", "intent"),
            ("restart", "ok"),
            ("revert", "intent"),
            ("revert", "ok"),
            ("restart", "intent"),
            ("restart", "ok")
        ],
        "{actions:?}"
    );
    let in_cluster: Vec<_> = cluster_journal(&sim).iter().map(gist).collect();
    assert_eq!(
        in_cluster, actions,
        "the ConfigMap istio-cockpit-journal holds the same actions as the local file"
    );

    // The journal pane shows them too.
    term.keys(&["J"]);
    let (ok, screen) = term.wait_for(SHORT, |s| {
        s.contains("Journal · ")
            && s.contains("migrate namespace/staging-web")
            && s.contains("revert namespace/staging-web")
    });
    assert!(ok, "the journal pane does not show the actions:\n{screen}");
    // A driver that quits hands the lease back, so a colleague can drive at once.
    let lease = sim.kubectl(&["get", "lease", "-n", "istio-system", "-o", "name"]);
    assert!(
        lease.contains("istio-cockpit-driver"),
        "the driver holds a lease: {lease}"
    );
    term.keys(&["q"]);
    let released = common::eventually(Duration::from_secs(10), || {
        let out = sim.kubectl(&["get", "lease", "-n", "istio-system", "-o", "name"]);
        (!out.contains("istio-cockpit-driver")).then_some(())
    });
    assert!(released.is_some(), "the lease was not released on quit");
}

#[test]
fn a_killed_cockpit_loses_nothing() {
    let sim = Sim::start(&["--ready-after", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let first_journal = journal_file(&dir, "first");
    let labels_before = labels_text(&sim, "payments");
    assert!(
        labels_before.contains(r#""istio-injection":"enabled""#),
        "{labels_before}"
    );
    let count = pods(&sim, "payments").len();

    let first = open_driver(&sim, &first_journal);
    let pid = cockpit_pid(&first_journal.display().to_string())
        .expect("the cockpit process, found by its journal path");
    select_namespace(&first, "payments");
    open_dialog(&first, "m", "Migrate payments to 1-25-0?");
    first.keys(&["y"]);
    // As soon as the namespace carries the migration, while its pods are rolling: SIGKILL.
    let patched = eventually(Duration::from_secs(20), || {
        ns_annotations(&sim, "payments")
            .contains_key(PREVIOUS)
            .then_some(())
    });
    assert!(
        patched.is_some(),
        "the migration never reached the namespace"
    );
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success(), "kill -KILL {pid} failed");
    let gone = eventually(Duration::from_secs(10), || {
        (!Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| s.contains(") Z ")))
        .then_some(())
    });
    assert!(gone.is_some(), "the cockpit {pid} survived SIGKILL");
    drop(first);

    // A new cockpit, same user on the same machine: it drives again (same identity as the
    // lease's holder) and finds everything it needs on the namespace itself.
    let second_journal = journal_file(&dir, "second");
    let second = open_cockpit(&cockpit_line(&sim, "", "sim-admin", &second_journal, ""));
    let screen = second.screen();
    assert!(
        status_bar(&screen).contains("DRIVER") && !status_bar(&screen).contains("READ-ONLY"),
        "the same user@host drives again after a crash:\n{screen}"
    );
    let (ok, screen) = second.wait_for(SHORT, |s| {
        namespace_row(s, "payments").is_some_and(|row| row.contains("1-25-0"))
    });
    assert!(
        ok,
        "the new cockpit does not show payments on 1-25-0:\n{screen}"
    );
    select_namespace(&second, "payments");
    let preview = open_dialog(&second, "r", "Revert payments?");
    assert!(
        preview.contains("label istio-injection: (none) -> enabled")
            && preview.contains("label istio.io/rev: 1-25-0 -> (removed)"),
        "the revert offers the recorded labels:\n{preview}"
    );
    second.keys(&["y"]);
    let (ok, screen) = second.wait_for(SHORT, |s| {
        status_bar(s).contains("payments: labels restored")
    });
    assert!(ok, "no notice after the revert:\n{screen}");
    let restored = eventually(LONG, || {
        (labels_text(&sim, "payments") == labels_before).then_some(())
    });
    assert!(
        restored.is_some(),
        "labels not restored byte for byte: before {labels_before}, now {}",
        labels_text(&sim, "payments")
    );
    let labels = ns_labels(&sim, "payments");
    assert_eq!(
        labels.get("istio-injection").map(String::as_str),
        Some("enabled")
    );
    assert!(!labels.contains_key("istio.io/rev"), "{labels:?}");
    let annotations = ns_annotations(&sim, "payments");
    assert!(
        !annotations.contains_key(PREVIOUS) && !annotations.contains_key(MIGRATED_TO),
        "{annotations:?}"
    );
    wait_all_pods_on(&sim, "payments", count, "1-24-0", "istio/proxyv2:1.24.0");
    second.keys(&["q"]);
}

#[test]
fn moving_a_tag_moves_new_restarts() {
    let sim = Sim::start(&["--ready-after", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let journal = journal_file(&dir, "driver");
    assert_eq!(
        ns_labels(&sim, "checkout")
            .get("istio.io/rev")
            .map(String::as_str),
        Some("stable")
    );
    wait_tag_on(&sim, "stable", "1-24-0");
    let count = pods(&sim, "checkout").len();

    let term = open_driver(&sim, &journal);
    let preview = open_dialog(&term, "t", "Move tag stable from 1-24-0 to 1-25-0");
    assert!(
        preview.contains("istio-revision-tag-stable")
            && preview.contains("webhooks call istiod-1-25-0")
            && preview.contains("checkout"),
        "the preview names the tag, the new istiod and the namespaces using it:\n{preview}"
    );
    // The plan is in its first wave: moving a tag now is an override, by the phase's name.
    let chars: Vec<String> = "wave 1: staging".chars().map(String::from).collect();
    let chars: Vec<&str> = chars.iter().map(String::as_str).collect();
    term.keys(&chars);
    term.keys(&["Enter"]);
    let (ok, screen) = term.wait_for(SHORT, |s| {
        status_bar(s).contains("tag stable now points at 1-25-0")
    });
    assert!(ok, "no notice after the tag move:\n{screen}");
    wait_tag_on(&sim, "stable", "1-25-0");
    // The default tag was not touched.
    wait_tag_on(&sim, "default", "1-24-0");

    // A restart by hand: the new pods are injected by the revision the tag now names.
    sim.kubectl(&["rollout", "restart", "deploy", "-n", "checkout"]);
    wait_all_pods_on(&sim, "checkout", count, "1-25-0", "istio/proxyv2:1.25.0");

    // Control planes pane, `r`: the last moved tag goes back.
    term.keys(&["Tab", "Tab", "Tab"]);
    let (ok, screen) = term.wait_for(SHORT, |s| {
        s.lines()
            .any(|l| l.starts_with('┏') && l.contains("Control planes"))
    });
    assert!(ok, "three Tabs did not focus the control planes:\n{screen}");
    open_dialog(&term, "r", "Move tag stable back from 1-25-0 to 1-24-0?");
    term.keys(&["y"]);
    let (ok, screen) = term.wait_for(SHORT, |s| {
        status_bar(s).contains("tag stable now points at 1-24-0")
    });
    assert!(ok, "no notice after the tag revert:\n{screen}");
    wait_tag_on(&sim, "stable", "1-24-0");
    term.keys(&["q"]);
}

#[test]
fn a_second_cockpit_is_read_only_and_shows_the_driver() {
    let sim = Sim::start(&["--ready-after", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let labels_before = labels_text(&sim, "payments");

    let driver = open_cockpit(&cockpit_line(
        &sim,
        "",
        "sim-admin",
        &journal_file(&dir, "a"),
        "",
    ));
    assert!(
        status_bar(&driver.screen()).contains("DRIVER"),
        "{}",
        driver.screen()
    );
    let holder = sim.kubectl(&[
        "get",
        "lease",
        "istio-cockpit-driver",
        "-n",
        "istio-system",
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ]);
    assert!(
        holder.contains('@') && !holder.starts_with("pair-watcher@"),
        "the driver lease names the first cockpit as user@host: {holder:?}"
    );

    let watcher = open_cockpit(&cockpit_line(
        &sim,
        "USER=pair-watcher",
        "sim-admin",
        &journal_file(&dir, "b"),
        "",
    ));
    // The lease names one process; the screen names the person.
    let holder = holder.split('#').next().unwrap_or_default().to_string();
    let expected = format!("READ-ONLY · {holder} drives");
    let (ok, screen) = watcher.wait_for(SHORT, |s| status_bar(s).contains(&expected));
    assert!(
        ok,
        "the second cockpit does not show `{expected}`:\n{screen}"
    );
    assert!(!status_bar(&screen).contains("DRIVER"), "{screen}");

    select_namespace(&watcher, "payments");
    watcher.keys(&["m"]);
    let refusal = format!("{holder} drives this upgrade");
    let (ok, screen) = watcher.wait_for(SHORT, |s| status_bar(s).contains(&refusal));
    assert!(
        ok,
        "`m` in the second cockpit does not say who drives:\n{screen}"
    );
    assert!(
        !screen.contains("Migrate payments"),
        "no preview for a follower:\n{screen}"
    );
    watcher.keys(&["y", "t", "y"]);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        labels_text(&sim, "payments"),
        labels_before,
        "a follower wrote labels"
    );
    assert!(!ns_annotations(&sim, "payments").contains_key(PREVIOUS));
    assert_eq!(
        tag_target(&sim, "stable").0,
        "1-24-0",
        "a follower moved a tag"
    );
    assert!(
        !exists(
            &sim,
            &[
                "get",
                "configmap",
                "istio-cockpit-journal",
                "-n",
                "istio-system"
            ]
        ),
        "a follower journalled an action"
    );
    // The first cockpit still drives, and the lease still names it.
    assert!(
        status_bar(&driver.screen()).contains("DRIVER"),
        "{}",
        driver.screen()
    );
    assert_eq!(
        sim.kubectl(&[
            "get",
            "lease",
            "istio-cockpit-driver",
            "-n",
            "istio-system",
            "-o",
            "jsonpath={.spec.holderIdentity}",
        ])
        .split('#')
        .next(),
        Some(holder.as_str())
    );
    watcher.keys(&["q"]);
    driver.keys(&["q"]);
}

#[test]
fn the_viewer_context_is_refused_and_the_cluster_unchanged() {
    let sim = Sim::start(&["--ready-after", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let namespaces_before = all_namespaces(&sim);
    let tags_before = all_tags(&sim);

    let term = open_cockpit(&cockpit_line(
        &sim,
        "",
        "sim-viewer",
        &journal_file(&dir, "viewer"),
        "",
    ));
    let screen = term.screen();
    assert!(
        status_bar(&screen).contains("READ-ONLY") && !status_bar(&screen).contains("DRIVER"),
        "{screen}"
    );
    select_namespace(&term, "payments");
    term.keys(&["m"]);
    let (ok, screen) = term.wait_for(SHORT, |s| {
        status_bar(s).contains("may not patch namespaces")
    });
    assert!(ok, "`m` as the viewer is not refused clearly:\n{screen}");
    assert!(!screen.contains("Migrate payments"), "{screen}");
    term.keys(&["y", "t"]);
    let (ok, screen) = term.wait_for(SHORT, |s| {
        status_bar(s).contains("may not patch namespaces")
    });
    assert!(ok, "`t` as the viewer is not refused clearly:\n{screen}");
    assert!(!screen.contains("Move tag"), "{screen}");
    term.keys(&["y"]);
    std::thread::sleep(Duration::from_secs(3));

    assert_eq!(
        all_namespaces(&sim),
        namespaces_before,
        "namespaces changed"
    );
    assert_eq!(
        all_tags(&sim),
        tags_before,
        "webhook configurations changed"
    );
    assert!(
        !exists(
            &sim,
            &["get", "lease", "istio-cockpit-driver", "-n", "istio-system"]
        ),
        "the viewer took the driver lease"
    );
    assert!(
        !exists(
            &sim,
            &[
                "get",
                "configmap",
                "istio-cockpit-journal",
                "-n",
                "istio-system"
            ]
        ),
        "the viewer journalled an action"
    );
    term.keys(&["q"]);
}

#[test]
fn dry_run_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::start_logging(&["--ready-after", "1"]);
    let requests = sim.request_log();
    let journal = journal_file(&dir, "dry");
    let labels_before = labels_text(&sim, "search");
    let annotations_before = ns_annotations(&sim, "search");
    let mut names_before: Vec<String> = pods(&sim, "search").into_iter().map(|p| p.name).collect();
    names_before.sort();

    let term = open_cockpit(&cockpit_line(&sim, "", "sim-admin", &journal, "--dry-run"));
    let screen = term.screen();
    assert!(status_bar(&screen).contains("DRY RUN"), "{screen}");
    select_namespace(&term, "search");
    let preview = open_dialog(&term, "m", "Migrate search to 1-25-0?");
    assert!(
        preview.contains("DRY RUN"),
        "the preview says dry run:\n{preview}"
    );
    term.keys(&["y"]);
    let (ok, screen) = term.wait_for(SHORT, |s| {
        let bar = status_bar(s);
        bar.contains("search:") && bar.contains("(dry run)")
    });
    assert!(ok, "the notice does not say dry run:\n{screen}");
    std::thread::sleep(Duration::from_secs(5));

    assert_eq!(labels_text(&sim, "search"), labels_before, "labels changed");
    assert_eq!(
        ns_annotations(&sim, "search"),
        annotations_before,
        "annotations changed"
    );
    let mut names_after: Vec<String> = pods(&sim, "search").into_iter().map(|p| p.name).collect();
    names_after.sort();
    assert_eq!(names_after, names_before, "pods were restarted");
    assert!(
        !exists(
            &sim,
            &[
                "get",
                "configmap",
                "istio-cockpit-journal",
                "-n",
                "istio-system"
            ]
        ),
        "a dry run wrote the cluster's journal"
    );

    let local: Vec<_> = journal_lines(&journal).iter().map(gist).collect();
    for action in ["migrate", "restart"] {
        assert!(
            local
                .iter()
                .any(|(a, t, r, dry)| a == action && t == "namespace/search" && r == "ok" && *dry),
            "no dry-run `{action}` in the local journal: {local:?}"
        );
    }
    assert!(
        local.iter().all(|(.., dry)| *dry),
        "every entry of a dry run says so: {local:?}"
    );

    // Every write the action sent carried dryRun=All. Only these may go without it: the
    // SelfSubjectAccessReview and SelfSubjectReview (they write nothing) and the driver lease
    // (it says who drives and changes no workload).
    let log = std::fs::read_to_string(&requests).unwrap();
    let writes: Vec<&str> = log
        .lines()
        .filter(|l| !matches!(l.split_whitespace().next(), Some("get" | "list" | "watch")))
        .filter(|l| {
            !l.contains("selfsubjectaccessreviews")
                && !l.contains("selfsubjectreviews")
                && !l.contains("/leases")
        })
        .collect();
    assert!(
        writes.iter().any(|l| l.contains("/namespaces/search")),
        "the migration was sent (as a dry run): {writes:?}"
    );
    let real: Vec<&&str> = writes
        .iter()
        .filter(|l| !l.contains("dryRun=All"))
        .collect();
    assert!(real.is_empty(), "writes sent without dryRun=All: {real:?}");
    term.keys(&["q"]);
}
