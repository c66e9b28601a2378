//! Each check fires on a planted problem and is silent once it is fixed.

use std::time::Duration;

use crate::mesh::pod::Owner;
use crate::precheck::inventory::{
    IntOrPercent, PortInfo, QuotaInfo, Resources, ServerVersion, Strategy, WorkloadKind,
};
use crate::precheck::testing::*;
use crate::precheck::{CheckId, Severity, Target, run};

use Severity::{Blocker, Info, Warning};

fn one(object: &str, severity: Severity) -> Vec<(String, Severity)> {
    vec![(object.to_string(), severity)]
}

#[test]
fn a_healthy_cluster_has_no_findings() {
    let findings = Fixture::healthy().run();
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn kubernetes_is_checked_against_the_support_matrix() {
    let mut f = Fixture::healthy();
    let at = |f: &mut Fixture, minor| {
        f.server = Some(ServerVersion { major: 1, minor });
        f.fired(CheckId::K8sVersion)
    };
    assert_eq!(at(&mut f, 27), one("Cluster/version", Blocker));
    assert_eq!(at(&mut f, 34), one("Cluster/version", Warning));
    assert!(at(&mut f, 29).is_empty() && at(&mut f, 32).is_empty());
    f.server = None;
    assert_eq!(
        f.fired(CheckId::K8sVersion),
        one("Cluster/version", Warning)
    );
    // An Istio release the matrix does not know is a warning, never a panic.
    f.server = Some(ServerVersion {
        major: 1,
        minor: 32,
    });
    let future = Target::new(v("1.99.0"), v("1.99.1"));
    let findings = run(&f.inventory(), &future);
    let k8s: Vec<_> = findings
        .iter()
        .filter(|x| x.check == CheckId::K8sVersion)
        .collect();
    assert_eq!(k8s.len(), 1);
    assert_eq!(k8s[0].severity, Warning);
}

#[test]
fn an_upgrade_may_skip_one_minor_but_not_more() {
    let inventory = Fixture::healthy().inventory();
    let skip = |from: &str, to: &str| -> Vec<Severity> {
        run(&inventory, &Target::new(v(from), v(to)))
            .into_iter()
            .filter(|f| f.check == CheckId::SkipMinor)
            .map(|f| f.severity)
            .collect()
    };
    assert_eq!(skip("1.22.0", "1.25.0"), [Blocker]);
    assert!(skip("1.23.0", "1.25.0").is_empty());
    assert!(skip("1.24.3", "1.25.0").is_empty());
    assert_eq!(skip("1.25.0", "1.24.0"), [Warning]);
}

#[test]
fn istio_crds_must_be_installed_and_serve_what_the_target_reads() {
    let mut f = Fixture::healthy();
    f.crds.retain(|c| c.plural != "telemetries");
    assert_eq!(
        f.fired(CheckId::CrdMissing),
        one(
            "CustomResourceDefinition/telemetries.telemetry.istio.io",
            Blocker
        )
    );
    let mut f = Fixture::healthy();
    let old = f
        .crds
        .iter_mut()
        .find(|c| c.plural == "virtualservices")
        .unwrap();
    old.served = vec!["v1alpha3".into(), "v1beta1".into()];
    assert_eq!(
        f.fired(CheckId::CrdVersion),
        one(
            "CustomResourceDefinition/virtualservices.networking.istio.io",
            Blocker
        )
    );
    // Before 1.22, v1beta1 is what istiod reads.
    let findings = run(&f.inventory(), &Target::new(v("1.20.0"), v("1.21.0")));
    assert!(findings.iter().all(|x| x.check != CheckId::CrdVersion));
}

#[test]
fn the_new_control_plane_needs_room_on_the_nodes_and_in_the_quota() {
    let mut f = Fixture::healthy();
    // Not installed yet: its requests are the old istiod's (2 x 500m, 2 x 2048Mi).
    f.istiods.retain(|i| i.revision != "1-25-0");
    assert!(f.fired(CheckId::ControlPlaneRoom).is_empty());
    f.nodes[0].allocatable.cpu_millis = Some(1200);
    assert_eq!(
        f.fired(CheckId::ControlPlaneRoom),
        one("Deployment/istio-system/istiod-1-25-0", Blocker),
        "3 pods request 300m, leaving 900m of the 1000m needed"
    );
    f.nodes[0].allocatable.cpu_millis = Some(8000);
    f.quotas.push(QuotaInfo {
        namespace: "istio-system".into(),
        name: "control-plane".into(),
        hard: Resources {
            cpu_millis: Some(2000),
            memory_mib: None,
        },
        used: Resources {
            cpu_millis: Some(1500),
            memory_mib: Some(4096),
        },
    });
    assert_eq!(
        f.fired(CheckId::ControlPlaneRoom),
        one("ResourceQuota/istio-system/control-plane", Blocker)
    );
    f.quotas[0].hard.cpu_millis = Some(4000);
    assert!(f.fired(CheckId::ControlPlaneRoom).is_empty());
    // Once installed, it has its room whatever the nodes say.
    let mut f = Fixture::healthy();
    f.nodes[0].allocatable.cpu_millis = Some(100);
    assert!(f.fired(CheckId::ControlPlaneRoom).is_empty());
}

#[test]
fn an_injector_whose_service_is_gone_is_a_blocker_when_used() {
    let mut f = Fixture::healthy();
    f.services.retain(|s| s.name != "istiod-1-24-0");
    // shop goes through the default tag; no namespace uses the revision's own injector.
    assert_eq!(
        f.fired(CheckId::WebhookServiceMissing),
        [
            (
                "MutatingWebhookConfiguration/istio-revision-tag-default".to_string(),
                Blocker
            ),
            (
                "MutatingWebhookConfiguration/istio-sidecar-injector-1-24-0".to_string(),
                Warning
            ),
        ]
    );
    let mut f = Fixture::healthy();
    f.injectors
        .push(injector("istio-sidecar-injector-1-23-0", "1-23-0", None));
    assert_eq!(
        f.fired(CheckId::WebhookServiceMissing),
        one(
            "MutatingWebhookConfiguration/istio-sidecar-injector-1-23-0",
            Warning
        )
    );
}

#[test]
fn two_injectors_matching_one_namespace_overlap() {
    let mut f = Fixture::healthy();
    let mut stray = injector("istio-sidecar-injector", "1-25-0", None);
    stray.hooks.truncate(1);
    stray.hooks[0].namespace_selector =
        Some(crate::k8s::selector::LabelSelector::parse("istio-injection=enabled").unwrap());
    f.injectors.push(stray);
    assert_eq!(
        f.fired(CheckId::WebhookOverlap),
        one(
            "MutatingWebhookConfiguration/istio-revision-tag-default",
            Blocker
        )
    );
    f.injectors.pop();
    assert!(f.fired(CheckId::WebhookOverlap).is_empty());
}

#[test]
fn a_tag_must_point_at_an_installed_revision() {
    let mut f = Fixture::healthy();
    f.injectors.push(injector(
        "istio-revision-tag-canary",
        "1-26-0",
        Some("canary"),
    ));
    assert_eq!(
        f.fired(CheckId::TagMissingRevision),
        one(
            "MutatingWebhookConfiguration/istio-revision-tag-canary",
            Blocker
        )
    );
    f.injectors.last_mut().unwrap().revision = "1-25-0".into();
    assert!(f.fired(CheckId::TagMissingRevision).is_empty());
}

#[test]
fn namespace_labels_that_conflict_or_name_nothing_are_reported() {
    let mut f = Fixture::healthy();
    f.namespaces[0]
        .labels
        .insert("istio.io/rev".into(), "1-25-0".into());
    assert_eq!(
        f.fired(CheckId::LabelConflict),
        one("Namespace/shop", Warning)
    );
    let mut f = Fixture::healthy();
    f.namespaces
        .push(namespace("blog", &[("istio.io/rev", "canary")]));
    assert_eq!(
        f.fired(CheckId::LabelUnknownRevision),
        one("Namespace/blog", Warning)
    );
    f.namespaces[2]
        .labels
        .insert("istio.io/rev".into(), "1-25-0".into());
    assert!(f.run().is_empty());
}

#[test]
fn pods_without_a_sidecar_in_an_injected_namespace_are_named_by_workload() {
    let mut f = Fixture::healthy();
    f.pods.push(pod("shop", "web-7d9f-4", None, None));
    f.pods.push(pod("kube-system", "coredns-5c4-1", None, None));
    assert_eq!(
        f.fired(CheckId::PodNoSidecar),
        one("Deployment/shop/web", Warning)
    );
    f.workload("web")
        .template_labels
        .insert("sidecar.istio.io/inject".into(), "false".into());
    assert!(f.fired(CheckId::PodNoSidecar).is_empty());
}

#[test]
fn a_control_plane_component_opted_out_by_annotation_is_not_restarted() {
    // istiod's pods carry `istio.io/rev` as who they are, not to be injected; Istio's charts
    // opt them out with the `sidecar.istio.io/inject` annotation (and label).
    let mut f = Fixture::healthy();
    f.namespaces.push(namespace("istio-system", &[]));
    let mut istiod = deployment("istio-system", "istiod-1-24-0", 1);
    istiod
        .template_labels
        .insert("istio.io/rev".into(), "1-24-0".into());
    f.workloads.push(istiod);
    assert_eq!(
        f.fired(CheckId::SingleReplica),
        one("Deployment/istio-system/istiod-1-24-0", Warning)
    );
    f.workload("istiod-1-24-0").inject_annotation = Some("false".into());
    assert!(f.fired(CheckId::SingleReplica).is_empty());
    // The label wins over the annotation, as in Istio's injector.
    f.workload("istiod-1-24-0")
        .template_labels
        .insert("sidecar.istio.io/inject".into(), "true".into());
    assert_eq!(f.fired(CheckId::SingleReplica).len(), 1);
}

#[test]
fn a_proxy_of_another_minor_than_its_revision_is_a_mismatch() {
    let mut f = Fixture::healthy();
    f.pods[0].proxy = Some(v("1.22.4"));
    assert_eq!(
        f.fired(CheckId::ProxyImageMismatch),
        one("Pod/shop/web-7d9f-1", Warning)
    );
    f.pods[0].proxy = Some(v("1.24.3"));
    assert!(
        f.fired(CheckId::ProxyImageMismatch).is_empty(),
        "a patch apart is fine"
    );
}

#[test]
fn a_budget_allowing_no_disruption_blocks() {
    let mut f = Fixture::healthy();
    f.pdbs[0].max_unavailable = Some(IntOrPercent::Int(0));
    assert_eq!(
        f.fired(CheckId::PdbBlocks),
        one("PodDisruptionBudget/shop/web", Blocker)
    );
    f.pdbs[0].max_unavailable = None;
    f.pdbs[0].min_available = Some(IntOrPercent::Percent(100));
    assert_eq!(f.fired(CheckId::PdbBlocks).len(), 1);
    // The spec allows one, but the status says none is allowed now (a pod is down).
    let mut f = Fixture::healthy();
    f.pdbs[0].disruptions_allowed = Some(0);
    assert_eq!(f.fired(CheckId::PdbBlocks).len(), 1);
    f.pdbs[0].disruptions_allowed = Some(1);
    assert!(f.fired(CheckId::PdbBlocks).is_empty());
}

#[test]
fn a_budget_that_selects_nothing_in_an_injected_namespace_is_reported() {
    let mut f = Fixture::healthy();
    let mut stale = pdb("shop", "old-web", "web-v1", 1);
    stale.expected_pods = Some(0);
    f.pdbs.push(stale.clone());
    stale.namespace = "kube-system".into();
    f.pdbs.push(stale);
    assert_eq!(
        f.fired(CheckId::PdbSelectsNothing),
        one("PodDisruptionBudget/shop/old-web", Warning)
    );
}

#[test]
fn a_single_replica_without_a_budget_is_a_warning_in_the_mesh_only() {
    let mut f = Fixture::healthy();
    f.workload("web").replicas = 1;
    assert!(
        f.fired(CheckId::SingleReplica).is_empty(),
        "it has a budget"
    );
    f.pdbs.clear();
    assert_eq!(
        f.fired(CheckId::SingleReplica),
        one("Deployment/shop/web", Warning)
    );
    // coredns in kube-system is a single replica too, but the upgrade never restarts it.
    f.workload("web").replicas = 2;
    assert!(f.fired(CheckId::SingleReplica).is_empty());
}

#[test]
fn a_rollout_that_takes_more_down_than_the_budget_allows_is_reported() {
    let mut f = Fixture::healthy();
    f.workload("web").strategy = Strategy::Rolling {
        max_surge: 1,
        max_unavailable: 2,
    };
    assert_eq!(
        f.fired(CheckId::SurgeBelowPdb),
        one("Deployment/shop/web", Warning)
    );
    f.workload("web").strategy = Strategy::Rolling {
        max_surge: 1,
        max_unavailable: 1,
    };
    assert!(f.fired(CheckId::SurgeBelowPdb).is_empty());
}

#[test]
fn a_rollout_without_surge_is_reported() {
    let mut f = Fixture::healthy();
    f.workload("web").strategy = Strategy::Rolling {
        max_surge: 0,
        max_unavailable: 1,
    };
    assert_eq!(
        f.fired(CheckId::MaxSurgeZero),
        one("Deployment/shop/web", Warning)
    );
    f.workload("web").strategy = Strategy::Recreate;
    assert_eq!(
        f.fired(CheckId::MaxSurgeZero),
        one("Deployment/shop/web", Warning)
    );
    f.workload("web").strategy = Strategy::Rolling {
        max_surge: 1,
        max_unavailable: 0,
    };
    assert!(f.fired(CheckId::MaxSurgeZero).is_empty());
}

#[test]
fn hold_until_proxy_comes_from_the_pod_or_the_new_revisions_mesh_config() {
    let mut f = Fixture::healthy();
    f.mesh_configs.clear();
    assert_eq!(
        f.fired(CheckId::HoldUntilProxy),
        one("Deployment/shop/web", Warning)
    );
    f.workload("web")
        .proxy_config
        .hold_application_until_proxy_starts = Some(true);
    assert!(f.fired(CheckId::HoldUntilProxy).is_empty());
    // The old revision's mesh config does not count: the restart injects the new one.
    let mut f = Fixture::healthy();
    f.mesh_configs[0].name = "istio-1-24-0".into();
    assert_eq!(f.fired(CheckId::HoldUntilProxy).len(), 1);
    // A gateway's proxy is the app.
    f.workload("web").inject_templates = Some("gateway".into());
    assert!(f.fired(CheckId::HoldUntilProxy).is_empty());
}

#[test]
fn the_grace_period_must_outlast_the_proxys_drain() {
    let mut f = Fixture::healthy();
    f.workload("web").grace_seconds = 3;
    assert_eq!(
        f.fired(CheckId::GraceBelowDrain),
        one("Deployment/shop/web", Warning)
    );
    f.workload("web").grace_seconds = 30;
    f.workload("web").proxy_config.termination_drain_duration = Some(Duration::from_secs(45));
    assert_eq!(f.fired(CheckId::GraceBelowDrain).len(), 1);
    f.workload("web").grace_seconds = 60;
    assert!(f.fired(CheckId::GraceBelowDrain).is_empty());
}

#[test]
fn long_lived_connections_need_a_longer_grace_period() {
    let mut f = Fixture::healthy();
    f.workload("web").grace_seconds = 10;
    assert!(f.fired(CheckId::LongLivedGrace).is_empty(), "plain HTTP");
    f.services[2].ports.push(PortInfo {
        port: 9090,
        name: Some("api".into()),
        app_protocol: Some("grpc".into()),
    });
    assert_eq!(
        f.fired(CheckId::LongLivedGrace),
        one("Deployment/shop/web", Warning)
    );
    f.services[2].ports.clear();
    f.workload("web").ports[0].name = Some("tcp-stream".into());
    assert_eq!(f.fired(CheckId::LongLivedGrace).len(), 1);
    f.workload("web").grace_seconds = 30;
    assert!(f.fired(CheckId::LongLivedGrace).is_empty());
}

#[test]
fn pods_a_rollout_restart_cannot_move_are_named() {
    let mut f = Fixture::healthy();
    let mut bare = pod("shop", "debug", Some("1-24-0"), Some("1.24.0"));
    bare.owner = Owner::Bare;
    let mut job = pod("shop", "nightly-1", Some("1-24-0"), Some("1.24.0"));
    job.owner = Owner::Other("Job".into());
    let mut moved = pod("shop", "moved", Some("1-25-0"), Some("1.25.0"));
    moved.owner = Owner::Bare;
    f.pods.extend([bare, job, moved]);
    assert_eq!(
        f.fired(CheckId::UnmovablePod),
        [
            ("Pod/shop/debug".to_string(), Warning),
            ("Pod/shop/nightly-1".to_string(), Info)
        ]
    );
}

#[test]
fn ambient_agents_follow_istiod_and_cni_precedes_ztunnel() {
    let mut f = Fixture::healthy();
    f.ambient = vec![
        ambient("istio-cni-node", "1.24.0"),
        ambient("ztunnel", "1.24.0"),
    ];
    assert!(f.fired(CheckId::AmbientOrder).is_empty());
    f.ambient[1].version = Some(v("1.25.0"));
    assert_eq!(
        f.fired(CheckId::AmbientOrder),
        one("DaemonSet/istio-system/ztunnel", Warning),
        "ztunnel ahead of istio-cni"
    );
    f.ambient[0].version = Some(v("1.26.0"));
    f.ambient[1].version = Some(v("1.24.0"));
    assert_eq!(
        f.fired(CheckId::AmbientOrder),
        one("DaemonSet/istio-system/istio-cni-node", Blocker),
        "istio-cni ahead of every istiod"
    );
    // istio-cni more than one minor behind the target, and now behind ztunnel too.
    f.ambient[0].version = Some(v("1.22.0"));
    assert_eq!(
        f.fired(CheckId::AmbientOrder),
        [
            ("DaemonSet/istio-system/istio-cni-node".to_string(), Warning),
            ("DaemonSet/istio-system/ztunnel".to_string(), Warning),
        ]
    );
    f.ambient[0].version = Some(v("1.24.0"));
    assert!(f.fired(CheckId::AmbientOrder).is_empty());
}

#[test]
fn ztunnel_restarting_on_several_nodes_at_once_is_reported() {
    let mut f = Fixture::healthy();
    f.ambient = vec![ambient("ztunnel", "1.24.0")];
    let mut zt = deployment("istio-system", "ztunnel", 3);
    zt.kind = WorkloadKind::DaemonSet;
    zt.strategy = Strategy::Rolling {
        max_surge: 0,
        max_unavailable: 1,
    };
    f.workloads.push(zt);
    assert!(
        f.fired(CheckId::ZtunnelStrategy).is_empty(),
        "one node at a time"
    );
    f.workload("ztunnel").strategy = Strategy::Rolling {
        max_surge: 0,
        max_unavailable: 2,
    };
    assert_eq!(
        f.fired(CheckId::ZtunnelStrategy),
        one("DaemonSet/istio-system/ztunnel", Warning)
    );
    f.workload("ztunnel").strategy = Strategy::OnDelete;
    assert!(f.fired(CheckId::ZtunnelStrategy).is_empty());
}

#[test]
fn a_gateway_injected_through_a_tag_is_noted() {
    let mut f = Fixture::healthy();
    f.namespaces.push(namespace("ingress", &[]));
    let mut gw = deployment("ingress", "ingressgateway", 2);
    gw.inject_templates = Some("gateway".into());
    gw.template_labels
        .insert("istio.io/rev".into(), "default".into());
    f.workloads.push(gw);
    f.pdbs
        .push(pdb("ingress", "ingressgateway", "ingressgateway", 1));
    assert_eq!(
        f.fired(CheckId::GatewayOnTag),
        one("Deployment/ingress/ingressgateway", Info)
    );
    f.workload("ingressgateway")
        .template_labels
        .insert("istio.io/rev".into(), "1-25-0".into());
    assert!(f.fired(CheckId::GatewayOnTag).is_empty());
}

#[test]
fn workloads_outside_the_mesh_are_never_checked_for_restarts() {
    let mut f = Fixture::healthy();
    let dns = f.workload("coredns");
    dns.grace_seconds = 1;
    dns.strategy = Strategy::Recreate;
    dns.ports[0].name = Some("grpc".into());
    f.namespaces
        .push(namespace("edge", &[("istio.io/dataplane-mode", "ambient")]));
    f.workloads.push(deployment("edge", "proxy", 1));
    assert!(f.run().is_empty(), "{:#?}", f.run());
}

#[test]
fn findings_come_sorted_worst_first_and_the_same_every_time() {
    let mut f = Fixture::healthy();
    f.server = Some(ServerVersion {
        major: 1,
        minor: 27,
    });
    f.mesh_configs.clear();
    f.workload("web").grace_seconds = 2;
    f.pods[1].owner = Owner::Other("Job".into());
    let first = f.run();
    assert_eq!(first, f.run());
    let keys: Vec<_> = first.iter().map(|x| (x.severity, x.check)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(first[0].check, CheckId::K8sVersion);
    assert_eq!(first.last().unwrap().severity, Info);
}
