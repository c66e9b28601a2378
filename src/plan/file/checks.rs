//! What serde cannot check value by value: a tag listed twice, a wave without a name or
//! without exactly one way to pick its namespaces, a namespace in two waves, two waves of one
//! name. Each error points at the value to fix, by its span.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use crate::plan::model::{NamespaceSelector, Wave};
use crate::toml_file;

use super::errors::Doc;
use super::schema::{PlanToml, WaveToml, pacing};
use super::values::{NamespaceName, Namespaces, Revision, TagName, Tags, Waves};
use super::{DEFAULT_WAVE_SOAK, PlanError, PlanFile};

/// The plan file a read document says, once its cross-value rules hold.
pub(super) fn plan_file(plan: PlanToml, doc: &Doc<'_>) -> Result<PlanFile, PlanError> {
    let set = [
        ("from", plan.from.as_ref().map(Spanned::span)),
        ("to", plan.to.as_ref().map(Spanned::span)),
        ("tags", plan.tags.as_ref().map(Spanned::span)),
        ("waves", plan.waves.as_ref().map(Spanned::span)),
        ("clusters", plan.clusters.as_ref().map(Spanned::span)),
    ];
    let lines = set
        .into_iter()
        .filter_map(|(name, span)| {
            Some((name.to_owned(), toml_file::line_of(doc.text, span?.start)))
        })
        .collect();
    let revision = |r: Spanned<Revision>| r.into_inner().0;
    Ok(PlanFile {
        file: doc.file.to_owned(),
        from: plan.from.map(revision),
        to: plan.to.map(revision),
        tags: plan.tags.map(|t| tags(t.into_inner(), doc)).transpose()?,
        waves: plan.waves.map(|w| waves(w.into_inner(), doc)).transpose()?,
        tag_soak: plan.tag_soak.map(|d| d.0),
        keep_old: plan.keep_old.map(|d| d.0),
        prometheus_service: plan.prometheus_service.map(|s| s.0),
        clusters: plan
            .clusters
            .map(|c| super::clusters::clusters(c.into_inner(), doc))
            .transpose()?
            .unwrap_or_default(),
        thresholds: plan.rollback.map(|r| r.0.thresholds()).unwrap_or_default(),
        pacing: pacing(
            plan.wave_concurrency,
            plan.namespace_bake,
            plan.namespace_timeout,
        ),
        lines,
    })
}

fn tags(tags: Tags, doc: &Doc<'_>) -> Result<Vec<String>, PlanError> {
    let mut out: Vec<String> = Vec::new();
    for (i, tag) in tags.0.into_iter().enumerate() {
        let span = tag.span();
        let TagName(tag) = tag.into_inner();
        if out.contains(&tag) {
            let message = format!("`{tag}` is listed twice");
            return Err(doc.error(span, &format!("tags[{i}]"), message));
        }
        out.push(tag);
    }
    Ok(out)
}

fn waves(waves: Waves, doc: &Doc<'_>) -> Result<Vec<Wave>, PlanError> {
    let mut out: Vec<Wave> = Vec::new();
    // Namespace name -> the wave that lists it.
    let mut listed: BTreeMap<String, String> = BTreeMap::new();
    for (i, table) in waves.0.into_iter().enumerate() {
        let prefix = format!("waves[{i}]");
        let header = table.span();
        let wave = table.into_inner().0;
        let name_span = wave.name.as_ref().map(Spanned::span);
        let wave = wave_of(wave, header, &prefix, &mut listed, doc)?;
        if let Some(other) = out.iter().position(|w| w.name == wave.name) {
            let at = name_span.unwrap_or_default();
            let message = format!("waves[{other}] is already named `{}`", wave.name);
            return Err(doc.error(at, &format!("{prefix}.name"), message));
        }
        out.push(wave);
    }
    Ok(out)
}

/// One wave, with a name and exactly one way to pick its namespaces.
fn wave_of(
    wave: WaveToml,
    header: Range<usize>,
    prefix: &str,
    listed: &mut BTreeMap<String, String>,
    doc: &Doc<'_>,
) -> Result<Wave, PlanError> {
    if let (Some(names), Some(selector)) = (&wave.namespaces, &wave.selector) {
        // The later of the two in the file is the one to take out.
        let (span, key) = if selector.span().start > names.span().start {
            (selector.span(), "selector")
        } else {
            (names.span(), "namespaces")
        };
        let message = "set `namespaces` or `selector`, not both";
        return Err(doc.error(span, &format!("{prefix}.{key}"), message));
    }
    let Some(name) = wave.name else {
        let message = "every wave needs a name, e.g. name = \"staging\"";
        return Err(doc.error(header, &format!("{prefix}.name"), message));
    };
    let name = name.into_inner().0;
    let selector = match (wave.namespaces, wave.selector) {
        (Some(names), _) => {
            NamespaceSelector::Names(namespaces(names.into_inner(), &name, prefix, listed, doc)?)
        }
        (None, Some(selector)) => NamespaceSelector::Labels(selector.into_inner()),
        (None, None) => {
            let message = "a wave needs namespaces = [\"...\"] or selector = \"...\"";
            return Err(doc.error(header, prefix, message));
        }
    };
    Ok(Wave {
        name,
        selector,
        soak: wave.soak.map_or(DEFAULT_WAVE_SOAK, |d| d.0),
        pacing: pacing(
            wave.wave_concurrency,
            wave.namespace_bake,
            wave.namespace_timeout,
        ),
    })
}

/// A wave's namespaces, each in no other wave and listed once.
fn namespaces(
    names: Namespaces,
    wave: &str,
    prefix: &str,
    listed: &mut BTreeMap<String, String>,
    doc: &Doc<'_>,
) -> Result<Vec<String>, PlanError> {
    let mut out = Vec::new();
    for (j, ns) in names.0.into_iter().enumerate() {
        let span = ns.span();
        let NamespaceName(ns) = ns.into_inner();
        if let Some(other) = listed.get(&ns) {
            let message = if other == wave {
                format!("`{ns}` is listed twice")
            } else {
                format!("`{ns}` is already in wave `{other}`")
            };
            return Err(doc.error(span, &format!("{prefix}.namespaces[{j}]"), message));
        }
        listed.insert(ns.clone(), wave.to_owned());
        out.push(ns);
    }
    Ok(out)
}
