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

use serde::Deserialize;
use toml::Spanned;

use crate::toml_file::{self, FileError, Mistake, Step};

use super::key::Key;
use super::table::{Context, Entry, KeyAction, names_allowed};
use super::{Clash, Keymap};

/// The file's name in the cockpit's configuration directory.
pub const FILE_NAME: &str = "keys.toml";

/// What is wrong with a keys file, and where (`keys.migrate` names a setting).
pub type KeymapError = crate::toml_file::SettingError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysFile {
    /// Each value starts on its key's line, so its span gives the setting's line.
    #[serde(default)]
    keys: BTreeMap<String, Spanned<toml::Value>>,
}

/// Reads a keys file's text; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<Keymap, KeymapError> {
    let at = |line: usize, field: String, message: String| KeymapError {
        file: file.to_string(),
        line,
        field,
        message,
    };
    let parsed: KeysFile =
        toml_file::read(text).map_err(|e| at(e.line(text), field(&e.path), read_error(&e)))?;
    let mut settings: Vec<_> = parsed.keys.into_iter().collect();
    settings.sort_by_key(|(_, value)| value.span().start);
    let mut rebound = BTreeMap::new();
    let mut lines = BTreeMap::new();
    for (name, value) in settings {
        let line = toml_file::line_of(text, value.span().start);
        let field = format!("keys.{name}");
        let Some(action) = KeyAction::named(&name) else {
            let message = format!("no such action; the actions are: {}", names_allowed());
            return Err(at(line, field, message));
        };
        let entry = action.entry();
        if entry.fixed {
            return Err(at(line, field, fixed(action)));
        }
        let keys =
            keys_of(value.get_ref(), entry).map_err(|message| at(line, field.clone(), message))?;
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

/// A mistake serde or toml found while reading, in the words the plan's errors use.
fn read_error(e: &FileError) -> String {
    match &e.mistake {
        Mistake::Syntax(message) => format!("not valid TOML: {message}"),
        Mistake::Unexpected { found, expected } => format!("expected {expected}, got {found}"),
        Mistake::UnknownKey { expected, .. } => {
            let tables: Vec<String> = expected.iter().map(|k| format!("[{k}]")).collect();
            format!("unknown field; expected {}", tables.join(", "))
        }
        Mistake::Other(message) => message.clone(),
    }
}

/// `keys.migrate`.
fn field(path: &[Step]) -> String {
    let keys: Vec<String> = path
        .iter()
        .map(|step| match step {
            Step::Key(key) => key.clone(),
            Step::Index(i) => i.to_string(),
        })
        .collect();
    keys.join(".")
}
