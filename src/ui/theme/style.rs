//! One style table of a theme file (`fg`, `bg`, `modifiers`), read by serde with the wording
//! its errors need.

use std::fmt;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::toml_file::{Expecting, Table};

pub(super) const COLOUR_HINT: &str = "use a name like red, a #rrggbb hex or 0-255";

const MODIFIERS: [(&str, Modifier); 6] = [
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("underlined", Modifier::UNDERLINED),
    ("reversed", Modifier::REVERSED),
    ("crossed_out", Modifier::CROSSED_OUT),
];

/// A style as the file writes it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleToml {
    fg: Option<Colour>,
    bg: Option<Colour>,
    modifiers: Option<Modifiers>,
}

impl Expecting for StyleToml {
    const EXPECTING: &'static str = "a table with fg, bg and modifiers";
}

/// Reads one style table; a missing field leaves the style without it.
pub(super) fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Style, D::Error> {
    let Table(style) = Table::<StyleToml>::deserialize(deserializer)?;
    let mut out = Style::new();
    out.fg = style.fg.map(|c| c.0);
    out.bg = style.bg.map(|c| c.0);
    out.add_modifier = style.modifiers.map_or(Modifier::empty(), |m| m.0);
    Ok(out)
}

/// A colour: a name, `#rrggbb`, or an xterm-256 index as an integer or a string.
#[derive(Debug)]
struct Colour(Color);

impl<'de> Deserialize<'de> for Colour {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ColourVisitor).map(Colour)
    }
}

struct ColourVisitor;

fn out_of_range<E: de::Error>(index: impl fmt::Display) -> E {
    E::custom(format!(
        "colour index {index} is out of range ({COLOUR_HINT})"
    ))
}

impl Visitor<'_> for ColourVisitor {
    type Value = Color;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a colour ({COLOUR_HINT})")
    }

    fn visit_i64<E: de::Error>(self, index: i64) -> Result<Color, E> {
        u8::try_from(index)
            .map(Color::Indexed)
            .map_err(|_| out_of_range(index))
    }

    fn visit_u64<E: de::Error>(self, index: u64) -> Result<Color, E> {
        u8::try_from(index)
            .map(Color::Indexed)
            .map_err(|_| out_of_range(index))
    }

    fn visit_i128<E: de::Error>(self, index: i128) -> Result<Color, E> {
        Err(out_of_range(index))
    }

    fn visit_u128<E: de::Error>(self, index: u128) -> Result<Color, E> {
        Err(out_of_range(index))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Color, E> {
        Color::from_str(text.trim()).map_err(|_| {
            if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
                out_of_range(text)
            } else {
                E::custom(format!("unknown colour \"{text}\" ({COLOUR_HINT})"))
            }
        })
    }
}

/// `modifiers = ["bold", "reversed"]`, names in any case.
#[derive(Debug)]
struct Modifiers(Modifier);

impl<'de> Deserialize<'de> for Modifiers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_seq(ModifiersVisitor)
            .map(Modifiers)
    }
}

struct ModifiersVisitor;

impl<'de> Visitor<'de> for ModifiersVisitor {
    type Value = Modifier;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of modifiers like [\"bold\", \"reversed\"]")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Modifier, A::Error> {
        let mut modifiers = Modifier::empty();
        while let Some(ModifierName(modifier)) = items.next_element()? {
            modifiers |= modifier;
        }
        Ok(modifiers)
    }
}

struct ModifierName(Modifier);

impl<'de> Deserialize<'de> for ModifierName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(ModifierNameVisitor)
            .map(ModifierName)
    }
}

/// Every error about one modifier ends with the names there are.
fn modifier_error<E: de::Error>(what: &str) -> E {
    let names: Vec<_> = MODIFIERS.iter().map(|(name, _)| *name).collect();
    let (last, rest) = names.split_last().unwrap_or((&"", &[]));
    E::custom(format!("{what} (use {} or {last})", rest.join(", ")))
}

fn not_a_name<E: de::Error>(found: &str) -> E {
    modifier_error(&format!("expected a modifier name, found {found}"))
}

struct ModifierNameVisitor;

impl<'de> Visitor<'de> for ModifierNameVisitor {
    type Value = Modifier;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a modifier name")
    }

    fn visit_str<E: de::Error>(self, word: &str) -> Result<Modifier, E> {
        MODIFIERS
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(word))
            .map(|&(_, modifier)| modifier)
            .ok_or_else(|| modifier_error(&format!("unknown modifier \"{word}\"")))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Modifier, E> {
        Err(not_a_name("a boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Modifier, E> {
        Err(not_a_name("an integer"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Modifier, E> {
        Err(not_a_name("an integer"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Modifier, E> {
        Err(not_a_name("a float"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Modifier, A::Error> {
        Err(not_a_name("a list"))
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Modifier, A::Error> {
        Err(not_a_name("a table"))
    }
}
