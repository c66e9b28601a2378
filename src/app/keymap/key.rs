//! One key as the keymap knows it: a key code with Ctrl and Alt, written in the keys file as
//! `"m"`, `"G"`, `"?"`, `"ctrl-x"`, `"tab"`, `"pgdown"`..., shown on screen as `m`, `Ctrl-X`,
//! `PgDn`, `↓`.

use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    code: Code,
    ctrl: bool,
    alt: bool,
}

/// The key codes a binding may use: the subset of crossterm's that terminals send and that
/// can be ordered and hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Code {
    Char(char),
    F(u8),
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    Tab,
    BackTab,
    Enter,
    Esc,
    Backspace,
    Delete,
    Insert,
}

/// Named keys: the names the file accepts (the first is the one written back), and how the
/// screen shows them.
const NAMED: &[(&[&str], Code, &str)] = &[
    (&["up"], Code::Up, "↑"),
    (&["down"], Code::Down, "↓"),
    (&["left"], Code::Left, "←"),
    (&["right"], Code::Right, "→"),
    (&["pgup", "pageup"], Code::PageUp, "PgUp"),
    (&["pgdown", "pagedown", "pgdn"], Code::PageDown, "PgDn"),
    (&["home"], Code::Home, "Home"),
    (&["end"], Code::End, "End"),
    (&["tab"], Code::Tab, "Tab"),
    (&["shift-tab", "backtab"], Code::BackTab, "Shift-Tab"),
    (&["enter", "return"], Code::Enter, "Enter"),
    (&["esc", "escape"], Code::Esc, "Esc"),
    (&["backspace"], Code::Backspace, "Backspace"),
    (&["delete", "del"], Code::Delete, "Del"),
    (&["insert", "ins"], Code::Insert, "Ins"),
    (&["space"], Code::Char(' '), "Space"),
];

/// What the file accepts, for error messages.
pub const NAMES_ALLOWED: &str = "a character like \"m\", \"M\" or \"?\", or one of up, down, \
     left, right, pgup, pgdown, home, end, tab, shift-tab, enter, esc, backspace, delete, \
     insert, space, f1 to f12; any of them may follow ctrl- or alt-";

impl Key {
    /// Ctrl-C: it always quits, whatever the keys file says.
    pub const CTRL_C: Key = Key {
        code: Code::Char('c'),
        ctrl: true,
        alt: false,
    };

    /// Reads a key as the keys file writes it. The error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Key, String> {
        let unknown = || format!("unknown key {text:?}: write {NAMES_ALLOWED}");
        if text.is_empty() {
            return Err(format!("an empty key: write {NAMES_ALLOWED}"));
        }
        let (mut ctrl, mut alt) = (false, false);
        let mut rest = text;
        // A single character is itself, even `-`; modifiers only come before something.
        while rest.chars().count() > 1 {
            let lower = rest.to_ascii_lowercase();
            if let Some(after) = lower.strip_prefix("ctrl-") {
                ctrl = true;
                rest = &rest[rest.len() - after.len()..];
            } else if let Some(after) = lower.strip_prefix("alt-") {
                alt = true;
                rest = &rest[rest.len() - after.len()..];
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => Code::Char(if ctrl { c.to_ascii_lowercase() } else { c }),
            _ => {
                let lower = rest.to_ascii_lowercase();
                if let Some(code) = NAMED
                    .iter()
                    .find(|(names, ..)| names.contains(&lower.as_str()))
                    .map(|(_, code, _)| *code)
                {
                    code
                } else if let Some(n) = lower
                    .strip_prefix('f')
                    .and_then(|n| n.parse::<u8>().ok())
                    .filter(|n| (1..=12).contains(n))
                {
                    Code::F(n)
                } else if let Some(letter) = lower.strip_prefix("shift-") {
                    return Err(format!(
                        "{text:?}: write the shifted character itself, like \"{}\"",
                        letter.to_uppercase()
                    ));
                } else {
                    return Err(unknown());
                }
            }
        };
        Ok(Key { code, ctrl, alt })
    }

