//! The only code that writes to the cluster. It exists only in DRIVER mode: read-only
//! cockpits never construct it. Every write can be sent with `dryRun=All`, and every action is
//! journalled, in the cluster and in a local JSONL file.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::Utc;
use k8s_openapi::api::admissionregistration::v1::MutatingWebhookConfiguration;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Api, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::app::actions::{self, injection_labels};
use crate::app::records::{self, JournalEntry, UpgradeRecord};

#[derive(Debug, Clone, PartialEq)]
pub enum WriteError {
    /// The object changed since the preview: read it again and show a new preview.
    Conflict(String),
    /// RBAC refused: the message names the permission.
    Forbidden(String),
    Failed(String),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Conflict(m) => write!(f, "changed since the preview: {m}"),
            WriteError::Forbidden(m) => write!(f, "forbidden: {m}"),
            WriteError::Failed(m) => write!(f, "{m}"),
        }
    }
}

fn classify(e: kube::Error, what: &str) -> WriteError {
    match e {
        kube::Error::Api(s) if s.code == 409 => {
            WriteError::Conflict(format!("{what}: {}", s.message))
        }
        kube::Error::Api(s) if s.code == 403 => WriteError::Forbidden(format!(
            "{what} needs that permission, which your user lacks ({})",
            s.message
        )),
        other => WriteError::Failed(format!("{what}: {other}")),
    }
}

pub struct Writer {
    client: Client,
    pub dry_run: bool,
    pub who: String,
    journal_file: Option<PathBuf>,
}

/// What a write did: the exact bodies sent, for the journal.
pub type Sent = Value;

impl Writer {
    pub fn new(
        client: Client,
        dry_run: bool,
        who: String,
        journal_file: Option<PathBuf>,
    ) -> Writer {
        Writer {
            client,
            dry_run,
            who,
            journal_file,
        }
    }

    fn params(&self) -> PatchParams {
        PatchParams {
            dry_run: self.dry_run,
            field_manager: Some("istio-cockpit".into()),
            ..PatchParams::default()
        }
    }

    fn post(&self) -> PostParams {
        PostParams {
            dry_run: self.dry_run,
            field_manager: Some("istio-cockpit".into()),
        }
    }

