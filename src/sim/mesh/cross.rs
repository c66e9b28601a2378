//! A fleet sidecar's requests across clusters, through the east-west gateways.
//!
//! In a fleet of two or more clusters, services with the same name and namespace have
//! endpoints in every cluster, so part of a pod's calls to its callee reach a pod in another
//! cluster (its peer cluster, one per pod) and part of its requests come from its caller
//! there. The link between two clusters fails while either east-west gateway is down (the
//! caller sees 503 `UH`: no healthy upstream) or either cluster's root CA differs from the
//! fleet's (503 `UF,URX`: the handshake fails). A change of the link starts a new epoch, as a
//! change of a revision's faults does in `traffic`, so counters never go down.

use super::histogram::{LogNormal, REQUEST_MS, Snapshot};
use super::traffic::RequestHistogram;
use crate::sim::faults::FaultSet;

/// Calls to the peer cluster per request the pod receives, and requests it receives from
/// there per request it receives from its own cluster.
const CROSS_SHARE: f64 = 0.2;
/// What the hop through the east-west gateway adds to a request, in milliseconds.
const GATEWAY_HOP_MS: f64 = 3.0;

/// What a cluster's faults say about its side of the cross-cluster links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Gateway {
    pub down: bool,
    pub ca_mismatch: bool,
}

impl Gateway {
    pub fn of(set: &FaultSet) -> Gateway {
        Gateway {
            down: set.eastwest_down,
            ca_mismatch: set.ca_mismatch,
        }
    }
}

/// The state of the link between two clusters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Up,
    /// An east-west gateway of the two has no ready pods.
    NoGateway,
    /// The two clusters do not trust each other's certificates.
    CaMismatch,
}

impl LinkState {
    pub fn between(a: Gateway, b: Gateway) -> LinkState {
        if a.down || b.down {
            LinkState::NoGateway
        } else if a.ca_mismatch || b.ca_mismatch {
            LinkState::CaMismatch
        } else {
            LinkState::Up
        }
    }
}

/// The cross-cluster series a sidecar reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrossSeries {
    /// Calls answered by the callee's pods in the peer cluster (reporter=source).
    OutboundOk,
    /// Calls that found no way into the peer cluster: 503 `UH` (reporter=source).
    OutboundNoGateway,
    /// Calls whose handshake with the peer cluster failed: 503 `UF,URX` (reporter=source).
    OutboundMtls,
    /// Requests from the caller's pods in the peer cluster (reporter=destination).
    Inbound,
}

impl CrossSeries {
    pub const ALL: [CrossSeries; 4] = [
        CrossSeries::OutboundOk,
        CrossSeries::OutboundNoGateway,
        CrossSeries::OutboundMtls,
        CrossSeries::Inbound,
    ];

    fn index(self) -> usize {
        self as usize
    }

    pub fn inbound(self) -> bool {
        self == CrossSeries::Inbound
    }

    pub fn response_code(self) -> &'static str {
        match self {
            CrossSeries::OutboundOk | CrossSeries::Inbound => "200",
            CrossSeries::OutboundNoGateway | CrossSeries::OutboundMtls => "503",
        }
    }

    pub fn response_flags(self) -> &'static str {
        match self {
            CrossSeries::OutboundNoGateway => "UH",
            CrossSeries::OutboundMtls => "UF,URX",
            _ => "-",
        }
    }

    fn share(self, link: LinkState) -> f64 {
        let on = match self {
            CrossSeries::OutboundOk | CrossSeries::Inbound => link == LinkState::Up,
            CrossSeries::OutboundNoGateway => link == LinkState::NoGateway,
            CrossSeries::OutboundMtls => link == LinkState::CaMismatch,
        };
        if on { CROSS_SHARE } else { 0.0 }
    }

    fn latency(self, base_ms: f64) -> LogNormal {
        match self {
            CrossSeries::OutboundOk => LogNormal::new(base_ms * 1.2 + 1.0 + GATEWAY_HOP_MS, 0.55),
            CrossSeries::Inbound => LogNormal::new(base_ms + GATEWAY_HOP_MS, 0.55),
            // Refused at once, or a failed handshake: both fail fast.
            CrossSeries::OutboundNoGateway => LogNormal::new(0.4, 0.4),
            CrossSeries::OutboundMtls => LogNormal::new(2.0, 0.4),
        }
    }
}