    /// The key a terminal event stands for. Shift is part of the character (`G`, `?`) or of
    /// the code (Shift-Tab), so it is not kept apart. None for keys no binding can use.
    pub fn of(event: &KeyEvent) -> Option<Key> {
        let code = match event.code {
            KeyCode::Char(c) => Code::Char(c),
            KeyCode::F(n) => Code::F(n),
            KeyCode::Up => Code::Up,
            KeyCode::Down => Code::Down,
            KeyCode::Left => Code::Left,
            KeyCode::Right => Code::Right,
            KeyCode::PageUp => Code::PageUp,
            KeyCode::PageDown => Code::PageDown,
            KeyCode::Home => Code::Home,
            KeyCode::End => Code::End,
            KeyCode::Tab => Code::Tab,
            KeyCode::BackTab => Code::BackTab,
            KeyCode::Enter => Code::Enter,
            KeyCode::Esc => Code::Esc,
            KeyCode::Backspace => Code::Backspace,
            KeyCode::Delete => Code::Delete,
            KeyCode::Insert => Code::Insert,
            _ => return None,
        };
        Some(Key {
            code,
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
            alt: event.modifiers.contains(KeyModifiers::ALT),
        })
    }

    /// The key as the keys file writes it (`ctrl-x`, `pgdown`, `G`).
    pub fn written(self) -> String {
        let mut text = String::new();
        if self.ctrl {
            text.push_str("ctrl-");
        }
        if self.alt {
            text.push_str("alt-");
        }
        match NAMED.iter().find(|(_, code, _)| *code == self.code) {
            Some((names, ..)) => text.push_str(names[0]),
            None => match self.code {
                Code::F(n) => text.push_str(&format!("f{n}")),
                Code::Char(c) => text.push(c),
                _ => {}
            },
        }
        text
    }

    /// The same key without Ctrl and Alt.
    pub fn plain(self) -> Key {
        Key {
            ctrl: false,
            alt: false,
            ..self
        }
    }

    pub fn has_modifiers(self) -> bool {
        self.ctrl || self.alt
    }

    /// A key that types a character into a filter or a typed confirmation.
    pub fn is_text(self) -> bool {
        matches!(self.code, Code::Char(_)) && !self.ctrl
    }

    /// `1` to `9`: they pick a numbered choice in a preview.
    pub fn is_choice_digit(self) -> bool {
        matches!(self.code, Code::Char('1'..='9')) && !self.has_modifiers()
    }

    /// The digit of a choice key.
    pub fn digit(self) -> Option<u32> {
        match self.code {
            Code::Char(c) if !self.has_modifiers() => c.to_digit(10),
            _ => None,
        }
    }

    /// A key shown as one character, so two of them read well side by side (`↑↓`).
    pub fn is_one_glyph(self) -> bool {
        !self.has_modifiers()
            && match self.code {
                Code::Char(c) => c != ' ',
                Code::Up | Code::Down | Code::Left | Code::Right => true,
                _ => false,
            }
    }
}

