//! End to end: the real binary in tmux, keys sent, the screen read back.

use std::time::Duration;

use crate::common;
use crate::common::tmux::Tmux;

const BIN: &str = env!("CARGO_BIN_EXE_istio-cockpit");

#[test]
fn demo_shows_the_mesh_and_q_restores_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let before = dir.path().join("stty-before");
    let after = dir.path().join("stty-after");
    let command = format!(
        "stty -g > {b}; {BIN} demo; code=$?; stty -g > {a}; echo EXITED=$code; sleep 60",
        b = before.display(),
        a = after.display()
    );
    let term = Tmux::start(120, 40, &command);
    let (ok, screen) = term.wait_for(Duration::from_secs(40), |s| {
        s.contains("staging-web")
            && s.contains("1-24-0")
            && s.contains("1-25-0")
            && s.contains("DRIVER")
    });
    assert!(ok, "the cockpit never showed the mesh:\n{screen}");
    assert_eq!(
        term.format("#{alternate_on}"),
        "1",
        "the cockpit draws on the alternate screen"
    );
    term.keys(&["q"]);
    let (ok, screen) = term.wait_for(Duration::from_secs(10), |s| s.contains("EXITED="));
    assert!(ok, "the cockpit did not exit on q:\n{screen}");
    assert!(screen.contains("EXITED=0"), "{screen}");
    term.assert_screen_given_back("q");
    let (b, a) = (
        std::fs::read_to_string(&before).unwrap(),
        std::fs::read_to_string(&after).unwrap(),
    );
    assert_eq!(b, a, "terminal modes restored (no raw mode left behind)");
}

#[test]
fn read_only_sends_nothing_but_get_list_and_watch_whatever_keys_are_pressed() {
    let sim = common::Sim::start_logging(&[]);
    let command = format!(
        "{BIN} --kubeconfig {} --context sim-admin --read-only; echo EXITED=$?; sleep 60",
        sim.kubeconfig_path().display()
    );
    let term = Tmux::start(120, 40, &command);
    let (ok, screen) = term.wait_for(Duration::from_secs(30), |s| {
        s.contains("READ-ONLY") && s.contains("checkout")
    });
    assert!(ok, "{screen}");
    let every_key = [
        "j", "k", "Down", "Up", "Tab", "Enter", "BTab", "Enter", "/", "s", "t", "a", "Enter",
        "Escape", "n", "f", "L", "L", "?", "Escape", "m", "y", "M", "y", "r", "y", "t", "y", ">",
        "y", "PageDown", "PageUp", "g", "G", "Tab", "Tab", "Enter", "n", "Tab", "Enter", "m", "y",
    ];
    term.keys(&every_key);
    let (_, screen) = term.wait_for(Duration::from_secs(3), |s| s.contains("read-only"));
    term.keys(&["q"]);
    let (ok, end) = term.wait_for(Duration::from_secs(10), |s| s.contains("EXITED=0"));
    assert!(ok, "{end}");
    let requests = sim.requests();
    assert!(
        requests.len() > 5,
        "the cockpit made requests: {requests:?}"
    );
    let writes = sim.writes();
    assert!(writes.is_empty(), "read-only mode sent writes: {writes:?}");
    assert!(screen.contains("READ-ONLY"), "{screen}");
}

#[test]
fn a_viewer_is_read_only_and_says_why() {
    let sim = common::Sim::start(&[]);
    let command = format!(
        "{BIN} --kubeconfig {} --context sim-viewer; echo EXITED=$?; sleep 60",
        sim.kubeconfig_path().display()
    );
    let term = Tmux::start(120, 40, &command);
    let (ok, screen) = term.wait_for(Duration::from_secs(30), |s| {
        s.contains("READ-ONLY") && s.contains("checkout")
    });
    assert!(ok, "{screen}");
    term.keys(&["m"]);
    let (ok, screen) = term.wait_for(Duration::from_secs(5), |s| {
        s.contains("may not patch namespaces")
    });
    assert!(ok, "{screen}");
    term.keys(&["q"]);
}

#[test]
fn no_cluster_is_a_clear_message_not_a_broken_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let out = std::process::Command::new(BIN)
        .args(["--kubeconfig", &missing.display().to_string()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("istio-cockpit demo") && err.contains(&missing.display().to_string()),
        "{err}"
    );
    // An API server that is not there.
    let kubeconfig = dir.path().join("kc");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:9\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user:\n    token: x\n",
    )
    .unwrap();
    let out = std::process::Command::new(BIN)
        .args(["--kubeconfig", &kubeconfig.display().to_string()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot reach the API server") && err.contains("istio-cockpit demo"),
        "{err}"
    );
    let out = std::process::Command::new(BIN)
        .args([
            "--kubeconfig",
            &kubeconfig.display().to_string(),
            "--context",
            "other",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("no context named \"other\""));
}
