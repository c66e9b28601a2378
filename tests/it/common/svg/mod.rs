//! A ratatui [`Buffer`] drawn as an SVG picture of a terminal, for the README's screenshots.
//!
//! - The page is one dark rectangle (the theme's `base` background when it has one).
//! - Each row becomes background rectangles (one per run of cells with the same non-default
//!   background) and `<text>` elements (one per run of cells with the same ink; a single
//!   blank joins the run it sits in, a wider gap starts a new one). Every `<text>` starts at
//!   its own column and gets a `textLength` of its cells, so the columns line up whatever
//!   monospace font the viewer ends up with.
//! - Box-drawing characters (light, heavy and double borders) and block elements are drawn as
//!   lines and rectangles on the cell grid instead of glyphs, so borders always touch: fonts
//!   disagree about how tall a `│` is, the grid does not.
//!
//! Colours: `Rgb` as is, the 16 named colours from a fixed palette, `Indexed` through the
//! xterm-256 palette, `Reset` as the default foreground or background.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;

mod colour;
mod glyph;
#[cfg(test)]
mod tests;

pub use colour::{Rgb, rgb, xterm256};
use glyph::{Glyph, Opacity, Weight, glyph};

/// Every length below is in tenths of a pixel, so the grid arithmetic stays exact.
const CELL_W: i64 = 84;
const CELL_H: i64 = 180;
/// From the top of a cell to the text baseline.
const BASELINE: i64 = 135;
/// Room around the screen, in tenths of a pixel.
const PADDING: i64 = 120;
/// Runs of one ink join across at most this many blank cells.
const JOIN_GAP: usize = 1;
/// Half the distance between the two strokes of a double line.
const DOUBLE_GAP: i64 = 20;
const FONT_FAMILY: &str = "'DejaVu Sans Mono', 'Menlo', 'Consolas', monospace";
const FONT_SIZE: u32 = 14;
const DEFAULT_FG: Rgb = Rgb(0xc9, 0xd1, 0xd9);
const DEFAULT_BG: Rgb = Rgb(0x0d, 0x11, 0x17);

/// `&`, `<`, `>` and `"` as entities; control characters (not allowed in XML) as spaces.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// How the text of a cell is painted, once REVERSED has been applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Ink {
    fg: Rgb,
    bold: bool,
    italic: bool,
    underline: bool,
    strike: bool,
    dim: bool,
}

impl Ink {
    /// Whether a cell without a glyph still shows something (a line through or under it).
    fn marks_blanks(&self) -> bool {
        self.underline || self.strike
    }

    fn opacity(&self) -> &'static str {
        if self.dim { "0.6" } else { "1" }
    }
}

/// One cell, resolved.
struct Paint<'a> {
    symbol: &'a str,
    /// Columns the symbol covers (2 for wide characters).
    width: usize,
    glyph: Glyph,
    ink: Ink,
    bg: Rgb,
}

impl Paint<'_> {
    /// Whether this cell can sit inside a text run of `ink` without changing how it looks.
    fn fits(&self, ink: &Ink) -> bool {
        match self.glyph {
            Glyph::Text => self.ink == *ink,
            _ => !self.ink.marks_blanks() || self.ink == *ink,
        }
    }

    /// Whether this cell needs to be written as text at all.
    fn shows_text(&self) -> bool {
        self.glyph == Glyph::Text || self.ink.marks_blanks()
    }
}

fn paint<'a>(buffer: &'a Buffer, x: u16, y: u16, fg: Rgb, bg: Rgb) -> Paint<'a> {
    let cell = &buffer[(x, y)];
    let m = cell.modifier;
    let (mut front, mut back) = (rgb(cell.fg, fg), rgb(cell.bg, bg));
    if m.contains(Modifier::REVERSED) {
        std::mem::swap(&mut front, &mut back);
    }
    let symbol = cell.symbol();
    let glyph = if m.contains(Modifier::HIDDEN) {
        Glyph::Blank
    } else {
        glyph(symbol)
    };
    Paint {
        symbol,
        width: Span::raw(symbol).width().max(1),
        glyph,
        ink: Ink {
            fg: front,
            bold: m.contains(Modifier::BOLD),
            italic: m.contains(Modifier::ITALIC),
            underline: m.contains(Modifier::UNDERLINED),
            strike: m.contains(Modifier::CROSSED_OUT),
            dim: m.contains(Modifier::DIM),
        },
        bg: back,
    }
}

/// Tenths of a pixel as SVG writes them: `12`, `12.5`, `-3.2`.
struct Px(i64);

impl fmt::Display for Px {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let (whole, tenth) = (self.0.abs() / 10, self.0.abs() % 10);
        if tenth == 0 {
            write!(f, "{sign}{whole}")
        } else {
            write!(f, "{sign}{whole}.{tenth}")
        }
    }
}

/// A filled rectangle, in tenths of a pixel: x, y, width, height.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rect {
    x: i64,
    y: i64,
    w: i64,
    h: i64,
}

