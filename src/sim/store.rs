//! The simulated cluster's object store: one resourceVersion counter for every object, a
//! bounded history of changes for watch resumption, and a broadcast of live changes.
//!
//! Objects are kept as serialized JSON plus the few fields selectors need, so a list of
//! 50,000 pods is a concatenation of byte strings rather than a re-serialization.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use bytes::Bytes;
use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::names;
use super::resources::{self, ResourceDef};
use super::validation;
use crate::k8s::selector::{FieldSelector, LabelSelector};

/// How many changes are kept, by default, for watches that resume from an older resourceVersion.
pub const DEFAULT_HISTORY: usize = 50_000;
/// How many live changes a slow watcher may fall behind before its stream is ended.
const BROADCAST: usize = 32_768;

pub type Key = (String, String);
pub type ChangeReceiver = broadcast::Receiver<Arc<Change>>;

/// Cheap to clone (reference counts only), since lists and watches clone many under the lock.
#[derive(Debug, Clone)]
pub struct Stored {
    pub rv: u64,
    pub labels: Arc<BTreeMap<String, String>>,
    pub phase: Option<String>,
    pub node: Option<String>,
    pub raw: Bytes,
}

impl Stored {
    pub fn value(&self) -> Value {
        serde_json::from_slice(&self.raw).unwrap_or(Value::Null)
    }

    pub fn field(&self, key: &Key, field: &str) -> Option<String> {
        match field {
            "metadata.name" => Some(key.1.clone()),
            "metadata.namespace" => Some(key.0.clone()),
            "status.phase" => self.phase.clone(),
            "spec.nodeName" => self.node.clone(),
            _ => None,
        }
    }

    pub fn matches(&self, key: &Key, labels: &LabelSelector, fields: &FieldSelector) -> bool {
        labels.matches(&self.labels) && fields.matches(|f| self.field(key, f))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    Added,
    Modified,
    Deleted,
}

impl ChangeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Added => "ADDED",
            ChangeType::Modified => "MODIFIED",
            ChangeType::Deleted => "DELETED",
        }
    }
}

#[derive(Debug)]
pub struct Change {
    pub rv: u64,
    pub kind: ChangeType,
    pub resource: &'static str,
    pub key: Key,
    pub object: Stored,
    /// The object before a modification, so selector-filtered watches can tell an object
    /// leaving their selection.
    pub previous: Option<Stored>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StoreError {
    NotFound(String),
    AlreadyExists(String),
    Conflict(String),
    Invalid(String),
    BadRequest(String),
    Gone(String),
}

/// Called on every create, inside the store's lock, so that admission (sidecar injection)
/// sees exactly the objects that exist at that moment.
pub type Admission = Box<dyn Fn(&View<'_>, &'static str, &mut Value) + Send + Sync>;

pub struct Store {
    inner: RwLock<Inner>,
    history_len: usize,
    tx: broadcast::Sender<Arc<Change>>,
    admission: RwLock<Option<Admission>>,
}

#[derive(Default)]
struct Inner {
    rv: u64,
    /// Every change after this resourceVersion is still in `history`.
    floor: u64,
    uid_seq: u64,
    objects: HashMap<&'static str, BTreeMap<Key, Stored>>,
    history: VecDeque<Arc<Change>>,
}

/// Read access to the store for code running under its lock.
pub struct View<'a> {
    inner: &'a Inner,
}

impl View<'_> {
    pub fn get(&self, resource: &str, ns: &str, name: &str) -> Option<Value> {
        self.inner
            .objects
            .get(resource)?
            .get(&(ns.to_string(), name.to_string()))
            .map(Stored::value)
    }

    pub fn list(&self, resource: &str) -> Vec<Value> {
        self.inner
            .objects
            .get(resource)
            .map(|m| m.values().map(Stored::value).collect())
            .unwrap_or_default()
    }
}

pub struct ListResult {
    pub rv: u64,
    pub items: Vec<(Key, Stored)>,
    pub continue_token: Option<String>,
}

