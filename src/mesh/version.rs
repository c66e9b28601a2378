//! Istio versions, revision names and the supported skew between control and data plane.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u16,
    pub minor: u16,
    pub patch: u16,
}

impl Version {
    /// Reads `1.25.0`, `1.25.0-distroless`, `1.25` or the revision form `1-25-0`.
    pub fn parse(text: &str) -> Option<Version> {
        let core = text.split(['-', '+']).next()?;
        let (sep, core) = if core.contains('.') {
            ('.', core)
        } else {
            // Revision form: the dashes are the separators, so keep the whole text.
            ('-', text)
        };
        let mut parts = core.split(sep).map(|p| p.parse::<u16>().ok());
        let major = parts.next()??;
        let minor = parts.next()??;
        let patch = match parts.next() {
            Some(p) => p?,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Version {
            major,
            minor,
            patch,
        })
    }

    /// The tag of an image reference: `istio/proxyv2:1.25.0-distroless` -> 1.25.0.
    pub fn from_image(image: &str) -> Option<Version> {
        let (_, tag) = image.rsplit_once(':')?;
        if tag.contains('/') {
            return None;
        }
        Version::parse(tag)
    }

    /// Istio's revision name for this version: `1-25-0`.
    pub fn revision_name(&self) -> String {
        format!("{}-{}-{}", self.major, self.minor, self.patch)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Whether a proxy of version `data` may talk to a control plane of version `control`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skew {
    Supported,
    /// The data plane is newer than its control plane.
    DataPlaneAhead,
    /// The data plane is this many minors behind (two or more is unsupported).
    TooFarBehind(u16),
}

impl Skew {
    pub fn is_violation(self) -> bool {
        self != Skew::Supported
    }

    pub fn describe(self) -> String {
        match self {
            Skew::Supported => "supported".into(),
            Skew::DataPlaneAhead => "proxy newer than its istiod".into(),
            Skew::TooFarBehind(n) => format!("proxy {n} minors behind its istiod"),
        }
    }
}

/// The control plane may be one minor ahead of the data plane, never behind it, never two.
pub fn skew(control: Version, data: Version) -> Skew {
    if data.major != control.major {
        return if data.major > control.major {
            Skew::DataPlaneAhead
        } else {
            Skew::TooFarBehind(u16::MAX)
        };
    }
    if data.minor > control.minor {
        Skew::DataPlaneAhead
    } else if control.minor - data.minor >= 2 {
        Skew::TooFarBehind(control.minor - data.minor)
    } else {
        Skew::Supported
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn versions_parse_from_tags_images_and_revision_names() {
        assert_eq!(
            v("1.25.0"),
            Version {
                major: 1,
                minor: 25,
                patch: 0
            }
        );
        assert_eq!(v("1.25.0-distroless"), v("1.25.0"));
        assert_eq!(v("1-25-0"), v("1.25.0"));
        assert_eq!(v("1.24"), v("1.24.0"));
        assert_eq!(
            Version::from_image("istio/proxyv2:1.22.4"),
            Some(v("1.22.4"))
        );
        assert_eq!(Version::from_image("registry:5000/istio/proxyv2"), None);
        assert_eq!(Version::parse("canary"), None);
        assert_eq!(Version::parse("stable"), None);
        assert_eq!(v("1.25.0").revision_name(), "1-25-0");
        assert_eq!(v("1.25.3").to_string(), "1.25.3");
    }

    #[test]
    fn skew_follows_istios_support_policy() {
        assert_eq!(skew(v("1.25.0"), v("1.25.0")), Skew::Supported);
        assert_eq!(skew(v("1.25.0"), v("1.24.0")), Skew::Supported);
        assert_eq!(skew(v("1.24.0"), v("1.22.4")), Skew::TooFarBehind(2));
        assert_eq!(skew(v("1.24.0"), v("1.25.0")), Skew::DataPlaneAhead);
        assert!(skew(v("1.24.0"), v("1.25.0")).is_violation());
        assert!(!skew(v("1.25.1"), v("1.25.0")).is_violation());
    }
}
