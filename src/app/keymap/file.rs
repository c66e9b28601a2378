//! The keys file: `$XDG_CONFIG_HOME/istio-cockpit/keys.toml`, else
//! `~/.config/istio-cockpit/keys.toml`. It rebinds the actions it names; the others keep
//! their keys. Each action takes one key or a list, and the list replaces the defaults:
//!
//! ```toml
//! [keys]
//! migrate = "ctrl-m"
//! down = ["down", "j", "ctrl-n"]
//! next_pane = "tab"
//! ```
//!
//! A bad file stops the cockpit before it takes the terminal, with the file, the line and
//! the field to fix.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use toml::Spanned;

use super::key::Key;
use super::table::{Context, Entry, KeyAction, names_allowed};
use super::{Clash, Keymap};

/// The file's name in the cockpit's configuration directory.
pub const FILE_NAME: &str = "keys.toml";

/// What is wrong with a keys file, and where: `line` counts from 1 (0 when the problem has
/// no line, e.g. the file cannot be read); `field` is the setting, e.g. `keys.migrate`
/// (empty for a TOML syntax error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeymapError {
    pub file: String,
    pub line: usize,
    pub field: String,
    pub message: String,
}

impl fmt::Display for KeymapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if !self.field.is_empty() {
            write!(f, ": field `{}`", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for KeymapError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysFile {
    #[serde(default)]
    keys: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
}

/// Reads a keys file's text; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<Keymap, KeymapError> {
    let at = |line: usize, field: String, message: String| KeymapError {
        file: file.to_string(),
        line,
        field,
        message,
    };
    let parsed: KeysFile = toml::from_str(text).map_err(|e| {
        let start = e.span().map_or(0, |s| s.start);
        let line = e.span().map_or(0, |_| line_of(text, start));
        at(line, field_at(text, start), e.message().to_string())
    })?;
    let mut settings: Vec<_> = parsed.keys.into_iter().collect();
    settings.sort_by_key(|(name, _)| name.span().start);
    let mut rebound = BTreeMap::new();
    let mut lines = BTreeMap::new();
    for (name, value) in settings {
        let line = line_of(text, name.span().start);
        let field = format!("keys.{}", name.get_ref());
        let Some(action) = KeyAction::named(name.get_ref()) else {
            let message = format!("no such action; the actions are: {}", names_allowed());
            return Err(at(line, field, message));
        };
        let entry = action.entry();
        if entry.fixed {
            return Err(at(line, field, fixed(action)));
        }
        let keys = keys_of(value.get_ref(), entry)
            .map_err(|message| at(line_of(text, value.span().start), field.clone(), message))?;
        rebound.insert(action, keys);
        lines.insert(action, line);
    }
    Keymap::with(&rebound).map_err(|clash| {
        let (action, line, message) = clash_message(&clash, &lines);
        at(line, format!("keys.{}", action.entry().name), message)
    })
}

fn fixed(action: KeyAction) -> String {
    match action {
        KeyAction::QuitAnywhere => {
            "Ctrl-C always quits and cannot be rebound; `quit` takes other keys".into()
        }
        _ => "1 to 9 always pick a numbered choice and cannot be rebound".into(),
    }
}

/// The keys one setting gives an action, each checked against where the action applies.
fn keys_of(value: &toml::Value, entry: &Entry) -> Result<Vec<Key>, String> {
    let texts: Vec<&str> = match value {
        toml::Value::String(text) => vec![text.as_str()],
        toml::Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().ok_or_else(|| expected(item)))
            .collect::<Result<_, _>>()?,
        other => return Err(expected(other)),
    };
    if texts.is_empty() {
        return Err("give at least one key, like \"m\" or [\"j\", \"down\"]".into());
    }
    let mut keys = Vec::new();
    for text in texts {
        let key = Key::parse(text)?;
        if keys.contains(&key) {
            return Err(format!("{text:?} is listed twice"));
        }
        allowed(key, entry)?;
        keys.push(key);
    }
    Ok(keys)
}

fn expected(found: &toml::Value) -> String {
    format!(
        "expected a key like \"m\" or a list like [\"j\", \"down\"], found {} {found}",
        found.type_str()
    )
}

/// Refuses a key that could never reach the action.
fn allowed(key: Key, entry: &Entry) -> Result<(), String> {
    let written = key.written();
    if key == Key::CTRL_C {
        return Err("ctrl-c always quits; choose another key".into());
    }
    for context in entry.contexts {
        if context.takes_text() && key.is_text() {
            return Err(format!(
                "{written:?} would be typed as text in {}: choose a key like \"enter\", \
                 \"esc\", \"tab\" or \"ctrl-x\"",
                context.name()
            ));
        }
        if *context == Context::Preview && key.is_choice_digit() {
            return Err(format!(
                "{written:?} picks a numbered choice in a preview: choose another key"
            ));
        }
    }
    Ok(())
}

/// Which of the two actions to blame (the one the file set, the later one if it set both),
/// its line, and what to do.
fn clash_message(clash: &Clash, lines: &BTreeMap<KeyAction, usize>) -> (KeyAction, usize, String) {
    let [a, b] = clash.actions;
    let (blamed, other) = match (lines.get(&a), lines.get(&b)) {
        (Some(la), Some(lb)) if la > lb => (a, b),
        (Some(_), None) => (a, b),
        _ => (b, a),
    };
    let key = clash.key.written();
    let name = other.entry().name;
    let context = clash.context.name();
    let message = match lines.get(&other) {
        Some(line) => format!(
            "{key:?} is also the key of {name} (line {line}) in {context}: one key, one action"
        ),
        None => format!(
            "{key:?} is already the key of {name} in {context}: choose another key, or give \
             {name} another key in [keys] too"
        ),
    };
    (blamed, lines.get(&blamed).copied().unwrap_or(0), message)
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The setting on the line of a byte offset, as `table.key`, for errors TOML reports by
/// position only.
fn field_at(text: &str, offset: usize) -> String {
    let line = line_of(text, offset);
    let mut table = String::new();
    for (i, row) in text.lines().enumerate() {
        let row = row.trim();
        if let Some(header) = row.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            table = header.trim().to_string();
            if i + 1 == line {
                return table;
            }
        } else if i + 1 == line {
            let Some((key, _)) = row.split_once('=') else {
                return String::new();
            };
            let key = key.trim().trim_matches('"');
            return if table.is_empty() {
                key.to_string()
            } else {
                format!("{table}.{key}")
            };
        }
    }
    String::new()
}
