//! Paced waves end to end: the real cockpit in tmux on the real simulator, a plan with one
//! wave of two namespaces, and `M`. The second namespace is patched only after the first one's
//! pods all run the new revision, are Ready, and have baked; a latency fault on the new
//! revision stops the wave on the first namespace and the second is never touched; and a
//! cancelled wave never runs behind a later, single migration.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::cluster::*;
use crate::common::cockpit_term::*;
use crate::common::files::write;
use crate::common::journal::*;
use crate::common::tmux::Tmux;
use crate::common::{Sim, eventually};

/// The wave, in the order it moves (names sort): four pods, then five.
const FIRST: &str = "staging-api";
const SECOND: &str = "staging-web";
/// Outside the wave.
const OTHER: &str = "search";

/// A plan with one wave of `FIRST` and `SECOND`, baking `bake` each. Only latency can fire:
/// the other triggers are set out of reach.
fn write_plan(dir: &Path, bake: &str, latency_for: &str) -> PathBuf {
    let text = format!(
        r#"from = "1-24-0"
to = "1-25-0"
namespace_bake = "{bake}"
namespace_timeout = "2m"

[[waves]]
name = "canary"
namespaces = ["{FIRST}", "{SECOND}"]
soak = "1m"

[rollback]
p99_latency_increase = "50%"
p99_latency_for = "{latency_for}"
error_ratio = "50%"
error_ratio_for = "1m"
xds_rejects = 100000
mtls_errors = 100000
convergence_p99 = "60s"
"#
    );
    write(dir, "plan.toml", &text)
}

/// Opens the cockpit with the plan and waits until both namespaces of the wave have traffic
/// on 1-24-0 for a few rounds: the baselines their triggers compare with.
fn cockpit_with_baselines(sim: &Sim, dir: &Path, plan: &Path) -> Tmux {
    let journal = dir.join("journal.jsonl");
    let extra = format!("--plan {}", plan.display());
    let term = open_cockpit(&cockpit_line(sim, "", "sim-admin", &journal, &extra));
    term.keys(&["P"]);
    let (ok, screen) = term.wait_for(LONG, |s| {
        traffic_row(s, FIRST, "1-24-0").is_some() && traffic_row(s, SECOND, "1-24-0").is_some()
    });
    assert!(ok, "no numbers for the wave on 1-24-0:\n{screen}");
    std::thread::sleep(Duration::from_secs(6));
    term
}

/// Requests the simulator logged that write to `ns` or to anything in it.
fn writes_to(sim: &Sim, ns: &str) -> Vec<String> {
    let own = format!("/api/v1/namespaces/{ns}");
    let inside = format!("/namespaces/{ns}/");
    sim.writes()
        .into_iter()
        .filter(|l| {
            let path = l.split_whitespace().nth(2).unwrap_or("");
            let path = path.split('?').next().unwrap_or("");
            path == own || path.contains(&inside)
        })
        .collect()
}

/// Watches the cluster with `kubectl get -w` (restarted whenever its watch ends) and notes
/// the moment `seen` first holds for what it has seen: the objects by name, deleted ones
/// gone. The moment is when the event arrived, within milliseconds of the change.
struct Moment {
    at: Arc<Mutex<Option<Instant>>>,
    child: Arc<Mutex<Option<Child>>>,
}

impl Moment {
    fn watch(sim: &Sim, args: &[&str], seen: fn(&[Value]) -> bool) -> Moment {
        let at = Arc::new(Mutex::new(None));
        let child = Arc::new(Mutex::new(None::<Child>));
        let mut command = Command::new("kubectl");
        command
            .env("KUBECONFIG", &sim.kubeconfig)
            .env("KUBECACHEDIR", sim.dir.path().join("kube-cache"))
            .args([
                "--context",
                "sim-admin",
                "get",
                "-w",
                "--output-watch-events",
            ])
            .args(["-o", "json"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let (found, running) = (at.clone(), child.clone());
        std::thread::spawn(move || {
            while found.lock().unwrap().is_none() {
                let Ok(mut process) = command.spawn() else {
                    return;
                };
                let stdout = process.stdout.take().expect("stdout");
                *running.lock().unwrap() = Some(process);
                let mut objects: std::collections::BTreeMap<String, Value> = Default::default();
                let events = serde_json::Deserializer::from_reader(BufReader::new(stdout));
                for event in events.into_iter::<Value>() {
                    let Ok(event) = event else { break };
                    let object = event["object"].clone();
                    let name = object["metadata"]["name"]
                        .as_str()
                        .unwrap_or("")
                        .to_string();
                    if event["type"] == "DELETED" {
                        objects.remove(&name);
                    } else {
                        objects.insert(name, object);
                    }
                    let now: Vec<Value> = objects.values().cloned().collect();
                    if seen(&now) {
                        *found.lock().unwrap() = Some(Instant::now());
                        break;
                    }
                }
                if let Some(mut p) = running.lock().unwrap().take() {
                    let _ = p.kill();
                    let _ = p.wait();
                }
            }
        });
        Moment { at, child }
    }

    fn get(&self) -> Option<Instant> {
        *self.at.lock().unwrap()
    }
}

impl Drop for Moment {
    fn drop(&mut self) {
        *self.at.lock().unwrap() = Some(Instant::now());
        if let Some(mut p) = self.child.lock().unwrap().take() {
            let _ = p.kill();
            let _ = p.wait();
        }
    }
}

fn labelled_new(namespaces: &[Value]) -> bool {
    namespaces
        .iter()
        .any(|ns| ns["metadata"]["labels"]["istio.io/rev"] == "1-25-0")
}

#[test]
fn the_second_namespace_waits_for_the_first_to_be_ready_and_baked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = Sim::start(&["--ready-after", "1"]);
    let plan = write_plan(dir.path(), "15s", "1m");
    let term = cockpit_with_baselines(&sim, dir.path(), &plan);

    let first_ready = Moment::watch(&sim, &["pods", "-n", FIRST], |pods| {
        all_ready_on(pods, "1-25-0")
    });
    let second_patched = Moment::watch(&sim, &["namespace", SECOND], labelled_new);
    let preview = open_dialog(&term, "M", "Migrate wave 1: canary ?");
    assert!(
        preview.contains("migrate 2 namespaces to 1-25-0, one at a time")
            && preview.contains("then it bakes 15s with its rollback triggers healthy"),
        "{preview}"
    );
    term.keys(&["y"]);
    let (ok, screen) = term.wait_for(LONG, |s| {
        phase_bar(s).contains(&format!("wave 0/2 done · {FIRST} baking"))
    });
    assert!(ok, "the phase bar never showed {FIRST} baking:\n{screen}");
    let patched = eventually(Duration::from_secs(60), || second_patched.get());
    let patched =
        patched.unwrap_or_else(|| panic!("{SECOND} was never patched:\n{}", term.screen()));
    let ready = first_ready
        .get()
        .expect("the first namespace's pods were all ready before the second moved");
    let gap = patched.duration_since(ready);
    eprintln!("{SECOND} patched {gap:?} after every pod of {FIRST} ran 1-25-0 and was Ready");
    assert!(
        gap >= Duration::from_secs(15),
        "{SECOND} was patched only {gap:?} after {FIRST} was ready"
    );
    assert!(gap < Duration::from_secs(30), "the bake took {gap:?}");
}

#[test]
fn a_latency_breach_stops_the_wave_on_the_first_namespace() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = Sim::start_logging(&["--ready-after", "1"]);
    let plan = write_plan(dir.path(), "2m", "5s");
    let term = cockpit_with_baselines(&sim, dir.path(), &plan);
    let before = namespace_labels(&sim, SECOND);

