//! The checks, one file per family. Each family's doc comment states its rules and the
//! severity of each finding.

use super::Target;
use super::finding::Finding;
use super::scope::Scope;

mod ambient;
mod crds;
mod gateways;
mod namespaces;
mod restarts;
mod room;
mod unmovable;
mod versions;
mod webhooks;

#[cfg(test)]
mod tests;

pub(super) fn all(scope: &Scope<'_>, target: &Target) -> Vec<Finding> {
    let mut findings = Vec::new();
    versions::check(scope, target, &mut findings);
    crds::check(scope, target, &mut findings);
    room::check(scope, target, &mut findings);
    webhooks::check(scope, target, &mut findings);
    namespaces::check(scope, target, &mut findings);
    restarts::check(scope, target, &mut findings);
    unmovable::check(scope, target, &mut findings);
    ambient::check(scope, target, &mut findings);
    gateways::check(scope, target, &mut findings);
    findings
}
