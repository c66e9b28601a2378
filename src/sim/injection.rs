//! Sidecar injection as Istio's webhooks do it: a new pod is matched against the
//! `namespaceSelector`/`objectSelector` of every injection webhook that exists at that moment
//! (revision and tag MutatingWebhookConfigurations), and the first match decides which
//! revision's proxy it gets.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::store::View;

pub const PROXY_IMAGE: &str = "istio/proxyv2";
pub const PILOT_IMAGE: &str = "istio/pilot";

fn labels_of(v: &Value) -> BTreeMap<String, String> {
    v["metadata"]["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Kubernetes `LabelSelector` (matchLabels + matchExpressions) matching.
pub fn selector_matches(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    if selector.is_null() {
        return true;
    }
    let labels_ok = selector["matchLabels"].as_object().is_none_or(|m| {
        m.iter()
            .all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str())
    });
    let exprs_ok = selector["matchExpressions"].as_array().is_none_or(|exprs| {
        exprs.iter().all(|e| {
            let key = e["key"].as_str().unwrap_or_default();
            let values: Vec<&str> = e["values"]
                .as_array()
                .map(|v| v.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let have = labels.get(key);
            match e["operator"].as_str().unwrap_or_default() {
                "In" => have.is_some_and(|h| values.contains(&h.as_str())),
                "NotIn" => have.is_none_or(|h| !values.contains(&h.as_str())),
                "Exists" => have.is_some(),
                "DoesNotExist" => have.is_none(),
                _ => false,
            }
        })
    });
    labels_ok && exprs_ok
}

/// The revision whose injector would handle a pod with `pod_labels` in a namespace with
/// `ns_labels`, given the existing webhook configurations.
pub fn resolve_revision(
    ns_labels: &BTreeMap<String, String>,
    pod_labels: &BTreeMap<String, String>,
    webhook_configs: &[Value],
) -> Option<String> {
    let mut configs: Vec<&Value> = webhook_configs
        .iter()
        .filter(|c| labels_of(c).contains_key("istio.io/rev"))
        .collect();
    configs.sort_by_key(|c| {
        c["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    });
    for config in configs {
        for hook in config["webhooks"].as_array().into_iter().flatten() {
            if !selector_matches(&hook["namespaceSelector"], ns_labels)
                || !selector_matches(&hook["objectSelector"], pod_labels)
            {
                continue;
            }
            if let Some(rev) = hook_revision(&hook["clientConfig"]) {
                return Some(rev);
            }
        }
    }
    None
}

/// The revision a webhook's `clientConfig` reaches: the Service `istiod-<rev>`, or, on a
/// remote cluster, the `rev` key of the injection URL's path (`.../inject/.../rev/<rev>`).
fn hook_revision(client: &Value) -> Option<String> {
    if let Some(service) = client["service"]["name"].as_str() {
        return service.strip_prefix("istiod-").map(str::to_string);
    }
    let url = client["url"].as_str()?;
    let (_, path) = url.split_once("/inject/")?;
    let parts: Vec<&str> = path.split('/').collect();
    parts.chunks(2).find_map(|pair| match pair {
        ["rev", rev] if !rev.is_empty() => Some((*rev).to_string()),
        _ => None,
    })
}

/// Makes every webhook of a configuration call `<base>/rev/<its revision>` instead of the
/// `istiod-<rev>` Service: how a remote cluster reaches the primary's injector.
pub fn point_at_url(config: &mut Value, base: &str) {
    for hook in config["webhooks"].as_array_mut().into_iter().flatten() {
        if let Some(rev) = hook_revision(&hook["clientConfig"]) {
            hook["clientConfig"] = json!({"url": format!("{base}/rev/{rev}")});
        }
    }
}

/// The version an istiod revision runs, from its Deployment's image tag; on a remote cluster,
/// which runs no istiod, from the injector ConfigMap `istio-sidecar-injector-<rev>`'s values.
pub fn revision_version(view: &View<'_>, revision: &str) -> Option<String> {
    if let Some(deploy) = view.get("deployments", "istio-system", &format!("istiod-{revision}")) {
        let image = deploy["spec"]["template"]["spec"]["containers"][0]["image"].as_str()?;
        return image_tag(image);
    }
    let injector = view.get(
        "configmaps",
        "istio-system",
        &format!("istio-sidecar-injector-{revision}"),
    )?;
    let values: Value = serde_json::from_str(injector["data"]["values"].as_str()?).ok()?;
    values["global"]["tag"]
        .as_str()
        .and_then(image_tag_or_version)
}

/// A bare version (`1.25.0`) or an image with one.
fn image_tag_or_version(text: &str) -> Option<String> {
    image_tag(text).or_else(|| {
        let version = text.split('-').next()?;
        (!version.is_empty()).then(|| version.to_string())
    })
}

/// `istio/proxyv2:1.25.0-distroless` -> `1.25.0`.
pub fn image_tag(image: &str) -> Option<String> {
    let (_, tag) = image.rsplit_once(':')?;
    let version = tag.split('-').next()?;
    (!version.is_empty() && !version.contains('/')).then(|| version.to_string())
}

/// Admission for pods: inject the sidecar of whatever revision the webhooks resolve to.
pub fn admit_pod(view: &View<'_>, pod: &mut Value) {
    let ns = pod["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let Some(namespace) = view.get("namespaces", "", &ns) else {
        return;
    };
    let already = pod["metadata"]["annotations"]["sidecar.istio.io/status"].is_string();
    if already {
        return;
    }
    let webhooks = view.list("mutatingwebhookconfigurations");
    let Some(revision) = resolve_revision(&labels_of(&namespace), &labels_of(pod), &webhooks)
    else {
        return;
    };
    let Some(version) = revision_version(view, &revision) else {
        return;
    };
    inject(pod, &revision, &version);
}

/// Adds what Istio's injector adds: the `istio-init` and `istio-proxy` containers, the status
/// and revision annotations and the canonical-service labels. Pods get no `istio.io/rev` label.
pub fn inject(pod: &mut Value, revision: &str, version: &str) {
    let annotations = &pod["metadata"]["annotations"];
    let image = annotations["sidecar.istio.io/proxyImage"]
        .as_str()
        .map_or_else(|| format!("{PROXY_IMAGE}:{version}"), str::to_string);
    let app_name = pod["spec"]["containers"][0]["name"]
        .as_str()
        .unwrap_or("app")
        .to_string();
    let workload = pod["metadata"]["labels"]["app"]
        .as_str()
        .unwrap_or(&app_name)
        .to_string();
    let status = json!({
        "initContainers": ["istio-init"],
        "containers": ["istio-proxy"],
        "volumes": ["workload-socket", "credential-socket", "workload-certs", "istio-envoy", "istio-data", "istio-podinfo", "istio-token", "istiod-ca-cert"],
        "imagePullSecrets": null,
        "revision": revision,
    });
    // Validation let only pods with an object `metadata` and `spec` this far.
    let Some(meta) = pod["metadata"].as_object_mut() else {
        return;
    };
    let ann = meta.entry("annotations").or_insert_with(|| json!({}));
    ann["sidecar.istio.io/status"] = json!(status.to_string());
    ann["istio.io/rev"] = json!(revision);
    ann["kubectl.kubernetes.io/default-container"] = json!(app_name);
    ann["kubectl.kubernetes.io/default-logs-container"] = json!(app_name);
    ann["prometheus.io/scrape"] = json!("true");
    ann["prometheus.io/port"] = json!("15020");
    ann["prometheus.io/path"] = json!("/stats/prometheus");
    let labels = meta.entry("labels").or_insert_with(|| json!({}));
    labels["security.istio.io/tlsMode"] = json!("istio");
    labels["service.istio.io/canonical-name"] = json!(workload);
    labels["service.istio.io/canonical-revision"] = json!("latest");

    let Some(spec) = pod["spec"].as_object_mut() else {
        return;
    };
    let init = spec.entry("initContainers").or_insert_with(|| json!([]));
    if let Some(list) = init.as_array_mut() {
        list.push(json!({
            "name": "istio-init",
            "image": image,
            "args": ["istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "", "-b", "*", "-d", "15090,15021,15020", "--log_output_level=default:info"],
            "resources": {"requests": {"cpu": "10m", "memory": "40Mi"}},
        }));
    }
    let containers = spec.entry("containers").or_insert_with(|| json!([]));
    if let Some(list) = containers.as_array_mut() {
        list.push(json!({
            "name": "istio-proxy",
            "image": image,
            "args": ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local", "--proxyLogLevel=warning", "--proxyComponentLogLevel=misc:error", "--log_output_level=default:info"],
            "env": [
                {"name": "PILOT_CERT_PROVIDER", "value": "istiod"},
                {"name": "CA_ADDR", "value": format!("istiod-{revision}.istio-system.svc:15012")},
                {"name": "ISTIO_META_WORKLOAD_NAME", "value": workload},
            ],
            "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
            "readinessProbe": {"httpGet": {"path": "/healthz/ready", "port": 15021}, "periodSeconds": 15},
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "2", "memory": "1Gi"}},
        }));
    }
}

/// Revision MutatingWebhookConfiguration `istio-sidecar-injector-<rev>`: serves pods in
/// namespaces labelled `istio.io/rev=<rev>`.
pub fn revision_webhook_config(revision: &str) -> Value {
    json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {
            "name": format!("istio-sidecar-injector-{revision}"),
            "labels": {"app": "sidecar-injector", "istio.io/rev": revision},
        },
        "webhooks": [hook("rev.namespace.sidecar-injector.istio.io", revision, rev_selector(revision))],
    })
}

/// Tag MutatingWebhookConfiguration `istio-revision-tag-<tag>` pointing at `revision`. The
/// `default` tag also serves `istio-injection=enabled`.
pub fn tag_webhook_config(tag: &str, revision: &str) -> Value {
    let mut hooks = vec![hook(
        "rev.namespace.sidecar-injector.istio.io",
        revision,
        rev_selector(tag),
    )];
    if tag == "default" {
        hooks.push(hook(
            "namespace.sidecar-injector.istio.io",
            revision,
            json!({"matchExpressions": [{"key": "istio-injection", "operator": "In", "values": ["enabled"]}]}),
        ));
    }
    json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {
            "name": format!("istio-revision-tag-{tag}"),
            "labels": {"app": "sidecar-injector", "istio.io/rev": revision, "istio.io/tag": tag},
        },
        "webhooks": hooks,
    })
}

