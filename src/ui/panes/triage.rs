//! One pod, in the bottom pane's place: its events, its `istio-proxy` log (rejected configs
//! and errors stand out), its proxy's sync status per xDS type, or its YAML.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::state::{Pane, State};
use crate::app::text_match::contains_lowercase;
use crate::app::triage::{self, Content, EventRow, Mark, ProxyStatus, Sync, Triage, View};
use crate::ui::common::{age, fit, titled_block};
use crate::ui::theme::Theme;

pub fn draw(frame: &mut Frame<'_>, area: Rect, state: &State, theme: &Theme) {
    let Some(t) = &state.triage else {
        return;
    };
    let height = area.height.saturating_sub(2) as usize;
    let width = area.width.saturating_sub(2) as usize;
    let request = &t.request;
    let mut title = format!(
        "{}/{} · {}",
        request.namespace,
        request.pod,
        request.view.title()
    );
    if request.view == View::ProxyLog {
        title.push_str(if t.paused {
            " · paused"
        } else {
            " · following"
        });
    }
    let body = match &t.content {
        Content::Waiting => vec![Line::from(Span::styled("fetching…", theme.dim))],
        Content::Failed(why) => vec![Line::from(Span::styled(fit(why, width), theme.error))],
        Content::Events(rows) => events(rows, state, width, theme),
        Content::Log { lines, ended } => {
            log(t, lines, ended.as_deref(), state, height, width, theme)
        }
        Content::Status(status) => proxy_status(status, width, theme),
        Content::Yaml(lines) => lines
            .iter()
            .skip(t.scroll)
            .take(height)
            .map(|l| Line::from(Span::styled(fit(l, width), theme.base)))
            .collect(),
    };
    let block = titled_block(state, theme, Pane::Logs, &title, Vec::new());
    frame.render_widget(Paragraph::new(body).block(block).style(theme.base), area);
}

fn events<'a>(rows: &'a [EventRow], state: &State, width: usize, theme: &Theme) -> Vec<Line<'a>> {
    if rows.is_empty() {
        return vec![Line::from(Span::styled(
            "no events for this pod (Kubernetes keeps events for an hour)",
            theme.dim,
        ))];
    }
    let mut lines = vec![Line::from(Span::styled(
        fit(
            "LAST SEEN  TYPE     REASON            FROM              MESSAGE",
            width,
        ),
        theme.header,
    ))];
    for e in rows {
        let kind = if e.warning { "Warning" } else { "Normal" };
        let times = if e.count > 1 {
            format!(" (x{})", e.count)
        } else {
            String::new()
        };
        let head = format!(
            "{:<9}  {kind:<7}  {:<16}  {:<16}  ",
            age(e.last_seen, state.session.now),
            fit(&e.reason, 16),
            fit(&e.source, 16)
        );
        let rest = width.saturating_sub(head.chars().count());
        let style = if e.warning { theme.warn } else { theme.base };
        lines.push(Line::from(vec![
            Span::styled(head, style),
            Span::styled(fit(&format!("{}{times}", e.message), rest), style),
        ]));
    }
    lines
}

fn log<'a>(
    t: &Triage,
    lines: &'a std::collections::VecDeque<String>,
    ended: Option<&str>,
    state: &State,
    height: usize,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'a>> {
    let filter = state.ui.filter(Pane::Logs).to_lowercase();
    let shown: Vec<&String> = lines
        .iter()
        .filter(|l| filter.is_empty() || contains_lowercase(l, &filter))
        .collect();
    let room = height.saturating_sub(usize::from(ended.is_some()));
    let end = shown.len().saturating_sub(t.scroll);
    let start = end.saturating_sub(room);
    let mut out: Vec<Line<'a>> = shown[start..end]
        .iter()
        .map(|l| {
            let text = triage::display(l);
            Line::from(Span::styled(fit(&text, width), line_style(l, theme)))
        })
        .collect();
    if shown.is_empty() && ended.is_none() {
        out.push(Line::from(Span::styled(
            if lines.is_empty() {
                "no lines yet"
            } else {
                "no line matches the filter"
            },
            theme.dim,
        )));
    }
    if let Some(why) = ended {
        out.push(Line::from(Span::styled(
            fit(&format!("the log stopped: {why}"), width),
            theme.warn,
        )));
    }
    out
}

fn line_style(line: &str, theme: &Theme) -> Style {
    match triage::mark(line) {
        Mark::Nack => theme.nack,
        Mark::Error => theme.error,
        Mark::Warning => theme.warn,
        Mark::Plain => theme.base,
    }
}

fn proxy_status<'a>(status: &'a ProxyStatus, width: usize, theme: &Theme) -> Vec<Line<'a>> {
    let mut types = Vec::new();
    for (name, sync) in &status.types {
        let style = match sync {
            Sync::Synced => theme.ok,
            Sync::Stale => theme.error,
            Sync::NotSent => theme.dim,
        };
        types.push(Span::styled(format!("{name} "), theme.header));
        types.push(Span::styled(format!("{:<10}", sync.as_str()), style));
    }
    let mut lines = vec![
        Line::from(vec![
            Span::styled("istiod   ", theme.header),
            Span::styled(fit(&status.istiod, width.saturating_sub(9)), theme.base),
        ]),
        Line::from(vec![
            Span::styled("version  ", theme.header),
            Span::styled(status.istio_version.as_str(), theme.base),
        ]),
        Line::from(types),
    ];
    if status.types.iter().any(|(_, s)| *s == Sync::Stale) {
        lines.push(Line::from(Span::styled(
            fit(
                "STALE: istiod sent config this proxy has not acknowledged: it rejected it (see its proxy log) or has not answered yet",
                width,
            ),
            theme.dim,
        )));
    }
    lines
}
