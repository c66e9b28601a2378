//! Reading a theme from TOML text, with the line and key of every mistake.
//!
//! The document is walked through toml's spanned tree (`DeTable`) rather than deserialised
//! with serde: every key and value keeps its byte span, so an error can name the exact line
//! and the dotted key (`nack.modifiers`) a user has to fix.

use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{Theme, ThemeError};

const COLOUR_HINT: &str = "use a name like red, a #rrggbb hex or 0-255";

const MODIFIERS: [(&str, Modifier); 6] = [
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("underlined", Modifier::UNDERLINED),
    ("reversed", Modifier::REVERSED),
    ("crossed_out", Modifier::CROSSED_OUT),
];

/// A mistake found while walking the document: where (byte offset), which key, what.
struct Problem {
    at: usize,
    key: String,
    message: String,
}

/// Parses `text` into a theme named `name`, colours as written (not yet adapted to a
/// palette). When the file has several mistakes, the first one in the file is reported.
pub(super) fn parse(text: &str, file: &str, name: &str) -> Result<Theme, ThemeError> {
    let document = DeTable::parse(text).map_err(|err| syntax_error(text, file, &err))?;
    let mut theme = Theme::blank(name);
    let mut problems = Vec::new();
    for (key, value) in document.get_ref() {
        let style_name = key.get_ref().as_ref();
        let slot = theme
            .styles_mut()
            .into_iter()
            .find_map(|(name, style)| (name == style_name).then_some(style));
        match slot {
            Some(slot) => *slot = read_style(style_name, value, &mut problems),
            None => problems.push(Problem {
                at: key.span().start,
                key: style_name.to_owned(),
                message: unknown_style(style_name),
            }),
        }
    }
    match problems.into_iter().min_by_key(|p| p.at) {
        Some(first) => Err(ThemeError {
            file: file.to_owned(),
            line: line_of(text, first.at),
            key: first.key,
            message: first.message,
        }),
        None => Ok(theme),
    }
}

fn read_style(style_name: &str, value: &Spanned<DeValue>, problems: &mut Vec<Problem>) -> Style {
    let mut style = Style::new();
    let DeValue::Table(fields) = value.get_ref() else {
        problems.push(Problem {
            at: value.span().start,
            key: style_name.to_owned(),
            message: format!(
                "expected a table like [{style_name}] with fg, bg and modifiers, found {}",
                a_type(value.get_ref())
            ),
        });
        return style;
    };
    for (field, value) in fields {
        let field_name = field.get_ref().as_ref();
        let key = format!("{style_name}.{field_name}");
        let outcome = match field_name {
            "fg" => read_colour(value).map(|c| style.fg = Some(c)),
            "bg" => read_colour(value).map(|c| style.bg = Some(c)),
            "modifiers" => read_modifiers(value).map(|m| style.add_modifier = m),
            _ => Err((
                field.span().start,
                format!("unknown field \"{field_name}\" (a style takes fg, bg and modifiers)"),
            )),
        };
        if let Err((at, message)) = outcome {
            problems.push(Problem { at, key, message });
        }
    }
    style
}

/// A colour, or the byte offset and text of what is wrong with it.
fn read_colour(value: &Spanned<DeValue>) -> Result<Color, (usize, String)> {
    let at = value.span().start;
    match value.get_ref() {
        DeValue::Integer(int) => match i64::from_str_radix(int.as_str(), int.radix()) {
            Ok(index) => u8::try_from(index).map(Color::Indexed).map_err(|_| {
                (
                    at,
                    format!("colour index {index} is out of range ({COLOUR_HINT})"),
                )
            }),
            Err(_) => Err((
                at,
                format!("colour index {int} is out of range ({COLOUR_HINT})"),
            )),
        },
        DeValue::String(text) => Color::from_str(text.trim()).map_err(|_| {
            let message = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
                format!("colour index {text} is out of range ({COLOUR_HINT})")
            } else {
                format!("unknown colour \"{text}\" ({COLOUR_HINT})")
            };
            (at, message)
        }),
        other => Err((
            at,
            format!("expected a colour ({COLOUR_HINT}), found {}", a_type(other)),
        )),
    }
}

fn read_modifiers(value: &Spanned<DeValue>) -> Result<Modifier, (usize, String)> {
    let DeValue::Array(items) = value.get_ref() else {
        return Err((
            value.span().start,
            format!(
                "expected a list of modifiers like [\"bold\", \"reversed\"], found {}",
                a_type(value.get_ref())
            ),
        ));
    };
    let mut modifiers = Modifier::empty();
    for item in items.iter() {
        let found = match item.get_ref() {
            DeValue::String(word) => MODIFIERS
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(word))
                .map(|&(_, modifier)| modifier)
                .ok_or_else(|| format!("unknown modifier \"{word}\"")),
            other => Err(format!("expected a modifier name, found {}", a_type(other))),
        };
        match found {
            Ok(modifier) => modifiers |= modifier,
            Err(what) => {
                let names: Vec<_> = MODIFIERS.iter().map(|(name, _)| *name).collect();
                let (last, rest) = names.split_last().unwrap_or((&"", &[]));
                let message = format!("{what} (use {} or {last})", rest.join(", "));
                return Err((item.span().start, message));
            }
        }
    }
    Ok(modifiers)
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

fn a_type(value: &DeValue) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "a list",
        DeValue::Table(_) => "a table",
    }
}

/// A TOML syntax error at toml's own position, with the key being written there when the
/// line shows one.
fn syntax_error(text: &str, file: &str, err: &toml::de::Error) -> ThemeError {
    let line = err.span().map_or(0, |span| line_of(text, span.start));
    ThemeError {
        file: file.to_owned(),
        line,
        key: key_at_line(text, line),
        message: format!("invalid TOML: {}", err.message().trim()),
    }
}

/// 1-based line of a byte offset.
fn line_of(text: &str, at: usize) -> usize {
    let before = text.get(..at).unwrap_or(text);
    before.bytes().filter(|&b| b == b'\n').count() + 1
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
}
