//! The four Kubernetes PATCH flavours, applied to plain JSON objects.

use serde_json::{Map, Value};

type Object = Map<String, Value>;
type Outcome<T> = Result<T, PatchError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    Json,
    Merge,
    StrategicMerge,
    Apply,
}

impl PatchKind {
    /// From the request Content-Type, ignoring parameters such as `; charset=utf-8`.
    pub fn from_content_type(ct: &str) -> Option<PatchKind> {
        let media = ct.split(';').next().unwrap_or_default().trim();
        match media.to_ascii_lowercase().as_str() {
            "application/json-patch+json" => Some(PatchKind::Json),
            "application/merge-patch+json" => Some(PatchKind::Merge),
            "application/strategic-merge-patch+json" => Some(PatchKind::StrategicMerge),
            "application/apply-patch+yaml" | "application/apply-patch+json" => {
                Some(PatchKind::Apply)
            }
            _ => None,
        }
    }
}

#[derive(Debug, PartialEq)]
pub enum PatchError {
    /// The body could not be understood at all (HTTP 400).
    BadBody(String),
    /// The body is well formed but cannot be applied to this object (HTTP 422).
    Invalid(String),
}

/// Applies `body` to `current` and returns the new object. `current` is never modified.
pub fn apply(current: &Value, kind: PatchKind, body: &[u8]) -> Result<Value, PatchError> {
    let patch: Value = serde_json::from_slice(body).map_err(|e| {
        let hint = if kind == PatchKind::Apply {
            " (only JSON apply bodies are accepted)"
        } else {
            ""
        };
        PatchError::BadBody(format!("the patch body is not valid JSON{hint}: {e}"))
    })?;
    match kind {
        PatchKind::Json => json_patch(current, patch),
        PatchKind::Merge => {
            require_object(&patch)?;
            let mut result = current.clone();
            json_patch::merge(&mut result, &patch);
            Ok(result)
        }
        PatchKind::StrategicMerge => strategic(current, require_object(&patch)?, false),
        PatchKind::Apply => {
            require_object(&patch)?;
            for field in ["apiVersion", "kind"] {
                if let (Some(have), Some(want)) = (current.get(field), patch.get(field))
                    && have != want
                {
                    return Err(PatchError::Invalid(format!(
                        "the applied {field} {want} does not match the object's {field} {have}"
                    )));
                }
            }
            strategic(current, &patch, true)
        }
    }
}

fn require_object(patch: &Value) -> Outcome<&Value> {
    match patch {
        Value::Object(_) => Ok(patch),
        _ => Err(PatchError::BadBody(
            "the patch body must be a JSON object".to_string(),
        )),
    }
}

fn json_patch(current: &Value, patch: Value) -> Outcome<Value> {
    if !patch.is_array() {
        return Err(PatchError::BadBody(
            "a JSON patch body must be an array of operations".to_string(),
        ));
    }
    let ops: json_patch::Patch = serde_json::from_value(patch)
        .map_err(|e| PatchError::BadBody(format!("invalid JSON patch operation: {e}")))?;
    let mut result = current.clone();
    json_patch::patch(&mut result, &ops)
        .map_err(|e| PatchError::Invalid(format!("the JSON patch could not be applied: {e}")))?;
    Ok(result)
}

fn strategic(current: &Value, patch: &Value, ignore_nulls: bool) -> Outcome<Value> {
    let base = match current {
        Value::Object(_) => current.clone(),
        _ => Value::Object(Object::new()),
    };
    Merger { ignore_nulls }
        .merge_value("", Some(base), patch)?
        .ok_or_else(|| PatchError::Invalid("a patch cannot delete the whole object".to_string()))
}

/// The merge key of a list, chosen by the list's field name as in the core
/// Kubernetes types. Lists not named here are replaced wholesale.
fn merge_key(field: &str) -> Option<&'static str> {
    match field {
        "containers" | "initContainers" | "ephemeralContainers" => Some("name"),
        "volumes" | "env" | "imagePullSecrets" | "webhooks" => Some("name"),
        "volumeMounts" => Some("mountPath"),
        "ports" => Some("containerPort"),
        "ownerReferences" => Some("uid"),
        "conditions" => Some("type"),
        _ => None,
    }
}

