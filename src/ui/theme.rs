//! Themes: the named styles every pane draws with, read from TOML and fitted to the colour
//! depth of the terminal.
//!
//! - [`Palette`] (`palette`): how many colours the terminal shows, from `NO_COLOR`,
//!   `COLORTERM` and `TERM`.
//! - [`Theme`]: one [`Style`] per role (borders, selection, revisions, NACK lines, badges...),
//!   read by serde. Built-in presets live in `themes/*.toml` and are compiled into the binary;
//!   a user's own file has the same format (documented at the top of `themes/default.toml`).
//! - `style`: one style table (`fg`, `bg`, `modifiers`); `parse`: a theme's mistakes worded
//!   with the file, line and key to fix.
//! - `colour`: fitting `#rrggbb` and indexed colours to 256, 16 or no colours.

mod colour;
mod palette;
mod parse;
mod style;

use std::fmt;
use std::path::Path;

use ratatui::style::Style;
use serde::Deserialize;

pub use palette::Palette;

/// The styles the panes draw with. Styles are meant to be patched over `base`.
///
/// A theme file holds one table per style; a table it leaves out is an empty style, and any
/// other table is refused.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default = "Theme::unstyled", deny_unknown_fields)]
pub struct Theme {
    #[serde(skip)]
    pub name: String,
    /// Text and background of every pane.
    #[serde(deserialize_with = "style::read")]
    pub base: Style,
    /// Pane borders.
    #[serde(deserialize_with = "style::read")]
    pub border: Style,
    /// The focused pane's border and title.
    #[serde(deserialize_with = "style::read")]
    pub border_focused: Style,
    /// Pane titles.
    #[serde(deserialize_with = "style::read")]
    pub title: Style,
    /// Table headers.
    #[serde(deserialize_with = "style::read")]
    pub header: Style,
    /// The selected row; stays visible without colours (REVERSED).
    #[serde(deserialize_with = "style::read")]
    pub selected: Style,
    /// Secondary text: ages, counts of zero.
    #[serde(deserialize_with = "style::read")]
    pub dim: Style,
    /// Healthy, ready, on the new revision.
    #[serde(deserialize_with = "style::read")]
    pub ok: Style,
    /// Warnings: version skew, conflicting labels, stale data.
    #[serde(deserialize_with = "style::read")]
    pub warn: Style,
    /// Errors, failing streams.
    #[serde(deserialize_with = "style::read")]
    pub error: Style,
    /// NACK / ACK ERROR log lines; stand out without colours (BOLD and REVERSED).
    #[serde(deserialize_with = "style::read")]
    pub nack: Style,
    /// The revision being upgraded from.
    #[serde(deserialize_with = "style::read")]
    pub old_revision: Style,
    /// The revision being upgraded to.
    #[serde(deserialize_with = "style::read")]
    pub new_revision: Style,
    /// Any other revision.
    #[serde(deserialize_with = "style::read")]
    pub other_revision: Style,
    #[serde(deserialize_with = "style::read")]
    pub status_bar: Style,
    /// Key names in hints ("q", "Tab").
    #[serde(deserialize_with = "style::read")]
    pub key: Style,
    /// The DRIVER mode badge.
    #[serde(deserialize_with = "style::read")]
    pub driver: Style,
    /// The READ-ONLY mode badge.
    #[serde(deserialize_with = "style::read")]
    pub read_only: Style,
    /// The filter input line.
    #[serde(deserialize_with = "style::read")]
    pub filter: Style,
}

/// A theme that cannot be used, with where to fix it. `line` is 1-based; 0 when the problem
/// is the file as a whole (unreadable, missing). `key` is empty when no key is involved.
#[derive(Debug, Clone, PartialEq)]
pub struct ThemeError {
    pub file: String,
    pub line: usize,
    pub key: String,
    pub message: String,
}

impl fmt::Display for ThemeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if !self.key.is_empty() {
            write!(f, ": key `{}`", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ThemeError {}

/// Names of the built-in themes, in the order a picker should list them.
pub const BUILTIN: &[&str] = &["default", "light", "high-contrast", "mono"];

/// The built-in theme files, embedded so the binary works from any directory.
const BUILTIN_SOURCES: [(&str, &str); 4] = [
    (
        "default",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/themes/default.toml")),
    ),
    (
        "light",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/themes/light.toml")),
    ),
    (
        "high-contrast",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/themes/high-contrast.toml"
        )),
    ),
    (
        "mono",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/themes/mono.toml")),
    ),
];

