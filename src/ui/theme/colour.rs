//! Fitting a theme's colours to the colour depth the terminal advertises.
//!
//! Themes are written once, usually with `#rrggbb` values, and must stay readable over an SSH
//! link to a 256- or 16-colour tmux, or with `NO_COLOR` set. Distances use the "redmean"
//! weighting: plain RGB distance treats a step in green like a step in blue, which the eye does
//! not, and it sends dark blue-greys to blue instead of grey.

use ratatui::style::{Color, Modifier, Style};

use super::Palette;

/// What the 16 named colours look like, in index order. Users may re-colour these in their
/// terminal, so no table is right everywhere. This one uses the VGA / Linux-console
/// intensities (normal 0xaa, bright 0xff with 0x55 in the other channels), except that
/// colour 3 is the dark yellow modern terminals draw rather than VGA's brown. With it a pure
/// hue such as #ff0000 lands on the normal colour and a pastel tint on the bright one.
const NAMED: [(Color, [u8; 3]); 16] = [
    (Color::Black, [0x00, 0x00, 0x00]),
    (Color::Red, [0xaa, 0x00, 0x00]),
    (Color::Green, [0x00, 0xaa, 0x00]),
    (Color::Yellow, [0xaa, 0xaa, 0x00]),
    (Color::Blue, [0x00, 0x00, 0xaa]),
    (Color::Magenta, [0xaa, 0x00, 0xaa]),
    (Color::Cyan, [0x00, 0xaa, 0xaa]),
    (Color::Gray, [0xaa, 0xaa, 0xaa]),
    (Color::DarkGray, [0x55, 0x55, 0x55]),
    (Color::LightRed, [0xff, 0x55, 0x55]),
    (Color::LightGreen, [0x55, 0xff, 0x55]),
    (Color::LightYellow, [0xff, 0xff, 0x55]),
    (Color::LightBlue, [0x55, 0x55, 0xff]),
    (Color::LightMagenta, [0xff, 0x55, 0xff]),
    (Color::LightCyan, [0x55, 0xff, 0xff]),
    (Color::White, [0xff, 0xff, 0xff]),
];

/// Channel values of the xterm-256 6x6x6 colour cube (indices 16-231).
const CUBE_STEPS: [u8; 6] = [0, 95, 135, 175, 215, 255];

/// Adapts one style. `is_canvas` marks the pane background (`base`): its background colour is
/// the canvas, every other style's background colour is a highlight (selected row, badges, the
/// status bar). Without colours a highlight becomes REVERSED, so it stays visible.
pub(super) fn adapt_style(style: Style, palette: Palette, is_canvas: bool) -> Style {
    let highlighted = matches!(style.bg, Some(bg) if bg != Color::Reset);
    let adapted = Style {
        fg: style.fg.and_then(|c| adapt(c, palette)),
        bg: style.bg.and_then(|c| adapt(c, palette)),
        ..style
    };
    if palette == Palette::NoColor && highlighted && !is_canvas {
        adapted.add_modifier(Modifier::REVERSED)
    } else {
        adapted
    }
}

/// One colour as the palette can show it; `None` when the palette shows no colour at all.
pub(super) fn adapt(colour: Color, palette: Palette) -> Option<Color> {
    match (palette, colour) {
        (Palette::NoColor, _) => None,
        (Palette::Ansi256, Color::Rgb(r, g, b)) => Some(Color::Indexed(nearest_256([r, g, b]))),
        (Palette::Ansi16, Color::Rgb(r, g, b)) => Some(nearest_named([r, g, b])),
        (Palette::Ansi16, Color::Indexed(i)) => Some(match NAMED.get(usize::from(i)) {
            Some(&(named, _)) => named,
            None => nearest_named(indexed_rgb(i)),
        }),
        _ => Some(colour),
    }
}

/// The xterm-256 index nearest to `rgb`, from the cube or the grey ramp. Indices 0-15 are
/// never chosen: terminals re-colour them, while the cube and the ramp are fixed.
fn nearest_256(rgb: [u8; 3]) -> u8 {
    let step = |v: u8| -> u8 {
        let mut best = 0;
        for (i, &s) in CUBE_STEPS.iter().enumerate() {
            if s.abs_diff(v) < CUBE_STEPS[best].abs_diff(v) {
                best = i;
            }
        }
        best as u8
    };
    let cube = 16 + 36 * step(rgb[0]) + 6 * step(rgb[1]) + step(rgb[2]);

    let mean = rgb.iter().map(|&c| u32::from(c)).sum::<u32>() / 3;
    // Ramp entry n (232 + n) is the grey 8 + 10n, for n in 0..24.
    let grey = 232 + (mean.saturating_sub(3) / 10).min(23) as u8;

    if distance(rgb, indexed_rgb(grey)) < distance(rgb, indexed_rgb(cube)) {
        grey
    } else {
        cube
    }
}

fn nearest_named(rgb: [u8; 3]) -> Color {
    NAMED
        .iter()
        .min_by_key(|(_, reference)| distance(rgb, *reference))
        .map_or(Color::Reset, |&(named, _)| named)
}

/// The RGB value of an xterm-256 index (0-15 from the reference table above).
fn indexed_rgb(index: u8) -> [u8; 3] {
    match index {
        0..=15 => NAMED[usize::from(index)].1,
        16..=231 => {
            let i = index - 16;
            [
                CUBE_STEPS[usize::from(i / 36)],
                CUBE_STEPS[usize::from(i / 6 % 6)],
                CUBE_STEPS[usize::from(i % 6)],
            ]
        }
        _ => {
            let v = 8 + 10 * (index - 232);
            [v, v, v]
        }
    }
}

