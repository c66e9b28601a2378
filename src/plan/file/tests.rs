//! Plan files read, refused, completed and written back.

use super::*;
use crate::fixture::demo;
use crate::plan::derive::derive;
use crate::plan::model::NamespaceSelector;

const FULL: &str = r#"# the payments upgrade
from = "1-24-0"
to = "1-25-0"
tags = ["stable", "default"]
tag_soak = "45m"
keep_old = "48h"
prometheus_service = "monitoring/prometheus"
wave_concurrency = 2
namespace_bake = "5m"

[[waves]]
name = "staging"
selector = "tier in (staging)"
soak = "10m"
namespace_bake = "30s"
namespace_timeout = "3m"

[[waves]]
name = "payments"
namespaces = ["checkout", "billing"]
soak = "1h30m"
wave_concurrency = 1

[[waves]]
name = "rest"
namespaces = ["search"]

[rollback]
p99_latency_increase = "+25%"
p99_latency_for = "90s"
error_ratio = 0.02
error_ratio_for = "5m"
xds_rejects = 3
mtls_errors = 1
convergence_p99 = "2500ms"
convergence_p99_for = "30s"
auto_rollback = true
"#;

fn minutes(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}

/// The error a plan text gives, as (line, field, message).
fn error(text: &str) -> (usize, String, String) {
    let e = parse(text, "plan.toml").expect_err(text);
    assert_eq!(e.file, "plan.toml");
    (e.line, e.field, e.message)
}

fn assert_error(text: &str, line: usize, field: &str, message: &str) {
    let (l, f, m) = error(text);
    assert_eq!((l, f.as_str()), (line, field), "{text}\n-> {m}");
    assert!(m.contains(message), "{text}\n-> {m}\nwanted: {message}");
}

#[test]
fn a_complete_file_sets_everything() {
    let file = parse(FULL, "plan.toml").unwrap();
    let plan = resolve(file, None).unwrap();
    assert_eq!((plan.from.as_str(), plan.to.as_str()), ("1-24-0", "1-25-0"));
    assert_eq!(plan.tags, ["stable", "default"]);
    assert_eq!(
        (plan.tag_soak, plan.keep_old),
        (minutes(45), minutes(48 * 60))
    );
    assert_eq!(
        plan.prometheus_service.as_deref(),
        Some("monitoring/prometheus")
    );
    assert_eq!(
        plan.waves,
        [
            Wave {
                name: "staging".into(),
                selector: NamespaceSelector::Labels("tier in (staging)".into()),
                soak: minutes(10),
                pacing: PacingOverride {
                    concurrency: None,
                    bake: Some(Duration::from_secs(30)),
                    timeout: Some(minutes(3)),
                },
            },
            Wave {
                name: "payments".into(),
                selector: NamespaceSelector::Names(vec!["checkout".into(), "billing".into()]),
                soak: minutes(90),
                pacing: PacingOverride {
                    concurrency: Some(1),
                    ..PacingOverride::default()
                },
            },
            Wave {
                name: "rest".into(),
                selector: NamespaceSelector::Names(vec!["search".into()]),
                soak: DEFAULT_WAVE_SOAK,
                pacing: PacingOverride::default(),
            },
        ]
    );
    assert_eq!(
        plan.thresholds,
        Thresholds {
            p99_latency_increase: 0.25,
            p99_latency_for: Duration::from_secs(90),
            error_ratio: 0.02,
            error_ratio_for: minutes(5),
            xds_rejects: 3,
            mtls_errors: 1,
            convergence_p99_seconds: 2.5,
            convergence_p99_for: Duration::from_secs(30),
            cross_cluster_error_ratio: 0.01,
            cross_cluster_error_ratio_for: Duration::from_secs(60),
            auto_rollback: true,
        }
    );
    assert!(!plan.derived);
    assert_eq!(
        plan.pacing,
        Pacing {
            concurrency: 2,
            bake: minutes(5),
            timeout: minutes(10),
        }
    );
    let staging = plan.wave_pacing(0);
    assert_eq!(
        (staging.concurrency, staging.bake, staging.timeout),
        (2, Duration::from_secs(30), minutes(3))
    );
    assert_eq!(plan.wave_pacing(1).concurrency, 1);
    assert_eq!(plan.wave_pacing(2), plan.pacing);
}

