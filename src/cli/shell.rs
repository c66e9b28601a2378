//! What the shell and `man` get from the command line's own definition: completion scripts,
//! a roff man page, and the name the program is run under (`kubectl istio-cockpit` when
//! kubectl runs it as a plugin).

use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::Cli;

/// The name the program is installed under, and the one completions are written for.
pub const BIN_NAME: &str = "istio-cockpit";

/// What kubectl runs for `kubectl istio-cockpit`: it looks up `kubectl-` then the command's
/// words joined by `-`, with each `-` inside a word written `_`.
pub const KUBECTL_PLUGIN: &str = "kubectl-istio_cockpit";

pub const COMPLETIONS_ABOUT: &str =
    "Print a shell completion script: bash, zsh, fish, elvish or powershell";
pub const COMPLETIONS_LONG_ABOUT: &str = "Print a shell completion script for the commands and \
    flags, e.g. `istio-cockpit completions bash > ~/.local/share/bash-completion/completions/istio-cockpit`, \
    `istio-cockpit completions zsh > \"${fpath[1]}/_istio-cockpit\"` or \
    `istio-cockpit completions fish > ~/.config/fish/completions/istio-cockpit.fish`.";
pub const MAN_ABOUT: &str = "Print the man page (roff)";
pub const MAN_LONG_ABOUT: &str = "Print the man page (roff), made from the same definitions as \
    --help, e.g. `istio-cockpit man > ~/.local/share/man/man1/istio-cockpit.1`.";

#[derive(Args, Debug, Clone)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// How usage lines name the program when kubectl runs it as a plugin (`kubectl
/// istio-cockpit`, not `kubectl-istio_cockpit`); None otherwise, and clap names it as it was
/// run.
pub fn bin_name(argv0: Option<&OsStr>) -> Option<String> {
    let name = Path::new(argv0?).file_name()?.to_str()?;
    let plugin = name.strip_prefix("kubectl-")?;
    Some(format!("kubectl {}", plugin.replace('_', "-")))
}

/// The completion script for a shell.
pub fn completions(args: &CompletionsArgs) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), BIN_NAME, &mut script);
    script
}

/// The man page, in roff.
pub fn man_page() -> Vec<u8> {
    let mut page = Vec::new();
    // Writing into memory cannot fail.
    let _ = clap_mangen::Man::new(Cli::command()).render(&mut page);
    page
}

/// Writes `text` to stdout; a reader that stops early (`| head`) is no error.
pub fn print(text: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_plugin_names_read_as_kubectl_commands() {
        let name = |s: &str| bin_name(Some(OsStr::new(s)));
        assert_eq!(
            name(&format!("/home/me/bin/{KUBECTL_PLUGIN}")).as_deref(),
            Some("kubectl istio-cockpit")
        );
        assert_eq!(name("istio-cockpit"), None);
        assert_eq!(name("./target/debug/istio-cockpit"), None);
        assert_eq!(bin_name(None), None);
    }
}
