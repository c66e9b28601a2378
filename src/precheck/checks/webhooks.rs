//! Injector webhooks: who injects the pods the upgrade restarts.
//!
//! - `webhook-service-missing`: an injector webhook calls a Service that does not exist.
//!   Blocker when some namespace's pods go through that injector (their creation fails, or
//!   they start without a sidecar); warning when none do (a stale injector: delete it).
//! - `webhook-overlap`: blocker when the webhooks of two injectors both match the pods of one
//!   namespace (checked with its workloads' template labels, or a plain pod's when it has
//!   none): which revision injects them then depends on the order the API server calls the
//!   webhooks, not on the labels the upgrade sets.
//! - `tag-missing-revision`: blocker when a tag points at a revision with neither an
//!   injector nor an istiod: the namespaces on the tag get no working injection.

use std::collections::{BTreeMap, BTreeSet};

use crate::precheck::Target;
use crate::precheck::finding::{CheckId, Finding, Severity};
use crate::precheck::inventory::InjectorInfo;
use crate::precheck::scope::Scope;

/// How many namespaces a message names before it says "and N more".
const NAMED: usize = 5;

pub(super) fn check(scope: &Scope<'_>, _target: &Target, out: &mut Vec<Finding>) {
    let users = users(scope);
    missing_services(scope, &users, out);
    overlaps(&users, out);
    tags(scope, out);
}

/// For each namespace, the injectors that match each kind of pod it runs.
type Users<'a> = BTreeMap<&'a str, Vec<BTreeSet<&'a str>>>;

fn users<'a>(scope: &Scope<'a>) -> Users<'a> {
    let inventory = scope.inventory;
    let empty = BTreeMap::new();
    let mut users = Users::new();
    for ns in inventory.namespaces.values() {
        let mut pods: Vec<&BTreeMap<String, String>> = inventory
            .workloads_in(&ns.name)
            .map(|w| &w.template_labels)
            .collect();
        if pods.is_empty() {
            pods.push(&empty);
        }
        let matched: Vec<BTreeSet<&str>> = pods
            .into_iter()
            .map(|labels| {
                inventory
                    .injectors
                    .values()
                    .filter(|i| i.injects(&ns.labels, labels))
                    .map(|i| i.name.as_str())
                    .collect()
            })
            .collect();
        users.insert(ns.name.as_str(), matched);
    }
    users
}

fn namespaces_using<'a>(users: &Users<'a>, injector: &str) -> Vec<&'a str> {
    users
        .iter()
        .filter(|(_, pods)| pods.iter().any(|set| set.contains(injector)))
        .map(|(ns, _)| *ns)
        .collect()
}

fn missing_services(scope: &Scope<'_>, users: &Users<'_>, out: &mut Vec<Finding>) {
    for injector in scope.inventory.injectors.values() {
        let missing: BTreeSet<String> = injector
            .hooks
            .iter()
            .filter_map(|h| h.service.as_ref())
            .filter(|s| {
                scope
                    .inventory
                    .services
                    .get(&(s.namespace.clone(), s.name.clone()))
                    .is_none()
            })
            .map(|s| format!("{}/{}", s.namespace, s.name))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let services = missing.into_iter().collect::<Vec<_>>().join(", ");
        let used = namespaces_using(users, &injector.name);
        let finding = if used.is_empty() {
            Finding::new(
                Severity::Warning,
                CheckId::WebhookServiceMissing,
                injector.object(),
                format!(
                    "{} calls Service {services}, which does not exist; no namespace uses it now, but any pod it matches later fails to be injected",
                    describe(injector)
                ),
                format!(
                    "delete the stale injector: kubectl delete mutatingwebhookconfiguration {}",
                    injector.name
                ),
            )
        } else {
            Finding::new(
                Severity::Blocker,
                CheckId::WebhookServiceMissing,
                injector.object(),
                format!(
                    "{} calls Service {services}, which does not exist: pods restarted in {} cannot be injected",
                    describe(injector),
                    named(&used)
                ),
                format!(
                    "reinstall revision {}'s control plane, or move the namespaces off it and delete the injector",
                    injector.revision
                ),
            )
        };
        out.push(finding);
    }
}

fn overlaps(users: &Users<'_>, out: &mut Vec<Finding>) {
    let mut pairs: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
    for (ns, pods) in users {
        for set in pods {
            let names: Vec<&str> = set.iter().copied().collect();
            for (i, a) in names.iter().enumerate() {
                for b in &names[i + 1..] {
                    pairs.entry((a, b)).or_default().insert(ns);
                }
            }
        }
    }
    for ((a, b), namespaces) in pairs {
        let namespaces: Vec<&str> = namespaces.into_iter().collect();
        out.push(Finding::new(
            Severity::Blocker,
            CheckId::WebhookOverlap,
            format!("MutatingWebhookConfiguration/{a}"),
            format!("{a} and {b} both match pods in {}: which revision injects them depends on webhook order, not on the namespace's labels", named(&namespaces)),
            format!("narrow the selectors so one injector matches, or delete the stale one (kubectl delete mutatingwebhookconfiguration {b})"),
        ));
    }
}

fn tags(scope: &Scope<'_>, out: &mut Vec<Finding>) {
    let inventory = scope.inventory;
    for injector in inventory.injectors.values() {
        let Some(tag) = &injector.tag else { continue };
        let has_injector = inventory
            .injectors
            .values()
            .any(|i| i.tag.is_none() && i.revision == injector.revision);
        let has_istiod = inventory
            .istiods
            .values()
            .any(|i| i.revision == injector.revision);
        if has_injector || has_istiod {
            continue;
        }
        out.push(Finding::new(
            Severity::Blocker,
            CheckId::TagMissingRevision,
            injector.object(),
            format!("tag {tag} points at revision {}, which has no injector and no istiod: namespaces on the tag get no sidecar, or pod creation fails", injector.revision),
            format!("point the tag at an installed revision: istioctl tag set {tag} --revision <revision> --overwrite"),
        ));
    }
}

fn describe(injector: &InjectorInfo) -> String {
    match &injector.tag {
        Some(tag) => format!("tag {tag} (revision {})", injector.revision),
        None => format!("revision {}'s injector", injector.revision),
    }
}

fn named(namespaces: &[&str]) -> String {
    let shown = namespaces
        .iter()
        .take(NAMED)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    match namespaces.len().saturating_sub(NAMED) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}
