//! `update` on one watch event at full scale: what every pod or namespace change costs
//! before it can reach the screen.

#![allow(clippy::unwrap_used, reason = "a bench fails loudly on purpose")]

mod common;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use istio_cockpit::app::event::{Event, Watch};
use istio_cockpit::fixture::{self, NEW, OLD};

use common::Kind;

fn pod_events(c: &mut Criterion) {
    let mut state = common::state();
    let mut group = c.benchmark_group("update");
    // Far from the selected namespace: no refit of the pods pane.
    let elsewhere = common::pod(1234, 7);
    let mut flip = false;
    group.bench_function("pod_modified", |b| {
        b.iter(|| {
            flip = !flip;
            let mut pod = elsewhere.clone();
            pod.ready = if flip { 1 } else { 2 };
            common::apply(&mut state, black_box(Event::Pods(Watch::Apply(pod))));
        });
    });
    // In the namespace on screen, which is also on the move.
    let selected = common::pod(1, 4);
    group.bench_function("pod_modified_selected_namespace", |b| {
        b.iter(|| {
            flip = !flip;
            let mut pod = selected.clone();
            pod.revision = Some(if flip { NEW } else { OLD }.into());
            common::apply(&mut state, black_box(Event::Pods(Watch::Apply(pod))));
        });
    });
    let added = {
        let mut p = common::pod(1234, 0);
        p.name = "app-0-1234-new".into();
        p
    };
    group.bench_function("pod_added_then_deleted", |b| {
        b.iter(|| {
            common::apply(&mut state, Event::Pods(Watch::Apply(added.clone())));
            common::apply(&mut state, Event::Pods(Watch::Delete(added.clone())));
        });
    });
    let moving = common::namespace(1233);
    assert_eq!(common::kind(1233), Kind::Stable);
    group.bench_function("namespace_label_changed", |b| {
        b.iter(|| {
            flip = !flip;
            let mut ns = moving.clone();
            if flip {
                ns.labels.insert("istio.io/rev".into(), NEW.into());
            }
            common::apply(&mut state, black_box(Event::Namespaces(Watch::Apply(ns))));
        });
    });
    let now = fixture::now();
    group.bench_function("tick", |b| {
        b.iter(|| common::apply(&mut state, Event::Tick(black_box(now))));
    });
    group.finish();
}

criterion_group!(benches, pod_events);
criterion_main!(benches);
