//! The parts of a Pod the cockpit reads, decoded straight from the API server's JSON.
//!
//! Decoding 50,000 whole `Pod`s allocates every env var, probe and volume only to drop them
//! again; this type asks serde for the few fields `PodInfo` is made from and lets it skip the
//! rest. Labels and annotations keep only the keys the cockpit looks at. It implements
//! `kube::Resource` so the watch loop lists and watches it like any other kind.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};

/// Label keys `PodInfo` reads.
pub const LABELS: [&str; 4] = ["app", "istio", "istio.io/rev", ROLLOUT_HASH];
/// The label Argo Rollouts puts on its pods: its controller, not a rollout restart, moves them.
pub const ROLLOUT_HASH: &str = "rollouts-pod-template-hash";
/// Annotation keys `PodInfo` reads.
pub const ANNOTATIONS: [&str; 2] = ["sidecar.istio.io/status", "istio.io/rev"];

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PodFields {
    #[serde(default, deserialize_with = "meta")]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: Option<Spec>,
    #[serde(default)]
    pub status: Option<Status>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    #[serde(default)]
    pub containers: Vec<Container>,
    #[serde(default)]
    pub init_containers: Vec<Container>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    pub name: String,
    #[serde(default)]
    pub image: Option<String>,
    /// `Always` on an init container makes it a native sidecar.
    #[serde(default)]
    pub restart_policy: Option<String>,
    #[serde(default)]
    pub resources: Option<Resources>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Resources {
    #[serde(default)]
    pub requests: Option<Requests>,
}

/// Quantities as the API writes them (`250m`, `128Mi`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Requests {
    #[serde(default)]
    pub cpu: Option<String>,
    #[serde(default)]
    pub memory: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    #[serde(default)]
    pub phase: Option<String>,
    #[serde(default)]
    pub container_statuses: Vec<ContainerStatus>,
    #[serde(default)]
    pub init_container_statuses: Vec<ContainerStatus>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerStatus {
    pub name: String,
    #[serde(default)]
    pub ready: bool,
    #[serde(default)]
    pub restart_count: i32,
}

/// The metadata fields the cockpit and the watch loop read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    resource_version: Option<String>,
    #[serde(default)]
    creation_timestamp: Option<Time>,
    #[serde(default)]
    deletion_timestamp: Option<Time>,
    #[serde(default, deserialize_with = "labels")]
    labels: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "annotations")]
    annotations: Option<BTreeMap<String, String>>,
    #[serde(default)]
    owner_references: Option<Vec<Owner>>,
}

/// Of an owner reference, only its kind: who recreates the pod when it is deleted.
#[derive(Deserialize)]
struct Owner {
    #[serde(default)]
    kind: String,
}

fn meta<'de, D: Deserializer<'de>>(d: D) -> Result<ObjectMeta, D::Error> {
    let m = Meta::deserialize(d)?;
    Ok(ObjectMeta {
        name: m.name,
        namespace: m.namespace,
        resource_version: m.resource_version,
        creation_timestamp: m.creation_timestamp,
        deletion_timestamp: m.deletion_timestamp,
        labels: m.labels,
        annotations: m.annotations,
        owner_references: m.owner_references.map(|owners| {
            owners
                .into_iter()
                .map(|o| OwnerReference {
                    kind: o.kind,
                    ..OwnerReference::default()
                })
                .collect()
        }),
        ..ObjectMeta::default()
    })
}

fn labels<'de, D: Deserializer<'de>>(d: D) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    d.deserialize_option(Kept(&LABELS))
}

fn annotations<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    d.deserialize_option(Kept(&ANNOTATIONS))
}

/// Reads a string map (or null), keeping only the listed keys.
struct Kept(&'static [&'static str]);

impl<'de> Visitor<'de> for Kept {
    type Value = Option<BTreeMap<String, String>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of strings, or null")
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kept = BTreeMap::new();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            if self.0.contains(&key.as_ref()) {
                let value: String = map.next_value()?;
                kept.insert(key.into_owned(), value);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Some(kept))
    }
}