#[test]
fn bad_pacing_values_name_their_line_and_field() {
    assert_error(
        "wave_concurrency = 0\n",
        1,
        "wave_concurrency",
        "must be 1 or more",
    );
    assert_error(
        "from = \"1-24-0\"\nnamespace_bake = \"soon\"\n",
        2,
        "namespace_bake",
        "expected a duration",
    );
    assert_error(
        "[[waves]]\nname = \"a\"\nnamespaces = [\"x\"]\nnamespace_timeout = \"0s\"\n",
        4,
        "waves[0].namespace_timeout",
        "must be more than 0s",
    );
    assert_error(
        "[[waves]]\nname = \"a\"\nnamespaces = [\"x\"]\nwave_concurrency = \"two\"\n",
        4,
        "waves[0].wave_concurrency",
        "a whole number",
    );
    let plan = resolve(
        parse("", "plan.toml").unwrap(),
        derive(&demo().state.cluster),
    )
    .unwrap();
    assert_eq!(plan.pacing, Pacing::default());
}

#[test]
fn an_empty_file_is_the_derived_plan() {
    let derived = derive(&demo().state.cluster).unwrap();
    let plan = resolve(parse("", "plan.toml").unwrap(), Some(derived.clone())).unwrap();
    assert_eq!(
        plan,
        Plan {
            derived: false,
            ..derived
        }
    );
}

#[test]
fn what_the_file_leaves_out_comes_from_the_cluster() {
    let derived = derive(&demo().state.cluster).unwrap();
    let text = "keep_old = \"36h\"\n[rollback]\nerror_ratio = \"0.5%\"\n";
    let plan = resolve(parse(text, "plan.toml").unwrap(), Some(derived.clone())).unwrap();
    assert_eq!(plan.waves, derived.waves);
    assert_eq!(plan.tags, ["stable", "default"]);
    assert_eq!(plan.keep_old, minutes(36 * 60));
    assert_eq!(plan.tag_soak, DEFAULT_TAG_SOAK);
    assert_eq!(plan.thresholds.error_ratio, 0.005);
    assert_eq!(plan.thresholds.p99_latency_increase, 0.5);
    // A file that only names the waves keeps the derived revisions and tags.
    let text = "[[waves]]\nname = \"all\"\nselector = \"\"\n";
    let plan = resolve(parse(text, "plan.toml").unwrap(), Some(derived)).unwrap();
    assert_eq!((plan.from.as_str(), plan.tags.len()), ("1-24-0", 2));
    assert_eq!(plan.waves.len(), 1);
}

#[test]
fn resolving_refuses_what_cannot_be_known() {
    let resolve_text = |text: &str, derived: Option<Plan>| {
        resolve(parse(text, "plan.toml").unwrap(), derived).unwrap_err()
    };
    let e = resolve_text("", None);
    assert_eq!((e.line, e.field.as_str()), (0, "from"));
    assert!(e.message.contains("does not show two revisions"), "{e}");
    let e = resolve_text("from = \"1-24-0\"\n", None);
    assert_eq!((e.line, e.field.as_str()), (0, "to"));
    let e = resolve_text("from = \"1-24-0\"\nto = \"1-24-0\"\n", None);
    assert_eq!((e.line, e.field.as_str()), (2, "to"));
    assert_eq!(
        e.to_string(),
        "plan.toml:2: field `to`: `from` and `to` are both 1-24-0: there is nothing to upgrade"
    );
    let derived = derive(&demo().state.cluster).unwrap();
    let e = resolve_text("\n\nto = \"1-24-0\"\n", Some(derived.clone()));
    assert_eq!((e.line, e.field.as_str()), (3, "to"));
    let e = resolve_text("from = \"1-24-0\"\nto = \"1-25-0\"\n", None);
    assert_eq!((e.line, e.field.as_str()), (0, "waves"));
    let e = resolve_text("from = \"1-24-0\"\nto = \"1-25-0\"\nwaves = []\n", None);
    assert_eq!((e.line, e.field.as_str()), (0, "tags"));
    // Leaving another revision than the cluster's: its tags are not the derived ones.
    let e = resolve_text("from = \"1-23-0\"\n", Some(derived.clone()));
    assert_eq!(e.field, "tags");
    assert!(
        e.message
            .contains("leaves 1-23-0 but the cluster upgrades from 1-24-0"),
        "{e}"
    );
    let plan = resolve(
        parse("from = \"1-23-0\"\ntags = []\n", "plan.toml").unwrap(),
        Some(derived),
    )
    .unwrap();
    assert!(plan.tags.is_empty());
    // Waves and tags explicitly empty: a plan that only moves nothing but is valid.
    let only = "from = \"1-24-0\"\nto = \"1-25-0\"\nwaves = []\ntags = [\"default\"]\n";
    let plan = resolve(parse(only, "plan.toml").unwrap(), None).unwrap();
    assert!(plan.waves.is_empty());
}

