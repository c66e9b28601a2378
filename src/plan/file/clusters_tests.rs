//! A plan's `[[clusters]]`: read into the fleet, refused with the line and field to fix,
//! and written back.

use super::*;
use crate::mesh::fleet::Role;

const FLEET: &str = r#"from = "1-24-0"
to = "1-25-0"
tags = ["stable"]

[[clusters]]
context = "gke_shop_europe-west1_prod"
role = "primary"
name = "eu"
prometheus = "https://prometheus.eu.internal:9090/prom"

[[clusters]]
context = "prod-us"
role = "remote"
prometheus = "http://10.0.0.5:9090"

[[clusters]]
context = "arn:aws:eks:ap-south-1:123:cluster/prod-ap"
role = "remote"
name = "ap.south_1"

[[waves]]
name = "all"
selector = ""
"#;

fn url(text: &str) -> Option<reqwest::Url> {
    Some(reqwest::Url::parse(text).unwrap())
}

fn assert_error(text: &str, line: usize, field: &str, message: &str) {
    let e = parse(text, "plan.toml").expect_err(text);
    assert_eq!(e.file, "plan.toml");
    assert_eq!((e.line, e.field.as_str()), (line, field), "{text}\n-> {e}");
    assert!(
        e.message.contains(message),
        "{text}\n-> {e}\nwanted: {message}"
    );
}

#[test]
fn a_fleet_plan_reads_into_its_clusters_in_order() {
    let file = parse(FLEET, "plan.toml").unwrap();
    assert_eq!(
        file.clusters,
        [
            FleetCluster {
                context: "gke_shop_europe-west1_prod".into(),
                role: Some(Role::Primary),
                name: Some("eu".into()),
                prometheus: url("https://prometheus.eu.internal:9090/prom"),
            },
            FleetCluster {
                context: "prod-us".into(),
                role: Some(Role::Remote),
                name: None,
                prometheus: url("http://10.0.0.5:9090"),
            },
            FleetCluster {
                context: "arn:aws:eks:ap-south-1:123:cluster/prod-ap".into(),
                role: Some(Role::Remote),
                name: Some("ap.south_1".into()),
                prometheus: None,
            },
        ]
    );
    assert_eq!(file.lines.get("clusters"), Some(&5));
}

#[test]
fn without_clusters_the_plan_is_for_the_current_context() {
    let file = parse("from = \"1-24-0\"\n", "plan.toml").unwrap();
    assert!(file.clusters.is_empty());
    assert_eq!(file.lines.get("clusters"), None);
}

#[test]
fn one_cluster_alone_or_without_roles_is_a_fleet_too() {
    let one = parse("[[clusters]]\ncontext = \"prod\"\n", "plan.toml").unwrap();
    assert_eq!(
        one.clusters,
        [FleetCluster {
            context: "prod".into(),
            role: None,
            name: None,
            prometheus: None,
        }]
    );
    let unroled = "clusters = [{ context = \"a\" }, { context = \"b\", name = \"bee\" }]\n";
    let two = parse(unroled, "plan.toml").unwrap();
    assert_eq!(two.clusters.len(), 2);
    assert_eq!(two.clusters[1].name.as_deref(), Some("bee"));
    assert!(two.clusters.iter().all(|c| c.role.is_none()));
    // Several primaries: multi-primary.
    let multi = "[[clusters]]\ncontext = \"a\"\nrole = \"primary\"\n\
                 [[clusters]]\ncontext = \"b\"\nrole = \"primary\"\n";
    assert_eq!(parse(multi, "plan.toml").unwrap().clusters.len(), 2);
}

#[test]
fn bad_cluster_values_name_their_line_and_field() {
    let long = format!(
        "[[clusters]]\ncontext = \"a\"\nname = \"{}\"\n",
        "x".repeat(41)
    );
    let cases: &[(&str, usize, &str, &str)] = &[
        (
            "clusters = []\n",
            1,
            "clusters",
            "name at least one cluster, or leave [[clusters]] out",
        ),
        (
            "clusters = \"prod\"\n",
            1,
            "clusters",
            "expected [[clusters]] tables",
        ),
        (
            "\n[[clusters]]\nrole = \"primary\"\n",
            2,
            "clusters[0].context",
            "every cluster needs its kubeconfig context",
        ),
        (
            "[[clusters]]\ncontext = \" \"\n",
            2,
            "clusters[0].context",
            "must not be empty",
        ),
        (
            "[[clusters]]\ncontext = 3\n",
            2,
            "clusters[0].context",
            "expected a kubeconfig context",
        ),
        (
            "[[clusters]]\ncontext = \"a\"\nrole = \"main\"\n",
            3,
            "clusters[0].role",
            "expected \"primary\" or \"remote\", got \"main\"",
        ),
        (
            "[[clusters]]\ncontext = \"a\"\nname = \"eu west\"\n",
            3,
            "clusters[0].name",
            "letters, digits, '-', '_' and '.', at most 40), got \"eu west\"",
        ),
        (
            "[[clusters]]\ncontext = \"a\"\nname = \"\"\n",
            3,
            "clusters[0].name",
            "expected a short name",
        ),
        (&long, 3, "clusters[0].name", "at most 40"),
        (
            "[[clusters]]\ncontext = \"a\"\nprometheus = \"prometheus:9090\"\n",
            3,
            "clusters[0].prometheus",
            "expected an http:// or https:// URL",
        ),
        (
            "[[clusters]]\ncontext = \"a\"\nprometheus = \"not a url\"\n",
            3,
            "clusters[0].prometheus",
            "expected an http:// or https:// URL",
        ),
        (
            "[[clusters]]\ncontext = \"a\"\nprometheus = \"http://ops:pw@p:9090\"\n",
            3,
            "clusters[0].prometheus",
            "keep credentials out of the URL",
        ),
        (
            "[[clusters]]\ncontext = \"a\"\nprometheus = \"http://p:9090/api/v1/query?query=up\"\n",
            3,
            "clusters[0].prometheus",
            "the Prometheus base URL, without ?query or #fragment",
        ),
        (
            "[[clusters]]\ncontext = \"a\"\nprometheus = 9090\n",
            3,
            "clusters[0].prometheus",
            "got 9090",
        ),
        (
            "[[clusters]]\ncontext = \"a\"\ncontxt = \"b\"\n",
            3,
            "clusters[0].contxt",
            "unknown field; expected one of context, role, name, prometheus",
        ),
    ];
    for (text, line, field, message) in cases {
        assert_error(text, *line, field, message);
    }
}