/// The cross-cluster side of one sidecar's traffic.
#[derive(Debug)]
pub struct CrossTraffic {
    /// The index of the cluster this pod calls and is called from.
    pub peer: u16,
    /// The link's state in the current epoch.
    pub link: LinkState,
    /// The pod's inbound requests (from its own cluster) in the current epoch.
    requests: f64,
    history: Option<Box<[RequestHistogram; 4]>>,
}

impl CrossTraffic {
    pub fn new(peer: u16, link: LinkState) -> CrossTraffic {
        CrossTraffic {
            peer,
            link,
            requests: 0.0,
            history: None,
        }
    }

    /// The peer cluster of a pod of cluster `own` among `clusters`, chosen by its hash `id`.
    pub fn peer_of(own: u16, clusters: usize, id: u64) -> Option<u16> {
        let others = u64::try_from(clusters).ok()?.checked_sub(1)?;
        if others == 0 {
            return None;
        }
        let k = u16::try_from(id % others).ok()?;
        Some(if k >= own { k + 1 } else { k })
    }

    /// Counts `requests` more inbound requests of the pod.
    pub fn advance(&mut self, requests: f64) {
        self.requests += requests.max(0.0);
    }

    fn count_now(&self, s: CrossSeries) -> u64 {
        (self.requests * s.share(self.link)).floor() as u64
    }

    /// Calls that failed the handshake with the peer cluster in the current epoch.
    pub fn mtls_failures(&self) -> u64 {
        self.count_now(CrossSeries::OutboundMtls)
    }

    /// Everything a series has counted so far; `base_ms` is the workload's median latency.
    pub fn series(&self, s: CrossSeries, base_ms: f64) -> RequestHistogram {
        let mut snap = Snapshot::of(self.count_now(s), &s.latency(base_ms), &REQUEST_MS);
        if let Some(h) = &self.history {
            snap.add(&h[s.index()]);
        }
        snap
    }

    /// The link changed: the epoch so far goes into the history and a new one starts.
    pub fn set_link(&mut self, link: LinkState, base_ms: f64) {
        if link == self.link {
            return;
        }
        if self.requests > 0.0 {
            let current = CrossSeries::ALL.map(|s| self.series(s, base_ms));
            self.history = Some(Box::new(current));
            self.requests = 0.0;
        }
        self.link = link;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_link_fails_the_calls_and_counters_only_grow() {
        let mut c = CrossTraffic::new(1, LinkState::Up);
        c.advance(100.0);
        let ok = c.series(CrossSeries::OutboundOk, 10.0).count;
        assert_eq!(ok, 20);
        assert_eq!(c.series(CrossSeries::Inbound, 10.0).count, 20);
        c.set_link(LinkState::CaMismatch, 10.0);
        c.advance(100.0);
        assert_eq!(c.series(CrossSeries::OutboundOk, 10.0).count, ok);
        assert_eq!(c.mtls_failures(), 20);
        assert_eq!(c.series(CrossSeries::OutboundNoGateway, 10.0).count, 0);
        c.set_link(LinkState::NoGateway, 10.0);
        c.advance(50.0);
        assert_eq!(c.series(CrossSeries::OutboundMtls, 10.0).count, 20);
        assert_eq!(c.series(CrossSeries::OutboundNoGateway, 10.0).count, 10);
        assert_eq!(c.series(CrossSeries::Inbound, 10.0).count, 20);
    }

    #[test]
    fn either_side_breaks_the_link_and_peers_are_other_clusters() {
        let up = Gateway::default();
        let down = Gateway {
            down: true,
            ca_mismatch: false,
        };
        let foreign = Gateway {
            down: false,
            ca_mismatch: true,
        };
        assert_eq!(LinkState::between(up, up), LinkState::Up);
        assert_eq!(LinkState::between(up, down), LinkState::NoGateway);
        assert_eq!(LinkState::between(foreign, up), LinkState::CaMismatch);
        assert_eq!(CrossTraffic::peer_of(0, 1, 7), None);
        for id in 0..20 {
            let peer = CrossTraffic::peer_of(1, 3, id).unwrap();
            assert!(peer < 3 && peer != 1);
        }
        let peers: std::collections::BTreeSet<u16> = (0..20)
            .filter_map(|id| CrossTraffic::peer_of(0, 3, id))
            .collect();
        assert_eq!(peers.into_iter().collect::<Vec<_>>(), [1, 2]);
    }
}
