//! What `update` asks of the loop besides the state it changed: writes to send, a frame to
//! draw, the end of the cockpit.

use super::drive::Command;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Effects {
    /// Writes confirmed by the user, or decided by the cockpit (a paced wave, `auto_rollback`),
    /// for the executor, in order.
    pub commands: Vec<Command>,
    /// This cockpit lost the driver lease: writes of earlier events that the loop has not sent
    /// yet must be dropped as well.
    pub drop_unsent: bool,
    /// Something visible changed: a frame is due.
    pub redraw: bool,
    /// The user asked to quit.
    pub quit: bool,
    /// Text to put on the clipboard (`y`, `Y`), through the terminal.
    pub copy: Option<String>,
    /// A fleet's cluster to show instead of this one (`:ctx`).
    pub select_cluster: Option<String>,
}

impl Effects {
    /// Queues a write for the executor.
    pub fn send(&mut self, command: Command) {
        self.commands.push(command);
    }

    /// Drops every write queued so far, here and (through `drop_unsent`) in the loop.
    pub fn drop_commands(&mut self) {
        self.commands.clear();
        self.drop_unsent = true;
    }

    /// Adds the effects of a later event to these: the loop gathers a batch's before sending.
    pub fn absorb(&mut self, later: Effects) {
        if later.drop_unsent {
            self.drop_commands();
        }
        self.commands.extend(later.commands);
        self.redraw |= later.redraw;
        self.quit |= later.quit;
        if later.copy.is_some() {
            self.copy = later.copy;
        }
        if later.select_cluster.is_some() {
            self.select_cluster = later.select_cluster;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::app::actions::Action;

    fn restart(namespace: &str) -> Command {
        Command::new(
            Action::Restart {
                namespace: namespace.into(),
            },
            BTreeMap::new(),
        )
    }

    #[test]
    fn a_lost_lease_drops_what_earlier_events_queued_but_not_what_follows() {
        let mut batch = Effects::default();
        batch.send(restart("a"));
        let mut lost = Effects::default();
        lost.drop_commands();
        batch.absorb(lost);
        let mut later = Effects {
            redraw: true,
            ..Effects::default()
        };
        later.send(restart("b"));
        batch.absorb(later);
        assert_eq!(batch.commands, [restart("b")]);
        assert!(batch.redraw && !batch.quit);
    }
}
