//! Rollback triggers end to end: the real cockpit in tmux on the real simulator, a latency
//! fault on the new revision, a namespace migrated onto it, and the breach seen, named and
//! reverted: with a real Prometheus and one key, and with no Prometheus at all (istiod and
//! sidecars scraped directly) by `auto_rollback`. Also a Prometheus that answers garbage or
//! nothing: the triggers are unknown, never green, and advancing needs the override.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::cluster::*;
use crate::common::cockpit_term::*;
use crate::common::files::write;
use crate::common::journal::*;
use crate::common::prometheus::scraped_sim;
use crate::common::tmux::Tmux;
use crate::common::{Sim, eventually};

/// All on 1-24-0 through `istio.io/rev=1-24-0`, four pods, steady traffic.
const NS: &str = "staging-api";
/// How long a migration, the breach and the revert may take in all.
const BREACH: Duration = Duration::from_secs(120);

/// A plan with one wave (`NS`) and a latency trigger of +50% for 10 s; the other triggers are
/// set out of reach so that only latency can fire.
fn write_plan(dir: &Path, auto_rollback: bool, prometheus_service: Option<&str>) -> PathBuf {
    let service = prometheus_service
        .map(|s| format!("prometheus_service = \"{s}\"\n"))
        .unwrap_or_default();
    let text = format!(
        r#"from = "1-24-0"
to = "1-25-0"
{service}
[[waves]]
name = "canary"
namespaces = ["{NS}"]
soak = "1m"

[rollback]
p99_latency_increase = "50%"
p99_latency_for = "10s"
error_ratio = "50%"
error_ratio_for = "1m"
xds_rejects = 100000
mtls_errors = 100000
convergence_p99 = "60s"
auto_rollback = {auto_rollback}
"#
    );
    write(dir, "plan.toml", &text)
}

/// A breach may take a scrape (2 s) and the rate's second sample, a round of the cockpit
/// (5 s), and the trigger's duration (10 s) once the new pods serve: this, with room to spare.
const SCRAPE_ROUND_AND_DURATION: Duration = Duration::from_secs(35);

/// Opens the cockpit with the plan, shows the metrics pane and waits until `NS` has numbers
/// on 1-24-0 for two rounds: its baseline.
fn cockpit_with_baseline(sim: &Sim, journal: &Path, extra: &str) -> Tmux {
    let line = cockpit_line(sim, "", "sim-admin", journal, extra);
    let term = open_cockpit(&line);
    select_namespace(&term, NS);
    term.keys(&["P"]);
    let (ok, screen) = term.wait_for(LONG, |s| traffic_row(s, NS, "1-24-0").is_some());
    assert!(ok, "no numbers for {NS} on 1-24-0:\n{screen}");
    std::thread::sleep(Duration::from_secs(6));
    term
}

