//! What a `:` command line says, read without looking at the state: which command, and its
//! argument. Whether the namespace or cluster it names exists is for `run` to find out.

/// What a command takes after its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takes {
    Nothing,
    /// A namespace of the cluster on screen; may be left out.
    Namespace,
    /// A cluster of the fleet; may be left out.
    Cluster,
}

/// A bottom view or overlay a command shows, as its key would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Logs,
    Journal,
    Metrics,
    Checks,
    CockpitLog,
    Help,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `:ns payments` selects it; `:ns` alone clears the namespaces filter.
    Namespace(Option<String>),
    /// `:ctx east` / `:cluster east` shows that cluster of the fleet.
    Cluster(Option<String>),
    /// `:pods` shows the pods of the selected namespace, or of the one named.
    Pods(Option<String>),
    Show(View),
    /// `:plan` says where the plan stands, or how to load one.
    Plan,
    /// `:q`, `:quit`, `:q!`.
    Quit,
}

/// Every command name, in the order completion offers them.
pub const COMMANDS: &[(&str, Takes)] = &[
    ("ns", Takes::Namespace),
    ("ctx", Takes::Cluster),
    ("cluster", Takes::Cluster),
    ("pods", Takes::Namespace),
    ("logs", Takes::Nothing),
    ("journal", Takes::Nothing),
    ("metrics", Takes::Nothing),
    ("checks", Takes::Nothing),
    ("cockpit-log", Takes::Nothing),
    ("plan", Takes::Nothing),
    ("help", Takes::Nothing),
    ("q", Takes::Nothing),
    ("quit", Takes::Nothing),
    ("q!", Takes::Nothing),
];

/// What the command line cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("unknown command :{0} (Tab lists the commands)")]
    Unknown(String),
    #[error(":{command} takes no argument, not `{argument}`")]
    NoArgument { command: String, argument: String },
    #[error(":{command} takes one name, not `{arguments}`")]
    TooMany { command: String, arguments: String },
}

/// What `name` takes, if it is a command.
pub fn takes(name: &str) -> Option<Takes> {
    COMMANDS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Reads a command line (without its `:`). None for a blank line: nothing to run.
pub fn parse(line: &str) -> Result<Option<Command>, ParseError> {
    let mut words = line.split_whitespace();
    let Some(name) = words.next() else {
        return Ok(None);
    };
    let argument = words.next().map(str::to_string);
    let more = words.next().is_some();
    let takes = takes(name).ok_or_else(|| ParseError::Unknown(name.to_string()))?;
    let arguments = || {
        line.split_whitespace()
            .skip(1)
            .collect::<Vec<_>>()
            .join(" ")
    };
    if argument.is_some() && takes == Takes::Nothing {
        return Err(ParseError::NoArgument {
            command: name.to_string(),
            argument: arguments(),
        });
    }
    if more {
        return Err(ParseError::TooMany {
            command: name.to_string(),
            arguments: arguments(),
        });
    }
    Ok(Some(match name {
        "ns" => Command::Namespace(argument),
        "ctx" | "cluster" => Command::Cluster(argument),
        "pods" => Command::Pods(argument),
        "logs" => Command::Show(View::Logs),
        "journal" => Command::Show(View::Journal),
        "metrics" => Command::Show(View::Metrics),
        "checks" => Command::Show(View::Checks),
        "cockpit-log" => Command::Show(View::CockpitLog),
        "help" => Command::Show(View::Help),
        "plan" => Command::Plan,
        _ => Command::Quit,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &str) -> Command {
        parse(line)
            .unwrap_or_else(|e| panic!("{line}: {e}"))
            .unwrap_or_else(|| panic!("{line}: nothing"))
    }

    #[test]
    fn every_command_reads_with_and_without_its_argument() {
        assert_eq!(
            ok("ns payments"),
            Command::Namespace(Some("payments".into()))
        );
        assert_eq!(ok("  ns  "), Command::Namespace(None));
        assert_eq!(ok("ctx east"), Command::Cluster(Some("east".into())));
        assert_eq!(ok("cluster east"), Command::Cluster(Some("east".into())));
        assert_eq!(ok("ctx"), Command::Cluster(None));
        assert_eq!(ok("pods"), Command::Pods(None));
        assert_eq!(ok("pods search"), Command::Pods(Some("search".into())));
        assert_eq!(ok("logs"), Command::Show(View::Logs));
        assert_eq!(ok("journal"), Command::Show(View::Journal));
        assert_eq!(ok("metrics"), Command::Show(View::Metrics));
        assert_eq!(ok("checks"), Command::Show(View::Checks));
        assert_eq!(ok("cockpit-log"), Command::Show(View::CockpitLog));
        assert_eq!(ok("help"), Command::Show(View::Help));
        assert_eq!(ok("plan"), Command::Plan);
        for quit in ["q", "quit", "q!"] {
            assert_eq!(ok(quit), Command::Quit);
        }
    }

    #[test]
    fn a_blank_line_is_nothing_to_run() {
        assert_eq!(parse(""), Ok(None));
        assert_eq!(parse("   "), Ok(None));
    }

    #[test]
    fn mistakes_say_what_is_wrong_in_one_line() {
        assert_eq!(
            parse("deploy x").map_err(|e| e.to_string()),
            Err("unknown command :deploy (Tab lists the commands)".into())
        );
        assert_eq!(
            parse("metrics now").map_err(|e| e.to_string()),
            Err(":metrics takes no argument, not `now`".into())
        );
        assert_eq!(
            parse("ns a b").map_err(|e| e.to_string()),
            Err(":ns takes one name, not `a b`".into())
        );
        // Command names are exact: no prefix matching behind the user's back.
        assert!(matches!(parse("met"), Err(ParseError::Unknown(_))));
        assert!(matches!(parse("NS x"), Err(ParseError::Unknown(_))));
    }

    #[test]
    fn every_listed_command_parses() {
        for (name, _) in COMMANDS {
            assert!(matches!(parse(name), Ok(Some(_))), "{name}");
        }
    }
}
