//! The names and lists a plan file holds, each read by serde with the wording its errors
//! need: "expected {what}" when the value is of another kind, and the rule it breaks when it
//! is a string the field does not take.

use std::fmt;
use std::marker::PhantomData;

use serde::Serialize;
use serde::de::{
    self, Deserialize, DeserializeOwned, Deserializer, SeqAccess, Unexpected, Visitor,
};
use toml::Spanned;

use crate::mesh::fleet::Role;
use crate::metrics::prometheus_url::{self, UrlError};
use crate::toml_file::Table;

use super::schema::{ClusterToml, WaveToml};

/// A revision the plan leaves or reaches: a DNS-1123 label like `1-25-0`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub(super) struct Revision(pub String);

/// A revision tag the plan moves, like `stable`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub(super) struct TagName(pub String);

/// A namespace a wave lists by name.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub(super) struct NamespaceName(pub String);

/// A wave's name, not blank.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub(super) struct WaveName(pub String);

/// The Prometheus Service to query, `namespace/name`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub(super) struct ServiceRef(pub String);

/// `tags = [...]`, each with its place for "listed twice".
#[derive(Debug, Default, Serialize)]
#[serde(transparent)]
pub(super) struct Tags(pub Vec<Spanned<TagName>>);

/// A wave's `namespaces = [...]`: at least one.
#[derive(Debug, Default, Serialize)]
#[serde(transparent)]
pub(super) struct Namespaces(pub Vec<Spanned<NamespaceName>>);

/// The `[[waves]]` tables, each with its place for errors about the wave as a whole.
#[derive(Debug, Default, Serialize)]
#[serde(transparent)]
pub(super) struct Waves(pub Vec<Spanned<Table<WaveToml>>>);

/// The kubeconfig context of a `[[clusters]]` entry: any name a kubeconfig takes, not blank.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub(super) struct ContextName(pub String);

/// A cluster's short name on screen: letters, digits, '-', '_' and '.', at most 40.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub(super) struct ClusterName(pub String);

/// A cluster's `role`: "primary" or "remote".
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct ClusterRole(pub Role);

/// A cluster's own Prometheus: the base URL the `--prometheus` flag also takes.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PrometheusUrl(pub url::Url);

/// The `[[clusters]]` tables: at least one when the key is there.
#[derive(Debug, Default, Serialize)]
#[serde(transparent)]
pub(super) struct Clusters(pub Vec<Spanned<Table<ClusterToml>>>);

const CLUSTER_NAME_MAX: usize = 40;

const DNS_RULE: &str = " (lowercase letters, digits and '-')";

impl<'de> Deserialize<'de> for Revision {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(Text::new("a revision name like \"1-25-0\"", dns_label))
            .map(Revision)
    }
}

impl<'de> Deserialize<'de> for TagName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(Text::new("a tag name like \"stable\"", dns_label))
            .map(TagName)
    }
}

impl<'de> Deserialize<'de> for NamespaceName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(Text::new("a namespace name like \"checkout\"", dns_label))
            .map(NamespaceName)
    }
}

impl<'de> Deserialize<'de> for WaveName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let not_blank = |text: &str| match text.trim() {
            "" => Err(Refusal::Rule("must not be empty")),
            _ => Ok(()),
        };
        d.deserialize_str(Text::new(
            "a name for the wave, like \"staging\"",
            not_blank,
        ))
        .map(WaveName)
    }
}

impl<'de> Deserialize<'de> for ServiceRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let service = |text: &str| match text.split_once('/') {
            Some((ns, name)) if is_dns_label(ns) && is_dns_label(name) => Ok(()),
            _ => Err(Refusal::Expected("")),
        };
        let what = "\"namespace/name\" of a Service, like \"monitoring/prometheus\"";
        d.deserialize_str(Text::new(what, service)).map(ServiceRef)
    }
}

impl<'de> Deserialize<'de> for Tags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let what = "a list of tag names like [\"stable\", \"default\"]";
        d.deserialize_seq(List::new(what, None)).map(Tags)
    }
}

impl<'de> Deserialize<'de> for Namespaces {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let what = "a list of namespace names like [\"checkout\", \"billing\"]";
        let empty = "a wave needs at least one namespace";
        d.deserialize_seq(List::new(what, Some(empty)))
            .map(Namespaces)
    }
}

impl<'de> Deserialize<'de> for Waves {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(List::new("[[waves]] tables, one per wave", None))
            .map(Waves)
    }
}