    sim.set_faults(r#"{"data":{"latency.1-25-0":"400"}}"#);
    open_dialog(&term, "M", "Migrate wave 1: canary ?");
    term.keys(&["y"]);
    let (ok, screen) = term.wait_for(Duration::from_secs(75), |s| {
        s.contains("Wave stopped") && s.contains(&format!("breached: {FIRST}: p99 latency"))
    });
    assert!(ok, "the wave did not stop on the breach:\n{screen}");
    assert!(
        screen.contains(&format!("not started: {SECOND}")),
        "{screen}"
    );
    assert_eq!(namespace_labels(&sim, FIRST)["istio.io/rev"], "1-25-0");
    let stopped = journal_entries(&dir.path().join("journal.jsonl"))
        .into_iter()
        .find(|e| e["action"] == "wave")
        .unwrap_or_else(|| {
            panic!(
                "no wave stop journalled: {:#?}",
                journal_entries(&dir.path().join("journal.jsonl"))
            )
        });
    assert!(
        stopped["why"]
            .as_str()
            .is_some_and(|w| w.starts_with(&format!("stopped: breached: {FIRST}: p99 latency"))),
        "{stopped}"
    );
    // Closing the dialog leaves the stop in the phase bar; the second namespace stays as it was.
    term.keys(&["Escape"]);
    let (ok, screen) = term.wait_for(SHORT, |s| phase_bar(s).contains("STOPPED: breached"));
    assert!(ok, "{screen}");
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(namespace_labels(&sim, SECOND), before);
    assert_eq!(writes_to(&sim, SECOND), Vec::<String>::new());
    assert!(
        !writes_to(&sim, FIRST).is_empty(),
        "the first namespace was written"
    );
}

#[test]
fn a_cancelled_wave_does_not_run_behind_a_single_migration() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = Sim::start_logging(&["--ready-after", "1"]);
    let plan = write_plan(dir.path(), "15s", "1m");
    let journal_file = dir.path().join("journal.jsonl");
    let extra = format!("--plan {}", plan.display());
    let term = open_cockpit(&cockpit_line(&sim, "", "sim-admin", &journal_file, &extra));
    let wave_before = [
        namespace_labels(&sim, FIRST),
        namespace_labels(&sim, SECOND),
    ];

    open_dialog(&term, "M", "Migrate wave 1: canary ?");
    term.keys(&["n"]);
    let (ok, screen) = term.wait_for(SHORT, |s| s.contains("cancelled: nothing was changed"));
    assert!(ok, "{screen}");
    select_namespace(&term, OTHER);
    open_dialog(&term, "m", &format!("Migrate {OTHER} to 1-25-0?"));
    term.keys(&["y"]);
    let moved = eventually(LONG, || {
        (namespace_labels(&sim, OTHER)["istio.io/rev"] == "1-25-0").then_some(())
    });
    assert!(
        moved.is_some(),
        "{OTHER} was not migrated:\n{}",
        term.screen()
    );
    // Its pods move; nothing else follows them.
    let (ok, screen) = term.wait_for(LONG, |s| !phase_bar(s).contains(&format!("{OTHER}:")));
    assert!(ok, "{OTHER} never finished moving:\n{screen}");
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(
        [
            namespace_labels(&sim, FIRST),
            namespace_labels(&sim, SECOND)
        ],
        wave_before
    );
    for ns in [FIRST, SECOND] {
        assert_eq!(
            writes_to(&sim, ns),
            Vec::<String>::new(),
            "{ns} was written"
        );
    }
    assert!(!writes_to(&sim, OTHER).is_empty());
}
