//! A small cockpit state for the plan's unit tests, built through `update` as the watchers
//! would feed it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::app::event::{Event, IstiodLogLine, Watch};
use crate::app::state::{Mode, State};
use crate::app::update::update;
use crate::mesh::pod::PodInfo;
use crate::mesh::resources::{DaemonSetInfo, NamespaceInfo, WebhookInfo};
use crate::mesh::version::Version;

pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

pub fn now() -> DateTime<Utc> {
    at("2026-11-24T21:30:00Z")
}

pub struct Cluster {
    pub state: State,
}

impl Cluster {
    pub fn new() -> Cluster {
        Cluster {
            state: State::new("test", Mode::Driver, 100, now()),
        }
    }

    fn apply(&mut self, event: Event) -> &mut Cluster {
        update(&mut self.state, event, |_, _| 20);
        self
    }

    pub fn revision(&mut self, revision: &str) -> &mut Cluster {
        let version = Version::parse(revision).map(|v| v.to_string());
        self.webhook(
            &format!("istio-sidecar-injector-{revision}"),
            revision,
            None,
        );
        self.istiod(revision, version.as_deref())
    }

    pub fn tag(&mut self, tag: &str, revision: &str) -> &mut Cluster {
        self.webhook(&format!("istio-revision-tag-{tag}"), revision, Some(tag))
    }

    fn webhook(&mut self, name: &str, revision: &str, tag: Option<&str>) -> &mut Cluster {
        self.apply(Event::Webhooks(Watch::Apply(WebhookInfo {
            name: name.into(),
            revision: revision.into(),
            tag: tag.map(str::to_string),
            previous_revision: None,
        })))
    }

    fn istiod(&mut self, revision: &str, version: Option<&str>) -> &mut Cluster {
        let pod = PodInfo {
            name: format!("istiod-{revision}-abc"),
            istiod: Some((revision.into(), version.and_then(Version::parse))),
            ..pod("istio-system", "x", None, None, true)
        };
        self.apply(Event::Pods(Watch::Apply(pod)))
    }

    pub fn namespace(&mut self, name: &str, labels: &[(&str, &str)]) -> &mut Cluster {
        self.apply(Event::Namespaces(Watch::Apply(NamespaceInfo {
            name: name.into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            annotations: BTreeMap::new(),
            created: None,
        })))
    }

    /// An injected pod of `revision` running proxy `version`, ready or not.
    pub fn pod(
        &mut self,
        ns: &str,
        name: &str,
        revision: &str,
        version: &str,
        ready: bool,
    ) -> &mut Cluster {
        self.apply(Event::Pods(Watch::Apply(pod(
            ns,
            name,
            Some(revision),
            Some(version),
            ready,
        ))))
    }

    /// A pod without a sidecar.
    pub fn bare_pod(&mut self, ns: &str, name: &str) -> &mut Cluster {
        self.apply(Event::Pods(Watch::Apply(pod(ns, name, None, None, true))))
    }

    pub fn remove_pod(&mut self, ns: &str, name: &str) -> &mut Cluster {
        self.apply(Event::Pods(Watch::Delete(pod(ns, name, None, None, true))))
    }

    pub fn daemonset(&mut self, name: &str, revision: &str) -> &mut Cluster {
        self.apply(Event::DaemonSets(Watch::Apply(DaemonSetInfo {
            namespace: "istio-system".into(),
            name: name.into(),
            version: Version::parse(revision),
            revision: Some(revision.into()),
            ready: 3,
            desired: 3,
        })))
    }

    /// A NACK logged by `revision`'s istiod at `time` (RFC 3339).
    pub fn nack(&mut self, revision: &str, time: &str) -> &mut Cluster {
        let stamp = at(time).format("%Y-%m-%dT%H:%M:%S%.6fZ");
        let line = format!(
            "{stamp}\twarn\tads\tADS:LDS: ACK ERROR sidecar~10.0.0.1~web-1.shop~shop.svc.cluster.local-1 Internal:bad listener"
        );
        self.apply(Event::IstiodLog(IstiodLogLine {
            pod: format!("istiod-{revision}-abc"),
            revision: revision.into(),
            line,
        }))
    }
}

pub fn pod(
    ns: &str,
    name: &str,
    revision: Option<&str>,
    proxy: Option<&str>,
    ready: bool,
) -> PodInfo {
    let containers = if proxy.is_some() { 2 } else { 1 };
    PodInfo {
        namespace: ns.into(),
        name: name.into(),
        phase: "Running".into(),
        ready: if ready { containers } else { containers - 1 },
        containers,
        restarts: 0,
        created: None,
        terminating: false,
        revision: revision.map(str::to_string),
        proxy: proxy.and_then(Version::parse),
        istiod: None,
        app: None,
        cpu_millis: 100,
        memory_mib: 128,
        owner: Default::default(),
    }
}

/// The default demo's shape (as `tests/common/fixture.rs`): 1-24-0 serves most pods, 1-25-0 is
/// installed, `default` and `stable` point at 1-24-0; namespaces of every tier, one ambient,
/// one without injection, one half migrated, one pod two minors behind.
pub fn demo() -> Cluster {
    let mut c = Cluster::new();
    c.revision("1-24-0")
        .revision("1-25-0")
        .tag("default", "1-24-0")
        .tag("stable", "1-24-0")
        .namespace(
            "checkout",
            &[("istio.io/rev", "stable"), ("tier", "critical")],
        )
        .namespace(
            "edge-ambient",
            &[
                ("istio.io/dataplane-mode", "ambient"),
                ("tier", "non-critical"),
            ],
        )
        .namespace("istio-system", &[])
        .namespace("legacy-batch", &[("tier", "internal")])
        .namespace(
            "notifications",
            &[
                ("istio-injection", "enabled"),
                ("istio.io/rev", "1-25-0"),
                ("tier", "non-critical"),
            ],
        )
        .namespace(
            "search",
            &[("istio-injection", "enabled"), ("tier", "non-critical")],
        )
        .namespace(
            "staging-web",
            &[("istio.io/rev", "1-25-0"), ("tier", "staging")],
        )
        .pod("checkout", "cart-1", "1-24-0", "1.24.0", true)
        .pod("checkout", "cart-2", "1-24-0", "1.24.0", true)
        .bare_pod("edge-ambient", "edge-proxy-1")
        .bare_pod("legacy-batch", "nightly-1")
        .pod("notifications", "notifier-1", "1-24-0", "1.24.0", true)
        .pod("search", "search-api-1", "1-24-0", "1.22.4", true)
        .pod("search", "search-api-2", "1-24-0", "1.24.0", true)
        .pod("staging-web", "frontend-new-1", "1-25-0", "1.25.0", true)
        .pod("staging-web", "frontend-new-2", "1-25-0", "1.25.0", false)
        .pod("staging-web", "frontend-old-1", "1-24-0", "1.24.0", true)
        .daemonset("ztunnel", "1-24-0");
    c
}