/// Appends `rect`, or widens the last one when it continues it on the same line.
fn push_rect(rects: &mut Vec<Rect>, rect: Rect) {
    if let Some(last) = rects.last_mut()
        && last.y == rect.y
        && last.h == rect.h
        && last.x + last.w == rect.x
    {
        last.w += rect.w;
        return;
    }
    rects.push(rect);
}

/// A straight stroke: horizontal (`vertical == false`, from `from` to `to` along x at `at`) or
/// vertical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Stroke {
    vertical: bool,
    at: i64,
    from: i64,
    to: i64,
}

/// Strokes of one colour and width, merged where they continue each other.
fn merge_strokes(mut strokes: Vec<Stroke>) -> Vec<Stroke> {
    strokes.sort();
    let mut out: Vec<Stroke> = Vec::with_capacity(strokes.len());
    for s in strokes {
        if let Some(last) = out.last_mut()
            && last.vertical == s.vertical
            && last.at == s.at
            && s.from <= last.to
        {
            last.to = last.to.max(s.to);
            continue;
        }
        out.push(s);
    }
    out
}

/// Lines sit on pixel centres (x.5), so a one-pixel stroke stays sharp.
fn on_pixel(tenths: i64) -> i64 {
    tenths.div_euclid(10) * 10 + 5
}

/// The strokes of one box-drawing cell whose top-left corner is at (x0, y0).
fn box_strokes(
    arms: [Weight; 4],
    x0: i64,
    y0: i64,
    out: &mut BTreeMap<(Rgb, Weight), Vec<Stroke>>,
    fg: Rgb,
) {
    let (xc, yc) = (on_pixel(x0 + CELL_W / 2), on_pixel(y0 + CELL_H / 2));
    let (x1, y1) = (x0 + CELL_W, y0 + CELL_H);
    // Arms in the order up, right, down, left: whether they are vertical, the cell edge they
    // reach, and the direction they go from the centre (-1 towards the top or left).
    let geometry = [
        (true, y0, -1),
        (false, x1, 1),
        (true, y1, 1),
        (false, x0, -1),
    ];
    for (i, weight) in arms.into_iter().enumerate() {
        let (vertical, edge, arm_sign) = geometry[i];
        let centre_across = if vertical { xc } else { yc };
        let centre_along = if vertical { yc } else { xc };
        match weight {
            Weight::None => {}
            Weight::Light | Weight::Heavy => {
                let s = Stroke {
                    vertical,
                    at: centre_across,
                    from: edge.min(centre_along),
                    to: edge.max(centre_along),
                };
                out.entry((fg, weight)).or_default().push(s);
            }
            Weight::Double => {
                // Two strokes, one on each side of the arm. Each stops at the inner corner when
                // there is an arm on its side, runs on to the outer corner when there is an arm
                // only on the other side, and ends at the centre when the arm goes straight.
                for side in [(i + 3) % 4, (i + 1) % 4] {
                    let side_sign = geometry[side].2;
                    let stop = if arms[side] != Weight::None {
                        centre_along + arm_sign * DOUBLE_GAP
                    } else if arms[(side + 2) % 4] != Weight::None {
                        centre_along - arm_sign * DOUBLE_GAP
                    } else {
                        centre_along
                    };
                    let s = Stroke {
                        vertical,
                        at: centre_across + side_sign * DOUBLE_GAP,
                        from: edge.min(stop),
                        to: edge.max(stop),
                    };
                    out.entry((fg, Weight::Light)).or_default().push(s);
                }
            }
        }
    }
}

