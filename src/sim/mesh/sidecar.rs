//! One injected pod as the mesh keeps it (small: 50,000 of them must stay cheap), and the
//! metrics page its proxy serves on port 15020.

use std::net::Ipv4Addr;
use std::sync::Arc;

use super::cross::{CrossSeries, CrossTraffic};
use super::exposition::{Labels, Page};
use super::histogram::REQUEST_MS;
use super::traffic::{RequestHistogram, RevFaults, Series, Traffic};

/// The istiod connection of a proxy: which istiod, where in its proxy list, and istiod's
/// connection number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub istiod: u32,
    pub slot: u32,
    pub connection: u64,
}

#[derive(Debug)]
pub struct Sidecar {
    pub ns: Arc<str>,
    pub name: Arc<str>,
    pub workload: Arc<str>,
    pub app: Arc<str>,
    pub app_version: Arc<str>,
    pub revision: u16,
    pub proxy_version: u16,
    pub ip: Option<Ipv4Addr>,
    /// A stable hash of the pod, for its share of the noise.
    pub id: u64,
    pub running: bool,
    pub link: Option<Link>,
    pub traffic: Traffic,
    /// The index of its cluster in the fleet.
    pub cluster: u16,
    /// Its calls to and from another cluster, in a fleet of two or more.
    pub cross: Option<Box<CrossTraffic>>,
}

/// A workload a sidecar talks to: its name and `version` label.
#[derive(Debug, Clone)]
pub struct Peer {
    pub workload: Arc<str>,
    pub version: Arc<str>,
}

/// What rendering a sidecar's page needs besides the sidecar.
pub struct PageContext<'a> {
    pub proxy_version: &'a str,
    pub faults: RevFaults,
    /// The workload calling this one, and the one this one calls.
    pub caller: Peer,
    pub callee: Peer,
    pub clusters: ClusterNames<'a>,
}

/// The cluster names a sidecar's series carry: its own, and its peer cluster's.
#[derive(Debug, Clone, Copy)]
pub struct ClusterNames<'a> {
    pub own: &'a str,
    pub peer: &'a str,
}

impl ClusterNames<'_> {
    /// Istio's default cluster name, as a cluster outside any fleet reports it.
    pub const ALONE: ClusterNames<'static> = ClusterNames {
        own: "Kubernetes",
        peer: "Kubernetes",
    };
}

const REQUESTS_HELP: &str = "Requests handled by the proxy, by source, destination and response.";
const DURATION_HELP: &str = "Duration of the requests handled by the proxy, in milliseconds.";

fn principal(ns: &str) -> String {
    format!("spiffe://cluster.local/ns/{ns}/sa/default")
}

struct Side<'a> {
    workload: &'a str,
    ns: &'a str,
    version: &'a str,
    cluster: &'a str,
}

/// How one series' requests ended, as its labels say.
struct Outcome {
    inbound: bool,
    code: &'static str,
    flags: &'static str,
}

impl From<Series> for Outcome {
    fn from(s: Series) -> Outcome {
        Outcome {
            inbound: s.inbound(),
            code: s.response_code(),
            flags: s.response_flags(),
        }
    }
}

impl From<CrossSeries> for Outcome {
    fn from(s: CrossSeries) -> Outcome {
        Outcome {
            inbound: s.inbound(),
            code: s.response_code(),
            flags: s.response_flags(),
        }
    }
}

fn series_labels(s: &Outcome, source: &Side<'_>, destination: &Side<'_>) -> Labels {
    let service = format!(
        "{}.{}.svc.cluster.local",
        destination.workload, destination.ns
    );
    let (reporter, policy) = if s.inbound {
        ("destination", "mutual_tls")
    } else {
        ("source", "unknown")
    };
    Labels::new()
        .with("reporter", reporter)
        .with("source_workload", source.workload)
        .with("source_workload_namespace", source.ns)
        .with("source_principal", &principal(source.ns))
        .with("source_app", source.workload)
        .with("source_version", source.version)
        .with("source_canonical_service", source.workload)
        .with("source_canonical_revision", "latest")
        .with("source_cluster", source.cluster)
        .with("destination_workload", destination.workload)
        .with("destination_workload_namespace", destination.ns)
        .with("destination_principal", &principal(destination.ns))
        .with("destination_app", destination.workload)
        .with("destination_version", destination.version)
        .with("destination_service", &service)
        .with("destination_service_name", destination.workload)
        .with("destination_service_namespace", destination.ns)
        .with("destination_canonical_service", destination.workload)
        .with("destination_canonical_revision", "latest")
        .with("destination_cluster", destination.cluster)
        .with("request_protocol", "http")
        .with("response_code", s.code)
        .with("grpc_response_status", "")
        .with("response_flags", s.flags)
        .with("connection_security_policy", policy)
}

