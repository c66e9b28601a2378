//! The CustomResourceDefinitions Istio's `base` chart installs, with the versions Istio 1.25.0
//! serves (its `manifests/charts/base/files/crd-all.gen.yaml`) and the labels the chart's CRD
//! templates put on them (`app.kubernetes.io/part-of: istio`, ...).

use serde_json::{Value, json};

use super::{Builder, NEW_VERSION, days_ago};
use crate::sim::store::StoreError;

/// One Istio CRD: group, plural, kind, short names, and its versions as (name, storage).
/// Every listed version is served.
pub struct IstioCrd {
    pub group: &'static str,
    pub plural: &'static str,
    pub kind: &'static str,
    pub short_names: &'static [&'static str],
    pub versions: &'static [(&'static str, bool)],
}

impl IstioCrd {
    pub fn name(&self) -> String {
        format!("{}.{}", self.plural, self.group)
    }
}

const NETWORKING: &str = "networking.istio.io";
const SECURITY: &str = "security.istio.io";
/// networking's v1 APIs: v1 and v1alpha3 served, v1beta1 stored.
const NETWORKING_V1: &[(&str, bool)] = &[("v1", false), ("v1alpha3", false), ("v1beta1", true)];
/// security's: v1 served, v1beta1 stored.
const SECURITY_V1: &[(&str, bool)] = &[("v1", false), ("v1beta1", true)];

const fn crd(
    group: &'static str,
    plural: &'static str,
    kind: &'static str,
    short_names: &'static [&'static str],
    versions: &'static [(&'static str, bool)],
) -> IstioCrd {
    IstioCrd {
        group,
        plural,
        kind,
        short_names,
        versions,
    }
}

pub static ISTIO_CRDS: &[IstioCrd] = &[
    crd(
        "extensions.istio.io",
        "wasmplugins",
        "WasmPlugin",
        &[],
        &[("v1alpha1", true)],
    ),
    crd(
        NETWORKING,
        "destinationrules",
        "DestinationRule",
        &["dr"],
        NETWORKING_V1,
    ),
    crd(
        NETWORKING,
        "envoyfilters",
        "EnvoyFilter",
        &[],
        &[("v1alpha3", true)],
    ),
    crd(NETWORKING, "gateways", "Gateway", &["gw"], NETWORKING_V1),
    crd(
        NETWORKING,
        "proxyconfigs",
        "ProxyConfig",
        &[],
        &[("v1beta1", true)],
    ),
    crd(
        NETWORKING,
        "serviceentries",
        "ServiceEntry",
        &["se"],
        NETWORKING_V1,
    ),
    crd(NETWORKING, "sidecars", "Sidecar", &[], NETWORKING_V1),
    crd(
        NETWORKING,
        "virtualservices",
        "VirtualService",
        &["vs"],
        NETWORKING_V1,
    ),
    crd(
        NETWORKING,
        "workloadentries",
        "WorkloadEntry",
        &["we"],
        NETWORKING_V1,
    ),
    crd(
        NETWORKING,
        "workloadgroups",
        "WorkloadGroup",
        &["wg"],
        NETWORKING_V1,
    ),
    crd(
        SECURITY,
        "authorizationpolicies",
        "AuthorizationPolicy",
        &["ap"],
        SECURITY_V1,
    ),
    crd(
        SECURITY,
        "peerauthentications",
        "PeerAuthentication",
        &["pa"],
        SECURITY_V1,
    ),
    crd(
        SECURITY,
        "requestauthentications",
        "RequestAuthentication",
        &["ra"],
        SECURITY_V1,
    ),
    crd(
        "telemetry.istio.io",
        "telemetries",
        "Telemetry",
        &["telemetry"],
        &[("v1", false), ("v1alpha1", true)],
    ),
];

/// The CustomResourceDefinition object for `crd`, as installed by the base chart of `version`.
pub fn object(crd: &IstioCrd, version: &str) -> Value {
    let versions: Vec<Value> = crd
        .versions
        .iter()
        .map(|(name, storage)| {
            json!({"name": name, "served": true, "storage": storage,
                   "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                   "subresources": {"status": {}}})
        })
        .collect();
    let singular = crd.kind.to_lowercase();
    let mut names = json!({"plural": crd.plural, "singular": singular, "kind": crd.kind,
                           "listKind": format!("{}List", crd.kind),
                           "categories": ["istio-io", crd.group.replace('.', "-")]});
    if !crd.short_names.is_empty() {
        names["shortNames"] = json!(crd.short_names);
    }
    let stored: Vec<&str> = crd.versions.iter().filter(|v| v.1).map(|v| v.0).collect();
    json!({
        "metadata": {
            "name": crd.name(),
            "labels": {
                "app.kubernetes.io/managed-by": "Helm",
                "app.kubernetes.io/instance": "istio-base",
                "app.kubernetes.io/part-of": "istio",
                "app.kubernetes.io/version": version,
                "helm.sh/chart": format!("base-{version}"),
            },
            "annotations": {"helm.sh/resource-policy": "keep"},
            "creationTimestamp": days_ago(400),
        },
        "spec": {"group": crd.group, "names": names, "scope": "Namespaced", "versions": versions},
        "status": {
            "acceptedNames": names,
            "storedVersions": stored,
            "conditions": [
                {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found"},
                {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"},
            ],
        },
    })
}

impl Builder<'_> {
    /// Every Istio CRD as 1.25.0's base chart installs it; `adjust` may drop one (None) or
    /// change it, which is how a scenario plants a missing or outdated CRD.
    pub(super) fn istio_crds(
        &mut self,
        adjust: impl Fn(&IstioCrd, Value) -> Option<Value>,
    ) -> Result<(), StoreError> {
        for crd in ISTIO_CRDS {
            if let Some(obj) = adjust(crd, object(crd, NEW_VERSION)) {
                self.store.create("customresourcedefinitions", "", obj)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_crd_stores_exactly_one_version() {
        for crd in ISTIO_CRDS {
            assert_eq!(
                crd.versions.iter().filter(|v| v.1).count(),
                1,
                "{}",
                crd.name()
            );
        }
        let telemetry = object(&ISTIO_CRDS[13], "1.25.0");
        assert_eq!(
            telemetry["metadata"]["name"],
            "telemetries.telemetry.istio.io"
        );
        assert_eq!(telemetry["status"]["storedVersions"], json!(["v1alpha1"]));
        assert_eq!(telemetry["spec"]["versions"][0]["served"], true);
    }
}
