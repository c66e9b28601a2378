//! A label selector as text again: `Display` writes the form `parse` reads back to an equal
//! selector (`app=web,tier in (a,b),!canary`), and serde reads and writes that text, so a
//! file holds a selector already checked.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};

use super::{LabelSelector, Op, Requirement};

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = &self.key;
        let first = self.values.first().map_or("", String::as_str);
        match self.op {
            Op::Exists => write!(f, "{key}"),
            Op::NotExists => write!(f, "!{key}"),
            Op::Equals => write!(f, "{key}={first}"),
            Op::NotEquals => write!(f, "{key}!={first}"),
            Op::GreaterThan => write!(f, "{key}>{first}"),
            Op::LessThan => write!(f, "{key}<{first}"),
            Op::In => write!(f, "{key} in ({})", self.values.join(",")),
            Op::NotIn => write!(f, "{key} notin ({})", self.values.join(",")),
        }
    }
}

impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, requirement) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{requirement}")?;
        }
        Ok(())
    }
}

impl FromStr for LabelSelector {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LabelSelector::parse(s)
    }
}

/// For selectors written in tests; text from users goes through `parse`.
#[cfg(test)]
impl From<&str> for LabelSelector {
    fn from(s: &str) -> Self {
        LabelSelector::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }
}

impl Serialize for LabelSelector {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LabelSelector {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(SelectorVisitor)
    }
}

struct SelectorVisitor;

impl Visitor<'_> for SelectorVisitor {
    type Value = LabelSelector;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a label selector like \"tier in (staging)\"")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<LabelSelector, E> {
        LabelSelector::parse(text).map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_selector_reads_back_the_same() {
        let cases = [
            ("", ""),
            ("app=web", "app=web"),
            ("app == web", "app=web"),
            ("tier=", "tier="),
            ("tier != gold", "tier!=gold"),
            ("tier in (staging)", "tier in (staging)"),
            ("tier in ( a , b )", "tier in (a,b)"),
            ("tier in (a,)", "tier in (a,)"),
            ("tier notin (a,b)", "tier notin (a,b)"),
            ("!canary", "!canary"),
            ("canary", "canary"),
            ("size > 3, size<10", "size>3,size<10"),
            (
                "example.com/team=a,tier in (x),!legacy",
                "example.com/team=a,tier in (x),!legacy",
            ),
        ];
        for (text, written) in cases {
            let selector = LabelSelector::parse(text).unwrap();
            assert_eq!(selector.to_string(), written, "{text:?}");
            assert_eq!(LabelSelector::parse(written).unwrap(), selector, "{text:?}");
        }
    }

    #[test]
    fn serde_reads_and_checks_the_text() {
        #[derive(Debug, serde::Deserialize, Serialize)]
        struct Wave {
            selector: LabelSelector,
        }
        let wave: Wave = toml::from_str("selector = \"tier in (a, b)\"").unwrap();
        assert_eq!(wave.selector, "tier in (a,b)".into());
        assert_eq!(
            toml::to_string(&wave).unwrap(),
            "selector = \"tier in (a,b)\"\n"
        );
        let e = toml::from_str::<Wave>("selector = \"tier in b\"").unwrap_err();
        assert!(
            e.message()
                .starts_with("invalid label selector 'tier in b'"),
            "{e}"
        );
        let e = toml::from_str::<Wave>("selector = 3").unwrap_err();
        assert!(
            e.message().contains("expected a label selector like"),
            "{e}"
        );
    }
}