/// Squared colour distance weighted by how red the pair is (the "redmean" approximation of
/// perceived difference), scaled by 256 to stay in integers.
fn distance(a: [u8; 3], b: [u8; 3]) -> u32 {
    let mean_red = (u32::from(a[0]) + u32::from(b[0])) / 2;
    let [dr, dg, db] = [0, 1, 2].map(|i| u32::from(a[i].abs_diff(b[i])));
    (512 + mean_red) * dr * dr + 1024 * dg * dg + (767 - mean_red) * db * db
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pure_red_maps_to_red_and_to_index_196() {
        assert_eq!(
            adapt(Color::Rgb(255, 0, 0), Palette::Ansi16),
            Some(Color::Red)
        );
        assert_eq!(
            adapt(Color::Rgb(255, 0, 0), Palette::Ansi256),
            Some(Color::Indexed(196))
        );
        assert_eq!(
            adapt(Color::Rgb(255, 0, 0), Palette::TrueColor),
            Some(Color::Rgb(255, 0, 0))
        );
    }

    #[test]
    fn rgb_to_256_uses_the_cube_for_hues_and_the_ramp_for_greys() {
        let to256 = |r, g, b| adapt(Color::Rgb(r, g, b), Palette::Ansi256);
        assert_eq!(to256(0, 0, 0), Some(Color::Indexed(16)));
        assert_eq!(to256(255, 255, 255), Some(Color::Indexed(231)));
        assert_eq!(to256(0, 255, 0), Some(Color::Indexed(46)));
        assert_eq!(to256(0, 0, 255), Some(Color::Indexed(21)));
        assert_eq!(to256(95, 135, 175), Some(Color::Indexed(67)));
        // Greys between cube steps go to the finer grey ramp.
        assert_eq!(to256(0x30, 0x30, 0x30), Some(Color::Indexed(236)));
        assert_eq!(to256(0x80, 0x80, 0x80), Some(Color::Indexed(244)));
        assert_eq!(to256(0xee, 0xee, 0xee), Some(Color::Indexed(255)));
    }

    #[test]
    fn every_cube_and_ramp_index_maps_back_to_itself() {
        for index in 16..=255u8 {
            assert_eq!(nearest_256(indexed_rgb(index)), index, "index {index}");
        }
    }

    #[test]
    fn rgb_to_16_picks_the_named_colour_a_reader_would() {
        let to16 = |r, g, b| adapt(Color::Rgb(r, g, b), Palette::Ansi16);
        assert_eq!(to16(0, 0xff, 0), Some(Color::Green));
        assert_eq!(to16(0xf8, 0x51, 0x49), Some(Color::LightRed));
        assert_eq!(to16(0xe3, 0xa0, 0x08), Some(Color::Yellow));
        assert_eq!(to16(0x16, 0x1b, 0x22), Some(Color::Black));
        assert_eq!(to16(0x2f, 0x3d, 0x4f), Some(Color::DarkGray));
        assert_eq!(to16(0xc9, 0xd1, 0xd9), Some(Color::Gray));
        assert_eq!(to16(0xff, 0xff, 0xff), Some(Color::White));
    }

    #[test]
    fn indexed_colours_map_to_16_through_their_rgb_value() {
        let to16 = |i| adapt(Color::Indexed(i), Palette::Ansi16);
        assert_eq!(to16(1), Some(Color::Red));
        assert_eq!(to16(12), Some(Color::LightBlue));
        assert_eq!(to16(196), Some(Color::Red));
        assert_eq!(to16(46), Some(Color::Green));
        assert_eq!(to16(232), Some(Color::Black));
        assert_eq!(to16(255), Some(Color::White));
        // 256 colours keep indices as they are.
        assert_eq!(
            adapt(Color::Indexed(67), Palette::Ansi256),
            Some(Color::Indexed(67))
        );
    }

    #[test]
    fn named_colours_and_reset_survive_every_palette_with_colour() {
        for palette in [Palette::TrueColor, Palette::Ansi256, Palette::Ansi16] {
            for colour in [Color::Reset, Color::LightMagenta, Color::DarkGray] {
                assert_eq!(adapt(colour, palette), Some(colour), "{palette:?}");
            }
        }
    }

    #[test]
    fn no_colour_drops_colours_keeps_modifiers_and_reverses_highlights() {
        let badge = Style::new()
            .fg(Color::Black)
            .bg(Color::Rgb(0xf0, 0x88, 0x3e))
            .add_modifier(Modifier::BOLD);
        let mono = adapt_style(badge, Palette::NoColor, false);
        assert_eq!((mono.fg, mono.bg), (None, None));
        assert_eq!(mono.add_modifier, Modifier::BOLD | Modifier::REVERSED);

        // The pane background is the canvas, not a highlight.
        let canvas = adapt_style(badge, Palette::NoColor, true);
        assert_eq!(canvas.add_modifier, Modifier::BOLD);

        // A foreground colour alone is not a highlight.
        let text = Style::new().fg(Color::Red).add_modifier(Modifier::ITALIC);
        let text = adapt_style(text, Palette::NoColor, false);
        assert_eq!(
            (text.fg, text.bg, text.add_modifier),
            (None, None, Modifier::ITALIC)
        );
    }
}
