//! kube-rs, the client the cockpit uses, against the simulated API server over HTTP.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher::{self, Event};
use serde_json::json;

use crate::common;

fn label_of(ns: &Namespace, key: &str) -> Option<String> {
    ns.metadata.labels.as_ref()?.get(key).cloned()
}

#[tokio::test]
async fn watcher_lists_then_sees_a_label_change() {
    let sim = common::Sim::start(&[]);
    let client = sim.kube_client("sim-admin").await;
    let namespaces: Api<Namespace> = Api::all(client);
    let mut stream = watcher::watcher(namespaces.clone(), watcher::Config::default()).boxed();
    let mut listed = 0;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), stream.try_next()).await {
            Ok(Ok(Some(Event::InitApply(_)))) => listed += 1,
            Ok(Ok(Some(Event::InitDone))) => break,
            Ok(Ok(Some(_))) => {}
            other => panic!("watcher ended before the initial list: {other:?}"),
        }
    }
    assert!(listed >= 15, "only {listed} namespaces listed");

    let patch =
        json!({"metadata": {"labels": {"istio.io/rev": "1-25-0", "istio-injection": null}}});
    namespaces
        .patch(
            "staging-web",
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
        .expect("patch");
    let seen = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(event) = stream.try_next().await.expect("watch") {
            if let Event::Apply(ns) = event
                && ns.metadata.name.as_deref() == Some("staging-web")
            {
                return ns;
            }
        }
        panic!("watch ended");
    })
    .await
    .expect("the label change arrives within 10 s");
    assert_eq!(label_of(&seen, "istio.io/rev").as_deref(), Some("1-25-0"));
    assert_eq!(label_of(&seen, "istio-injection"), None);
}

#[tokio::test]
async fn streaming_list_ends_with_the_initial_events_bookmark() {
    let sim = common::Sim::start(&[]);
    let client = sim.kube_client("sim-viewer").await;
    let pods: Api<Pod> = Api::namespaced(client, "checkout");
    let config = watcher::Config::default().streaming_lists();
    let mut stream = watcher::watcher(pods, config).boxed();
    let mut names = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), stream.try_next()).await {
            Ok(Ok(Some(Event::InitApply(p)))) => names.push(p.metadata.name.unwrap_or_default()),
            Ok(Ok(Some(Event::InitDone))) => break,
            Ok(Ok(Some(_))) => {}
            other => panic!("streaming list did not complete: {other:?}"),
        }
    }
    assert_eq!(names.len(), 6, "{names:?}");
}