#[test]
fn syntax_errors_name_their_line() {
    assert_error("from = \"1-24-0\"\nto = \n", 2, "", "not valid TOML");
    assert_error("from = \"a\"\nfrom = \"b\"\n", 2, "", "duplicate key");
    let e = parse("x = [1\n", "plan.toml").unwrap_err();
    assert!(
        e.to_string().starts_with("plan.toml:1: not valid TOML: "),
        "{e}"
    );
}

#[test]
fn unknown_fields_are_refused_wherever_they_are() {
    assert_error(
        "from = \"1-24-0\"\nform = \"x\"\n",
        2,
        "form",
        "unknown field; expected one of from, to",
    );
    assert_error(
        "[[waves]]\nname = \"a\"\nnamespaces = [\"x\"]\nsoaks = \"1m\"\n",
        4,
        "waves[0].soaks",
        "expected one of name, namespaces, selector, soak",
    );
    assert_error(
        "[rollback]\nlatency = 1\n",
        2,
        "rollback.latency",
        "p99_latency_increase",
    );
}

#[test]
fn wrong_types_and_values_name_the_field() {
    let soon = "[[waves]]\nname = \"a\"\nnamespaces = [\"x\"]\n\n[[waves]]\nname = \"b\"\nsoak = \"soon\"\nnamespaces = [\"y\"]\n";
    let e = parse(soon, "plan.toml").unwrap_err();
    assert_eq!(
        e.to_string(),
        "plan.toml:7: field `waves[1].soak`: expected a duration like \"30m\", \"2h\" or \"90s\", got \"soon\""
    );
    let cases: &[(&str, usize, &str, &str)] = &[
        (
            "from = 124\n",
            1,
            "from",
            "expected a revision name like \"1-25-0\", got 124",
        ),
        (
            "to = \"1.25.0\"\n",
            1,
            "to",
            "lowercase letters, digits and '-'",
        ),
        (
            "tags = \"stable\"\n",
            1,
            "tags",
            "expected a list of tag names",
        ),
        (
            "tags = [\"stable\", \"Prod\"]\n",
            1,
            "tags[1]",
            "got \"Prod\"",
        ),
        (
            "tags = [\"stable\",\n  \"stable\"]\n",
            2,
            "tags[1]",
            "`stable` is listed twice",
        ),
        (
            "tag_soak = 30\n",
            1,
            "tag_soak",
            "expected a duration like \"30m\", \"2h\" or \"90s\", got 30",
        ),
        ("keep_old = \"1.5d\"\n", 1, "keep_old", "got \"1.5d\""),
        (
            "prometheus_service = \"prometheus\"\n",
            1,
            "prometheus_service",
            "\"namespace/name\"",
        ),
        ("waves = \"all\"\n", 1, "waves", "expected [[waves]] tables"),
        ("[waves]\nname = \"a\"\n", 1, "waves", "got a table"),
        ("waves = [1]\n", 1, "waves[0]", "got 1"),
        (
            "[rollback]\np99_latency_increase = \"lots\"\n",
            2,
            "rollback.p99_latency_increase",
            "\"50%\" or a ratio like 0.5, got \"lots\"",
        ),
        (
            "[rollback]\np99_latency_increase = 50\n",
            2,
            "rollback.p99_latency_increase",
            "ambiguous",
        ),
        (
            "[rollback]\np99_latency_increase = \"-5%\"\n",
            2,
            "rollback.p99_latency_increase",
            "must not be negative",
        ),
        (
            "[rollback]\nerror_ratio = \"150%\"\n",
            2,
            "rollback.error_ratio",
            "cannot exceed 100%",
        ),
        (
            "[rollback]\nerror_ratio = nan\n",
            2,
            "rollback.error_ratio",
            "got nan",
        ),
        (
            "[rollback]\nerror_ratio_for = \"a minute\"\n",
            2,
            "rollback.error_ratio_for",
            "a duration",
        ),
        (
            "[rollback]\nxds_rejects = -1\n",
            2,
            "rollback.xds_rejects",
            "a whole number, 0 or more, got -1",
        ),
        (
            "[rollback]\nmtls_errors = 0.5\n",
            2,
            "rollback.mtls_errors",
            "got 0.5",
        ),
        (
            "[rollback]\nconvergence_p99 = \"0s\"\n",
            2,
            "rollback.convergence_p99",
            "more than 0s",
        ),
        (
            "[rollback]\nauto_rollback = \"yes\"\n",
            2,
            "rollback.auto_rollback",
            "true or false, got \"yes\"",
        ),
        ("rollback = 1\n", 1, "rollback", "a [rollback] table"),
    ];
    for (text, line, field, message) in cases {
        assert_error(text, *line, field, message);
    }
    // Zero as a whole number is no ambiguity.
    let zero = parse("[rollback]\nerror_ratio = 0\n", "plan.toml").unwrap();
    assert_eq!(zero.thresholds.error_ratio, 0.0);
}

