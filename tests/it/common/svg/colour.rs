//! Colours as the picture paints them: RGB as is, the 16 named colours from a fixed palette,
//! indexed colours through the xterm-256 palette.

use std::fmt;

use ratatui::style::Color;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl fmt::Display for Rgb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// The 16 ANSI colours, in index order (black, red, ..., white, then the bright ones).
const ANSI: [Rgb; 16] = [
    Rgb(0x1c, 0x1c, 0x1c),
    Rgb(0xcd, 0x31, 0x31),
    Rgb(0x2e, 0xa0, 0x43),
    Rgb(0xd2, 0x99, 0x22),
    Rgb(0x25, 0x6f, 0xd1),
    Rgb(0xbc, 0x4f, 0xc4),
    Rgb(0x1b, 0xa6, 0xb8),
    Rgb(0xc0, 0xc4, 0xc8),
    Rgb(0x6e, 0x76, 0x81),
    Rgb(0xf8, 0x51, 0x49),
    Rgb(0x56, 0xd3, 0x64),
    Rgb(0xe3, 0xc5, 0x4a),
    Rgb(0x58, 0xa6, 0xff),
    Rgb(0xd2, 0x8a, 0xf0),
    Rgb(0x56, 0xd4, 0xdd),
    Rgb(0xff, 0xff, 0xff),
];

/// Entry `n` of the xterm-256 palette: the 16 ANSI colours, a 6x6x6 colour cube, and a ramp
/// of 24 greys.
pub fn xterm256(n: u8) -> Rgb {
    match n {
        0..=15 => ANSI[usize::from(n)],
        16..=231 => {
            let level = |i: u8| if i == 0 { 0 } else { 55 + 40 * i };
            let i = n - 16;
            Rgb(level(i / 36), level(i / 6 % 6), level(i % 6))
        }
        _ => {
            let grey = 8 + 10 * (n - 232);
            Rgb(grey, grey, grey)
        }
    }
}

/// A ratatui colour on screen; `Reset` is the terminal's own colour, `default`.
pub fn rgb(color: Color, default: Rgb) -> Rgb {
    match color {
        Color::Reset => default,
        Color::Rgb(r, g, b) => Rgb(r, g, b),
        Color::Indexed(n) => xterm256(n),
        Color::Black => ANSI[0],
        Color::Red => ANSI[1],
        Color::Green => ANSI[2],
        Color::Yellow => ANSI[3],
        Color::Blue => ANSI[4],
        Color::Magenta => ANSI[5],
        Color::Cyan => ANSI[6],
        Color::Gray => ANSI[7],
        Color::DarkGray => ANSI[8],
        Color::LightRed => ANSI[9],
        Color::LightGreen => ANSI[10],
        Color::LightYellow => ANSI[11],
        Color::LightBlue => ANSI[12],
        Color::LightMagenta => ANSI[13],
        Color::LightCyan => ANSI[14],
        Color::White => ANSI[15],
    }
}
