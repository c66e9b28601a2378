//! What a check reports: how bad, which check, on which object, why, and how to fix it.

use std::fmt;

use serde::Serialize;

/// How much a finding matters for the change window. Sorted worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The upgrade will fail or cause an outage: fix it first (precheck exits 2).
    Blocker,
    /// A risk a careful engineer fixes or accepts knowingly before the window.
    Warning,
    /// Worth knowing while driving the upgrade; nothing to fix beforehand.
    Info,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Blocker, Severity::Warning, Severity::Info];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Blocker => "blocker",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! check_ids {
    ($($variant:ident => $id:literal,)*) => {
        /// A check, by its stable kebab-case id (what CI filters on: never rename one).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum CheckId {
            $($variant,)*
        }

        impl CheckId {
            pub const ALL: &[CheckId] = &[$(CheckId::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(CheckId::$variant => $id,)*
                }
            }
        }
    };
}

check_ids! {
    K8sVersion => "k8s-version",
    SkipMinor => "skip-minor",
    CrdMissing => "crd-missing",
    CrdVersion => "crd-version",
    ControlPlaneRoom => "control-plane-room",
    WebhookServiceMissing => "webhook-service-missing",
    WebhookOverlap => "webhook-overlap",
    TagMissingRevision => "tag-missing-revision",
    LabelConflict => "label-conflict",
    LabelUnknownRevision => "label-unknown-revision",
    PodNoSidecar => "pod-no-sidecar",
    ProxyImageMismatch => "proxy-image-mismatch",
    PdbBlocks => "pdb-blocks",
    PdbSelectsNothing => "pdb-selects-nothing",
    SingleReplica => "single-replica",
    SurgeBelowPdb => "surge-below-pdb",
    MaxSurgeZero => "max-surge-zero",
    HoldUntilProxy => "hold-until-proxy",
    GraceBelowDrain => "grace-below-drain",
    LongLivedGrace => "long-lived-grace",
    UnmovablePod => "unmovable-pod",
    AmbientOrder => "ambient-order",
    ZtunnelStrategy => "ztunnel-strategy",
    GatewayOnTag => "gateway-on-tag",
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CheckId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One problem on one object of one cluster (the caller knows which cluster).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub check: CheckId,
    /// `<kind>/<namespace>/<name>`, or `<kind>/<name>` for a cluster-scoped object.
    pub object: String,
    /// What is wrong and why it matters for this upgrade.
    pub message: String,
    /// The command or change that fixes it.
    pub fix: String,
}

impl Finding {
    pub fn new(
        severity: Severity,
        check: CheckId,
        object: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Finding {
        Finding {
            severity,
            check,
            object: object.into(),
            message: message.into(),
            fix: fix.into(),
        }
    }

    /// The order reports list findings in: worst first, then by check, then by object.
    pub fn sort_key(&self) -> (Severity, CheckId, &str, &str) {
        (self.severity, self.check, &self.object, &self.message)
    }
}

/// `<kind>/<namespace>/<name>`.
pub fn object(kind: &str, namespace: &str, name: &str) -> String {
    format!("{kind}/{namespace}/{name}")
}