/// What a `$patch` directive in a map asks for.
#[derive(PartialEq)]
enum Directive {
    Merge,
    Replace,
    Delete,
}

fn directive(patch: &Object) -> Outcome<Directive> {
    match patch.get("$patch") {
        None => Ok(Directive::Merge),
        Some(Value::String(s)) if s == "merge" => Ok(Directive::Merge),
        Some(Value::String(s)) if s == "replace" => Ok(Directive::Replace),
        Some(Value::String(s)) if s == "delete" => Ok(Directive::Delete),
        Some(other) => Err(PatchError::Invalid(format!(
            "unknown $patch directive {other}; expected \"merge\", \"replace\" or \"delete\""
        ))),
    }
}

/// `{"$patch": "replace"}` as a list element: replace the list instead of merging it.
fn is_replace_marker(item: &Value) -> bool {
    item.as_object()
        .is_some_and(|m| m.len() == 1 && m.get("$patch") == Some(&Value::from("replace")))
}

struct Merger {
    /// Server-side apply ignores nulls instead of treating them as deletions.
    ignore_nulls: bool,
}

impl Merger {
    /// Merges `patch` onto `original` (absent when the field is new). `None`
    /// means the field must be removed.
    fn merge_value(
        &self,
        field: &str,
        original: Option<Value>,
        patch: &Value,
    ) -> Outcome<Option<Value>> {
        let merged = match patch {
            Value::Object(patch) => {
                let base = match (directive(patch)?, original) {
                    (Directive::Delete, _) => return Ok(None),
                    (Directive::Merge, Some(Value::Object(base))) => base,
                    _ => Object::new(),
                };
                Value::Object(self.merge_map(base, patch)?)
            }
            Value::Array(items) => {
                let original = match original {
                    Some(Value::Array(original)) => original,
                    _ => Vec::new(),
                };
                Value::Array(self.merge_list(field, original, items)?)
            }
            scalar => scalar.clone(),
        };
        Ok(Some(merged))
    }

    fn merge_map(&self, mut original: Object, patch: &Object) -> Outcome<Object> {
        for (key, value) in patch {
            if let Some(field) = key.strip_prefix("$deleteFromPrimitiveList/")
                && let (Some(Value::Array(list)), Value::Array(doomed)) =
                    (original.get_mut(field), value)
            {
                list.retain(|item| !doomed.contains(item));
            }
        }
        // Other `$` keys ($patch, $setElementOrder/..., $retainKeys) are directives, not data.
        for (key, value) in patch.iter().filter(|(key, _)| !key.starts_with('$')) {
            let existing = original.remove(key);
            let merged = match value {
                Value::Null if self.ignore_nulls => existing,
                Value::Null => None,
                _ => self.merge_value(key, existing, value)?,
            };
            if let Some(merged) = merged {
                original.insert(key.clone(), merged);
            }
        }
        if let Some(Value::Array(retain)) = patch.get("$retainKeys") {
            original.retain(|key, _| retain.iter().any(|r| r.as_str() == Some(key)));
        }
        Ok(original)
    }

