//! The only code that writes to the cluster. Read-only cockpits never construct it. Every
//! write passes one gate (`gate`: the driver lease held with time left), can be sent with
//! `dryRun=All`, and is prepared first so its exact body can be journalled before it is sent.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

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
use crate::app::event::WriteError;
use crate::cluster::lease::Fence;
use crate::mesh::records::{self, JournalEntry, UpgradeRecord};

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

#[derive(Clone)]
pub struct Writer {
    client: Client,
    pub dry_run: bool,
    /// Who the journal names: the API server's name for the user, else `user@host`.
    pub who: String,
    /// This process's lease holder identity (`crate::cluster::identity::process_identity`).
    pub id: String,
    journal_file: Option<PathBuf>,
    pub fence: Arc<Fence>,
    /// The lease term the command being carried out was confirmed in.
    pub term: u64,
}

/// What a write did: the exact bodies sent, for the journal.
pub type Sent = Value;

/// A namespace patch ready to send: conditional on the resourceVersion it was built from.
#[derive(Debug, Clone)]
pub struct NamespacePatch {
    pub name: String,
    pub body: Value,
}

/// A tag move ready to send: the webhook configuration and its JSON patch.
#[derive(Debug, Clone)]
pub struct TagPatch {
    pub name: String,
    pub ops: Value,
}

/// The workloads a restart will patch, and the patch.
#[derive(Debug, Clone)]
pub struct Restart {
    pub namespace: String,
    /// (kind, name)
    pub workloads: Vec<(String, String)>,
    pub patch: Value,
}

impl Restart {
    /// Exactly what will be sent, one entry per workload.
    pub fn body(&self) -> Value {
        json!(
            self.workloads
                .iter()
                .map(|(kind, name)| json!({"kind": kind, "name": name, "patch": self.patch}))
                .collect::<Vec<_>>()
        )
    }
}

impl Writer {
    pub fn new(
        client: Client,
        dry_run: bool,
        who: String,
        id: String,
        journal_file: Option<PathBuf>,
    ) -> Writer {
        Writer {
            client,
            dry_run,
            who,
            id,
            journal_file,
            fence: Arc::new(Fence::default()),
            term: 0,
        }
    }

    /// The one gate before every write request: the lease held, with time left, in the term
    /// the write was confirmed in.
    pub fn gate(&self) -> Result<(), WriteError> {
        self.fence
            .check(tokio::time::Instant::now(), self.term)
            .map_err(|closed| WriteError::NotDriving(closed.to_string()))
    }

