//! Remote secrets: for every other cluster a Secret `istio-remote-secret-<name>` in
//! `istio-system`, labelled `istio/multiCluster=true`, whose data is a kubeconfig istiod would
//! use to watch that cluster (here with its read-only token).

use base64::Engine;
use serde_json::json;

use super::Peer;
use crate::sim::kubeconfig;
use crate::sim::store::{Store, StoreError};

pub const LABEL: &str = "istio/multiCluster";
pub const CLUSTER_ANNOTATION: &str = "networking.istio.io/cluster";

pub fn create(store: &Store, peers: &[Peer]) -> Result<(), StoreError> {
    for peer in peers {
        let config =
            kubeconfig::render_one(&peer.name, &peer.server, &peer.ca_pem, &peer.viewer_token);
        let data = base64::engine::general_purpose::STANDARD.encode(config.as_bytes());
        store.create(
            "secrets",
            "istio-system",
            json!({"metadata": {"name": format!("istio-remote-secret-{}", peer.name),
                                "labels": {LABEL: "true"},
                                "annotations": {CLUSTER_ANNOTATION: peer.name}},
                   "type": "Opaque",
                   "data": {peer.name.clone(): data}}),
        )?;
    }
    Ok(())
}
