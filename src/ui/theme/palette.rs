//! How many colours the terminal shows, from the environment it advertises.

/// How many colours the terminal can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Palette {
    TrueColor,
    Ansi256,
    Ansi16,
    NoColor,
}

impl Palette {
    /// From the environment as terminals advertise it: NO_COLOR (any non-empty value) -> NoColor;
    /// COLORTERM=truecolor|24bit -> TrueColor; TERM containing "256color" -> Ansi256;
    /// TERM "dumb" -> NoColor; anything else (xterm, screen, linux, vt100, tmux without
    /// 256color) -> Ansi16.
    ///
    /// `get` reads one variable; the binary passes `|name| std::env::var(name).ok()`.
    pub fn detect(get: impl Fn(&str) -> Option<String>) -> Palette {
        if get("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            return Palette::NoColor;
        }
        let colorterm = get("COLORTERM")
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if colorterm == "truecolor" || colorterm == "24bit" {
            return Palette::TrueColor;
        }
        let term = get("TERM").unwrap_or_default().trim().to_ascii_lowercase();
        if term.contains("256color") {
            Palette::Ansi256
        } else if term == "dumb" {
            Palette::NoColor
        } else {
            Palette::Ansi16
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(vars: &[(&str, &str)]) -> Palette {
        Palette::detect(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn palette_detection_follows_what_terminals_advertise() {
        let table: &[(&[(&str, &str)], Palette)] = &[
            (&[], Palette::Ansi16),
            (&[("TERM", "xterm")], Palette::Ansi16),
            (&[("TERM", "screen")], Palette::Ansi16),
            (&[("TERM", "linux")], Palette::Ansi16),
            (&[("TERM", "vt100")], Palette::Ansi16),
            (&[("TERM", "tmux")], Palette::Ansi16),
            (&[("TERM", "xterm-256color")], Palette::Ansi256),
            (&[("TERM", "screen-256color")], Palette::Ansi256),
            (&[("TERM", "tmux-256color")], Palette::Ansi256),
            (&[("TERM", "dumb")], Palette::NoColor),
            (
                &[("TERM", "xterm"), ("COLORTERM", "truecolor")],
                Palette::TrueColor,
            ),
            (
                &[("TERM", "tmux-256color"), ("COLORTERM", "24bit")],
                Palette::TrueColor,
            ),
            (&[("COLORTERM", "TrueColor")], Palette::TrueColor),
            // COLORTERM=yes or 1 only says "some colour": TERM decides.
            (
                &[("TERM", "xterm-256color"), ("COLORTERM", "yes")],
                Palette::Ansi256,
            ),
            (
                &[("TERM", "xterm-256color"), ("NO_COLOR", "1")],
                Palette::NoColor,
            ),
            (
                &[("COLORTERM", "truecolor"), ("NO_COLOR", "yes")],
                Palette::NoColor,
            ),
            // An empty NO_COLOR does not count (no-color.org).
            (
                &[("TERM", "xterm-256color"), ("NO_COLOR", "")],
                Palette::Ansi256,
            ),
        ];
        for (vars, expected) in table {
            assert_eq!(detect(vars), *expected, "{vars:?}");
        }
    }
}
