//! Which revision a namespace's labels select, through the revision tags, and what is wrong
//! with them: Istio's precedence rules and its analyzer's misconfiguration checks.

use std::collections::BTreeMap;

pub const INJECTION: &str = "istio-injection";
pub const REV: &str = "istio.io/rev";
pub const DATAPLANE_MODE: &str = "istio.io/dataplane-mode";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// No injection label: pods get no sidecar.
    None,
    /// `istio-injection` set to something other than `enabled`.
    Disabled,
    /// `istio-injection=enabled`: the `default` tag.
    DefaultTag,
    /// `istio.io/rev=<value>`: a tag or a revision.
    Rev(String),
    /// `istio.io/dataplane-mode=ambient`: ztunnel serves the namespace, no sidecars.
    Ambient,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelProblem {
    /// More than one of istio-injection, istio.io/rev, istio.io/dataplane-mode (IST0123).
    Conflicting(Vec<&'static str>),
    /// `istio.io/rev` names neither a tag nor a revision that exists.
    UnknownRevision(String),
}

impl LabelProblem {
    pub fn describe(&self) -> String {
        match self {
            LabelProblem::Conflicting(keys) => format!("conflicting labels: {}", keys.join(" + ")),
            LabelProblem::UnknownRevision(r) => format!("no tag or revision named {r}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub selection: Selection,
    /// The revision new pods would be injected by, if any.
    pub revision: Option<String>,
    /// The tag the selection went through, if any.
    pub via_tag: Option<String>,
    pub problems: Vec<LabelProblem>,
}

pub fn selection(labels: &BTreeMap<String, String>) -> Selection {
    if let Some(v) = labels.get(INJECTION) {
        return if v == "enabled" {
            Selection::DefaultTag
        } else {
            Selection::Disabled
        };
    }
    if let Some(rev) = labels.get(REV) {
        return Selection::Rev(rev.clone());
    }
    if labels.get(DATAPLANE_MODE).is_some_and(|m| m == "ambient") {
        return Selection::Ambient;
    }
    Selection::None
}

/// Resolves a namespace's labels: `tags` maps tag name to revision, `revisions` lists the
/// revisions that have an injector.
pub fn resolve(
    labels: &BTreeMap<String, String>,
    tags: &BTreeMap<String, String>,
    revisions: &[String],
) -> Resolution {
    let selection = selection(labels);
    let mut problems = Vec::new();
    let present: Vec<&'static str> = [INJECTION, REV, DATAPLANE_MODE]
        .into_iter()
        .filter(|k| labels.contains_key(*k))
        .collect();
    if present.len() > 1 {
        problems.push(LabelProblem::Conflicting(present));
    }
    let (revision, via_tag) = match &selection {
        Selection::DefaultTag => match tags.get("default") {
            Some(rev) => (Some(rev.clone()), Some("default".to_string())),
            // Without a default tag, a revision named `default` serves the label.
            None => (revisions.iter().find(|r| *r == "default").cloned(), None),
        },
        Selection::Rev(value) => match tags.get(value) {
            Some(rev) => (Some(rev.clone()), Some(value.clone())),
            None if revisions.contains(value) => (Some(value.clone()), None),
            None => {
                problems.push(LabelProblem::UnknownRevision(value.clone()));
                (None, None)
            }
        },
        _ => (None, None),
    };
    Resolution {
        selection,
        revision,
        via_tag,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn mesh() -> (BTreeMap<String, String>, Vec<String>) {
        (
            map(&[("default", "1-24-0"), ("stable", "1-24-0")]),
            vec!["1-24-0".to_string(), "1-25-0".to_string()],
        )
    }

    #[test]
    fn labels_resolve_through_tags_with_istios_precedence() {
        let (tags, revs) = mesh();
        let r = |l: &[(&str, &str)]| resolve(&map(l), &tags, &revs);
        assert_eq!(
            r(&[(INJECTION, "enabled")]).revision.as_deref(),
            Some("1-24-0")
        );
        assert_eq!(
            r(&[(INJECTION, "enabled")]).via_tag.as_deref(),
            Some("default")
        );
        let stable = r(&[(REV, "stable")]);
        assert_eq!(
            (stable.revision.as_deref(), stable.via_tag.as_deref()),
            (Some("1-24-0"), Some("stable"))
        );
        let direct = r(&[(REV, "1-25-0")]);
        assert_eq!(
            (direct.revision.as_deref(), direct.via_tag),
            (Some("1-25-0"), None)
        );
        assert_eq!(r(&[(INJECTION, "disabled")]).revision, None);
        assert_eq!(r(&[]).selection, Selection::None);
        assert_eq!(
            r(&[(DATAPLANE_MODE, "ambient")]).selection,
            Selection::Ambient
        );
    }

    #[test]
    fn misconfigurations_are_named() {
        let (tags, revs) = mesh();
        let both = resolve(
            &map(&[(INJECTION, "enabled"), (REV, "1-25-0")]),
            &tags,
            &revs,
        );
        // istio-injection wins, and the pair is flagged.
        assert_eq!(both.revision.as_deref(), Some("1-24-0"));
        assert_eq!(
            both.problems,
            vec![LabelProblem::Conflicting(vec![INJECTION, REV])]
        );
        let unknown = resolve(&map(&[(REV, "canary")]), &tags, &revs);
        assert_eq!(unknown.revision, None);
        assert_eq!(
            unknown.problems,
            vec![LabelProblem::UnknownRevision("canary".into())]
        );
        assert_eq!(
            unknown.problems[0].describe(),
            "no tag or revision named canary"
        );
    }
}
