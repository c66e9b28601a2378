//! The constructors decode real API objects, as the API server sends them.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::*;

fn decode<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).unwrap()
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn the_server_version_reads_managed_clusters_minors() {
    let info = |major: &str, minor: &str| {
        ServerVersion::from_info(&decode(json!({
            "major": major, "minor": minor, "gitVersion": "v1.32.1", "gitCommit": "", "gitTreeState": "",
            "buildDate": "", "goVersion": "", "compiler": "", "platform": ""
        })))
    };
    assert_eq!(
        info("1", "32"),
        Some(ServerVersion {
            major: 1,
            minor: 32
        })
    );
    assert_eq!(
        info("1", "31+"),
        Some(ServerVersion {
            major: 1,
            minor: 31
        })
    );
    assert_eq!(info("", ""), None);
}

#[test]
fn a_deployment_keeps_what_its_restart_depends_on() {
    let deploy = decode(json!({
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "replicas": 6,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "10%", "maxUnavailable": "50%"}},
            "template": {
                "metadata": {
                    "labels": {"app": "web", "istio.io/rev": "stable"},
                    "annotations": {"proxy.istio.io/config": "holdApplicationUntilProxyStarts: true\nterminationDrainDuration: 20s",
                                    "inject.istio.io/templates": "gateway"}
                },
                "spec": {
                    "terminationGracePeriodSeconds": 15,
                    "containers": [{"name": "web", "image": "web:1", "ports": [{"containerPort": 9090, "name": "grpc-api"}]}]
                }
            }
        }
    }));
    let w = WorkloadInfo::from_deployment(&deploy).unwrap();
    assert_eq!(
        (w.kind, w.namespace.as_str(), w.name.as_str(), w.replicas),
        (WorkloadKind::Deployment, "shop", "web", 6)
    );
    // 10% of 6 rounds up to 1 extra pod; 50% of 6 is 3 down.
    assert_eq!(
        w.strategy,
        Strategy::Rolling {
            max_surge: 1,
            max_unavailable: 3
        }
    );
    assert_eq!(w.label("istio.io/rev"), Some("stable"));
    assert!(w.is_gateway());
    assert_eq!(w.grace_seconds, 15);
    assert_eq!(
        w.proxy_config.hold_application_until_proxy_starts,
        Some(true)
    );
    assert_eq!(
        w.proxy_config.termination_drain_duration,
        Some(Duration::from_secs(20))
    );
    assert_eq!(
        w.ports,
        [PortInfo {
            port: 9090,
            name: Some("grpc-api".into()),
            app_protocol: None
        }]
    );
    assert_eq!(w.object(), "Deployment/shop/web");

    // Kubernetes' defaults: 25% surge and unavailability, 30 s grace.
    let plain = decode(json!({
        "metadata": {"name": "api", "namespace": "shop"},
        "spec": {"selector": {}, "template": {"spec": {"containers": []}}}
    }));
    let w = WorkloadInfo::from_deployment(&plain).unwrap();
    assert_eq!(w.replicas, 1);
    assert_eq!(
        w.strategy,
        Strategy::Rolling {
            max_surge: 1,
            max_unavailable: 0
        }
    );
    assert_eq!(w.grace_seconds, 30);
    let recreate = decode(json!({
        "metadata": {"name": "db", "namespace": "shop"},
        "spec": {"selector": {}, "strategy": {"type": "Recreate"}, "template": {}}
    }));
    assert_eq!(
        WorkloadInfo::from_deployment(&recreate).unwrap().strategy,
        Strategy::Recreate
    );
}

#[test]
fn statefulsets_and_daemonsets_decode_with_their_strategies() {
    let set = decode(json!({
        "metadata": {"name": "db", "namespace": "shop"},
        "spec": {"replicas": 3, "serviceName": "db", "selector": {}, "template": {},
                 "updateStrategy": {"type": "OnDelete"}}
    }));
    let w = WorkloadInfo::from_statefulset(&set).unwrap();
    assert_eq!(
        (w.kind, w.replicas, w.strategy),
        (WorkloadKind::StatefulSet, 3, Strategy::OnDelete)
    );
    let ztunnel = decode(json!({
        "metadata": {"name": "ztunnel", "namespace": "istio-system"},
        "spec": {"selector": {}, "template": {}},
        "status": {"desiredNumberScheduled": 4, "currentNumberScheduled": 4, "numberMisscheduled": 0, "numberReady": 4}
    }));
    let w = WorkloadInfo::from_daemonset(&ztunnel).unwrap();
    assert_eq!((w.kind, w.replicas), (WorkloadKind::DaemonSet, 4));
    assert_eq!(
        w.strategy,
        Strategy::Rolling {
            max_surge: 0,
            max_unavailable: 1
        }
    );
}