/// The buffer as an SVG document. `base` gives the default colours (the theme's `base`
/// style); `title` names the picture for screen readers.
pub fn to_svg(buffer: &Buffer, base: Style, title: &str) -> String {
    let fg = base.fg.map_or(DEFAULT_FG, |c| rgb(c, DEFAULT_FG));
    let bg = base.bg.map_or(DEFAULT_BG, |c| rgb(c, DEFAULT_BG));
    let area = buffer.area;
    let (cols, rows) = (i64::from(area.width), i64::from(area.height));
    let width = cols * CELL_W + 2 * PADDING;
    let height = rows * CELL_H + 2 * PADDING;

    let mut backgrounds: BTreeMap<Rgb, Vec<Rect>> = BTreeMap::new();
    let mut blocks: BTreeMap<(Rgb, Opacity), Vec<Rect>> = BTreeMap::new();
    let mut strokes: BTreeMap<(Rgb, Weight), Vec<Stroke>> = BTreeMap::new();
    let mut texts = String::new();

    for row in 0..area.height {
        let y0 = i64::from(row) * CELL_H;
        let cells: Vec<Paint<'_>> = (0..area.width)
            .map(|col| paint(buffer, area.x + col, area.y + row, fg, bg))
            .collect();

        let mut col = 0;
        while col < cells.len() {
            let c = &cells[col];
            let x0 = col as i64 * CELL_W;
            if c.bg != bg {
                let span = Rect {
                    x: x0,
                    y: y0,
                    w: CELL_W,
                    h: CELL_H,
                };
                push_rect(backgrounds.entry(c.bg).or_default(), span);
            }
            match c.glyph {
                Glyph::Lines(arms) => box_strokes(arms, x0, y0, &mut strokes, c.ink.fg),
                Glyph::Block([l, t, r, b], opacity) => {
                    let rect = Rect {
                        x: x0 + l * CELL_W / 8,
                        y: y0 + t * CELL_H / 8,
                        w: (r - l) * CELL_W / 8,
                        h: (b - t) * CELL_H / 8,
                    };
                    push_rect(blocks.entry((c.ink.fg, opacity)).or_default(), rect);
                }
                Glyph::Blank | Glyph::Text => {}
            }
            col += 1;
        }

        // Text runs: start at a cell that shows text, take in every following cell that fits
        // the run's ink, end after the last one that showed text. A gap of more than
        // `JOIN_GAP` blanks (between table columns, say) ends the run too, so each column is
        // placed on its own even by renderers that ignore `textLength`.
        let mut col = 0;
        while col < cells.len() {
            if !cells[col].shows_text() {
                col += 1;
                continue;
            }
            let ink = cells[col].ink;
            let start = col;
            let mut text = String::new();
            let mut blanks = 0;
            let mut end = col;
            while col < cells.len() && cells[col].fits(&ink) {
                let c = &cells[col];
                if c.shows_text() {
                    text.extend(std::iter::repeat_n(' ', blanks));
                    blanks = 0;
                    if c.glyph == Glyph::Text {
                        text.push_str(c.symbol);
                    } else {
                        text.push(' ');
                    }
                    col += c.width;
                    end = col.min(cells.len());
                } else if blanks < JOIN_GAP {
                    blanks += 1;
                    col += 1;
                } else {
                    break;
                }
            }
            col = end;
            write_text(&mut texts, &text, &ink, fg, start, end, y0);
        }
    }

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{t}">"#,
        w = Px(width),
        h = Px(height),
        t = escape(title),
    );
    let _ = writeln!(svg, "<title>{}</title>", escape(title));
    let _ = writeln!(
        svg,
        r#"<rect width="{}" height="{}" rx="8" fill="{bg}"/>"#,
        Px(width),
        Px(height)
    );
    let _ = writeln!(
        svg,
        r#"<g transform="translate({p} {p})">"#,
        p = Px(PADDING)
    );
    let _ = writeln!(svg, r#"<g shape-rendering="crispEdges">"#);
    for (colour, rects) in &backgrounds {
        write_rects(&mut svg, rects, *colour, "");
    }
    for ((colour, opacity), rects) in &blocks {
        write_rects(&mut svg, rects, *colour, opacity.attribute());
    }
    let _ = writeln!(svg, "</g>");
    let _ = writeln!(svg, r#"<g fill="none" stroke-linecap="square">"#);
    for ((colour, weight), list) in strokes {
        let stroke_width = if weight == Weight::Heavy { 2 } else { 1 };
        let mut d = String::new();
        for s in merge_strokes(list) {
            if s.vertical {
                let _ = write!(d, "M{} {}V{}", Px(s.at), Px(s.from), Px(s.to));
            } else {
                let _ = write!(d, "M{} {}H{}", Px(s.from), Px(s.at), Px(s.to));
            }
        }
        let _ = writeln!(
            svg,
            r#"<path stroke="{colour}" stroke-width="{stroke_width}" d="{d}"/>"#
        );
    }
    let _ = writeln!(svg, "</g>");
    let _ = writeln!(
        svg,
        r#"<g font-family="{}" font-size="{FONT_SIZE}" fill="{fg}" xml:space="preserve">"#,
        escape(FONT_FAMILY)
    );
    svg.push_str(&texts);
    let _ = writeln!(svg, "</g>\n</g>\n</svg>");
    svg
}

fn write_rects(svg: &mut String, rects: &[Rect], colour: Rgb, extra: &str) {
    for r in rects {
        let _ = writeln!(
            svg,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{colour}"{extra}/>"#,
            Px(r.x),
            Px(r.y),
            Px(r.w),
            Px(r.h)
        );
    }
}

fn write_text(
    out: &mut String,
    text: &str,
    ink: &Ink,
    default_fg: Rgb,
    start: usize,
    end: usize,
    y0: i64,
) {
    let _ = write!(
        out,
        r#"<text x="{}" y="{}" textLength="{}""#,
        Px(start as i64 * CELL_W),
        Px(y0 + BASELINE),
        Px((end - start) as i64 * CELL_W)
    );
    if ink.fg != default_fg {
        let _ = write!(out, r#" fill="{}""#, ink.fg);
    }
    if ink.dim {
        let _ = write!(out, r#" fill-opacity="{}""#, ink.opacity());
    }
    if ink.bold {
        out.push_str(r#" font-weight="bold""#);
    }
    if ink.italic {
        out.push_str(r#" font-style="italic""#);
    }
    match (ink.underline, ink.strike) {
        (true, true) => out.push_str(r#" text-decoration="underline line-through""#),
        (true, false) => out.push_str(r#" text-decoration="underline""#),
        (false, true) => out.push_str(r#" text-decoration="line-through""#),
        (false, false) => {}
    }
    let _ = writeln!(out, ">{}</text>", escape(text));
}
