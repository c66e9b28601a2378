//! The amounts a plan file holds (durations, counts, shares, switches), each read by serde
//! with the wording its errors need.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserialize, Deserializer, Unexpected, Visitor};
use serde::{Serialize, Serializer};

use crate::plan::duration;

/// A duration written like `30m`, `1h30m` or `90s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct PlanDuration(pub Duration);

/// A duration that must be more than zero: a timeout or a latency limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct PositiveDuration(pub Duration);

/// A whole number, 0 or more: a count of errors tolerated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(transparent)]
pub(super) struct Count(pub u64);

/// How many namespaces move at once: 1 or more.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(transparent)]
pub(super) struct Concurrency(pub u64);

/// How much the p99 latency may grow, as a share: `"50%"` or `0.5`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(transparent)]
pub(super) struct LatencyIncrease(pub f64);

/// The share of requests that may fail, at most 100%: `"1%"` or `0.01`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(transparent)]
pub(super) struct ErrorRatio(pub f64);

/// `true` or `false`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(transparent)]
pub(super) struct Switch(pub bool);

impl<'de> Deserialize<'de> for PlanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(DurationVisitor { positive: false })
            .map(PlanDuration)
    }
}

impl<'de> Deserialize<'de> for PositiveDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(DurationVisitor { positive: true })
            .map(PositiveDuration)
    }
}

impl Serialize for PlanDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&duration::format(self.0))
    }
}

impl Serialize for PositiveDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&duration::format(self.0))
    }
}

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_u64(CountVisitor {
            at_least_one: false,
        })
        .map(Count)
    }
}

impl<'de> Deserialize<'de> for Concurrency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_u64(CountVisitor { at_least_one: true })
            .map(Concurrency)
    }
}

impl<'de> Deserialize<'de> for LatencyIncrease {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let share = ShareVisitor {
            example: ("50%", "0.5"),
            max: None,
        };
        d.deserialize_any(share).map(LatencyIncrease)
    }
}

impl<'de> Deserialize<'de> for ErrorRatio {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let share = ShareVisitor {
            example: ("1%", "0.01"),
            max: Some(1.0),
        };
        d.deserialize_any(share).map(ErrorRatio)
    }
}

impl<'de> Deserialize<'de> for Switch {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_bool(SwitchVisitor).map(Switch)
    }
}

struct DurationVisitor {
    positive: bool,
}

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a duration like \"30m\", \"2h\" or \"90s\"")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
        match duration::parse(text) {
            None => Err(E::invalid_value(Unexpected::Str(text), &self)),
            Some(d) if d.is_zero() && self.positive => Err(E::custom("must be more than 0s")),
            Some(d) => Ok(d),
        }
    }
}

struct CountVisitor {
    at_least_one: bool,
}

impl Visitor<'_> for CountVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a whole number, 0 or more")
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<u64, E> {
        if n == 0 && self.at_least_one {
            return Err(E::custom(
                "must be 1 or more: the namespaces moving at once",
            ));
        }
        Ok(n)
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<u64, E> {
        match u64::try_from(n) {
            Ok(n) => self.visit_u64(n),
            Err(_) => Err(E::invalid_value(Unexpected::Signed(n), &self)),
        }
    }
}

/// A share written as a percentage string (`"50%"`, `"+25%"`) or a ratio (`0.5`). A whole
/// number other than 0 is refused: 50 could mean 50% or 50 times.
struct ShareVisitor {
    example: (&'static str, &'static str),
    max: Option<f64>,
}

impl ShareVisitor {
    fn ambiguous<E: de::Error>(&self, found: Unexpected) -> E {
        let expected: &dyn de::Expected = self;
        let ambiguous = format!("{expected} (a whole number is ambiguous)");
        E::invalid_value(found, &ambiguous.as_str())
    }

    fn checked<E: de::Error>(&self, share: f64, written: String) -> Result<f64, E> {
        if share < 0.0 {
            return Err(E::custom(format!("must not be negative, got {written}")));
        }
        match self.max {
            Some(max) if share > max => Err(E::custom(format!(
                "cannot exceed {}%, got {written}",
                max * 100.0
            ))),
            _ => Ok(share),
        }
    }
}

impl Visitor<'_> for ShareVisitor {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let (percent, ratio) = self.example;
        write!(f, "a percentage like \"{percent}\" or a ratio like {ratio}")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<f64, E> {
        let percent = text
            .trim()
            .strip_suffix('%')
            .map(|n| n.trim().trim_start_matches('+'))
            .and_then(|n| n.parse::<f64>().ok())
            .filter(|p| p.is_finite());
        match percent {
            Some(percent) => self.checked(percent / 100.0, format!("\"{text}\"")),
            None => Err(E::invalid_value(Unexpected::Str(text), &self)),
        }
    }

    fn visit_f64<E: de::Error>(self, ratio: f64) -> Result<f64, E> {
        if !ratio.is_finite() {
            return Err(E::invalid_value(Unexpected::Float(ratio), &self));
        }
        self.checked(ratio, ratio.to_string())
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<f64, E> {
        match n {
            0 => Ok(0.0),
            _ => Err(self.ambiguous(Unexpected::Signed(n))),
        }
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<f64, E> {
        match n {
            0 => Ok(0.0),
            _ => Err(self.ambiguous(Unexpected::Unsigned(n))),
        }
    }
}

struct SwitchVisitor;

impl Visitor<'_> for SwitchVisitor {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("true or false")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<bool, E> {
        Ok(b)
    }
}