impl Theme {
    /// A built-in theme by name (embedded from themes/<name>.toml), adapted to the palette.
    pub fn builtin(name: &str, palette: Palette) -> Option<Theme> {
        let (name, text) = BUILTIN_SOURCES.iter().find(|(n, _)| *n == name)?;
        let file = format!("themes/{name}.toml");
        let theme = parse::parse(text, &file, name).expect("built-in themes parse (tested)");
        Some(theme.adapted(palette))
    }

    /// `name_or_path`: a built-in name, or a path to a TOML file (a built-in name wins; write
    /// `./default` for a file called `default`). Errors name the file, line and key.
    pub fn load(name_or_path: &str, palette: Palette) -> Result<Theme, ThemeError> {
        if let Some(theme) = Self::builtin(name_or_path, palette) {
            return Ok(theme);
        }
        match std::fs::read_to_string(name_or_path) {
            Ok(text) => Self::parse(&text, name_or_path, palette),
            Err(err) => Err(ThemeError {
                file: name_or_path.to_owned(),
                line: 0,
                key: String::new(),
                message: unreadable(name_or_path, &err),
            }),
        }
    }

    /// Parses TOML text (`file` is used in error messages; its stem names the theme).
    pub fn parse(text: &str, file: &str, palette: Palette) -> Result<Theme, ThemeError> {
        let name = Path::new(file).file_stem().map_or_else(
            || file.to_owned(),
            |stem| stem.to_string_lossy().into_owned(),
        );
        Ok(parse::parse(text, file, &name)?.adapted(palette))
    }

    /// The theme used without --theme: `mono` for NoColor, else `default`.
    pub fn default_for(palette: Palette) -> Theme {
        let name = if palette == Palette::NoColor {
            "mono"
        } else {
            "default"
        };
        Self::builtin(name, palette).expect("the default themes are built in")
    }

    /// A theme with every style empty.
    fn blank(name: &str) -> Theme {
        Theme {
            name: name.to_owned(),
            ..Theme::unstyled()
        }
    }

    /// What a theme file starts from: every style empty, no name yet. (Not a `Default`: the
    /// default theme is the `default` preset.)
    fn unstyled() -> Theme {
        Theme {
            name: String::new(),
            base: Style::new(),
            border: Style::new(),
            border_focused: Style::new(),
            title: Style::new(),
            header: Style::new(),
            selected: Style::new(),
            dim: Style::new(),
            ok: Style::new(),
            warn: Style::new(),
            error: Style::new(),
            nack: Style::new(),
            old_revision: Style::new(),
            new_revision: Style::new(),
            other_revision: Style::new(),
            status_bar: Style::new(),
            key: Style::new(),
            driver: Style::new(),
            read_only: Style::new(),
            filter: Style::new(),
        }
    }

    /// Every style with its TOML table name. The destructuring has no `..`, so a new field
    /// does not compile until it is listed here.
    fn styles_mut(&mut self) -> [(&'static str, &mut Style); 19] {
        let Theme {
            name: _,
            base,
            border,
            border_focused,
            title,
            header,
            selected,
            dim,
            ok,
            warn,
            error,
            nack,
            old_revision,
            new_revision,
            other_revision,
            status_bar,
            key,
            driver,
            read_only,
            filter,
        } = self;
        [
            ("base", base),
            ("border", border),
            ("border_focused", border_focused),
            ("title", title),
            ("header", header),
            ("selected", selected),
            ("dim", dim),
            ("ok", ok),
            ("warn", warn),
            ("error", error),
            ("nack", nack),
            ("old_revision", old_revision),
            ("new_revision", new_revision),
            ("other_revision", other_revision),
            ("status_bar", status_bar),
            ("key", key),
            ("driver", driver),
            ("read_only", read_only),
            ("filter", filter),
        ]
    }

    fn style_names() -> Vec<&'static str> {
        Theme::blank("").styles_mut().map(|(name, _)| name).to_vec()
    }

    fn adapted(mut self, palette: Palette) -> Theme {
        for (name, style) in self.styles_mut() {
            *style = colour::adapt_style(*style, palette, name == "base");
        }
        self
    }
}