#[test]
fn every_wave_needs_a_name_and_exactly_one_way_to_pick_namespaces() {
    let cases: &[(&str, usize, &str, &str)] = &[
        (
            "[[waves]]\nnamespaces = [\"a\"]\n",
            1,
            "waves[0].name",
            "every wave needs a name",
        ),
        (
            "[[waves]]\nname = \"\"\nnamespaces = [\"a\"]\n",
            2,
            "waves[0].name",
            "must not be empty",
        ),
        (
            "\n[[waves]]\nname = \"a\"\n",
            2,
            "waves[0]",
            "a wave needs namespaces",
        ),
        (
            "[[waves]]\nname = \"a\"\nnamespaces = [\"x\"]\nselector = \"tier=a\"\n",
            4,
            "waves[0].selector",
            "set `namespaces` or `selector`, not both",
        ),
        (
            "[[waves]]\nname = \"a\"\nnamespaces = []\n",
            3,
            "waves[0].namespaces",
            "at least one namespace",
        ),
        (
            "[[waves]]\nname = \"a\"\nnamespaces = [\"Shop\"]\n",
            3,
            "waves[0].namespaces[0]",
            "a namespace name",
        ),
        (
            "[[waves]]\nname = \"a\"\nselector = \"tier in staging\"\n",
            3,
            "waves[0].selector",
            "invalid label selector 'tier in staging'",
        ),
        (
            "[[waves]]\nname = \"a\"\nnamespaces = [\"x\"]\n[[waves]]\nname = \"a\"\nnamespaces = [\"y\"]\n",
            5,
            "waves[1].name",
            "waves[0] is already named `a`",
        ),
        (
            "[[waves]]\nname = \"a\"\nnamespaces = [\"x\"]\n[[waves]]\nname = \"b\"\nnamespaces = [\"y\",\n \"x\"]\n",
            7,
            "waves[1].namespaces[1]",
            "`x` is already in wave `a`",
        ),
        (
            "[[waves]]\nname = \"a\"\nnamespaces = [\"x\", \"x\"]\n",
            3,
            "waves[0].namespaces[1]",
            "listed twice",
        ),
    ];
    for (text, line, field, message) in cases {
        assert_error(text, *line, field, message);
    }
    // Inline tables are tables too.
    let inline = parse(
        "waves = [{ name = \"a\", namespaces = [\"x\"], soak = \"5m\" }]\n",
        "p",
    )
    .unwrap();
    assert_eq!(inline.waves.unwrap()[0].soak, minutes(5));
}