#[test]
fn an_injector_keeps_its_services_and_selectors() {
    let config = decode(json!({
        "metadata": {"name": "istio-revision-tag-default", "labels": {"istio.io/rev": "1-24-0", "istio.io/tag": "default"}},
        "webhooks": [{
            "name": "namespace.sidecar-injector.istio.io",
            "admissionReviewVersions": ["v1"], "sideEffects": "None",
            "clientConfig": {"service": {"name": "istiod-1-24-0", "namespace": "istio-system"}},
            "namespaceSelector": {"matchExpressions": [{"key": "istio-injection", "operator": "In", "values": ["enabled"]}]},
            "objectSelector": {"matchExpressions": [{"key": "sidecar.istio.io/inject", "operator": "NotIn", "values": ["false"]}]}
        }, {
            "name": "remote.sidecar-injector.istio.io",
            "admissionReviewVersions": ["v1"], "sideEffects": "None",
            "clientConfig": {"url": "https://istiod.example:15017/inject"}
        }]
    }));
    let injector = InjectorInfo::from_config(&config).unwrap();
    assert_eq!(
        (injector.revision.as_str(), injector.tag.as_deref()),
        ("1-24-0", Some("default"))
    );
    assert_eq!(
        injector.hooks[0].service,
        Some(ServiceRef {
            namespace: "istio-system".into(),
            name: "istiod-1-24-0".into()
        })
    );
    assert_eq!(injector.hooks[1].service, None);
    let enabled = labels(&[("istio-injection", "enabled")]);
    assert!(injector.injects(&enabled, &labels(&[("app", "web")])));
    assert!(!injector.hooks[0].matches(&enabled, &labels(&[("sidecar.istio.io/inject", "false")])));
    assert!(!injector.hooks[0].matches(&labels(&[]), &labels(&[])));
    // The second webhook has no selectors: it matches everything.
    assert!(injector.hooks[1].matches(&labels(&[]), &labels(&[])));
    let other = decode(json!({"metadata": {"name": "cert-manager-webhook"}}));
    assert_eq!(InjectorInfo::from_config(&other), None);
}

#[test]
fn a_budget_keeps_its_selector_limits_and_status() {
    let pdb = decode(json!({
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"minAvailable": "50%", "selector": {"matchLabels": {"app": "web"}}},
        "status": {"disruptionsAllowed": 2, "expectedPods": 4, "currentHealthy": 4, "desiredHealthy": 2}
    }));
    let info = PdbInfo::from_pdb(&pdb).unwrap();
    assert_eq!(info.min_available, Some(IntOrPercent::Percent(50)));
    assert_eq!(
        (info.disruptions_allowed, info.expected_pods),
        (Some(2), Some(4))
    );
    assert_eq!(info.allowed_down(4), 2);
    let mut web = crate::precheck::testing::deployment("shop", "web", 4);
    assert!(info.selects(&web));
    web.template_labels = labels(&[("app", "api")]);
    assert!(!info.selects(&web));
    let no_selector = decode(
        json!({"metadata": {"name": "x", "namespace": "shop"}, "spec": {"maxUnavailable": 0}}),
    );
    let info = PdbInfo::from_pdb(&no_selector).unwrap();
    assert_eq!((&info.selector, info.disruptions_allowed), (&None, None));
    assert_eq!(info.allowed_down(3), 0);
}

