//! The `:` command line and OSC 52 copying, in the real cockpit on the default simulator in
//! tmux: completion, commands, a one-line error, `:q` giving the terminal back, and `y` / `Y`
//! reaching tmux's paste buffer as real escape bytes.

use std::time::Duration;

use crate::common::Sim;
use crate::common::cockpit_term::*;
use crate::common::journal::journal_file;
use crate::common::tmux::Tmux;

/// Types `:` and `text`, a key per character (a space as tmux names it).
fn type_command(term: &Tmux, text: &str) {
    let keys: Vec<String> = std::iter::once(':')
        .chain(text.chars())
        .map(|c| match c {
            ' ' => "Space".to_string(),
            c => c.to_string(),
        })
        .collect();
    term.keys(&keys.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn commands_complete_select_show_and_refuse_in_one_line() {
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let term = open_driver(&sim, &journal_file(&dir, "driver"));
    type_command(&term, "ns pay");
    term.keys(&["Tab"]);
    let (ok, screen) = wait_status(&term, SHORT, |s| s.contains(":ns payments▏"));
    assert!(ok, "Tab did not complete the namespace:\n{screen}");
    term.keys(&["Enter"]);
    let (ok, screen) = term.wait_for(SHORT, |s| s.contains("Pods payments ·"));
    assert!(ok, "Enter did not select payments:\n{screen}");
    assert!(
        status_bar(&screen).contains("DRIVER"),
        "the status bar is back:\n{screen}"
    );

    assert!(!screen.contains(" Metrics · "), "{screen}");
    type_command(&term, "metrics");
    term.keys(&["Enter"]);
    let (ok, screen) = term.wait_for(SHORT, |s| s.contains(" Metrics · "));
    assert!(ok, ":metrics did not open the metrics pane:\n{screen}");

    type_command(&term, "bogus");
    term.keys(&["Enter"]);
    let screen = wait_notice(
        &term,
        "unknown command :bogus",
        "an unknown command did not say so",
    );
    assert_eq!(
        screen.matches("unknown command").count(),
        1,
        "one line:\n{screen}"
    );
    assert!(
        screen.contains("Pods payments ·"),
        "nothing else moved:\n{screen}"
    );
}

#[test]
fn colon_q_quits_and_gives_the_terminal_back() {
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let (before, after) = (dir.path().join("before"), dir.path().join("after"));
    let line = format!(
        "stty -g > {b}; {BIN} --kubeconfig {k} --context sim-admin --journal {j}; code=$?; \
         stty -g > {a}; echo EXITED=$code; sleep 60",
        b = before.display(),
        a = after.display(),
        k = sim.kubeconfig_path().display(),
        j = journal_file(&dir, "driver").display(),
    );
    let term = open_cockpit(&line);
    type_command(&term, "q");
    term.keys(&["Enter"]);
    let (ok, screen) = term.wait_for(Duration::from_secs(10), |s| s.contains("EXITED="));
    assert!(ok, ":q did not quit:\n{screen}");
    assert!(screen.contains("EXITED=0"), "{screen}");
    assert!(
        !screen.contains("Namespaces"),
        "the panes stayed:\n{screen}"
    );
    term.assert_screen_given_back(":q");
    assert_eq!(
        std::fs::read_to_string(&before).unwrap(),
        std::fs::read_to_string(&after).unwrap(),
        "terminal modes restored (no raw mode left behind)"
    );
}

#[test]
fn y_and_shift_y_put_the_name_and_its_kubectl_command_in_tmuxs_buffer() {
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let term = open_driver(&sim, &journal_file(&dir, "driver"));
    term.set_global("set-clipboard", "on");
    type_command(&term, "ns payments");
    term.keys(&["Enter"]);
    let (ok, screen) = term.wait_for(SHORT, |s| s.contains("Pods payments ·"));
    assert!(ok, "{screen}");

    term.keys(&["y"]);
    wait_notice(&term, "copied: payments", "y did not say what it copied");
    let (ok, buffer) = wait_buffer(&term, "payments");
    assert!(ok, "tmux's buffer holds {buffer:?}, not the namespace");

    term.keys(&["Y"]);
    let command = "kubectl --context sim-admin get namespace payments -o yaml";
    wait_notice(
        &term,
        &format!("copied: {command}"),
        "Y did not say what it copied",
    );
    let (ok, buffer) = wait_buffer(&term, command);
    assert!(ok, "tmux's buffer holds {buffer:?}, not the command");
}

/// Waits until tmux's newest buffer is `expected`; whether it was, and the last one read.
fn wait_buffer(term: &Tmux, expected: &str) -> (bool, String) {
    let end = std::time::Instant::now() + SHORT;
    loop {
        let buffer = term.buffer();
        if buffer == expected || std::time::Instant::now() > end {
            return (buffer == expected, buffer);
        }
        std::thread::sleep(Duration::from_millis(150));
    }
}
