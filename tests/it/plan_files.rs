//! Plan files on disk, as `--plan FILE` reads them: valid files load, and every invalid one
//! is refused with the file, the line and the field the user must fix.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use istio_cockpit::k8s::selector::LabelSelector;
use istio_cockpit::mesh::fleet::Role;
use istio_cockpit::plan::file::{load, resolve};
use istio_cockpit::plan::{NamespaceSelector, Phase, PlanError};

use crate::common::files::write;

const REHEARSAL: &str = r#"# The demo's upgrade, written down.
from = "1-24-0"
to = "1-25-0"
tags = ["stable", "default"]
keep_old = "48h"

[[waves]]
name = "staging"
selector = "tier=staging"
soak = "10m"

[[waves]]
name = "non-critical"
namespaces = ["notifications", "search"]

[[waves]]
name = "critical"
namespaces = ["checkout"]
soak = "1h"

[rollback]
error_ratio = "2%"
auto_rollback = true
"#;

#[test]
fn a_valid_plan_file_loads_into_a_plan() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "plan.toml", REHEARSAL);
    let plan = resolve(load(&path).unwrap(), None).unwrap();
    assert_eq!((plan.from.as_str(), plan.to.as_str()), ("1-24-0", "1-25-0"));
    let names: Vec<String> = plan
        .phases()
        .into_iter()
        .map(|p| plan.phase_name(p))
        .collect();
    assert_eq!(
        names,
        [
            "wave 1: staging",
            "wave 2: non-critical",
            "wave 3: critical",
            "move tags",
            "soak",
            "decommission 1-24-0",
            "done"
        ]
    );
    assert_eq!(
        plan.waves[0].selector,
        NamespaceSelector::Labels(LabelSelector::parse("tier=staging").unwrap())
    );
    assert_eq!(plan.waves[1].soak, Duration::from_secs(30 * 60));
    assert_eq!(plan.waves[2].soak, Duration::from_secs(3600));
    assert_eq!(plan.keep_old, Duration::from_secs(48 * 3600));
    assert_eq!(plan.thresholds.error_ratio, 0.02);
    assert!(plan.thresholds.auto_rollback);
    assert_eq!(plan.next(Phase::Wave(2)), Some(Phase::MoveTags));
    assert!(!plan.derived);
}

/// Loads `text` from a file and returns the error it gives.
fn refused(dir: &tempfile::TempDir, text: &str) -> PlanError {
    let path = write(dir, "plan.toml", text);
    let error = load(&path).expect_err(text);
    assert_eq!(error.file, path.display().to_string());
    error
}

#[test]
fn invalid_plan_files_name_the_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let bad_soak = REHEARSAL.replace("soak = \"1h\"", "soak = \"soon\"");
    let e = refused(&dir, &bad_soak);
    assert_eq!((e.line, e.field.as_str()), (19, "waves[2].soak"));
    assert_eq!(
        e.to_string(),
        format!(
            "{}:19: field `waves[2].soak`: expected a duration like \"30m\", \"2h\" or \"90s\", got \"soon\"",
            dir.path().join("plan.toml").display()
        )
    );
    let cases: &[(&str, &str, usize, &str, &str)] = &[
        // (what is replaced, by what, line, field, part of the message)
        (
            "keep_old = \"48h\"",
            "keep_old = \"2 days\"",
            5,
            "keep_old",
            "got \"2 days\"",
        ),
        (
            "keep_old = \"48h\"",
            "keep-old = \"48h\"",
            5,
            "keep-old",
            "unknown field",
        ),
        (
            "soak = \"10m\"",
            "soak = \"10m\"\nowner = \"sre\"",
            11,
            "waves[0].owner",
            "unknown field",
        ),
        (
            "selector = \"tier=staging\"",
            "selector = \"tier=\"\nnamespaces = [\"a\"]",
            10,
            "waves[0].namespaces",
            "not both",
        ),
        (
            "name = \"critical\"\n",
            "",
            16,
            "waves[2].name",
            "needs a name",
        ),
        (
            "namespaces = [\"checkout\"]",
            "namespaces = [\"search\"]",
            18,
            "waves[2].namespaces[0]",
            "already in wave `non-critical`",
        ),
        (
            "error_ratio = \"2%\"",
            "error_ratio = 2",
            22,
            "rollback.error_ratio",
            "ambiguous",
        ),
        (
            "auto_rollback = true",
            "auto_rollback = yes",
            23,
            "",
            "not valid TOML",
        ),
        ("to = \"1-25-0\"", "to = 1.25", 3, "to", "got 1.25"),
        (
            "tags = [\"stable\", \"default\"]",
            "tags = [\"stable\", 7]",
            4,
            "tags[1]",
            "got 7",
        ),
    ];
    for (from, to, line, field, message) in cases {
        let text = REHEARSAL.replacen(from, to, 1);
        assert_ne!(text, REHEARSAL, "{from} is in the fixture");
        let e = refused(&dir, &text);
        assert_eq!((e.line, e.field.as_str()), (*line, *field), "{e}");
        assert!(e.message.contains(message), "{e}");
    }
}