impl<'de> Deserialize<'de> for ContextName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let not_blank = |text: &str| match text.trim() {
            "" => Err(Refusal::Rule("must not be empty")),
            _ => Ok(()),
        };
        d.deserialize_str(Text::new(
            "a kubeconfig context like \"prod-eu\"",
            not_blank,
        ))
        .map(ContextName)
    }
}

impl<'de> Deserialize<'de> for ClusterName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let short = |text: &str| {
            let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
            if !text.is_empty() && text.len() <= CLUSTER_NAME_MAX && text.chars().all(allowed) {
                Ok(())
            } else {
                Err(Refusal::Expected(
                    " (letters, digits, '-', '_' and '.', at most 40)",
                ))
            }
        };
        d.deserialize_str(Text::new("a short name like \"eu-west\"", short))
            .map(ClusterName)
    }
}

impl<'de> Deserialize<'de> for ClusterRole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let role = |text: &str| match text {
            "primary" | "remote" => Ok(()),
            _ => Err(Refusal::Expected("")),
        };
        let text = d.deserialize_str(Text::new("\"primary\" or \"remote\"", role))?;
        Ok(ClusterRole(if text == "primary" {
            Role::Primary
        } else {
            Role::Remote
        }))
    }
}

impl Serialize for ClusterRole {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.name())
    }
}

impl<'de> Deserialize<'de> for PrometheusUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(UrlText).map(PrometheusUrl)
    }
}

impl Serialize for PrometheusUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for Clusters {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let what = "[[clusters]] tables, one per cluster";
        let empty = "name at least one cluster, or leave [[clusters]] out";
        d.deserialize_seq(List::new(what, Some(empty)))
            .map(Clusters)
    }
}

/// A Prometheus base URL, refused in the words of a plan file.
struct UrlText;

impl Visitor<'_> for UrlText {
    type Value = url::Url;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(URL_LIKE)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<url::Url, E> {
        let expected = match prometheus_url::parse(text) {
            Ok(url) => return Ok(url),
            Err(UrlError::NotAUrl(_) | UrlError::NotHttp) => URL_LIKE,
            Err(UrlError::NotBase) => "the Prometheus base URL, without ?query or #fragment",
            Err(UrlError::Credentials) => {
                return Err(E::custom(
                    "keep credentials out of the URL: a plan file is read by everyone who \
                     drives the upgrade, and a cluster's Prometheus is asked without a login",
                ));
            }
        };
        Err(E::invalid_value(Unexpected::Str(text), &expected))
    }
}

const URL_LIKE: &str = "an http:// or https:// URL like \"http://prometheus.monitoring:9090\"";

/// Why a string is refused.
enum Refusal {
    /// It is not one of the values the field takes: "expected {what}{hint}, got ...".
    Expected(&'static str),
    /// It is, but breaks a rule, said as is.
    Rule(&'static str),
}

fn dns_label(text: &str) -> Result<(), Refusal> {
    if is_dns_label(text) {
        Ok(())
    } else {
        Err(Refusal::Expected(DNS_RULE))
    }
}

/// A string, checked; any other kind of value is "expected {what}".
struct Text {
    what: &'static str,
    check: fn(&str) -> Result<(), Refusal>,
}

impl Text {
    fn new(what: &'static str, check: fn(&str) -> Result<(), Refusal>) -> Text {
        Text { what, check }
    }
}

impl Visitor<'_> for Text {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.what)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<String, E> {
        match (self.check)(text) {
            Ok(()) => Ok(text.to_owned()),
            Err(Refusal::Expected(hint)) => {
                let expected = format!("{}{hint}", self.what);
                Err(E::invalid_value(Unexpected::Str(text), &expected.as_str()))
            }
            Err(Refusal::Rule(rule)) => Err(E::custom(rule)),
        }
    }
}

/// An array of `T`, each with its span; `empty` refuses an empty one with that message.
struct List<T> {
    what: &'static str,
    empty: Option<&'static str>,
    item: PhantomData<T>,
}

impl<T> List<T> {
    fn new(what: &'static str, empty: Option<&'static str>) -> List<T> {
        List {
            what,
            empty,
            item: PhantomData,
        }
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for List<T> {
    type Value = Vec<Spanned<T>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.what)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        match self.empty {
            Some(message) if items.is_empty() => Err(de::Error::custom(message)),
            _ => Ok(items),
        }
    }
}

/// Lowercase letters, digits and '-', at most 63, starting and ending with a letter or digit.
fn is_dns_label(s: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    s.len() <= 63
        && edge(s.chars().next())
        && edge(s.chars().last())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}
