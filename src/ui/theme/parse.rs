//! Reading a theme from TOML text, with the line and key of every mistake.
//!
//! The theme's tables are read by serde (`Theme` derives `Deserialize`, refusing unknown
//! styles and fields); toml gives the span of a mistake and so its line, the path tracker
//! its dotted key (`nack.modifiers`). This file words the mistakes for a theme's author.

use super::{Theme, ThemeError};
use crate::toml_file::{self, FileError, Kind, Mistake, Step};

/// Parses `text` into a theme named `name`, colours as written (not yet adapted to a
/// palette). When the file has several mistakes, the first one in the file is reported.
pub(super) fn parse(text: &str, file: &str, name: &str) -> Result<Theme, ThemeError> {
    let mut theme: Theme = toml_file::read(text).map_err(|e| error(text, file, &e))?;
    theme.name = name.to_owned();
    Ok(theme)
}

fn error(text: &str, file: &str, e: &FileError) -> ThemeError {
    let line = e.line(text);
    let keys: Vec<&str> = e
        .path
        .iter()
        .filter_map(|step| match step {
            Step::Key(key) => Some(key.as_str()),
            Step::Index(_) => None,
        })
        .collect();
    let message = match (&e.mistake, keys.as_slice()) {
        (Mistake::Syntax(message), _) => {
            return ThemeError {
                file: file.to_owned(),
                line,
                key: key_at_line(text, line),
                message: format!("invalid TOML: {}", message.trim()),
            };
        }
        (Mistake::UnknownKey { key, .. }, [_]) => unknown_style(key),
        (Mistake::UnknownKey { key, .. }, _) => {
            format!("unknown field \"{key}\" (a style takes fg, bg and modifiers)")
        }
        (Mistake::Unexpected { found, .. }, [style]) => format!(
            "expected a table like [{style}] with fg, bg and modifiers, found {}",
            a_kind(found, e.written(text))
        ),
        (Mistake::Unexpected { found, expected }, _) => {
            format!(
                "expected {expected}, found {}",
                a_kind(found, e.written(text))
            )
        }
        (Mistake::Other(message), _) => message.clone(),
    };
    ThemeError {
        file: file.to_owned(),
        line,
        key: keys.join("."),
        message,
    }
}

fn unknown_style(name: &str) -> String {
    let names = Theme::style_names();
    match closest(name, &names) {
        Some(guess) => format!("unknown style \"{name}\" (did you mean \"{guess}\"?)"),
        None => format!("unknown style \"{name}\" (styles are {})", names.join(", ")),
    }
}

/// The candidate within two edits of `word`, if any: catches typos like `selectd`.
fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|&c| (edit_distance(word, c), c))
        .filter(|&(d, _)| d <= 2)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over chars, one row at a time.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let replaced = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = replaced.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// A value's kind as a theme's errors name it.
fn a_kind(found: &str, written: &str) -> String {
    match toml_file::kind(found, written) {
        Kind::String => "a string".into(),
        Kind::Integer => "an integer".into(),
        Kind::Float => "a float".into(),
        Kind::Boolean => "a boolean".into(),
        Kind::Date => "a date".into(),
        Kind::Array => "a list".into(),
        Kind::Table => "a table".into(),
        Kind::Other => found.to_owned(),
    }
}

/// Best effort for syntax errors: the last `[table]` header above `line`, joined with the key
/// left of `=` on that line (`selected.fg`). Empty when nothing key-like is there.
fn key_at_line(text: &str, line: usize) -> String {
    let lines: Vec<&str> = text.lines().take(line).collect();
    let Some((here, above)) = lines.split_last() else {
        return String::new();
    };
    let table = above.iter().rev().find_map(|l| header_name(l));
    let here = here.trim();
    let local = match header_name(here) {
        Some(name) => return name.to_owned(),
        None => here
            .split_once('=')
            .map(|(key, _)| key.trim())
            .filter(|k| is_key(k)),
    };
    match (table, local) {
        (Some(table), Some(local)) => format!("{table}.{local}"),
        (Some(table), None) => table.to_owned(),
        (None, Some(local)) => local.to_owned(),
        (None, None) => String::new(),
    }
}

/// `name` for a `[name]` header line (comments allowed after it).
fn header_name(line: &str) -> Option<&str> {
    let inner = line.trim().strip_prefix('[')?;
    let (name, _) = inner.split_once(']')?;
    let name = name.trim();
    (!name.starts_with('[') && is_key(name)).then_some(name)
}

fn is_key(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ' ' | '"'))
}

#[cfg(test)]
mod tests {
    use ratatui::style::{Color, Modifier, Style};

    use super::super::style::COLOUR_HINT;
    use super::*;

    fn error(text: &str) -> ThemeError {
        parse(text, "t.toml", "t").expect_err("should be rejected")
    }

