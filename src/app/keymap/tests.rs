use std::collections::BTreeSet;

use super::*;
use crate::app::state::Pane;

fn defaults() -> Arc<Keymap> {
    Keymap::shared_default()
}

/// Every (context, key) an action is bound to in `keymap`.
fn bindings_of(keymap: &Keymap, action: KeyAction) -> Vec<(Context, Key)> {
    let entry = action.entry();
    entry
        .contexts
        .iter()
        .flat_map(|c| keymap.keys(action).iter().map(move |k| (*c, *k)))
        .collect()
}

#[test]
fn the_table_is_in_the_order_of_its_actions_with_unique_names() {
    for (i, entry) in TABLE.iter().enumerate() {
        assert_eq!(entry.action as usize, i, "{} is out of order", entry.name);
        assert_eq!(KeyAction::named(entry.name), Some(entry.action));
        assert!(
            entry
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_'),
            "{} is not a bare TOML key",
            entry.name
        );
        assert!(!entry.keys.is_empty() && !entry.contexts.is_empty());
        for key in entry.keys {
            Key::parse(key).unwrap_or_else(|e| panic!("{}: {e}", entry.name));
        }
    }
    let names: BTreeSet<&str> = TABLE.iter().map(|e| e.name).collect();
    assert_eq!(names.len(), TABLE.len());
}

#[test]
fn every_action_is_reachable_and_no_default_keys_clash() {
    let keymap = defaults();
    for entry in TABLE {
        let bound = bindings_of(&keymap, entry.action);
        assert!(!bound.is_empty(), "{} has no key", entry.name);
        for (context, key) in bound {
            assert_eq!(
                keymap.action(context, &key.event()),
                Some(entry.action),
                "{key} in {} does not reach {}",
                context.name(),
                entry.name
            );
        }
    }
}

#[test]
fn the_old_keys_keep_their_meaning() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let keymap = defaults();
    let panes = |code, modifiers| keymap.action(Context::Panes, &KeyEvent::new(code, modifiers));
    // Capitals arrive with Shift; Ctrl or Alt on an unbound key acts as the key alone.
    assert_eq!(
        panes(KeyCode::Char('G'), KeyModifiers::SHIFT),
        Some(KeyAction::Last)
    );
    assert_eq!(
        panes(KeyCode::BackTab, KeyModifiers::SHIFT),
        Some(KeyAction::PreviousPane)
    );
    assert_eq!(
        panes(KeyCode::Char('j'), KeyModifiers::ALT),
        Some(KeyAction::Down)
    );
    assert_eq!(
        panes(KeyCode::Char('c'), KeyModifiers::CONTROL),
        Some(KeyAction::QuitAnywhere)
    );
    assert_eq!(
        panes(KeyCode::Char('c'), KeyModifiers::NONE),
        Some(KeyAction::NextCluster)
    );
    for context in Context::ALL {
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(
            keymap.action(context, &ctrl_c),
            Some(KeyAction::QuitAnywhere)
        );
    }
    // While typing, letters are nobody's key: they are text.
    let typed = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
    assert_eq!(keymap.action(Context::Filter, &typed), None);
    assert_eq!(keymap.action(Context::Typed, &typed), None);
}

#[test]
fn the_help_lists_every_binding_and_what_it_does() {
    let keymap = defaults();
    let rows: Vec<&HelpRow> = keymap.help().iter().flat_map(|s| &s.rows).collect();
    for entry in TABLE {
        let keys = keymap.keys(entry.action);
        let found = rows.iter().any(|row| {
            let listed: Vec<&str> = row.keys.split(" / ").collect();
            listed.iter().any(|l| {
                let names: Vec<String> = keys.iter().map(Key::to_string).collect();
                *l == names.join(" ") || (entry.action == KeyAction::Pick && *l == "1-9")
            })
        });
        assert!(found, "the help does not list {}'s keys", entry.name);
        if let Row::Own(about) = entry.row {
            assert!(rows.iter().any(|r| r.about == about), "{about}");
        }
    }
    for section in keymap.help() {
        assert!(!section.rows.is_empty(), "{} is empty", section.title);
    }
}