#[test]
fn a_plan_that_cannot_be_completed_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let same = REHEARSAL.replace("to = \"1-25-0\"", "to = \"1-24-0\"");
    let path = write(&dir, "same.toml", &same);
    let e = resolve(load(&path).unwrap(), None).unwrap_err();
    assert_eq!((e.line, e.field.as_str()), (3, "to"));
    assert!(e.message.contains("nothing to upgrade"), "{e}");
    let path = write(
        &dir,
        "waves-only.toml",
        "[[waves]]\nname = \"a\"\nnamespaces = [\"x\"]\n",
    );
    let e = resolve(load(&path).unwrap(), None).unwrap_err();
    assert_eq!((e.line, e.field.as_str()), (0, "from"));
}

#[test]
fn a_missing_or_unreadable_file_is_refused_without_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    let e = load(&missing).unwrap_err();
    assert_eq!((e.line, e.field.as_str()), (0, ""));
    assert!(e.to_string().contains("cannot read the plan file"), "{e}");
    let binary = dir.path().join("binary.toml");
    std::fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
    let e = load(&binary).unwrap_err();
    assert_eq!(e.line, 0);
    // A directory is not a plan file either.
    let e = load(dir.path()).unwrap_err();
    assert_eq!(e.line, 0);
}

const FLEET: &str = r#"from = "1-24-0"
to = "1-25-0"

[[clusters]]
context = "primary"
role = "primary"
prometheus = "http://127.0.0.1:9090"

[[clusters]]
context = "remote-1"
role = "remote"
name = "eu-remote"
"#;

#[test]
fn a_fleet_plan_file_loads_its_clusters_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let file = load(&write(&dir, "fleet.toml", FLEET)).unwrap();
    let clusters: Vec<_> = file
        .clusters
        .iter()
        .map(|c| (c.context.as_str(), c.role, c.name.as_deref()))
        .collect();
    assert_eq!(
        clusters,
        [
            ("primary", Some(Role::Primary), None),
            ("remote-1", Some(Role::Remote), Some("eu-remote")),
        ]
    );
    assert_eq!(
        file.clusters[0]
            .prometheus
            .as_ref()
            .map(reqwest::Url::as_str),
        Some("http://127.0.0.1:9090/")
    );
    let twice = FLEET.replace("\"remote-1\"", "\"primary\"");
    let e = refused(&dir, &twice);
    assert_eq!((e.line, e.field.as_str()), (10, "clusters[1].context"));
    assert!(
        e.message.contains("already the context of clusters[0]"),
        "{e}"
    );
}

#[test]
fn the_cockpit_refuses_a_bad_fleet_plan_before_it_connects() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write(
        &dir,
        "fleet.toml",
        &FLEET.replace("role = \"remote\"\n", ""),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_istio-cockpit"))
        .arg("--kubeconfig")
        .arg(dir.path().join("no-kubeconfig"))
        .arg("--plan")
        .arg(&plan)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run istio-cockpit");
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the cockpit did not stop on a bad plan");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = format!(
        "bad plan: {}:9: field `clusters[1].role`: clusters[0] sets a role, so every cluster needs one",
        plan.display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
}