#[tokio::test]
async fn watcher_relists_after_its_resource_version_expired() {
    // With a short history, the watch that follows the initial list asks for a version
    // that 40 other changes have pushed out: the server answers 410 and the watcher lists again.
    let sim = common::Sim::start(&["--watch-history", "20"]);
    let client = sim.kube_client("sim-admin").await;
    let watched: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let mut stream = watcher::watcher(watched.clone(), watcher::Config::default()).boxed();
    let wait_for_init = async |stream: &mut futures::stream::BoxStream<
        '_,
        Result<Event<ConfigMap>, watcher::Error>,
    >| {
        loop {
            match tokio::time::timeout(Duration::from_secs(20), stream.next()).await {
                Ok(Some(Ok(Event::InitDone))) => return,
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => panic!("no (re)list within 20 s"),
            }
        }
    };
    wait_for_init(&mut stream).await;

    let other: Api<ConfigMap> = Api::namespaced(client.clone(), "legacy-batch");
    for i in 0..40 {
        let cm: ConfigMap =
            serde_json::from_value(json!({"metadata": {"name": format!("churn-{i}")}})).unwrap();
        other
            .create(&PostParams::default(), &cm)
            .await
            .expect("create");
    }
    let marker: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "after-expiry"}})).unwrap();
    watched
        .create(&PostParams::default(), &marker)
        .await
        .expect("create marker");

    // Delivered by a fresh list (InitApply), not by the live watch (Apply): the watcher
    // had to list again.
    let relisted = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(event) = stream.next().await {
            if let Ok(Event::InitApply(cm)) = event
                && cm.metadata.name.as_deref() == Some("after-expiry")
            {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(
        relisted,
        Ok(true),
        "the marker never arrived through a relist"
    );
}

#[tokio::test]
async fn patches_of_every_kind_and_stale_writes_conflict() {
    let sim = common::Sim::start(&[]);
    let client = sim.kube_client("sim-admin").await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let params = PatchParams::default();

    let merged = namespaces
        .patch(
            "payments",
            &params,
            &Patch::Merge(json!({"metadata": {"labels": {"a": "1"}}})),
        )
        .await
        .unwrap();
    assert_eq!(label_of(&merged, "a").as_deref(), Some("1"));
    assert_eq!(
        label_of(&merged, "istio-injection").as_deref(),
        Some("enabled")
    );

    let strategic = namespaces
        .patch(
            "payments",
            &params,
            &Patch::Strategic(json!({"metadata": {"labels": {"a": null, "b": "2"}}})),
        )
        .await
        .unwrap();
    assert_eq!(label_of(&strategic, "a"), None);
    assert_eq!(label_of(&strategic, "b").as_deref(), Some("2"));

    let ops: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/metadata/labels/b", "value": "2"},
        {"op": "replace", "path": "/metadata/labels/b", "value": "3"}
    ]))
    .unwrap();
    let json_patched = namespaces
        .patch("payments", &params, &Patch::<()>::Json(ops))
        .await
        .unwrap();
    assert_eq!(label_of(&json_patched, "b").as_deref(), Some("3"));

    let failing: json_patch::Patch = serde_json::from_value(
        json!([{"op": "test", "path": "/metadata/labels/b", "value": "nope"}]),
    )
    .unwrap();
    let err = namespaces
        .patch("payments", &params, &Patch::<()>::Json(failing))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 422),
        "{err:?}"
    );

    let apply = PatchParams::apply("istio-cockpit-test");
    let applied = namespaces
        .patch(
            "payments",
            &apply,
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "payments", "labels": {"c": "4"}}})),
        )
        .await
        .unwrap();
    assert_eq!(label_of(&applied, "c").as_deref(), Some("4"));
    assert_eq!(label_of(&applied, "b").as_deref(), Some("3"));

    // A write carrying an old resourceVersion is refused with 409 and changes nothing.
    let mut stale = merged.clone();
    stale
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert("d".into(), "5".into());
    let err = namespaces
        .replace("payments", &PostParams::default(), &stale)
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 409),
        "{err:?}"
    );
    let now = namespaces.get("payments").await.unwrap();
    assert_eq!(label_of(&now, "d"), None);

    // dryRun=All answers as if it wrote, and writes nothing.
    let dry = PatchParams {
        dry_run: true,
        ..PatchParams::default()
    };
    let answered = namespaces
        .patch(
            "payments",
            &dry,
            &Patch::Merge(json!({"metadata": {"labels": {"e": "6"}}})),
        )
        .await
        .unwrap();
    assert_eq!(label_of(&answered, "e").as_deref(), Some("6"));
    assert_eq!(
        label_of(&namespaces.get("payments").await.unwrap(), "e"),
        None
    );
}

#[tokio::test]
async fn pages_chain_through_continue_tokens() {
    let sim = common::Sim::start(&[]);
    let client = sim.kube_client("sim-viewer").await;
    let pods: Api<Pod> = Api::all(client);
    let everything = pods.list(&ListParams::default()).await.unwrap().items.len();
    let mut seen = Vec::new();
    let mut params = ListParams::default().limit(7);
    loop {
        let page = pods.list(&params).await.unwrap();
        assert!(page.items.len() <= 7);
        seen.extend(page.items.into_iter().filter_map(|p| p.metadata.name));
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => break,
        }
    }
    assert_eq!(seen.len(), everything);
    let labelled = pods
        .list(
            &ListParams::default()
                .labels("app in (cart,checkout),version!=v2")
                .fields("status.phase=Running"),
        )
        .await
        .unwrap();
    assert_eq!(labelled.items.len(), 6);
}

#[tokio::test]
async fn the_viewer_can_read_but_not_write() {
    let sim = common::Sim::start(&[]);
    let client = sim.kube_client("sim-viewer").await;
    let namespaces: Api<Namespace> = Api::all(client);
    assert!(namespaces.get("checkout").await.is_ok());
    let err = namespaces
        .patch(
            "checkout",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 403 && s.message.contains("cannot patch")),
        "{err:?}"
    );
}