/// Sets the latency fault on the new revision and migrates `NS` with `m` then `y`.
fn migrate_into_the_fault(sim: &Sim, term: &Tmux) {
    sim.set_faults(r#"{"data":{"latency.1-25-0":"400"}}"#);
    open_dialog(term, "m", &format!("Migrate {NS} to 1-25-0?"));
    term.keys(&["y"]);
}

/// When every pod of `NS` ran 1-25-0.
fn wait_until_moved(sim: &Sim) -> Instant {
    eventually(BREACH, || {
        all_ready_on(&pods_json(sim, NS), "1-25-0").then(Instant::now)
    })
    .expect("the namespace's pods never all ran 1-25-0")
}

/// The screen once the banner names `NS`'s p99 latency, within a round and the duration.
fn wait_for_banner(term: &Tmux) -> String {
    let banner = format!("{NS}: p99 latency");
    let (ok, screen) = term.wait_for(SCRAPE_ROUND_AND_DURATION, |s| {
        s.contains("ROLLBACK TRIGGER") && s.contains(&banner)
    });
    assert!(
        ok,
        "no breach banner {SCRAPE_ROUND_AND_DURATION:?} after the pods moved:\n{screen}"
    );
    screen
}

/// The baseline a breach line names: `(+300% over 98 ms)` -> 98.
fn baseline_ms(text: &str) -> f64 {
    let after = text.split(" over ").nth(1).expect("a baseline in the text");
    after
        .split(" ms")
        .next()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no baseline in {text:?}"))
}

/// Registers the real Prometheus as the Service `monitoring/prometheus`, its Endpoints on
/// loopback, so the cockpit reaches it through the API server's service proxy.
fn register_prometheus(sim: &Sim, port: u16) {
    let objects = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "monitoring"}},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"namespace": "monitoring", "name": "prometheus"},
         "spec": {"ports": [{"name": "http", "port": 9090}]}},
        {"apiVersion": "v1", "kind": "Endpoints",
         "metadata": {"namespace": "monitoring", "name": "prometheus"},
         "subsets": [{"addresses": [{"ip": "127.0.0.1"}],
                      "ports": [{"name": "http", "port": port}]}]},
    ]});
    let out = sim.kubectl_stdin(
        "sim-admin",
        &["create", "--validate=false", "-f", "-"],
        objects.to_string().as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn prometheus_sees_the_breach_and_one_key_reverts_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (sim, prom) = scraped_sim(dir.path(), &[]);
    register_prometheus(&sim, prom.port);
    // No --prometheus: the plan names the Service, reached through the API server.
    let plan = write_plan(dir.path(), false, Some("monitoring/prometheus"));
    let journal_file = dir.path().join("journal.jsonl");
    let extra = format!("--plan {}", plan.display());
    let term = cockpit_with_baseline(&sim, &journal_file, &extra);
    assert!(
        term.screen()
            .contains("Prometheus monitoring/prometheus through the API server"),
        "{}",
        term.screen()
    );

    migrate_into_the_fault(&sim, &term);
    let moved = wait_until_moved(&sim);
    let screen = wait_for_banner(&term);
    let took = moved.elapsed();
    assert!(
        phase_bar(&screen).contains("✗ rollback triggers"),
        "{}",
        phase_bar(&screen)
    );
    assert!(screen.contains(&format!("X revert {NS}")), "{screen}");
    eprintln!("breach on screen {took:?} after every pod ran 1-25-0");

    // One key previews the revert of the breached namespace; y sends it.
    let preview = open_dialog(&term, "X", &format!("Revert {NS}?"));
    assert!(
        preview.contains(&format!("breached: {NS}: p99 latency")),
        "{preview}"
    );
    let line = preview
        .lines()
        .find(|l| l.contains("breached:"))
        .unwrap()
        .to_string();
    let baseline = baseline_ms(&line);
    term.keys(&["y"]);
    let restored = eventually(LONG, || {
        (namespace_labels(&sim, NS)["istio.io/rev"] == "1-24-0").then_some(())
    });
    assert!(
        restored.is_some(),
        "labels not restored: {}",
        namespace_labels(&sim, NS)
    );
    let (ok, screen) = term.wait_for(BREACH, |s| !s.contains("ROLLBACK TRIGGER"));
    assert!(ok, "the banner stayed after the revert:\n{screen}");

    // Back on 1-24-0, the namespace's p99 returns under the threshold.
    let limit = baseline * 1.5;
    let p99 = format!(
        "histogram_quantile(0.99, sum by (le) (rate(istio_request_duration_milliseconds_bucket{{reporter=\"destination\",namespace=\"{NS}\",istio_io_rev=\"1-24-0\"}}[20s])))"
    );
    let back = eventually(LONG, || prom.scalar(&p99).filter(|v| *v < limit));
    assert!(
        back.is_some(),
        "p99 of {NS} on 1-24-0 stayed over {limit} ms: {:?}",
        prom.scalar(&p99)
    );
    let entries = journal_entries(&journal_file);
    let revert = entries
        .iter()
        .find(|e| e["action"] == "revert" && e["target"] == format!("namespace/{NS}"))
        .unwrap_or_else(|| panic!("no revert journalled: {entries:#?}"));
    assert!(
        revert["why"]
            .as_str()
            .is_some_and(|w| w.starts_with(&format!("rollback trigger: {NS}: p99 latency"))),
        "{revert}"
    );
}

/// A stock Prometheus: the sim's `stock` configuration leaves the series without
/// `istio_io_rev`, so the cockpit maps pods to revisions with its pod watch; the breach on the
/// new revision still raises the banner.
#[test]
fn a_stock_prometheus_without_the_revision_label_sees_the_breach() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (sim, prom) = scraped_sim(dir.path(), &["--prometheus-style", "stock"]);
    let plan = write_plan(dir.path(), false, None);
    let journal_file = dir.path().join("journal.jsonl");
    let extra = format!("--plan {} --prometheus {}", plan.display(), prom.url());
    let term = cockpit_with_baseline(&sim, &journal_file, &extra);
    let labelled = prom.query("count by (istio_io_rev) ({istio_io_rev!=\"\"})");
    assert!(
        labelled.is_empty(),
        "series with a revision label: {labelled:?}"
    );
    let screen = term.screen();
    assert!(
        screen.contains("revisions: pods by namespace/pod via the pod watch"),
        "{screen}"
    );

    migrate_into_the_fault(&sim, &term);
    let moved = wait_until_moved(&sim);
    let screen = wait_for_banner(&term);
    eprintln!(
        "breach on screen {:?} after every pod ran 1-25-0",
        moved.elapsed()
    );
    assert!(
        traffic_row(&screen, NS, "1-25-0").is_some(),
        "no numbers for {NS} on 1-25-0:\n{screen}"
    );
}