fn index(value: &Value, rv: u64) -> Stored {
    let labels: BTreeMap<String, String> = value["metadata"]["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    Stored {
        rv,
        labels: Arc::new(labels),
        phase: value["status"]["phase"].as_str().map(str::to_string),
        node: value["spec"]["nodeName"].as_str().map(str::to_string),
        raw: Bytes::from(serde_json::to_vec(value).unwrap_or_default()),
    }
}

pub fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Default for Store {
    fn default() -> Self {
        Self::new(DEFAULT_HISTORY)
    }
}

impl Store {
    /// A store that keeps `history_len` changes for watches resuming from the past.
    pub fn new(history_len: usize) -> Store {
        let (tx, _) = broadcast::channel(BROADCAST);
        Store {
            history_len: history_len.max(1),
            inner: RwLock::new(Inner {
                rv: 1000,
                floor: 1000,
                ..Inner::default()
            }),
            tx,
            admission: RwLock::new(None),
        }
    }

    // A panic under the lock must not wedge every later request: the guard is taken back from
    // a poisoned lock. Writers change `Inner` only after every check has passed.
    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn set_admission(&self, admission: Admission) {
        *self
            .admission
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(admission);
    }

    pub fn current_rv(&self) -> u64 {
        self.read().rv
    }

    pub fn get(&self, resource: &str, ns: &str, name: &str) -> Option<Stored> {
        let inner = self.read();
        inner
            .objects
            .get(resource)?
            .get(&(ns.to_string(), name.to_string()))
            .cloned()
    }

    pub fn get_value(&self, resource: &str, ns: &str, name: &str) -> Option<Value> {
        self.get(resource, ns, name).map(|s| s.value())
    }

    pub fn count(&self, resource: &str) -> usize {
        let inner = self.read();
        inner.objects.get(resource).map_or(0, BTreeMap::len)
    }

    /// Lists objects of a resource, in key order, optionally in one namespace. `after` is the
    /// key of the last object of the previous page.
    pub fn list(
        &self,
        resource: &str,
        ns: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
        limit: Option<usize>,
        after: Option<&Key>,
    ) -> ListResult {
        let inner = self.read();
        let mut items = Vec::new();
        let mut more = false;
        if let Some(map) = inner.objects.get(resource) {
            let start = match (after, ns) {
                (Some(k), _) => std::ops::Bound::Excluded(k.clone()),
                (None, Some(ns)) => std::ops::Bound::Included((ns.to_string(), String::new())),
                (None, None) => std::ops::Bound::Unbounded,
            };
            for (key, stored) in map.range((start, std::ops::Bound::Unbounded)) {
                if let Some(ns) = ns
                    && key.0 != ns
                {
                    break;
                }
                if !stored.matches(key, labels, fields) {
                    continue;
                }
                // One match past the page is enough to know another page follows.
                if limit.is_some_and(|l| items.len() >= l) {
                    more = true;
                    break;
                }
                items.push((key.clone(), stored.clone()));
            }
        }
        let continue_token = if more {
            items.last().map(|(k, _)| encode_continue(inner.rv, k))
        } else {
            None
        };
        ListResult {
            rv: inner.rv,
            items,
            continue_token,
        }
    }