#[test]
fn the_hints_read_as_before_and_name_only_bound_keys() {
    let keymap = defaults();
    assert_eq!(
        keymap.filter_hints(),
        "type to filter · Enter keep · Esc clear"
    );
    assert_eq!(
        keymap.pane_hints(Pane::Logs),
        "n NACKs · f follow · Enter pod · / filter · Tab pane · ? keys · q quit"
    );
    assert_eq!(
        keymap.pane_hints(Pane::Namespaces),
        "Enter pods · / filter · Tab pane · L log · ? keys · q quit"
    );
    assert_eq!(
        keymap.pane_hints(Pane::Pods),
        "↑↓ move · e events · l proxy log · s sync · v yaml · / filter · Tab pane · ? keys"
    );
    assert_eq!(
        keymap.pane_hints(Pane::ControlPlanes),
        "↑↓ move · / filter · Tab pane · L log · ? keys · q quit"
    );
    for action in super::shown::hinted() {
        assert!(!action.entry().fixed);
        assert!(!keymap.keys(action).is_empty());
    }
    assert_eq!(keymap.either(KeyAction::Cancel), "n or Esc");
    assert_eq!(keymap.key(KeyAction::MigrateWave), "M");
}

/// The README's keys tables, as the keymap writes them, with the names the keys file uses.
fn readme_tables(keymap: &Keymap) -> String {
    let mut out = String::new();
    for (section, shown) in Section::ALL.iter().zip(keymap.help()) {
        let mut names: Vec<Vec<&str>> = Vec::new();
        for entry in TABLE.iter().filter(|e| e.section == *section) {
            let name = if entry.fixed { "(fixed)" } else { entry.name };
            match (entry.row, names.last_mut()) {
                (Row::WithPrevious, Some(row)) => row.push(name),
                _ => names.push(vec![name]),
            }
        }
        out.push_str(&format!(
            "**{}**\n\n| key | does | in keys.toml |\n|---|---|---|\n",
            shown.title
        ));
        for (row, names) in shown.rows.iter().zip(names) {
            let keys: Vec<String> = row
                .keys
                .split(" / ")
                .map(|group| {
                    let keys: Vec<String> = group.split(' ').map(|k| format!("`{k}`")).collect();
                    keys.join(" ")
                })
                .collect();
            let names: Vec<String> = names
                .iter()
                .map(|n| {
                    if n.starts_with('(') {
                        n.to_string()
                    } else {
                        format!("`{n}`")
                    }
                })
                .collect();
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                keys.join(" / "),
                row.about,
                names.join(" / ")
            ));
        }
        out.push('\n');
    }
    out
}

#[test]
fn the_readme_lists_every_default_key() {
    let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
    let expected = readme_tables(&defaults());
    assert!(
        readme.contains(&expected),
        "the README's Keys section should read:\n\n{expected}"
    );
}

fn parse(text: &str) -> Result<Keymap, KeymapError> {
    Keymap::parse(text, "keys.toml")
}

#[test]
fn a_keys_file_rebinds_keys_and_the_help_and_hints_follow() {
    let keymap = parse(
        "# mine\n[keys]\nnext_pane = \"ctrl-n\"\ndown = [\"down\", \"j\", \"ctrl-j\"]\nmigrate = [\"u\", \"f5\"]\nhelp = \"h\"\n\
         keep_filter = \"tab\"\n",
    )
    .unwrap();
    let event = |text: &str| Key::parse(text).unwrap().event();
    assert_eq!(
        keymap.action(Context::Panes, &event("ctrl-n")),
        Some(KeyAction::NextPane)
    );
    assert_eq!(keymap.action(Context::Panes, &event("tab")), None);
    assert_eq!(
        keymap.action(Context::Panes, &event("u")),
        Some(KeyAction::Migrate)
    );
    assert_eq!(
        keymap.action(Context::Panes, &event("f5")),
        Some(KeyAction::Migrate)
    );
    assert_eq!(keymap.action(Context::Panes, &event("m")), None);
    assert_eq!(
        keymap.action(Context::Filter, &event("tab")),
        Some(KeyAction::KeepFilter)
    );
    // The others keep their keys.
    assert_eq!(
        keymap.action(Context::Panes, &event("j")),
        Some(KeyAction::Down)
    );
    assert_eq!(
        keymap.pane_hints(Pane::Logs),
        "n NACKs · f follow · Enter pod · / filter · Ctrl-N pane · h keys · q quit"
    );
    assert_eq!(
        keymap.filter_hints(),
        "type to filter · Tab keep · Esc clear"
    );
    let rows: Vec<&HelpRow> = keymap.help().iter().flat_map(|s| &s.rows).collect();
    assert!(
        rows.iter()
            .any(|r| r.keys == "u F5" && r.about == "migrate the namespace")
    );
    assert!(
        rows.iter()
            .any(|r| r.keys == "Ctrl-N" && r.about == "next pane")
    );
    assert!(
        rows.iter()
            .any(|r| r.keys == "↓ j Ctrl-J / ↑ k" && r.about == "move down / up")
    );
    // An empty file, or one without [keys], is the defaults.
    assert_eq!(parse("").unwrap(), *defaults());
    assert_eq!(parse("[keys]\n").unwrap(), *defaults());
}

