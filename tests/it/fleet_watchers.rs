//! The fleet's watchers against the simulated API server over HTTP: the root CA ConfigMap,
//! written with kubectl, arrives decoded into the fingerprint of its certificate; in a
//! simulated fleet, each member's remote secrets name the others and the root CA is shared.

use std::time::Duration;

use istio_cockpit::app::event::{Event, Watch};
use istio_cockpit::cluster::decode::fleet::fingerprint;
use istio_cockpit::cluster::watchers;
use istio_cockpit::mesh::resources::{RemoteSecretInfo, RootCaInfo};
use serde_json::json;
use tokio::sync::mpsc;

use crate::common;

fn apply_root_ca(sim: &common::Sim, pem: &str) {
    let cm = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "istio-ca-root-cert", "namespace": "istio-system"},
        "data": {"root-cert.pem": pem}
    });
    let out = sim.kubectl_stdin(
        "sim-admin",
        &["apply", "--validate=false", "-f", "-"],
        cm.to_string().as_bytes(),
    );
    assert!(
        out.status.success(),
        "kubectl apply: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits for the root CA stream to show `print` in `istio-system`.
async fn root_ca_seen(rx: &mut mpsc::Receiver<Event>, print: &str) -> RootCaInfo {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match rx.recv().await.expect("the watchers run") {
                Event::RootCa(Watch::Apply(ca) | Watch::InitApply(ca))
                    if ca.fingerprint.as_deref() == Some(print) =>
                {
                    return ca;
                }
                Event::RootCa(Watch::Apply(ca) | Watch::InitApply(ca)) => {
                    assert_eq!(ca.namespace, "istio-system", "only istio-system is watched");
                }
                _ => {}
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("root CA {print} not seen within 20 s"))
}

#[tokio::test]
async fn the_root_ca_configmap_is_watched_and_fingerprinted() {
    let sim = common::Sim::start(&[]);
    let client = sim.kube_client("sim-admin").await;
    let (tx, mut rx) = mpsc::channel(256);
    let tasks = watchers::spawn_fleet(&client, &tx);

    let first = rcgen::generate_simple_self_signed(vec!["mesh-root".into()]).unwrap();
    let pem = first.cert.pem();
    let print = fingerprint(&pem).unwrap();
    apply_root_ca(&sim, &pem);
    let ca = root_ca_seen(&mut rx, &print).await;
    assert_eq!(ca.namespace, "istio-system");

    // A new root (a CA rotated, or another cluster's) shows as a new fingerprint.
    let second = rcgen::generate_simple_self_signed(vec!["mesh-root".into()]).unwrap();
    let other = fingerprint(&second.cert.pem()).unwrap();
    assert_ne!(other, print);
    apply_root_ca(&sim, &second.cert.pem());
    root_ca_seen(&mut rx, &other).await;

    for task in tasks {
        task.abort();
    }
}

/// The first complete lists of a member's remote secrets and root CA.
async fn fleet_lists(sim: &common::Sim, context: &str) -> (Vec<RemoteSecretInfo>, RootCaInfo) {
    let client = sim.kube_client(context).await;
    let (tx, mut rx) = mpsc::channel(256);
    let tasks = watchers::spawn_fleet(&client, &tx);
    let (mut secrets, mut listed, mut ca) = (Vec::new(), false, None);
    tokio::time::timeout(Duration::from_secs(20), async {
        while !listed || ca.is_none() {
            match rx.recv().await.expect("the watchers run") {
                Event::RemoteSecrets(Watch::InitApply(s)) => secrets.push(s),
                Event::RemoteSecrets(Watch::InitDone) => listed = true,
                Event::RootCa(Watch::InitApply(c) | Watch::Apply(c)) => ca = Some(c),
                _ => {}
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{context}: secrets and root CA not listed within 20 s"));
    for task in tasks {
        task.abort();
    }
    (secrets, ca.expect("listed"))
}

#[tokio::test]
async fn a_fleet_members_remote_secrets_name_the_others_and_its_root_ca_is_the_fleets() {
    let sim = common::Sim::start(&["--clusters", "3", "--namespaces", "2"]);
    let (secrets, primary_ca) = fleet_lists(&sim, "primary").await;
    let mut named: Vec<&str> = secrets.iter().map(|s| s.cluster.as_str()).collect();
    named.sort_unstable();
    assert_eq!(named, ["remote-1", "remote-2"]);
    assert!(primary_ca.fingerprint.is_some(), "{primary_ca:?}");
    let (_, remote_ca) = fleet_lists(&sim, "remote-1").await;
    assert_eq!(remote_ca.fingerprint, primary_ca.fingerprint, "one root CA");
}
