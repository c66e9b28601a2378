//! A fleet end to end: the real cockpit in tmux on a simulated fleet (`sim --clusters N`),
//! keys pressed as a person would, and each cluster checked afterwards with kubectl in its
//! own context.

use std::path::Path;

use crate::common::cockpit_term::*;
use crate::common::tmux::Tmux;
use crate::common::{Sim, eventually};

/// The cockpit on every cluster the plan names, journalling to `journal`.
fn fleet_line(sim: &Sim, plan: &Path, journal: &Path) -> String {
    format!(
        "{BIN} --kubeconfig {} --plan {} --journal {}; echo EXITED=$?; sleep 120",
        sim.kubeconfig_path().display(),
        plan.display(),
        journal.display(),
    )
}

/// The fleet pane's row of `cluster`.
fn fleet_row<'a>(screen: &'a str, cluster: &str) -> &'a str {
    let (selected, plain) = (format!("│▶ {cluster} "), format!("│  {cluster} "));
    screen
        .lines()
        .find(|l| l.starts_with(&selected) || l.starts_with(&plain))
        .unwrap_or("")
}

/// Presses the cluster key until the panes below belong to `cluster`.
fn show_cluster(term: &Tmux, cluster: &str) {
    let title = "Namespaces";
    let owned = format!("· {cluster} ");
    for _ in 0..4 {
        let screen = term.screen();
        if fleet_row(&screen, cluster).starts_with("│▶")
            && screen
                .lines()
                .any(|l| l.contains(title) && l.contains(&owned))
        {
            return;
        }
        term.keys(&["c"]);
        let _ = term.wait_for(SHORT, |s| fleet_row(s, cluster).starts_with("│▶"));
    }
    panic!("the cluster key never showed {cluster}:\n{}", term.screen());
}

/// `key=value` of a namespace's labels in `context`, sorted.
fn labels(sim: &Sim, context: &str, ns: &str) -> String {
    sim.kubectl_in(
        context,
        &["get", "ns", ns, "-o", "jsonpath={.metadata.labels}"],
    )
}

/// Whether every pod of `ns` in `context` runs `image` for its proxy, is ready, and there
/// are `count` of them.
fn all_on(sim: &Sim, context: &str, ns: &str, image: &str, count: usize) -> bool {
    let out = sim.kubectl_in(
        context,
        &[
            "get",
            "pods",
            "-n",
            ns,
            "-o",
            r#"jsonpath={range .items[*]}{.spec.containers[?(@.name=="istio-proxy")].image}{" "}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}"#,
        ],
    );
    let lines: Vec<&str> = out.lines().filter(|l| !l.trim().is_empty()).collect();
    lines.len() == count && lines.iter().all(|l| *l == format!("{image} True"))
}

fn pod_count(sim: &Sim, context: &str, ns: &str) -> usize {
    sim.kubectl_in(context, &["get", "pods", "-n", ns, "--no-headers"])
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}

/// Migrates `ns` of the cluster on screen (`m`, `y`) and waits until every one of its pods
/// runs the new revision's proxy, ready, in `context`.
fn migrate_and_wait(term: &Tmux, sim: &Sim, context: &str, ns: &str) {
    let count = pod_count(sim, context, ns);
    open_dialog(term, "m", &format!("Migrate {ns} to 1-25-0?"));
    term.keys(&["y"]);
    let moved = eventually(LONG, || {
        all_on(sim, context, ns, "istio/proxyv2:1.25.0", count).then_some(())
    });
    assert!(
        moved.is_some(),
        "{context}'s {ns} never moved:\n{}",
        term.screen()
    );
}

const PLAN: &str = r#"namespace_bake = "1s"

[[clusters]]
context = "primary"
role = "primary"

[[clusters]]
context = "remote-1"
role = "remote"

[[clusters]]
context = "remote-2"
role = "remote"

[[waves]]
name = "canary"
namespaces = ["staging-web"]

[[waves]]
name = "rest"
namespaces = ["staging-api", "checkout"]
"#;

