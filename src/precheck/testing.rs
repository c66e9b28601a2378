//! A small, healthy cluster for the checks' tests: every check is silent on it, and each
//! test plants one problem, sees its check fire, then fixes it and sees it silent again.

use std::collections::BTreeMap;

use crate::k8s::selector::LabelSelector;
use crate::mesh::pod::{Owner, PodInfo};
use crate::mesh::resources::{DaemonSetInfo, NamespaceInfo};
use crate::mesh::version::Version;

use super::inventory::{
    CrdInfo, InjectorHook, InjectorInfo, IntOrPercent, Inventory, IstiodInfo, MeshConfigInfo,
    NodeInfo, PdbInfo, PortInfo, ProxyConfig, QuotaInfo, Resources, ServerVersion, ServiceInfo,
    ServiceRef, Strategy, WorkloadInfo, WorkloadKind, listed,
};
use super::{CheckId, Finding, Target, run};

pub fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn v(text: &str) -> Version {
    Version::parse(text).expect("a version")
}

pub fn target() -> Target {
    Target::new(v("1.24.0"), v("1.25.0"))
}

fn selector(text: &str) -> Option<LabelSelector> {
    Some(LabelSelector::parse(text).expect("a selector"))
}

/// The hook of an injector that serves `istio.io/rev=<value>`, and for the default tag the
/// one that serves `istio-injection=enabled`, as Istio writes them.
pub fn injector(name: &str, revision: &str, tag: Option<&str>) -> InjectorInfo {
    let service = Some(ServiceRef {
        namespace: "istio-system".into(),
        name: format!("istiod-{revision}"),
    });
    let hook = |name: &str, ns: String| InjectorHook {
        name: name.into(),
        service: service.clone(),
        namespace_selector: selector(&ns),
        object_selector: selector("sidecar.istio.io/inject notin (false)"),
    };
    let value = tag.unwrap_or(revision);
    let mut hooks = vec![hook(
        "rev.namespace.sidecar-injector.istio.io",
        format!("istio.io/rev in ({value}),!istio-injection"),
    )];
    if tag == Some("default") {
        hooks.push(hook(
            "namespace.sidecar-injector.istio.io",
            "istio-injection in (enabled)".into(),
        ));
    }
    InjectorInfo {
        name: name.into(),
        revision: revision.into(),
        tag: tag.map(str::to_string),
        hooks,
    }
}

pub fn namespace(name: &str, pairs: &[(&str, &str)]) -> NamespaceInfo {
    NamespaceInfo {
        name: name.into(),
        labels: labels(pairs),
        annotations: BTreeMap::new(),
        created: None,
    }
}

pub fn deployment(namespace: &str, name: &str, replicas: i32) -> WorkloadInfo {
    WorkloadInfo {
        kind: WorkloadKind::Deployment,
        namespace: namespace.into(),
        name: name.into(),
        replicas,
        strategy: Strategy::Rolling {
            max_surge: 1,
            max_unavailable: 0,
        },
        template_labels: labels(&[("app", name)]),
        inject_templates: None,
        inject_annotation: None,
        grace_seconds: 30,
        proxy_config: ProxyConfig::default(),
        ports: vec![PortInfo {
            port: 8080,
            name: Some("http".into()),
            app_protocol: None,
        }],
    }
}

pub fn pdb(namespace: &str, name: &str, app: &str, max_unavailable: i32) -> PdbInfo {
    PdbInfo {
        namespace: namespace.into(),
        name: name.into(),
        selector: selector(&format!("app={app}")),
        min_available: None,
        max_unavailable: Some(IntOrPercent::Int(max_unavailable)),
        disruptions_allowed: Some(max_unavailable),
        expected_pods: Some(3),
    }
}

pub fn pod(namespace: &str, name: &str, revision: Option<&str>, proxy: Option<&str>) -> PodInfo {
    PodInfo {
        namespace: namespace.into(),
        name: name.into(),
        phase: "Running".into(),
        ready: 2,
        containers: 2,
        restarts: 0,
        created: None,
        terminating: false,
        revision: revision.map(str::to_string),
        proxy: proxy.map(v),
        istiod: None,
        app: None,
        cpu_millis: 100,
        memory_mib: 128,
        owner: Owner::Workload,
    }
}

pub fn service(namespace: &str, name: &str, app: Option<&str>) -> ServiceInfo {
    ServiceInfo {
        namespace: namespace.into(),
        name: name.into(),
        selector: app.map(|a| labels(&[("app", a)])).unwrap_or_default(),
        ports: vec![],
    }
}

pub fn istiod(revision: &str, version: &str) -> IstiodInfo {
    IstiodInfo {
        name: format!("istiod-{revision}"),
        revision: revision.into(),
        version: Some(v(version)),
        replicas: 2,
        requests: Resources {
            cpu_millis: Some(500),
            memory_mib: Some(2048),
        },
    }
}

pub fn ambient(name: &str, version: &str) -> DaemonSetInfo {
    DaemonSetInfo {
        namespace: "istio-system".into(),
        name: name.into(),
        version: Some(v(version)),
        revision: None,
        ready: 3,
        desired: 3,
    }
}

