//! The `sim` command as a user meets it: its ready line, its errors, and how it stops.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common;

fn sim_command(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_istio-cockpit"))
        .arg("sim")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run istio-cockpit")
}

fn one_line_error(out: &std::process::Output) -> String {
    assert!(!out.status.success(), "expected a failure");
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stderr = String::from_utf8_lossy(&out.stderr).trim_end().to_string();
    assert_eq!(stderr.lines().count(), 1, "one line, got:\n{stderr}");
    stderr
}

#[test]
fn a_busy_port_is_a_one_line_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = sim_command(&["--listen", &addr]);
    let err = one_line_error(&out);
    assert!(
        err.contains("cannot listen on") && err.contains(&addr),
        "{err}"
    );
}

#[test]
fn an_unwritable_kubeconfig_path_is_a_one_line_error() {
    let out = sim_command(&["--kubeconfig-out", "/nonexistent-dir/kubeconfig"]);
    let err = one_line_error(&out);
    assert!(
        err.contains("cannot write the kubeconfig") && err.contains("/nonexistent-dir/kubeconfig"),
        "{err}"
    );
}

#[test]
fn bad_flags_are_refused_with_usage() {
    for args in [
        &["--namespaces", "many"][..],
        &["--scenario", "chaos"],
        &["--listen", "nowhere"],
        &["--ready-after", "-3"],
    ] {
        let out = sim_command(args);
        assert!(!out.status.success(), "{args:?} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("error"), "{args:?}: {stderr}");
    }
    let help = Command::new(env!("CARGO_BIN_EXE_istio-cockpit"))
        .args(["sim", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--listen",
        "--kubeconfig-out",
        "--prometheus-config-out",
        "--scenario",
        "--namespaces",
        "--pods-per-namespace",
        "--seed",
    ] {
        assert!(text.contains(flag), "{flag} missing from --help");
    }
    assert!(text.contains("slow-canary") && text.contains("nack-storm") && text.contains("skewed"));
}

#[test]
fn sigterm_stops_it_cleanly_and_the_kubeconfig_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let sim = common::Sim::start(&["--scenario", "skewed"]);
    assert!(sim.api.starts_with("https://127.0.0.1:"), "{}", sim.api);
    assert!(sim.metrics.starts_with(&sim.api));
    let mode = std::fs::metadata(sim.kubeconfig_path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let pid = sim.pid().to_string();
    let mut sim = sim;
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status =
        common::eventually(Duration::from_secs(10), || sim.try_wait()).expect("exits within 10 s");
    assert!(status.success(), "{status:?}");
}
