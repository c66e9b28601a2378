//! The cockpit's loop: sources feed events into `update`; a frame is drawn only when something
//! changed, at most once per frame interval. Also a headless form, for tests and benchmarks.

mod deliberate_panic;
mod error;
pub mod executor;
pub mod headless;
pub mod lease_keeper;
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
use crate::app::metrics_sample::{self, SampleTarget};
use crate::app::state::{Mode, State};
use crate::app::update::update;
use crate::cluster::connect::{self, Connection};
use crate::cluster::lease::Fence;
use crate::cluster::writer::Writer;
use crate::cluster::{istiod_logs, watchers};
use crate::ui::{self, layout, theme::Theme};
pub use error::CockpitError;
use executor::Stamped;
use lease_keeper::{Keeper, Outcome};

/// At most this often a frame is drawn (30 per second).
const FRAME: Duration = Duration::from_millis(33);
/// Events handled before a frame may be drawn or a key read, so a flood cannot starve the
/// screen or keys: at most this many, and for at most `BATCH_TIME`.
pub const BATCH: usize = 4096;
pub const BATCH_TIME: Duration = Duration::from_millis(8);

/// Handles the events already waiting, within `BATCH` and `BATCH_TIME`.
pub fn drain_batch(rx: &mut mpsc::Receiver<Event>, mut handle: impl FnMut(Event)) {
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
pub async fn mode(conn: &Connection, opts: &Options, id: &str) -> (Mode, Option<Writing>) {
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
        opts.journal_file.clone(),
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
}

/// The running sources of cluster events, and the sidecars the direct scrape samples.
pub struct Sources {
    pub tasks: Vec<tokio::task::JoinHandle<()>>,
    sample: tokio::sync::watch::Sender<Vec<SampleTarget>>,
    sampled_at: Option<Instant>,
}

impl Sources {
    /// Starts every source of cluster events.
    pub fn start(conn: &Connection, tx: &mpsc::Sender<Event>, metrics: MetricsChoice) -> Sources {
        let mut tasks = watchers::spawn(&conn.client, tx);
        tasks.push(istiod_logs::spawn(&conn.client, tx));
        let (sample, targets) = tokio::sync::watch::channel(Vec::new());
        tasks.push(crate::cluster::metrics::spawn(
            &conn.client,
            metrics.prometheus,
            metrics.plan_service,
            targets,
            tx,
        ));
        Sources {
            tasks,
            sample,
            sampled_at: None,
        }
    }

    /// Tells the direct scrape which sidecars to sample, at most once a second.
    pub fn resample(&mut self, state: &State) {
        if self
            .sampled_at
            .is_some_and(|at| at.elapsed() < Duration::from_secs(1))
        {
            return;
        }
        self.sampled_at = Some(Instant::now());
        let targets = metrics_sample::targets(state);
        self.sample.send_if_modified(|current| {
            let changed = *current != targets;
            if changed {
                *current = targets;
            }
            changed
        });
    }

    pub fn stop(self) {
        for t in self.tasks {
            t.abort();
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

/// Waits for a task to end; never, without one.
async fn ended(task: &mut Option<JoinHandle<()>>) -> Result<(), tokio::task::JoinError> {
    match task {
        Some(handle) => handle.await,
        None => std::future::pending().await,
    }
}

pub async fn run(conn: Connection, opts: Options) -> Result<Exit, CockpitError> {
    let mut signals = listen_for_signals();
    let id = crate::cluster::identity::process_identity();
    let (mode, writing) = mode(&conn, &opts, &id).await;
    let (tx, rx) = mpsc::channel::<Event>(BATCH);
    let metrics = MetricsChoice {
        prometheus: opts.prometheus.clone(),
        plan_service: opts
            .plan
            .as_ref()
            .and_then(|p| p.prometheus_service.clone()),
    };
    let sources = Sources::start(&conn, &tx, metrics);
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
    let term = terminal::Terminal::enter().map_err(CockpitError::EnterTerminal)?;
    let mut state = State::new(conn.context.clone(), mode, opts.log_lines, Utc::now());
    state.session.me = id;
    state.session.dry_run = opts.dry_run;
    state.drive.plan_file = opts.plan.clone();
    state.ui.keys = Arc::clone(&opts.keys);
    let mut ui = tokio::spawn(ui_loop(state, term, rx, sources, commands, opts.theme));
    // The screen first: when it ended, the executor and keeper end after it.
    let outcome = tokio::select! {
        biased;
        result = &mut ui => match result {
            Ok(Ok(())) => Ok(Exit::Done),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(CockpitError::Panicked),
        },
        number = first_signal(&mut signals) => Ok(Exit::Signal(number)),
        _ = terminal::panicked() => Err(CockpitError::Panicked),
        result = ended(&mut executor) => Err(match result {
            Err(_) => CockpitError::Panicked,
            Ok(()) => CockpitError::ExecutorStopped,
        }),
        result = ended(&mut keeper) => Err(match result {
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
    if matches!(outcome, Ok(Exit::Done)) {
        // A command already sent may finish, briefly.
        if let Some(executor) = executor.as_mut() {
            let _ = tokio::time::timeout(Duration::from_secs(3), executor).await;
        }
    }
    for task in [executor, keeper].into_iter().flatten() {
        task.abort();
    }
    // Handed back within a bounded wait: past it, the lease expires by itself.
    if let Some(writer) = writer
        && tokio::time::timeout(Duration::from_secs(3), writer.release_lease())
            .await
            .is_err()
    {
        log::warn!("the driver lease could not be handed back within 3 s");
    }
    outcome
}

async fn ui_loop(
    mut state: State,
    mut term: terminal::Terminal,
    mut rx: mpsc::Receiver<Event>,
    mut sources: Sources,
    commands: Option<(mpsc::Sender<Stamped>, Arc<Fence>)>,
    theme: Theme,
) -> Result<(), CockpitError> {
    let (w, h) = term.size();
    // What the events asked of the loop since its last pass: their writes are sent after
    // each pass, a frame is drawn once one is due.
    let mut effects = update(&mut state, Event::Resize(w, h), layout::table_rows);
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
                    effects.absorb(update(&mut state, event, layout::table_rows));
                },
                Some(Err(e)) => {
                    result = Err(CockpitError::ReadTerminal(e));
                    break;
                }
                None => break,
            },
            _ = tick.tick() => {
                effects.absorb(update(&mut state, Event::Tick(Utc::now()), layout::table_rows));
                sources.resample(&state);
            }
            Some(event) = rx.recv() => {
                effects.absorb(update(&mut state, event, layout::table_rows));
                drain_batch(&mut rx, |event| {
                    effects.absorb(update(&mut state, event, layout::table_rows));
                });
            }
            _ = tokio::time::sleep_until(frame_due), if effects.redraw => {}
        }
        for command in effects.commands.drain(..) {
            if let Some((exec, fence)) = &commands {
                let term = fence.term();
                let _ = exec.send(Stamped { term, command }).await;
            }
        }
        if terminal::has_panicked() {
            result = Err(CockpitError::Panicked);
            break;
        }
        if effects.quit {
            break;
        }
        if effects.redraw && Instant::now() >= last_frame + FRAME {
            if let Err(e) = term.draw(|f| ui::draw(f, &state, &theme)) {
                result = Err(CockpitError::Draw(e));
                break;
            }
            effects.redraw = false;
            last_frame = Instant::now();
        }
    }
    drop(term);
    sources.stop();
    result
}