    /// Reads the namespace and checks its injection labels are still those the user saw.
    async fn current_namespace(
        &self,
        ns: &str,
        expected: &BTreeMap<String, String>,
    ) -> Result<Namespace, WriteError> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let current = api
            .get(ns)
            .await
            .map_err(|e| classify(e, &format!("reading namespace {ns}")))?;
        let labels = current.metadata.labels.clone().unwrap_or_default();
        if injection_labels(&labels) != *expected {
            return Err(WriteError::Conflict(format!(
                "namespace {ns} now has {:?}",
                injection_labels(&labels)
            )));
        }
        Ok(current)
    }

    async fn patch_namespace(
        &self,
        current: &Namespace,
        mut body: Value,
        what: &str,
    ) -> Result<Sent, WriteError> {
        let name = current.metadata.name.clone().unwrap_or_default();
        // The resourceVersion makes the write conditional on nothing having changed since it was read.
        body["metadata"]["resourceVersion"] = json!(current.metadata.resource_version);
        let api: Api<Namespace> = Api::all(self.client.clone());
        api.patch(&name, &self.params(), &Patch::Merge(&body))
            .await
            .map_err(|e| classify(e, what))?;
        Ok(body)
    }

    /// One patch: the new label, `istio-injection` gone, the old labels kept in an annotation.
    pub async fn migrate(
        &self,
        ns: &str,
        expected: &BTreeMap<String, String>,
        to: &str,
    ) -> Result<Sent, WriteError> {
        let current = self.current_namespace(ns, expected).await?;
        let body = actions::migrate_patch(
            &current.metadata.labels.clone().unwrap_or_default(),
            &current.metadata.annotations.clone().unwrap_or_default(),
            to,
        );
        self.patch_namespace(&current, body, &format!("patching namespace {ns}"))
            .await
    }

    /// One patch restoring exactly the recorded labels.
    pub async fn revert(
        &self,
        ns: &str,
        expected: &BTreeMap<String, String>,
    ) -> Result<Sent, WriteError> {
        let current = self.current_namespace(ns, expected).await?;
        let body = actions::revert_patch(
            &current.metadata.labels.clone().unwrap_or_default(),
            &current.metadata.annotations.clone().unwrap_or_default(),
        )
        .map_err(WriteError::Failed)?;
        self.patch_namespace(&current, body, &format!("patching namespace {ns}"))
            .await
    }

    async fn restart_kind<K>(
        &self,
        ns: &str,
        kind: &str,
        at: &str,
        sent: &mut Vec<Value>,
    ) -> Result<(), WriteError>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + DeserializeOwned
            + std::fmt::Debug,
        <K as Resource>::DynamicType: Default,
    {
        let api: Api<K> = Api::namespaced(self.client.clone(), ns);
        let list = api
            .list_metadata(&ListParams::default())
            .await
            .map_err(|e| classify(e, &format!("listing {kind}s in {ns}")))?;
        let body = actions::restart_patch(at);
        for item in list.items {
            let name = item.metadata.name.unwrap_or_default();
            api.patch(&name, &self.params(), &Patch::Strategic(&body))
                .await
                .map_err(|e| classify(e, &format!("restarting {kind} {ns}/{name}")))?;
            sent.push(json!({"kind": kind, "name": name, "patch": body}));
        }
        Ok(())
    }

    /// Restarts every Deployment, StatefulSet and DaemonSet of a namespace, as
    /// `kubectl rollout restart` does. Repeating it is harmless.
    pub async fn restart(&self, ns: &str) -> Result<Sent, WriteError> {
        let at = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut sent = Vec::new();
        self.restart_kind::<Deployment>(ns, "Deployment", &at, &mut sent)
            .await?;
        self.restart_kind::<StatefulSet>(ns, "StatefulSet", &at, &mut sent)
            .await?;
        self.restart_kind::<DaemonSet>(ns, "DaemonSet", &at, &mut sent)
            .await?;
        Ok(json!(sent))
    }

    /// Points a revision tag at another revision, as `istioctl tag set --overwrite` does: its
    /// webhooks call `istiod-<to>` and its `istio.io/rev` label names `to`.
    pub async fn move_tag(&self, tag: &str, from: &str, to: &str) -> Result<Sent, WriteError> {
        let api: Api<MutatingWebhookConfiguration> = Api::all(self.client.clone());
        let name = format!("istio-revision-tag-{tag}");
        let current = api
            .get(&name)
            .await
            .map_err(|e| classify(e, &format!("reading {name}")))?;
        let now_on = current
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("istio.io/rev"))
            .cloned()
            .unwrap_or_default();
        if now_on != from {
            return Err(WriteError::Conflict(format!(
                "tag {tag} now points at {now_on}"
            )));
        }
        let mut ops = vec![
            json!({"op": "test", "path": "/metadata/resourceVersion", "value": current.metadata.resource_version}),
            json!({"op": "replace", "path": "/metadata/labels/istio.io~1rev", "value": to}),
        ];
        let annotation = json!({actions::PREVIOUS_REVISION: from});
        if current.metadata.annotations.is_none() {
            ops.push(json!({"op": "add", "path": "/metadata/annotations", "value": annotation}));
        } else {
            ops.push(json!({"op": "add", "path": "/metadata/annotations/istio-cockpit.io~1previous-revision", "value": from}));
        }
        for (i, hook) in current.webhooks.iter().flatten().enumerate() {
            if hook.client_config.service.is_some() {
                ops.push(json!({"op": "replace", "path": format!("/webhooks/{i}/clientConfig/service/name"), "value": format!("istiod-{to}")}));
            }
        }
        let body = json!(ops);
        let patch: json_patch::Patch = serde_json::from_value(body.clone())
            .map_err(|e| WriteError::Failed(format!("building the tag patch: {e}")))?;
        api.patch(&name, &self.params(), &Patch::<()>::Json(patch))
            .await
            .map_err(|e| classify(e, &format!("patching {name}")))?;
        Ok(body)
    }

    /// Writes the upgrade record (phase and start times) for every cockpit to see.
    pub async fn record_upgrade(&self, record: &UpgradeRecord) -> Result<Sent, WriteError> {
        let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), records::NAMESPACE);
        let data = record.to_data();
        let body = json!({"metadata": {"name": records::UPGRADE, "labels": managed_labels()}, "data": data});
        let params = PatchParams {
            dry_run: self.dry_run,
            ..PatchParams::apply("istio-cockpit").force()
        };
        let with_kind = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": body["metadata"], "data": body["data"]});
        api.patch(records::UPGRADE, &params, &Patch::Apply(&with_kind))
            .await
            .map_err(|e| classify(e, "recording the upgrade phase"))?;
        Ok(body)
    }

    /// Appends to the local JSONL journal and to the cluster's (bounded) journal ConfigMap.
    pub async fn journal(&self, entry: &JournalEntry) -> Result<(), WriteError> {
        if let Some(path) = &self.journal_file {
            let line = serde_json::to_string(entry).unwrap_or_default();
            let written = (|| -> std::io::Result<()> {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?;
                writeln!(f, "{line}")
            })();
            if let Err(e) = written {
                log::warn!("cannot append to the journal file {}: {e}", path.display());
            }
        }
        if self.dry_run {
            // A dry run leaves the cluster untouched, its journal included.
            return Ok(());
        }
        let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), records::NAMESPACE);
        for _ in 0..5 {
            let (mut entries, rv) = match api
                .get_opt(records::JOURNAL)
                .await
                .map_err(|e| classify(e, "reading the journal"))?
            {
                Some(cm) => (
                    records::journal_from_configmap(&cm),
                    cm.metadata.resource_version,
                ),
                None => (Vec::new(), None),
            };
            entries.push(entry.clone());
            let skip = entries.len().saturating_sub(records::JOURNAL_KEEP);
            entries.drain(..skip);
            let cm = ConfigMap {
                metadata: ObjectMeta {
                    name: Some(records::JOURNAL.into()),
                    namespace: Some(records::NAMESPACE.into()),
                    labels: Some(managed_labels()),
                    resource_version: rv.clone(),
                    ..ObjectMeta::default()
                },
                data: Some(BTreeMap::from([(
                    "entries".to_string(),
                    serde_json::to_string(&entries).unwrap_or_default(),
                )])),
                ..ConfigMap::default()
            };
            let result = match rv {
                Some(_) => api.replace(records::JOURNAL, &self.post(), &cm).await,
                None => api.create(&self.post(), &cm).await,
            };
            match result {
                Ok(_) => return Ok(()),
                // Another cockpit appended at the same moment: read again and retry.
                Err(kube::Error::Api(s)) if s.code == 409 => continue,
                Err(e) => return Err(classify(e, "appending to the journal")),
            }
        }
        Err(WriteError::Failed(
            "the journal kept changing; entry not recorded in the cluster".into(),
        ))
    }

    /// Gives the lease up (a clean exit), so another cockpit may drive at once.
    pub async fn release_lease(&self) {
        if self.dry_run {
            return;
        }
        let api: Api<Lease> = Api::namespaced(self.client.clone(), records::NAMESPACE);
        let Ok(Some(lease)) = api.get_opt(records::LEASE).await else {
            return;
        };
        if records::Driver::from_lease(&lease).is_some_and(|d| d.holder == self.who) {
            let precondition = kube::api::DeleteParams {
                preconditions: Some(kube::api::Preconditions {
                    resource_version: lease.metadata.resource_version.clone(),
                    uid: None,
                }),
                ..kube::api::DeleteParams::default()
            };
            if let Err(e) = api.delete(records::LEASE, &precondition).await {
                log::warn!("could not release the driver lease: {e}");
            }
        }
    }

    /// Takes or renews the driver lease. `force` takes it from another holder.
    pub async fn hold_lease(&self, force: bool) -> Result<(), WriteError> {
        let api: Api<Lease> = Api::namespaced(self.client.clone(), records::NAMESPACE);
        let now = MicroTime(k8s_openapi::jiff::Timestamp::now());
        let current = api
            .get_opt(records::LEASE)
            .await
            .map_err(|e| classify(e, "reading the driver lease"))?;
        if self.dry_run {
            // A rehearsal writes nothing, the lease included: it drives only if nobody else does.
            let holder = current.as_ref().and_then(records::Driver::from_lease);
            return match holder {
                Some(d) if d.holder != self.who && !d.expired(Utc::now()) && !force => {
                    Err(WriteError::Conflict(format!("{} drives", d.holder)))
                }
                _ => Ok(()),
            };
        }
        let Some(mut lease) = current else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(records::LEASE.into()),
                    namespace: Some(records::NAMESPACE.into()),
                    labels: Some(managed_labels()),
                    ..ObjectMeta::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(self.who.clone()),
                    acquire_time: Some(now.clone()),
                    renew_time: Some(now),
                    lease_duration_seconds: Some(records::LEASE_SECONDS),
                    ..LeaseSpec::default()
                }),
            };
            let create = PostParams::default();
            return api
                .create(&create, &lease)
                .await
                .map(|_| ())
                .map_err(|e| classify(e, "creating the driver lease"));
        };
        let driver = records::Driver::from_lease(&lease);
        let mine = driver.as_ref().is_some_and(|d| d.holder == self.who);
        let free = driver.as_ref().is_none_or(|d| d.expired(Utc::now()));
        if !mine && !free && !force {
            let d = driver.expect("held");
            return Err(WriteError::Conflict(format!("{} drives", d.holder)));
        }
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if !mine {
            spec.holder_identity = Some(self.who.clone());
            spec.acquire_time = Some(now.clone());
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
        }
        spec.renew_time = Some(now);
        spec.lease_duration_seconds = Some(records::LEASE_SECONDS);
        api.replace(records::LEASE, &PostParams::default(), &lease)
            .await
            .map(|_| ())
            .map_err(|e| classify(e, "renewing the driver lease"))
    }
}

fn managed_labels() -> BTreeMap<String, String> {
    BTreeMap::from([(
        "app.kubernetes.io/managed-by".to_string(),
        "istio-cockpit".to_string(),
    )])
}