fn unreadable(name_or_path: &str, err: &std::io::Error) -> String {
    let builtins = BUILTIN.join(", ");
    let looks_like_a_name = !name_or_path.contains(['/', '\\']) && !name_or_path.ends_with(".toml");
    if err.kind() == std::io::ErrorKind::NotFound && looks_like_a_name {
        format!("no such theme: not a built-in ({builtins}) and no file of that name")
    } else {
        format!(
            "cannot read the theme file: {err} (give a built-in name: {builtins}, or the path of a TOML theme file)"
        )
    }
}

#[cfg(test)]
mod tests {
    use ratatui::style::{Color, Modifier};

    use super::*;

    const PALETTES: [Palette; 4] = [
        Palette::TrueColor,
        Palette::Ansi256,
        Palette::Ansi16,
        Palette::NoColor,
    ];

    fn styles(theme: &Theme) -> Vec<(&'static str, Style)> {
        let mut copy = theme.clone();
        copy.styles_mut()
            .into_iter()
            .map(|(n, s)| (n, *s))
            .collect()
    }

    #[test]
    fn every_builtin_is_embedded_and_parses_in_every_palette() {
        let embedded: Vec<_> = BUILTIN_SOURCES.iter().map(|(n, _)| *n).collect();
        assert_eq!(embedded, BUILTIN);
        for name in BUILTIN {
            for palette in PALETTES {
                let theme = Theme::builtin(name, palette).expect("built in");
                assert_eq!(theme.name, *name);
                assert_ne!(theme, Theme::blank(name), "{name} sets styles");
            }
        }
        assert_eq!(Theme::builtin("solarized", Palette::TrueColor), None);
    }

