//! `istio-cockpit precheck`, the real binary against the simulated mesh: every check fires on
//! its planted object in `lint-traps`, the default mesh shows only its known problems, the
//! report's formats and exit codes, and objects changed by hand with kubectl.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use istio_cockpit::precheck::CheckId;
use serde_json::Value;

use crate::common::Sim;
use crate::common::files::write;

/// What one run printed and how it ended.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }

    /// Every (check, object) pair of a JSON report.
    fn found(&self) -> BTreeSet<(String, String)> {
        self.json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let field = |k: &str| f[k].as_str().unwrap().to_string();
                (field("check"), field("object"))
            })
            .collect()
    }
}

/// Runs `istio-cockpit precheck` with the kubeconfig and arguments; fails the test after 60 s.
fn precheck(kubeconfig: &Path, args: &[&str]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_istio-cockpit"))
        .arg("precheck")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start istio-cockpit precheck");
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        out.read_to_string(&mut text).unwrap();
        text
    });
    let mut stderr = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("precheck {args:?} did not end within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    err.read_to_string(&mut stderr).unwrap();
    Run {
        code: status.code().expect("an exit code"),
        stdout: reader.join().unwrap(),
        stderr,
    }
}

fn pair(check: &str, object: &str) -> (String, String) {
    (check.to_string(), object.to_string())
}

/// Every planted problem of `lint-traps` (the README's table), as the check that finds it.
fn planted() -> Vec<(String, String)> {
    [
        ("k8s-version", "Cluster/version"),
        (
            "crd-missing",
            "CustomResourceDefinition/wasmplugins.extensions.istio.io",
        ),
        (
            "crd-version",
            "CustomResourceDefinition/telemetries.telemetry.istio.io",
        ),
        (
            "webhook-service-missing",
            "MutatingWebhookConfiguration/istio-sidecar-injector-1-23-5",
        ),
        (
            "webhook-overlap",
            "MutatingWebhookConfiguration/istio-sidecar-injector-1-25-0",
        ),
        (
            "tag-missing-revision",
            "MutatingWebhookConfiguration/istio-revision-tag-canary",
        ),
        ("label-conflict", "Namespace/notifications"),
        ("label-unknown-revision", "Namespace/lint-unknown-rev"),
        ("pod-no-sidecar", "Deployment/lint-no-sidecar/legacy-api"),
        ("pdb-blocks", "PodDisruptionBudget/lint-restarts/pdb-zero"),
        (
            "pdb-selects-nothing",
            "PodDisruptionBudget/lint-restarts/pdb-orphan",
        ),
        ("single-replica", "Deployment/lint-restarts/lone-worker"),
        ("surge-below-pdb", "Deployment/lint-restarts/below-budget"),
        ("max-surge-zero", "Deployment/lint-restarts/no-surge"),
        ("hold-until-proxy", "Deployment/lint-restarts/early-start"),
        ("grace-below-drain", "Deployment/lint-restarts/quick-exit"),
        ("long-lived-grace", "Deployment/lint-restarts/grpc-stream"),
        ("unmovable-pod", "Pod/lint-unmovable/debug-shell"),
        ("unmovable-pod", "Pod/lint-unmovable/db-migrate-7xkq2"),
        ("ambient-order", "DaemonSet/istio-system/ztunnel"),
        ("ztunnel-strategy", "DaemonSet/istio-system/ztunnel"),
        ("gateway-on-tag", "Deployment/lint-gateway/ingress-gateway"),
    ]
    .into_iter()
    .map(|(c, o)| pair(c, o))
    .collect()
}

/// The skewed pod of `search`, whatever its generated name.
fn skewed_pod(found: &BTreeSet<(String, String)>) -> (String, String) {
    found
        .iter()
        .find(|(c, o)| c == "proxy-image-mismatch" && o.starts_with("Pod/search/search-api-"))
        .cloned()
        .unwrap_or_else(|| panic!("no skewed pod in search: {found:?}"))
}

