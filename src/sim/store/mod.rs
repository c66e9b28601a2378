//! The simulated cluster's object store: one resourceVersion counter for every object, a
//! bounded history of changes for watch resumption, and a broadcast of live changes.
//!
//! Objects are kept as serialized JSON plus the few fields selectors need, so a list of
//! 50,000 pods is a concatenation of byte strings rather than a re-serialization.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use bytes::Bytes;
use chrono::{SecondsFormat, Utc};
use serde_json::Value;
use tokio::sync::broadcast;

use super::names;
use super::resources::{self, ResourceDef};
use super::validation;
use crate::k8s::selector::{FieldSelector, LabelSelector};

mod write;

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
            // Events only, and rarely asked: read from the object itself.
            _ => field.strip_prefix("involvedObject.").and_then(|f| {
                self.value()["involvedObject"][f]
                    .as_str()
                    .map(str::to_string)
            }),
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
    /// Where `uid_seq` started: each cluster of a fleet numbers its generated names and UIDs
    /// from its own base, so they stay unique across the fleet.
    name_base: u64,
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

    /// Numbers this store's generated names and UIDs from `base` (before anything is stored).
    pub fn number_names_from(&self, base: u64) {
        let mut inner = self.write();
        inner.name_base = base;
        inner.uid_seq = inner.uid_seq.max(base);
    }

    /// The base `number_names_from` set; 0 for a lone cluster.
    pub fn name_base(&self) -> u64 {
        self.read().name_base
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
mod tests;
