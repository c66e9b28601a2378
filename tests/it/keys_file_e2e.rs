//! The keys file, end to end: the real binary in tmux with `$XDG_CONFIG_HOME` pointing at a
//! keys file that rebinds keys, and a bad keys file stopping it before the terminal is taken.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common;
use crate::common::tmux::Tmux;

const BIN: &str = env!("CARGO_BIN_EXE_istio-cockpit");

/// Writes `text` as the keys file under `config` (what `$XDG_CONFIG_HOME` will name).
fn keys_file(config: &Path, text: &str) -> PathBuf {
    let dir = config.join("istio-cockpit");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("keys.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The status bar: the screen's last line with text.
fn status_bar(screen: &str) -> &str {
    screen.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("")
}

#[test]
fn a_keys_file_rebinds_keys_and_the_help_and_hints_follow() {
    let config = tempfile::tempdir().unwrap();
    keys_file(
        config.path(),
        "# pane keys a colleague prefers\n[keys]\nnext_pane = \"w\"\nhelp = \"h\"\nmigrate = \"u\"\n",
    );
    let sim = common::Sim::start(&[]);
    let command = format!(
        "XDG_CONFIG_HOME={} {BIN} --kubeconfig {} --context sim-admin --read-only; \
         echo EXITED=$?; sleep 60",
        config.path().display(),
        sim.kubeconfig_path().display()
    );
    let term = Tmux::start(120, 40, &command);
    let (ok, screen) = term.wait_for(Duration::from_secs(30), |s| {
        s.contains("READ-ONLY") && s.contains("checkout") && s.contains("┏ Namespaces")
    });
    assert!(ok, "the cockpit never showed the mesh:\n{screen}");
    assert!(
        status_bar(&screen).contains("Enter pods · / filter · w pane · L log · h keys · q quit"),
        "the hints name the keys in force:\n{screen}"
    );

    // Tab no longer moves the focus; w does.
    term.keys(&["Tab"]);
    std::thread::sleep(Duration::from_millis(500));
    assert!(term.screen().contains("┏ Namespaces"), "Tab still moved");
    term.keys(&["w"]);
    let (ok, screen) = term.wait_for(Duration::from_secs(5), |s| {
        s.contains("┏ Pods") && status_bar(s).contains("v yaml · / filter · w pane")
    });
    assert!(ok, "w did not move the focus to the pods:\n{screen}");

    // u reaches `migrate` (refused, read-only, saying why); m reaches nothing.
    term.keys(&["m"]);
    std::thread::sleep(Duration::from_millis(500));
    assert!(!term.screen().contains("actions are unavailable"));
    term.keys(&["u"]);
    let (ok, screen) = term.wait_for(Duration::from_secs(5), |s| {
        s.contains("actions are unavailable")
    });
    assert!(ok, "u did not reach migrate:\n{screen}");

    // ? is nobody's key now; h opens the help, which lists the new keys.
    term.keys(&["?"]);
    std::thread::sleep(Duration::from_millis(500));
    assert!(!term.screen().contains("╔ Keys"), "? still opened the help");
    term.keys(&["h"]);
    let (ok, screen) = term.wait_for(Duration::from_secs(5), |s| s.contains("╔ Keys"));
    assert!(ok, "h did not open the help:\n{screen}");
    for row in [
        "w  next pane",
        "h  help (any key closes it)",
        "u  migrate the namespace",
    ] {
        assert!(screen.contains(row), "the help lacks {row:?}:\n{screen}");
    }
    assert!(!screen.contains("Tab  next pane"), "{screen}");

    term.keys(&["Escape", "q"]);
    let (ok, end) = term.wait_for(Duration::from_secs(10), |s| s.contains("EXITED=0"));
    assert!(ok, "{end}");
}

#[test]
fn a_bad_keys_file_stops_the_cockpit_with_its_line_and_field() {
    let config = tempfile::tempdir().unwrap();
    let path = keys_file(config.path(), "[keys]\nmigrate = \"n\"\n");
    // Checked before any cluster is asked: the kubeconfig need not exist.
    let missing = config.path().join("no-kubeconfig");
    for args in [
        vec!["--kubeconfig", missing.to_str().unwrap()],
        vec!["demo"],
    ] {
        let out = std::process::Command::new(BIN)
            .args(&args)
            .env("XDG_CONFIG_HOME", config.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        let expected = format!(
            "error: bad keys: {}:2: field `keys.migrate`: \"n\" is already the key of \
             nack_only in the panes",
            path.display()
        );
        assert!(err.starts_with(&expected), "{args:?}: {err}");
        // The terminal was never taken: no alternate screen, nothing on stdout.
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(!err.contains("\x1b["), "{args:?}: {err:?}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }

    // Without XDG_CONFIG_HOME, the file under ~/.config is read.
    let home = tempfile::tempdir().unwrap();
    let path = keys_file(&home.path().join(".config"), "[keys]\nmigrate = 3\n");
    let out = std::process::Command::new(BIN)
        .args(["--kubeconfig", missing.to_str().unwrap()])
        .env_remove("XDG_CONFIG_HOME")
        .env("HOME", home.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:2: field `keys.migrate`", path.display())),
        "{err}"
    );

    let help = std::process::Command::new(BIN)
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.contains("istio-cockpit/keys.toml") && text.contains("XDG_CONFIG_HOME"),
        "{text}"
    );
}
