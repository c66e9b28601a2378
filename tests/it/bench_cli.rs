//! `istio-cockpit bench` end to end at a small scale: it starts the mesh, measures the real
//! cockpit on it and prints every figure, named with its unit, as JSON; on a fleet too.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn a_small_bench_prints_every_figure_as_json() {
    let out = Command::new(env!("CARGO_BIN_EXE_istio-cockpit"))
        .args(["bench", "--namespaces", "20", "--pods-per-namespace", "5"])
        .args(["--seconds", "1", "--json"])
        .env(
            "KUBECACHEDIR",
            std::env::temp_dir().join("istio-cockpit-bench-test-cache"),
        )
        .output()
        .expect("run the bench");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stderr}"));
    let number = |key: &str| {
        report[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing in {report:#}"))
    };
    // The hand-written namespaces come first, so 20 namespaces hold at least 20 x 5 pods.
    assert!(number("pods") >= 100.0, "{report:#}");
    assert!(number("first_frame_ms") >= number("first_state_ms"));
    assert!(number("first_state_ms") > 0.0);
    for key in [
        "event_to_screen_p50_ms",
        "event_to_screen_p99_ms",
        "pod_to_screen_p99_ms",
        "frame_p50_ms",
        "frame_p99_ms",
    ] {
        let v = number(key);
        assert!(v > 0.0 && v < 10_000.0, "{key} = {v}");
    }
    assert!(number("event_to_screen_p99_ms") >= number("event_to_screen_p50_ms"));
    assert!(number("log_lines_per_s") > 1000.0, "{report:#}");
    assert!(number("terminal_bytes_per_s") > 0.0, "{report:#}");
    assert!(number("peak_rss_mb") > 1.0);
    assert!(number("idle_cpu_pct") >= 0.0);
    // kubectl is on every machine that runs the tests (the kubectl tests need it).
    assert!(number("kubectl_get_pods_ms") > 0.0, "{report:#}");
    assert!(number("kubectl_watch_first_list_ms") > 0.0, "{report:#}");
    // The mesh's own answer time was probed throughout, and it always answered.
    assert!(number("sim_api_p99_ms") > 0.0, "{report:#}");
    assert_eq!(number("sim_api_failed"), 0.0, "{report:#}");
}

#[test]
fn the_table_shows_figures_against_the_budget() {
    let out = Command::new(env!("CARGO_BIN_EXE_istio-cockpit"))
        .args(["bench", "--namespaces", "12", "--pods-per-namespace", "2"])
        .args(["--seconds", "1"])
        .output()
        .expect("run the bench");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for row in [
        "first full frame",
        "frame at 250x70 p50 / p99",
        "kubectl get pods -A",
        "simulated API answer p99",
    ] {
        assert!(text.contains(row), "{row} missing:\n{text}");
    }
    assert!(
        text.contains("< 4 ms") && text.contains("< 200 MB"),
        "{text}"
    );
}

/// Runs the bench with these arguments, killed (and the test failed) past `limit`.
fn bench_within(args: &[&str], limit: Duration) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_istio-cockpit"))
        .arg("bench")
        .args(args)
        .env(
            "KUBECACHEDIR",
            std::env::temp_dir().join("istio-cockpit-bench-test-cache"),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the bench");
    let read = |mut from: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = from.read_to_string(&mut text);
            text
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("piped")));
    let stderr = read(Box::new(child.stderr.take().expect("piped")));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the bench") {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let (stdout, stderr) = (
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
    );
    let status = status.unwrap_or_else(|| panic!("the bench ran past {limit:?}:\n{stderr}"));
    (status.success(), stdout, stderr)
}

#[test]
fn a_fleet_bench_watches_every_cluster_and_times_a_remote() {
    let (ok, stdout, stderr) = bench_within(
        &[
            "--clusters",
            "2",
            "--namespaces",
            "12",
            "--pods-per-namespace",
            "2",
            "--seconds",
            "1",
            "--json",
        ],
        Duration::from_secs(120),
    );
    assert!(ok, "{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stderr}"));
    assert_eq!(report["clusters"], 2, "{report:#}");
    // Both clusters were listed before the first full frame, each with its own pods.
    let per_cluster: Vec<u64> = report["pods_per_cluster"]
        .as_array()
        .unwrap_or_else(|| panic!("pods_per_cluster missing in {report:#}"))
        .iter()
        .filter_map(serde_json::Value::as_u64)
        .collect();
    assert_eq!(per_cluster.len(), 2, "{report:#}");
    assert!(per_cluster.iter().all(|n| *n >= 24), "{report:#}");
    assert_eq!(
        report["pods"].as_u64(),
        Some(per_cluster.iter().sum::<u64>())
    );
    // The changes were made in the remote and seen on screen with it selected.
    assert_eq!(report["probed_cluster"], "remote-1", "{report:#}");
    for key in [
        "event_to_screen_p99_ms",
        "pod_to_screen_p99_ms",
        "frame_p99_ms",
    ] {
        let v = report[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing in {report:#}"));
        assert!(v > 0.0 && v < 10_000.0, "{key} = {v}");
    }
    // Each cluster churned.
    assert_eq!(report["churn_pod_events_per_s"], 200.0, "{report:#}");
    assert_eq!(report["sim_api_failed"], 0, "{report:#}");
    // kubectl listed the first cluster.
    assert!(
        report["kubectl_get_pods_ms"].as_f64() > Some(0.0),
        "{report:#}"
    );
}