    #[test]
    fn colours_fit_the_palette() {
        let allowed = |palette: Palette, colour: Color| match palette {
            Palette::TrueColor => true,
            Palette::Ansi256 => !matches!(colour, Color::Rgb(..)),
            Palette::Ansi16 => !matches!(colour, Color::Rgb(..) | Color::Indexed(_)),
            Palette::NoColor => false,
        };
        for name in BUILTIN {
            for palette in PALETTES {
                for (style, s) in styles(&Theme::builtin(name, palette).unwrap()) {
                    for colour in [s.fg, s.bg].into_iter().flatten() {
                        assert!(
                            allowed(palette, colour),
                            "{name} {palette:?} {style}: {colour}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn default_uses_hex_colours_and_keeps_them_in_truecolor() {
        let theme = Theme::builtin("default", Palette::TrueColor).unwrap();
        assert!(matches!(theme.base.bg, Some(Color::Rgb(..))));
        assert!(matches!(theme.old_revision.fg, Some(Color::Rgb(..))));
        assert!(theme.nack.add_modifier.contains(Modifier::BOLD));
        assert!(theme.selected.add_modifier.contains(Modifier::BOLD));
    }

    /// What a user notices: text never vanishes into its background, the selection and the
    /// badges stand out, and the roles that must be told apart are, in every colour depth.
    #[test]
    fn builtins_stay_readable_in_every_palette() {
        for name in BUILTIN {
            for palette in PALETTES {
                let t = Theme::builtin(name, palette).unwrap();
                let on_base = |s: Style| t.base.patch(s);
                for (style, s) in styles(&t) {
                    let s = on_base(s);
                    if let (Some(fg), Some(bg)) = (s.fg, s.bg) {
                        assert_ne!(fg, bg, "{name} {palette:?}: {style} text is invisible");
                    }
                }
                let stands_out = |s: Style| {
                    s.add_modifier.contains(Modifier::REVERSED) || on_base(s).bg != t.base.bg
                };
                for (role, s) in [("selected", t.selected), ("driver", t.driver)] {
                    assert!(
                        stands_out(s),
                        "{name} {palette:?}: {role} is not highlighted"
                    );
                }
                assert!(stands_out(t.read_only), "{name} {palette:?}: read_only");
                let differ = |a: Style, b: Style| on_base(a) != on_base(b);
                assert!(differ(t.nack, t.base), "{name} {palette:?}: nack");
                // Roles told apart by colour alone merge without colours; mono keeps them
                // apart with modifiers (and the text names the revision or mode anyway).
                if palette == Palette::NoColor && *name != "mono" {
                    continue;
                }
                assert!(
                    differ(t.old_revision, t.new_revision),
                    "{name} {palette:?}: old/new"
                );
                assert!(
                    differ(t.new_revision, t.other_revision),
                    "{name} {palette:?}"
                );
                assert!(
                    differ(t.old_revision, t.other_revision),
                    "{name} {palette:?}"
                );
                assert!(differ(t.ok, t.error), "{name} {palette:?}: ok/error");
                assert!(differ(t.driver, t.read_only), "{name} {palette:?}: badges");
            }
        }
    }

    #[test]
    fn no_color_strips_every_colour_and_keeps_modifiers() {
        for name in BUILTIN {
            let coloured = Theme::builtin(name, Palette::TrueColor).unwrap();
            let plain = Theme::builtin(name, Palette::NoColor).unwrap();
            for ((style, c), (_, p)) in styles(&coloured).into_iter().zip(styles(&plain)) {
                assert_eq!((p.fg, p.bg), (None, None), "{name} {style}");
                assert!(p.add_modifier.contains(c.add_modifier), "{name} {style}");
            }
            assert!(
                plain.selected.add_modifier.contains(Modifier::REVERSED),
                "{name}"
            );
        }
    }

    #[test]
    fn mono_has_no_colour_only_terminal_safe_modifiers() {
        let safe = Modifier::BOLD | Modifier::REVERSED | Modifier::UNDERLINED | Modifier::DIM;
        for palette in PALETTES {
            let mono = Theme::builtin("mono", palette).unwrap();
            for (style, s) in styles(&mono) {
                assert_eq!((s.fg, s.bg), (None, None), "{style}");
                assert!(
                    safe.contains(s.add_modifier),
                    "{style}: {:?}",
                    s.add_modifier
                );
            }
            assert_eq!(mono.selected.add_modifier, Modifier::REVERSED);
            assert_eq!(mono.nack.add_modifier, Modifier::BOLD | Modifier::REVERSED);
            assert_eq!(
                mono.header.add_modifier,
                Modifier::BOLD | Modifier::UNDERLINED
            );
            assert_eq!(mono.warn.add_modifier, Modifier::BOLD);
            assert_eq!(
                mono.error.add_modifier,
                Modifier::BOLD | Modifier::UNDERLINED
            );
        }
    }

    #[test]
    fn default_for_picks_mono_without_colour() {
        assert_eq!(Theme::default_for(Palette::NoColor).name, "mono");
        for palette in [Palette::TrueColor, Palette::Ansi256, Palette::Ansi16] {
            let theme = Theme::default_for(palette);
            assert_eq!(theme, Theme::builtin("default", palette).unwrap());
        }
    }

    #[test]
    fn light_has_no_bright_text_on_its_white_background() {
        for palette in PALETTES {
            let light = Theme::builtin("light", palette).unwrap();
            for (style, s) in styles(&light).into_iter().filter(|(_, s)| s.bg.is_none()) {
                let fg = light.base.patch(s).fg;
                for bright in [Color::LightYellow, Color::White, Color::Indexed(231)] {
                    assert_ne!(fg, Some(bright), "{palette:?} {style}");
                }
            }
        }
    }

    #[test]
    fn high_contrast_uses_only_named_colours() {
        let theme = Theme::builtin("high-contrast", Palette::TrueColor).unwrap();
        for (style, s) in styles(&theme) {
            for colour in [s.fg, s.bg].into_iter().flatten() {
                assert!(
                    !matches!(colour, Color::Rgb(..) | Color::Indexed(_)),
                    "{style}"
                );
            }
        }
        assert_eq!(
            (theme.base.fg, theme.base.bg),
            (Some(Color::White), Some(Color::Black))
        );
    }

    #[test]
    fn error_display_names_file_line_and_key() {
        let err = ThemeError {
            file: "themes/foo.toml".into(),
            line: 12,
            key: "selected.fg".into(),
            message: "unknown colour \"purplish\" (use a name like red, a #rrggbb hex or 0-255)"
                .into(),
        };
        assert_eq!(
            err.to_string(),
            "themes/foo.toml:12: key `selected.fg`: unknown colour \"purplish\" (use a name like red, a #rrggbb hex or 0-255)"
        );
        let whole_file = ThemeError {
            line: 0,
            key: String::new(),
            ..err
        };
        assert_eq!(
            whole_file.to_string(),
            format!("themes/foo.toml: {}", whole_file.message)
        );
    }

    #[test]
    fn parse_names_the_theme_after_its_file() {
        let theme = Theme::parse("[ok]\nfg = \"green\"\n", "/x/y/ocean.toml", Palette::Ansi16);
        assert_eq!(theme.unwrap().name, "ocean");
    }
}