#[test]
fn lint_traps_fires_every_check_on_its_planted_object() {
    let sim = Sim::start_logging(&["--scenario", "lint-traps"]);
    let run = precheck(&sim.kubeconfig, &["--format", "json"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let found = run.found();
    for plant in planted() {
        assert!(found.contains(&plant), "{plant:?} missing from {found:?}");
    }
    skewed_pod(&found);
    assert_eq!(
        run.json()["summary"]["clusters"],
        serde_json::json!(["sim-admin"])
    );

    // Room for a control plane and a jump of minors only matter for a revision not yet
    // installed: 1-25-0 is. A plan to 1-27-0 (three minors on) makes both fire as well.
    let dir = tempfile::tempdir().unwrap();
    let plan = write(&dir, "plan.toml", "from = \"1-24-0\"\nto = \"1-27-0\"\n");
    let run = precheck(
        &sim.kubeconfig,
        &["--format", "json", "--plan", plan.to_str().unwrap()],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let found = run.found();
    let mut expected = planted();
    expected.push(pair(
        "control-plane-room",
        "ResourceQuota/istio-system/control-plane-quota",
    ));
    expected.push(pair("skip-minor", "Revision/1-27-0"));
    for plant in &expected {
        assert!(found.contains(plant), "{plant:?} missing from {found:?}");
    }
    let fired: BTreeSet<&str> = found.iter().map(|(c, _)| c.as_str()).collect();
    let all: BTreeSet<&str> = CheckId::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(fired, all, "every check of the issue fires on lint-traps");

    // It only read.
    assert_eq!(sim.writes(), Vec::<String>::new());
}

#[test]
fn the_default_mesh_shows_its_known_problems_and_nothing_else() {
    let sim = Sim::start(&[]);
    let run = precheck(&sim.kubeconfig, &["--format", "json"]);
    // Two warnings, no blocker.
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let found = run.found();
    let expected: BTreeSet<_> = [
        pair("label-conflict", "Namespace/notifications"),
        skewed_pod(&found),
    ]
    .into();
    assert_eq!(found, expected);
    let summary = &run.json()["summary"];
    assert_eq!(
        (&summary["blocker"], &summary["warning"]),
        (&0.into(), &2.into())
    );
    assert!(run.stderr.is_empty(), "{}", run.stderr);

    let strict = precheck(&sim.kubeconfig, &["--fail-on", "warning"]);
    assert_eq!(strict.code, 2, "{}", strict.stderr);

    // Two contexts of one kubeconfig: each checked, each finding carries its context.
    let both = precheck(
        &sim.kubeconfig,
        &["--format", "json", "--context", "sim-admin,sim-viewer"],
    );
    assert_eq!(both.code, 0, "{}", both.stderr);
    let report = both.json();
    let clusters: BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["cluster"].as_str().unwrap())
        .collect();
    assert_eq!(clusters, ["sim-admin", "sim-viewer"].into());
    assert_eq!(report["findings"].as_array().unwrap().len(), 4);
}

/// The headings of a report, in order: `(severity, check)` for each check's group.
fn groups(
    text: &str,
    severity: fn(&str) -> Option<&str>,
    check: fn(&str) -> Option<&str>,
) -> Vec<(String, String)> {
    let mut current = String::new();
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(s) = severity(line) {
            current = s.to_lowercase();
        } else if let Some(c) = check(line) {
            out.push((current.clone(), c.to_string()));
        }
    }
    out
}

#[test]
fn text_and_markdown_group_by_severity_then_check() {
    let sim = Sim::start(&["--scenario", "lint-traps"]);
    let json = precheck(&sim.kubeconfig, &["--format", "json"]).json();
    let mut expected: Vec<(String, String)> = Vec::new();
    for f in json["findings"].as_array().unwrap() {
        let key = (
            f["severity"].as_str().unwrap().to_string(),
            f["check"].as_str().unwrap().to_string(),
        );
        if expected.last() != Some(&key) {
            expected.push(key);
        }
    }
    let rank = |s: &str| ["blocker", "warning", "info"].iter().position(|x| *x == s);
    assert!(
        expected.windows(2).all(|w| rank(&w[0].0) <= rank(&w[1].0)),
        "worst first: {expected:?}"
    );
    assert_eq!(
        expected
            .iter()
            .map(|(s, _)| s.as_str())
            .collect::<BTreeSet<_>>(),
        ["blocker", "warning", "info"].into()
    );

    let text = precheck(&sim.kubeconfig, &["--format", "text"]);
    assert_eq!(text.code, 2);
    let text_groups = groups(
        &text.stdout,
        |l| ["BLOCKER", "WARNING", "INFO"].contains(&l).then_some(l),
        |l| l.strip_prefix("  ").filter(|c| !c.starts_with(' ')),
    );
    assert_eq!(text_groups, expected, "{}", text.stdout);
    assert!(text.stdout.contains("      fix: "), "{}", text.stdout);

    let markdown = precheck(&sim.kubeconfig, &["--format", "markdown"]);
    assert_eq!(markdown.code, 2);
    let md_groups = groups(
        &markdown.stdout,
        |l| l.strip_prefix("## "),
        |l| l.strip_prefix("### `").and_then(|c| c.strip_suffix('`')),
    );
    assert_eq!(md_groups, expected, "{}", markdown.stdout);
}

/// A reason on stderr, in one line, and nothing on stdout.
fn assert_could_not_check(run: &Run, says: &str) {
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("error: ") && run.stderr.contains(says),
        "{}",
        run.stderr
    );
}

