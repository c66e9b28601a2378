//! Namespaces, injector webhook configurations and DaemonSets decoded into what the cockpit
//! keeps of them.

use k8s_openapi::api::admissionregistration::v1::MutatingWebhookConfiguration;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Namespace;

use crate::mesh::resources::{DaemonSetInfo, NamespaceInfo, PREVIOUS_REVISION, WebhookInfo};
use crate::mesh::version::Version;

use super::jiff_to_chrono;

impl NamespaceInfo {
    pub fn from_namespace(ns: &Namespace) -> NamespaceInfo {
        NamespaceInfo {
            name: ns.metadata.name.clone().unwrap_or_default(),
            labels: ns.metadata.labels.clone().unwrap_or_default(),
            annotations: ns.metadata.annotations.clone().unwrap_or_default(),
            created: ns
                .metadata
                .creation_timestamp
                .as_ref()
                .and_then(|t| jiff_to_chrono(&t.0)),
        }
    }
}

impl WebhookInfo {
    pub fn from_config(config: &MutatingWebhookConfiguration) -> Option<WebhookInfo> {
        let labels = config.metadata.labels.as_ref()?;
        Some(WebhookInfo {
            name: config.metadata.name.clone().unwrap_or_default(),
            revision: labels.get("istio.io/rev")?.clone(),
            tag: labels.get("istio.io/tag").cloned(),
            previous_revision: config
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(PREVIOUS_REVISION))
                .filter(|r| !r.is_empty())
                .cloned(),
        })
    }
}

impl DaemonSetInfo {
    pub fn from_daemonset(ds: &DaemonSet) -> DaemonSetInfo {
        let template = ds.spec.as_ref().and_then(|s| s.template.metadata.as_ref());
        let revision = template
            .and_then(|m| m.annotations.as_ref())
            .and_then(|a| a.get("istio.io/rev"))
            .or_else(|| {
                ds.metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get("istio.io/rev"))
            })
            .cloned();
        let version = ds
            .spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .and_then(|s| s.containers.first())
            .and_then(|c| c.image.as_deref())
            .and_then(Version::from_image);
        let status = ds.status.as_ref();
        DaemonSetInfo {
            namespace: ds.metadata.namespace.clone().unwrap_or_default(),
            name: ds.metadata.name.clone().unwrap_or_default(),
            version,
            revision,
            ready: status.map_or(0, |s| s.number_ready),
            desired: status.map_or(0, |s| s.desired_number_scheduled),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(value: serde_json::Value) -> MutatingWebhookConfiguration {
        serde_json::from_value(value).expect("a webhook configuration")
    }

    #[test]
    fn a_moved_tag_keeps_the_revision_it_left() {
        let moved = config(serde_json::json!({
            "metadata": {
                "name": "istio-revision-tag-stable",
                "labels": {"istio.io/rev": "1-25-0", "istio.io/tag": "stable"},
                "annotations": {"istio-cockpit.io/previous-revision": "1-24-0"}
            }
        }));
        let info = WebhookInfo::from_config(&moved).unwrap();
        assert_eq!(info.tag.as_deref(), Some("stable"));
        assert_eq!(info.revision, "1-25-0");
        assert_eq!(info.previous_revision.as_deref(), Some("1-24-0"));

        let untouched = config(serde_json::json!({
            "metadata": {
                "name": "istio-sidecar-injector-1-24-0",
                "labels": {"istio.io/rev": "1-24-0"},
                "annotations": {"istio-cockpit.io/previous-revision": ""}
            }
        }));
        let info = WebhookInfo::from_config(&untouched).unwrap();
        assert_eq!((info.tag, info.previous_revision), (None, None));
    }
}