#[test]
fn crds_quotas_nodes_and_services_decode() {
    let crd = decode(json!({
        "metadata": {"name": "virtualservices.networking.istio.io"},
        "spec": {"group": "networking.istio.io", "scope": "Namespaced",
                 "names": {"plural": "virtualservices", "kind": "VirtualService"},
                 "versions": [{"name": "v1", "served": true, "storage": false},
                              {"name": "v1beta1", "served": true, "storage": true},
                              {"name": "v1alpha3", "served": false, "storage": false}]}
    }));
    let crd = CrdInfo::from_crd(&crd).unwrap();
    assert_eq!(
        (crd.group.as_str(), crd.plural.as_str()),
        ("networking.istio.io", "virtualservices")
    );
    assert_eq!(crd.served, ["v1", "v1beta1"]);

    let quota = decode(json!({
        "metadata": {"name": "cp", "namespace": "istio-system"},
        "spec": {"hard": {"requests.cpu": "4", "requests.memory": "8Gi"}},
        "status": {"hard": {"requests.cpu": "4", "requests.memory": "8Gi"}, "used": {"requests.cpu": "1500m"}}
    }));
    let quota = QuotaInfo::from_quota(&quota).unwrap();
    assert_eq!(
        quota.hard,
        Resources {
            cpu_millis: Some(4000),
            memory_mib: Some(8192)
        }
    );
    assert_eq!(
        quota.used,
        Resources {
            cpu_millis: Some(1500),
            memory_mib: None
        }
    );

    let node = decode(json!({
        "metadata": {"name": "node-1"},
        "spec": {"unschedulable": true},
        "status": {"allocatable": {"cpu": "3920m", "memory": "15Gi", "pods": "110"}}
    }));
    let node = NodeInfo::from_node(&node).unwrap();
    assert_eq!(
        node.allocatable,
        Resources {
            cpu_millis: Some(3920),
            memory_mib: Some(15360)
        }
    );
    assert!(!node.schedulable);

    let service = decode(json!({
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "name": "http"}, {"port": 9000, "appProtocol": "kubernetes.io/ws"}]}
    }));
    let service = ServiceInfo::from_service(&service).unwrap();
    assert_eq!(service.selector, labels(&[("app", "web")]));
    assert_eq!(
        service.ports[1].app_protocol.as_deref(),
        Some("kubernetes.io/ws")
    );
}

#[test]
fn the_mesh_config_and_istiod_deployments_decode() {
    let cm = decode(json!({
        "metadata": {"name": "istio-1-25-0", "namespace": "istio-system"},
        "data": {"mesh": "defaultConfig:\n  holdApplicationUntilProxyStarts: true\n  terminationDrainDuration: 10s\n"}
    }));
    let mesh = MeshConfigInfo::from_config_map(&cm).unwrap();
    assert_eq!(
        mesh.defaults.hold_application_until_proxy_starts,
        Some(true)
    );
    assert_eq!(
        mesh.defaults.termination_drain_duration,
        Some(Duration::from_secs(10))
    );
    let elsewhere =
        decode(json!({"metadata": {"name": "istio", "namespace": "shop"}, "data": {"mesh": ""}}));
    assert_eq!(MeshConfigInfo::from_config_map(&elsewhere), None);
    let ca = decode(
        json!({"metadata": {"name": "istio-ca-root-cert", "namespace": "istio-system"}, "data": {"root-cert.pem": ""}}),
    );
    assert_eq!(MeshConfigInfo::from_config_map(&ca), None);

    let deploy = decode(json!({
        "metadata": {"name": "istiod-1-25-0", "namespace": "istio-system"},
        "spec": {"replicas": 2, "selector": {},
                 "template": {"metadata": {"labels": {"app": "istiod", "istio.io/rev": "1-25-0"}},
                              "spec": {"containers": [{"name": "discovery", "image": "istio/pilot:1.25.0",
                                                       "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}}}]}}}
    }));
    let istiod = IstiodInfo::from_deployment(&deploy).unwrap();
    assert_eq!((istiod.revision.as_str(), istiod.replicas), ("1-25-0", 2));
    assert_eq!(
        istiod.version,
        crate::mesh::version::Version::parse("1.25.0")
    );
    assert_eq!(
        istiod.requests,
        Resources {
            cpu_millis: Some(500),
            memory_mib: Some(2048)
        }
    );
    let app = decode(
        json!({"metadata": {"name": "web"}, "spec": {"selector": {}, "template": {"metadata": {"labels": {"app": "web"}}}}}),
    );
    assert_eq!(IstiodInfo::from_deployment(&app), None);
}

#[test]
fn an_inventory_follows_watch_events() {
    use crate::mesh::collection::Watch;
    let mut inventory = Inventory::default();
    assert!(!inventory.synced());
    let pdb = crate::precheck::testing::pdb("shop", "web", "web", 1);
    apply(&mut inventory.pdbs, Watch::Init);
    apply(&mut inventory.pdbs, Watch::InitApply(pdb.clone()));
    apply(&mut inventory.pdbs, Watch::InitDone);
    assert_eq!(inventory.pdbs.len(), 1);
    assert!(apply(&mut inventory.pdbs, Watch::Delete(pdb)));
    assert!(inventory.pdbs.is_empty());
    let full = crate::precheck::testing::Fixture::healthy().inventory();
    assert!(full.synced());
    assert_eq!(full.workloads_in("shop").count(), 1);
    assert_eq!(full.pods_in("shop").count(), 3);
    assert_eq!(full.pods_in("sho").count(), 0);
    assert_eq!(
        full.mesh_config("1-25-0").map(|m| m.name.as_str()),
        Some("istio-1-25-0")
    );
    assert_eq!(full.mesh_config("1-24-0"), None);
}
