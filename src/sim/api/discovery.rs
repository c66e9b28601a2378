//! `/version` and API discovery in the plain (non-aggregated) format.

use serde_json::{Value, json};

use crate::sim::resources::{self, ResourceDef};

/// `/version` for a server of `git_version` (`v1.32.4`).
pub fn version(git_version: &str) -> Value {
    let mut parts = git_version.trim_start_matches('v').split('.');
    let major = parts.next().unwrap_or("1");
    let minor = parts.next().unwrap_or_default();
    json!({
        "major": major,
        "minor": minor,
        "gitVersion": git_version,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.23.8",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]
    })
}

fn group_entry(group: &str) -> Value {
    let gv = json!({"groupVersion": format!("{group}/v1"), "version": "v1"});
    json!({"name": group, "versions": [gv.clone()], "preferredVersion": gv})
}

pub fn group_list() -> Value {
    let groups: Vec<Value> = resources::groups().into_iter().map(group_entry).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub fn group(group: &str) -> Option<Value> {
    resources::groups().contains(&group).then(|| {
        let mut g = group_entry(group);
        g["kind"] = json!("APIGroup");
        g["apiVersion"] = json!("v1");
        g
    })
}

const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

fn subresource(r: &ResourceDef, sub: &str) -> Value {
    let (kind, group, verbs): (&str, Option<&str>, &[&str]) = match sub {
        "status" => (r.kind, None, &["get", "patch", "update"]),
        "log" => (r.kind, None, &["get"]),
        "proxy" if r.plural == "pods" => (
            "PodProxyOptions",
            None,
            &["create", "delete", "get", "patch", "update"],
        ),
        "proxy" if r.plural == "nodes" => (
            "NodeProxyOptions",
            None,
            &["create", "delete", "get", "patch", "update"],
        ),
        "proxy" => (
            "ServiceProxyOptions",
            None,
            &["create", "delete", "get", "patch", "update"],
        ),
        "eviction" => ("Eviction", Some("policy"), &["create"]),
        "scale" => ("Scale", Some("autoscaling"), &["get", "patch", "update"]),
        _ => (r.kind, None, &["get"]),
    };
    let mut v = json!({
        "name": format!("{}/{sub}", r.plural),
        "singularName": "",
        "namespaced": r.namespaced,
        "kind": kind,
        "verbs": verbs,
    });
    if let Some(g) = group {
        v["group"] = json!(g);
        v["version"] = json!("v1");
    }
    v
}

pub fn resource_list(group: &str) -> Option<Value> {
    let mut out = Vec::new();
    for r in resources::in_group(group) {
        let verbs: &[&str] = if resources::is_virtual(r.plural) {
            &["create"]
        } else {
            ALL_VERBS
        };
        let mut v = json!({
            "name": r.plural,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": verbs,
        });
        if !r.short_names.is_empty() {
            v["shortNames"] = json!(r.short_names);
        }
        if matches!(
            r.plural,
            "pods" | "services" | "deployments" | "replicasets" | "daemonsets" | "statefulsets"
        ) {
            v["categories"] = json!(["all"]);
        }
        out.push(v);
        for sub in r.subresources {
            out.push(subresource(r, sub));
        }
    }
    if out.is_empty() {
        return None;
    }
    let gv = if group.is_empty() {
        "v1".to_string()
    } else {
        format!("{group}/v1")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": out}),
    )
}
