//! The real binary in a real terminal: a tmux session on a private socket, keys sent with
//! send-keys, the screen read back with capture-pane.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

impl Tmux {
    /// Starts `command` (a shell command line) in a detached session of the given size.
    pub fn start(width: u16, height: u16, command: &str) -> Tmux {
        let socket = format!(
            "cockpit-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let status = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "t",
            ])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .arg(command)
            .env("TERM", "xterm-256color")
            .status()
            .expect("tmux must be installed (apt-get install -y tmux)");
        assert!(status.success(), "tmux new-session failed");
        Tmux { socket }
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "t"])
    }

    /// Asserts the program left the alternate screen and showed the cursor again; `who` says
    /// which exit is checked.
    pub fn assert_screen_given_back(&self, who: &str) {
        assert_eq!(
            self.format("#{alternate_on}"),
            "0",
            "{who}: the alternate screen is still on"
        );
        assert_eq!(self.format("#{cursor_flag}"), "1", "{who}: cursor hidden");
    }

    /// The screen with its colours and attributes as escape sequences.
    pub fn styled_screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-e", "-t", "t"])
    }

    /// Sends keys as tmux names them (`q`, `Tab`, `Enter`, `Escape`, `BTab`, ...).
    pub fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.tmux(&["send-keys", "-t", "t", key]);
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    /// Sets a server-wide option (`set-clipboard on`).
    pub fn set_global(&self, option: &str, value: &str) {
        self.tmux(&["set-option", "-g", option, value]);
    }

    /// The newest paste buffer: what an OSC 52 copy put there, with `set-clipboard on`.
    pub fn buffer(&self) -> String {
        self.tmux(&["show-buffer"])
    }

    pub fn format(&self, what: &str) -> String {
        self.tmux(&["display-message", "-p", "-t", "t", what])
            .trim()
            .to_string()
    }

    /// Waits until the screen satisfies `check`; returns the last screen either way.
    pub fn wait_for(&self, timeout: Duration, check: impl Fn(&str) -> bool) -> (bool, String) {
        let end = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if check(&screen) {
                return (true, screen);
            }
            if Instant::now() > end {
                return (false, screen);
            }
            std::thread::sleep(Duration::from_millis(150));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}