    /// Reads the lease once to confirm this process still holds it, before a batch of writes
    /// begins (another cockpit may have taken over since the last renewal).
    pub async fn confirm_holder(&self) -> Result<(), WriteError> {
        self.gate()?;
        if self.dry_run {
            // A rehearsal does not hold the lease in the cluster: the fence alone decides.
            return Ok(());
        }
        let holder = self
            .read_lease()
            .await?
            .as_ref()
            .and_then(records::Driver::from_lease)
            .map(|d| d.holder);
        match holder {
            Some(h) if h == self.id => Ok(()),
            Some(h) => Err(WriteError::NotDriving(format!(
                "{} drives now",
                records::display_holder(&h)
            ))),
            None => Err(WriteError::NotDriving(
                "the driver lease is gone (released or expired)".into(),
            )),
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

    fn conditional(current: &Namespace, mut body: Value) -> NamespacePatch {
        // The resourceVersion makes the write conditional on nothing having changed since it was read.
        body["metadata"]["resourceVersion"] = json!(current.metadata.resource_version);
        NamespacePatch {
            name: current.metadata.name.clone().unwrap_or_default(),
            body,
        }
    }

    /// Sends a prepared namespace patch.
    pub async fn patch_namespace(&self, patch: &NamespacePatch) -> Result<Sent, WriteError> {
        self.gate()?;
        let api: Api<Namespace> = Api::all(self.client.clone());
        api.patch(&patch.name, &self.params(), &Patch::Merge(&patch.body))
            .await
            .map_err(|e| classify(e, &format!("patching namespace {}", patch.name)))?;
        Ok(patch.body.clone())
    }

    /// One patch: the new label, `istio-injection` gone, the old labels kept in an annotation.
    pub async fn prepare_migrate(
        &self,
        ns: &str,
        expected: &BTreeMap<String, String>,
        to: &str,
    ) -> Result<NamespacePatch, WriteError> {
        let current = self.current_namespace(ns, expected).await?;
        let body = actions::migrate_patch(
            &current.metadata.labels.clone().unwrap_or_default(),
            &current.metadata.annotations.clone().unwrap_or_default(),
            to,
        );
        Ok(Self::conditional(&current, body))
    }

    /// One patch restoring exactly the recorded labels.
    pub async fn prepare_revert(
        &self,
        ns: &str,
        expected: &BTreeMap<String, String>,
    ) -> Result<NamespacePatch, WriteError> {
        let current = self.current_namespace(ns, expected).await?;
        let body = actions::revert_patch(
            &current.metadata.labels.clone().unwrap_or_default(),
            &current.metadata.annotations.clone().unwrap_or_default(),
        )
        .map_err(|e| WriteError::Failed(e.to_string()))?;
        Ok(Self::conditional(&current, body))
    }

    async fn names_of<K>(&self, ns: &str, kind: &str) -> Result<Vec<(String, String)>, WriteError>
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
        Ok(list
            .items
            .into_iter()
            .map(|item| (kind.to_string(), item.metadata.name.unwrap_or_default()))
            .collect())
    }

    async fn restart_one<K>(&self, ns: &str, name: &str, body: &Value) -> Result<(), WriteError>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + DeserializeOwned
            + std::fmt::Debug,
        <K as Resource>::DynamicType: Default,
    {
        self.gate()?;
        let api: Api<K> = Api::namespaced(self.client.clone(), ns);
        api.patch(name, &self.params(), &Patch::Strategic(body))
            .await
            .map(|_| ())
            .map_err(|e| {
                let kind = K::kind(&Default::default()).into_owned();
                classify(e, &format!("restarting {kind} {ns}/{name}"))
            })
    }

    /// The Deployments, StatefulSets and DaemonSets of a namespace a restart will patch, as
    /// `kubectl rollout restart` does.
    pub async fn prepare_restart(&self, ns: &str) -> Result<Restart, WriteError> {
        let at = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut workloads = self.names_of::<Deployment>(ns, "Deployment").await?;
        workloads.extend(self.names_of::<StatefulSet>(ns, "StatefulSet").await?);
        workloads.extend(self.names_of::<DaemonSet>(ns, "DaemonSet").await?);
        Ok(Restart {
            namespace: ns.to_string(),
            workloads,
            patch: actions::restart_patch(&at),
        })
    }

    /// Sends a prepared restart, one patch per workload, each through the gate. Repeating it
    /// is harmless.
    pub async fn restart(&self, restart: &Restart) -> Result<Sent, WriteError> {
        let ns = &restart.namespace;
        for (kind, name) in &restart.workloads {
            match kind.as_str() {
                "Deployment" => {
                    self.restart_one::<Deployment>(ns, name, &restart.patch)
                        .await?;
                }
                "StatefulSet" => {
                    self.restart_one::<StatefulSet>(ns, name, &restart.patch)
                        .await?;
                }
                _ => {
                    self.restart_one::<DaemonSet>(ns, name, &restart.patch)
                        .await?;
                }
            }
        }
        Ok(restart.body())
    }

    /// Points a revision tag at another revision, as `istioctl tag set --overwrite` does: its
    /// webhooks call `istiod-<to>` and its `istio.io/rev` label names `to`.
    pub async fn prepare_tag(
        &self,
        tag: &str,
        from: &str,
        to: &str,
    ) -> Result<TagPatch, WriteError> {
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
            // A remote's webhooks call the primary's istiod by URL (through its east-west
            // gateway): the revision is named in the URL instead.
            if let Some(url) = &hook.client_config.url {
                let moved = url_for_revision(url, from, to);
                if moved != *url {
                    ops.push(json!({"op": "test", "path": format!("/webhooks/{i}/clientConfig/url"), "value": url}));
                    ops.push(json!({"op": "replace", "path": format!("/webhooks/{i}/clientConfig/url"), "value": moved}));
                }
            }
        }
        Ok(TagPatch {
            name,
            ops: json!(ops),
        })
    }

    /// Sends a prepared tag move.
    pub async fn move_tag(&self, tag: &TagPatch) -> Result<Sent, WriteError> {
        self.gate()?;
        let patch: json_patch::Patch = serde_json::from_value(tag.ops.clone())
            .map_err(|e| WriteError::Failed(format!("building the tag patch: {e}")))?;
        let api: Api<MutatingWebhookConfiguration> = Api::all(self.client.clone());
        api.patch(&tag.name, &self.params(), &Patch::<()>::Json(patch))
            .await
            .map_err(|e| classify(e, &format!("patching {}", tag.name)))?;
        Ok(tag.ops.clone())
    }