/// The cluster as plain lists, so a test can change any of it before building.
pub struct Fixture {
    pub server: Option<ServerVersion>,
    pub namespaces: Vec<NamespaceInfo>,
    pub pods: Vec<PodInfo>,
    pub injectors: Vec<InjectorInfo>,
    pub services: Vec<ServiceInfo>,
    pub workloads: Vec<WorkloadInfo>,
    pub pdbs: Vec<PdbInfo>,
    pub crds: Vec<CrdInfo>,
    pub quotas: Vec<QuotaInfo>,
    pub nodes: Vec<NodeInfo>,
    pub mesh_configs: Vec<MeshConfigInfo>,
    pub istiods: Vec<IstiodInfo>,
    pub ambient: Vec<DaemonSetInfo>,
}

/// Istio's CRDs, serving every version any release reads.
pub fn istio_crds() -> Vec<CrdInfo> {
    let all = [
        ("networking.istio.io", "destinationrules"),
        ("networking.istio.io", "envoyfilters"),
        ("networking.istio.io", "gateways"),
        ("networking.istio.io", "proxyconfigs"),
        ("networking.istio.io", "serviceentries"),
        ("networking.istio.io", "sidecars"),
        ("networking.istio.io", "virtualservices"),
        ("networking.istio.io", "workloadentries"),
        ("networking.istio.io", "workloadgroups"),
        ("security.istio.io", "authorizationpolicies"),
        ("security.istio.io", "peerauthentications"),
        ("security.istio.io", "requestauthentications"),
        ("telemetry.istio.io", "telemetries"),
        ("extensions.istio.io", "wasmplugins"),
    ];
    all.iter()
        .map(|(group, plural)| CrdInfo {
            name: format!("{plural}.{group}"),
            group: group.to_string(),
            plural: plural.to_string(),
            served: ["v1alpha1", "v1alpha3", "v1beta1", "v1"]
                .map(str::to_string)
                .to_vec(),
        })
        .collect()
}

impl Fixture {
    /// Kubernetes 1.32, istiods 1.24.0 and 1.25.0 installed, the default tag on the old one,
    /// namespace `shop` (istio-injection=enabled) running `web` (3 replicas, surge 1, a
    /// budget of one) and `kube-system` with a single coredns outside the mesh.
    pub fn healthy() -> Fixture {
        let web_pods = (1..=3)
            .map(|i| {
                pod(
                    "shop",
                    &format!("web-7d9f-{i}"),
                    Some("1-24-0"),
                    Some("1.24.0"),
                )
            })
            .collect();
        Fixture {
            server: Some(ServerVersion {
                major: 1,
                minor: 32,
            }),
            namespaces: vec![
                namespace("shop", &[("istio-injection", "enabled")]),
                namespace("kube-system", &[]),
            ],
            pods: web_pods,
            injectors: vec![
                injector("istio-sidecar-injector-1-24-0", "1-24-0", None),
                injector("istio-sidecar-injector-1-25-0", "1-25-0", None),
                injector("istio-revision-tag-default", "1-24-0", Some("default")),
            ],
            services: vec![
                service("istio-system", "istiod-1-24-0", None),
                service("istio-system", "istiod-1-25-0", None),
                service("shop", "web", Some("web")),
            ],
            workloads: vec![
                deployment("shop", "web", 3),
                deployment("kube-system", "coredns", 1),
            ],
            pdbs: vec![pdb("shop", "web", "web", 1)],
            crds: istio_crds(),
            quotas: vec![],
            nodes: vec![NodeInfo {
                name: "node-1".into(),
                allocatable: Resources {
                    cpu_millis: Some(8000),
                    memory_mib: Some(32768),
                },
                schedulable: true,
            }],
            mesh_configs: vec![MeshConfigInfo {
                name: "istio-1-25-0".into(),
                defaults: ProxyConfig {
                    hold_application_until_proxy_starts: Some(true),
                    termination_drain_duration: None,
                },
            }],
            istiods: vec![istiod("1-24-0", "1.24.0"), istiod("1-25-0", "1.25.0")],
            ambient: vec![],
        }
    }

    pub fn inventory(&self) -> Inventory {
        Inventory {
            server: self.server,
            namespaces: listed(self.namespaces.clone()),
            pods: listed(self.pods.clone()),
            injectors: listed(self.injectors.clone()),
            services: listed(self.services.clone()),
            workloads: listed(self.workloads.clone()),
            pdbs: listed(self.pdbs.clone()),
            crds: listed(self.crds.clone()),
            quotas: listed(self.quotas.clone()),
            nodes: listed(self.nodes.clone()),
            mesh_configs: listed(self.mesh_configs.clone()),
            istiods: listed(self.istiods.clone()),
            ambient: listed(self.ambient.clone()),
        }
    }

    /// Everything precheck finds for the default target.
    pub fn run(&self) -> Vec<Finding> {
        run(&self.inventory(), &target())
    }

    /// The findings of one check, as (object, severity) pairs.
    pub fn fired(&self, check: CheckId) -> Vec<(String, super::Severity)> {
        self.run()
            .into_iter()
            .filter(|f| f.check == check)
            .map(|f| (f.object, f.severity))
            .collect()
    }

    pub fn workload(&mut self, name: &str) -> &mut WorkloadInfo {
        self.workloads
            .iter_mut()
            .find(|w| w.name == name)
            .expect("a workload of the fixture")
    }
}
