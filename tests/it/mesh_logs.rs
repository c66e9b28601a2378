//! istiod's logs and metrics as kubectl sees them: console-format lines, `logs -f`, NACK
//! lines naming real pods when the `nacks.<rev>` fault is on, sidecar access-log lines on
//! mTLS failures, and both metrics pages through the API server's pod proxy.

use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::Duration;

use chrono::DateTime;
use serde_json::Value;

use crate::common::cluster::json;
use crate::common::{Sim, eventually};

const WAIT: Duration = Duration::from_secs(60);

/// istiod pods as (name, revision).
fn istiods(sim: &Sim) -> Vec<(String, String)> {
    let list: Value = json(
        sim,
        &[
            "get",
            "pods",
            "-n",
            "istio-system",
            "-l",
            "app=istiod",
            "-o",
            "json",
        ],
    );
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| {
            (
                p["metadata"]["name"].as_str().unwrap().to_string(),
                p["metadata"]["labels"]["istio.io/rev"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect()
}

/// Istio's console format: `<RFC 3339, microseconds>Z<TAB><level><TAB><scope><TAB><message>`.
fn assert_console_line(line: &str) -> (String, String, String) {
    let fields: Vec<&str> = line.splitn(4, '\t').collect();
    assert_eq!(fields.len(), 4, "not four tab-separated fields: {line:?}");
    let ts = fields[0];
    assert!(
        DateTime::parse_from_rfc3339(ts).is_ok() && ts.ends_with('Z'),
        "bad time in {line:?}"
    );
    let micros = ts.split_once('.').map(|(_, f)| f.trim_end_matches('Z'));
    assert_eq!(
        micros.map(str::len),
        Some(6),
        "time without microseconds in {line:?}"
    );
    assert!(
        matches!(fields[1], "debug" | "info" | "warn" | "error"),
        "bad level in {line:?}"
    );
    assert!(
        !fields[2].is_empty() && fields[2].chars().all(|c| c.is_ascii_alphanumeric()),
        "bad scope in {line:?}"
    );
    assert!(!fields[3].is_empty(), "empty message in {line:?}");
    (
        fields[1].to_string(),
        fields[2].to_string(),
        fields[3].to_string(),
    )
}

fn sum_of(page: &str, metric: &str) -> f64 {
    page.lines()
        .filter(|l| l.starts_with(&format!("{metric}{{")) || l.starts_with(&format!("{metric} ")))
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

#[test]
fn istiod_logs_follow_and_nack_and_its_metrics_go_through_the_pod_proxy() {
    let sim = Sim::start(&[]);
    let pods = istiods(&sim);
    assert_eq!(pods.len(), 4, "{pods:?}");
    let (old_pod, _) = pods
        .iter()
        .find(|(_, r)| r == "1-24-0")
        .expect("an old istiod");

    // The last lines, in console format.
    let tail = sim.kubectl(&["logs", "-n", "istio-system", old_pod, "--tail=5"]);
    assert_eq!(tail.lines().count(), 5, "{tail}");
    tail.lines().for_each(|l| {
        assert_console_line(l);
    });

    // `logs -f` streams lines istiod writes from now on.
    let mut follower =
        sim.spawn_kubectl(&["logs", "-f", "--tail=0", "-n", "istio-system", old_pod]);
    let stdout = follower.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut streamed = Vec::new();
    while streamed.len() < 3 {
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(line) => streamed.push(line),
            Err(_) => break,
        }
    }
    let _ = follower.kill();
    let _ = follower.wait();
    assert!(streamed.len() >= 3, "logs -f gave {streamed:?}");
    streamed.iter().for_each(|l| {
        assert_console_line(l);
    });

    // A pod on the new revision: a namespace labelled for it, and a pod the webhook injects.
    // (Manifests as files.)
    let manifests = tempfile::tempdir().expect("temp dir");
    let namespace = manifests.path().join("namespace.json");
    std::fs::write(
        &namespace,
        r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"canary","labels":{"istio.io/rev":"1-25-0"}}}"#,
    )
    .unwrap();
    let web = manifests.path().join("pod.json");
    std::fs::write(
        &web,
        r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"canary","labels":{"app":"web"}},
            "spec":{"containers":[{"name":"web","image":"shop/web:1.0"}]}}"#,
    )
    .unwrap();
    sim.kubectl(&[
        "create",
        "--validate=false",
        "-f",
        namespace.to_str().unwrap(),
    ]);
    sim.kubectl(&["create", "--validate=false", "-f", web.to_str().unwrap()]);
    let pod: Value = json(&sim, &["get", "pod", "web", "-n", "canary", "-o", "json"]);
    assert_eq!(
        pod["metadata"]["annotations"]["istio.io/rev"], "1-25-0",
        "not injected by 1-25-0"
    );
    // The simulated kubelet starts it; if it does not within a while, report it running.
    let running = eventually(Duration::from_secs(15), || {
        let phase = sim.kubectl(&[
            "get",
            "pod",
            "web",
            "-n",
            "canary",
            "-o",
            "jsonpath={.status.phase}",
        ]);
        (phase == "Running").then_some(())
    });
    if running.is_none() {
        sim.kubectl(&[
            "patch", "pod", "web", "-n", "canary", "--subresource=status", "--type=merge", "-p",
            r#"{"status":{"phase":"Running","podIP":"10.244.250.9","conditions":[{"type":"Ready","status":"True"}]}}"#,
        ]);
    }
    let pod_ip = sim.kubectl(&[
        "get",
        "pod",
        "web",
        "-n",
        "canary",
        "-o",
        "jsonpath={.status.podIP}",
    ]);

    // NACKs at 600 a minute on the new revision: warn lines naming that pod.
    sim.set_faults(r#"{"data":{"nacks.1-25-0":"600"}}"#);
    let new_pods: Vec<&String> = pods
        .iter()
        .filter(|(_, r)| r == "1-25-0")
        .map(|(p, _)| p)
        .collect();
    let nacking = eventually(WAIT, || {
        new_pods.iter().find_map(|istiod| {
            let log = sim.kubectl(&["logs", "-n", "istio-system", istiod, "--tail=300"]);
            let nacks: Vec<String> = log
                .lines()
                .filter(|l| l.contains("ACK ERROR"))
                .map(str::to_string)
                .collect();
            (nacks.len() >= 5).then(|| ((*istiod).clone(), nacks))
        })
    });
    let (nacking_istiod, nacks) = nacking.expect("no NACK lines in a 1-25-0 istiod's log");
    for line in &nacks {
        let (level, scope, message) = assert_console_line(line);
        assert_eq!(level, "warn", "{line}");
        assert!(scope == "ads" || scope == "delta", "{line}");
        let rest = message.strip_prefix("ADS:").expect("ADS: prefix");
        let (xds, rest) = rest.split_once(": ACK ERROR ").expect("ACK ERROR");
        assert!(matches!(xds, "LDS" | "CDS" | "RDS" | "EDS"), "{line}");
        let (id, error) = rest.split_once(' ').expect("connection id, then the error");
        assert!(error.starts_with("Internal:"), "{line}");
        let id = id.strip_prefix("sidecar~").expect("a sidecar proxy id");
        let parts: Vec<&str> = id.split('~').collect();
        assert_eq!(parts.len(), 3, "{line}");
        let (pod_name, pod_ns) = parts[1].split_once('.').expect("<pod>.<namespace>");
        assert_eq!(
            (pod_name, pod_ns),
            ("web", "canary"),
            "the only pod on 1-25-0: {line}"
        );
        assert_eq!(parts[0], pod_ip, "{line}");
        assert!(parts[2].starts_with("canary.svc.cluster.local-"), "{line}");
        sim.kubectl(&["get", "pod", pod_name, "-n", pod_ns]);
    }

    // istiod's metrics through the pod proxy, rejects growing.
    let raw = format!("/api/v1/namespaces/istio-system/pods/{nacking_istiod}:15014/proxy/metrics");
    let page = sim.kubectl(&["get", "--raw", &raw]);
    for needle in [
        "# TYPE pilot_xds gauge",
        "pilot_xds{version=\"1.25.0\"} 1",
        "pilot_proxy_convergence_time_bucket{le=\"+Inf\"}",
        "pilot_xds_pushes{type=\"lds\"}",
        "pilot_xds_push_time_bucket{type=\"eds\",le=\"0.01\"}",
        "pilot_total_xds_internal_errors",
        "istio_build{component=\"pilot\",tag=\"1.25.0\"} 1",
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
    ] {
        assert!(page.contains(needle), "{needle} missing from\n{page}");
    }
    assert!(
        !page.contains("pilot_xds_pushes_total"),
        "istiod's counters have no _total"
    );
    let first = sum_of(&page, "pilot_total_xds_rejects");
    assert!(first > 0.0, "no rejects counted:\n{page}");
    let grew = eventually(WAIT, || {
        let now = sum_of(
            &sim.kubectl(&["get", "--raw", &raw]),
            "pilot_total_xds_rejects",
        );
        (now > first).then_some(now)
    });
    assert!(grew.is_some(), "pilot_total_xds_rejects stays at {first}");

    // The sidecar's page through the proxy; without a port the proxy says what to do.
    let sidecar = sim.kubectl(&[
        "get",
        "--raw",
        "/api/v1/namespaces/canary/pods/web:15020/proxy/stats/prometheus",
    ]);
    assert!(
        sidecar.contains("istio_build{component=\"proxy\",tag=\"1.25.0\"} 1"),
        "{sidecar}"
    );
    let requests = eventually(WAIT, || {
        let page = sim.kubectl(&[
            "get",
            "--raw",
            "/api/v1/namespaces/canary/pods/web:15020/proxy/stats/prometheus",
        ]);
        page.contains("istio_requests_total{reporter=\"destination\"")
            .then_some(())
    });
    assert!(requests.is_some(), "the sidecar reports no requests");
    let no_port = sim.kubectl_output(&[
        "get",
        "--raw",
        "/api/v1/namespaces/canary/pods/web/proxy/stats/prometheus",
    ]);
    assert!(!no_port.status.success());
    let message = String::from_utf8_lossy(&no_port.stderr);
    assert!(
        message.contains("NotFound") || message.contains("not found"),
        "{message}"
    );
    let wrong_path = sim.kubectl_output(&[
        "get",
        "--raw",
        "/api/v1/namespaces/canary/pods/web:15020/proxy/metrics",
    ]);
    assert!(!wrong_path.status.success());

    // mTLS failures on the old revision: 503 UF,URX in the caller's istio-proxy log.
    sim.set_faults(r#"{"data":{"mtls.1-24-0":"0.5"}}"#);
    let checkout = sim.kubectl(&[
        "get",
        "pods",
        "-n",
        "checkout",
        "-o",
        "jsonpath={.items[0].metadata.name}",
    ]);
    let failure = eventually(WAIT, || {
        let log = sim.kubectl(&[
            "logs",
            "-n",
            "checkout",
            &checkout,
            "-c",
            "istio-proxy",
            "--tail=20",
        ]);
        log.lines()
            .find(|l| l.contains("\" 503 UF,URX "))
            .map(str::to_string)
    });
    let failure = failure.expect("no mTLS failure in the sidecar's log");
    assert!(
        failure.starts_with('[') && failure.contains("outbound|80||"),
        "{failure}"
    );
}
