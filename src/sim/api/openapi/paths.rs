//! The operations the simulator serves for each resource, laid out as the API server's
//! OpenAPI documents name them, and rendered in either document format.

use serde_json::{Map, Value, json};

use super::schemas::{self, Flavour};
use crate::sim::resources::{self, ResourceDef};

const LIST_QUERY: &[&str] = &[
    "allowWatchBookmarks",
    "continue",
    "fieldSelector",
    "labelSelector",
    "limit",
    "resourceVersion",
    "resourceVersionMatch",
    "sendInitialEvents",
    "timeoutSeconds",
    "watch",
];
const WRITE_QUERY: &[&str] = &["dryRun", "fieldManager", "fieldValidation"];
const PATCH_QUERY: &[&str] = &["dryRun", "fieldManager", "fieldValidation", "force"];
const DELETE_QUERY: &[&str] = &["dryRun", "gracePeriodSeconds", "propagationPolicy"];

const PATCH_TYPES: &[&str] = &[
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
];
const PRODUCES: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
];

fn query_description(name: &str) -> &'static str {
    match name {
        "dryRun" => {
            "When present, the request is checked but not persisted; the only value is All."
        }
        "fieldManager" => {
            "The name of the actor making the change, recorded for server-side apply."
        }
        "fieldValidation" => {
            "What to do with fields the schema does not declare: Ignore, Warn or Strict."
        }
        "force" => "Server-side apply only: take over fields other managers own.",
        "watch" => "Stream changes as watch events instead of returning a list.",
        "labelSelector" => "Only objects whose labels match this selector.",
        "fieldSelector" => "Only objects whose fields match this selector.",
        "limit" => "The most objects to return in one page.",
        "continue" => "The token of the next page, from a previous list.",
        "gracePeriodSeconds" => "Seconds before the object is deleted; zero deletes at once.",
        "propagationPolicy" => {
            "Whether and how dependents are deleted: Orphan, Background or Foreground."
        }
        _ => "See the Kubernetes API conventions.",
    }
}

fn query_type(name: &str) -> &'static str {
    match name {
        "limit" | "timeoutSeconds" | "gracePeriodSeconds" => "integer",
        "allowWatchBookmarks" | "watch" | "force" | "sendInitialEvents" => "boolean",
        _ => "string",
    }
}

#[derive(Debug, Clone)]
enum Body {
    None,
    /// The schema named here.
    Object(String),
    /// Any of the patch media types.
    Patch,
}

#[derive(Debug, Clone)]
struct Operation {
    method: &'static str,
    action: &'static str,
    id: String,
    description: String,
    query: &'static [&'static str],
    body: Body,
    /// The schema the answer is, if the document names one.
    response: Option<String>,
    created: bool,
    gvk: Value,
}

