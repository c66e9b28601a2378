//! Shell and config habits, with the real binary: completion scripts, the man page,
//! `--version` with the git revision, running as a kubectl plugin, and the config file of
//! defaults (what it sets, flags over it, and a bad file's error).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::common;
use crate::common::cockpit_term::{LONG, cockpit_line, open_cockpit};

const BIN: &str = env!("CARGO_BIN_EXE_istio-cockpit");

/// Runs the binary with `args` and no config file or keys file of the machine's user.
fn run(args: &[&str], config_home: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .env("XDG_CONFIG_HOME", config_home)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Writes `text` as `istio-cockpit/config.toml` under `config_home`.
fn config_file(config_home: &Path, text: &str) -> PathBuf {
    let dir = config_home.join("istio-cockpit");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A failure before the terminal is taken: status 1, one `error:` line, nothing on stdout.
fn one_error(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
    assert!(out.stdout.is_empty(), "{}", stdout(out));
    let err = stderr(out);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
    err.trim_end().to_owned()
}

#[test]
fn completions_for_each_shell_name_the_commands() {
    let home = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = run(&["completions", shell], home.path());
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        // Fish writes flags without their dashes (`-l read-only`).
        for word in [
            "istio-cockpit",
            "demo",
            "precheck",
            "sim",
            "read-only",
            "no-config",
        ] {
            assert!(script.contains(word), "{shell}: no {word:?} in\n{script}");
        }
    }
    let bash = stdout(&run(&["completions", "bash"], home.path()));
    assert!(bash.contains("complete -F"), "{bash}");
    let out = run(&["completions", "tcsh"], home.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("[possible values: bash"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn man_prints_a_roff_page() {
    let home = tempfile::tempdir().unwrap();
    let out = run(&["man"], home.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let page = stdout(&out);
    assert!(page.contains(".TH istio-cockpit 1"), "{page}");
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS", ".SH SUBCOMMANDS"] {
        assert!(page.contains(section), "no {section} in\n{page}");
    }
    assert!(page.contains("istio\\-cockpit\\-demo"), "{page}");
    assert!(page.contains("\\-\\-read\\-only"), "{page}");
}

/// The short hash of this checkout's HEAD, or `unknown` when the source is not its own git
/// checkout (as the build says).
fn expected_revision() -> String {
    let dir = env!("CARGO_MANIFEST_DIR");
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let own = git(&["rev-parse", "--show-toplevel"]).is_some_and(|top| {
        Path::new(&top).canonicalize().ok() == Path::new(dir).canonicalize().ok()
    });
    own.then(|| git(&["rev-parse", "--short", "HEAD"]))
        .flatten()
        .unwrap_or_else(|| "unknown".to_owned())
}

#[test]
fn version_names_the_git_revision() {
    let home = tempfile::tempdir().unwrap();
    let out = run(&["--version"], home.path());
    assert!(out.status.success());
    let expected = format!(
        "istio-cockpit {} ({})\n",
        env!("CARGO_PKG_VERSION"),
        expected_revision()
    );
    assert_eq!(stdout(&out), expected);
}

#[test]
fn kubectl_runs_it_as_a_plugin() {
    let home = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(BIN, bin.path().join("kubectl-istio_cockpit")).unwrap();
    let path = std::env::join_paths(std::iter::once(bin.path().to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let kubectl = |args: &[&str]| {
        Command::new("kubectl")
            .args(args)
            .env("PATH", &path)
            .env("XDG_CONFIG_HOME", home.path())
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = kubectl(&["istio-cockpit", "--version"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!(
            "istio-cockpit {} ({})\n",
            env!("CARGO_PKG_VERSION"),
            expected_revision()
        )
    );
    // Usage lines name the command as it was typed, subcommands too.
    let help = stdout(&kubectl(&["istio-cockpit", "--help"]));
    assert!(
        help.contains("Usage: kubectl istio-cockpit [OPTIONS]"),
        "{help}"
    );
    let help = stdout(&kubectl(&["istio-cockpit", "demo", "--help"]));
    assert!(
        help.contains("Usage: kubectl istio-cockpit demo [OPTIONS]"),
        "{help}"
    );
    let bad = stderr(&kubectl(&["istio-cockpit", "--no-such-flag"]));
    assert!(bad.contains("Usage: kubectl istio-cockpit"), "{bad}");
    // Run under its own name, it names itself as before.
    let help = stdout(&run(&["--help"], home.path()));
    assert!(help.contains("Usage: istio-cockpit [OPTIONS]"), "{help}");
}

#[test]
fn the_config_files_theme_is_used_and_a_flag_overrides_it() {
    let home = tempfile::tempdir().unwrap();
    let config = config_file(home.path(), "# my defaults\ntheme = \"nope\"\n");
    // Checked before any cluster is asked: the kubeconfig need not exist.
    let missing = home.path().join("no-kubeconfig");
    let missing = missing.to_str().unwrap();
    for args in [vec!["--kubeconfig", missing], vec!["demo"]] {
        let err = one_error(&run(&args, home.path()));
        assert!(
            err.starts_with("error: bad theme: nope: no such theme")
                && err.ends_with(&format!("(set by `theme` in {}:2)", config.display())),
            "{args:?}: {err}"
        );
    }
    // The flag wins: the theme is fine, and the missing kubeconfig is what stops it.
    let err = one_error(&run(
        &["--kubeconfig", missing, "--theme", "mono"],
        home.path(),
    ));
    assert!(err.contains("cannot read the kubeconfig"), "{err}");
    // So does --no-config.
    let err = one_error(&run(&["--kubeconfig", missing, "--no-config"], home.path()));
    assert!(err.contains("cannot read the kubeconfig"), "{err}");

    // A theme file is read from the config file's folder.
    std::fs::write(
        config.with_file_name("mine.toml"),
        "[header]\nfg = \"blue\"\nwobble = 1\n",
    )
    .unwrap();
    std::fs::write(&config, "theme = \"mine.toml\"\n").unwrap();
    let err = one_error(&run(&["--kubeconfig", missing], home.path()));
    let theme_file = config.with_file_name("mine.toml");
    assert!(
        err.starts_with(&format!(
            "error: bad theme: {}:3: key `header.wobble`: unknown field \"wobble\"",
            theme_file.display()
        )) && err.ends_with(&format!("(set by `theme` in {}:1)", config.display())),
        "{err}"
    );
}

#[test]
fn the_config_files_keymap_is_read_and_keys_overrides_it() {
    let home = tempfile::tempdir().unwrap();
    let config = config_file(home.path(), "keymap = \"my-keys.toml\"\n");
    let keys = config.with_file_name("my-keys.toml");
    std::fs::write(&keys, "[keys]\nmigrate = \"n\"\n").unwrap();
    let missing = home.path().join("no-kubeconfig");
    let err = one_error(&run(
        &["--kubeconfig", missing.to_str().unwrap()],
        home.path(),
    ));
    assert!(
        err.starts_with(&format!(
            "error: bad keys: {}:2: field `keys.migrate`: \"n\" is already the key of nack_only",
            keys.display()
        )) && err.ends_with(&format!("(set by `keymap` in {}:1)", config.display())),
        "{err}"
    );
    // --keys wins over the config file's keymap.
    let flagged = home.path().join("flagged.toml");
    std::fs::write(&flagged, "\n[keys]\nhelp = \"n\"\n").unwrap();
    let err = one_error(&run(
        &[
            "--kubeconfig",
            missing.to_str().unwrap(),
            "--keys",
            flagged.to_str().unwrap(),
        ],
        home.path(),
    ));
    assert!(
        err.starts_with(&format!(
            "error: bad keys: {}:3: field `keys.help`",
            flagged.display()
        )) && !err.contains("set by"),
        "{err}"
    );
    // A keys file the config or the flag names must be there.
    let gone = home.path().join("gone.toml");
    let err = one_error(&run(
        &[
            "--kubeconfig",
            missing.to_str().unwrap(),
            "--keys",
            gone.to_str().unwrap(),
        ],
        home.path(),
    ));
    assert_eq!(
        err,
        format!(
            "error: bad keys: {}: cannot read it: no such file",
            gone.display()
        )
    );
    std::fs::remove_file(&keys).unwrap();
    let err = one_error(&run(
        &["--kubeconfig", missing.to_str().unwrap()],
        home.path(),
    ));
    assert_eq!(
        err,
        format!(
            "error: bad keys: {}: cannot read it: no such file (set by `keymap` in {}:1)",
            keys.display(),
            config.display()
        )
    );
}

#[test]
fn a_bad_config_file_names_its_path_line_and_key() {
    let home = tempfile::tempdir().unwrap();
    let config = config_file(
        home.path(),
        "theme = \"mono\"\n\njournl = \"/tmp/j.jsonl\"\n",
    );
    let missing = home.path().join("no-kubeconfig");
    let missing = missing.to_str().unwrap();
    for args in [vec!["--kubeconfig", missing], vec!["demo"]] {
        let err = one_error(&run(&args, home.path()));
        assert_eq!(
            err,
            format!(
                "error: bad config: {}:3: field `journl`: unknown field; expected one of theme, \
                 journal, keymap, [prometheus]",
                config.display()
            ),
            "{args:?}"
        );
    }
    // --config reads another file; a file it names must exist.
    let other = home.path().join("other.toml");
    std::fs::write(&other, "[prometheus]\nprod-eu = \"prometheus:9090\"\n").unwrap();
    let err = one_error(&run(
        &["--kubeconfig", missing, "--config", other.to_str().unwrap()],
        home.path(),
    ));
    assert!(
        err.starts_with(&format!(
            "error: bad config: {}:2: field `prometheus.prod-eu`: \"prometheus:9090\": expected \
             an http:// or https:// URL",
            other.display()
        )),
        "{err}"
    );
    let gone = home.path().join("gone.toml");
    let err = one_error(&run(
        &["--kubeconfig", missing, "--config", gone.to_str().unwrap()],
        home.path(),
    ));
    assert!(
        err.starts_with(&format!(
            "error: bad config: {}: cannot read it",
            gone.display()
        )),
        "{err}"
    );
    let out = run(&["--kubeconfig", missing, "--config"], home.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--config <FILE>"), "{}", stderr(&out));
}

#[test]
fn the_config_files_prometheus_for_the_context_is_asked() {
    let home = tempfile::tempdir().unwrap();
    // A port nothing listens on: the metrics pane names the Prometheus it asked.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/");
    config_file(
        home.path(),
        &format!("[prometheus]\nsomewhere-else = \"http://127.0.0.1:9/\"\nsim-admin = \"{url}\"\n"),
    );
    let sim = common::Sim::start(&[]);
    let line = cockpit_line(
        &sim,
        &format!("XDG_CONFIG_HOME={}", home.path().display()),
        "sim-admin",
        &home.path().join("journal.jsonl"),
        "--read-only",
    );
    let term = open_cockpit(&line);
    term.keys(&["P"]);
    let asked = format!("Prometheus at {url}");
    let (ok, screen) = term.wait_for(LONG, |s| s.contains(&asked));
    assert!(ok, "the metrics pane never named {asked}:\n{screen}");
    assert!(!screen.contains("127.0.0.1:9/"), "{screen}");
}
