//! The cockpit's loop: sources feed events into `update`; a frame is drawn only when something
//! changed, at most once per frame interval. Also a headless form, for tests and benchmarks.

mod deliberate_panic;
mod error;
pub mod executor;
pub mod headless;
pub mod lease_keeper;
pub mod members;
mod osc52;
pub mod terminal;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use crossterm::event::{Event as TermEvent, EventStream};
use futures::StreamExt;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::app::event::{Event, LeaseStatus};
use crate::app::fleet::{Fleet, FleetEvent, Member};
use crate::app::metrics_sample::{self, Sample};
use crate::app::pod_revisions;
use crate::app::state::{Mode, State};
use crate::app::triage;
use crate::cluster::connect::{self, Connection};
use crate::cluster::lease::Fence;
use crate::cluster::prometheus_source::Mapping;
use crate::cluster::writer::Writer;
use crate::cluster::{istiod_logs, watchers};
use crate::metrics::mapped_queries::PodRevisions;
use crate::ui::{self, layout, theme::Theme};
pub use error::CockpitError;
use executor::Stamped;
use lease_keeper::{Keeper, Outcome};
pub use members::ClusterTarget;

/// At most this often a frame is drawn (30 per second).
const FRAME: Duration = Duration::from_millis(33);
/// Events handled before a frame may be drawn or a key read, so a flood cannot starve the
/// screen or keys: at most this many, and for at most `BATCH_TIME`.
pub const BATCH: usize = 4096;
pub const BATCH_TIME: Duration = Duration::from_millis(8);

/// Handles the events already waiting, within `BATCH` and `BATCH_TIME`.
pub fn drain_batch<T>(rx: &mut mpsc::Receiver<T>, mut handle: impl FnMut(T)) {
    let until = std::time::Instant::now() + BATCH_TIME;
    for i in 0..BATCH {
        // Reading the clock every few events is enough to keep to the time.
        if i % 64 == 63 && std::time::Instant::now() >= until {
            break;
        }
        match rx.try_recv() {
            Ok(event) => handle(event),
            Err(_) => break,
        }
    }
}

pub struct Options {
    pub read_only: bool,
    pub dry_run: bool,
    pub journal_file: Option<std::path::PathBuf>,
    pub theme: Theme,
    /// Which key does what: the defaults, or the user's keys file, already checked.
    pub keys: Arc<crate::app::keymap::Keymap>,
    pub log_lines: usize,
    /// The `--plan` file, already read and checked.
    pub plan: Option<crate::plan::file::PlanFile>,
    /// `--prometheus`; without it the metrics come from a Prometheus found in the cluster,
    /// else straight from istiod and a sample of sidecars.
    pub prometheus: Option<crate::cluster::prometheus_source::PrometheusTarget>,
}

/// What a cockpit that may write runs with: the writer, the lease's keeper, and the lease
/// status the screen starts with.
pub struct Writing {
    pub writer: Writer,
    pub keeper: Keeper,
    pub shown: LeaseStatus,
}

/// Decides DRIVER, FOLLOWER or READ-ONLY, and builds the writer only when writing is
/// possible. `--read-only` never asks the server anything and never builds it. `id` is this
/// process's lease identity.
pub async fn mode(
    conn: &Connection,
    opts: &Options,
    id: &str,
    journal_file: Option<std::path::PathBuf>,
) -> (Mode, Option<Writing>) {
    if opts.read_only {
        return (Mode::ReadOnly("--read-only".into()), None);
    }
    if let Err(why) = connect::may_write(&conn.client).await {
        return (Mode::ReadOnly(why.to_string()), None);
    }
    let who = connect::whoami(&conn.client)
        .await
        .unwrap_or_else(crate::cluster::identity::user_at_host);
    let writer = Writer::new(
        conn.client.clone(),
        opts.dry_run,
        who,
        id.to_string(),
        journal_file,
    );
    let mut keeper = Keeper::new(writer.clone());
    let outcome = keeper.round(false).await;
    if let Outcome::Held {
        took_from: Some(why),
    } = &outcome
    {
        lease_keeper::journal_takeover(&writer, why).await;
    }
    match outcome.status() {
        Some(shown) => {
            let mode = match &shown {
                LeaseStatus::HeldBy(holder) => Mode::Follower(holder.clone()),
                _ => Mode::Driver,
            };
            let writing = Writing {
                writer,
                keeper,
                shown,
            };
            (mode, Some(writing))
        }
        None => {
            let why = match outcome {
                Outcome::Failed(e) => e.to_string(),
                _ => String::new(),
            };
            (
                Mode::ReadOnly(format!("cannot take the driver lease: {why}")),
                None,
            )
        }
    }
}

