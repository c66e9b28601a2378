//! The three renderings of a small fixed set of findings, and the exit status.

use super::*;
use crate::precheck::finding::{CheckId, Finding, Severity};

fn findings() -> Vec<ClusterFindings> {
    vec![
        ClusterFindings {
            cluster: "prod-eu".into(),
            findings: vec![
                Finding::new(
                    Severity::Warning,
                    CheckId::SingleReplica,
                    "Deployment/shop/cart",
                    "one replica and no PodDisruptionBudget",
                    "kubectl -n shop scale deployment cart --replicas=2",
                ),
                Finding::new(
                    Severity::Blocker,
                    CheckId::PdbBlocks,
                    "PodDisruptionBudget/shop/web",
                    "it allows no disruption",
                    "set `maxUnavailable: 1`",
                ),
            ],
        },
        ClusterFindings {
            cluster: "prod-us".into(),
            findings: vec![Finding::new(
                Severity::Info,
                CheckId::UnmovablePod,
                "Pod/shop/debug",
                "owned by Job",
                "delete it after the move",
            )],
        },
    ]
}

#[test]
fn text_groups_by_severity_then_check() {
    assert_eq!(
        text(&findings()),
        "\
BLOCKER
  pdb-blocks
    prod-eu: PodDisruptionBudget/shop/web
      why: it allows no disruption
      fix: set `maxUnavailable: 1`
WARNING
  single-replica
    prod-eu: Deployment/shop/cart
      why: one replica and no PodDisruptionBudget
      fix: kubectl -n shop scale deployment cart --replicas=2
INFO
  unmovable-pod
    prod-us: Pod/shop/debug
      why: owned by Job
      fix: delete it after the move
1 blocker(s), 1 warning(s), 1 info on prod-eu, prod-us
"
    );
    let clean = [ClusterFindings {
        cluster: "dev".into(),
        findings: vec![],
    }];
    assert_eq!(
        text(&clean),
        "No findings.\n0 blocker(s), 0 warning(s), 0 info on dev\n"
    );
}

#[test]
fn markdown_has_a_section_per_severity_and_check() {
    assert_eq!(
        markdown(&findings()),
        "\
# Precheck

1 blocker(s), 1 warning(s), 1 info on prod-eu, prod-us

## Blocker

### `pdb-blocks`

- **prod-eu**: `PodDisruptionBudget/shop/web`
  - Why: it allows no disruption
  - Fix: `set 'maxUnavailable: 1'`

## Warning

### `single-replica`

- **prod-eu**: `Deployment/shop/cart`
  - Why: one replica and no PodDisruptionBudget
  - Fix: `kubectl -n shop scale deployment cart --replicas=2`

## Info

### `unmovable-pod`

- **prod-us**: `Pod/shop/debug`
  - Why: owned by Job
  - Fix: `delete it after the move`

"
    );
}

#[test]
fn json_has_the_documented_shape() {
    let value: serde_json::Value = serde_json::from_str(&json(&findings())).unwrap();
    assert_eq!(
        value,
        serde_json::json!({
            "findings": [
                {"severity": "blocker", "check": "pdb-blocks", "object": "PodDisruptionBudget/shop/web",
                 "cluster": "prod-eu", "message": "it allows no disruption", "fix": "set `maxUnavailable: 1`"},
                {"severity": "warning", "check": "single-replica", "object": "Deployment/shop/cart",
                 "cluster": "prod-eu", "message": "one replica and no PodDisruptionBudget",
                 "fix": "kubectl -n shop scale deployment cart --replicas=2"},
                {"severity": "info", "check": "unmovable-pod", "object": "Pod/shop/debug",
                 "cluster": "prod-us", "message": "owned by Job", "fix": "delete it after the move"},
            ],
            "summary": {"blocker": 1, "warning": 1, "info": 1, "clusters": ["prod-eu", "prod-us"]}
        })
    );
}

#[test]
fn the_exit_status_fails_on_blockers_or_on_warnings_when_asked() {
    let mut all = findings();
    assert_eq!(exit_status(&all, FailOn::Blocker), 2);
    all[0].findings.retain(|f| f.severity != Severity::Blocker);
    assert_eq!(exit_status(&all, FailOn::Blocker), 0);
    assert_eq!(exit_status(&all, FailOn::Warning), 2);
    all[0].findings.clear();
    assert_eq!(
        exit_status(&all, FailOn::Warning),
        0,
        "info never fails a run"
    );
    assert_eq!(exit_status(&[], FailOn::Warning), 0);
}

#[test]
fn every_check_id_is_kebab_case_and_unique() {
    let ids: Vec<&str> = CheckId::ALL.iter().map(|c| c.as_str()).collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len());
    assert!(ids.iter().all(|id| {
        id.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    }));
    assert_eq!(ids.len(), 24);
}
