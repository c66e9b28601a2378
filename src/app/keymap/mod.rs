//! Keys as data: which key does what, where. One table (`table`) lists every action with its
//! default keys; a user's keys file (`file`) may rebind them; the `Keymap` built from both
//! answers the key handling (`app::on_key`), and writes the help, the status-bar hints and
//! the key names other panes mention (`shown`), so none of them can drift from the keys.
//!
//! - `key`: one key, as the file writes it and as the screen shows it
//! - `table`: the actions, their defaults, contexts, and help text
//! - `file`: the keys file, `$XDG_CONFIG_HOME/istio-cockpit/keys.toml`
//! - `shown`: the help's rows and the status bar's hints, written once per keymap

mod file;
mod key;
mod shown;
mod table;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock};

use crossterm::event::KeyEvent;

pub use file::{FILE_NAME, KeymapError};
pub use key::Key;
pub use shown::{HelpRow, HelpSection};
pub use table::{Context, Entry, KeyAction, Row, Section, TABLE, Who};

/// The keys in force: the table's defaults with the user's file over them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    bindings: HashMap<(Context, Key), KeyAction>,
    /// Each action's keys, in `TABLE` order; the first is the one hints show.
    keys: Vec<Vec<Key>>,
    /// Each action's first key, as shown.
    first: Vec<String>,
    /// Each action's keys as a sentence shows them: `n or Esc`.
    either: Vec<String>,
    help: Vec<HelpSection>,
    hints: shown::Hints,
}

/// Two actions on one key where both apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    pub key: Key,
    pub context: Context,
    pub actions: [KeyAction; 2],
}

static DEFAULT: LazyLock<Arc<Keymap>> = LazyLock::new(|| {
    Arc::new(
        Keymap::with(&BTreeMap::new())
            .expect("the built-in keys do not clash (a unit test checks)"),
    )
});

impl Keymap {
    /// The built-in keys, shared.
    pub fn shared_default() -> Arc<Keymap> {
        Arc::clone(&DEFAULT)
    }

    /// Reads a keys file's text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Keymap, KeymapError> {
        file::parse(text, file)
    }

    /// The defaults, with the keys of some actions replaced.
    pub fn with(rebound: &BTreeMap<KeyAction, Vec<Key>>) -> Result<Keymap, Clash> {
        let keys: Vec<Vec<Key>> = TABLE
            .iter()
            .map(|e| match rebound.get(&e.action) {
                Some(keys) => keys.clone(),
                None => e
                    .keys
                    .iter()
                    .map(|k| Key::parse(k).expect("the table's keys parse (a unit test checks)"))
                    .collect(),
            })
            .collect();
        let mut bindings = HashMap::new();
        for (entry, keys) in TABLE.iter().zip(&keys) {
            for key in keys {
                for context in entry.contexts {
                    if let Some(other) = bindings.insert((*context, *key), entry.action)
                        && other != entry.action
                    {
                        return Err(Clash {
                            key: *key,
                            context: *context,
                            actions: [other, entry.action],
                        });
                    }
                }
            }
        }
        let first = keys
            .iter()
            .map(|k| k.first().map(Key::to_string).unwrap_or_default())
            .collect();
        let either = keys
            .iter()
            .map(|k| {
                k.iter()
                    .map(Key::to_string)
                    .collect::<Vec<_>>()
                    .join(" or ")
            })
            .collect();
        let help = shown::help(&keys);
        let hints = shown::Hints::new(&keys);
        Ok(Keymap {
            bindings,
            keys,
            first,
            either,
            help,
            hints,
        })
    }

    /// What a key does in `context`. A key with Ctrl or Alt that is bound to nothing acts as
    /// the key alone, as it always has.
    pub fn action(&self, context: Context, event: &KeyEvent) -> Option<KeyAction> {
        let key = Key::of(event)?;
        self.bindings
            .get(&(context, key))
            .or_else(|| {
                key.has_modifiers()
                    .then(|| self.bindings.get(&(context, key.plain())))
                    .flatten()
            })
            .copied()
    }

    /// The keys of an action, the first one first.
    pub fn keys(&self, action: KeyAction) -> &[Key] {
        &self.keys[action as usize]
    }

    /// The first key of an action as the screen shows it (`M`, `PgDn`).
    pub fn key(&self, action: KeyAction) -> &str {
        &self.first[action as usize]
    }

    /// Every key of an action, as a sentence says it (`n or Esc`).
    pub fn either(&self, action: KeyAction) -> &str {
        &self.either[action as usize]
    }

    pub fn help(&self) -> &[HelpSection] {
        &self.help
    }

    /// The status bar's hints while a filter is typed.
    pub fn filter_hints(&self) -> &str {
        &self.hints.filter
    }

    /// The command line's hints.
    pub fn command_hints(&self) -> &str {
        &self.hints.command
    }

    /// The status bar's hints for the focused pane.
    pub fn pane_hints(&self, pane: super::state::Pane) -> &str {
        self.hints.pane(pane)
    }
}

#[cfg(test)]
mod tests;
