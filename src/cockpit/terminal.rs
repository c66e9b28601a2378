//! Taking the terminal over and giving it back: raw mode and the alternate screen, restored on
//! every exit path, panics included.

use std::io::{self, Stdout, Write};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Frame;
use ratatui::backend::CrosstermBackend;
use tokio::sync::Notify;

pub struct Terminal {
    inner: ratatui::Terminal<CrosstermBackend<Stdout>>,
}

/// Puts the terminal back as it was. Safe to call more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(io::stdout(), LeaveAlternateScreen, crossterm::cursor::Show);
}

static PANICKED: AtomicBool = AtomicBool::new(false);

fn panic_signal() -> &'static Notify {
    static NOTIFY: OnceLock<Notify> = OnceLock::new();
    NOTIFY.get_or_init(Notify::new)
}

/// Restores the terminal before any panic report is printed, in any thread or task, and tells
/// the cockpit to end: a task that died must never leave it running as if nothing happened.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICKED.store(true, Ordering::SeqCst);
        restore();
        previous(info);
        panic_signal().notify_one();
    }));
}

/// Whether anything in the process panicked: the screen must not be drawn again.
pub fn has_panicked() -> bool {
    PANICKED.load(Ordering::SeqCst)
}

/// Resolves once anything in the process has panicked.
pub async fn panicked() {
    if !has_panicked() {
        panic_signal().notified().await;
    }
}

impl Terminal {
    pub fn enter() -> io::Result<Terminal> {
        enable_raw_mode()?;
        if let Err(e) = execute!(io::stdout(), EnterAlternateScreen, crossterm::cursor::Hide) {
            restore();
            return Err(e);
        }
        match ratatui::Terminal::new(CrosstermBackend::new(io::stdout())) {
            Ok(inner) => Ok(Terminal { inner }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }

    pub fn size(&self) -> (u16, u16) {
        self.inner.size().map_or((80, 24), |s| (s.width, s.height))
    }

    pub fn draw(&mut self, paint: impl FnOnce(&mut Frame<'_>)) -> io::Result<()> {
        self.inner.draw(paint).map(|_| ())
    }

    /// Asks the terminal to put `text` on the clipboard (OSC 52), through the writer frames
    /// go through; called between frames, so it never lands inside one.
    pub fn copy(&mut self, text: &str) -> io::Result<()> {
        let out = self.inner.backend_mut();
        out.write_all(super::osc52::sequence(text).as_bytes())?;
        out.flush()
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        restore();
    }
}
