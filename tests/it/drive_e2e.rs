//! Driving an upgrade end to end: the real cockpit in tmux against the real simulator, keys
//! pressed as a person would, and the cluster checked afterwards with kubectl as `sim-admin`.

use std::path::Path;
use std::time::Duration;

use crate::common;
use crate::common::cluster::*;
use crate::common::cockpit_term::*;
use crate::common::journal::*;
use crate::common::{Sim, eventually};

const PREVIOUS: &str = "istio-cockpit.io/previous-injection";
const MIGRATED_TO: &str = "istio-cockpit.io/migrated-to";

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
    wait_notice(
        &term,
        "staging-web: labels now select 1-25-0",
        "no notice after the migration",
    );

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
    wait_notice(
        &term,
        "staging-web: labels restored",
        "no notice after the revert",
    );
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
    wait_notice(
        &second,
        "payments: labels restored",
        "no notice after the revert",
    );
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
    wait_notice(
        &term,
        "tag stable now points at 1-25-0",
        "no notice after the tag move",
    );
    wait_tag_on(&sim, "stable", "1-25-0");
    // The default tag was not touched.
    wait_tag_on(&sim, "default", "1-24-0");

    // A restart by hand: the new pods are injected by the revision the tag now names.
    sim.kubectl(&["rollout", "restart", "deploy", "-n", "checkout"]);
    wait_all_pods_on(&sim, "checkout", count, "1-25-0", "istio/proxyv2:1.25.0");

    // Control planes pane, `r`: the last moved tag goes back.
    focus_control_planes(&term);
    open_dialog(&term, "r", "Move tag stable back from 1-25-0 to 1-24-0?");
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
fn a_second_cockpit_is_read_only_and_shows_the_driver() {
    let sim = Sim::start(&["--ready-after", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let labels_before = labels_text(&sim, "payments");

    let driver = open_driver(&sim, &journal_file(&dir, "a"));
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
    let screen = wait_notice(
        &watcher,
        &expected,
        &format!("the second cockpit does not show `{expected}`"),
    );
    assert!(!status_bar(&screen).contains("DRIVER"), "{screen}");

    select_namespace(&watcher, "payments");
    watcher.keys(&["m"]);
    let refusal = format!("{holder} drives this upgrade");
    let screen = wait_notice(
        &watcher,
        &refusal,
        "`m` in the second cockpit does not say who drives",
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
    let screen = wait_notice(
        &term,
        "may not patch namespaces",
        "`m` as the viewer is not refused clearly",
    );
    assert!(!screen.contains("Migrate payments"), "{screen}");
    term.keys(&["y", "t"]);
    let screen = wait_notice(
        &term,
        "may not patch namespaces",
        "`t` as the viewer is not refused clearly",
    );
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
    let writes: Vec<String> = sim
        .writes()
        .into_iter()
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
    let real: Vec<&String> = writes
        .iter()
        .filter(|l| !l.contains("dryRun=All"))
        .collect();
    assert!(real.is_empty(), "writes sent without dryRun=All: {real:?}");
    term.keys(&["q"]);
}