    #[test]
    fn reads_colours_in_every_form_and_modifiers() {
        let text = "[selected]\nfg = \"LightBlue\"\nbg = \"#2f3d4f\"\nmodifiers = [\"bold\", \"REVERSED\"]\n\
                    [dim]\nfg = 244\nbg = \"17\"\n[nack]\nfg = \"reset\"\n";
        let theme = parse(text, "t.toml", "t").expect("valid");
        assert_eq!(
            theme.selected,
            Style::new()
                .fg(Color::LightBlue)
                .bg(Color::Rgb(0x2f, 0x3d, 0x4f))
                .add_modifier(Modifier::BOLD | Modifier::REVERSED)
        );
        assert_eq!(
            theme.dim,
            Style::new().fg(Color::Indexed(244)).bg(Color::Indexed(17))
        );
        assert_eq!(theme.nack, Style::new().fg(Color::Reset));
        assert_eq!(
            theme.base,
            Style::new(),
            "a missing table is an empty style"
        );
    }

    #[test]
    fn inline_and_dotted_tables_work_like_headers() {
        let theme = parse(
            "ok = { fg = \"green\" }\nwarn.fg = \"yellow\"\n",
            "t.toml",
            "t",
        )
        .unwrap();
        assert_eq!(theme.ok.fg, Some(Color::Green));
        assert_eq!(theme.warn.fg, Some(Color::Yellow));
    }

    #[test]
    fn errors_name_line_and_key() {
        let e = error("[ok]\nfg = \"green\"\n\n[selected]\nfg = \"purplish\"\n");
        assert_eq!((e.line, e.key.as_str()), (5, "selected.fg"));
        assert_eq!(
            e.message,
            format!("unknown colour \"purplish\" ({COLOUR_HINT})")
        );

        let e = error("[nack]\nmodifiers = [\"bold\",\n  \"blink\"]\n");
        assert_eq!((e.line, e.key.as_str()), (3, "nack.modifiers"));
        assert!(
            e.message
                .starts_with("unknown modifier \"blink\" (use bold, dim"),
            "{e}"
        );

        let e = error("[warn]\nfg = \"red\"\ncolour = \"red\"\n");
        assert_eq!((e.line, e.key.as_str()), (3, "warn.colour"));

        let e = error("# comment\n[selectd]\nfg = \"red\"\n");
        assert_eq!((e.line, e.key.as_str()), (2, "selectd"));
        assert!(e.message.contains("did you mean \"selected\""), "{e}");

        let e = error("[spinner]\n");
        assert!(e.message.contains("styles are base, border,"), "{e}");
    }

    #[test]
    fn wrong_value_types_are_explained() {
        assert!(error("ok = \"green\"\n").message.contains("found a string"));
        assert!(
            error("[ok]\nfg = true\n")
                .message
                .contains("found a boolean")
        );
        assert!(
            error("[ok]\nmodifiers = \"bold\"\n")
                .message
                .contains("like [\"bold\"")
        );
        assert!(
            error("[ok]\nmodifiers = [1]\n")
                .message
                .contains("found an integer")
        );
        assert!(
            error("[ok]\nfg = 256\n")
                .message
                .contains("256 is out of range")
        );
        assert!(
            error("[ok]\nfg = -1\n")
                .message
                .contains("-1 is out of range")
        );
        assert!(
            error("[ok]\nfg = \"300\"\n")
                .message
                .contains("300 is out of range")
        );
        assert!(
            error("[[ok]]\nfg = \"red\"\n")
                .message
                .contains("found a list")
        );
    }

    #[test]
    fn the_first_mistake_in_the_file_is_reported() {
        // Keys are visited in sorted order; the report must still follow the file.
        let e = error("[warn]\nfg = \"nope\"\n[base]\nfg = \"nope\"\n");
        assert_eq!((e.line, e.key.as_str()), (2, "warn.fg"));
    }

    #[test]
    fn syntax_errors_use_tomls_line_and_the_key_there() {
        let e = error("[base]\nfg = \"white\"\n\n[selected]\nfg = \"red\nbg = \"blue\"\n");
        assert_eq!((e.line, e.key.as_str()), (5, "selected.fg"), "{e}");
        assert!(e.message.starts_with("invalid TOML: "), "{e}");

        let e = error("[ok]\nfg = \"green\"\nfg = \"red\"\n");
        assert_eq!((e.line, e.key.as_str()), (3, "ok.fg"), "{e}");
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("selectd", "selected"), 1);
        assert_eq!(edit_distance("nakc", "nack"), 2);
        assert_eq!(edit_distance("", "ok"), 2);
        assert_eq!(
            closest("stauts_bar", &["status_bar", "base"]),
            Some("status_bar")
        );
        assert_eq!(closest("spinner", &["status_bar", "base"]), None);
    }

    #[test]
    fn dates_and_huge_indices_are_named_for_what_they_are() {
        assert!(error("ok = 1979-05-27\n").message.ends_with("found a date"));
        assert!(
            error("[ok]\nfg = 99999999999999999999\n")
                .message
                .starts_with("colour index 99999999999999999999 is out of range")
        );
        let e = error("[ok]\nmodifiers = [\"bold\", 2.5]\n");
        assert_eq!((e.line, e.key.as_str()), (2, "ok.modifiers"));
        assert!(
            e.message
                .starts_with("expected a modifier name, found a float (use bold")
        );
    }
}
