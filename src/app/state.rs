//! The cockpit's state: plain data, changed only by `update`, read by `draw`.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::event::{Stream, StreamStatus};
use crate::mesh::namespace_facts::{self, NamespaceFacts};
use crate::mesh::{Cluster, Mesh};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// This cockpit holds the driver lease and may write.
    Driver,
    /// It may write, but another cockpit (named) holds the lease: it watches until it takes over.
    Follower(String),
    /// Why writing is impossible: `--read-only`, or the user's RBAC.
    ReadOnly(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Pane {
    ControlPlanes,
    Namespaces,
    Pods,
    Logs,
}

impl Pane {
    pub const ORDER: [Pane; 4] = [
        Pane::ControlPlanes,
        Pane::Namespaces,
        Pane::Pods,
        Pane::Logs,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Pane::ControlPlanes => "Control planes",
            Pane::Namespaces => "Namespaces",
            Pane::Pods => "Pods",
            Pane::Logs => "istiod logs",
        }
    }

    pub fn next(self) -> Pane {
        let i = Pane::ORDER.iter().position(|p| *p == self).unwrap_or(0);
        Pane::ORDER[(i + 1) % Pane::ORDER.len()]
    }

    pub fn previous(self) -> Pane {
        let i = Pane::ORDER.iter().position(|p| *p == self).unwrap_or(0);
        Pane::ORDER[(i + Pane::ORDER.len() - 1) % Pane::ORDER.len()]
    }
}

/// A scrolled table: the selected row (by index into the filtered rows) and the first row shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scroll {
    pub selected: usize,
    pub offset: usize,
}

impl Scroll {
    /// Moves the selection by `delta` within `len` rows and keeps it inside a viewport of
    /// `height` rows.
    pub fn move_by(&mut self, delta: isize, len: usize, height: usize) {
        if len == 0 {
            *self = Scroll::default();
            return;
        }
        self.selected = self.selected.saturating_add_signed(delta).min(len - 1);
        self.fit(len, height);
    }

    pub fn fit(&mut self, len: usize, height: usize) {
        let height = height.max(1);
        if len == 0 {
            *self = Scroll::default();
            return;
        }
        self.selected = self.selected.min(len - 1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        self.offset = self.offset.min(len.saturating_sub(height));
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub text: String,
    /// True while the user is typing it.
    pub editing: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ui {
    pub focus: Pane,
    pub width: u16,
    pub height: u16,
    pub control_planes: Scroll,
    pub namespaces: Scroll,
    /// The namespace the pods pane shows, by name, so updates never change it.
    pub selected_namespace: Option<String>,
    pub pods: Scroll,
    pub selected_pod: Option<String>,
    /// Selected log line by sequence number; None while following.
    pub log_cursor: Option<u64>,
    pub follow: bool,
    pub nack_only: bool,
    pub filters: BTreeMap<Pane, Filter>,
    pub show_cockpit_log: bool,
    /// The journal of actions in place of the istiod logs.
    pub show_journal: bool,
    /// The metrics pane in place of the istiod logs.
    pub show_metrics: bool,
    pub show_help: bool,
    /// A one-line message for the user (e.g. why a key did nothing).
    pub notice: Option<String>,
    /// A rollback trigger is breached: the banner takes a row.
    pub breach_banner: bool,
}

impl Default for Ui {
    fn default() -> Self {
        Ui {
            focus: Pane::Namespaces,
            width: 80,
            height: 24,
            control_planes: Scroll::default(),
            namespaces: Scroll::default(),
            selected_namespace: None,
            pods: Scroll::default(),
            selected_pod: None,
            log_cursor: None,
            follow: true,
            nack_only: false,
            filters: BTreeMap::new(),
            show_cockpit_log: false,
            show_journal: false,
            show_metrics: false,
            show_help: false,
            notice: None,
            breach_banner: false,
        }
    }
}

impl Ui {
    pub fn filter(&self, pane: Pane) -> &str {
        self.filters.get(&pane).map_or("", |f| f.text.as_str())
    }

    pub fn editing_filter(&self) -> Option<Pane> {
        self.filters
            .iter()
            .find(|(_, f)| f.editing)
            .map(|(p, _)| *p)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StreamHealth {
    pub status: StreamStatus,
    pub last_event: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct State {
    pub context: String,
    pub mode: Mode,
    /// What the watchers saw of the cluster.
    pub cluster: Cluster,
    pub streams: BTreeMap<Stream, StreamHealth>,
    pub now: DateTime<Utc>,
    pub ui: Ui,
    /// Something visible changed since the last frame.
    pub dirty: bool,
    pub quit: bool,
    /// Who this cockpit is (`user@host`).
    pub me: String,
    /// Writes are sent with `dryRun=All`.
    pub dry_run: bool,
    /// The preview or question on screen, if any.
    pub dialog: Option<super::drive::Dialog>,
    /// Writes confirmed by the user, waiting for the executor. Drained by the loop.
    pub commands: Vec<super::drive::Command>,
    /// Namespaces being migrated or reverted, and towards which revision.
    pub activity: BTreeMap<String, super::activity::Activity>,
    /// The upgrade plan: from `--plan`, completed by, or else derived from, the live state
    /// once it is first complete.
    pub plan: Option<crate::plan::model::Plan>,
    /// The `--plan` file, until it can be resolved against the live state.
    pub plan_file: Option<crate::plan::file::PlanFile>,
    /// Why there is no plan, when there is none.
    pub plan_problem: Option<String>,
    /// The wave (`M`) the user confirmed, as it runs, or as it stopped.
    pub wave: Option<super::wave::WaveRun>,
    /// The wave whose end this cockpit has sent to the upgrade record.
    pub wave_end_sent: Option<String>,
    /// Rounds of metrics, newest last, bounded.
    pub metrics: std::collections::VecDeque<crate::metrics::reading::Reading>,
    /// Baselines and rollback triggers, fed by the metrics.
    pub guard: crate::plan::triggers::Guard,
    /// The triggers as last judged.
    pub findings: Vec<crate::plan::triggers::Finding>,
    /// Namespaces `auto_rollback` has sent back, until they leave the new revision.
    pub auto_rolled_back: std::collections::BTreeSet<String>,
}

impl State {
    pub fn new(
        context: impl Into<String>,
        mode: Mode,
        log_capacity: usize,
        now: DateTime<Utc>,
    ) -> State {
        State {
            context: context.into(),
            mode,
            cluster: Cluster::new(log_capacity),
            streams: BTreeMap::new(),
            now,
            ui: Ui::default(),
            dirty: true,
            quit: false,
            me: String::new(),
            dry_run: false,
            dialog: None,
            commands: Vec::new(),
            activity: BTreeMap::new(),
            plan: None,
            plan_file: None,
            plan_problem: None,
            wave: None,
            wave_end_sent: None,
            metrics: std::collections::VecDeque::new(),
            guard: Default::default(),
            findings: Vec::new(),
            auto_rolled_back: Default::default(),
        }
    }

    /// The mesh as the plan (or, without one, the live state) frames the upgrade.
    pub fn mesh(&self) -> Mesh {
        let upgrade = self.plan.as_ref().map(|p| (p.from.as_str(), p.to.as_str()));
        Mesh::of(&self.cluster, upgrade)
    }

    /// What every namespace's labels select, with the plan's waves.
    pub fn namespace_facts(&self) -> Arc<NamespaceFacts> {
        match &self.plan {
            Some(plan) => plan.namespace_facts(&self.cluster),
            None => namespace_facts::of(&self.cluster, std::iter::empty()),
        }
    }
}
