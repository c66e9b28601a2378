//! The cockpit's state: plain data, changed only by `update`, read by `draw`. It holds the
//! session (who, where, when), the cluster's facts, the drive of the upgrade, the metrics, and
//! the screen.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::activity::Activity;
use super::drive::Dialog;
use super::event::{Stream, StreamStatus};
use super::wave::WaveRun;
use crate::mesh::fleet::FleetFacts;
use crate::mesh::namespace_facts::{self, NamespaceFacts};
use crate::mesh::{Cluster, Mesh};
use crate::metrics::reading::Reading;
use crate::plan::file::PlanFile;
use crate::plan::model::Plan;
use crate::plan::triggers::{Finding, Guard};

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

/// What covers the panes, besides a dialog of the drive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Overlay {
    #[default]
    None,
    /// The keys (`?`); any key closes it.
    Help,
}

/// What the bottom pane shows: the istiod logs, or in their place the journal (`J`) or the
/// metrics (`P`). Each key toggles its own view and leaves the other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BottomPane {
    #[default]
    IstiodLogs,
    Journal,
    Metrics,
    Checks,
    /// One pod's events, proxy log, proxy status or YAML (`State::triage`).
    Triage,
}

impl BottomPane {
    /// `view` if it is not shown yet, else back to the istiod logs.
    pub fn toggled(self, view: BottomPane) -> BottomPane {
        if self == view {
            BottomPane::IstiodLogs
        } else {
            view
        }
    }
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
    pub bottom: BottomPane,
    /// The cockpit's own log (`L`): beside the bottom pane when wide, in its place when narrow,
    /// whichever view that pane shows.
    pub cockpit_log: bool,
    pub overlay: Overlay,
    /// A one-line message for the user (e.g. why a key did nothing).
    pub notice: Option<String>,
    /// A rollback trigger is breached: the banner takes a row.
    pub breach_banner: bool,
    /// Which key does what: the defaults, or the user's keys file.
    pub keys: std::sync::Arc<super::keymap::Keymap>,
    /// The `:` command line, while it is open.
    pub command_line: Option<super::command_line::CommandLine>,
    /// The fleet's cluster names, for `:ctx`; empty on one cluster.
    pub clusters: Vec<String>,
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
            bottom: BottomPane::default(),
            cockpit_log: false,
            overlay: Overlay::default(),
            notice: None,
            breach_banner: false,
            keys: super::keymap::Keymap::shared_default(),
            command_line: None,
            clusters: Vec::new(),
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

/// Where this cockpit runs and as whom: the cluster context, its identity and mode, the clock,
/// and the health of the streams it watches.
#[derive(Debug, Clone)]
pub struct Session {
    pub context: String,
    /// Who this cockpit is (`user@host`).
    pub me: String,
    pub mode: Mode,
    /// Writes are sent with `dryRun=All`.
    pub dry_run: bool,
    /// The clock: moved on by `Tick`, never read from the system inside `update`.
    pub now: DateTime<Utc>,
    pub streams: BTreeMap<Stream, StreamHealth>,
}

/// The upgrade plan and driving it: what is previewed, on the move, paced or rolled back.
#[derive(Debug, Clone, Default)]
pub struct Drive {
    /// The upgrade plan: from `--plan`, completed by, or else derived from, the live state
    /// once it is first complete.
    pub plan: Option<Plan>,
    /// The `--plan` file, until it can be resolved against the live state.
    pub plan_file: Option<PlanFile>,
    /// Why there is no plan, when there is none.
    pub plan_problem: Option<String>,
    /// The preview or question on screen, if any.
    pub dialog: Option<Dialog>,
    /// Namespaces being migrated or reverted, and towards which revision.
    pub activity: BTreeMap<String, Activity>,
    /// The wave (`M`) the user confirmed, as it runs, or as it stopped.
    pub wave: Option<WaveRun>,
    /// The wave whose end this cockpit has sent to the upgrade record.
    pub wave_end_sent: Option<String>,
    /// Namespaces `auto_rollback` has sent back, until they leave the new revision.
    pub auto_rolled_back: BTreeSet<String>,
}

/// The metrics and what the rollback triggers make of them.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    /// Rounds of metrics, newest last, bounded.
    pub readings: VecDeque<Reading>,
    /// Baselines and rollback triggers, fed by the readings.
    pub guard: Guard,
    /// The triggers as last judged.
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone)]
pub struct State {
    pub session: Session,
    /// What the watchers saw of the cluster.
    pub cluster: Cluster,
    /// In a fleet of several clusters: this one's place and what it knows of the others.
    pub fleet: Option<FleetFacts>,
    pub drive: Drive,
    pub metrics: Metrics,
    /// The precheck's objects and findings.
    pub checks: super::checks::Checks,
    /// The pod under triage, while the bottom pane shows it.
    pub triage: Option<super::triage::Triage>,
    /// Requests for triage so far: the serial of the next.
    pub triage_serial: u64,
    pub ui: Ui,
}

impl State {
    pub fn new(
        context: impl Into<String>,
        mode: Mode,
        log_capacity: usize,
        now: DateTime<Utc>,
    ) -> State {
        State {
            session: Session {
                context: context.into(),
                me: String::new(),
                mode,
                dry_run: false,
                now,
                streams: BTreeMap::new(),
            },
            cluster: Cluster::new(log_capacity),
            fleet: None,
            drive: Drive::default(),
            metrics: Metrics::default(),
            checks: Default::default(),
            triage: None,
            triage_serial: 0,
            ui: Ui::default(),
        }
    }

    /// The mesh as the plan (or, without one, the live state) frames the upgrade.
    pub fn mesh(&self) -> Mesh {
        let upgrade = self
            .drive
            .plan
            .as_ref()
            .map(|p| (p.from.as_str(), p.to.as_str()));
        Mesh::of(&self.cluster, upgrade)
    }

    /// What every namespace's labels select, with the plan's waves.
    pub fn namespace_facts(&self) -> Arc<NamespaceFacts> {
        match &self.drive.plan {
            Some(plan) => plan.namespace_facts(&self.cluster),
            None => namespace_facts::of(&self.cluster, std::iter::empty()),
        }
    }
}
