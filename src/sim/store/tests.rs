use super::*;
use serde_json::json;

fn ns(name: &str) -> Value {
    json!({"metadata": {"name": name}})
}

#[test]
fn watch_history_expires_exactly_at_its_floor() {
    let store = Store::new(3);
    for name in ["a", "b", "c", "d", "e"] {
        store.create("namespaces", "", ns(name)).unwrap();
    }
    let rv = store.current_rv();
    // Three changes kept: those after rv-3 can be replayed, older ones are gone.
    let (backlog, _) = store.watch_from(rv - 3).unwrap();
    assert_eq!(backlog.len(), 3);
    assert!(matches!(store.watch_from(rv - 4), Err(StoreError::Gone(_))));
    store.forget_history();
    assert!(matches!(store.watch_from(rv - 1), Err(StoreError::Gone(_))));
    assert!(store.watch_from(rv).unwrap().0.is_empty());
}

#[test]
fn a_panic_under_the_lock_does_not_wedge_the_store() {
    let store = Store::default();
    store.create("namespaces", "", ns("a")).unwrap();
    store.set_admission(Box::new(|_, _, _| panic!("a bug in admission")));
    let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        store.create("namespaces", "", ns("b"))
    }));
    assert!(failed.is_err());
    // Both locks were held when it panicked; reads and writes go on.
    store.set_admission(Box::new(|_, _, _| {}));
    store.create("namespaces", "", ns("c")).unwrap();
    assert_eq!(store.count("namespaces"), 2);
    assert!(store.get("namespaces", "", "b").is_none());
}

#[test]
fn key_slices_walk_every_object_once() {
    let store = Store::default();
    for name in ["a", "b", "c", "d", "e"] {
        store.create("namespaces", "", ns(name)).unwrap();
    }
    let (mut seen, mut after) = (Vec::new(), None);
    loop {
        let slice = store.keys_after("namespaces", after.as_ref(), 2);
        let Some(last) = slice.last().cloned() else {
            break;
        };
        seen.extend(slice.into_iter().map(|k| k.1));
        after = Some(last);
    }
    assert_eq!(seen, ["a", "b", "c", "d", "e"]);
    assert!(store.keys_after("pods", None, 2).is_empty());
}

#[test]
fn pages_continue_where_the_last_one_ended() {
    let store = Store::default();
    for name in ["a", "b", "c", "d", "e"] {
        store.create("namespaces", "", ns(name)).unwrap();
    }
    let all = LabelSelector::default();
    let none = FieldSelector::default();
    let first = store.list("namespaces", None, &all, &none, Some(2), None);
    let token = first.continue_token.expect("more pages");
    let after = decode_continue(&token).unwrap();
    let second = store.list("namespaces", None, &all, &none, Some(3), Some(&after));
    let names: Vec<&str> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|(k, _)| k.1.as_str())
        .collect();
    assert_eq!(names, ["a", "b", "c", "d", "e"]);
    assert!(second.continue_token.is_none());
}

#[test]
fn stale_writes_conflict_and_unchanged_writes_keep_the_version() {
    let store = Store::default();
    let created = store.create("namespaces", "", ns("a")).unwrap();
    let stale = created.value();
    let changed = store
        .modify("namespaces", "", "a", |v| {
            let mut v = v.clone();
            v["metadata"]["labels"] = json!({"x": "1"});
            Ok(v)
        })
        .unwrap();
    assert!(changed.rv > created.rv);
    assert!(matches!(
        store.update("namespaces", "", "a", stale),
        Err(StoreError::Conflict(_))
    ));
    let same = store
        .modify("namespaces", "", "a", |v| Ok(v.clone()))
        .unwrap();
    assert_eq!(same.rv, changed.rv);
}

#[test]
fn generated_names_and_spec_changes_bump_what_kubernetes_bumps() {
    let store = Store::default();
    store.create("namespaces", "", ns("apps")).unwrap();
    let d = store
        .create(
            "deployments",
            "apps",
            json!({"metadata": {"generateName": "web-"}, "spec": {"replicas": 1}}),
        )
        .unwrap()
        .value();
    let name = d["metadata"]["name"].as_str().unwrap().to_string();
    assert!(name.starts_with("web-") && name.len() == 9, "{name}");
    assert_eq!(d["metadata"]["generation"], 1);
    let scaled = store
        .modify("deployments", "apps", &name, |v| {
            let mut v = v.clone();
            v["spec"]["replicas"] = json!(3);
            Ok(v)
        })
        .unwrap()
        .value();
    assert_eq!(scaled["metadata"]["generation"], 2);
    let status_only = store
        .modify("deployments", "apps", &name, |v| {
            let mut v = v.clone();
            v["status"] = json!({"replicas": 3});
            Ok(v)
        })
        .unwrap()
        .value();
    assert_eq!(status_only["metadata"]["generation"], 2);
    assert!(matches!(
        store.create(
            "pods",
            "missing",
            json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}})
        ),
        Err(StoreError::NotFound(_))
    ));
}
