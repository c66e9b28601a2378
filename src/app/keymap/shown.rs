//! The keys as the screen shows them: the help's rows and the status bar's hints, written
//! once when the keymap is built, so drawing a frame allocates nothing for them.

use super::key::Key;
use super::table::{KeyAction, Row, Section, TABLE, Who};
use crate::app::state::Pane;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpSection {
    pub title: &'static str,
    pub rows: Vec<HelpRow>,
}

/// One row of the help: the keys (`↓ j / ↑ k`) and what they do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpRow {
    pub keys: String,
    pub about: &'static str,
    pub who: Who,
}

/// The help, section by section, from the table and the keys in force.
pub fn help(keys: &[Vec<Key>]) -> Vec<HelpSection> {
    let mut sections: Vec<HelpSection> = Section::ALL
        .iter()
        .map(|s| HelpSection {
            title: s.title(),
            rows: Vec::new(),
        })
        .collect();
    for (entry, keys) in TABLE.iter().zip(keys) {
        let rows = &mut sections[entry.section as usize].rows;
        let shown = key_list(keys);
        let about = match entry.row {
            Row::Own(about) => Some(about),
            Row::WithPrevious => None,
        };
        match (about, rows.last_mut()) {
            (None, Some(row)) => {
                row.keys.push_str(" / ");
                row.keys.push_str(&shown);
            }
            (about, _) => rows.push(HelpRow {
                keys: shown,
                about: about.unwrap_or_default(),
                who: entry.who,
            }),
        }
    }
    sections
}

/// An action's keys: `↓ j`, or `1-9` for a run of digits.
fn key_list(keys: &[Key]) -> String {
    let digits: Vec<u32> = keys.iter().filter_map(|k| k.digit()).collect();
    if digits.len() == keys.len() && keys.len() > 2 && digits.windows(2).all(|w| w[1] == w[0] + 1) {
        return format!("{}-{}", digits[0], digits[digits.len() - 1]);
    }
    keys.iter()
        .map(Key::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A hint: the keys of some actions and a word, or words alone.
enum Hint {
    Keys(&'static [KeyAction], &'static str),
    Words(&'static str),
}

use Hint::{Keys, Words};
use KeyAction as A;

const FILTER: &[Hint] = &[
    Words("type to filter"),
    Keys(&[A::KeepFilter], "keep"),
    Keys(&[A::DropFilter], "clear"),
];
const COMMAND: &[Hint] = &[
    Keys(&[A::Complete], "complete"),
    Keys(&[A::RunCommand], "run"),
    Keys(&[A::CancelCommand], "cancel"),
];
const LOGS: &[Hint] = &[
    Keys(&[A::NackOnly], "NACKs"),
    Keys(&[A::Follow], "follow"),
    Keys(&[A::Drill], "pod"),
    Keys(&[A::Filter], "filter"),
    Keys(&[A::NextPane], "pane"),
    Keys(&[A::Help], "keys"),
    Keys(&[A::Quit], "quit"),
];
const NAMESPACES: &[Hint] = &[
    Keys(&[A::Drill], "pods"),
    Keys(&[A::Filter], "filter"),
    Keys(&[A::NextPane], "pane"),
    Keys(&[A::CockpitLog], "log"),
    Keys(&[A::Help], "keys"),
    Keys(&[A::Quit], "quit"),
];
const PODS: &[Hint] = &[
    Keys(&[A::Up, A::Down], "move"),
    Keys(&[A::PodEvents], "events"),
    Keys(&[A::ProxyLog], "proxy log"),
    Keys(&[A::ProxyStatus], "sync"),
    Keys(&[A::PodYaml], "yaml"),
    Keys(&[A::Filter], "filter"),
    Keys(&[A::NextPane], "pane"),
    Keys(&[A::Help], "keys"),
];
const TABLES: &[Hint] = &[
    Keys(&[A::Up, A::Down], "move"),
    Keys(&[A::Filter], "filter"),
    Keys(&[A::NextPane], "pane"),
    Keys(&[A::CockpitLog], "log"),
    Keys(&[A::Help], "keys"),
    Keys(&[A::Quit], "quit"),
];

fn for_pane(pane: Pane) -> &'static [Hint] {
    match pane {
        Pane::Logs => LOGS,
        Pane::Namespaces => NAMESPACES,
        Pane::Pods => PODS,
        Pane::ControlPlanes => TABLES,
    }
}

/// The status bar's hints, one line per pane and one while a filter is typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hints {
    pub filter: String,
    pub command: String,
    panes: Vec<String>,
}

impl Hints {
    pub fn new(keys: &[Vec<Key>]) -> Hints {
        Hints {
            filter: line(FILTER, keys),
            command: line(COMMAND, keys),
            panes: Pane::ORDER
                .iter()
                .map(|p| line(for_pane(*p), keys))
                .collect(),
        }
    }

    pub fn pane(&self, pane: Pane) -> &str {
        let i = Pane::ORDER.iter().position(|p| *p == pane).unwrap_or(0);
        &self.panes[i]
    }
}

/// `n NACKs · f follow · ...`: each action by its first key; keys of one glyph side by side.
fn line(hints: &[Hint], keys: &[Vec<Key>]) -> String {
    hints
        .iter()
        .map(|hint| match hint {
            Words(words) => words.to_string(),
            Keys(actions, word) => {
                let first: Vec<Key> = actions
                    .iter()
                    .filter_map(|a| keys[*a as usize].first().copied())
                    .collect();
                let joiner = if first.iter().all(|k| k.is_one_glyph()) {
                    ""
                } else {
                    "/"
                };
                let shown: Vec<String> = first.iter().map(Key::to_string).collect();
                format!("{} {word}", shown.join(joiner))
            }
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Every action the hints name, for the tests.
#[cfg(test)]
pub fn hinted() -> Vec<KeyAction> {
    [FILTER, COMMAND, LOGS, NAMESPACES, TABLES]
        .iter()
        .flat_map(|hints| hints.iter())
        .filter_map(|h| match h {
            Keys(actions, _) => Some(*actions),
            Words(_) => None,
        })
        .flatten()
        .copied()
        .collect()
}
