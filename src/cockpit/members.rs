//! The clusters a cockpit watches, each started on its own: its connection, mode, sources,
//! writer and lease keeper, and its events tagged with its place in the fleet.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::executor::{self, Stamped};
use super::{BATCH, MetricsChoice, Options, Sources, lease_keeper};
use crate::app::event::Event;
use crate::app::state::Mode;
use crate::cluster::connect::Connection;
use crate::cluster::lease::Fence;
use crate::cluster::writer::Writer;
use crate::mesh::fleet::Role;

/// One cluster to watch: its connection, and what the plan or flags say of it.
pub struct ClusterTarget {
    pub conn: Connection,
    /// Its name in the fleet: the plan's `name`, else the context.
    pub name: String,
    /// None: told from the cluster.
    pub role: Option<Role>,
    /// Its Prometheus, when the flags or the plan name one.
    pub prometheus: Option<crate::cluster::prometheus_source::PrometheusTarget>,
    /// Why it could not be reached when the cockpit started, if it could not: it is watched
    /// all the same (its streams retry), but may not be written to before a restart.
    pub unreachable: Option<String>,
}

/// A started cluster: what the loop needs to send its writes, and what must end with it.
pub struct Started {
    pub name: String,
    pub role: Option<Role>,
    pub context: String,
    pub mode: Mode,
    pub sources: Sources,
    pub commands: Option<(mpsc::Sender<Stamped>, Arc<Fence>)>,
    pub writer: Option<Writer>,
    pub executor: Option<JoinHandle<()>>,
    pub keeper: Option<JoinHandle<()>>,
    pub forwarder: JoinHandle<()>,
}

/// The journal file of one cluster of a fleet: the name of the cluster before the extension,
/// so each file holds one cluster's writes.
fn journal_file(opts: &Options, fleet: bool, name: &str) -> Option<std::path::PathBuf> {
    let path = opts.journal_file.clone()?;
    if !fleet {
        return Some(path);
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let named = match path.extension() {
        Some(ext) => format!("{stem}-{name}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{name}"),
    };
    Some(path.with_file_name(named))
}

/// Starts one cluster: decides its mode (a cluster unreachable at the start is read-only),
/// starts its sources, writer and keeper, and forwards its events as `(index, event)`.
pub async fn start(
    index: usize,
    target: ClusterTarget,
    opts: &Options,
    fleet: bool,
    id: &str,
    out: mpsc::Sender<(usize, Event)>,
) -> Started {
    let (tx, mut rx) = mpsc::channel::<Event>(BATCH);
    let (mode, writing) = match &target.unreachable {
        Some(why) => (
            Mode::ReadOnly(format!("unreachable at the start: {why}")),
            None,
        ),
        None => {
            let journal = journal_file(opts, fleet, &target.name);
            super::mode(&target.conn, opts, id, journal).await
        }
    };
    let metrics = MetricsChoice {
        prometheus: target.prometheus.clone(),
        plan_service: opts
            .plan
            .as_ref()
            .and_then(|p| p.prometheus_service.clone()),
        cluster: target.name.clone(),
    };
    let mut sources = Sources::start(&target.conn, &tx, metrics);
    if fleet {
        sources.tasks.extend(crate::cluster::watchers::spawn_fleet(
            &target.conn.client,
            &tx,
        ));
    }
    let (mut writer, mut commands, mut executor, mut keeper) = (None, None, None, None);
    if let Some(w) = writing {
        let (takeover, keeper_task) = lease_keeper::spawn(w.keeper, w.shown, tx.clone());
        let (sender, executor_task) = executor::spawn(w.writer.clone(), takeover, tx.clone());
        commands = Some((sender, w.writer.fence.clone()));
        writer = Some(w.writer);
        executor = Some(executor_task);
        keeper = Some(keeper_task);
    }
    drop(tx);
    let forwarder = tokio::spawn(async move {
        while let Some(event) = rx.recv().await {
            if out.send((index, event)).await.is_err() {
                return;
            }
        }
    });
    Started {
        name: target.name,
        role: target.role,
        context: target.conn.context.clone(),
        mode,
        sources,
        commands,
        writer,
        executor,
        keeper,
        forwarder,
    }
}
