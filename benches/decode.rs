//! A page of the pods list as the API server sends it (500 pods of the simulated mesh),
//! decoded into what the cockpit keeps: through the few fields it reads, and, for comparison,
//! through whole `Pod` objects as a generic client would.

#![allow(clippy::unwrap_used, reason = "a bench fails loudly on purpose")]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use istio_cockpit::cluster::decode::pod_fields::PodFields;
use istio_cockpit::k8s::selector::{FieldSelector, LabelSelector};
use istio_cockpit::mesh::pod::PodInfo;
use istio_cockpit::sim::scenario::{self, Options};
use istio_cockpit::sim::store::Store;
use k8s_openapi::api::core::v1::Pod;
use serde::Deserialize;

const PAGE: usize = 500;

#[derive(Deserialize)]
struct List<T> {
    items: Vec<T>,
}

/// The JSON body of one page of `GET /api/v1/pods?limit=500`.
fn page() -> String {
    let store = Store::default();
    let options = Options {
        namespaces: Some(20),
        pods_per_namespace: Some(25),
        ..Options::default()
    };
    scenario::load(&store, &options).expect("the mesh loads");
    let listed = store.list(
        "pods",
        None,
        &LabelSelector::default(),
        &FieldSelector::default(),
        Some(PAGE),
        None,
    );
    let items: Vec<&str> = listed
        .items
        .iter()
        .map(|(_, s)| std::str::from_utf8(&s.raw).expect("stored JSON is UTF-8"))
        .collect();
    format!(
        "{{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{{}},\"items\":[{}]}}",
        items.join(",")
    )
}

fn decode(c: &mut Criterion) {
    let body = page();
    let mut group = c.benchmark_group("decode");
    group.bench_function("page_of_500_pods_fields", |b| {
        b.iter(|| {
            let list: List<PodFields> = serde_json::from_str(black_box(&body)).expect("a page");
            list.items.iter().map(PodInfo::from_pod).collect::<Vec<_>>()
        });
    });
    group.bench_function("page_of_500_pods_whole", |b| {
        b.iter(|| {
            let list: List<Pod> = serde_json::from_str(black_box(&body)).expect("a page");
            black_box(list.items.len())
        });
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
