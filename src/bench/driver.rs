//! The cockpit's loop as `cockpit::ui_loop` runs it (a fleet of one or more clusters, their
//! events in batches, a tick a second, the fleet refreshed before keys, ticks and frames, a
//! frame at most every 33 ms while something changed), on any ratatui backend, timing every
//! frame. Keys come from a channel instead of the terminal, stamped with when they were
//! pressed.

use std::time::Duration;

use chrono::Utc;
use crossterm::event::KeyEvent;
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::app::event::Event;
use crate::app::fleet::{Fleet, FleetEffects, FleetEvent};
use crate::cockpit::Sources;
use crate::ui::{self, layout, theme::Theme};

const FRAME: Duration = Duration::from_millis(33);

/// Both ends of the channel the clusters' events arrive on, `(cluster index, event)`.
pub type Events = (mpsc::Sender<(usize, Event)>, mpsc::Receiver<(usize, Event)>);

pub struct Driver<B: Backend> {
    pub fleet: Fleet,
    pub terminal: Terminal<B>,
    /// Each cluster's sources, in the fleet's order.
    pub sources: Vec<Sources>,
    /// How long each frame took to draw, since the last `take_frames`.
    frames: Vec<Duration>,
    /// How long each key waited to be handled, since the last `take_key_waits`.
    key_waits: Vec<Duration>,
    /// The clusters' events handled, since the last `take_cluster_events`.
    cluster_events: u64,
    events: mpsc::Receiver<(usize, Event)>,
    injector: mpsc::Sender<(usize, Event)>,
    keys: mpsc::Receiver<(Instant, KeyEvent)>,
    key_sender: mpsc::Sender<(Instant, KeyEvent)>,
    theme: Theme,
    /// Something visible changed since the last frame.
    dirty: bool,
    last_frame: Instant,
    next_tick: Instant,
}

/// What the loop was told to wait for.
pub enum Outcome {
    Done,
    TimedOut,
}

impl<B: Backend> Driver<B> {
    pub fn new(
        fleet: Fleet,
        terminal: Terminal<B>,
        sources: Vec<Sources>,
        events: Events,
        theme: Theme,
    ) -> Driver<B> {
        let (key_sender, keys) = mpsc::channel(1024);
        let now = Instant::now();
        Driver {
            fleet,
            terminal,
            sources,
            frames: Vec::new(),
            key_waits: Vec::new(),
            cluster_events: 0,
            events: events.1,
            injector: events.0,
            keys,
            key_sender,
            theme,
            dirty: true,
            last_frame: now - FRAME,
            next_tick: now + Duration::from_secs(1),
        }
    }

    /// Events sent here are handled like the clusters', `(cluster index, event)`.
    pub fn injector(&self) -> mpsc::Sender<(usize, Event)> {
        self.injector.clone()
    }

    /// Keys sent here are handled like the terminal's; send them stamped with `Instant::now()`.
    pub fn keys(&self) -> mpsc::Sender<(Instant, KeyEvent)> {
        self.key_sender.clone()
    }

    pub fn take_frames(&mut self) -> Vec<Duration> {
        std::mem::take(&mut self.frames)
    }

    pub fn take_key_waits(&mut self) -> Vec<Duration> {
        std::mem::take(&mut self.key_waits)
    }

    pub fn take_cluster_events(&mut self) -> u64 {
        std::mem::take(&mut self.cluster_events)
    }

    /// Moves the loop to another backend, with the fleet as it is.
    pub fn with_terminal<C: Backend>(self, terminal: Terminal<C>) -> Driver<C> {
        Driver {
            fleet: self.fleet,
            terminal,
            sources: self.sources,
            frames: Vec::new(),
            key_waits: Vec::new(),
            cluster_events: 0,
            events: self.events,
            injector: self.injector,
            keys: self.keys,
            key_sender: self.key_sender,
            theme: self.theme,
            dirty: true,
            last_frame: self.last_frame,
            next_tick: self.next_tick,
        }
    }

    /// Notes what a pass asked for. The benchmark never writes to a cluster: commands are
    /// dropped.
    fn absorb(&mut self, effects: FleetEffects) {
        self.dirty |= effects.redraw();
    }

    /// Handles one event of the screen (a key, the clock, a size) or of a cluster.
    pub fn apply(&mut self, event: FleetEvent) {
        let effects = self.fleet.update(event, layout::table_rows);
        self.absorb(effects);
    }

    /// Tells every cluster what it must know of the others, as the loop does before keys,
    /// ticks and frames.
    fn refresh(&mut self) {
        let effects = self.fleet.refresh();
        self.absorb(effects);
    }

    /// Draws one frame now, timed.
    pub fn draw(&mut self) {
        let start = std::time::Instant::now();
        self.refresh();
        let (fleet, theme) = (&self.fleet, &self.theme);
        if let Err(e) = self.terminal.draw(|f| ui::draw_fleet(f, fleet, theme)) {
            log::warn!("bench: drawing failed: {e}");
        }
        self.frames.push(start.elapsed());
        self.dirty = false;
        self.last_frame = Instant::now();
    }

    /// Runs the loop until `done` holds right after a frame, or until `deadline`.
    pub async fn run_until(
        &mut self,
        deadline: Instant,
        mut done: impl FnMut(&Fleet, &mut Terminal<B>) -> bool,
    ) -> Outcome {
        loop {
            let frame_due = self.last_frame + FRAME;
            let dirty = self.dirty;
            tokio::select! {
                // As `cockpit::ui_loop`: keys, then the clock, then events; the deadline first.
                biased;
                _ = tokio::time::sleep_until(deadline) => return Outcome::TimedOut,
                Some((pressed, key)) = self.keys.recv() => {
                    self.refresh();
                    self.apply(FleetEvent::Screen(Event::Key(key)));
                    self.key_waits.push(pressed.elapsed());
                }
                _ = tokio::time::sleep_until(self.next_tick) => {
                    self.refresh();
                    self.apply(FleetEvent::Screen(Event::Tick(Utc::now())));
                    for (i, sources) in self.sources.iter_mut().enumerate() {
                        sources.resample(&self.fleet.members[i].state, self.fleet.sample_room(i));
                    }
                    self.next_tick += Duration::from_secs(1);
                }
                Some((i, event)) = self.events.recv() => {
                    self.apply(FleetEvent::Cluster(i, event));
                    self.cluster_events += 1;
                    let (fleet, events, dirty) = (&mut self.fleet, &mut self.events, &mut self.dirty);
                    let handled = &mut self.cluster_events;
                    crate::cockpit::drain_batch(events, |(i, event)| {
                        *dirty |= fleet.update(FleetEvent::Cluster(i, event), layout::table_rows).redraw();
                        *handled += 1;
                    });
                }
                _ = tokio::time::sleep_until(frame_due), if dirty => {}
            }
            if self.dirty && Instant::now() >= self.last_frame + FRAME {
                self.draw();
                if done(&self.fleet, &mut self.terminal) {
                    return Outcome::Done;
                }
            }
        }
    }

    /// Runs the loop for `wall`, whatever happens.
    pub async fn run_for(&mut self, wall: Duration) {
        let deadline = Instant::now() + wall;
        self.run_until(deadline, |_, _| false).await;
    }
}
