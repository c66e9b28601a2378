//! Why a write was not done: the writer's answer, carried back to the screen in
//! `Event::ActionDone`. It lives beside the events because the pure side reads it too.

/// Why a write was not done, from the writer. It reads two ways: short, as the journal and
/// the log keep it (`Display`), and with what to do next, as the screen shows it
/// (`on_screen`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WriteError {
    /// The object changed since the preview: read it again and show a new preview.
    #[error("changed since the preview: {0}")]
    Conflict(String),
    /// RBAC refused: the message names the permission.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The fence refused: this process does not hold the driver lease with time left.
    #[error("not sent: {0}")]
    NotDriving(String),
    #[error("{0}")]
    Failed(String),
}

impl WriteError {
    pub fn on_screen(&self) -> String {
        match self {
            WriteError::Conflict(m) => format!("changed since the preview ({m}): review it again"),
            WriteError::Forbidden(m) => format!("refused by RBAC: {m}; nothing was changed"),
            WriteError::NotDriving(m) => format!("failed: not sent, nothing was changed: {m}"),
            WriteError::Failed(m) => format!("failed: {m}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_journal_keeps_it_short_and_the_screen_says_what_next() {
        let cases = [
            (
                WriteError::Conflict("namespace shop now has {}".into()),
                "changed since the preview: namespace shop now has {}",
                "changed since the preview (namespace shop now has {}): review it again",
            ),
            (
                WriteError::Forbidden("patch namespaces".into()),
                "forbidden: patch namespaces",
                "refused by RBAC: patch namespaces; nothing was changed",
            ),
            (
                WriteError::NotDriving("bob@desk drives now".into()),
                "not sent: bob@desk drives now",
                "failed: not sent, nothing was changed: bob@desk drives now",
            ),
            (
                WriteError::Failed("patching namespace shop: timed out".into()),
                "patching namespace shop: timed out",
                "failed: patching namespace shop: timed out",
            ),
        ];
        for (error, journal, screen) in cases {
            assert_eq!(error.to_string(), journal);
            assert_eq!(error.on_screen(), screen);
        }
    }
}