/// A file that must be rejected: the error names the file, the line and the field, and says
/// `says`.
fn rejected(text: &str, line: usize, field: &str, says: &str) {
    let err = parse(text).expect_err("the file should be rejected");
    let shown = err.to_string();
    assert_eq!((err.line, err.field.as_str()), (line, field), "{shown}");
    assert!(shown.starts_with("keys.toml:"), "{shown}");
    assert!(shown.contains(says), "{shown} should say {says:?}");
}

#[test]
fn bad_keys_files_name_the_line_and_field_and_say_what_is_allowed() {
    rejected(
        "[keys]\nmigrate = \"m\"\nmigrat = \"x\"\n",
        3,
        "keys.migrat",
        "the actions are: down, up,",
    );
    rejected(
        "[keys]\n\nmigrate = \"pgdwn\"\n",
        3,
        "keys.migrate",
        "unknown key \"pgdwn\": write a character like",
    );
    rejected(
        "[keys]\nmigrate = 3\n",
        2,
        "keys.migrate",
        "expected a key like \"m\" or a list like [\"j\", \"down\"], found integer 3",
    );
    rejected(
        "[keys]\ndown = [\"j\", 2]\n",
        2,
        "keys.down",
        "found integer 2",
    );
    rejected("[keys]\ndown = []\n", 2, "keys.down", "at least one key");
    rejected(
        "[keys]\ndown = [\"j\", \"j\"]\n",
        2,
        "keys.down",
        "listed twice",
    );
    rejected(
        "[keys]\nquit_anywhere = \"x\"\n",
        2,
        "keys.quit_anywhere",
        "Ctrl-C always quits",
    );
    rejected(
        "[keys]\npick = \"x\"\n",
        2,
        "keys.pick",
        "cannot be rebound",
    );
    rejected(
        "[keys]\nmigrate = \"ctrl-c\"\n",
        2,
        "keys.migrate",
        "ctrl-c always quits",
    );
    rejected(
        "[keys]\nkeep_filter = \"k\"\n",
        2,
        "keys.keep_filter",
        "\"k\" would be typed as text in a filter being typed",
    );
    rejected(
        "[keys]\napply = \"1\"\n",
        2,
        "keys.apply",
        "picks a numbered choice",
    );
}

#[test]
fn a_key_given_to_two_actions_in_one_context_is_refused() {
    // Against a default: the file's line, and what to do.
    rejected(
        "[keys]\nmigrate = \"n\"\n",
        2,
        "keys.migrate",
        "\"n\" is already the key of nack_only in the panes: choose another key, or give \
         nack_only another key in [keys] too",
    );
    // Both in the file: the later line, naming the earlier.
    rejected(
        "[keys]\nmigrate = \"u\"\n\nrevert = [\"r\", \"u\"]\n",
        4,
        "keys.revert",
        "\"u\" is also the key of migrate (line 2) in the panes: one key, one action",
    );
    // Moving the default out of the way first is fine; so is one key in two contexts.
    parse("[keys]\nmigrate = \"n\"\nnack_only = \"N\"\n").unwrap();
    parse("[keys]\ncancel = \"q\"\n").unwrap();
}

#[test]
fn toml_errors_name_the_line_and_field_too() {
    rejected(
        "[keys]\nmigrate = \"m\"\n\n[kyes]\nrevert = \"r\"\n",
        4,
        "kyes",
        "unknown field; expected [keys]",
    );
    rejected("keys = 3\n", 1, "keys", "expected a map, got integer `3`");
    rejected(
        "[keys]\nmigrate = \"m\"\nmigrate = \"u\"\n",
        3,
        "",
        "not valid TOML: duplicate key",
    );
    rejected("[keys\nmigrate = \"m\"\n", 1, "", "not valid TOML");
}

#[test]
fn the_command_line_has_its_own_keys_and_hints() {
    let keymap = defaults();
    let event = |text: &str| Key::parse(text).unwrap().event();
    assert_eq!(
        keymap.action(Context::Panes, &event(":")),
        Some(KeyAction::CommandLine)
    );
    assert_eq!(
        keymap.action(Context::Panes, &event("y")),
        Some(KeyAction::CopyName)
    );
    assert_eq!(
        keymap.action(Context::Preview, &event("y")),
        Some(KeyAction::Apply)
    );
    assert_eq!(
        keymap.action(Context::Command, &event("tab")),
        Some(KeyAction::Complete)
    );
    assert_eq!(
        keymap.action(Context::Command, &event("backspace")),
        Some(KeyAction::Erase)
    );
    // Letters are text on the command line.
    assert_eq!(keymap.action(Context::Command, &event("q")), None);
    assert_eq!(
        keymap.command_hints(),
        "Tab complete · Enter run · Esc cancel"
    );
}
