//! What Tab may complete a command line to: a command's name, then the namespace or cluster
//! it takes. Pure: the names come from the caller.

use super::parse::{COMMANDS, Takes, takes};

/// The names completion offers after a command: the cluster's namespaces, the fleet's
/// clusters (empty on one cluster).
#[derive(Debug, Clone, Copy)]
pub struct Names<'a> {
    pub namespaces: &'a [&'a str],
    pub clusters: &'a [&'a str],
}

/// Every whole line `line` may complete to, in order. A command that takes a name completes
/// with a space after it, ready for the name. Names match from their start; when none does,
/// anywhere in them.
pub fn candidates(line: &str, names: Names<'_>) -> Vec<String> {
    let line = line.trim_start();
    let Some((command, argument)) = line.split_once(char::is_whitespace) else {
        return COMMANDS
            .iter()
            .filter(|(name, _)| name.starts_with(line))
            .map(|(name, takes)| match takes {
                Takes::Nothing => name.to_string(),
                _ => format!("{name} "),
            })
            .collect();
    };
    let argument = argument.trim_start();
    if argument.contains(char::is_whitespace) {
        return Vec::new();
    }
    let offered: &[&str] = match takes(command) {
        Some(Takes::Namespace) => names.namespaces,
        Some(Takes::Cluster) => names.clusters,
        Some(Takes::Nothing) | None => &[],
    };
    let mut found: Vec<&str> = offered
        .iter()
        .copied()
        .filter(|n| n.starts_with(argument))
        .collect();
    if found.is_empty() {
        found = offered
            .iter()
            .copied()
            .filter(|n| n.contains(argument))
            .collect();
    }
    found
        .into_iter()
        .map(|n| format!("{command} {n}"))
        .collect()
}

/// How a candidate shows in the list: its last word.
pub fn shown(candidate: &str) -> &str {
    let trimmed = candidate.trim_end();
    trimmed.rsplit_once(' ').map_or(trimmed, |(_, last)| last)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMESPACES: &[&str] = &["checkout", "payments", "payments-eu", "search"];
    const CLUSTERS: &[&str] = &["east", "west"];

    fn names() -> Names<'static> {
        Names {
            namespaces: NAMESPACES,
            clusters: CLUSTERS,
        }
    }

    #[test]
    fn a_command_name_completes_with_a_space_when_it_takes_a_name() {
        assert_eq!(candidates("n", names()), ["ns "]);
        assert_eq!(candidates("me", names()), ["metrics"]);
        assert_eq!(
            candidates("c", names()),
            ["ctx ", "cluster ", "checks", "cockpit-log"]
        );
        assert_eq!(candidates("q", names()), ["q", "quit", "q!"]);
        assert_eq!(candidates("", names()).len(), COMMANDS.len());
        assert!(candidates("zz", names()).is_empty());
    }

    #[test]
    fn a_namespace_or_cluster_completes_from_the_names_given() {
        assert_eq!(
            candidates("ns pay", names()),
            ["ns payments", "ns payments-eu"]
        );
        assert_eq!(candidates("ns ", names()).len(), NAMESPACES.len());
        assert_eq!(candidates("pods sea", names()), ["pods search"]);
        assert_eq!(candidates("ctx w", names()), ["ctx west"]);
        assert_eq!(
            candidates("cluster ", names()),
            ["cluster east", "cluster west"]
        );
        // Nothing starts with it: anywhere in the name.
        assert_eq!(candidates("ns out", names()), ["ns checkout"]);
    }

    #[test]
    fn nothing_completes_where_nothing_is_taken() {
        assert!(candidates("metrics x", names()).is_empty());
        assert!(candidates("deploy x", names()).is_empty());
        assert!(candidates("ns a b", names()).is_empty());
        let one_cluster = Names {
            namespaces: NAMESPACES,
            clusters: &[],
        };
        assert!(candidates("ctx ", one_cluster).is_empty());
    }

    #[test]
    fn the_list_shows_each_candidate_by_its_last_word() {
        assert_eq!(shown("ns payments"), "payments");
        assert_eq!(shown("ns "), "ns");
        assert_eq!(shown("metrics"), "metrics");
    }
}