#[test]
fn direct_scrape_sees_the_breach_and_auto_rollback_reverts_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = Sim::start(&[]);
    let plan = write_plan(dir.path(), true, None);
    let journal_file = dir.path().join("journal.jsonl");
    let term = cockpit_with_baseline(&sim, &journal_file, &format!("--plan {}", plan.display()));
    let screen = term.screen();
    assert!(
        screen.contains("istiod scraped through the API server's pod proxy")
            && screen.contains("sidecars sampled"),
        "{screen}"
    );

    migrate_into_the_fault(&sim, &term);
    let moved = wait_until_moved(&sim);
    // Nobody presses a key: the cockpit reverts by itself and journals why.
    let reverted = eventually(SCRAPE_ROUND_AND_DURATION, || {
        journal_entries(&journal_file).into_iter().find(|e| {
            // The result, not the intent journalled before the patch was sent.
            e["action"] == "revert"
                && e["target"] == format!("namespace/{NS}")
                && e["result"] != "intent"
        })
    });
    let revert = reverted.unwrap_or_else(|| {
        panic!(
            "no automatic revert {SCRAPE_ROUND_AND_DURATION:?} after the pods moved:\n{}",
            term.screen()
        )
    });
    eprintln!(
        "reverted by itself {:?} after every pod ran 1-25-0",
        moved.elapsed()
    );
    assert_eq!(revert["result"], "ok", "{revert}");
    assert!(
        revert["why"]
            .as_str()
            .is_some_and(|w| w.starts_with(&format!("auto_rollback: {NS}: p99 latency"))),
        "{revert}"
    );
    let restored = eventually(LONG, || {
        (namespace_labels(&sim, NS)["istio.io/rev"] == "1-24-0").then_some(())
    });
    assert!(
        restored.is_some(),
        "labels not restored: {}",
        namespace_labels(&sim, NS)
    );
}

/// Answers every request with an HTML page, like a proxy's error page; stops when dropped.
struct Garbage {
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Garbage {
    fn start() -> Garbage {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().unwrap().port();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::spawn(move || {
            while !flag.load(std::sync::atomic::Ordering::SeqCst) {
                match listener.accept() {
                    Ok((mut stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                        let mut buf = [0u8; 4096];
                        let _ = stream.read(&mut buf);
                        let body = "<html><body>502 Bad Gateway</body></html>";
                        let _ = write!(
                            stream,
                            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        Garbage { port, stop }
    }
}

impl Drop for Garbage {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn a_prometheus_answering_garbage_or_nothing_leaves_the_triggers_unknown() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = Sim::start(&[]);
    let garbage = Garbage::start();
    let plan = write_plan(dir.path(), false, None);
    let journal_file = dir.path().join("journal.jsonl");
    let extra = format!(
        "--plan {} --prometheus http://127.0.0.1:{}",
        plan.display(),
        garbage.port
    );
    let term = open_cockpit(&cockpit_line(&sim, "", "sim-admin", &journal_file, &extra));
    term.keys(&["P"]);
    let (ok, screen) = term.wait_for(LONG, |s| {
        s.contains("UNAVAILABLE") && s.contains("not a Prometheus answer")
    });
    assert!(ok, "garbage was not reported:\n{screen}");
    assert!(
        phase_bar(&screen).contains("? rollback triggers"),
        "{}",
        phase_bar(&screen)
    );
    assert!(!screen.contains("all within limits"), "{screen}");
    // Advancing is only possible by typing the phase's name.
    let dialog = open_dialog(&term, ">", "Cannot advance");
    assert!(
        dialog.contains("rollback triggers: unknown, metrics unavailable"),
        "{dialog}"
    );
    term.keys(&["Escape"]);

    // Nothing listening at all: the pane says so, the cockpit stays up.
    drop(garbage);
    let (ok, screen) = term.wait_for(LONG, |s| {
        s.contains("UNAVAILABLE") && !s.contains("not a Prometheus answer")
    });
    assert!(ok, "a Prometheus that is gone was not reported:\n{screen}");
    assert!(!screen.contains("EXITED="), "{screen}");
    assert!(
        phase_bar(&screen).contains("? rollback triggers"),
        "{}",
        phase_bar(&screen)
    );
}
