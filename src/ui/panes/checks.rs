//! The precheck's findings on the cluster on screen: what will break this upgrade, worst
//! first, each with its object, why, and the fix. Run again as the objects change.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::keymap::KeyAction;
use crate::app::state::State;
use crate::precheck::{Finding, Severity};
use crate::ui::common::fit;
use crate::ui::theme::Theme;

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &State, theme: &Theme) {
    let width = area.width.saturating_sub(2) as usize;
    let checks = &state.checks;
    let (counts, body) = match &checks.findings {
        None => (
            "not run yet".to_string(),
            vec![Line::from(Span::styled(
                format!("waiting: {}", checks.waiting),
                theme.dim,
            ))],
        ),
        Some(findings) if findings.is_empty() => (
            "nothing found".to_string(),
            vec![Line::from(Span::styled(
                "no finding: nothing known that would break this upgrade",
                theme.ok,
            ))],
        ),
        Some(findings) => (
            counts(findings),
            findings
                .iter()
                .flat_map(|f| finding(f, width, theme))
                .collect(),
        ),
    };
    let title = format!(
        " Checks · {counts} ({} to close) ",
        state.ui.keys.key(KeyAction::Checks)
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Span::styled(title, theme.title));
    frame.render_widget(Paragraph::new(body).block(block).style(theme.base), area);
}

/// `1 blocker, 3 warnings, 2 info`.
fn counts(findings: &[Finding]) -> String {
    Severity::ALL
        .iter()
        .map(|s| {
            let n = findings.iter().filter(|f| f.severity == *s).count();
            let plural = if n == 1 || *s == Severity::Info {
                ""
            } else {
                "s"
            };
            format!("{n} {s}{plural}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Two lines: severity, check, object and why; then the fix, dimmed.
fn finding<'a>(f: &'a Finding, width: usize, theme: &Theme) -> [Line<'a>; 2] {
    let style = match f.severity {
        Severity::Blocker => theme.error,
        Severity::Warning => theme.warn,
        Severity::Info => theme.dim,
    };
    let head = format!(
        "{:<7} {} {} ",
        f.severity.as_str().to_uppercase(),
        f.check,
        f.object
    );
    let rest = width.saturating_sub(head.chars().count());
    [
        Line::from(vec![
            Span::styled(head, style),
            Span::styled(fit(&f.message, rest), theme.base),
        ]),
        Line::from(Span::styled(
            fit(&format!("        fix: {}", f.fix), width),
            theme.dim,
        )),
    ]
}
