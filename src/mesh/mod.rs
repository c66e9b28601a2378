//! The domain: the Istio and Kubernetes facts the cockpit reasons about, with no terminal,
//! runtime or API client behind them.
//!
//! - `cluster`: what the watchers saw of one cluster, kept as plain collections; `fleet`:
//!   what one cluster of several knows of the others
//! - `pod`, `resources`: what the cockpit keeps of pods, namespaces, injector webhooks and
//!   DaemonSets (decoded from API objects by `cluster::decode`)
//! - `injection`: which revision a namespace's labels select, through the tags;
//!   `namespace_facts`: that answer for every namespace, kept until it changes;
//!   `namespace_selector`: namespaces by name or label selector, as waves pick them
//! - `version`: Istio versions, revision names and the supported skew
//! - `revisions`, `rows`: the mesh's revisions and tags, and the rows derived from them
//! - `tally`: counts of the pods, kept as they change; `collection`: a watched collection
//! - `istiod_log`, `logs`: istiod's log lines, their NACKs, and the ring that keeps them
//! - `records`: the cockpit's own records in the cluster (upgrade, journal, driver);
//!   `journal`: the words of the journal's entries, read as kinds
//! - `manual_restart`: pods a rollout restart cannot move; `sorted_join`: many names
//!   looked up in one walk

pub mod cluster;
pub mod collection;
pub mod fleet;
pub mod injection;
pub mod istiod_log;
pub mod journal;
pub mod logs;
pub mod manual_restart;
pub mod namespace_facts;
pub mod namespace_selector;
pub mod pod;
pub mod records;
pub mod resources;
pub mod revisions;
pub mod rows;
pub mod sorted_join;
pub mod tally;
pub mod version;

pub use cluster::Cluster;
pub use revisions::Mesh;
