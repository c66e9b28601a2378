//! The precheck in the cockpit, end to end: the real cockpit in tmux on the default simulator.
//! The Checks pane shows what the mesh really has wrong; a PodDisruptionBudget and a grace
//! period changed by hand with kubectl show up within seconds and go when undone; the first
//! wave waits behind a blocker until its name is typed, and that override is journalled in
//! the cluster.

use std::time::Duration;

use crate::common::Sim;
use crate::common::cluster::*;
use crate::common::cockpit_term::*;
use crate::common::journal::*;
use crate::common::tmux::Tmux;

const WAVE: &str = "wave 1: staging";
const BLOCKER: &str = "BLOCKER pdb-blocks PodDisruptionBudget/staging-web/hold-all";

fn checks_pane(screen: &str) -> String {
    screen
        .lines()
        .skip_while(|l| !l.contains("Checks ·"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn wait_pane(term: &Tmux, what: &str, check: impl Fn(&str) -> bool) -> String {
    let (ok, screen) = term.wait_for(SHORT, |s| check(&checks_pane(s)));
    assert!(ok, "the Checks pane never {what}:\n{screen}");
    checks_pane(&screen)
}

fn hold_all(sim: &Sim) {
    sim.kubectl(&[
        "create",
        "pdb",
        "hold-all",
        "-n",
        "staging-web",
        "--selector",
        "app=frontend",
        "--min-available",
        "100%",
    ]);
}

#[test]
fn the_checks_pane_follows_the_cluster_and_its_blockers_hold_the_first_wave() {
    let sim = Sim::start(&["--ready-after", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let journal = journal_file(&dir, "driver");
    let term = open_driver(&sim, &journal);
    term.keys(&["C"]);
    // What the default mesh really has wrong, and nothing else.
    let pane = wait_pane(&term, "showed the default mesh's findings", |p| {
        p.contains("Checks · 0 blockers, 2 warnings, 0 info")
    });
    assert!(
        pane.contains("WARNING label-conflict Namespace/notifications"),
        "{pane}"
    );
    assert!(
        pane.contains("WARNING proxy-image-mismatch Pod/search/search-api-"),
        "{pane}"
    );

    hold_all(&sim);
    wait_pane(&term, "showed a budget made by hand", |p| {
        p.contains(BLOCKER)
    });
    sim.kubectl(&[
        "patch",
        "deployment",
        "bff",
        "-n",
        "staging-web",
        "-p",
        r#"{"spec":{"template":{"spec":{"terminationGracePeriodSeconds":1}}}}"#,
    ]);
    let pane = wait_pane(&term, "showed a grace period set by hand", |p| {
        p.contains("WARNING grace-below-drain Deployment/staging-web/bff")
    });
    assert!(pane.contains("1 blocker, 3 warnings"), "{pane}");

    // The blocker holds the first wave: `y` is not enough, Esc changes nothing.
    let screen = open_dialog(&term, "M", &format!("The precheck holds {WAVE}"));
    assert!(
        screen.contains(
            "no precheck blockers: 1 blocker: pdb-blocks PodDisruptionBudget/staging-web/hold-all"
        ),
        "{screen}"
    );
    term.keys(&["Escape"]);
    let (closed, screen) = term.wait_for(SHORT, |s| !s.contains("The precheck holds"));
    assert!(closed, "{screen}");
    assert_eq!(
        ns_labels(&sim, "staging-web")
            .get("istio-injection")
            .map(String::as_str),
        Some("enabled")
    );

    // Undone by hand: gone from the pane, and the wave asks only `y` again.
    sim.kubectl(&["delete", "pdb", "hold-all", "-n", "staging-web"]);
    wait_pane(&term, "dropped the deleted budget", |p| {
        !p.contains("pdb-blocks") && p.contains("0 blockers")
    });
    open_dialog(&term, "M", &format!("Migrate {WAVE} ?"));
    term.keys(&["n"]);

    // Overridden by typing the phase's name: the wave starts and the cluster's journal says so.
    hold_all(&sim);
    wait_pane(&term, "showed the budget again", |p| p.contains(BLOCKER));
    open_dialog(&term, "M", &format!("The precheck holds {WAVE}"));
    term.keys(&[WAVE, "Enter"]);
    let moved = crate::common::eventually(Duration::from_secs(30), || {
        let on = |ns: &str| {
            ns_labels(&sim, ns).get("istio.io/rev").map(String::as_str) == Some("1-25-0")
        };
        (on("staging-api") || on("staging-web")).then_some(())
    });
    assert!(moved.is_some(), "the overridden wave moved no namespace");
    let journal = cluster_journal(&sim);
    let text = serde_json::to_string(&journal).unwrap();
    assert!(
        text.contains("started over the precheck gate: no precheck blockers: 1 blocker"),
        "the override is not in the cluster's journal: {text}"
    );
}
