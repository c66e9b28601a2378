//! What the panes and the phase bar derive from the state on every frame, at full scale.

#![allow(clippy::unwrap_used, reason = "a bench fails loudly on purpose")]

mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use istio_cockpit::app::view;
use istio_cockpit::app::{activity, plan_flow};
use istio_cockpit::mesh::rows;
use istio_cockpit::ui::layout;

fn derived(c: &mut Criterion) {
    let state = common::state();
    let mesh = state.mesh();
    let mut group = c.benchmark_group("view");
    group.bench_function("mesh", |b| b.iter(|| black_box(&state).mesh()));
    let rows = layout::table_rows(&state, istio_cockpit::app::state::Pane::Namespaces);
    group.bench_function("namespace_rows_visible", |b| {
        b.iter(|| {
            view::visible_namespaces(&state)
                .into_iter()
                .skip(state.ui.namespaces.offset)
                .take(rows)
                .map(|ns| rows::namespace_row(&state.cluster, &mesh, ns))
                .collect::<Vec<_>>()
        });
    });
    group.bench_function("namespace_rows_all", |b| {
        b.iter(|| {
            view::visible_namespaces(&state)
                .into_iter()
                .map(|ns| rows::namespace_row(&state.cluster, &mesh, ns))
                .collect::<Vec<_>>()
        });
    });
    group.bench_function("control_plane_rows", |b| {
        b.iter(|| rows::control_plane_rows(black_box(&state.cluster), &mesh));
    });
    group.bench_function("gates", |b| {
        b.iter(|| plan_flow::current_gates(black_box(&state)));
    });
    group.bench_function("activity_progress", |b| {
        b.iter(|| activity::progress(black_box(&state)));
    });
    group.finish();
}

criterion_group!(benches, derived);
criterion_main!(benches);