#[test]
fn what_cannot_be_checked_exits_1_with_one_line() {
    let sim = Sim::start(&[]);
    let run = precheck(&sim.kubeconfig, &["--context", "nowhere"]);
    assert_could_not_check(&run, "no context named \"nowhere\"");

    // A bad argument is no blocker: 1, not clap's usual 2.
    let run = precheck(&sim.kubeconfig, &["--format", "yaml"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("--format"), "{}", run.stderr);

    let dir = tempfile::tempdir().unwrap();
    let plan = write(&dir, "bad.toml", "from = 3\n");
    let run = precheck(&sim.kubeconfig, &["--plan", plan.to_str().unwrap()]);
    assert_could_not_check(&run, "bad plan");

    // The same kubeconfig, pointed at a port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let text = std::fs::read_to_string(&sim.kubeconfig).unwrap();
    let dead = write(
        &dir,
        "dead-kubeconfig",
        &text.replace(&sim.api, &format!("https://127.0.0.1:{port}")),
    );
    let run = precheck(&dead, &[]);
    assert_could_not_check(&run, "cannot reach the API server");
}

#[test]
fn a_budget_and_a_grace_period_changed_by_hand_show_in_the_next_run() {
    let sim = Sim::start(&[]);
    let fired = |check: &str, object: &str| {
        let run = precheck(&sim.kubeconfig, &["--format", "json"]);
        run.found().contains(&pair(check, object))
    };
    let budget = "PodDisruptionBudget/payments/hand-made";
    assert!(!fired("pdb-blocks", budget));
    sim.kubectl(&[
        "create",
        "pdb",
        "hand-made",
        "-n",
        "payments",
        "--selector=app=payments-api",
        "--min-available=100%",
    ]);
    assert!(fired("pdb-blocks", budget));
    sim.kubectl(&["delete", "pdb", "hand-made", "-n", "payments"]);
    assert!(!fired("pdb-blocks", budget));

    let ledger = "Deployment/payments/ledger";
    let grace = |seconds: u32| {
        let patch = format!(
            "{{\"spec\":{{\"template\":{{\"spec\":{{\"terminationGracePeriodSeconds\":{seconds}}}}}}}}}"
        );
        sim.kubectl(&[
            "patch",
            "deployment",
            "ledger",
            "-n",
            "payments",
            "-p",
            &patch,
        ]);
    };
    assert!(!fired("grace-below-drain", ledger));
    grace(1);
    assert!(fired("grace-below-drain", ledger));
    grace(30);
    assert!(!fired("grace-below-drain", ledger));
}

#[test]
fn large_lists_come_in_pages() {
    // About 1,200 pods: more than one page of 500.
    let sim = Sim::start_logging(&["--namespaces", "40", "--pods-per-namespace", "25"]);
    let run = precheck(&sim.kubeconfig, &["--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The generated namespaces are sound: still only the known problems.
    assert_eq!(run.found().len(), 2, "{}", run.stdout);
    let pages: Vec<String> = sim
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("list GET /api/v1/pods?"))
        .collect();
    assert!(pages.len() >= 3, "{pages:?}");
    assert!(pages.iter().all(|p| p.contains("limit=500")), "{pages:?}");
    assert!(
        pages[1..].iter().all(|p| p.contains("continue=")),
        "{pages:?}"
    );
    assert_eq!(sim.writes(), Vec::<String>::new());
}
