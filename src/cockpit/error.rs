//! Why the cockpit ended other than by the user quitting or a signal.

use std::io;

#[derive(Debug, thiserror::Error)]
pub enum CockpitError {
    #[error("cannot take over the terminal: {0}")]
    EnterTerminal(io::Error),
    #[error("reading the terminal failed: {0}")]
    ReadTerminal(io::Error),
    #[error("drawing failed: {0}")]
    Draw(io::Error),
    #[error(
        "a task of the cockpit panicked (report above); the terminal was restored and the lease handed back"
    )]
    Panicked,
    #[error("the executor stopped")]
    ExecutorStopped,
    #[error("the driver lease's keeper stopped")]
    KeeperStopped,
}
