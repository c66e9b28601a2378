//! `istio-cockpit bench` end to end at a small scale: it starts the mesh, measures the real
//! cockpit on it and prints every figure, named with its unit, as JSON.

use std::process::Command;

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
