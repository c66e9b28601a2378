//! Baselines without Prometheus for a namespace the cockpit does not move: the direct scrape's
//! spare room reads it in turn, so when kubectl moves it onto a slow new revision while the
//! cockpit runs, its p99 is judged against what it was and the breach banner names it.

use std::time::Duration;

use crate::common::cluster::{all_ready_on, label_for, pods_json};
use crate::common::cockpit_term::*;
use crate::common::files::write;
use crate::common::journal::journal_file;
use crate::common::{Sim, eventually};

/// Not in the plan's wave and not selected on screen: only the spare room samples it.
const NS: &str = "staging-api";

const PLAN: &str = r#"from = "1-24-0"
to = "1-25-0"

[[waves]]
name = "canary"
namespaces = ["staging-web"]
soak = "1m"

[rollback]
p99_latency_increase = "50%"
p99_latency_for = "10s"
error_ratio = "50%"
error_ratio_for = "1m"
xds_rejects = 100000
mtls_errors = 100000
convergence_p99 = "60s"
"#;

#[test]
fn a_namespace_moved_by_kubectl_is_judged_against_its_traffic_before_the_move() {
    // Five namespaces: the spare room comes round to each within half a minute.
    let sim = Sim::start(&["--namespaces", "5"]);
    let dir = tempfile::tempdir().unwrap();
    let plan = write(dir.path(), "plan.toml", PLAN);
    let line = cockpit_line(
        &sim,
        "",
        "sim-admin",
        &journal_file(&dir, "driver"),
        &format!("--plan {}", plan.display()),
    );
    let term = open_cockpit(&line);
    term.keys(&["P"]);
    let (ok, screen) = term.wait_for(Duration::from_secs(90), |s| {
        traffic_row(s, NS, "1-24-0").is_some()
    });
    assert!(ok, "the spare room never read {NS}:\n{screen}");
    // Its window has a read or two left: the baseline is a median of what it saw.
    std::thread::sleep(Duration::from_secs(6));

    sim.set_faults(r#"{"data":{"latency.1-25-0":"400"}}"#);
    label_for(&sim, NS, "1-25-0");
    sim.kubectl(&["rollout", "restart", "deployment", "-n", NS]);
    eventually(LONG, || {
        all_ready_on(&pods_json(&sim, NS), "1-25-0").then_some(())
    })
    .expect("the namespace's pods never all ran 1-25-0");
    let banner = format!("{NS}: p99 latency");
    let (ok, screen) = term.wait_for(LONG, |s| {
        s.contains("ROLLBACK TRIGGER") && s.contains(&banner)
    });
    assert!(ok, "no breach banner for {NS}:\n{screen}");
    let line = screen
        .lines()
        .find(|l| l.contains(&banner))
        .expect("the banner line");
    assert!(
        line.contains(" over ") && !line.contains("of its old pods"),
        "judged against its traffic before the move: {line}"
    );
    term.keys(&["q"]);
}
