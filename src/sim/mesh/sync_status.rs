//! What istiod's `/debug/syncz` reports of its proxies: for each xDS type, the nonce it last
//! sent and the nonce the proxy last acknowledged. A proxy that rejected a push goes on
//! acknowledging the one before, so it reads STALE for that type until istiod pushes again
//! without a rejection.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use super::log_lines::XDS_TYPES;

/// The proxies that rejected a push of this istiod, each with the push sequence it still
/// acknowledges per rejected type.
#[derive(Debug, Default)]
pub struct Stale {
    by_slot: HashMap<u32, [Option<u64>; 4]>,
}

impl Stale {
    /// `slot` rejected the push after `acked` for type `xds`; an earlier rejection keeps
    /// its older acknowledgement.
    pub fn reject(&mut self, slot: u32, xds: usize, acked: u64) {
        let types = self.by_slot.entry(slot).or_default();
        if types[xds].is_none() {
            types[xds] = Some(acked);
        }
    }

    /// A push went through without a rejection: every proxy acknowledges it.
    pub fn clear(&mut self) {
        self.by_slot.clear();
    }

    /// The sequence `slot` still acknowledges for `xds`, when it rejected a later one.
    pub fn acked(&self, slot: u32, xds: usize) -> Option<u64> {
        self.by_slot.get(&slot).and_then(|t| t[xds])
    }
}

/// The nonce of push `sequence` for type `xds`.
pub fn nonce(sequence: u64, xds: usize) -> String {
    format!("{sequence:012x}-{}", XDS_TYPES[xds])
}

/// One proxy as `/debug/syncz` lists it (the fields `istioctl proxy-status` reads).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SyncRow {
    pub cluster_id: String,
    pub proxy: String,
    pub proxy_type: &'static str,
    pub istio_version: String,
    pub cluster_sent: String,
    pub cluster_acked: String,
    pub listener_sent: String,
    pub listener_acked: String,
    pub route_sent: String,
    pub route_acked: String,
    pub endpoint_sent: String,
    pub endpoint_acked: String,
}

/// What the row of a proxy needs besides the nonces.
pub struct ProxyIdentity<'a> {
    pub cluster_id: &'a str,
    pub pod: &'a str,
    pub ns: &'a str,
    pub istio_version: Arc<str>,
}

/// The row of the proxy in `slot`, after push `sequence` of its istiod.
pub fn row(who: &ProxyIdentity<'_>, slot: u32, sequence: u64, stale: &Stale) -> SyncRow {
    // XDS_TYPES is cds, eds, lds, rds.
    let pair = |xds: usize| {
        let sent = nonce(sequence, xds);
        let acked = stale
            .acked(slot, xds)
            .map_or_else(|| sent.clone(), |seq| nonce(seq, xds));
        (sent, acked)
    };
    let (cluster_sent, cluster_acked) = pair(0);
    let (endpoint_sent, endpoint_acked) = pair(1);
    let (listener_sent, listener_acked) = pair(2);
    let (route_sent, route_acked) = pair(3);
    SyncRow {
        cluster_id: who.cluster_id.to_string(),
        proxy: format!("{}.{}", who.pod, who.ns),
        proxy_type: "sidecar",
        istio_version: who.istio_version.to_string(),
        cluster_sent,
        cluster_acked,
        listener_sent,
        listener_acked,
        route_sent,
        route_acked,
        endpoint_sent,
        endpoint_acked,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who() -> ProxyIdentity<'static> {
        ProxyIdentity {
            cluster_id: "Kubernetes",
            pod: "cart-1",
            ns: "checkout",
            istio_version: "1.25.0".into(),
        }
    }

    #[test]
    fn a_proxy_that_rejected_a_listener_push_acknowledges_the_one_before() {
        let mut stale = Stale::default();
        stale.reject(7, 2, 40);
        stale.reject(7, 2, 41);
        let r = row(&who(), 7, 42, &stale);
        assert_eq!(r.proxy, "cart-1.checkout");
        assert_eq!(r.listener_sent, nonce(42, 2));
        assert_eq!(r.listener_acked, nonce(40, 2));
        assert_eq!(r.cluster_sent, r.cluster_acked);
        assert_eq!(r.route_sent, r.route_acked);
        let other = row(&who(), 8, 42, &stale);
        assert_eq!(other.listener_sent, other.listener_acked);
        stale.clear();
        let r = row(&who(), 7, 43, &stale);
        assert_eq!(r.listener_sent, r.listener_acked);
    }
}
