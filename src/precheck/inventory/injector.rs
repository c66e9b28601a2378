//! Istio's injector MutatingWebhookConfigurations, kept with what decides where they apply
//! and whom they call: each webhook's Service and its namespace and object selectors.

use std::collections::BTreeMap;

use k8s_openapi::api::admissionregistration::v1::MutatingWebhookConfiguration;

use super::Keyed;
use super::selector;
use crate::k8s::selector::LabelSelector;

/// The Service a webhook calls.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServiceRef {
    pub namespace: String,
    pub name: String,
}

/// One webhook of a configuration. A selector that cannot be read is None and matches
/// nothing; an absent one matches everything.
#[derive(Debug, Clone, PartialEq)]
pub struct InjectorHook {
    pub name: String,
    /// None for a webhook called by URL (a remote cluster's, served from elsewhere).
    pub service: Option<ServiceRef>,
    pub namespace_selector: Option<LabelSelector>,
    pub object_selector: Option<LabelSelector>,
}

impl InjectorHook {
    /// Whether a pod with `pod_labels` in a namespace with `namespace_labels` goes through
    /// this webhook.
    pub fn matches(
        &self,
        namespace_labels: &BTreeMap<String, String>,
        pod_labels: &BTreeMap<String, String>,
    ) -> bool {
        self.namespace_selector
            .as_ref()
            .is_some_and(|s| s.matches(namespace_labels))
            && self
                .object_selector
                .as_ref()
                .is_some_and(|s| s.matches(pod_labels))
    }
}

/// An injector: a revision's own configuration (`istio.io/rev`, no tag) or a tag's.
#[derive(Debug, Clone, PartialEq)]
pub struct InjectorInfo {
    pub name: String,
    pub revision: String,
    pub tag: Option<String>,
    pub hooks: Vec<InjectorHook>,
}

impl Keyed for InjectorInfo {
    type Key = String;
    fn key(&self) -> String {
        self.name.clone()
    }
}

impl InjectorInfo {
    /// None for a configuration that is not Istio's injector (no `istio.io/rev` label).
    pub fn from_config(config: &MutatingWebhookConfiguration) -> Option<InjectorInfo> {
        let labels = config.metadata.labels.as_ref()?;
        let read = |s: Option<&_>| match s {
            None => Some(LabelSelector::default()),
            Some(s) => selector::from_api(s),
        };
        Some(InjectorInfo {
            name: config.metadata.name.clone()?,
            revision: labels.get("istio.io/rev")?.clone(),
            tag: labels.get("istio.io/tag").cloned(),
            hooks: config
                .webhooks
                .iter()
                .flatten()
                .map(|hook| InjectorHook {
                    name: hook.name.clone(),
                    service: hook.client_config.service.as_ref().map(|s| ServiceRef {
                        namespace: s.namespace.clone(),
                        name: s.name.clone(),
                    }),
                    namespace_selector: read(hook.namespace_selector.as_ref()),
                    object_selector: read(hook.object_selector.as_ref()),
                })
                .collect(),
        })
    }

    pub fn object(&self) -> String {
        format!("MutatingWebhookConfiguration/{}", self.name)
    }

    /// Whether any of its webhooks injects such a pod in such a namespace.
    pub fn injects(
        &self,
        namespace_labels: &BTreeMap<String, String>,
        pod_labels: &BTreeMap<String, String>,
    ) -> bool {
        self.hooks
            .iter()
            .any(|h| h.matches(namespace_labels, pod_labels))
    }
}