/// Where the metrics come from: `--prometheus`, and the plan's Prometheus Service.
#[derive(Debug, Clone, Default)]
pub struct MetricsChoice {
    pub prometheus: Option<crate::cluster::prometheus_source::PrometheusTarget>,
    pub plan_service: Option<String>,
    /// The cluster's name, as a Prometheus holding several clusters labels its series.
    pub cluster: String,
}

/// The running sources of cluster events, the sidecars the direct scrape samples, and the
/// pods' revisions for a Prometheus whose series lack them.
pub struct Sources {
    pub tasks: Vec<tokio::task::JoinHandle<()>>,
    sample: tokio::sync::watch::Sender<Sample>,
    sampled_at: Option<Instant>,
    revisions: tokio::sync::watch::Sender<PodRevisions>,
    /// The pods' generation the revisions were last taken at.
    revisions_of: Option<u64>,
    client: kube::Client,
    tx: mpsc::Sender<Event>,
    /// What the triage pane asked, and the task answering it.
    triage: Option<(triage::Request, JoinHandle<()>)>,
}

impl Sources {
    /// Starts every source of cluster events.
    pub fn start(conn: &Connection, tx: &mpsc::Sender<Event>, metrics: MetricsChoice) -> Sources {
        let mut tasks = watchers::spawn(&conn.client, tx);
        tasks.extend(crate::cluster::precheck_watchers::spawn(&conn.client, tx));
        tasks.push(istiod_logs::spawn(&conn.client, tx));
        let (sample, targets) = tokio::sync::watch::channel(Sample::default());
        let (revisions, pods) = tokio::sync::watch::channel(PodRevisions::default());
        let mapping = Mapping {
            cluster: metrics.cluster,
            pods,
        };
        tasks.push(crate::cluster::metrics::spawn(
            &conn.client,
            metrics.prometheus,
            metrics.plan_service,
            targets,
            mapping,
            tx,
        ));
        Sources {
            tasks,
            sample,
            sampled_at: None,
            revisions,
            revisions_of: None,
            client: conn.client.clone(),
            tx: tx.clone(),
            triage: None,
        }
    }

    /// Tells the direct scrape which sidecars to sample within `budget`, at most once a
    /// second.
    pub fn resample(&mut self, state: &State, budget: metrics_sample::Budget) {
        if self
            .sampled_at
            .is_some_and(|at| at.elapsed() < Duration::from_secs(1))
        {
            return;
        }
        self.sampled_at = Some(Instant::now());
        let sample = metrics_sample::sample(state, budget);
        self.sample.send_if_modified(|current| {
            let changed = *current != sample;
            if changed {
                *current = sample;
            }
            changed
        });
        // Only a Prometheus without the revision label reads them, and only when pods changed.
        let generation = state.cluster.pods.generation();
        if self.revisions.receiver_count() > 0 && self.revisions_of != Some(generation) {
            self.revisions_of = Some(generation);
            let revisions = pod_revisions::of(&state.cluster);
            self.revisions.send_if_modified(|current| {
                let changed = *current != revisions;
                if changed {
                    *current = revisions;
                }
                changed
            });
        }
    }

    /// Fetches what the triage pane asks, stopping what it asked before.
    pub fn follow_triage(&mut self, asked: Option<&triage::Request>) {
        if self.triage.as_ref().map(|(r, _)| r) == asked {
            return;
        }
        if let Some((_, task)) = self.triage.take() {
            task.abort();
        }
        if let Some(r) = asked {
            let task = crate::cluster::triage::spawn(&self.client, r.clone(), self.tx.clone());
            self.triage = Some((r.clone(), task));
        }
    }

    pub fn stop(self) {
        for t in self.tasks {
            t.abort();
        }
        if let Some((_, task)) = self.triage {
            task.abort();
        }
    }
}

fn from_terminal(event: TermEvent) -> Option<Event> {
    match event {
        TermEvent::Key(k) => Some(Event::Key(k)),
        TermEvent::Resize(w, h) => Some(Event::Resize(w, h)),
        _ => None,
    }
}

