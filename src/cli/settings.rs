//! The settings in force: a flag when given, else the config file's value, else the default
//! (the theme for the terminal, the journal under `$XDG_STATE_HOME`, the keys file under
//! `$XDG_CONFIG_HOME`). A value the config file set and that does not load says where it
//! was set.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::ViewArgs;
use super::config::{self, Config, Setting};
use super::error::CliError;
use crate::app::keymap::{self, Keymap, KeymapError};
use crate::cluster::prometheus_source::{PrometheusAuth, PrometheusTarget};
use crate::ui::theme::{Palette, Theme};

/// The config file the flags name: `--config PATH` (which must exist), none with
/// `--no-config`, else the default place (where no file is no config).
pub fn config(view: &ViewArgs) -> Result<Config, CliError> {
    if view.no_config {
        return Ok(Config::default());
    }
    let loaded = match &view.config {
        Some(path) => Config::load(path, true),
        None => match config::default_path(|k| std::env::var_os(k), config::FILE_NAME) {
            Some(path) => Config::load(&path, false),
            None => Ok(Config::default()),
        },
    };
    loaded.map_err(CliError::Config)
}

pub fn theme(view: &ViewArgs, config: &Config) -> Result<Theme, CliError> {
    let palette = Palette::detect(|k| std::env::var(k).ok());
    match (&view.theme, &config.theme) {
        (Some(name), _) => Theme::load(name, palette).map_err(CliError::Theme),
        (None, Some(Setting { value, set_at })) => {
            Theme::load(value, palette).map_err(|error| CliError::ConfigTheme {
                error,
                set_at: set_at.clone(),
            })
        }
        (None, None) => Ok(Theme::default_for(palette)),
    }
}

pub fn journal_file(view: &ViewArgs, config: &Config) -> Option<PathBuf> {
    view.journal
        .clone()
        .or_else(|| config.journal.clone())
        .or_else(|| {
            let base = std::env::var_os("XDG_STATE_HOME")
                .map(PathBuf::from)
                .or_else(|| {
                    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state"))
                })?;
            Some(base.join("istio-cockpit").join("journal.jsonl"))
        })
}

/// The keys in force: the defaults, with the keys file over them when there is one:
/// `--keys`, else the config file's `keymap`, else the default place. A file named by the
/// flag or the config must exist; the one in the default place need not.
pub fn keys(view: &ViewArgs, config: &Config) -> Result<Arc<Keymap>, CliError> {
    if let Some(path) = &view.keys {
        return match read_keys(path) {
            Ok(Some(keys)) => Ok(keys),
            Ok(None) => Err(CliError::Keys(unreadable(path, "no such file"))),
            Err(error) => Err(CliError::Keys(error)),
        };
    }
    if let Some(Setting { value, set_at }) = &config.keymap {
        let named = |error| CliError::ConfigKeys {
            error,
            set_at: set_at.clone(),
        };
        return match read_keys(value) {
            Ok(Some(keys)) => Ok(keys),
            Ok(None) => Err(named(unreadable(value, "no such file"))),
            Err(error) => Err(named(error)),
        };
    }
    let Some(path) = config::default_path(|k| std::env::var_os(k), keymap::FILE_NAME) else {
        return Ok(Keymap::shared_default());
    };
    read_keys(&path)
        .map(|keys| keys.unwrap_or_else(Keymap::shared_default))
        .map_err(CliError::Keys)
}

/// The keys a file sets, None when there is no such file.
fn read_keys(path: &std::path::Path) -> Result<Option<Arc<Keymap>>, KeymapError> {
    let shown = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => Keymap::parse(&text, &shown).map(|k| Some(Arc::new(k))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(unreadable(path, &e.to_string())),
    }
}

fn unreadable(path: &std::path::Path, why: &str) -> KeymapError {
    KeymapError {
        file: path.display().to_string(),
        line: 0,
        field: String::new(),
        message: format!("cannot read it: {why}"),
    }
}

/// The Prometheus the config file gives a context, if any: asked without credentials, as a
/// plan's `[[clusters]]` URL is.
pub fn prometheus_for(
    by_context: &BTreeMap<String, reqwest::Url>,
    context: &str,
) -> Option<PrometheusTarget> {
    by_context.get(context).map(|url| PrometheusTarget::Url {
        url: url.clone(),
        auth: PrometheusAuth::None,
    })
}
