//! The real cockpit in a terminal (tmux) on the simulator: starting it, reading its status
//! and phase bars, selecting a namespace, opening dialogs.

use std::path::Path;
use std::time::Duration;

use crate::common::Sim;
use crate::common::tmux::Tmux;

pub const BIN: &str = env!("CARGO_BIN_EXE_istio-cockpit");
pub const WIDTH: u16 = 160;
pub const HEIGHT: u16 = 45;
/// The longest any single wait may take.
pub const LONG: Duration = Duration::from_secs(60);
/// How long the screen may take to answer a key.
pub const SHORT: Duration = Duration::from_secs(15);

/// The shell line that runs the cockpit on the simulator. `env` goes before the binary
/// (`USER=someone-else`); the trailing sleep keeps the pane readable after an exit.
pub fn cockpit_line(sim: &Sim, env: &str, context: &str, journal: &Path, extra: &str) -> String {
    format!(
        "{env} {BIN} --kubeconfig {} --context {context} --journal {} {extra}; echo EXITED=$?; sleep 120",
        sim.kubeconfig_path().display(),
        journal.display(),
    )
}

/// The pid of the cockpit process (not the shell around it) whose arguments include `marker`.
pub fn cockpit_pid(marker: &str) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            let Ok(raw) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
                return false;
            };
            let mut args = raw.split(|b| *b == 0).map(String::from_utf8_lossy);
            args.next().is_some_and(|a| a == BIN) && args.any(|a| a == marker)
        })
}

/// Starts a cockpit and waits until it shows the mesh and its mode.
pub fn open_cockpit(line: &str) -> Tmux {
    let term = Tmux::start(WIDTH, HEIGHT, line);
    let (ok, screen) = term.wait_for(LONG, |s| {
        s.contains("staging-web")
            && s.contains("1-25-0")
            && (status_bar(s).contains("DRIVER") || status_bar(s).contains("READ-ONLY"))
    });
    assert!(
        ok,
        "the cockpit never showed the mesh and its mode:\n{screen}"
    );
    term
}

/// Starts a cockpit as `sim-admin`, journalling to `journal`, and checks that it drives.
pub fn open_driver(sim: &Sim, journal: &Path) -> Tmux {
    let term = open_cockpit(&cockpit_line(sim, "", "sim-admin", journal, ""));
    let screen = term.screen();
    assert!(status_bar(&screen).contains("DRIVER"), "{screen}");
    term
}

/// The last non-empty line of the screen: the status bar.
pub fn status_bar(screen: &str) -> &str {
    screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
}

/// Waits until the status bar passes `check`; whether it did, and the last screen.
pub fn wait_status(term: &Tmux, timeout: Duration, check: impl Fn(&str) -> bool) -> (bool, String) {
    term.wait_for(timeout, |s| check(status_bar(s)))
}

/// Waits until the status bar shows `notice` and returns the screen; fails with `failure`
/// and the screen otherwise.
pub fn wait_notice(term: &Tmux, notice: &str, failure: &str) -> String {
    let (ok, screen) = wait_status(term, SHORT, |s| s.contains(notice));
    assert!(ok, "{failure}:\n{screen}");
    screen
}

/// The first line of the screen: the phase bar, with the namespaces moving right now.
pub fn phase_bar(screen: &str) -> &str {
    screen.lines().next().unwrap_or("")
}

/// Filters the namespaces with `/name Enter`, which selects the first match, and waits until
/// the pods pane lists that namespace.
pub fn select_namespace(term: &Tmux, name: &str) {
    term.keys(&["/"]);
    let chars: Vec<String> = name.chars().map(String::from).collect();
    let chars: Vec<&str> = chars.iter().map(String::as_str).collect();
    term.keys(&chars);
    term.keys(&["Enter"]);
    let title = format!("Pods {name} ·");
    let (ok, screen) = term.wait_for(SHORT, |s| s.contains(&title));
    assert!(ok, "{name} was not selected (no `{title}`):\n{screen}");
}

/// Presses `key` and waits for a dialog whose title is `title`.
pub fn open_dialog(term: &Tmux, key: &str, title: &str) -> String {
    term.keys(&[key]);
    let (ok, screen) = term.wait_for(SHORT, |s| s.contains(title));
    assert!(ok, "`{key}` did not open `{title}`:\n{screen}");
    screen
}

/// Tabs to the control planes pane and waits until it has the focus (a heavy border).
pub fn focus_control_planes(term: &Tmux) {
    term.keys(&["Tab", "Tab", "Tab"]);
    let (ok, screen) = term.wait_for(SHORT, |s| {
        s.lines()
            .any(|l| l.starts_with('┏') && l.contains("Control planes"))
    });
    assert!(ok, "three Tabs did not focus the control planes:\n{screen}");
}

/// The screen line of a namespace's row in the Namespaces pane.
pub fn namespace_row<'a>(screen: &'a str, name: &str) -> Option<&'a str> {
    let (focused, plain) = (format!("┃{name} "), format!("│{name} "));
    screen
        .lines()
        .find(|l| l.contains(&focused) || l.contains(&plain))
}

/// The metrics pane's traffic row of `ns` on `rev`: rows after the `REQ/S` header, where a
/// namespace's further revisions leave the name column empty.
pub fn traffic_row(screen: &str, ns: &str, rev: &str) -> Option<String> {
    let mut lines = screen.lines().skip_while(|l| !l.contains("REQ/S"));
    lines.next()?;
    let mut current = String::new();
    for line in lines {
        let Some(cells) = line.strip_prefix('│') else {
            break;
        };
        let name: String = cells.chars().take(22).collect();
        if !name.trim().is_empty() {
            current = name.trim().to_string();
        }
        let revision: String = cells.chars().skip(23).take(10).collect();
        if current == ns && revision.trim() == rev {
            return Some(line.to_string());
        }
    }
    None
}
