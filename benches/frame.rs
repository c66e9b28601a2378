//! One frame at 250x70 with the full state: the whole screen, and each pane alone.

#![allow(clippy::unwrap_used, reason = "a bench fails loudly on purpose")]

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use istio_cockpit::app::state::{BottomPane, State};
use istio_cockpit::mesh::Mesh;
use istio_cockpit::ui::layout::{self, Areas};
use istio_cockpit::ui::theme::Theme;
use istio_cockpit::ui::{self, panes};
use ratatui::layout::Rect;
use ratatui::{Frame, Terminal, backend::TestBackend};

type Pane = fn(&mut Frame<'_>, Rect, &State, &Mesh, &Theme);

fn frames(c: &mut Criterion) {
    let mut state = common::state();
    let theme = common::theme();
    let mut terminal = Terminal::new(TestBackend::new(common::WIDTH, common::HEIGHT)).unwrap();
    let mut group = c.benchmark_group("frame");
    group.bench_function("full_screen", |b| {
        b.iter(|| {
            terminal.draw(|f| ui::draw(f, &state, &theme)).unwrap();
        });
    });
    state.ui.bottom = BottomPane::Journal;
    group.bench_function("full_screen_journal", |b| {
        b.iter(|| {
            terminal.draw(|f| ui::draw(f, &state, &theme)).unwrap();
        });
    });
    state.ui.bottom = BottomPane::Metrics;
    group.bench_function("full_screen_metrics", |b| {
        b.iter(|| {
            terminal.draw(|f| ui::draw(f, &state, &theme)).unwrap();
        });
    });
    state.ui.bottom = BottomPane::IstiodLogs;

    // Each pane drawn where the full screen puts it, with the mesh computed once outside.
    let mesh = state.mesh();
    let areas: Areas = layout::areas(
        common::WIDTH,
        common::HEIGHT,
        &state.ui,
        mesh.revisions.len(),
    )
    .unwrap();
    let panes: [(&str, Rect, Pane); 7] = [
        ("phase_bar", areas.phase_bar, panes::phase_bar::draw),
        (
            "control_planes",
            areas.control_planes,
            panes::control_planes::draw,
        ),
        ("namespaces", areas.namespaces, panes::namespaces::draw),
        ("pods", areas.pods, panes::pods::draw),
        ("logs", areas.logs, panes::logs::draw),
        ("metrics", areas.logs, panes::metrics::draw),
        ("journal", areas.logs, |f, area, state, _, theme| {
            panes::journal::draw(f, area, state, theme);
        }),
    ];
    for (name, area, draw) in panes {
        group.bench_function(name, |b| {
            b.iter(|| {
                terminal
                    .draw(|f| draw(f, area, &state, &mesh, &theme))
                    .unwrap();
            });
        });
    }
    group.bench_function("nothing", |b| {
        b.iter(|| {
            terminal.draw(|_| {}).unwrap();
        });
    });
    group.finish();
}

criterion_group!(benches, frames);
criterion_main!(benches);
