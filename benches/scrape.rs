//! The direct metrics scrape without the network: what the cockpit does every round with the
//! pages it fetched, on pages the simulator writes for its default scenario.

#![allow(clippy::unwrap_used, reason = "a bench fails loudly on purpose")]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use istio_cockpit::metrics::control_plane;
use istio_cockpit::metrics::data_plane::LastScrapes;
use istio_cockpit::metrics::exposition::{self, Scrape};
use istio_cockpit::metrics::sidecar_snapshot::SidecarSnapshot;
use istio_cockpit::sim::faults::Faults;
use istio_cockpit::sim::logs::LogHub;
use istio_cockpit::sim::mesh::{Mesh, Target};
use istio_cockpit::sim::store::Store;
use istio_cockpit::sim::{injection, scenario};

/// Seconds of traffic before the first page, and between two rounds of the cockpit.
const WARM_UP_TICKS: usize = 30;
const ROUND_TICKS: usize = 5;

fn mesh() -> Arc<Mesh> {
    let store = Arc::new(Store::default());
    store.set_admission(Box::new(|view, resource, obj| {
        if resource == "pods" {
            injection::admit_pod(view, obj);
        }
    }));
    scenario::load(&store, &scenario::Options::default()).expect("scenario");
    let mesh = Mesh::new(
        store,
        Arc::new(LogHub::new(1000)),
        Arc::new(Faults::default()),
        1,
    );
    for _ in 0..WARM_UP_TICKS {
        mesh.tick();
    }
    mesh
}

fn page(mesh: &Mesh, t: &Target) -> String {
    mesh.pod_metrics(&t.namespace, &t.pod, t.port)
        .expect("a page")
}

fn scrape(c: &mut Criterion) {
    let mesh = mesh();
    let targets = mesh.targets();
    let sidecar = targets.iter().find(|t| t.port == 15020).expect("a sidecar");
    let istiods: Vec<&Target> = targets
        .iter()
        .filter(|t| t.port == 15014 && t.revision == scenario::OLD_REVISION)
        .collect();
    assert!(
        !istiods.is_empty(),
        "no istiod of {}",
        scenario::OLD_REVISION
    );

    let sidecar_first = page(&mesh, sidecar);
    let istiod_pages: Vec<String> = istiods.iter().map(|t| page(&mesh, t)).collect();
    for _ in 0..ROUND_TICKS {
        mesh.tick();
    }
    let sidecar_next = SidecarSnapshot::read(&page(&mesh, sidecar)).expect("sidecar page");

    let mut group = c.benchmark_group("scrape");
    group.bench_function("parse_sidecar_page", |b| {
        b.iter(|| exposition::parse(black_box(&sidecar_first)));
    });
    // What a round does with each sidecar page: only the series the data plane reads copied.
    group.bench_function("read_sidecar_page", |b| {
        b.iter(|| SidecarSnapshot::read(black_box(&sidecar_first)));
    });
    group.bench_function("parse_istiod_page", |b| {
        b.iter(|| exposition::parse(black_box(&istiod_pages[0])));
    });

    // Every iteration is the pod's next round: its previous scrape is the one just recorded.
    let mut last = LastScrapes::default();
    let first = SidecarSnapshot::read(&sidecar_first).expect("sidecar page");
    last.record(&sidecar.namespace, &sidecar.pod, 0.0, first);
    let mut at = 0.0;
    group.bench_function("sidecar_round", |b| {
        b.iter_batched(
            || sidecar_next.clone(),
            |next| {
                at += 5.0;
                last.record(&sidecar.namespace, &sidecar.pod, at, next)
            },
            BatchSize::SmallInput,
        );
    });

    let parsed: Vec<Scrape> = istiod_pages
        .iter()
        .map(|p| exposition::parse(p).expect("istiod page"))
        .collect();
    group.bench_function("control_plane_totals", |b| {
        b.iter(|| control_plane::totals(black_box(&parsed)));
    });
    group.finish();
}

criterion_group!(benches, scrape);
criterion_main!(benches);
