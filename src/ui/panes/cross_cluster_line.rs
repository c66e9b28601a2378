//! The metrics pane's line for requests to other clusters, when the reading has them:
//! `cross-cluster  8.0 req/s · 5xx 37.5% · remote-1 -> primary 3.0/s 100% 5xx · ...`, each
//! 5xx share coloured against the plan's `cross_cluster_error_ratio`, routes in trouble first.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::app::state::State;
use crate::metrics::reading::Reading;
use crate::plan::model::Thresholds;
use crate::plan::triggers::percent;
use crate::ui::theme::Theme;

/// None when the reading says nothing of other clusters (one cluster: the pane is unchanged).
pub fn line<'a>(state: &State, reading: &Reading, stale: bool, theme: &Theme) -> Option<Line<'a>> {
    let cross = reading.cross_cluster.as_ref()?;
    let limit = state
        .drive
        .plan
        .as_ref()
        .map_or(Thresholds::default().cross_cluster_error_ratio, |p| {
            p.thresholds.cross_cluster_error_ratio
        });
    let live = |s: Style| if stale { theme.dim } else { s };
    let share = |ratio: Option<f64>| match ratio {
        None => ("?".to_string(), live(theme.warn)),
        Some(r) if r > limit => (percent(r), live(theme.error)),
        Some(r) => (percent(r), live(theme.ok)),
    };
    let (total, total_style) = share(cross.error_ratio);
    let mut spans = vec![
        Span::styled("cross-cluster  ", theme.header),
        Span::raw(format!("{:.1} req/s · 5xx ", cross.requests_per_s)),
        Span::styled(total, total_style),
    ];
    let mut routes: Vec<_> = cross.routes.iter().collect();
    // Failing routes first, then the busiest; each route once.
    routes.sort_by(|a, b| {
        let bad = |t: &crate::metrics::cross_cluster::CrossTraffic| {
            t.error_ratio.is_none_or(|r| r > limit)
        };
        bad(b.1)
            .cmp(&bad(a.1))
            .then(b.1.requests_per_s.total_cmp(&a.1.requests_per_s))
    });
    for (route, t) in routes {
        if t.requests_per_s <= 0.0 {
            spans.push(Span::raw(format!(" · {route} ")));
            spans.push(Span::styled("no requests", live(theme.warn)));
            continue;
        }
        let (text, style) = share(t.error_ratio);
        spans.push(Span::raw(format!(" · {route} {:.1}/s ", t.requests_per_s)));
        spans.push(Span::styled(format!("{text} 5xx"), style));
    }
    Some(Line::from(spans))
}