#[cfg(test)]
impl Key {
    /// The event a terminal sends for this key.
    pub fn event(self) -> KeyEvent {
        let code = match self.code {
            Code::Char(c) => KeyCode::Char(c),
            Code::F(n) => KeyCode::F(n),
            Code::Up => KeyCode::Up,
            Code::Down => KeyCode::Down,
            Code::Left => KeyCode::Left,
            Code::Right => KeyCode::Right,
            Code::PageUp => KeyCode::PageUp,
            Code::PageDown => KeyCode::PageDown,
            Code::Home => KeyCode::Home,
            Code::End => KeyCode::End,
            Code::Tab => KeyCode::Tab,
            Code::BackTab => KeyCode::BackTab,
            Code::Enter => KeyCode::Enter,
            Code::Esc => KeyCode::Esc,
            Code::Backspace => KeyCode::Backspace,
            Code::Delete => KeyCode::Delete,
            Code::Insert => KeyCode::Insert,
        };
        let mut modifiers = KeyModifiers::NONE;
        modifiers.set(KeyModifiers::CONTROL, self.ctrl);
        modifiers.set(KeyModifiers::ALT, self.alt);
        KeyEvent::new(code, modifiers)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("Ctrl-")?;
        }
        if self.alt {
            f.write_str("Alt-")?;
        }
        if let Some((.., shown)) = NAMED.iter().find(|(_, code, _)| *code == self.code) {
            return f.write_str(shown);
        }
        match self.code {
            Code::F(n) => write!(f, "F{n}"),
            // Ctrl-X is how keys with Ctrl are written; the terminal sends it lower-case.
            Code::Char(c) if self.ctrl => write!(f, "{}", c.to_ascii_uppercase()),
            Code::Char(c) => write!(f, "{c}"),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> Key {
        Key::of(&KeyEvent::new(code, modifiers)).unwrap()
    }

    #[test]
    fn file_names_read_as_the_keys_a_terminal_sends() {
        for (text, code, modifiers) in [
            ("m", KeyCode::Char('m'), KeyModifiers::NONE),
            // A capital comes with Shift; the character says it.
            ("G", KeyCode::Char('G'), KeyModifiers::SHIFT),
            ("?", KeyCode::Char('?'), KeyModifiers::SHIFT),
            ("-", KeyCode::Char('-'), KeyModifiers::NONE),
            ("ctrl-c", KeyCode::Char('c'), KeyModifiers::CONTROL),
            ("Ctrl-X", KeyCode::Char('x'), KeyModifiers::CONTROL),
            ("alt-m", KeyCode::Char('m'), KeyModifiers::ALT),
            (
                "ctrl-alt-d",
                KeyCode::Char('d'),
                KeyModifiers::CONTROL | KeyModifiers::ALT,
            ),
            ("ctrl--", KeyCode::Char('-'), KeyModifiers::CONTROL),
            ("tab", KeyCode::Tab, KeyModifiers::NONE),
            ("shift-tab", KeyCode::BackTab, KeyModifiers::SHIFT),
            ("pgdown", KeyCode::PageDown, KeyModifiers::NONE),
            ("PageUp", KeyCode::PageUp, KeyModifiers::NONE),
            ("esc", KeyCode::Esc, KeyModifiers::NONE),
            ("space", KeyCode::Char(' '), KeyModifiers::NONE),
            ("f5", KeyCode::F(5), KeyModifiers::NONE),
        ] {
            assert_eq!(Key::parse(text), Ok(key(code, modifiers)), "{text}");
        }
    }

    #[test]
    fn bad_names_say_what_is_allowed() {
        for (text, says) in [
            ("pgdwn", "unknown key \"pgdwn\""),
            ("f13", "unknown key"),
            ("ctrl-", "unknown key"),
            ("", "an empty key"),
            ("shift-g", "\"G\""),
        ] {
            let err = Key::parse(text).unwrap_err();
            assert!(err.contains(says), "{text}: {err}");
        }
        assert!(
            Key::parse("meta-x")
                .unwrap_err()
                .contains("may follow ctrl- or alt-")
        );
    }

    #[test]
    fn keys_show_as_the_help_writes_them() {
        for (text, shown) in [
            ("down", "↓"),
            ("pgdown", "PgDn"),
            ("shift-tab", "Shift-Tab"),
            ("ctrl-c", "Ctrl-C"),
            ("alt-x", "Alt-x"),
            ("G", "G"),
            ("f2", "F2"),
            ("space", "Space"),
        ] {
            let key = Key::parse(text).unwrap();
            assert_eq!(key.to_string(), shown);
            assert_eq!(
                Key::parse(&key.written()),
                Ok(key),
                "{text} is written back"
            );
        }
    }
}
