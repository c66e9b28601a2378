//! The shape checks the API server makes before an object is stored: a wrong type is a
//! decoding error (400), a missing or out-of-range field is invalid (422). The rest of the
//! simulator then reads objects of the right shape, so no controller or admission step meets
//! a string where it expects a map.

use serde_json::Value;

use super::store::StoreError;

/// Checks `obj`, about to be stored as a `resource`.
pub fn check(resource: &str, obj: &Value) -> Result<(), StoreError> {
    let Some(fields) = obj.as_object() else {
        return Err(bad("the object must be a JSON object"));
    };
    if let Some(meta) = fields.get("metadata") {
        metadata(meta)?;
    }
    match resource {
        "pods" => pod_spec(&obj["spec"]),
        "deployments" | "replicasets" | "statefulsets" => replicas(&obj["spec"]),
        "secrets" => secret_data(&obj["data"]),
        _ => Ok(()),
    }
}

/// A Secret's `data` values are base64, as the API server insists.
fn secret_data(data: &Value) -> Result<(), StoreError> {
    use base64::Engine;
    let Some(map) = data.as_object() else {
        return match data {
            Value::Null => Ok(()),
            other => Err(bad(format!(
                "Secret.data: expected an object, got {}",
                type_name(other)
            ))),
        };
    };
    for (key, value) in map {
        let text = value.as_str().unwrap_or_default();
        if value.is_null() {
            continue;
        }
        if !value.is_string()
            || base64::engine::general_purpose::STANDARD
                .decode(text)
                .is_err()
        {
            return Err(bad(format!("Secret.data[{key:?}]: illegal base64 data")));
        }
    }
    Ok(())
}

fn bad(message: impl Into<String>) -> StoreError {
    StoreError::BadRequest(message.into())
}

fn invalid(message: impl Into<String>) -> StoreError {
    StoreError::Invalid(message.into())
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn metadata(meta: &Value) -> Result<(), StoreError> {
    let Some(fields) = meta.as_object() else {
        return Err(bad(format!(
            "metadata: expected an object, got {}",
            type_name(meta)
        )));
    };
    for key in [
        "name",
        "generateName",
        "namespace",
        "resourceVersion",
        "uid",
    ] {
        match fields.get(key) {
            None | Some(Value::Null | Value::String(_)) => {}
            Some(other) => {
                return Err(bad(format!(
                    "metadata.{key}: expected a string, got {}",
                    type_name(other)
                )));
            }
        }
    }
    for key in ["labels", "annotations"] {
        match fields.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                if let Some((k, v)) = map.iter().find(|(_, v)| !v.is_string()) {
                    return Err(bad(format!(
                        "metadata.{key}.{k}: expected a string, got {}",
                        type_name(v)
                    )));
                }
            }
            Some(other) => {
                return Err(bad(format!(
                    "metadata.{key}: expected a map of strings, got {}",
                    type_name(other)
                )));
            }
        }
    }
    Ok(())
}

fn pod_spec(spec: &Value) -> Result<(), StoreError> {
    if spec.is_null() {
        return Err(invalid("spec: Required value"));
    }
    if !spec.is_object() {
        return Err(bad(format!(
            "spec: expected an object, got {}",
            type_name(spec)
        )));
    }
    for list in ["containers", "initContainers"] {
        let items = match &spec[list] {
            Value::Null if list == "containers" => {
                return Err(invalid("spec.containers: Required value"));
            }
            Value::Null => continue,
            Value::Array(items) => items,
            other => {
                return Err(bad(format!(
                    "spec.{list}: expected an array, got {}",
                    type_name(other)
                )));
            }
        };
        if list == "containers" && items.is_empty() {
            return Err(invalid("spec.containers: Required value"));
        }
        for (i, c) in items.iter().enumerate() {
            if !c.is_object() {
                return Err(bad(format!(
                    "spec.{list}[{i}]: expected an object, got {}",
                    type_name(c)
                )));
            }
            if c["name"].as_str().is_none_or(str::is_empty) {
                return Err(invalid(format!("spec.{list}[{i}].name: Required value")));
            }
        }
    }
    Ok(())
}

fn replicas(spec: &Value) -> Result<(), StoreError> {
    match &spec["replicas"] {
        Value::Null => Ok(()),
        Value::Number(n)
            if n.as_i64()
                .is_some_and(|r| (0..=i64::from(i32::MAX)).contains(&r)) =>
        {
            Ok(())
        }
        Value::Number(n) => Err(invalid(format!(
            "spec.replicas: Invalid value: {n}: must be between 0 and {} inclusive",
            i32::MAX
        ))),
        other => Err(bad(format!(
            "spec.replicas: expected an integer, got {}",
            type_name(other)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(spec: Value) -> Value {
        json!({"metadata": {"name": "p"}, "spec": spec})
    }

    #[test]
    fn pods_need_named_containers() {
        let ok = pod(json!({"containers": [{"name": "app", "image": "app:1"}]}));
        assert_eq!(check("pods", &ok), Ok(()));
        let cases = [
            (json!({"metadata": {"name": "p"}}), "spec: Required value"),
            (pod(json!({})), "spec.containers: Required value"),
            (
                pod(json!({"containers": []})),
                "spec.containers: Required value",
            ),
            (
                pod(json!({"containers": [{"image": "x"}]})),
                "spec.containers[0].name: Required value",
            ),
        ];
        for (obj, message) in cases {
            assert_eq!(check("pods", &obj), Err(invalid(message)), "{obj}");
        }
        assert!(matches!(
            check("pods", &pod(json!("a string"))),
            Err(StoreError::BadRequest(_))
        ));
    }

    #[test]
    fn wrong_types_in_metadata_are_decoding_errors() {
        for meta in [
            json!("x"),
            json!({"name": 3}),
            json!({"labels": "a=b"}),
            json!({"labels": {"a": 1}}),
            json!({"annotations": ["a"]}),
        ] {
            let obj = json!({"metadata": meta});
            assert!(
                matches!(check("namespaces", &obj), Err(StoreError::BadRequest(_))),
                "{obj}"
            );
        }
        assert_eq!(
            check(
                "namespaces",
                &json!({"metadata": {"name": "a", "labels": null}})
            ),
            Ok(())
        );
    }

    #[test]
    fn replicas_are_a_non_negative_int32() {
        let deploy = |r: Value| json!({"metadata": {"name": "d"}, "spec": {"replicas": r}});
        assert_eq!(check("deployments", &deploy(json!(3))), Ok(()));
        for r in [json!(-1), json!(1u64 << 40), json!(1.5)] {
            assert!(
                matches!(
                    check("deployments", &deploy(r.clone())),
                    Err(StoreError::Invalid(_))
                ),
                "{r}"
            );
        }
        assert!(matches!(
            check("deployments", &deploy(json!("3"))),
            Err(StoreError::BadRequest(_))
        ));
    }
}