    /// The body that records the upgrade (phase and start times).
    pub fn upgrade_body(record: &UpgradeRecord) -> Value {
        json!({"metadata": {"name": records::UPGRADE, "labels": managed_labels()}, "data": record.to_data()})
    }

    /// Writes the upgrade record for every cockpit to see.
    pub async fn record_upgrade(&self, record: &UpgradeRecord) -> Result<Sent, WriteError> {
        self.gate()?;
        let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), records::NAMESPACE);
        let body = Self::upgrade_body(record);
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
                use std::io::Write;
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
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
            self.gate()?;
            let (mut entries, rv) = match api
                .get_opt(records::JOURNAL)
                .await
                .map_err(|e| classify(e, "reading the journal"))?
            {
                Some(cm) => (
                    crate::cluster::decode::journal_from_configmap(&cm),
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

    /// Gives the lease up (a clean exit), so another cockpit may drive at once: only when its
    /// holder is exactly this process, never another cockpit of the same user.
    pub async fn release_lease(&self) {
        self.fence.close();
        if self.dry_run {
            return;
        }
        let api: Api<Lease> = Api::namespaced(self.client.clone(), records::NAMESPACE);
        let Ok(Some(lease)) = api.get_opt(records::LEASE).await else {
            return;
        };
        if records::Driver::from_lease(&lease).is_some_and(|d| d.holder == self.id) {
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

    pub async fn read_lease(&self) -> Result<Option<Lease>, WriteError> {
        let api: Api<Lease> = Api::namespaced(self.client.clone(), records::NAMESPACE);
        api.get_opt(records::LEASE)
            .await
            .map_err(|e| classify(e, "reading the driver lease"))
    }

    /// Writes this process into the lease as just read (`current`), conditional on its
    /// resourceVersion: a 409 means someone else wrote it first. A rehearsal writes nothing.
    pub async fn write_lease(&self, current: Option<Lease>) -> Result<(), WriteError> {
        if self.dry_run {
            return Ok(());
        }
        let api: Api<Lease> = Api::namespaced(self.client.clone(), records::NAMESPACE);
        let now = MicroTime(k8s_openapi::jiff::Timestamp::now());
        let Some(mut lease) = current else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(records::LEASE.into()),
                    namespace: Some(records::NAMESPACE.into()),
                    labels: Some(managed_labels()),
                    ..ObjectMeta::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(self.id.clone()),
                    acquire_time: Some(now.clone()),
                    renew_time: Some(now),
                    lease_duration_seconds: Some(records::LEASE_SECONDS),
                    ..LeaseSpec::default()
                }),
            };
            return api
                .create(&PostParams::default(), &lease)
                .await
                .map(|_| ())
                .map_err(|e| classify(e, "creating the driver lease"));
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(self.id.as_str()) {
            spec.holder_identity = Some(self.id.clone());
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

/// A webhook URL that names revision `from` (`.../rev/<from>`, or a host `istiod-<from>.`),
/// naming `to` instead; any other URL as it is.
fn url_for_revision(url: &str, from: &str, to: &str) -> String {
    url.replace(&format!("/rev/{from}"), &format!("/rev/{to}"))
        .replace(&format!("istiod-{from}."), &format!("istiod-{to}."))
}

#[cfg(test)]
mod url_tests {
    use super::url_for_revision;

    #[test]
    fn a_remote_webhook_url_moves_to_the_new_revision() {
        let url = "https://203.0.113.10:15017/inject/cluster/remote-1/net/network-2/rev/1-24-0";
        assert_eq!(
            url_for_revision(url, "1-24-0", "1-25-0"),
            "https://203.0.113.10:15017/inject/cluster/remote-1/net/network-2/rev/1-25-0"
        );
        let host = "https://istiod-1-24-0.istio-system.svc:15017/inject";
        assert_eq!(
            url_for_revision(host, "1-24-0", "1-25-0"),
            "https://istiod-1-25-0.istio-system.svc:15017/inject"
        );
        let other = "https://istiod.istio-system.svc:15017/inject";
        assert_eq!(url_for_revision(other, "1-24-0", "1-25-0"), other);
    }
}
