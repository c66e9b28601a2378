//! Writing to the store: create, modify and delete, with the checks and admission the API
//! server applies, and each change published to watchers in resourceVersion order.

use std::sync::{Arc, PoisonError};

use serde_json::{Value, json};

use super::{
    Change, ChangeType, Inner, Key, Store, StoreError, Stored, View, conflict, index, names,
    not_found, now_rfc3339, resources, uid_for, validate_name, validation,
};

impl Store {
    pub fn create(
        &self,
        resource: &'static str,
        ns: &str,
        obj: Value,
    ) -> Result<Stored, StoreError> {
        self.create_opts(resource, ns, obj, false)
    }

    /// Creates an object; with `dry_run` every check and admission runs but nothing is stored.
    pub fn create_opts(
        &self,
        resource: &'static str,
        ns: &str,
        mut obj: Value,
        dry_run: bool,
    ) -> Result<Stored, StoreError> {
        let def = resources::by_plural(resource);
        validation::check(resource, &obj)?;
        let Some(fields) = obj.as_object_mut() else {
            return Err(StoreError::Invalid("the body must be a JSON object".into()));
        };
        let meta = fields.entry("metadata").or_insert_with(|| json!({}));
        if meta.is_null() {
            *meta = json!({});
        }
        let mut inner = self.write();
        let mut name = meta["name"].as_str().unwrap_or_default().to_string();
        if name.is_empty() {
            let Some(prefix) = meta["generateName"].as_str() else {
                return Err(StoreError::Invalid(
                    "metadata.name or metadata.generateName is required".into(),
                ));
            };
            let key_ns = if def.namespaced {
                ns.to_string()
            } else {
                String::new()
            };
            // Like the API server, a generated name that happens to exist is drawn again.
            loop {
                inner.uid_seq += 1;
                name = format!("{prefix}{}", names::suffix(inner.uid_seq));
                let taken = inner
                    .objects
                    .get(resource)
                    .is_some_and(|m| m.contains_key(&(key_ns.clone(), name.clone())));
                if !taken {
                    break;
                }
            }
        }
        validate_name(&name)?;
        if def.namespaced {
            if ns.is_empty() {
                return Err(StoreError::Invalid("a namespace is required".into()));
            }
            let ns_key = (String::new(), ns.to_string());
            if resource != "namespaces"
                && !inner
                    .objects
                    .get("namespaces")
                    .is_some_and(|m| m.contains_key(&ns_key))
            {
                return Err(StoreError::NotFound(format!(
                    "namespaces \"{ns}\" not found"
                )));
            }
        }
        let key = (
            if def.namespaced {
                ns.to_string()
            } else {
                String::new()
            },
            name.clone(),
        );
        if inner
            .objects
            .get(resource)
            .is_some_and(|m| m.contains_key(&key))
        {
            return Err(StoreError::AlreadyExists(
                format!("{}.{} \"{name}\" already exists", def.plural, def.group)
                    .replace(". \"", " \""),
            ));
        }
        inner.uid_seq += 1;
        let uid = uid_for(inner.uid_seq);
        if let Some(meta) = obj["metadata"].as_object_mut() {
            meta.insert("name".into(), json!(name));
            if def.namespaced {
                meta.insert("namespace".into(), json!(ns));
            }
            meta.insert("uid".into(), json!(uid));
            meta.entry("creationTimestamp")
                .or_insert_with(|| json!(now_rfc3339()));
            meta.remove("resourceVersion");
        }
        obj["apiVersion"] = json!(def.api_version());
        obj["kind"] = json!(def.kind);
        if obj.get("spec").is_some() {
            obj["metadata"]["generation"] = json!(1);
        }
        if let Some(admit) = self
            .admission
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            admit(&View { inner: &inner }, resource, &mut obj);
        }
        if dry_run {
            return Ok(index(&obj, inner.rv));
        }
        inner.rv += 1;
        let rv = inner.rv;
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        let stored = index(&obj, rv);
        inner
            .objects
            .entry(resource)
            .or_default()
            .insert(key.clone(), stored.clone());
        self.publish(
            &mut inner,
            ChangeType::Added,
            resource,
            key,
            stored.clone(),
            None,
        );
        Ok(stored)
    }

    /// Replaces an object. A `metadata.resourceVersion` in `obj` is a precondition.
    pub fn update(
        &self,
        resource: &'static str,
        ns: &str,
        name: &str,
        obj: Value,
    ) -> Result<Stored, StoreError> {
        self.modify(resource, ns, name, |_| Ok(obj))
    }

    /// Reads, changes and writes one object atomically. The closure's result may carry a
    /// `metadata.resourceVersion` precondition; identity fields are kept from the stored object.
    pub fn modify(
        &self,
        resource: &'static str,
        ns: &str,
        name: &str,
        change: impl FnOnce(&Value) -> Result<Value, StoreError>,
    ) -> Result<Stored, StoreError> {
        self.modify_opts(resource, ns, name, false, change)
    }

    /// `modify`, where `dry_run` computes and checks the result without storing it.
    pub fn modify_opts(
        &self,
        resource: &'static str,
        ns: &str,
        name: &str,
        dry_run: bool,
        change: impl FnOnce(&Value) -> Result<Value, StoreError>,
    ) -> Result<Stored, StoreError> {
        let def = resources::by_plural(resource);
        let key = (
            if def.namespaced {
                ns.to_string()
            } else {
                String::new()
            },
            name.to_string(),
        );
        let mut inner = self.write();
        let Some(old) = inner
            .objects
            .get(resource)
            .and_then(|m| m.get(&key))
            .cloned()
        else {
            return Err(not_found(def, name));
        };
        let old_value = old.value();
        let mut new = change(&old_value)?;
        validation::check(resource, &new)?;
        if !new["metadata"].is_object() {
            return Err(StoreError::Invalid("the object must have metadata".into()));
        }
        if let Some(want) = new["metadata"]["resourceVersion"].as_str()
            && !want.is_empty()
            && want != old.rv.to_string()
        {
            return Err(conflict(def, name));
        }
        if new["metadata"]["name"].as_str().is_some_and(|n| n != name) {
            return Err(StoreError::Invalid(format!(
                "metadata.name: the name of the object ({}) does not match the name in the URL ({name})",
                new["metadata"]["name"].as_str().unwrap_or_default()
            )));
        }
        for field in ["name", "namespace", "uid", "creationTimestamp"] {
            if let Some(v) = old_value["metadata"].get(field) {
                new["metadata"][field] = v.clone();
            }
        }
        new["apiVersion"] = json!(def.api_version());
        new["kind"] = json!(def.kind);
        let generation = old_value["metadata"]["generation"].as_i64();
        if let Some(g) = generation {
            let bumped = if old_value.get("spec") != new.get("spec") {
                g + 1
            } else {
                g
            };
            new["metadata"]["generation"] = json!(bumped);
        }
        // Nothing changed: Kubernetes answers with the object and keeps its resourceVersion.
        new["metadata"]["resourceVersion"] = json!(old.rv.to_string());
        if new == old_value {
            return Ok(old);
        }
        if dry_run {
            return Ok(index(&new, old.rv));
        }
        inner.rv += 1;
        let rv = inner.rv;
        new["metadata"]["resourceVersion"] = json!(rv.to_string());
        let stored = index(&new, rv);
        inner
            .objects
            .entry(resource)
            .or_default()
            .insert(key.clone(), stored.clone());
        self.publish(
            &mut inner,
            ChangeType::Modified,
            resource,
            key,
            stored.clone(),
            Some(old),
        );
        Ok(stored)
    }

    pub fn delete(
        &self,
        resource: &'static str,
        ns: &str,
        name: &str,
        precondition_rv: Option<&str>,
    ) -> Result<Stored, StoreError> {
        self.delete_opts(resource, ns, name, precondition_rv, false)
    }

    pub fn delete_opts(
        &self,
        resource: &'static str,
        ns: &str,
        name: &str,
        precondition_rv: Option<&str>,
        dry_run: bool,
    ) -> Result<Stored, StoreError> {
        let def = resources::by_plural(resource);
        let key = (
            if def.namespaced {
                ns.to_string()
            } else {
                String::new()
            },
            name.to_string(),
        );
        let mut inner = self.write();
        let Some(old) = inner
            .objects
            .get(resource)
            .and_then(|m| m.get(&key))
            .cloned()
        else {
            return Err(not_found(def, name));
        };
        if let Some(want) = precondition_rv
            && want != old.rv.to_string()
        {
            return Err(conflict(def, name));
        }
        if dry_run {
            return Ok(old);
        }
        if let Some(objects) = inner.objects.get_mut(resource) {
            objects.remove(&key);
        }
        inner.rv += 1;
        let rv = inner.rv;
        let mut value = old.value();
        value["metadata"]["resourceVersion"] = json!(rv.to_string());
        let stored = index(&value, rv);
        self.publish(
            &mut inner,
            ChangeType::Deleted,
            resource,
            key,
            stored.clone(),
            None,
        );
        Ok(stored)
    }

    fn publish(
        &self,
        inner: &mut Inner,
        kind: ChangeType,
        resource: &'static str,
        key: Key,
        object: Stored,
        previous: Option<Stored>,
    ) {
        let change = Arc::new(Change {
            rv: object.rv,
            kind,
            resource,
            key,
            object,
            previous,
        });
        if inner.history.len() >= self.history_len
            && let Some(dropped) = inner.history.pop_front()
        {
            inner.floor = dropped.rv;
        }
        inner.history.push_back(change.clone());
        // Sending under the lock keeps the broadcast in resourceVersion order.
        let _ = self.tx.send(change);
    }
}
