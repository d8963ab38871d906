//! Durations as scenario files write them: `250ms`, `30s`, `5m`, `1h30m`, parsed by jiff's friendly
//! format, and formatted back the same way.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A non-negative span of virtual time written as `250ms`, `30s`, `5m` or `1h30m`.
///
/// Parsing is jiff's friendly duration format, so `1m30s` and `1m 30s` both work; a bare
/// number is rejected because `30` could mean seconds or milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span(pub Duration);

/// In a JSON Schema a duration is a string in jiff's friendly format.
impl schemars::JsonSchema for Span {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A duration such as `30s`, `5m`, `1h30m` or `20 minutes`.",
            "pattern": "^[0-9]"
        })
    }
}

impl Span {
    /// The span as a std `Duration`.
    #[must_use]
    pub fn get(self) -> Duration {
        self.0
    }
}

impl From<Duration> for Span {
    fn from(d: Duration) -> Self {
        Self(d)
    }
}

/// Parses `text` as a non-negative duration, or says why it is not one.
pub(crate) fn parse(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(
            "expected a duration such as `30s`, `5m` or `1h30m`, found an empty string".into(),
        );
    }
    if trimmed.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(format!(
            "expected a duration with a unit such as `{trimmed}s` or `{trimmed}ms`, found a bare number `{trimmed}`"
        ));
    }
    let signed: jiff::SignedDuration = trimmed.parse().map_err(|e| {
        format!("expected a duration such as `30s`, `5m` or `1h30m`, found `{trimmed}` ({e})")
    })?;
    Duration::try_from(signed)
        .map_err(|_| format!("expected a non-negative duration, found `{trimmed}`"))
}

/// Formats a duration the way the reports show it: `4m50.8s`, `800ms`, `0s`.
#[must_use]
pub fn format(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let hours = ms / 3_600_000;
    let minutes = ms / 60_000 % 60;
    let seconds = ms / 1000 % 60;
    let millis = ms % 1000;
    let mut out = String::new();
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    if seconds > 0 || millis > 0 {
        if millis > 0 {
            let frac = format!("{millis:03}");
            out.push_str(&format!("{seconds}.{}s", frac.trim_end_matches('0')));
        } else {
            out.push_str(&format!("{seconds}s"));
        }
    }
    out
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format(self.0))
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(self.0))
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SpanVisitor;
        impl Visitor<'_> for SpanVisitor {
            type Value = Span;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as `30s`, `5m` or `1h30m`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Span, E> {
                parse(v).map(Span).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Span, E> {
                Err(E::custom(format!(
                    "expected a duration with a unit such as `{v}s` or `{v}ms`, found a bare number `{v}`"
                )))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Span, E> {
                Err(E::custom(format!(
                    "expected a non-negative duration with a unit, found `{v}`"
                )))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Span, E> {
                Err(E::custom(format!(
                    "expected a duration with a unit such as `{v}s`, found a bare number `{v}`"
                )))
            }
        }
        d.deserialize_any(SpanVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn friendly_durations_parse() {
        assert_eq!(parse("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("1m 30s").unwrap(), Duration::from_secs(90));
    }

    #[test]
    fn bare_numbers_negative_and_garbage_are_rejected_with_the_reason() {
        assert!(parse("30").unwrap_err().contains("bare number"));
        assert!(parse("-5s").unwrap_err().contains("non-negative"));
        assert!(parse("soon").unwrap_err().contains("`soon`"));
        assert!(parse("").unwrap_err().contains("empty"));
    }

    #[test]
    fn formatting_is_compact_and_round_trips() {
        for (d, s) in [
            (0, "0s"),
            (800, "800ms"),
            (290_800, "4m50.8s"),
            (3_600_000, "1h"),
            (61_050, "1m1.05s"),
        ] {
            assert_eq!(format(Duration::from_millis(d)), s);
            assert_eq!(
                parse(s).unwrap(),
                Duration::from_millis(d),
                "{s} round-trips"
            );
        }
    }
}