    fn merge_list(
        &self,
        field: &str,
        original: Vec<Value>,
        patch: &[Value],
    ) -> Outcome<Vec<Value>> {
        let replace = patch.iter().any(is_replace_marker);
        let all_keyed = |items: &[Value], key| items.iter().all(|item| item.get(key).is_some());
        // Without the key on every element there is nothing to match on (for
        // example a Service's `ports`), so such lists are replaced as well.
        let key = merge_key(field)
            .filter(|&key| !replace && all_keyed(patch, key) && all_keyed(&original, key));
        let Some(key) = key else {
            let mut result = Vec::with_capacity(patch.len());
            for item in patch.iter().filter(|item| !is_replace_marker(item)) {
                result.extend(self.merge_value(field, None, item)?);
            }
            return Ok(result);
        };
        let mut result = original;
        for item in patch {
            let id = item.get(key);
            let position = result.iter().position(|existing| existing.get(key) == id);
            let existing = position.map(|i| result[i].clone());
            match (self.merge_value(field, existing, item)?, position) {
                (None, _) => result.retain(|existing| existing.get(key) != id),
                (Some(merged), Some(i)) => result[i] = merged,
                (Some(merged), None) => result.push(merged),
            }
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::PatchKind::*;
    use super::*;
    use serde_json::json;

    fn run(current: &Value, kind: PatchKind, body: Value) -> Result<Value, PatchError> {
        apply(current, kind, body.to_string().as_bytes())
    }

    fn ok(current: &Value, kind: PatchKind, body: Value) -> Value {
        run(current, kind, body).unwrap_or_else(|e| panic!("patch failed: {e:?}"))
    }

    fn outcome(result: Result<Value, PatchError>) -> &'static str {
        match result {
            Ok(_) => "ok",
            Err(PatchError::BadBody(_)) => "bad body",
            Err(PatchError::Invalid(_)) => "invalid",
        }
    }

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web", "old": "yes"}},
            "spec": {
                "replicas": 1,
                "template": {
                    "metadata": {"annotations": {"sidecar.istio.io/inject": "true"}},
                    "spec": {
                        "containers": [
                            {"name": "app", "image": "app:1", "ports": [{"containerPort": 80}]},
                            {"name": "istio-proxy", "image": "proxyv2:1.21"}
                        ],
                        "volumes": [{"name": "data", "emptyDir": {}}],
                        "tolerations": [{"key": "a"}]
                    }
                }
            }
        })
    }

    #[test]
    fn content_types() {
        let cases = [
            ("application/json-patch+json", Some(Json)),
            ("application/merge-patch+json; charset=utf-8", Some(Merge)),
            (
                "Application/Strategic-Merge-Patch+JSON",
                Some(StrategicMerge),
            ),
            ("application/apply-patch+yaml", Some(Apply)),
            (" application/apply-patch+json ;charset=utf-8", Some(Apply)),
            ("application/json", None),
            ("", None),
        ];
        for (ct, want) in cases {
            assert_eq!(PatchKind::from_content_type(ct), want, "{ct}");
        }
    }

    #[test]
    fn current_is_never_modified() {
        let current = deployment();
        for kind in [Merge, StrategicMerge, Apply] {
            ok(&current, kind, json!({"spec": {"replicas": 5}}));
        }
        ok(&current, Json, json!([{"op": "remove", "path": "/spec"}]));
        assert_eq!(current, deployment());
    }

    #[test]
    fn json_patch_operations() {
        let ops = json!([
            {"op": "add", "path": "/metadata/labels/istio.io~1rev", "value": "canary"},
            {"op": "remove", "path": "/metadata/labels/old"},
            {"op": "replace", "path": "/spec/replicas", "value": 3},
            {"op": "test", "path": "/metadata/name", "value": "web"}
        ]);
        let result = ok(&deployment(), Json, ops);
        let labels = json!({"app": "web", "istio.io/rev": "canary"});
        assert_eq!(result["metadata"]["labels"], labels);
        assert_eq!(result["spec"]["replicas"], 3);
    }

    #[test]
    fn json_patch_failures() {
        let current = deployment();
        let failed_test = json!([{"op": "test", "path": "/metadata/name", "value": "db"}]);
        let missing = json!([{"op": "remove", "path": "/metadata/nope"}]);
        let not_array = json!({"op": "add"});
        let bad_op = json!([{"op": "frobnicate", "path": "/a"}]);
        assert_eq!(outcome(run(&current, Json, failed_test)), "invalid");
        assert_eq!(outcome(run(&current, Json, missing)), "invalid");
        assert_eq!(outcome(run(&current, Json, not_array)), "bad body");
        assert_eq!(outcome(run(&current, Json, bad_op)), "bad body");
        assert_eq!(outcome(apply(&current, Json, b"[{")), "bad body");
    }

    #[test]
    fn merge_patch_nulls_nested_maps_and_lists() {
        let patch = json!({
            "metadata": {"labels": {"old": null, "new": "1"}},
            "spec": {"template": {
                "metadata": {"annotations": {"restartedAt": "now"}},
                "spec": {"containers": [{"name": "app", "image": "app:2"}]}
            }}
        });
        let result = ok(&deployment(), Merge, patch);
        let labels = json!({"app": "web", "new": "1"});
        assert_eq!(result["metadata"]["labels"], labels);
        let template = &result["spec"]["template"];
        let annotations = json!({"sidecar.istio.io/inject": "true", "restartedAt": "now"});
        assert_eq!(template["metadata"]["annotations"], annotations);
        let containers = json!([{"name": "app", "image": "app:2"}]);
        assert_eq!(template["spec"]["containers"], containers);
    }

    #[test]
    fn strategic_merge_maps_and_nulls() {
        let patch = json!({
            "metadata": {"labels": {"old": null, "istio.io/rev": "canary"}},
            "spec": {"template": {"metadata": {"annotations": {"sidecar.istio.io/inject": null}}}}
        });
        let result = ok(&deployment(), StrategicMerge, patch);
        let labels = json!({"app": "web", "istio.io/rev": "canary"});
        assert_eq!(result["metadata"]["labels"], labels);
        let template = &result["spec"]["template"];
        assert_eq!(template["metadata"]["annotations"], json!({}));
        assert_eq!(result["spec"]["replicas"], 1);
    }

    #[test]
    fn strategic_merge_containers_by_name() {
        let patch = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "app"}, {"name": "istio-proxy"}],
            "containers": [
                {"name": "istio-proxy", "image": "proxyv2:1.22"},
                {"name": "debug", "image": "busybox"}
            ],
            "tolerations": [{"key": "b"}]
        }}}});
        let result = ok(&deployment(), StrategicMerge, patch);
        let spec = &result["spec"]["template"]["spec"];
        let containers = json!([
            {"name": "app", "image": "app:1", "ports": [{"containerPort": 80}]},
            {"name": "istio-proxy", "image": "proxyv2:1.22"},
            {"name": "debug", "image": "busybox"}
        ]);
        assert_eq!(spec["containers"], containers);
        assert_eq!(spec["tolerations"], json!([{"key": "b"}]));
        assert!(spec.get("$setElementOrder/containers").is_none());
    }

    #[test]
    fn strategic_merge_nested_keyed_lists() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "app",
            "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 9090}]}]}}}});
        let result = ok(&deployment(), StrategicMerge, patch);
        let ports = json!([{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 9090}]);
        let containers = &result["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers[0]["ports"], ports);
    }

    #[test]
    fn strategic_merge_delete_and_replace_directives() {
        let patch = json!({"spec": {"template": {"spec": {
            "containers": [{"name": "istio-proxy", "$patch": "delete"}, {"name": "x", "$patch": "delete"}],
            "volumes": [{"$patch": "replace"}, {"name": "config", "configMap": {"name": "c"}}]
        }}}, "metadata": {"labels": {"$patch": "replace", "only": "this"}}});
        let result = ok(&deployment(), StrategicMerge, patch);
        let spec = &result["spec"]["template"]["spec"];
        let app = json!([{"name": "app", "image": "app:1", "ports": [{"containerPort": 80}]}]);
        assert_eq!(spec["containers"], app);
        let volumes = json!([{"name": "config", "configMap": {"name": "c"}}]);
        assert_eq!(spec["volumes"], volumes);
        assert_eq!(result["metadata"]["labels"], json!({"only": "this"}));
    }

    #[test]
    fn strategic_merge_other_directives() {
        let current = json!({
            "metadata": {"finalizers": ["a", "b", "c"]},
            "spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}
        });
        let patch = json!({
            "metadata": {"$deleteFromPrimitiveList/finalizers": ["b", "zz"]},
            "spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}},
            "$unknownDirective": 1
        });
        let want = json!({
            "metadata": {"finalizers": ["a", "c"]},
            "spec": {"strategy": {"type": "Recreate"}}
        });
        assert_eq!(ok(&current, StrategicMerge, patch), want);
        for bad in [
            json!({"metadata": {"$patch": "explode"}}),
            json!({"$patch": "delete"}),
        ] {
            assert_eq!(outcome(run(&current, StrategicMerge, bad)), "invalid");
        }
    }

    #[test]
    fn strategic_merge_other_keyed_lists() {
        let current = json!({
            "metadata": {"ownerReferences": [{"uid": "1", "name": "a"}]},
            "status": {"conditions": [{"type": "Ready", "status": "False"}, {"type": "Synced"}]}
        });
        let patch = json!({
            "metadata": {"ownerReferences": [{"uid": "2", "name": "b"}]},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}
        });
        let result = ok(&current, StrategicMerge, patch);
        let owners = json!([{"uid": "1", "name": "a"}, {"uid": "2", "name": "b"}]);
        assert_eq!(result["metadata"]["ownerReferences"], owners);
        let conditions = json!([{"type": "Ready", "status": "True"}, {"type": "Synced"}]);
        assert_eq!(result["status"]["conditions"], conditions);
        // A Service's ports carry no containerPort, so that list is replaced.
        let svc = json!({"spec": {"ports": [{"port": 80}, {"port": 443}]}});
        let patch = json!({"spec": {"ports": [{"port": 15021}]}});
        let result = ok(&svc, StrategicMerge, patch);
        assert_eq!(result["spec"]["ports"], json!([{"port": 15021}]));
    }

    #[test]
    fn strategic_merge_cleans_new_fields() {
        let patch = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "a"}],
            "containers": [{"name": "a", "env": [{"name": "X", "value": null}]},
                           {"name": "b", "$patch": "delete"}]
        }}}});
        let want = json!({"spec": {"template": {"spec": {
            "containers": [{"name": "a", "env": [{"name": "X"}]}]
        }}}});
        assert_eq!(ok(&json!({"spec": {}}), StrategicMerge, patch), want);
    }

    #[test]
    fn apply_ignores_nulls_and_merges_strategically() {
        let body = json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"old": null, "istio.io/rev": "canary"}},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:2"}]}}}
        });
        let result = ok(&deployment(), Apply, body);
        let labels = json!({"app": "web", "old": "yes", "istio.io/rev": "canary"});
        assert_eq!(result["metadata"]["labels"], labels);
        let containers = &result["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers[0]["image"], "app:2");
        assert_eq!(containers[1]["image"], "proxyv2:1.21");
    }

    #[test]
    fn apply_onto_a_missing_object() {
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "1", "b": null}});
        let want = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "1"}});
        assert_eq!(ok(&Value::Null, Apply, body), want);
    }

    #[test]
    fn apply_rejects_type_mismatch_and_yaml() {
        let wrong_kind = json!({"apiVersion": "apps/v1", "kind": "StatefulSet"});
        assert_eq!(outcome(run(&deployment(), Apply, wrong_kind)), "invalid");
        let wrong_version = json!({"apiVersion": "apps/v1beta1", "kind": "Deployment"});
        assert_eq!(outcome(run(&deployment(), Apply, wrong_version)), "invalid");
        let yaml = b"apiVersion: apps/v1\nkind: Deployment\n";
        match apply(&deployment(), Apply, yaml) {
            Err(PatchError::BadBody(msg)) => assert!(msg.contains("only JSON"), "{msg}"),
            other => panic!("expected BadBody, got {other:?}"),
        }
    }

    #[test]
    fn bodies_of_the_wrong_shape() {
        let current = deployment();
        for kind in [Merge, StrategicMerge, Apply] {
            for body in [json!([1]), json!("x"), json!(null), json!(3)] {
                assert_eq!(outcome(run(&current, kind, body)), "bad body", "{kind:?}");
            }
            assert_eq!(outcome(apply(&current, kind, b"{not json")), "bad body");
            assert_eq!(outcome(apply(&current, kind, b"")), "bad body");
        }
    }
}
