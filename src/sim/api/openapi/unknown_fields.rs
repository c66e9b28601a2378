//! Which fields of a body the kind's schema does not declare, named as the API server's
//! strict decoding names them (`spec.template.spec.containers[0].imagePullPolicyy`).

use serde_json::{Map, Value};

use super::schemas::Flavour;

/// Follows `allOf` wrappers and `$ref`s to the schema they stand for.
fn resolve<'a>(schemas: &'a Map<String, Value>, mut schema: &'a Value) -> &'a Value {
    // Refs only lead to named schemas, so a few steps always suffice; the bound guards a loop.
    for _ in 0..8 {
        if let Some(first) = schema["allOf"].get(0) {
            schema = first;
        } else if let Some(target) = schema["$ref"]
            .as_str()
            .and_then(|r| Flavour::V3.referenced(r))
            .and_then(|name| schemas.get(name))
        {
            schema = target;
        } else {
            break;
        }
    }
    schema
}

fn walk(
    schemas: &Map<String, Value>,
    schema: &Value,
    value: &Value,
    path: &str,
    out: &mut Vec<String>,
) {
    let schema = resolve(schemas, schema);
    match value {
        Value::Object(fields) => {
            if schema["x-kubernetes-preserve-unknown-fields"] == Value::Bool(true) {
                return;
            }
            let declared = schema["properties"].as_object();
            let values = schema.get("additionalProperties").filter(|s| s.is_object());
            for (key, field) in fields {
                // Patch directives (`$patch`, `$setElementOrder/containers`, ...) are not fields.
                if key.starts_with('$') {
                    continue;
                }
                let at = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match (declared.and_then(|d| d.get(key)), values) {
                    (Some(field_schema), _) | (None, Some(field_schema)) => {
                        walk(schemas, field_schema, field, &at, out);
                    }
                    (None, None) if declared.is_some() => out.push(at),
                    (None, None) => {}
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    walk(schemas, item_schema, item, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

/// The paths of `value`'s fields that the schema called `name` does not declare.
pub fn find(schemas: &Map<String, Value>, name: &str, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(schema) = schemas.get(name) {
        walk(schemas, schema, value, "", &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::schemas;
    use super::*;
    use crate::sim::resources;

    #[test]
    fn misspelt_fields_are_named_with_their_path_and_maps_take_any_key() {
        let schemas = schemas::components(Flavour::V3, &[resources::by_plural("deployments")]);
        let deployment = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"any-key": "x"}, "annotations": {"a/b": "c"}},
            "spec": {
                "replica": 3,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                    {"name": "web", "image": "nginx", "imagePullPolicyy": "Always",
                     "resources": {"limits": {"cpu": "1"}}, "ports": [{"containerPort": 80}]}
                ]}}
            },
            "$setElementOrder/x": []
        });
        assert_eq!(
            find(&schemas, "io.k8s.api.apps.v1.Deployment", &deployment),
            [
                "spec.replica",
                "spec.template.spec.containers[0].imagePullPolicyy"
            ]
        );
        let clean = json!({"spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "web", "$patch": "replace"}]}}}});
        assert!(find(&schemas, "io.k8s.api.apps.v1.Deployment", &clean).is_empty());
    }
}
