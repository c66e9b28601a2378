//! Durations as plan files write them and the cockpit shows them: `90s`, `30m`, `2h`, `1h30m`.

use std::time::Duration;

/// Units from largest to smallest with their length in milliseconds; a written duration uses
/// each at most once, in this order.
const UNITS: [(&str, u64); 5] = [
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Reads `90s`, `30m`, `2h`, `1h30m`, `2d` or `500ms`: whole numbers, each followed by a unit,
/// units from largest to smallest. None for anything else (including a bare number, whose
/// unit would be a guess).
///
/// `humantime` does the arithmetic. It also reads forms a plan does not take (`1h 30m`,
/// `5min`, `1w`, `1.5h`, units in any order); those are refused first, so a plan keeps one
/// way of writing a duration, the one the cockpit shows.
pub fn parse(text: &str) -> Option<Duration> {
    let text = text.trim();
    if !is_compact(text) {
        return None;
    }
    humantime::parse_duration(text).ok()
}

/// Whole numbers each followed by one of `UNITS`, every unit smaller than the one before.
fn is_compact(text: &str) -> bool {
    let mut rest = text;
    // Index into UNITS of the next unit allowed.
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        // "ms" must win over "m".
        let Some((index, (unit, _))) = UNITS
            .iter()
            .enumerate()
            .skip(next_unit)
            .filter(|(_, (unit, _))| rest.starts_with(unit))
            .max_by_key(|(_, (unit, _))| unit.len())
        else {
            return false;
        };
        rest = &rest[unit.len()..];
        next_unit = index + 1;
    }
    !text.is_empty()
}

/// The shortest exact form in hours and smaller units (people think of keeping a control
/// plane "48h", not "2d"): `1h30m`, `90s` becomes `1m30s`, zero is `0s`.
pub fn format(duration: Duration) -> String {
    let mut millis = duration.as_millis().min(u128::from(u64::MAX)) as u64;
    if millis == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, scale) in &UNITS[1..] {
        let n = millis / scale;
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
            millis -= n * scale;
        }
    }
    out
}

/// Elapsed time for a soak in progress, to the minute once past one: `45s`, `12m`, `1h5m`.
pub fn format_coarse(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs < 60 {
        format(Duration::from_secs(secs))
    } else {
        format(Duration::from_secs(secs / 60 * 60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Option<Duration> {
        Some(Duration::from_secs(s))
    }

    #[test]
    fn written_durations_parse() {
        assert_eq!(parse("90s"), secs(90));
        assert_eq!(parse("30m"), secs(1800));
        assert_eq!(parse("2h"), secs(7200));
        assert_eq!(parse("1h30m"), secs(5400));
        assert_eq!(parse("2d"), secs(172_800));
        assert_eq!(parse("1m30s"), secs(90));
        assert_eq!(parse("0s"), secs(0));
        assert_eq!(parse("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse("1s500ms"), Some(Duration::from_millis(1500)));
        assert_eq!(parse(" 10m "), secs(600));
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "soon",
            "30",
            "m",
            "1.5h",
            "30m1h",
            "1h1h",
            "-5m",
            "5 m",
            "1h 30m",
            "5min",
            "1w",
            "99999999999999999999s",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn durations_format_in_their_shortest_exact_form() {
        assert_eq!(format(Duration::from_secs(90)), "1m30s");
        assert_eq!(format(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format(Duration::from_secs(172_800)), "48h");
        assert_eq!(format(Duration::from_millis(500)), "500ms");
        assert_eq!(format(Duration::ZERO), "0s");
        for text in ["26h3m4s5ms", "30m", "5s"] {
            assert_eq!(format(parse(text).unwrap()), text);
        }
        assert_eq!(format_coarse(Duration::from_secs(45)), "45s");
        assert_eq!(format_coarse(Duration::from_secs(12 * 60 + 59)), "12m");
        assert_eq!(format_coarse(Duration::from_secs(3900)), "1h5m");
    }
}