/// How the cockpit ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The user quit.
    Done,
    /// A signal (its number) ended it.
    Signal(i32),
}

/// The signals that end the cockpit cleanly, registered before the terminal is taken.
fn listen_for_signals() -> Vec<(Signal, i32)> {
    [
        (SignalKind::hangup(), libc::SIGHUP),
        (SignalKind::interrupt(), libc::SIGINT),
        (SignalKind::quit(), libc::SIGQUIT),
        (SignalKind::terminate(), libc::SIGTERM),
    ]
    .into_iter()
    .filter_map(|(kind, number)| signal(kind).ok().map(|s| (s, number)))
    .collect()
}

/// The number of the first signal to arrive.
async fn first_signal(signals: &mut [(Signal, i32)]) -> i32 {
    if signals.is_empty() {
        return std::future::pending().await;
    }
    let waits = signals.iter_mut().map(|(s, number)| {
        Box::pin(async move {
            s.recv().await;
            *number
        })
    });
    futures::future::select_all(waits).await.0
}

/// Waits for the first of these tasks to end; never, without any.
async fn first_ended(tasks: &mut [JoinHandle<()>]) -> Result<(), tokio::task::JoinError> {
    if tasks.is_empty() {
        return std::future::pending().await;
    }
    futures::future::select_all(tasks.iter_mut()).await.0
}

/// Runs the cockpit on these clusters (one, or a fleet), until the user quits, a signal
/// arrives or something fails.
pub async fn run(clusters: Vec<ClusterTarget>, opts: Options) -> Result<Exit, CockpitError> {
    let mut signals = listen_for_signals();
    let id = crate::cluster::identity::process_identity();
    let fleet = clusters.len() > 1;
    let (tx, rx) = mpsc::channel::<(usize, Event)>(BATCH);
    let starts = clusters
        .into_iter()
        .enumerate()
        .map(|(i, target)| members::start(i, target, &opts, fleet, &id, tx.clone()));
    let started = futures::future::join_all(starts).await;
    drop(tx);
    let now = Utc::now();
    let (mut members, mut wiring) = (Vec::new(), Wiring::default());
    for m in started {
        let mut state = State::new(m.context, m.mode, opts.log_lines, now);
        state.session.me.clone_from(&id);
        state.session.dry_run = opts.dry_run;
        state.drive.plan_file.clone_from(&opts.plan);
        state.ui.keys = Arc::clone(&opts.keys);
        members.push(Member {
            name: m.name,
            role: m.role,
            state,
        });
        wiring.sources.push(m.sources);
        wiring.commands.push(m.commands);
        wiring.writers.extend(m.writer);
        wiring.executors.extend(m.executor);
        wiring.keepers.extend(m.keeper);
        wiring.forwarders.push(m.forwarder);
    }
    let Wiring {
        sources,
        commands,
        writers,
        mut executors,
        mut keepers,
        forwarders,
    } = wiring;
    let term = terminal::Terminal::enter().map_err(CockpitError::EnterTerminal)?;
    let mut ui = tokio::spawn(ui_loop(
        Fleet::new(members),
        term,
        rx,
        sources,
        commands,
        opts.theme,
    ));
    // The screen first: when it ended, the executors and keepers end after it.
    let outcome = tokio::select! {
        biased;
        result = &mut ui => match result {
            Ok(Ok(())) => Ok(Exit::Done),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(CockpitError::Panicked),
        },
        number = first_signal(&mut signals) => Ok(Exit::Signal(number)),
        _ = terminal::panicked() => Err(CockpitError::Panicked),
        result = first_ended(&mut executors) => Err(match result {
            Err(_) => CockpitError::Panicked,
            Ok(()) => CockpitError::ExecutorStopped,
        }),
        result = first_ended(&mut keepers) => Err(match result {
            Err(_) => CockpitError::Panicked,
            Ok(()) => CockpitError::KeeperStopped,
        }),
    };
    // The terminal is given back before anything else (the screen task owns it).
    if !ui.is_finished() {
        ui.abort();
        let _ = tokio::time::timeout(Duration::from_secs(1), ui).await;
    }
    terminal::restore();
    for forwarder in forwarders {
        forwarder.abort();
    }
    if matches!(outcome, Ok(Exit::Done)) {
        // A command already sent may finish, briefly.
        let _ = tokio::time::timeout(
            Duration::from_secs(3),
            futures::future::join_all(executors.iter_mut()),
        )
        .await;
    }
    for task in executors.into_iter().chain(keepers) {
        task.abort();
    }
    // Handed back within a bounded wait: past it, each lease expires by itself.
    let releases = writers.iter().map(Writer::release_lease);
    if tokio::time::timeout(Duration::from_secs(3), futures::future::join_all(releases))
        .await
        .is_err()
    {
        log::warn!("the driver lease could not be handed back within 3 s");
    }
    outcome
}

