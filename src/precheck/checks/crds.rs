//! CRDs: Istio's CustomResourceDefinitions must be installed (the `base` chart) before the
//! new control plane, serving the API versions it reads.
//!
//! - `crd-missing`: blocker for each of Istio's CRDs that is not installed (the new istiod
//!   waits for them, and configuration of that kind cannot be applied).
//! - `crd-version`: blocker when an installed CRD does not serve the version the target
//!   reads (the `v1` APIs from 1.22 on): the CRDs are older than the control plane.

use crate::precheck::Target;
use crate::precheck::finding::{CheckId, Finding, Severity};
use crate::precheck::scope::Scope;

/// (group, plural, version read from 1.22 on, version read before).
const ISTIO_CRDS: &[(&str, &str, &str, &str)] = &[
    ("networking.istio.io", "destinationrules", "v1", "v1beta1"),
    (
        "networking.istio.io",
        "envoyfilters",
        "v1alpha3",
        "v1alpha3",
    ),
    ("networking.istio.io", "gateways", "v1", "v1beta1"),
    ("networking.istio.io", "proxyconfigs", "v1beta1", "v1beta1"),
    ("networking.istio.io", "serviceentries", "v1", "v1beta1"),
    ("networking.istio.io", "sidecars", "v1", "v1beta1"),
    ("networking.istio.io", "virtualservices", "v1", "v1beta1"),
    ("networking.istio.io", "workloadentries", "v1", "v1beta1"),
    ("networking.istio.io", "workloadgroups", "v1", "v1beta1"),
    (
        "security.istio.io",
        "authorizationpolicies",
        "v1",
        "v1beta1",
    ),
    ("security.istio.io", "peerauthentications", "v1", "v1beta1"),
    (
        "security.istio.io",
        "requestauthentications",
        "v1",
        "v1beta1",
    ),
    ("telemetry.istio.io", "telemetries", "v1", "v1alpha1"),
    ("extensions.istio.io", "wasmplugins", "v1alpha1", "v1alpha1"),
];

/// The Istio minor from which the stable APIs are read as `v1`.
const V1_FROM_MINOR: u16 = 22;

pub(super) fn check(scope: &Scope<'_>, target: &Target, out: &mut Vec<Finding>) {
    let to = target.to;
    let fix = format!(
        "install Istio {to}'s CRDs before its control plane: helm upgrade --install istio-base istio/base -n istio-system --version {to}"
    );
    for (group, plural, current, older) in ISTIO_CRDS {
        let name = format!("{plural}.{group}");
        let object = format!("CustomResourceDefinition/{name}");
        let needed = if to.major > 1 || to.minor >= V1_FROM_MINOR {
            current
        } else {
            older
        };
        match scope.inventory.crds.get(&name) {
            None => out.push(Finding::new(
                Severity::Blocker,
                CheckId::CrdMissing,
                object,
                format!("Istio's CRD {name} is not installed: istiod {to} cannot read or validate that kind"),
                fix.clone(),
            )),
            Some(crd) if !crd.served.iter().any(|v| v == needed) => out.push(Finding::new(
                Severity::Blocker,
                CheckId::CrdVersion,
                object,
                format!(
                    "{name} serves {} but not {needed}, which istiod {to} reads: the CRDs are older than the new control plane",
                    if crd.served.is_empty() { "no version".to_string() } else { crd.served.join(", ") }
                ),
                fix.clone(),
            )),
            Some(_) => {}
        }
    }
}
