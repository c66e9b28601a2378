//! Component schemas for the kinds the simulator serves, generated from k8s-openapi's types
//! (its `schemars` feature). The API server adds the group-version-kind extension that
//! kubectl looks kinds up by; it is added here from the resource table.

use std::borrow::Cow;

use k8s_openapi::api::{
    admissionregistration, apps, authentication, authorization, autoscaling, batch, coordination,
    core, policy,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions;
use k8s_openapi::apimachinery::pkg::apis::meta;
use k8s_openapi::schemars::JsonSchema;
use k8s_openapi::schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

use crate::sim::resources::ResourceDef;

/// The two document formats, which differ in where schemas live and how refs name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    V2,
    V3,
}

impl Flavour {
    fn generator(self) -> SchemaGenerator {
        match self {
            Flavour::V2 => SchemaSettings::draft07(),
            Flavour::V3 => SchemaSettings::openapi3(),
        }
        .into_generator()
    }

    fn ref_prefix(self) -> &'static str {
        match self {
            Flavour::V2 => "#/definitions/",
            Flavour::V3 => "#/components/schemas/",
        }
    }

    /// A `$ref` to the schema called `name`.
    pub fn reference(self, name: &str) -> Value {
        json!({"$ref": format!("{}{name}", self.ref_prefix())})
    }

    /// The schema name a `$ref` of this flavour points at.
    pub fn referenced(self, reference: &str) -> Option<&str> {
        reference.strip_prefix(self.ref_prefix())
    }
}

/// A Rust type's schema: how to add it to a generator and the name it is stored under.
#[derive(Clone, Copy)]
pub struct TypeSchema {
    add: fn(&mut SchemaGenerator),
    name: fn() -> Cow<'static, str>,
}

impl TypeSchema {
    pub fn name(&self) -> String {
        (self.name)().into_owned()
    }
}

fn of<T: JsonSchema>() -> TypeSchema {
    TypeSchema {
        add: |generator| _ = generator.subschema_for::<T>(),
        name: T::schema_name,
    }
}

/// The schema of the kind stored under `plural`.
pub fn kind(plural: &str) -> Option<TypeSchema> {
    Some(match plural {
        "namespaces" => of::<core::v1::Namespace>(),
        "nodes" => of::<core::v1::Node>(),
        "pods" => of::<core::v1::Pod>(),
        "services" => of::<core::v1::Service>(),
        "configmaps" => of::<core::v1::ConfigMap>(),
        "secrets" => of::<core::v1::Secret>(),
        "events" => of::<core::v1::Event>(),
        "endpoints" => of::<core::v1::Endpoints>(),
        "serviceaccounts" => of::<core::v1::ServiceAccount>(),
        "resourcequotas" => of::<core::v1::ResourceQuota>(),
        "deployments" => of::<apps::v1::Deployment>(),
        "replicasets" => of::<apps::v1::ReplicaSet>(),
        "daemonsets" => of::<apps::v1::DaemonSet>(),
        "statefulsets" => of::<apps::v1::StatefulSet>(),
        "poddisruptionbudgets" => of::<policy::v1::PodDisruptionBudget>(),
        "mutatingwebhookconfigurations" => {
            of::<admissionregistration::v1::MutatingWebhookConfiguration>()
        }
        "validatingwebhookconfigurations" => {
            of::<admissionregistration::v1::ValidatingWebhookConfiguration>()
        }
        "leases" => of::<coordination::v1::Lease>(),
        "jobs" => of::<batch::v1::Job>(),
        "customresourcedefinitions" => of::<apiextensions::v1::CustomResourceDefinition>(),
        "selfsubjectaccessreviews" => of::<authorization::v1::SelfSubjectAccessReview>(),
        "selfsubjectreviews" => of::<authentication::v1::SelfSubjectReview>(),
        _ => return None,
    })
}

/// A subresource with a kind of its own: its schema, group and kind.
pub fn subresource(sub: &str) -> Option<(TypeSchema, &'static str, &'static str)> {
    match sub {
        "scale" => Some((of::<autoscaling::v1::Scale>(), "autoscaling", "Scale")),
        "eviction" => Some((of::<policy::v1::Eviction>(), "policy", "Eviction")),
        _ => None,
    }
}

pub fn status() -> TypeSchema {
    of::<meta::v1::Status>()
}

pub fn delete_options() -> TypeSchema {
    of::<meta::v1::DeleteOptions>()
}

pub fn patch() -> TypeSchema {
    of::<meta::v1::Patch>()
}

pub fn gvk(group: &str, version: &str, kind: &str) -> Value {
    json!({"group": group, "version": version, "kind": kind})
}

/// The schemas the resources in `defs` need, everything they refer to included.
pub fn components(flavour: Flavour, defs: &[&ResourceDef]) -> Map<String, Value> {
    let mut generator = flavour.generator();
    let mut kinds: Vec<(String, Value)> = Vec::new();
    for def in defs {
        if let Some(schema) = kind(def.plural) {
            (schema.add)(&mut generator);
            kinds.push((schema.name(), gvk(def.group, def.version, def.kind)));
        }
        for (schema, group, kind) in def.subresources.iter().filter_map(|s| subresource(s)) {
            (schema.add)(&mut generator);
            kinds.push((schema.name(), gvk(group, "v1", kind)));
        }
    }
    for schema in [status(), delete_options(), patch()] {
        (schema.add)(&mut generator);
    }
    let mut schemas = generator.take_definitions(true);
    for (name, gvk) in kinds {
        if let Some(Value::Object(schema)) = schemas.get_mut(&name) {
            schema.insert("x-kubernetes-group-version-kind".into(), json!([gvk]));
        }
    }
    schemas
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::resources::RESOURCES;

    #[test]
    fn every_served_resource_has_a_generated_schema() {
        for def in RESOURCES {
            assert!(kind(def.plural).is_some(), "{} has no schema", def.plural);
        }
    }

    #[test]
    fn a_deployment_schema_carries_its_kind_and_refers_to_its_parts() {
        let apps: Vec<&ResourceDef> = RESOURCES.iter().filter(|d| d.group == "apps").collect();
        let schemas = components(Flavour::V3, &apps);
        let deployment = &schemas["io.k8s.api.apps.v1.Deployment"];
        assert_eq!(
            deployment["x-kubernetes-group-version-kind"],
            json!([{"group": "apps", "version": "v1", "kind": "Deployment"}])
        );
        assert!(schemas.contains_key("io.k8s.api.core.v1.PodSpec"));
        assert!(schemas.contains_key("io.k8s.api.autoscaling.v1.Scale"));
        let text = serde_json::to_string(&schemas).unwrap();
        assert!(text.contains("#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec"));
        let v2 = serde_json::to_string(&components(Flavour::V2, &apps)).unwrap();
        assert!(v2.contains("#/definitions/io.k8s.api.apps.v1.DeploymentSpec"));
    }
}
