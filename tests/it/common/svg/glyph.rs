//! What each cell's symbol becomes: nothing, text, box-drawing lines or a block.

/// What a cell's symbol turns into.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Glyph {
    /// Nothing to draw: a space, or the cell hidden behind a wide character.
    Blank,
    Text,
    /// Box drawing: the weight of the arm going up, right, down and left.
    Lines([Weight; 4]),
    /// A block element: the part of the cell it fills, in eighths (left, top, right, bottom),
    /// and how opaque it is (shades are see-through).
    Block([i64; 4], Opacity),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Weight {
    None,
    Light,
    Heavy,
    Double,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Opacity {
    Full,
    Dark,
    Medium,
    Light,
}

impl Opacity {
    pub fn attribute(self) -> &'static str {
        match self {
            Opacity::Full => "",
            Opacity::Dark => " fill-opacity=\"0.75\"",
            Opacity::Medium => " fill-opacity=\"0.5\"",
            Opacity::Light => " fill-opacity=\"0.25\"",
        }
    }
}

pub fn glyph(symbol: &str) -> Glyph {
    use Weight::{Double as D, Heavy as H, Light as L, None as N};
    let mut chars = symbol.chars();
    let (Some(c), None) = (chars.next(), chars.next()) else {
        return if symbol.trim().is_empty() {
            Glyph::Blank
        } else {
            Glyph::Text
        };
    };
    let arms = match c {
        ' ' => return Glyph::Blank,
        '─' => [N, L, N, L],
        '│' => [L, N, L, N],
        '┌' | '╭' => [N, L, L, N],
        '┐' | '╮' => [N, N, L, L],
        '└' | '╰' => [L, L, N, N],
        '┘' | '╯' => [L, N, N, L],
        '├' => [L, L, L, N],
        '┤' => [L, N, L, L],
        '┬' => [N, L, L, L],
        '┴' => [L, L, N, L],
        '┼' => [L, L, L, L],
        '━' => [N, H, N, H],
        '┃' => [H, N, H, N],
        '┏' => [N, H, H, N],
        '┓' => [N, N, H, H],
        '┗' => [H, H, N, N],
        '┛' => [H, N, N, H],
        '┣' => [H, H, H, N],
        '┫' => [H, N, H, H],
        '┳' => [N, H, H, H],
        '┻' => [H, H, N, H],
        '╋' => [H, H, H, H],
        '═' => [N, D, N, D],
        '║' => [D, N, D, N],
        '╔' => [N, D, D, N],
        '╗' => [N, N, D, D],
        '╚' => [D, D, N, N],
        '╝' => [D, N, N, D],
        '╠' => [D, D, D, N],
        '╣' => [D, N, D, D],
        '╦' => [N, D, D, D],
        '╩' => [D, D, N, D],
        '╬' => [D, D, D, D],
        _ => return block(c).unwrap_or(Glyph::Text),
    };
    Glyph::Lines(arms)
}

/// Block elements (U+2580..U+2593) as the part of the cell they fill.
fn block(c: char) -> Option<Glyph> {
    let full = |area| Some(Glyph::Block(area, Opacity::Full));
    match c {
        '▀' => full([0, 0, 8, 4]),
        '▁'..='█' => {
            let eighths = i64::from(u32::from(c) - 0x2580);
            full([0, 8 - eighths, 8, 8])
        }
        '▉'..='▏' => {
            let eighths = 8 - i64::from(u32::from(c) - 0x2588);
            full([0, 0, eighths, 8])
        }
        '▐' => full([4, 0, 8, 8]),
        '▔' => full([0, 0, 8, 1]),
        '▕' => full([7, 0, 8, 8]),
        '░' => Some(Glyph::Block([0, 0, 8, 8], Opacity::Light)),
        '▒' => Some(Glyph::Block([0, 0, 8, 8], Opacity::Medium)),
        '▓' => Some(Glyph::Block([0, 0, 8, 8], Opacity::Dark)),
        _ => None,
    }
}
