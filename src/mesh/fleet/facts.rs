//! What each member must know of the fleet: whether a remote's waves may start (the primary
//! goes first), and what is wrong across the fleet, each problem naming its cluster.

use std::collections::BTreeMap;

use super::roles::{self, control_versions, role, runs_istiod, skewed};
use super::summary::eastwest;
use super::{FleetFacts, Member, Problem, ProblemKind, Role};
use crate::mesh::revisions::istiod_readiness;

/// Every member's facts, in member order.
pub fn facts(members: &[Member<'_>]) -> Vec<FleetFacts> {
    let primary = roles::primary(members);
    let primary_name = primary.and_then(|p| members.get(p)).map_or("", |m| m.name);
    let problems = problems(members, primary);
    members
        .iter()
        .enumerate()
        .map(|(i, member)| {
            let role = role(member);
            FleetFacts {
                cluster: member.name.to_string(),
                role,
                primary: primary_name.to_string(),
                primary_not_ready: match role {
                    Role::Remote => primary_not_ready(members, primary, member),
                    Role::Primary => None,
                },
                problems: problems.clone(),
                remotes_on_from: if Some(i) == primary {
                    remotes_on_from(members, member)
                } else {
                    Vec::new()
                },
            }
        })
        .collect()
}

/// Why a remote's waves must wait: the primary's new revision not serving with every istiod
/// pod ready, or the primary's first wave not finished. None when they may go.
fn primary_not_ready(
    members: &[Member<'_>],
    primary: Option<usize>,
    remote: &Member<'_>,
) -> Option<String> {
    let Some(primary) = primary.and_then(|p| members.get(p)) else {
        return Some("no cluster of the fleet runs istiod yet".into());
    };
    let name = primary.name;
    let Some((_, to)) = primary.upgrade.or(remote.upgrade) else {
        return Some(format!("{name} has no upgrade plan yet"));
    };
    let mut missing = Vec::new();
    let serving = primary
        .cluster
        .webhooks
        .values()
        .any(|hook| hook.tag.is_none() && hook.revision == to);
    if !serving {
        missing.push(format!("{name} has no injector for {to}"));
    }
    match istiod_readiness(primary.cluster, to) {
        (_, 0) => missing.push(format!("{name} runs no istiod-{to} pod")),
        (ready, total) if ready < total => missing.push(format!(
            "{name}'s istiod-{to} has {ready} of {total} pods ready"
        )),
        _ => {}
    }
    if !primary.first_wave_done {
        missing.push(format!("{name}'s first wave is not finished"));
    }
    (!missing.is_empty()).then(|| missing.join("; "))
}

/// The remotes with pods on the primary's `from`, and how many.
fn remotes_on_from(members: &[Member<'_>], primary: &Member<'_>) -> Vec<(String, usize)> {
    let Some((from, _)) = primary.upgrade else {
        return Vec::new();
    };
    members
        .iter()
        .filter(|m| role(m) == Role::Remote && !runs_istiod(m.cluster))
        .filter_map(|m| {
            let pods = *m.cluster.pod_tally.served.get(from)?;
            Some((m.name.to_string(), pods))
        })
        .collect()
}

fn problems(members: &[Member<'_>], primary: Option<usize>) -> Vec<Problem> {
    let mut problems = root_ca(members, primary);
    for member in members {
        problems.extend(east_west(member));
    }
    let serving = primary.and_then(|p| members.get(p));
    for member in members {
        problems.extend(skew(member, serving));
    }
    for member in members {
        problems.extend(remote_secrets(members, member));
    }
    problems
}

fn problem(kind: ProblemKind, cluster: &str, text: String) -> Problem {
    Problem {
        kind,
        cluster: cluster.to_string(),
        text,
    }
}

/// Every member's root CA must be the same: the fingerprint most members have is the fleet's
/// (on a tie, the primary's), and the others are named.
fn root_ca(members: &[Member<'_>], primary: Option<usize>) -> Vec<Problem> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for member in members {
        if let Some(print) = member.cluster.root_ca_fingerprint() {
            *counts.entry(print).or_default() += 1;
        }
    }
    let most = counts.values().copied().max().unwrap_or(0);
    let primary_print = primary
        .and_then(|p| members.get(p))
        .and_then(|m| m.cluster.root_ca_fingerprint())
        .filter(|print| counts.get(print) == Some(&most));
    let fleet = primary_print.or_else(|| {
        counts
            .iter()
            .find(|(_, n)| **n == most)
            .map(|(print, _)| *print)
    });
    let mut problems = Vec::new();
    for member in members {
        match (member.cluster.root_ca_fingerprint(), fleet) {
            (None, _) => problems.push(problem(
                ProblemKind::RootCaUnknown,
                member.name,
                format!(
                    "{}: root CA unknown (istio-ca-root-cert not seen in istio-system)",
                    member.name
                ),
            )),
            (Some(print), Some(fleet)) if print != fleet => problems.push(problem(
                ProblemKind::RootCaMismatch,
                member.name,
                format!(
                    "{}: root CA {print} differs from the fleet's {fleet}",
                    member.name
                ),
            )),
            _ => {}
        }
    }
    problems
}

fn east_west(member: &Member<'_>) -> Option<Problem> {
    let text = match eastwest(member.cluster) {
        None => format!("{}: no east-west gateway pods", member.name),
        Some(gw) if gw.ready == 0 || gw.ready < gw.total => format!(
            "{}: east-west gateway {} of {} pods ready",
            member.name, gw.ready, gw.total
        ),
        Some(_) => return None,
    };
    Some(problem(ProblemKind::EastWest, member.name, text))
}

/// Proxies against the control plane that serves them: their own cluster's istiod, or a
/// remote's primary.
fn skew(member: &Member<'_>, primary: Option<&Member<'_>>) -> Option<Problem> {
    let serving = primary.filter(|_| !runs_istiod(member.cluster));
    let versions = control_versions(member.cluster, serving.map(|p| p.cluster));
    let found = skewed(member.cluster, &versions);
    let (proxy, control, what) = found.example?;
    let by = serving.map_or(member.name, |p| p.name);
    let pods = found.pods;
    Some(problem(
        ProblemKind::Skew,
        member.name,
        format!(
            "{}: {pods} {} skewed against {by}'s control plane (proxy {proxy} on istiod {control}: {})",
            member.name,
            if pods == 1 { "proxy" } else { "proxies" },
            what.describe()
        ),
    ))
}

/// A cluster that runs istiod needs a remote secret for every other member, to see its
/// endpoints (a remote without istiod reads no other cluster).
fn remote_secrets(members: &[Member<'_>], member: &Member<'_>) -> Option<Problem> {
    if !runs_istiod(member.cluster) {
        return None;
    }
    let secrets = &member.cluster.remote_secrets;
    let text = if secrets.synced {
        let missing: Vec<&str> = members
            .iter()
            .filter(|other| other.name != member.name)
            .filter(|other| !secrets.values().any(|s| s.cluster == other.name))
            .map(|other| other.name)
            .collect();
        if missing.is_empty() {
            return None;
        }
        format!(
            "{}: no remote secret for {}",
            member.name,
            missing.join(", ")
        )
    } else {
        format!("{}: remote secrets not listed yet", member.name)
    };
    Some(problem(ProblemKind::RemoteSecret, member.name, text))
}
