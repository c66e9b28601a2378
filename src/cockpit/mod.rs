//! The cockpit's loop: sources feed events into `update`; a frame is drawn only when something
//! changed, at most once per frame interval. Also a headless form, for tests and benchmarks.

pub mod executor;
pub mod headless;
pub mod terminal;

use std::time::Duration;

use chrono::Utc;
use crossterm::event::{Event as TermEvent, EventStream};
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::app::event::Event;
use crate::app::metrics_sample::{self, SampleTarget};
use crate::app::state::{Mode, State};
use crate::app::update::update;
use crate::cluster::connect::{self, Connection};
use crate::cluster::writer::{WriteError, Writer};
use crate::cluster::{istiod_logs, watchers};
use crate::ui::{self, layout, theme::Theme};

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
    pub log_lines: usize,
    /// The `--plan` file, already read and checked.
    pub plan: Option<crate::plan::file::PlanFile>,
    /// `--prometheus`; without it the metrics come from a Prometheus found in the cluster,
    /// else straight from istiod and a sample of sidecars.
    pub prometheus: Option<crate::cluster::prometheus_source::PrometheusTarget>,
}

/// Decides DRIVER, FOLLOWER or READ-ONLY, and builds the writer only when writing is
/// possible. `--read-only` never asks the server anything and never builds it.
pub async fn mode(conn: &Connection, opts: &Options, who: &str) -> (Mode, Option<Writer>) {
    if opts.read_only {
        return (Mode::ReadOnly("--read-only".into()), None);
    }
    if let Err(why) = connect::may_write(&conn.client).await {
        return (Mode::ReadOnly(why), None);
    }
    let writer = Writer::new(
        conn.client.clone(),
        opts.dry_run,
        who.to_string(),
        opts.journal_file.clone(),
    );
    match writer.hold_lease(false).await {
        Ok(()) => (Mode::Driver, Some(writer)),
        Err(WriteError::Conflict(holder)) => (
            Mode::Follower(holder.trim_end_matches(" drives").to_string()),
            Some(writer),
        ),
        Err(e) => (
            Mode::ReadOnly(format!("cannot take the driver lease: {e}")),
            None,
        ),
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

pub async fn run(conn: Connection, opts: Options) -> Result<(), String> {
    let who = crate::app::records::identity();
    let (mode, writer) = mode(&conn, &opts, &who).await;
    let (tx, mut rx) = mpsc::channel::<Event>(BATCH);
    let metrics = MetricsChoice {
        prometheus: opts.prometheus.clone(),
        plan_service: opts
            .plan
            .as_ref()
            .and_then(|p| p.prometheus_service.clone()),
    };
    let mut sources = Sources::start(&conn, &tx, metrics);
    let driving = mode == Mode::Driver;
    let (commands, executor) = match writer {
        Some(w) => {
            let (commands, handle) = executor::spawn(w, driving, tx.clone());
            (Some(commands), Some(handle))
        }
        None => (None, None),
    };
    let mut term =
        terminal::Terminal::enter().map_err(|e| format!("cannot take over the terminal: {e}"))?;
    let mut state = State::new(conn.context.clone(), mode, opts.log_lines, Utc::now());
    state.me = who;
    state.dry_run = opts.dry_run;
    state.plan_file = opts.plan.clone();
    let (w, h) = term.size();
    update(&mut state, Event::Resize(w, h), layout::table_rows);
    let mut keys = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut term_signal =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let mut last_frame = Instant::now() - FRAME;
    let mut result = Ok(());
    loop {
        let frame_due = last_frame + FRAME;
        tokio::select! {
            // Keys first, then the clock: a flood of events must never keep either waiting.
            biased;
            key = keys.next() => match key {
                Some(Ok(e)) => if let Some(event) = from_terminal(e) {
                    update(&mut state, event, layout::table_rows);
                },
                Some(Err(e)) => {
                    result = Err(format!("reading the terminal failed: {e}"));
                    break;
                }
                None => break,
            },
            _ = async { match term_signal.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => break,
            _ = tick.tick() => {
                update(&mut state, Event::Tick(Utc::now()), layout::table_rows);
                sources.resample(&state);
            }
            Some(event) = rx.recv() => {
                update(&mut state, event, layout::table_rows);
                drain_batch(&mut rx, |event| update(&mut state, event, layout::table_rows));
            }
            _ = tokio::time::sleep_until(frame_due), if state.dirty => {}
        }
        for command in state.commands.drain(..) {
            if let Some(exec) = &commands {
                let _ = exec.send(command).await;
            }
        }
        if state.quit {
            break;
        }
        if state.dirty && Instant::now() >= last_frame + FRAME {
            if let Err(e) = term.draw(|f| ui::draw(f, &state, &opts.theme)) {
                result = Err(format!("drawing failed: {e}"));
                break;
            }
            state.dirty = false;
            last_frame = Instant::now();
        }
    }
    drop(term);
    sources.stop();
    // Closing the command channel lets the executor finish and release the lease.
    drop(commands);
    if let Some(executor) = executor {
        let _ = tokio::time::timeout(Duration::from_secs(3), executor).await;
    }
    result
}