struct PathItem {
    path: String,
    params: Vec<(&'static str, String)>,
    operations: Vec<Operation>,
}

/// `CoreV1`, `AppsV1`, `AdmissionregistrationV1`: how operation ids name a group version.
fn group_version_id(group: &str) -> String {
    let first = if group.is_empty() {
        "core"
    } else {
        group.split('.').next().unwrap_or(group)
    };
    let mut chars = first.chars();
    let capital: String = chars
        .next()
        .map(|c| c.to_ascii_uppercase())
        .into_iter()
        .collect();
    format!("{capital}{}V1", chars.as_str())
}

pub fn tag(group: &str) -> String {
    let first = if group.is_empty() {
        "core"
    } else {
        group.split('.').next().unwrap_or(group)
    };
    format!("{first}_v1")
}

/// `/api/v1` or `/apis/<group>/v1`.
pub fn prefix(group: &str) -> String {
    if group.is_empty() {
        "/api/v1".to_string()
    } else {
        format!("/apis/{group}/v1")
    }
}

fn items(def: &ResourceDef) -> Vec<PathItem> {
    let Some(kind_schema) = schemas::kind(def.plural) else {
        return Vec::new();
    };
    let kind = kind_schema.name();
    let gv = group_version_id(def.group);
    let gvk = schemas::gvk(def.group, def.version, def.kind);
    let status = schemas::status().name();
    let delete_options = schemas::delete_options().name();
    let scope = if def.namespaced { "Namespaced" } else { "" };
    let op = |method, action, verb: &str, suffix: &str, description: String| Operation {
        method,
        action,
        id: format!("{verb}{gv}{scope}{}{suffix}", def.kind),
        description,
        query: &[],
        body: Body::None,
        response: Some(kind.clone()),
        created: false,
        gvk: gvk.clone(),
    };
    let collection = if def.namespaced {
        format!(
            "{}/namespaces/{{namespace}}/{}",
            prefix(def.group),
            def.plural
        )
    } else {
        format!("{}/{}", prefix(def.group), def.plural)
    };
    let mut collection_params = Vec::new();
    if def.namespaced {
        collection_params.push((
            "namespace",
            "object name and auth scope, such as for teams and projects".to_string(),
        ));
    }
    let create = Operation {
        query: WRITE_QUERY,
        body: Body::Object(kind.clone()),
        created: true,
        ..op(
            "post",
            "post",
            "create",
            "",
            format!("create a {}", def.kind),
        )
    };
    if resources::is_virtual(def.plural) {
        return vec![PathItem {
            path: collection,
            params: collection_params,
            operations: vec![create],
        }];
    }
    let mut out = vec![PathItem {
        path: collection.clone(),
        params: collection_params.clone(),
        operations: vec![
            Operation {
                query: LIST_QUERY,
                response: None,
                ..op(
                    "get",
                    "list",
                    "list",
                    "",
                    format!("list or watch objects of kind {}", def.kind),
                )
            },
            create,
            Operation {
                query: DELETE_QUERY,
                body: Body::Object(delete_options.clone()),
                response: Some(status.clone()),
                ..op(
                    "delete",
                    "deletecollection",
                    "deleteCollection",
                    "",
                    format!("delete a collection of {}", def.kind),
                )
            },
        ],
    }];
    let mut item_params = vec![("name", format!("name of the {}", def.kind))];
    item_params.extend(collection_params);
    let item = format!("{collection}/{{name}}");
    out.push(PathItem {
        path: item.clone(),
        params: item_params.clone(),
        operations: vec![
            op(
                "get",
                "get",
                "read",
                "",
                format!("read the specified {}", def.kind),
            ),
            Operation {
                query: WRITE_QUERY,
                body: Body::Object(kind.clone()),
                created: true,
                ..op(
                    "put",
                    "put",
                    "replace",
                    "",
                    format!("replace the specified {}", def.kind),
                )
            },
            Operation {
                query: PATCH_QUERY,
                body: Body::Patch,
                created: true,
                ..op(
                    "patch",
                    "patch",
                    "patch",
                    "",
                    format!("partially update the specified {}", def.kind),
                )
            },
            Operation {
                query: DELETE_QUERY,
                body: Body::Object(delete_options),
                response: Some(status),
                ..op(
                    "delete",
                    "delete",
                    "delete",
                    "",
                    format!("delete a {}", def.kind),
                )
            },
        ],
    });
    if def.namespaced {
        out.push(PathItem {
            path: format!("{}/{}", prefix(def.group), def.plural),
            params: Vec::new(),
            operations: vec![Operation {
                query: LIST_QUERY,
                response: None,
                id: format!("list{gv}{}ForAllNamespaces", def.kind),
                ..op(
                    "get",
                    "list",
                    "list",
                    "",
                    format!("list or watch objects of kind {}", def.kind),
                )
            }],
        });
    }
    for sub in def.subresources {
        let (schema, gvk, suffix) = match (*sub, schemas::subresource(sub)) {
            ("status", _) => (kind.clone(), gvk.clone(), "Status"),
            (_, Some((schema, group, kind))) => (
                schema.name(),
                schemas::gvk(group, "v1", kind),
                if *sub == "scale" { "Scale" } else { "Eviction" },
            ),
            _ => continue,
        };
        let sub_op = |method, action, verb, description: String| Operation {
            response: Some(schema.clone()),
            gvk: gvk.clone(),
            ..op(method, action, verb, suffix, description)
        };
        let operations = if *sub == "eviction" {
            vec![Operation {
                query: WRITE_QUERY,
                body: Body::Object(schema.clone()),
                created: true,
                ..sub_op(
                    "post",
                    "post",
                    "create",
                    format!("create eviction of a {}", def.kind),
                )
            }]
        } else {
            vec![
                sub_op(
                    "get",
                    "get",
                    "read",
                    format!("read {sub} of the specified {}", def.kind),
                ),
                Operation {
                    query: WRITE_QUERY,
                    body: Body::Object(schema.clone()),
                    created: true,
                    ..sub_op(
                        "put",
                        "put",
                        "replace",
                        format!("replace {sub} of the specified {}", def.kind),
                    )
                },
                Operation {
                    query: PATCH_QUERY,
                    body: Body::Patch,
                    created: true,
                    ..sub_op(
                        "patch",
                        "patch",
                        "patch",
                        format!("partially update {sub} of the specified {}", def.kind),
                    )
                },
            ]
        };
        out.push(PathItem {
            path: format!("{item}/{sub}"),
            params: item_params.clone(),
            operations,
        });
    }
    out
}

fn parameter(flavour: Flavour, name: &str, place: &str, kind: &str, description: &str) -> Value {
    let mut p = json!({"name": name, "in": place, "description": description});
    match flavour {
        Flavour::V2 => {
            p["type"] = json!(kind);
            p["uniqueItems"] = json!(true);
        }
        Flavour::V3 => p["schema"] = json!({"type": kind, "uniqueItems": true}),
    }
    if place == "path" {
        p["required"] = json!(true);
    }
    p
}

fn media(flavour: Flavour, types: &[&str], schema: &str) -> Value {
    let content: Map<String, Value> = types
        .iter()
        .map(|t| (t.to_string(), json!({"schema": flavour.reference(schema)})))
        .collect();
    Value::Object(content)
}

fn render(flavour: Flavour, tag: &str, op: &Operation) -> Value {
    let mut parameters: Vec<Value> = Vec::new();
    let mut v = json!({
        "tags": [tag],
        "description": op.description,
        "operationId": op.id,
        "x-kubernetes-action": op.action,
        "x-kubernetes-group-version-kind": op.gvk,
    });
    let (body_types, body_schema): (&[&str], Option<String>) = match &op.body {
        Body::None => (&[], None),
        Body::Object(name) => (&["*/*"], Some(name.clone())),
        Body::Patch => (PATCH_TYPES, Some(schemas::patch().name())),
    };
    let mut responses = Map::new();
    let codes: &[&str] = if op.created {
        &["200", "201"]
    } else {
        &["200"]
    };
    for code in codes {
        let description = if *code == "200" { "OK" } else { "Created" };
        let mut response = json!({"description": description});
        if let Some(schema) = &op.response {
            match flavour {
                Flavour::V2 => response["schema"] = flavour.reference(schema),
                Flavour::V3 => response["content"] = media(flavour, PRODUCES, schema),
            }
        }
        responses.insert(code.to_string(), response);
    }
    responses.insert("401".into(), json!({"description": "Unauthorized"}));
    v["responses"] = Value::Object(responses);
    if let Some(schema) = body_schema {
        match flavour {
            Flavour::V2 => {
                v["consumes"] = json!(body_types);
                parameters.push(json!({"name": "body", "in": "body", "required": true, "schema": flavour.reference(&schema)}));
            }
            Flavour::V3 => {
                v["requestBody"] =
                    json!({"content": media(flavour, body_types, &schema), "required": true});
            }
        }
    }
    if flavour == Flavour::V2 {
        v["produces"] = json!(PRODUCES);
        v["schemes"] = json!(["https"]);
    }
    for name in op.query {
        parameters.push(parameter(
            flavour,
            name,
            "query",
            query_type(name),
            query_description(name),
        ));
    }
    if !parameters.is_empty() {
        v["parameters"] = json!(parameters);
    }
    v
}

/// The `paths` object for the resources in `defs`.
pub fn paths(flavour: Flavour, defs: &[&ResourceDef]) -> Map<String, Value> {
    let mut out = Map::new();
    for def in defs {
        let tag = tag(def.group);
        for item in items(def) {
            let mut path_item = Map::new();
            for op in &item.operations {
                path_item.insert(op.method.into(), render(flavour, &tag, op));
            }
            let mut params: Vec<Value> = item
                .params
                .iter()
                .map(|(name, description)| parameter(flavour, name, "path", "string", description))
                .collect();
            params.push(parameter(
                flavour,
                "pretty",
                "query",
                "string",
                "If 'true', the output is indented.",
            ));
            path_item.insert("parameters".into(), json!(params));
            out.insert(item.path, Value::Object(path_item));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deployment_patch_names_its_kind_and_takes_field_validation() {
        let deployments = resources::by_plural("deployments");
        let apps = paths(Flavour::V3, &[deployments]);
        let patch = &apps["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(patch["operationId"], "patchAppsV1NamespacedDeployment");
        assert_eq!(
            patch["x-kubernetes-group-version-kind"]["kind"],
            "Deployment"
        );
        let params = patch["parameters"].as_array().unwrap();
        assert!(
            params
                .iter()
                .any(|p| p["name"] == "fieldValidation" && p["in"] == "query")
        );
        assert!(
            patch["requestBody"]["content"]["application/strategic-merge-patch+json"].is_object()
        );
        let scale = &apps["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]["patch"];
        assert_eq!(
            scale["x-kubernetes-group-version-kind"]["group"],
            "autoscaling"
        );
        assert!(apps.contains_key("/apis/apps/v1/deployments"));
        let namespaces = paths(Flavour::V2, &[resources::by_plural("namespaces")]);
        let create = &namespaces["/api/v1/namespaces"]["post"];
        assert_eq!(create["operationId"], "createCoreV1Namespace");
        assert_eq!(
            create["parameters"][0]["schema"]["$ref"],
            "#/definitions/io.k8s.api.core.v1.Namespace"
        );
    }
}
