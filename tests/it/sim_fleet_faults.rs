//! A fleet's faults are per cluster: `ca.mismatch`, `eastwest.down` and `api.down-s` in one
//! cluster's `sim-system/faults` change that cluster alone.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::common::{Sim, eventually};

fn root_cert(sim: &Sim, cluster: &str) -> String {
    sim.kubectl_in(
        cluster,
        &[
            "get",
            "configmap",
            "istio-ca-root-cert",
            "-n",
            "staging-web",
            "-o",
            r"jsonpath={.data.root-cert\.pem}",
        ],
    )
}

fn gateway_ready(sim: &Sim, cluster: &str) -> String {
    sim.kubectl_in(
        cluster,
        &[
            "get",
            "deploy",
            "istio-eastwestgateway",
            "-n",
            "istio-system",
            "-o",
            "jsonpath={.status.readyReplicas}",
        ],
    )
}

/// `host:port` of a context's API server, from the kubeconfig.
fn server_of(sim: &Sim, cluster: &str) -> String {
    let url = sim.kubectl_in(
        cluster,
        &[
            "config",
            "view",
            "-o",
            &format!("jsonpath={{.clusters[?(@.name==\"{cluster}\")].cluster.server}}"),
        ],
    );
    url.trim_start_matches("https://").to_string()
}

fn answers(sim: &Sim, cluster: &str) -> bool {
    sim.kubectl_as(
        cluster,
        &["get", "--raw", "/version", "--request-timeout=2s"],
    )
    .status
    .success()
}

#[test]
fn ca_mismatch_and_eastwest_down_change_only_their_cluster_and_switch_back() {
    let sim = Sim::start(&["--clusters", "3", "--namespaces", "3"]);
    let shared = root_cert(&sim, "primary");
    assert_eq!(root_cert(&sim, "remote-1"), shared);

    sim.set_faults_in(
        "remote-1",
        r#"{"data":{"ca.mismatch":"true","eastwest.down":"true"}}"#,
    );
    let changed = eventually(Duration::from_secs(10), || {
        let own = root_cert(&sim, "remote-1");
        (own != shared && own.starts_with("-----BEGIN CERTIFICATE-----")).then_some(())
    });
    assert!(changed.is_some());
    assert_eq!(root_cert(&sim, "primary"), shared);
    assert_eq!(root_cert(&sim, "remote-2"), shared);
    let down = eventually(Duration::from_secs(10), || {
        matches!(gateway_ready(&sim, "remote-1").as_str(), "" | "0").then_some(())
    });
    assert!(down.is_some(), "{}", gateway_ready(&sim, "remote-1"));
    let ready = sim.kubectl_in(
        "remote-1",
        &[
            "get",
            "pods",
            "-n",
            "istio-system",
            "-l",
            "app=istio-eastwestgateway",
            "-o",
            r#"jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}"#,
        ],
    );
    assert_eq!(ready, "False False");
    assert_eq!(gateway_ready(&sim, "primary"), "2");
    assert_eq!(gateway_ready(&sim, "remote-2"), "2");

    sim.set_faults_in(
        "remote-1",
        r#"{"data":{"ca.mismatch":"false","eastwest.down":"false"}}"#,
    );
    let restored = eventually(Duration::from_secs(10), || {
        (root_cert(&sim, "remote-1") == shared && gateway_ready(&sim, "remote-1") == "2")
            .then_some(())
    });
    assert!(restored.is_some());
}

#[test]
fn api_down_takes_one_clusters_api_server_away_for_a_while() {
    let sim = Sim::start(&["--clusters", "2", "--namespaces", "2"]);
    let address = server_of(&sim, "remote-1");
    // A watch open across the outage is cut, as a dying API server's would be.
    let mut watch = sim.spawn_kubectl_in("remote-1", &["get", "pods", "-A", "--watch"]);
    std::thread::sleep(Duration::from_millis(500));

    sim.set_faults_in("remote-1", r#"{"data":{"api.down-s":"4"}}"#);
    let went_down = eventually(Duration::from_secs(5), || {
        TcpStream::connect(&address)
            .is_err()
            .then_some(Instant::now())
    });
    let since = went_down.expect("remote-1's API server still accepts connections");
    assert!(!answers(&sim, "remote-1"));
    assert!(answers(&sim, "primary"), "the primary answers meanwhile");
    let cut = eventually(Duration::from_secs(5), || watch.try_wait().ok().flatten());
    if cut.is_none() {
        let _ = watch.kill();
        let _ = watch.wait();
        panic!("the open watch was not cut");
    }

    let back = eventually(Duration::from_secs(15), || {
        answers(&sim, "remote-1").then_some(Instant::now())
    });
    let back = back.expect("remote-1 did not come back");
    assert!(
        back - since >= Duration::from_secs(3),
        "down only {:?}",
        back - since
    );
    // The key is spent: the next write of it starts the next outage.
    let faults = sim.kubectl_in(
        "remote-1",
        &[
            "get",
            "configmap",
            "faults",
            "-n",
            "sim-system",
            "-o",
            "jsonpath={.data}",
        ],
    );
    assert!(!faults.contains("api.down-s"), "{faults}");
}