/// A map key, borrowed from the input when it can be, so skipped keys cost no allocation
/// (serde's own `Cow` always copies).
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }

            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }

            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

impl kube::Resource for PodFields {
    type DynamicType = ();
    type Scope = k8s_openapi::NamespaceResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        "Pod".into()
    }

    fn group(_: &()) -> Cow<'_, str> {
        "".into()
    }

    fn version(_: &()) -> Cow<'_, str> {
        "v1".into()
    }

    fn plural(_: &()) -> Cow<'_, str> {
        "pods".into()
    }

    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_the_keys_read_are_kept_and_the_rest_is_skipped() {
        let pod: PodFields = serde_json::from_value(json!({
            "metadata": {
                "name": "web-1", "namespace": "shop", "resourceVersion": "42",
                "labels": {"app": "web", "pod-template-hash": "abc", "istio.io/rev": "1-25-0"},
                "annotations": {"sidecar.istio.io/status": "{}", "kubectl.kubernetes.io/last-applied-configuration": "{\"big\":1}"},
                "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:metadata": {}}}],
                "ownerReferences": [{"kind": "ReplicaSet", "name": "web-abc", "uid": "u", "apiVersion": "apps/v1"}]
            },
            "spec": {
                "containers": [{"name": "web", "image": "shop/web:1", "env": [{"name": "A", "value": "b"}],
                                "resources": {"requests": {"cpu": "250m", "memory": "256Mi", "ephemeral-storage": "1Gi"}}}],
                "volumes": [{"name": "v", "emptyDir": {}}]
            },
            "status": {"phase": "Running", "podIP": "10.0.0.1",
                       "containerStatuses": [{"name": "web", "ready": true, "restartCount": 3, "image": "", "imageID": ""}]}
        }))
        .unwrap();
        let labels = pod.metadata.labels.as_ref().unwrap();
        assert_eq!(
            labels.keys().collect::<Vec<_>>(),
            ["app", "istio.io/rev"],
            "unread labels are dropped"
        );
        let annotations = pod.metadata.annotations.as_ref().unwrap();
        assert_eq!(
            annotations.keys().collect::<Vec<_>>(),
            ["sidecar.istio.io/status"]
        );
        assert_eq!(pod.metadata.resource_version.as_deref(), Some("42"));
        let spec = pod.spec.unwrap();
        let requests = spec.containers[0].resources.as_ref().unwrap();
        assert_eq!(
            requests.requests.as_ref().unwrap().cpu.as_deref(),
            Some("250m")
        );
        let status = pod.status.unwrap();
        assert_eq!(status.container_statuses[0].restart_count, 3);
        let owners = pod.metadata.owner_references.unwrap();
        assert_eq!(
            (
                owners.len(),
                owners[0].kind.as_str(),
                owners[0].name.as_str()
            ),
            (1, "ReplicaSet", ""),
            "only the owner's kind is kept"
        );
    }

    #[test]
    fn nulls_and_absences_decode_to_nothing() {
        let pod: PodFields = serde_json::from_value(json!({
            "metadata": {"name": "a", "labels": null},
            "spec": {"containers": []},
            "status": null
        }))
        .unwrap();
        assert_eq!(pod.metadata.labels, None);
        assert_eq!(pod.metadata.annotations, None);
        assert!(pod.status.is_none());
        let empty: PodFields = serde_json::from_value(json!({})).unwrap();
        assert_eq!(empty.metadata.name, None);
    }

    #[test]
    fn it_is_listed_and_watched_as_core_v1_pods() {
        use kube::Resource;
        assert_eq!(PodFields::url_path(&(), None), "/api/v1/pods");
        assert_eq!(
            PodFields::url_path(&(), Some("shop")),
            "/api/v1/namespaces/shop/pods"
        );
    }
}
