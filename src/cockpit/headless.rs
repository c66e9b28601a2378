//! The cockpit without a terminal: real sources and `update`, frames drawn into a buffer.
//! Tests and the benchmark drive it.

use std::time::Duration;

use chrono::Utc;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

use crate::app::event::Event;
use crate::app::fleet::Fleet;
use crate::app::metrics_sample;
use crate::app::state::{Mode, State};
use crate::app::update::update;
use crate::cluster::connect::Connection;
use crate::ui::{self, layout, theme::Theme};

pub struct Headless {
    pub state: State,
    rx: mpsc::Receiver<Event>,
    /// Kept so streams started later (a fleet's) can send too.
    tx: mpsc::Sender<Event>,
    sources: Option<super::Sources>,
}

impl Headless {
    pub fn start(
        conn: &Connection,
        mode: Mode,
        log_lines: usize,
        width: u16,
        height: u16,
    ) -> Headless {
        Headless::start_with(conn, mode, log_lines, (width, height), Default::default())
    }

    /// Like `start`, for one cluster of a fleet: the fleet's streams (remote secrets, root CA)
    /// are watched too.
    pub fn start_in_fleet(
        conn: &Connection,
        mode: Mode,
        log_lines: usize,
        (width, height): (u16, u16),
    ) -> Headless {
        let mut cockpit =
            Headless::start_with(conn, mode, log_lines, (width, height), Default::default());
        if let Some(sources) = cockpit.sources.as_mut() {
            let tx = cockpit.tx.clone();
            sources
                .tasks
                .extend(crate::cluster::watchers::spawn_fleet(&conn.client, &tx));
        }
        cockpit
    }

    /// Like `start`, with the metrics from where `metrics` says.
    pub fn start_with(
        conn: &Connection,
        mode: Mode,
        log_lines: usize,
        (width, height): (u16, u16),
        metrics: super::MetricsChoice,
    ) -> Headless {
        let (tx, rx) = mpsc::channel(4096);
        let sources = super::Sources::start(conn, &tx, metrics);
        let mut state = State::new(conn.context.clone(), mode, log_lines, Utc::now());
        update(&mut state, Event::Resize(width, height), layout::table_rows);
        Headless {
            state,
            rx,
            tx,
            sources: Some(sources),
        }
    }

    /// Handles one event. Headless cockpits carry out no writes: confirmed commands are
    /// dropped.
    pub fn apply(&mut self, event: Event) {
        update(&mut self.state, event, layout::table_rows);
    }

    /// Handles events until `done` holds or the time runs out; returns whether it held.
    pub async fn pump_until(&mut self, timeout: Duration, done: impl Fn(&State) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while !done(&self.state) {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(event)) => {
                    self.state.session.now = Utc::now();
                    update(&mut self.state, event, layout::table_rows);
                    if let Some(sources) = &mut self.sources {
                        sources.resample(&self.state, metrics_sample::FULL);
                        sources.follow_triage(crate::app::triage::asked(&self.state));
                    }
                }
                _ => return done(&self.state),
            }
        }
        true
    }

    /// Draws one frame at the state's size and returns the screen as text, one line per row.
    pub fn render(&self, theme: &Theme) -> String {
        render_text(&self.state, theme)
    }
}

impl Drop for Headless {
    fn drop(&mut self) {
        if let Some(sources) = self.sources.take() {
            sources.stop();
        }
    }
}

/// Draws the state into a buffer of its size and returns the text.
pub fn render_text(state: &State, theme: &Theme) -> String {
    let backend = TestBackend::new(state.ui.width, state.ui.height);
    let mut terminal = Terminal::new(backend).expect("test backend");
    terminal.draw(|f| ui::draw(f, state, theme)).expect("draw");
    buffer_text(terminal.backend().buffer())
}

/// Draws a fleet (its pane, and the selected cluster below) at its size and returns the text.
pub fn render_fleet_text(fleet: &Fleet, theme: &Theme) -> String {
    let backend = TestBackend::new(fleet.width, fleet.height);
    let mut terminal = Terminal::new(backend).expect("test backend");
    terminal
        .draw(|f| ui::draw_fleet(f, fleet, theme))
        .expect("draw");
    buffer_text(terminal.backend().buffer())
}

fn buffer_text(buffer: &ratatui::buffer::Buffer) -> String {
    let mut out = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}
