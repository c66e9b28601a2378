//! What a fleet needs of a cluster's objects: its remote secrets (by name and the cluster
//! they name; their data is never read) and the fingerprint of the mesh's root CA.

use std::borrow::Cow;

use base64::Engine;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::mesh::resources::{RemoteSecretInfo, RootCaInfo};

/// The label that makes a Secret a remote secret, as a selector.
pub const REMOTE_SECRET_LABEL: &str = "istio/multiCluster=true";
/// The annotation that names the cluster a remote secret gives access to.
pub const CLUSTER_ANNOTATION: &str = "networking.istio.io/cluster";
const REMOTE_SECRET_PREFIX: &str = "istio-remote-secret-";
/// The ConfigMap every namespace carries with the mesh's root certificate.
pub const ROOT_CA_CONFIGMAP: &str = "istio-ca-root-cert";
const ROOT_CA_KEY: &str = "root-cert.pem";
/// Bytes of the certificate's SHA-256 shown: enough to tell two roots apart at a glance.
const FINGERPRINT_BYTES: usize = 8;

/// A Secret as the cockpit reads it: its metadata alone. The `data` of the API's answer is
/// skipped by the decoder, never held.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SecretMetadata {
    #[serde(default)]
    pub metadata: ObjectMeta,
}

impl kube::Resource for SecretMetadata {
    type DynamicType = ();
    type Scope = k8s_openapi::NamespaceResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        "Secret".into()
    }

    fn group(_: &()) -> Cow<'_, str> {
        "".into()
    }

    fn version(_: &()) -> Cow<'_, str> {
        "v1".into()
    }

    fn plural(_: &()) -> Cow<'_, str> {
        "secrets".into()
    }

    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

impl RemoteSecretInfo {
    /// The cluster comes from the `networking.istio.io/cluster` annotation, else from the
    /// name without its `istio-remote-secret-` prefix.
    pub fn from_secret(secret: &SecretMetadata) -> Option<RemoteSecretInfo> {
        let name = secret.metadata.name.clone()?;
        let annotated = secret
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(CLUSTER_ANNOTATION))
            .filter(|c| !c.is_empty())
            .cloned();
        let cluster = annotated
            .or_else(|| name.strip_prefix(REMOTE_SECRET_PREFIX).map(str::to_string))
            .unwrap_or_else(|| name.clone());
        Some(RemoteSecretInfo { name, cluster })
    }
}

impl RootCaInfo {
    /// The `istio-ca-root-cert` ConfigMap; None for any other.
    pub fn from_configmap(cm: &ConfigMap) -> Option<RootCaInfo> {
        if cm.metadata.name.as_deref()? != ROOT_CA_CONFIGMAP {
            return None;
        }
        Some(RootCaInfo {
            namespace: cm.metadata.namespace.clone().unwrap_or_default(),
            fingerprint: cm
                .data
                .as_ref()
                .and_then(|d| d.get(ROOT_CA_KEY))
                .and_then(|pem| fingerprint(pem)),
        })
    }
}

/// The first bytes of the SHA-256 of the first certificate's DER in `pem`, in hex with
/// colons (`3f:a1:...`). None when there is no readable certificate.
pub fn fingerprint(pem: &str) -> Option<String> {
    let body = pem
        .split("-----BEGIN CERTIFICATE-----")
        .nth(1)?
        .split("-----END CERTIFICATE-----")
        .next()?;
    let base64: String = body.split_whitespace().collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(base64)
        .ok()?;
    if der.is_empty() {
        return None;
    }
    let digest = Sha256::digest(&der);
    let hex: Vec<String> = digest[..FINGERPRINT_BYTES]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Some(hex.join(":"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(value: serde_json::Value) -> SecretMetadata {
        serde_json::from_value(value).expect("a secret")
    }

    #[test]
    fn a_remote_secret_names_its_cluster_and_keeps_no_data() {
        let annotated = secret(serde_json::json!({
            "metadata": {
                "name": "istio-remote-secret-east",
                "annotations": {"networking.istio.io/cluster": "remote-1"}
            },
            "data": {"remote-1": "c2VjcmV0IGt1YmVjb25maWc="}
        }));
        let info = RemoteSecretInfo::from_secret(&annotated).unwrap();
        assert_eq!(
            (info.name.as_str(), info.cluster.as_str()),
            ("istio-remote-secret-east", "remote-1")
        );
        let by_name = secret(serde_json::json!({
            "metadata": {"name": "istio-remote-secret-remote-2"},
            "data": {"x": "eA=="}
        }));
        assert_eq!(
            RemoteSecretInfo::from_secret(&by_name).unwrap().cluster,
            "remote-2"
        );
        // Nothing of the data survives decoding: the type has no place for it.
        assert!(!format!("{annotated:?}").contains("c2VjcmV0"));
    }

    #[test]
    fn the_root_ca_is_known_by_a_short_fingerprint_of_its_der() {
        let cert = rcgen::generate_simple_self_signed(vec!["root".into()]).unwrap();
        let pem = cert.cert.pem();
        let print = fingerprint(&pem).unwrap();
        assert_eq!(print.len(), FINGERPRINT_BYTES * 3 - 1);
        let expected = Sha256::digest(cert.cert.der());
        assert!(print.starts_with(&format!("{:02x}:{:02x}", expected[0], expected[1])));
        let other = rcgen::generate_simple_self_signed(vec!["root".into()]).unwrap();
        assert_ne!(fingerprint(&other.cert.pem()), Some(print.clone()));

        let cm: ConfigMap = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "istio-ca-root-cert", "namespace": "istio-system"},
            "data": {"root-cert.pem": pem}
        }))
        .unwrap();
        let ca = RootCaInfo::from_configmap(&cm).unwrap();
        assert_eq!(
            (ca.namespace.as_str(), ca.fingerprint.as_deref()),
            ("istio-system", Some(print.as_str()))
        );
        let garbled: ConfigMap = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "istio-ca-root-cert", "namespace": "istio-system"},
            "data": {"root-cert.pem": "not a certificate"}
        }))
        .unwrap();
        assert_eq!(
            RootCaInfo::from_configmap(&garbled).unwrap().fingerprint,
            None
        );
        let other_cm: ConfigMap = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "faults", "namespace": "istio-system"}
        }))
        .unwrap();
        assert!(RootCaInfo::from_configmap(&other_cm).is_none());
    }
}
