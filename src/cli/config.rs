//! The config file: defaults for the cockpit's flags, read from
//! `$XDG_CONFIG_HOME/istio-cockpit/config.toml` (else `~/.config/istio-cockpit/config.toml`)
//! or from `--config PATH`. A flag given on the command line wins over the file.
//!
//! ```toml
//! theme = "light"                 # a built-in name or a theme file
//! journal = "/var/log/cockpit.jsonl"
//! keymap = "keys.toml"            # a keys file, as keys.toml is written
//!
//! [prometheus]                    # one Prometheus per kubeconfig context
//! prod-eu = "http://prometheus.prod-eu.example:9090"
//! "arn:aws:eks:eu-west-1:1:cluster/main" = "https://prom.example/main"
//! ```
//!
//! A relative path in the file is read from the file's folder, and `~/` is the home folder. A missing default file is no
//! file; a bad one stops the cockpit before it takes the terminal, with the file, the line and
//! the field to fix.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::toml_file::{self, FileError, Mistake, Step};

/// The file's name in the cockpit's configuration folder.
pub const FILE_NAME: &str = "config.toml";

/// What is wrong with the config file, and where (`prometheus.prod-eu` names a setting).
pub type ConfigError = crate::toml_file::SettingError;

/// A value of the file with where it was set, so a mistake found later (a theme that does
/// not load) can point back at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting<T> {
    pub value: T,
    /// `path:line` of the setting in the config file.
    pub set_at: String,
}

/// The defaults the file gives; every field is None (or empty) when it says nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// A built-in theme's name or a theme file (relative paths already made absolute).
    pub theme: Option<Setting<String>>,
    pub journal: Option<PathBuf>,
    pub keymap: Option<Setting<PathBuf>>,
    /// The Prometheus of each kubeconfig context.
    pub prometheus: BTreeMap<String, reqwest::Url>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    theme: Option<Spanned<String>>,
    journal: Option<Spanned<String>>,
    keymap: Option<Spanned<String>>,
    #[serde(default)]
    prometheus: BTreeMap<String, Spanned<String>>,
}

/// Where the file is looked for without `--config`: `$XDG_CONFIG_HOME/istio-cockpit/`, else
/// `~/.config/istio-cockpit/`, with `name` the file's name there. None without either
/// variable.
pub fn default_path(env: impl Fn(&str) -> Option<OsString>, name: &str) -> Option<PathBuf> {
    let base = env("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        // The XDG rule: a relative (or empty) path is ignored.
        .filter(|p| p.is_absolute())
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("istio-cockpit").join(name))
}

impl Config {
    /// Reads `path`. A missing file is an empty config when `required` is false (the default
    /// place), and an error when the user named it.
    pub fn load(path: &Path, required: bool) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                Ok(Config::default())
            }
            Err(e) => Err(ConfigError {
                file: shown,
                line: 0,
                field: String::new(),
                message: format!("cannot read it: {e}"),
            }),
        }
    }

    /// Reads a config file's text; `path` names it in errors and anchors relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        Config::parse_with_home(text, path, home.as_deref())
    }

    fn parse_with_home(
        text: &str,
        path: &Path,
        home: Option<&Path>,
    ) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let at = |line: usize, field: &str, message: String| ConfigError {
            file: file.clone(),
            line,
            field: field.to_owned(),
            message,
        };
        let raw: ConfigFile =
            toml_file::read(text).map_err(|e| at(e.line(text), &field(&e.path), read_error(&e)))?;
        let folder = path.parent().unwrap_or(Path::new(""));
        let resolve = |written: &str| resolve(folder, home, written);
        let set_at = |span: std::ops::Range<usize>| {
            format!("{file}:{}", toml_file::line_of(text, span.start))
        };
        let mut config = Config::default();
        if let Some(theme) = raw.theme {
            let name = theme.get_ref();
            // A built-in name stays a name; a path is read from the file's folder.
            let value = if name.contains('/') || name.ends_with(".toml") {
                resolve(name).display().to_string()
            } else {
                name.clone()
            };
            config.theme = Some(Setting {
                value,
                set_at: set_at(theme.span()),
            });
        }
        if let Some(journal) = raw.journal {
            config.journal = Some(resolve(journal.get_ref()));
        }
        if let Some(keymap) = raw.keymap {
            config.keymap = Some(Setting {
                value: resolve(keymap.get_ref()),
                set_at: set_at(keymap.span()),
            });
        }
        // In the file's order, so the first mistake in the file is the one reported.
        let mut urls: Vec<_> = raw.prometheus.into_iter().collect();
        urls.sort_by_key(|(_, url)| url.span().start);
        for (context, url) in urls {
            let line = toml_file::line_of(text, url.span().start);
            let parsed = crate::metrics::prometheus_url::parse(url.get_ref()).map_err(|e| {
                at(
                    line,
                    &format!("prometheus.{}", key_as_written(&context)),
                    format!("{:?}: {e}", url.get_ref()),
                )
            })?;
            config.prometheus.insert(context, parsed);
        }
        Ok(config)
    }
}

/// A path as the file writes it: `~/` is the home folder, a relative path is in the file's
/// folder.
fn resolve(folder: &Path, home: Option<&Path>, written: &str) -> PathBuf {
    match (written.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => folder.join(written),
    }
}

