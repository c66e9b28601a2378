//! Theme files as a user writes them: loaded from disk through `Theme::load`, with errors that
//! say which file, line and key to fix.

use std::path::Path;

use istio_cockpit::ui::theme::*;
use ratatui::style::{Color, Modifier};
use tempfile::TempDir;

use crate::common::files::write;

fn load(path: &Path, palette: Palette) -> Result<Theme, ThemeError> {
    Theme::load(path.to_str().expect("utf-8 temp path"), palette)
}

/// Loads a fixture that must be rejected; checks the error names the file, line and key,
/// both in its fields and in the message a user sees.
fn rejected(text: &str, line: usize, key: &str) -> ThemeError {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "broken.toml", text);
    let err = load(&path, Palette::TrueColor).expect_err("the theme should be rejected");
    let shown = err.to_string();
    let file = path.to_str().unwrap();
    assert_eq!(
        (err.file.as_str(), err.line, err.key.as_str()),
        (file, line, key),
        "{shown}"
    );
    assert!(
        shown.starts_with(&format!("{file}:{line}: key `{key}`: ")),
        "{shown}"
    );
    err
}

const OCEAN: &str = r##"
# a user's own theme
[base]
fg = "#d8dee9"
bg = "#2e3440"

[selected]
bg = "#4c566a"
modifiers = ["bold"]

[nack]
fg = "lightred"
modifiers = ["bold", "reversed"]

[old_revision]
fg = 214

[new_revision]
fg = "green"
"##;

#[test]
fn a_custom_theme_file_loads_and_is_fitted_to_the_palette() {
    let dir = TempDir::new().unwrap();
    let path = write(&dir, "ocean.toml", OCEAN);

    let theme = load(&path, Palette::TrueColor).expect("valid theme");
    assert_eq!(theme.name, "ocean");
    assert_eq!(theme.base.fg, Some(Color::Rgb(0xd8, 0xde, 0xe9)));
    assert_eq!(theme.base.bg, Some(Color::Rgb(0x2e, 0x34, 0x40)));
    assert_eq!(theme.selected.add_modifier, Modifier::BOLD);
    assert_eq!(theme.nack.add_modifier, Modifier::BOLD | Modifier::REVERSED);
    assert_eq!(theme.old_revision.fg, Some(Color::Indexed(214)));
    assert_eq!(theme.new_revision.fg, Some(Color::Green));
    assert_eq!(
        theme.warn,
        Default::default(),
        "tables left out are empty styles"
    );

    let ansi16 = load(&path, Palette::Ansi16).unwrap();
    assert_eq!(ansi16.old_revision.fg, Some(Color::Yellow));
    assert!(matches!(
        ansi16.base.bg,
        Some(Color::Black | Color::DarkGray)
    ));

    let ansi256 = load(&path, Palette::Ansi256).unwrap();
    assert!(matches!(ansi256.base.fg, Some(Color::Indexed(_))));

    let plain = load(&path, Palette::NoColor).unwrap();
    assert_eq!((plain.base.fg, plain.base.bg), (None, None));
    assert_eq!(
        (plain.nack.fg, plain.nack.add_modifier),
        (None, Modifier::BOLD | Modifier::REVERSED)
    );
    assert!(
        plain.selected.add_modifier.contains(Modifier::REVERSED),
        "selection stays visible"
    );
}

#[test]
fn a_bad_colour_names_its_line_and_key() {
    let err = rejected(
        "[base]\nfg = \"white\"\n\n[selected]\nbg = \"#2f3d4f\"\nfg = \"purplish\"\n",
        6,
        "selected.fg",
    );
    assert_eq!(
        err.message,
        "unknown colour \"purplish\" (use a name like red, a #rrggbb hex or 0-255)"
    );
    rejected("[dim]\nfg = 300\n", 2, "dim.fg");
    rejected("[dim]\nbg = \"#12345\"\n", 2, "dim.bg");
}

#[test]
fn an_unknown_key_names_its_line_and_key() {
    let err = rejected(
        "[warn]\nfg = \"yellow\"\nbackground = \"black\"\n",
        3,
        "warn.background",
    );
    assert!(err.message.contains("fg, bg and modifiers"), "{err}");

    let err = rejected(
        "[ok]\nfg = \"green\"\n\n[selectd]\nbg = \"blue\"\n",
        4,
        "selectd",
    );
    assert!(err.message.contains("did you mean \"selected\""), "{err}");
}

#[test]
fn a_bad_modifier_names_its_line_and_key() {
    let err = rejected(
        "[error]\nfg = \"red\"\n[nack]\nfg = \"red\"\nmodifiers = [\"bold\", \"blinking\"]\n",
        5,
        "nack.modifiers",
    );
    assert!(
        err.message.contains("unknown modifier \"blinking\""),
        "{err}"
    );
    assert!(
        err.message.contains("reversed"),
        "the message lists what is allowed: {err}"
    );
}

#[test]
fn a_toml_syntax_error_gives_tomls_line() {
    let err = rejected(
        "[base]\nfg = \"white\"\n\n[header]\nfg = \"cyan\nmodifiers = [\"bold\"]\n",
        5,
        "header.fg",
    );
    assert!(err.message.starts_with("invalid TOML"), "{err}");
}

#[test]
fn a_missing_file_is_named_in_the_error() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("nowhere.toml");
    let err = load(&path, Palette::Ansi256).expect_err("no such file");
    let shown = err.to_string();
    assert!(shown.starts_with(path.to_str().unwrap()), "{shown}");
    assert!(shown.contains("cannot read the theme file"), "{shown}");
    assert!(
        shown.contains("default, light, high-contrast, mono"),
        "{shown}"
    );

    let err = Theme::load("solarised", Palette::Ansi256).expect_err("not a theme");
    assert_eq!(
        err.to_string(),
        "solarised: no such theme: not a built-in (default, light, high-contrast, mono) and no file of that name"
    );
}

#[test]
fn builtin_names_load_without_any_file() {
    for name in BUILTIN {
        let theme = Theme::load(name, Palette::Ansi16).expect("built in");
        assert_eq!(theme.name, *name);
    }
    assert_eq!(Theme::default_for(Palette::NoColor).name, "mono");
    assert_eq!(Theme::default_for(Palette::TrueColor).name, "default");
}
