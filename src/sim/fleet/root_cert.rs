//! `istio-ca-root-cert`: the ConfigMap Istio keeps in every namespace with the mesh's root CA
//! (key `root-cert.pem`), as istiod's namespace controller does, new namespaces included.

use serde_json::json;

use crate::k8s::selector::{FieldSelector, LabelSelector};
use crate::sim::store::{Store, StoreError};

pub const CONFIGMAP: &str = "istio-ca-root-cert";
pub const KEY: &str = "root-cert.pem";

/// Namespaces Istio leaves alone.
fn ignored(namespace: &str) -> bool {
    matches!(namespace, "kube-system" | "kube-public" | "kube-node-lease")
}

/// Makes the namespace's ConfigMap hold `pem`; writes only when it does not already.
pub fn ensure(store: &Store, namespace: &str, pem: &str) {
    if ignored(namespace) || store.get("namespaces", "", namespace).is_none() {
        return;
    }
    let result = match store.get_value("configmaps", namespace, CONFIGMAP) {
        Some(cm) if cm["data"][KEY].as_str() == Some(pem) => return,
        Some(_) => store
            .modify("configmaps", namespace, CONFIGMAP, |cm| {
                let mut cm = cm.clone();
                cm["data"] = json!({ KEY: pem });
                Ok(cm)
            })
            .map(|_| ()),
        None => store
            .create(
                "configmaps",
                namespace,
                json!({"metadata": {"name": CONFIGMAP, "labels": {"istio.io/config": "true"}},
                       "data": { KEY: pem }}),
            )
            .map(|_| ()),
    };
    match result {
        Ok(()) | Err(StoreError::NotFound(_) | StoreError::AlreadyExists(_)) => {}
        Err(e) => log::warn!("{namespace}/{CONFIGMAP} not written: {e:?}"),
    }
}

/// Every namespace's ConfigMap.
pub fn reconcile_all(store: &Store, pem: &str) {
    let namespaces = store.list(
        "namespaces",
        None,
        &LabelSelector::default(),
        &FieldSelector::default(),
        None,
        None,
    );
    for ((_, name), _) in namespaces.items {
        ensure(store, &name, pem);
    }
}