#[test]
fn a_context_or_a_name_is_used_once() {
    let cases: &[(&str, usize, &str, &str)] = &[
        (
            "[[clusters]]\ncontext = \"a\"\n[[clusters]]\ncontext = \"b\"\n[[clusters]]\ncontext = \"a\"\n",
            6,
            "clusters[2].context",
            "`a` is already the context of clusters[0]",
        ),
        (
            "[[clusters]]\ncontext = \"a\"\nname = \"eu\"\n[[clusters]]\ncontext = \"b\"\nname = \"eu\"\n",
            6,
            "clusters[1].name",
            "clusters[0] is already named `eu`",
        ),
        (
            "[[clusters]]\ncontext = \"eu\"\n[[clusters]]\ncontext = \"b\"\nname = \"eu\"\n",
            5,
            "clusters[1].name",
            "clusters[0] already shows as `eu`, its context: choose another name",
        ),
        (
            "[[clusters]]\ncontext = \"a\"\nname = \"b\"\n[[clusters]]\ncontext = \"b\"\n",
            5,
            "clusters[1].context",
            "clusters[0] is already named `b`, and this cluster would show as its context: give it a `name`",
        ),
    ];
    for (text, line, field, message) in cases {
        assert_error(text, *line, field, message);
    }
    // A name may be another cluster's context when that one has a name of its own.
    let swapped = "[[clusters]]\ncontext = \"a\"\nname = \"b\"\n\
                   [[clusters]]\ncontext = \"b\"\nname = \"a\"\n";
    assert_eq!(parse(swapped, "plan.toml").unwrap().clusters.len(), 2);
}

#[test]
fn roles_are_given_to_all_or_none_with_a_primary() {
    let cases: &[(&str, usize, &str, &str)] = &[
        (
            "[[clusters]]\ncontext = \"a\"\nrole = \"primary\"\n\n[[clusters]]\ncontext = \"b\"\n",
            5,
            "clusters[1].role",
            "clusters[0] sets a role, so every cluster needs one: role = \"primary\" or \"remote\"",
        ),
        (
            "[[clusters]]\ncontext = \"a\"\n[[clusters]]\ncontext = \"b\"\nrole = \"primary\"\n",
            1,
            "clusters[0].role",
            "clusters[1] sets a role",
        ),
        (
            "[[clusters]]\ncontext = \"a\"\nrole = \"remote\"\n[[clusters]]\ncontext = \"b\"\nrole = \"remote\"\n",
            3,
            "clusters[0].role",
            "no cluster is the primary",
        ),
        (
            "[[clusters]]\ncontext = \"a\"\nrole = \"remote\"\n",
            3,
            "clusters[0].role",
            "at least one needs role = \"primary\"",
        ),
    ];
    for (text, line, field, message) in cases {
        assert_error(text, *line, field, message);
    }
}

#[test]
fn unknown_top_level_fields_list_clusters_as_a_table() {
    let e = parse("form = 1\n", "plan.toml").unwrap_err();
    assert!(
        e.message
            .contains("prometheus_service, [[clusters]], wave_concurrency"),
        "{e}"
    );
}

#[test]
fn a_fleet_plan_written_back_keeps_its_clusters() {
    let file = parse(FLEET, "plan.toml").unwrap();
    let clusters = file.clusters.clone();
    let plan = resolve(file, None).unwrap();
    let text = fleet_to_toml(&plan, &clusters);
    let back = parse(&text, "state").unwrap();
    assert_eq!(back.clusters, clusters);
    assert_eq!(resolve(back, None).unwrap(), plan);
    // A plan for one cluster is written as before, without [[clusters]].
    let one = to_toml(&plan);
    assert!(!one.contains("clusters"), "{one}");
    assert_eq!(fleet_to_toml(&plan, &[]), one);
}

#[test]
fn the_module_docs_example_is_a_valid_fleet_plan() {
    let source = include_str!("../file.rs");
    let example: String = source
        .lines()
        .map_while(|l| l.strip_prefix("//!"))
        .skip_while(|l| l.trim() != "```toml")
        .skip(1)
        .take_while(|l| l.trim() != "```")
        .map(|l| format!("{}\n", l.strip_prefix(' ').unwrap_or(l)))
        .collect();
    let file = parse(&example, "file.rs").unwrap();
    let roles: Vec<_> = file.clusters.iter().map(|c| c.role).collect();
    assert_eq!(roles, [Some(Role::Primary), Some(Role::Remote)]);
    assert_eq!(file.waves.map(|w| w.len()), Some(2));
}
