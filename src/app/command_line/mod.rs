//! The `:` command line, as in k9s: `:ns payments`, `:ctx east`, `:metrics`, `:q`. Typed at
//! the bottom of the screen, Tab completes (again: the next candidate), Enter runs, Esc drops
//! it. Commands only move around the screen; none writes to the cluster.
//!
//! - `parse`: the line read as a command, without the state
//! - `complete`: what Tab may complete it to, from the names given
//! - `run`: a command carried out on the state

mod complete;
mod parse;
mod run;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub use complete::{Names, candidates, shown};
pub use parse::{COMMANDS, Command, ParseError, Takes, View, parse};
pub use run::RunError;

use super::effects::Effects;
use super::keymap::KeyAction;
use super::state::State;
use super::update::Viewports;
use crate::mesh::Cluster;

/// The line being typed, without its `:`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandLine {
    pub text: String,
    /// After a Tab that found several candidates: them, and the one the text holds.
    cycle: Option<(Vec<String>, usize)>,
}

impl CommandLine {
    pub fn push(&mut self, c: char) {
        self.text.push(c);
        self.cycle = None;
    }

    /// Deletes the last character; false when there was none.
    pub fn erase(&mut self) -> bool {
        self.cycle = None;
        self.text.pop().is_some()
    }

    /// Tab: one candidate is taken; of several, the first, then each next Tab the next one.
    pub fn complete(&mut self, names: Names<'_>) {
        if let Some((candidates, at)) = &mut self.cycle {
            *at = (*at + 1) % candidates.len();
            self.text.clone_from(&candidates[*at]);
            return;
        }
        let mut found = candidates(&self.text, names);
        match found.len() {
            0 => {}
            1 => self.text = found.remove(0),
            _ => {
                self.text.clone_from(&found[0]);
                self.cycle = Some((found, 0));
            }
        }
    }

    /// The candidates to show under the line, and which one the text holds after Tabs.
    pub fn shown_candidates(&self, names: Names<'_>) -> (Vec<String>, Option<usize>) {
        match &self.cycle {
            Some((candidates, at)) => (candidates.clone(), Some(*at)),
            None => (candidates(&self.text, names), None),
        }
    }
}

/// The names completion offers: the cluster's namespaces and the fleet's clusters.
pub fn names_of<'a>(cluster: &'a Cluster, clusters: &'a [String]) -> (Vec<&'a str>, Vec<&'a str>) {
    let namespaces = cluster
        .namespaces
        .values()
        .map(|n| n.name.as_str())
        .collect();
    let clusters = clusters.iter().map(String::as_str).collect();
    (namespaces, clusters)
}

/// A key while the command line is open.
pub fn on_key(
    state: &mut State,
    effects: &mut Effects,
    action: Option<KeyAction>,
    key: KeyEvent,
    viewport: Viewports,
) {
    let (namespaces, clusters) = names_of(&state.cluster, &state.ui.clusters);
    let names = Names {
        namespaces: &namespaces,
        clusters: &clusters,
    };
    let Some(line) = state.ui.command_line.as_mut() else {
        return;
    };
    match (action, key.code) {
        (Some(KeyAction::CancelCommand), _) => state.ui.command_line = None,
        (Some(KeyAction::Erase), _) => {
            // Backspace on an empty line closes it.
            let was_empty = !line.erase();
            if was_empty {
                state.ui.command_line = None;
            }
        }
        (Some(KeyAction::Complete), _) => line.complete(names),
        (Some(KeyAction::RunCommand), _) => {
            let text = std::mem::take(&mut line.text);
            state.ui.command_line = None;
            let outcome = match parse(&text) {
                Ok(Some(command)) => {
                    run::run(state, effects, command, viewport).map_err(|e| e.to_string())
                }
                Ok(None) => Ok(()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(message) = outcome {
                state.ui.notice = Some(message);
            }
        }
        (None, KeyCode::Char(c)) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            line.push(c);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests;