#[test]
fn the_first_error_in_the_file_is_the_one_reported() {
    let text = "zzz = 1\nfrom = 2\n";
    assert_error(text, 1, "zzz", "unknown field");
    let text = "from = 2\nzzz = 1\n";
    assert_error(text, 1, "from", "expected a revision");
}

#[test]
fn a_written_plan_reads_back_the_same() {
    let mut derived = derive(&demo().state.cluster).unwrap();
    derived.prometheus_service = Some("monitoring/prometheus".into());
    derived.thresholds.error_ratio = 0.07;
    derived.thresholds.convergence_p99_seconds = 0.25;
    let text = to_toml(&derived);
    let back = resolve(parse(&text, "state").unwrap(), None).unwrap();
    assert_eq!(
        back,
        Plan {
            derived: false,
            ..derived
        }
    );
    let from_file = resolve(parse(FULL, "plan.toml").unwrap(), None).unwrap();
    let back = resolve(parse(&to_toml(&from_file), "state").unwrap(), None).unwrap();
    assert_eq!(back, from_file);
    let bare = Plan {
        waves: Vec::new(),
        tags: Vec::new(),
        ..from_file
    };
    let back = resolve(parse(&to_toml(&bare), "state").unwrap(), None).unwrap();
    assert_eq!(back, bare);
}

#[test]
fn an_unreadable_file_has_no_line() {
    let e = load(Path::new("/nonexistent/plan.toml")).unwrap_err();
    assert_eq!((e.line, e.field.as_str()), (0, ""));
    assert!(
        e.to_string()
            .starts_with("/nonexistent/plan.toml: cannot read the plan file: "),
        "{e}"
    );
}

#[test]
fn a_table_is_never_read_from_an_array_or_a_date() {
    let cases: &[(&str, usize, &str, &str)] = &[
        (
            "rollback = [1]\n",
            1,
            "rollback",
            "a [rollback] table, got an array",
        ),
        (
            "waves = [[1]]\n",
            1,
            "waves[0]",
            "[[waves]] tables, one per wave, got an array",
        ),
        ("rollback = 1979-05-27\n", 1, "rollback", "got 1979-05-27"),
        ("\nfrom.x = 1\n", 2, "from", "got a table"),
    ];
    for (text, line, field, message) in cases {
        assert_error(text, *line, field, message);
    }
}

#[test]
fn unknown_top_level_fields_list_the_tables_as_written() {
    let (_, _, message) = error("form = 1\n");
    assert!(
        message.ends_with("namespace_timeout, [[waves]], [rollback]"),
        "{message}"
    );
}

#[test]
fn the_cross_cluster_trigger_keys_read_write_and_refuse_with_line_and_field() {
    let text =
        "[rollback]\ncross_cluster_error_ratio = \"5%\"\ncross_cluster_error_ratio_for = \"30s\"\n";
    let t = parse(text, "plan.toml").unwrap().thresholds;
    assert_eq!(t.cross_cluster_error_ratio, 0.05);
    assert_eq!(t.cross_cluster_error_ratio_for, Duration::from_secs(30));
    let t = parse("", "plan.toml").unwrap().thresholds;
    assert_eq!(
        (t.cross_cluster_error_ratio, t.cross_cluster_error_ratio_for),
        (0.01, minutes(1))
    );
    let mut derived = derive(&demo().state.cluster).unwrap();
    derived.thresholds.cross_cluster_error_ratio = 0.2;
    derived.thresholds.cross_cluster_error_ratio_for = minutes(3);
    let back = resolve(parse(&to_toml(&derived), "state").unwrap(), None).unwrap();
    assert_eq!(back.thresholds, derived.thresholds);
    let field = "rollback.cross_cluster_error_ratio";
    assert_error(
        "[rollback]\n\ncross_cluster_error_ratio = \"101%\"\n",
        3,
        field,
        "cannot exceed 100%",
    );
    let text = "[rollback]\ncross_cluster_error_ratio_for = \"soon\"\n";
    assert_error(text, 2, &format!("{field}_for"), "a duration");
}