/// What `run` keeps of the started clusters: for the loop, and for the end.
#[derive(Default)]
struct Wiring {
    sources: Vec<Sources>,
    commands: Vec<Option<(mpsc::Sender<Stamped>, Arc<Fence>)>>,
    writers: Vec<Writer>,
    executors: Vec<JoinHandle<()>>,
    keepers: Vec<JoinHandle<()>>,
    forwarders: Vec<JoinHandle<()>>,
}

async fn ui_loop(
    mut fleet: Fleet,
    mut term: terminal::Terminal,
    mut rx: mpsc::Receiver<(usize, Event)>,
    mut sources: Vec<Sources>,
    commands: Vec<Option<(mpsc::Sender<Stamped>, Arc<Fence>)>>,
    theme: Theme,
) -> Result<(), CockpitError> {
    let (w, h) = term.size();
    // What the events asked of the loop since its last pass: their writes are sent after
    // each pass (each to its cluster's executor), a frame is drawn once one is due.
    let mut effects = fleet.update(FleetEvent::Screen(Event::Resize(w, h)), layout::table_rows);
    let mut keys = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut last_frame = Instant::now() - FRAME;
    let mut result = Ok(());
    loop {
        let frame_due = last_frame + FRAME;
        tokio::select! {
            // Keys first, then the clock: a flood of events must never keep either waiting.
            biased;
            key = keys.next() => match key {
                Some(Ok(e)) => if let Some(event) = from_terminal(e) {
                    // Gates and refusals read what the clusters know of each other.
                    effects.absorb(fleet.refresh_if_changed());
                    effects.absorb(fleet.update(FleetEvent::Screen(event), layout::table_rows));
                },
                Some(Err(e)) => {
                    result = Err(CockpitError::ReadTerminal(e));
                    break;
                }
                None => break,
            },
            _ = tick.tick() => {
                effects.absorb(fleet.refresh_if_changed());
                effects.absorb(fleet.update(FleetEvent::Screen(Event::Tick(Utc::now())), layout::table_rows));
                for (i, sources) in sources.iter_mut().enumerate() {
                    sources.resample(&fleet.members[i].state, fleet.sample_budget(i));
                }
            }
            Some((i, event)) = rx.recv() => {
                effects.absorb(fleet.update(FleetEvent::Cluster(i, event), layout::table_rows));
                drain_batch(&mut rx, |(i, event)| {
                    effects.absorb(fleet.update(FleetEvent::Cluster(i, event), layout::table_rows));
                });
            }
            _ = tokio::time::sleep_until(frame_due), if effects.redraw() => {}
        }
        for (i, sources) in sources.iter_mut().enumerate() {
            sources.follow_triage(triage::asked(&fleet.members[i].state));
        }
        for (i, member_effects) in effects.members.iter_mut().enumerate() {
            for command in member_effects.commands.drain(..) {
                if let Some(Some((exec, fence))) = commands.get(i) {
                    let term = fence.term();
                    let _ = exec.send(Stamped { term, command }).await;
                }
            }
        }
        if terminal::has_panicked() {
            result = Err(CockpitError::Panicked);
            break;
        }
        if let Some(text) = effects.take_copy()
            && let Err(e) = term.copy(&text)
        {
            log::warn!("could not send the copied text to the terminal: {e}");
        }
        if effects.quit() {
            break;
        }
        if effects.redraw() && Instant::now() >= last_frame + FRAME {
            // Sent after the next pass, with its writes.
            effects.absorb(fleet.refresh_if_changed());
            if let Err(e) = term.draw(|f| ui::draw_fleet(f, &fleet, &theme)) {
                result = Err(CockpitError::Draw(e));
                break;
            }
            effects.drawn();
            last_frame = Instant::now();
        }
    }
    drop(term);
    for s in sources {
        s.stop();
    }
    result
}