fn rev_selector(value: &str) -> Value {
    json!({"matchExpressions": [
        {"key": "istio.io/rev", "operator": "In", "values": [value]},
        {"key": "istio-injection", "operator": "DoesNotExist"},
    ]})
}

fn hook(name: &str, revision: &str, namespace_selector: Value) -> Value {
    json!({
        "name": name,
        "admissionReviewVersions": ["v1"],
        "clientConfig": {"service": {"name": format!("istiod-{revision}"), "namespace": "istio-system", "path": "/inject", "port": 443}},
        "failurePolicy": "Fail",
        "sideEffects": "None",
        "reinvocationPolicy": "Never",
        "namespaceSelector": namespace_selector,
        "objectSelector": {"matchExpressions": [{"key": "sidecar.istio.io/inject", "operator": "NotIn", "values": ["false"]}]},
        "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn mesh() -> Vec<Value> {
        vec![
            revision_webhook_config("1-24-0"),
            revision_webhook_config("1-25-0"),
            tag_webhook_config("default", "1-24-0"),
            tag_webhook_config("stable", "1-24-0"),
        ]
    }

    #[test]
    fn labels_resolve_through_tags_and_revisions() {
        let none = labels(&[]);
        let hooks = mesh();
        let resolve = |ns: &[(&str, &str)]| resolve_revision(&labels(ns), &none, &hooks);
        assert_eq!(
            resolve(&[("istio-injection", "enabled")]).as_deref(),
            Some("1-24-0")
        );
        assert_eq!(
            resolve(&[("istio.io/rev", "stable")]).as_deref(),
            Some("1-24-0")
        );
        assert_eq!(
            resolve(&[("istio.io/rev", "1-25-0")]).as_deref(),
            Some("1-25-0")
        );
        assert_eq!(resolve(&[("istio.io/rev", "canary")]), None);
        assert_eq!(resolve(&[]), None);
        // istio-injection wins over istio.io/rev.
        assert_eq!(
            resolve(&[("istio-injection", "enabled"), ("istio.io/rev", "1-25-0")]).as_deref(),
            Some("1-24-0")
        );
    }

    #[test]
    fn moving_a_tag_changes_the_resolution_and_opt_out_pods_are_skipped() {
        let hooks = vec![
            revision_webhook_config("1-25-0"),
            tag_webhook_config("stable", "1-25-0"),
        ];
        let ns = labels(&[("istio.io/rev", "stable")]);
        assert_eq!(
            resolve_revision(&ns, &labels(&[]), &hooks).as_deref(),
            Some("1-25-0")
        );
        let opt_out = labels(&[("sidecar.istio.io/inject", "false")]);
        assert_eq!(resolve_revision(&ns, &opt_out, &hooks), None);
    }

    #[test]
    fn injected_pod_carries_annotations_and_image_but_no_rev_label() {
        let mut pod = json!({"metadata": {"name": "p", "labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "web:1"}]}});
        inject(&mut pod, "1-25-0", "1.25.0");
        let status: Value = serde_json::from_str(
            pod["metadata"]["annotations"]["sidecar.istio.io/status"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(status["revision"], "1-25-0");
        assert_eq!(pod["metadata"]["annotations"]["istio.io/rev"], "1-25-0");
        assert!(pod["metadata"]["labels"].get("istio.io/rev").is_none());
        assert_eq!(
            pod["spec"]["containers"][1]["image"],
            "istio/proxyv2:1.25.0"
        );
        assert_eq!(pod["spec"]["initContainers"][0]["name"], "istio-init");
    }

    #[test]
    fn remote_hooks_reach_the_revision_named_in_their_url() {
        let mut hooks = mesh();
        for hook in &mut hooks {
            point_at_url(
                hook,
                "https://203.0.113.10:15017/inject/cluster/remote-1/net/n1",
            );
        }
        assert_eq!(
            hooks[0]["webhooks"][0]["clientConfig"]["url"],
            "https://203.0.113.10:15017/inject/cluster/remote-1/net/n1/rev/1-24-0"
        );
        assert!(hooks[2]["webhooks"][1]["clientConfig"]["service"].is_null());
        let none = labels(&[]);
        let resolve = |ns: &[(&str, &str)]| resolve_revision(&labels(ns), &none, &hooks);
        assert_eq!(
            resolve(&[("istio-injection", "enabled")]).as_deref(),
            Some("1-24-0")
        );
        assert_eq!(
            resolve(&[("istio.io/rev", "1-25-0")]).as_deref(),
            Some("1-25-0")
        );
    }

    #[test]
    fn image_tags_give_versions() {
        assert_eq!(
            image_tag("istio/proxyv2:1.25.0-distroless").as_deref(),
            Some("1.25.0")
        );
        assert_eq!(
            image_tag("registry:5000/istio/pilot:1.24.2").as_deref(),
            Some("1.24.2")
        );
        assert_eq!(image_tag("istio/pilot"), None);
    }
}