    /// Up to `limit` keys of a resource, in key order, after `after`: a walk over every
    /// object in slices that hold the lock briefly and parse nothing.
    pub fn keys_after(&self, resource: &str, after: Option<&Key>, limit: usize) -> Vec<Key> {
        let inner = self.read();
        let Some(map) = inner.objects.get(resource) else {
            return Vec::new();
        };
        let start = match after {
            Some(k) => std::ops::Bound::Excluded(k.clone()),
            None => std::ops::Bound::Unbounded,
        };
        map.range((start, std::ops::Bound::Unbounded))
            .take(limit)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Every object of a resource as JSON, for controllers.
    pub fn values(&self, resource: &str, ns: Option<&str>) -> Vec<Value> {
        self.list(
            resource,
            ns,
            &LabelSelector::default(),
            &FieldSelector::default(),
            None,
            None,
        )
        .items
        .into_iter()
        .map(|(_, s)| s.value())
        .collect()
    }

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

    /// Subscribes to changes after `from_rv`. Returns the changes already past that point
    /// (from history) and a receiver for the rest, or `Gone` when history no longer reaches
    /// back that far.
    pub fn watch_from(
        &self,
        from_rv: u64,
    ) -> Result<(Vec<Arc<Change>>, ChangeReceiver), StoreError> {
        let inner = self.read();
        let rx = self.tx.subscribe();
        if from_rv >= inner.rv {
            return Ok((Vec::new(), rx));
        }
        if from_rv < inner.floor {
            return Err(StoreError::Gone(format!(
                "too old resource version: {from_rv} ({})",
                inner.floor
            )));
        }
        let backlog = inner
            .history
            .iter()
            .filter(|c| c.rv > from_rv)
            .cloned()
            .collect();
        Ok((backlog, rx))
    }

    /// Subscribes to live changes only, together with a snapshot of the current objects
    /// (for watches that start "from now" with initial ADDED events).
    pub fn watch_with_snapshot(
        &self,
        resource: &str,
        ns: Option<&str>,
    ) -> (u64, Vec<(Key, Stored)>, broadcast::Receiver<Arc<Change>>) {
        let inner = self.read();
        let rx = self.tx.subscribe();
        let items = inner
            .objects
            .get(resource)
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| ns.is_none_or(|ns| k.0 == ns))
                    .map(|(k, s)| (k.clone(), s.clone()))
                    .collect()
            })
            .unwrap_or_default();
        (inner.rv, items, rx)
    }

    /// Drops the recorded history: after the initial load no watcher can ask for it, and
    /// 50,000 pods' worth of creations would otherwise sit in memory.
    pub fn forget_history(&self) {
        let mut inner = self.write();
        inner.history.clear();
        inner.history.shrink_to_fit();
        inner.floor = inner.rv;
    }

    /// Subscribes to every live change (for the simulator's own controllers).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.tx.subscribe()
    }
}

fn not_found(def: &ResourceDef, name: &str) -> StoreError {
    StoreError::NotFound(format!("{} \"{name}\" not found", qualified(def)))
}

fn conflict(def: &ResourceDef, name: &str) -> StoreError {
    StoreError::Conflict(format!(
        "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
        qualified(def)
    ))
}

pub fn qualified(def: &ResourceDef) -> String {
    if def.group.is_empty() {
        def.plural.to_string()
    } else {
        format!("{}.{}", def.plural, def.group)
    }
}

fn validate_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "metadata.name: Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
        )))
    }
}

fn uid_for(seq: u64) -> String {
    let h = seq.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (h >> 32) as u32,
        (h >> 16) as u16,
        (h & 0xfff) as u16,
        (seq & 0xfff) as u16,
        seq
    )
}

pub fn encode_continue(rv: u64, key: &Key) -> String {
    let raw = format!("{rv}\u{1f}{}\u{1f}{}", key.0, key.1);
    raw.bytes().map(|b| format!("{b:02x}")).collect()
}

