//! The cockpit's loop as `cockpit::run` runs it (events in batches, a tick a second, a frame at
//! most every 33 ms while something changed), on any ratatui backend, timing every frame.
//! Keys come from a channel instead of the terminal, stamped with when they were pressed.

use std::time::Duration;

use chrono::Utc;
use crossterm::event::KeyEvent;
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::app::event::Event;
use crate::app::state::State;
use crate::app::update::update;
use crate::cockpit::Sources;
use crate::ui::{self, layout, theme::Theme};

const FRAME: Duration = Duration::from_millis(33);

pub struct Driver<B: Backend> {
    pub state: State,
    pub terminal: Terminal<B>,
    pub sources: Sources,
    /// How long each frame took to draw, since the last `take_frames`.
    frames: Vec<Duration>,
    /// How long each key waited to be handled, since the last `take_keys`.
    key_waits: Vec<Duration>,
    events: mpsc::Receiver<Event>,
    injector: mpsc::Sender<Event>,
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
        state: State,
        terminal: Terminal<B>,
        sources: Sources,
        events: (mpsc::Sender<Event>, mpsc::Receiver<Event>),
        theme: Theme,
    ) -> Driver<B> {
        let (key_sender, keys) = mpsc::channel(1024);
        let now = Instant::now();
        Driver {
            state,
            terminal,
            sources,
            frames: Vec::new(),
            key_waits: Vec::new(),
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

    /// Events sent here are handled like the cluster's.
    pub fn injector(&self) -> mpsc::Sender<Event> {
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

    /// Moves the loop to another backend, with the state as it is.
    pub fn with_terminal<C: Backend>(self, terminal: Terminal<C>) -> Driver<C> {
        Driver {
            state: self.state,
            terminal,
            sources: self.sources,
            frames: Vec::new(),
            key_waits: Vec::new(),
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

    /// Handles one event. The benchmark never writes to the cluster: commands are dropped.
    fn apply(&mut self, event: Event) {
        self.dirty |= update(&mut self.state, event, layout::table_rows).redraw;
    }

    /// Draws one frame now, timed.
    pub fn draw(&mut self) {
        let start = std::time::Instant::now();
        let (state, theme) = (&self.state, &self.theme);
        if let Err(e) = self.terminal.draw(|f| ui::draw(f, state, theme)) {
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
        mut done: impl FnMut(&State, &mut Terminal<B>) -> bool,
    ) -> Outcome {
        loop {
            let frame_due = self.last_frame + FRAME;
            let dirty = self.dirty;
            tokio::select! {
                // As `cockpit::run`: keys, then the clock, then events; the deadline first.
                biased;
                _ = tokio::time::sleep_until(deadline) => return Outcome::TimedOut,
                Some((pressed, key)) = self.keys.recv() => {
                    self.apply(Event::Key(key));
                    self.key_waits.push(pressed.elapsed());
                }
                _ = tokio::time::sleep_until(self.next_tick) => {
                    self.apply(Event::Tick(Utc::now()));
                    self.sources.resample(&self.state);
                    self.next_tick += Duration::from_secs(1);
                }
                Some(event) = self.events.recv() => {
                    self.apply(event);
                    let (state, events, dirty) = (&mut self.state, &mut self.events, &mut self.dirty);
                    crate::cockpit::drain_batch(events, |event| {
                        *dirty |= update(state, event, layout::table_rows).redraw;
                    });
                }
                _ = tokio::time::sleep_until(frame_due), if dirty => {}
            }
            if self.dirty && Instant::now() >= self.last_frame + FRAME {
                self.draw();
                if done(&self.state, &mut self.terminal) {
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
