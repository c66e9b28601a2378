//! What makes a set of simulated clusters one mesh: east-west gateways, remote secrets for
//! the other clusters, a shared root CA in every namespace's `istio-ca-root-cert`, and the
//! fleet's faults (`ca.mismatch`, `eastwest.down`).

pub mod controller;
pub mod eastwest;
pub mod remote_secrets;
pub mod root_cert;

use std::sync::Arc;

use super::scenario::FleetCluster;
use super::store::{Store, StoreError};
use super::topology::Topology;

/// Another cluster, as a remote secret names it.
#[derive(Debug, Clone)]
pub struct Peer {
    pub name: String,
    pub server: String,
    pub ca_pem: String,
    pub viewer_token: String,
}

/// One cluster's place in the fleet.
#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub topology: Topology,
    pub shape: FleetCluster,
    /// The fleet's root CA (PEM), the same in every cluster.
    pub root_cert_pem: Arc<str>,
    /// The root CA this cluster shows instead while `ca.mismatch=true`.
    pub mismatched_root_cert_pem: String,
    /// Every other cluster.
    pub peers: Vec<Peer>,
}

/// The network a cluster's pods are on.
pub fn network_of(cluster: &str) -> String {
    format!("network-{cluster}")
}

/// The east-west gateway's load-balancer address of the fleet's `index`th cluster (in a
/// documentation range: it exists only in the simulation).
pub fn eastwest_address(index: usize) -> String {
    format!("203.0.113.{}", 10 + index % 240)
}

/// Creates the fleet's objects a scenario does not: remote secrets and root certificates.
pub fn install(store: &Store, member: &Member) -> Result<(), StoreError> {
    remote_secrets::create(store, &member.peers)?;
    root_cert::reconcile_all(store, &member.root_cert_pem);
    Ok(())
}