impl Sidecar {
    /// Writes the proxy's `/stats/prometheus` series into `page`.
    pub fn render(&self, ctx: &PageContext<'_>, page: &mut Page) {
        let (own, peer) = (ctx.clusters.own, ctx.clusters.peer);
        let me = self.side(&self.workload, &self.app_version, own);
        let mut histograms: Vec<(Labels, RequestHistogram)> = Vec::with_capacity(4);
        let mut count = |outcome: Outcome, values: RequestHistogram, other: &Side<'_>| {
            if values.count == 0 {
                return;
            }
            let labels = if outcome.inbound {
                series_labels(&outcome, other, &me)
            } else {
                series_labels(&outcome, &me, other)
            };
            page.counter("istio_requests_total", REQUESTS_HELP, &labels, values.count);
            histograms.push((labels, values));
        };
        let caller = self.side(&ctx.caller.workload, &ctx.caller.version, own);
        let callee = self.side(&ctx.callee.workload, &ctx.callee.version, own);
        for s in Series::ALL {
            let other = if s.inbound() { &caller } else { &callee };
            count(s.into(), self.traffic.series(s, &ctx.faults), other);
        }
        if let Some(cross) = &self.cross {
            let caller = self.side(&ctx.caller.workload, &ctx.caller.version, peer);
            let callee = self.side(&ctx.callee.workload, &ctx.callee.version, peer);
            for s in CrossSeries::ALL {
                let other = if s.inbound() { &caller } else { &callee };
                let values = cross.series(s, f64::from(self.traffic.base_ms));
                count(s.into(), values, other);
            }
        }
        for (labels, values) in &histograms {
            page.histogram(
                "istio_request_duration_milliseconds",
                DURATION_HELP,
                labels,
                &REQUEST_MS,
                values,
            );
        }
        page.gauge(
            "istio_build",
            "Istio component build info",
            &Labels::new()
                .with("component", "proxy")
                .with("tag", ctx.proxy_version),
            1,
        );
    }

    /// A workload of this pod's namespace, in `cluster`.
    fn side<'a>(&'a self, workload: &'a str, version: &'a str, cluster: &'a str) -> Side<'a> {
        Side {
            workload,
            ns: &self.ns,
            version,
            cluster,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::mesh::exposition::check;

    fn sidecar() -> Sidecar {
        let s = |v: &str| Arc::<str>::from(v);
        let mut traffic = Traffic::for_workload(1, "checkout", "cart");
        traffic.advance(30.0);
        Sidecar {
            ns: s("checkout"),
            name: s("cart-5d8f9-abcde"),
            workload: s("cart"),
            app: s("cart"),
            app_version: s("v1"),
            revision: 0,
            proxy_version: 0,
            ip: Some(Ipv4Addr::new(10, 244, 0, 7)),
            id: 7,
            running: true,
            link: None,
            traffic,
            cluster: 0,
            cross: None,
        }
    }

    #[test]
    fn the_page_is_valid_exposition_with_istio_labels() {
        let peer = |w: &str| Peer {
            workload: w.into(),
            version: "v1".into(),
        };
        let ctx = PageContext {
            proxy_version: "1.24.0",
            faults: RevFaults {
                latency_ms: 100.0,
                errors: 0.2,
                mtls: 0.3,
            },
            caller: peer("checkout"),
            callee: peer("checkout"),
            clusters: ClusterNames::ALONE,
        };
        let mut page = Page::new();
        sidecar().render(&ctx, &mut page);
        let text = page.render();
        let parsed = check::parse(&text);
        assert!(parsed.families["istio_requests_total"] == "counter");
        assert!(parsed.families["istio_request_duration_milliseconds"] == "histogram");
        let requests: Vec<_> = parsed
            .samples
            .iter()
            .filter(|s| s.name == "istio_requests_total")
            .collect();
        assert_eq!(requests.len(), 4, "{text}");
        let mtls = requests
            .iter()
            .find(|s| s.labels["response_flags"] == "UF,URX")
            .expect("an mTLS failure series");
        assert_eq!(mtls.labels["response_code"], "503");
        assert_eq!(mtls.labels["reporter"], "source");
        for s in &requests {
            for key in [
                "source_workload",
                "source_workload_namespace",
                "destination_workload",
                "destination_workload_namespace",
                "destination_service",
                "destination_canonical_revision",
                "connection_security_policy",
            ] {
                assert!(s.labels.contains_key(key), "{key} missing");
            }
        }
        check::histograms_are_consistent(&parsed);
    }
}