#[test]
fn a_primary_remote_fleet_is_upgraded_primary_first_and_each_cluster_answers_for_itself() {
    let sim = Sim::start(&["--clusters", "3", "--ready-after", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("fleet.toml");
    std::fs::write(&plan, PLAN).unwrap();
    let journal = dir.path().join("journal.jsonl");
    let term = Tmux::start(WIDTH, HEIGHT + 6, &fleet_line(&sim, &plan, &journal));
    let (ok, screen) = term.wait_for(LONG, |s| {
        ["primary", "remote-1", "remote-2"]
            .iter()
            .all(|c| fleet_row(s, c).contains("DRIVER"))
            && s.contains("staging-web")
            // The remotes' pods listed: their control plane is the primary's.
            && fleet_row(s, "remote-1").contains("via primary")
    });
    assert!(
        ok,
        "the fleet pane never listed all three, driving, remote-1 served by primary:\n{screen}"
    );
    assert!(
        fleet_row(&screen, "remote-1").contains(" remote "),
        "{screen}"
    );
    assert!(
        fleet_row(&screen, "remote-1").contains("via primary"),
        "{screen}"
    );

    // A remote's namespace waits for the primary's first wave.
    let before = labels(&sim, "remote-1", "staging-web");
    show_cluster(&term, "remote-1");
    select_namespace(&term, "staging-web");
    term.keys(&["m"]);
    let (ok, screen) = wait_status(&term, SHORT, |s| s.contains("primary first"));
    assert!(ok, "migrating a remote first was not refused:\n{screen}");
    assert!(status_bar(&screen).contains("primary"), "{screen}");
    assert!(
        !screen.contains("Migrate staging-web to"),
        "no preview opens:\n{screen}"
    );
    assert_eq!(
        labels(&sim, "remote-1", "staging-web"),
        before,
        "remote-1 was not written"
    );

    // The primary's first wave: staging-web moves there first.
    show_cluster(&term, "primary");
    select_namespace(&term, "staging-web");
    migrate_and_wait(&term, &sim, "primary", "staging-web");

    // Now the remote's namespace moves, injected by the primary's new revision, and reverts.
    show_cluster(&term, "remote-1");
    term.keys(&["Escape"]);
    select_namespace(&term, "staging-web");
    migrate_and_wait(&term, &sim, "remote-1", "staging-web");
    assert!(
        labels(&sim, "remote-1", "staging-web").contains(r#""istio.io/rev":"1-25-0""#),
        "{}",
        labels(&sim, "remote-1", "staging-web")
    );
    assert_eq!(
        labels(&sim, "remote-2", "staging-web"),
        before,
        "only the cluster on screen is written"
    );
    open_dialog(&term, "r", "Revert staging-web");
    term.keys(&["y"]);
    let reverted = eventually(LONG, || {
        (labels(&sim, "remote-1", "staging-web") == before).then_some(())
    });
    assert!(
        reverted.is_some(),
        "the revert did not restore remote-1's labels: {}",
        labels(&sim, "remote-1", "staging-web")
    );
    let remote_journal = std::fs::read_to_string(dir.path().join("journal-remote-1.jsonl"))
        .expect("remote-1's writes are journalled in its own file");
    assert!(remote_journal.contains("\"revert\""), "{remote_journal}");

    // The primary's record keeps every cluster's phase.
    let recorded = eventually(LONG, || {
        let fleet = sim.kubectl_in(
            "primary",
            &[
                "get",
                "configmap",
                "istio-cockpit-upgrade",
                "-n",
                "istio-system",
                "-o",
                "jsonpath={.data.fleet}",
            ],
        );
        fleet
            .contains(r#""remote-1":"wave 1: canary""#)
            .then_some(fleet)
    });
    let fleet = recorded.expect("the primary's upgrade record never kept remote-1's phase");
    assert!(fleet.contains(r#""primary":"wave 1: canary""#), "{fleet}");
    let primary_journal = std::fs::read_to_string(dir.path().join("journal-primary.jsonl"))
        .expect("the primary's writes are journalled in its own file");
    assert!(primary_journal.contains("\"fleet\""), "{primary_journal}");

    // A remote's tag moves: its webhook calls the primary's new istiod by URL.
    let screen = open_dialog(&term, "t", "Move tag ");
    let title = screen
        .lines()
        .find_map(|l| l.split("Move tag ").nth(1))
        .unwrap_or_default();
    let tag = title.split(' ').next().unwrap_or_default().to_string();
    assert!(
        screen.contains("webhooks call primary's istiod-1-25-0"),
        "the preview says whose istiod the remote's webhooks call:\n{screen}"
    );
    let chars: Vec<String> = "wave 1: canary".chars().map(String::from).collect();
    let chars: Vec<&str> = chars.iter().map(String::as_str).collect();
    term.keys(&chars);
    term.keys(&["Enter"]);
    let webhook = format!("istio-revision-tag-{tag}");
    let moved = eventually(LONG, || {
        let out = sim.kubectl_in(
            "remote-1",
            &[
                "get",
                "mutatingwebhookconfiguration",
                &webhook,
                "-o",
                r#"jsonpath={.metadata.labels.istio\.io/rev} {.webhooks[*].clientConfig.url}"#,
            ],
        );
        (out.starts_with("1-25-0 ") && !out.contains("/rev/1-24-0")).then_some(out)
    });
    let urls = moved.unwrap_or_else(|| panic!("{webhook} never moved:\n{}", term.screen()));
    assert!(urls.contains("/rev/1-25-0"), "{urls}");
    let untouched = sim.kubectl_in(
        "remote-2",
        &[
            "get",
            "mutatingwebhookconfiguration",
            &webhook,
            "-o",
            "jsonpath={.webhooks[*].clientConfig.url}",
        ],
    );
    assert!(
        untouched.contains("/rev/1-24-0"),
        "remote-2 is not written: {untouched}"
    );

    // One remote's root CA differs: a blocker naming it.
    sim.set_faults_in("remote-2", r#"{"data":{"ca.mismatch":"true"}}"#);
    let (ok, screen) = term.wait_for(LONG, |s| {
        s.lines()
            .any(|l| l.contains("BLOCKER:") && l.contains("remote-2"))
    });
    assert!(ok, "no blocker named remote-2:\n{screen}");
    assert!(fleet_row(&screen, "remote-2").contains('≠'), "{screen}");

    // One cluster's API server goes away: only its row goes stale.
    sim.set_faults_in("remote-1", r#"{"data":{"api.down-s":"600"}}"#);
    let (ok, screen) = term.wait_for(LONG, |s| fleet_row(s, "remote-1").contains("STALE"));
    assert!(ok, "remote-1 never went STALE:\n{screen}");
    for live in ["primary", "remote-2"] {
        assert!(
            !fleet_row(&screen, live).contains("STALE"),
            "{live}:\n{screen}"
        );
    }
}

#[test]
fn in_a_multi_primary_fleet_each_cluster_moves_on_its_own_control_plane() {
    let sim = Sim::start(&[
        "--clusters",
        "2",
        "--topology",
        "multi-primary",
        "--ready-after",
        "1",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let line = format!(
        "{BIN} --kubeconfig {} --all-contexts --journal {}; echo EXITED=$?; sleep 120",
        sim.kubeconfig_path().display(),
        journal.display(),
    );
    let term = Tmux::start(WIDTH, HEIGHT + 6, &line);
    let (ok, screen) = term.wait_for(LONG, |s| {
        fleet_row(s, "primary").contains("DRIVER") && fleet_row(s, "remote-1").contains("DRIVER")
    });
    assert!(ok, "the fleet pane never listed both, driving:\n{screen}");
    // Both run istiod: both are primaries, neither served by the other.
    let (ok, screen) = term.wait_for(SHORT, |s| {
        fleet_row(s, "remote-1").contains(" primary ")
            && !fleet_row(s, "remote-1").contains("via primary")
    });
    assert!(ok, "remote-1 is not a primary of its own:\n{screen}");
    assert!(
        sim.kubectl_in(
            "remote-1",
            &[
                "get",
                "pods",
                "-n",
                "istio-system",
                "-l",
                "app=istiod",
                "--no-headers"
            ]
        )
        .lines()
        .count()
            >= 2
    );

    // The second cluster moves without waiting for the first.
    let before = labels(&sim, "primary", "staging-web");
    show_cluster(&term, "remote-1");
    select_namespace(&term, "staging-web");
    migrate_and_wait(&term, &sim, "remote-1", "staging-web");
    assert_eq!(
        labels(&sim, "primary", "staging-web"),
        before,
        "the primary was not written"
    );
    let screen = term.screen();
    assert!(!phase_bar(&screen).contains("primary first"), "{screen}");
}