/// A mistake serde or toml found, in the words the plan's and the keys' errors use.
fn read_error(e: &FileError) -> String {
    let top = e.path.len() == 1;
    match &e.mistake {
        Mistake::Syntax(message) => format!("not valid TOML: {}", message.trim()),
        Mistake::Unexpected { found, .. }
            if top && e.path.first() == Some(&Step::Key("prometheus".to_owned())) =>
        {
            format!(
                "expected a table of contexts and URLs, like [prometheus] then \
                 prod-eu = \"http://prometheus:9090\", got {found}"
            )
        }
        Mistake::Unexpected { found, expected } => format!("expected {expected}, got {found}"),
        Mistake::UnknownKey { expected, .. } => {
            let keys: Vec<String> = expected
                .iter()
                .map(|k| match k.as_str() {
                    "prometheus" if top => "[prometheus]".to_owned(),
                    _ => k.clone(),
                })
                .collect();
            format!("unknown field; expected one of {}", keys.join(", "))
        }
        Mistake::Other(message) => message.clone(),
    }
}

/// `prometheus.prod-eu`, or `prometheus."arn:..."` for a key TOML must quote.
fn field(path: &[Step]) -> String {
    let keys: Vec<String> = path
        .iter()
        .map(|step| match step {
            Step::Key(key) => key_as_written(key),
            Step::Index(i) => i.to_string(),
        })
        .collect();
    keys.join(".")
}

fn key_as_written(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/cfg/istio-cockpit/config.toml"))
    }

    #[test]
    fn every_setting_is_read_and_paths_are_read_from_the_files_folder() {
        let config = parse(
            "theme = \"light\"\njournal = \"j/journal.jsonl\"\nkeymap = \"/etc/keys.toml\"\n\n\
             [prometheus]\nprod-eu = \"http://prom.eu:9090\"\n\"arn:x/y\" = \"https://p/main\"\n",
        )
        .unwrap();
        assert_eq!(
            config.theme,
            Some(Setting {
                value: "light".into(),
                set_at: "/cfg/istio-cockpit/config.toml:1".into()
            })
        );
        assert_eq!(
            config.journal,
            Some(PathBuf::from("/cfg/istio-cockpit/j/journal.jsonl"))
        );
        let keymap = config.keymap.unwrap();
        assert_eq!(keymap.value, PathBuf::from("/etc/keys.toml"));
        assert_eq!(keymap.set_at, "/cfg/istio-cockpit/config.toml:3");
        assert_eq!(
            config.prometheus["prod-eu"].as_str(),
            "http://prom.eu:9090/"
        );
        assert_eq!(config.prometheus["arn:x/y"].as_str(), "https://p/main");
        // A theme file is a path; a name stays a name.
        let config = parse("theme = \"mine.toml\"\n").unwrap();
        assert_eq!(config.theme.unwrap().value, "/cfg/istio-cockpit/mine.toml");
        assert_eq!(parse("").unwrap(), Config::default());
        let config = Config::parse_with_home(
            "journal = \"~/j.jsonl\"\ntheme = \"~/t.toml\"\n",
            Path::new("/cfg/config.toml"),
            Some(Path::new("/home/me")),
        )
        .unwrap();
        assert_eq!(config.journal, Some(PathBuf::from("/home/me/j.jsonl")));
        assert_eq!(config.theme.unwrap().value, "/home/me/t.toml");
    }

    #[test]
    fn mistakes_name_the_line_and_the_field() {
        let shown = |text: &str| parse(text).unwrap_err().to_string();
        assert_eq!(
            shown("theme = \"mono\"\nthemes = \"light\"\n"),
            "/cfg/istio-cockpit/config.toml:2: field `themes`: unknown field; expected one of \
             theme, journal, keymap, [prometheus]"
        );
        assert_eq!(
            shown("\ntheme = 3\n"),
            "/cfg/istio-cockpit/config.toml:2: field `theme`: expected a string, got integer `3`"
        );
        assert_eq!(
            shown("[prometheus]\nprod = \"prom:9090\"\n"),
            "/cfg/istio-cockpit/config.toml:2: field `prometheus.prod`: \"prom:9090\": expected \
             an http:// or https:// URL with a host, like http://prometheus.monitoring:9090"
        );
        assert!(
            shown("[prometheus]\n\"a:b\" = 1\n")
                .starts_with("/cfg/istio-cockpit/config.toml:2: field `prometheus.\"a:b\"`: "),
            "{}",
            shown("[prometheus]\n\"a:b\" = 1\n")
        );
        assert!(
            shown("prometheus = \"http://p:9090\"\n").contains(
                ":1: field `prometheus`: expected a table of contexts and URLs, like [prometheus]"
            ),
            "{}",
            shown("prometheus = \"http://p:9090\"\n")
        );
        let syntax = shown("theme = \"mono\"\ntheme = \"light\"\n");
        assert!(
            syntax.starts_with("/cfg/istio-cockpit/config.toml:2: not valid TOML: duplicate key"),
            "{syntax}"
        );
    }

    #[test]
    fn the_file_is_looked_for_under_xdg_config_home_then_home() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(name, _)| *name == k)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        assert_eq!(
            default_path(env(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")]), FILE_NAME),
            Some(PathBuf::from("/x/istio-cockpit/config.toml"))
        );
        assert_eq!(
            default_path(
                env(&[("XDG_CONFIG_HOME", "rel"), ("HOME", "/h")]),
                FILE_NAME
            ),
            Some(PathBuf::from("/h/.config/istio-cockpit/config.toml"))
        );
        assert_eq!(default_path(env(&[]), FILE_NAME), None);
    }

    #[test]
    fn a_missing_file_is_no_config_unless_it_was_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        assert_eq!(Config::load(&path, false), Ok(Config::default()));
        let err = Config::load(&path, true).unwrap_err();
        assert_eq!(err.file, path.display().to_string());
        assert!(err.message.starts_with("cannot read it: "), "{err}");
    }
}
