//! The cockpit started on the simulated mesh as `cockpit::run` starts it: every cluster
//! connected and started by `cockpit::members::start` (its watchers, istiod logs and metrics,
//! a fleet's own watchers too), read-only, its events forwarded as `(index, event)` into one
//! `Fleet` drawn at the budget's size.

use std::sync::Arc;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::driver::Driver;
use super::sim_child::SimChild;
use super::{BenchError, HEIGHT, WIDTH};
use crate::app::event::Event;
use crate::app::fleet::{Fleet, FleetEvent, Member};
use crate::app::state::{Mode, State};
use crate::cluster::connect::{self, Target};
use crate::cockpit::{self, BATCH, ClusterTarget, members};
use crate::ui::theme::{Palette, Theme};

/// Lines each cluster's istiod log ring keeps.
pub const LOG_RING: usize = 20_000;

/// One cluster as the bench reaches it besides the cockpit: for its own load and probes.
pub struct Cluster {
    pub name: String,
    pub target: Target,
    pub client: kube::Client,
}

/// The cockpit on every cluster of the mesh, and what must stop with it.
pub struct Started {
    pub driver: Driver<TestBackend>,
    pub clusters: Vec<Cluster>,
    pub forwarders: Vec<JoinHandle<()>>,
}

pub async fn start(sim: &SimChild) -> Result<Started, BenchError> {
    let theme = Theme::builtin("default", Palette::TrueColor).ok_or(BenchError::NoTheme)?;
    let opts = cockpit::Options {
        read_only: true,
        dry_run: false,
        journal_file: None,
        theme: theme.clone(),
        keys: crate::app::keymap::Keymap::shared_default(),
        log_lines: LOG_RING,
        plan: None,
        prometheus: None,
    };
    let mut clusters = Vec::new();
    let mut targets = Vec::new();
    for context in &sim.contexts {
        let target = Target {
            kubeconfig: Some(sim.kubeconfig.clone()),
            context: Some(context.clone()),
        };
        let conn = connect::connect(&target).await?;
        clusters.push(Cluster {
            name: context.clone(),
            target,
            client: conn.client.clone(),
        });
        targets.push(ClusterTarget {
            name: conn.context.clone(),
            conn,
            role: None,
            prometheus: None,
            unreachable: None,
        });
    }
    let fleet = targets.len() > 1;
    let (tx, rx) = mpsc::channel::<(usize, Event)>(BATCH);
    let starts = targets
        .into_iter()
        .enumerate()
        .map(|(i, target)| members::start(i, target, &opts, fleet, "bench", tx.clone()));
    let started = futures::future::join_all(starts).await;
    let now = chrono::Utc::now();
    let (mut fleet_members, mut sources, mut forwarders) = (Vec::new(), Vec::new(), Vec::new());
    for m in started {
        let mut state = State::new(m.context, Mode::ReadOnly("bench".into()), LOG_RING, now);
        state.ui.keys = Arc::clone(&opts.keys);
        fleet_members.push(Member {
            name: m.name,
            role: m.role,
            state,
        });
        sources.push(m.sources);
        forwarders.push(m.forwarder);
    }
    let Ok(terminal) = Terminal::new(TestBackend::new(WIDTH, HEIGHT));
    let mut driver = Driver::new(
        Fleet::new(fleet_members),
        terminal,
        sources,
        (tx, rx),
        theme,
    );
    driver.apply(FleetEvent::Screen(Event::Resize(WIDTH, HEIGHT)));
    Ok(Started {
        driver,
        clusters,
        forwarders,
    })
}
