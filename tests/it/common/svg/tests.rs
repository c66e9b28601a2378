//! The SVG writer's unit tests: runs, colours, borders and blocks on small buffers.

use super::*;
use ratatui::layout::Rect as Area;

fn buffer(width: u16, height: u16) -> Buffer {
    Buffer::empty(Area::new(0, 0, width, height))
}

fn texts(svg: &str) -> Vec<&str> {
    svg.lines().filter(|l| l.starts_with("<text")).collect()
}

#[test]
fn escapes_markup_characters() {
    assert_eq!(
        escape(r#"a<b> & "c" 'd'"#),
        "a&lt;b&gt; &amp; &quot;c&quot; 'd'"
    );
    assert_eq!(escape("tab\there"), "tab here");

    let mut b = buffer(12, 1);
    b.set_string(0, 0, "<ns> & \"x\"", Style::new());
    let svg = to_svg(&b, Style::new(), "a <title>");
    let lines = texts(&svg);
    assert_eq!(lines.len(), 1, "{svg}");
    assert!(
        lines[0].ends_with(">&lt;ns&gt; &amp; &quot;x&quot;</text>"),
        "{}",
        lines[0]
    );
    assert!(svg.contains("<title>a &lt;title&gt;</title>"));
}

#[test]
fn cells_of_one_ink_make_one_run_across_a_blank() {
    let mut b = buffer(20, 2);
    b.set_string(2, 0, "ab cd", Style::new());
    b.set_string(2, 1, "ab  cd", Style::new());
    let svg = to_svg(&b, Style::new(), "t");
    let lines = texts(&svg);
    // Leading and trailing blanks are left out; the run starts at its first glyph.
    assert_eq!(
        lines,
        [
            r#"<text x="16.8" y="13.5" textLength="42">ab cd</text>"#,
            // Two blanks apart: a gap between columns, each placed on its own.
            r#"<text x="16.8" y="31.5" textLength="16.8">ab</text>"#,
            r#"<text x="50.4" y="31.5" textLength="16.8">cd</text>"#,
        ],
        "{svg}"
    );
}

#[test]
fn a_change_of_ink_starts_a_new_run() {
    let mut b = buffer(10, 1);
    b.set_string(0, 0, "ab", Style::new());
    b.set_string(2, 0, "cd", Style::new().fg(Color::Rgb(255, 0, 0)));
    b.set_string(4, 0, "ef", Style::new().fg(Color::Rgb(255, 0, 0)).bold());
    b.set_string(6, 0, "gh", Style::new().fg(Color::Rgb(255, 0, 0)).bold());
    let svg = to_svg(&b, Style::new(), "t");
    let lines = texts(&svg);
    assert_eq!(lines.len(), 3, "{svg}");
    assert!(lines[0].ends_with(">ab</text>"));
    assert!(lines[1].contains(r##"fill="#ff0000""##) && lines[1].ends_with(">cd</text>"));
    assert!(lines[2].contains(r#"font-weight="bold""#) && lines[2].ends_with(">efgh</text>"));
}

#[test]
fn backgrounds_merge_into_one_rectangle_per_run() {
    let mut b = buffer(10, 2);
    let on_blue = Style::new().bg(Color::Indexed(21));
    b.set_string(1, 0, "abc", on_blue);
    b.set_string(4, 0, "  ", on_blue);
    let svg = to_svg(&b, Style::new().bg(Color::Rgb(1, 2, 3)), "t");
    let rects: Vec<&str> = svg.lines().filter(|l| l.starts_with("<rect x=")).collect();
    assert_eq!(
        rects,
        [r##"<rect x="8.4" y="0" width="42" height="18" fill="#0000ff"/>"##],
        "{svg}"
    );
    assert!(
        svg.contains(r##"rx="8" fill="#010203""##),
        "the page uses base's background"
    );
}

#[test]
fn reversed_swaps_foreground_and_background() {
    let mut b = buffer(4, 1);
    b.set_string(
        0,
        0,
        "x",
        Style::new().fg(Color::Red).bg(Color::Reset).reversed(),
    );
    let base = Style::new().fg(Color::Rgb(9, 9, 9)).bg(Color::Rgb(1, 1, 1));
    let svg = to_svg(&b, base, "t");
    assert!(
        svg.contains(r##"<rect x="0" y="0" width="8.4" height="18" fill="#cd3131"/>"##),
        "{svg}"
    );
    assert!(texts(&svg)[0].contains(r##"fill="#010101""##), "{svg}");
}

#[test]
fn the_xterm_palette() {
    assert_eq!(xterm256(16).to_string(), "#000000");
    assert_eq!(xterm256(21).to_string(), "#0000ff");
    assert_eq!(xterm256(67).to_string(), "#5f87af");
    assert_eq!(xterm256(196).to_string(), "#ff0000");
    assert_eq!(xterm256(231).to_string(), "#ffffff");
    assert_eq!(xterm256(232).to_string(), "#080808");
    assert_eq!(xterm256(255).to_string(), "#eeeeee");
    assert_eq!(rgb(Color::Reset, Rgb(1, 2, 3)), Rgb(1, 2, 3));
}

#[test]
fn borders_are_strokes_not_text() {
    let mut b = buffer(4, 3);
    b.set_string(0, 0, "┌──┐", Style::new());
    b.set_string(0, 1, "│ab│", Style::new());
    b.set_string(0, 2, "└──┘", Style::new());
    let svg = to_svg(&b, Style::new(), "t");
    let lines = texts(&svg);
    assert_eq!(lines.len(), 1, "{svg}");
    assert!(lines[0].contains(r#"x="8.4""#) && lines[0].ends_with(">ab</text>"));
    // One path: the top and bottom edges are one stroke each, so are the sides.
    let paths: Vec<&str> = svg.lines().filter(|l| l.starts_with("<path")).collect();
    assert_eq!(paths.len(), 1, "{svg}");
    assert_eq!(paths[0].matches('M').count(), 4, "{}", paths[0]);
}

#[test]
fn double_corners_have_an_outer_and_an_inner_stroke() {
    let mut b = buffer(1, 1);
    b.set_string(0, 0, "╔", Style::new());
    let mut strokes = BTreeMap::new();
    let Glyph::Lines(arms) = glyph("╔") else {
        panic!("╔ is box drawing")
    };
    box_strokes(arms, 0, 0, &mut strokes, Rgb(0, 0, 0));
    let all = merge_strokes(strokes.into_values().flatten().collect());
    let (xc, yc) = (on_pixel(CELL_W / 2), on_pixel(CELL_H / 2));
    let g = DOUBLE_GAP;
    assert_eq!(
        all,
        [
            // Horizontal: the outer one from the outer corner, the inner one from the inner.
            Stroke {
                vertical: false,
                at: yc - g,
                from: xc - g,
                to: CELL_W
            },
            Stroke {
                vertical: false,
                at: yc + g,
                from: xc + g,
                to: CELL_W
            },
            Stroke {
                vertical: true,
                at: xc - g,
                from: yc - g,
                to: CELL_H
            },
            Stroke {
                vertical: true,
                at: xc + g,
                from: yc + g,
                to: CELL_H
            },
        ]
    );
}

#[test]
fn block_elements_fill_their_part_of_the_cell() {
    assert_eq!(glyph("█"), Glyph::Block([0, 0, 8, 8], Opacity::Full));
    assert_eq!(glyph("▁"), Glyph::Block([0, 7, 8, 8], Opacity::Full));
    assert_eq!(glyph("▏"), Glyph::Block([0, 0, 1, 8], Opacity::Full));
    assert_eq!(glyph("▉"), Glyph::Block([0, 0, 7, 8], Opacity::Full));
    assert_eq!(glyph("a"), Glyph::Text);
    assert_eq!(glyph(" "), Glyph::Blank);
}