pub fn decode_continue(token: &str) -> Option<Key> {
    if !token.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(token.get(i..i + 2)?, 16).ok())
        .collect();
    let text = String::from_utf8(bytes?).ok()?;
    let mut parts = text.split('\u{1f}');
    let _rv = parts.next()?;
    Some((parts.next()?.to_string(), parts.next()?.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ns(name: &str) -> Value {
        json!({"metadata": {"name": name}})
    }

    #[test]
    fn watch_history_expires_exactly_at_its_floor() {
        let store = Store::new(3);
        for name in ["a", "b", "c", "d", "e"] {
            store.create("namespaces", "", ns(name)).unwrap();
        }
        let rv = store.current_rv();
        // Three changes kept: those after rv-3 can be replayed, older ones are gone.
        let (backlog, _) = store.watch_from(rv - 3).unwrap();
        assert_eq!(backlog.len(), 3);
        assert!(matches!(store.watch_from(rv - 4), Err(StoreError::Gone(_))));
        store.forget_history();
        assert!(matches!(store.watch_from(rv - 1), Err(StoreError::Gone(_))));
        assert!(store.watch_from(rv).unwrap().0.is_empty());
    }

    #[test]
    fn a_panic_under_the_lock_does_not_wedge_the_store() {
        let store = Store::default();
        store.create("namespaces", "", ns("a")).unwrap();
        store.set_admission(Box::new(|_, _, _| panic!("a bug in admission")));
        let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            store.create("namespaces", "", ns("b"))
        }));
        assert!(failed.is_err());
        // Both locks were held when it panicked; reads and writes go on.
        store.set_admission(Box::new(|_, _, _| {}));
        store.create("namespaces", "", ns("c")).unwrap();
        assert_eq!(store.count("namespaces"), 2);
        assert!(store.get("namespaces", "", "b").is_none());
    }

    #[test]
    fn key_slices_walk_every_object_once() {
        let store = Store::default();
        for name in ["a", "b", "c", "d", "e"] {
            store.create("namespaces", "", ns(name)).unwrap();
        }
        let (mut seen, mut after) = (Vec::new(), None);
        loop {
            let slice = store.keys_after("namespaces", after.as_ref(), 2);
            let Some(last) = slice.last().cloned() else {
                break;
            };
            seen.extend(slice.into_iter().map(|k| k.1));
            after = Some(last);
        }
        assert_eq!(seen, ["a", "b", "c", "d", "e"]);
        assert!(store.keys_after("pods", None, 2).is_empty());
    }

    #[test]
    fn pages_continue_where_the_last_one_ended() {
        let store = Store::default();
        for name in ["a", "b", "c", "d", "e"] {
            store.create("namespaces", "", ns(name)).unwrap();
        }
        let all = LabelSelector::default();
        let none = FieldSelector::default();
        let first = store.list("namespaces", None, &all, &none, Some(2), None);
        let token = first.continue_token.expect("more pages");
        let after = decode_continue(&token).unwrap();
        let second = store.list("namespaces", None, &all, &none, Some(3), Some(&after));
        let names: Vec<&str> = first
            .items
            .iter()
            .chain(&second.items)
            .map(|(k, _)| k.1.as_str())
            .collect();
        assert_eq!(names, ["a", "b", "c", "d", "e"]);
        assert!(second.continue_token.is_none());
    }

    #[test]
    fn stale_writes_conflict_and_unchanged_writes_keep_the_version() {
        let store = Store::default();
        let created = store.create("namespaces", "", ns("a")).unwrap();
        let stale = created.value();
        let changed = store
            .modify("namespaces", "", "a", |v| {
                let mut v = v.clone();
                v["metadata"]["labels"] = json!({"x": "1"});
                Ok(v)
            })
            .unwrap();
        assert!(changed.rv > created.rv);
        assert!(matches!(
            store.update("namespaces", "", "a", stale),
            Err(StoreError::Conflict(_))
        ));
        let same = store
            .modify("namespaces", "", "a", |v| Ok(v.clone()))
            .unwrap();
        assert_eq!(same.rv, changed.rv);
    }

    #[test]
    fn generated_names_and_spec_changes_bump_what_kubernetes_bumps() {
        let store = Store::default();
        store.create("namespaces", "", ns("apps")).unwrap();
        let d = store
            .create(
                "deployments",
                "apps",
                json!({"metadata": {"generateName": "web-"}, "spec": {"replicas": 1}}),
            )
            .unwrap()
            .value();
        let name = d["metadata"]["name"].as_str().unwrap().to_string();
        assert!(name.starts_with("web-") && name.len() == 9, "{name}");
        assert_eq!(d["metadata"]["generation"], 1);
        let scaled = store
            .modify("deployments", "apps", &name, |v| {
                let mut v = v.clone();
                v["spec"]["replicas"] = json!(3);
                Ok(v)
            })
            .unwrap()
            .value();
        assert_eq!(scaled["metadata"]["generation"], 2);
        let status_only = store
            .modify("deployments", "apps", &name, |v| {
                let mut v = v.clone();
                v["status"] = json!({"replicas": 3});
                Ok(v)
            })
            .unwrap()
            .value();
        assert_eq!(status_only["metadata"]["generation"], 2);
        assert!(matches!(
            store.create(
                "pods",
                "missing",
                json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}})
            ),
            Err(StoreError::NotFound(_))
        ));
    }
}
