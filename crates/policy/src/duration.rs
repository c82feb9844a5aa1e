use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A span of whole seconds written with units, such as `30d`, `15m` or `1h30m`.
///
/// Units are `w` (7 days), `d`, `h`, `m` and `s`, largest first, each at most once.
/// A bare number is rejected, so nobody has to guess whether `60` means seconds or minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(u64);

/// Reason a duration string is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration `{text}`: {reason}; write it with units, for example `30d`, `15m` or `1h30m`"
)]
pub struct DurationError {
    text: String,
    reason: &'static str,
}

const UNITS: [(char, u64); 5] = [
    ('w', 604_800),
    ('d', 86_400),
    ('h', 3_600),
    ('m', 60),
    ('s', 1),
];

/// Longest accepted duration: 100 years, far past any token lifetime.
const MAX_SECONDS: u64 = 100 * 365 * 86_400;

impl Duration {
    /// Builds a duration from seconds.
    pub const fn from_secs(seconds: u64) -> Self {
        Duration(seconds)
    }

    /// Returns the length in seconds.
    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// Returns the length in seconds as a float, for comparisons with NumericDates.
    pub fn as_f64(self) -> f64 {
        // Durations are capped at MAX_SECONDS (< 2^53), so the conversion is exact.
        #[allow(clippy::cast_precision_loss)]
        let seconds = self.0 as f64;
        seconds
    }
}

impl FromStr for Duration {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |reason| DurationError {
            text: text.to_owned(),
            reason,
        };
        if text.is_empty() {
            return Err(error("it is empty"));
        }
        let mut total: u64 = 0;
        let mut digits = String::new();
        let mut next_unit = 0;
        for character in text.chars() {
            if character.is_ascii_digit() {
                digits.push(character);
                continue;
            }
            let position = UNITS
                .iter()
                .position(|(unit, _)| *unit == character)
                .ok_or_else(|| error("unknown unit; use w, d, h, m or s"))?;
            if position < next_unit {
                return Err(error("units must appear once each, largest first"));
            }
            if digits.is_empty() {
                return Err(error("a unit has no number before it"));
            }
            let count: u64 = digits.parse().map_err(|_| error("number is too large"))?;
            let (_, unit_seconds) = UNITS.get(position).copied().unwrap_or(('s', 1));
            total = count
                .checked_mul(unit_seconds)
                .and_then(|seconds| total.checked_add(seconds))
                .filter(|seconds| *seconds <= MAX_SECONDS)
                .ok_or_else(|| error("longer than 100 years"))?;
            digits.clear();
            next_unit = position + 1;
        }
        if !digits.is_empty() {
            return Err(error("the last number has no unit"));
        }
        Ok(Duration(total))
    }
}

impl fmt::Display for Duration {
    /// Writes the canonical form in days, hours, minutes and seconds, largest first, such
    /// as `30d` or `1h30m`; zero is `0s`. Weeks are accepted on input but not written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.0;
        for (unit, unit_seconds) in UNITS.into_iter().skip(1) {
            let count = rest / unit_seconds;
            if count > 0 {
                write!(f, "{count}{unit}")?;
                rest %= unit_seconds;
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;

        impl serde::de::Visitor<'_> for DurationVisitor {
            type Value = Duration;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration with units, such as `30d` or `15m`")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Duration, E> {
                text.parse().map_err(E::custom)
            }

            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Duration, E> {
                Err(E::custom(format_args!(
                    "duration `{value}` has no unit; write `{value}s`, `{value}m` or similar"
                )))
            }

            fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Duration, E> {
                Err(E::custom(format_args!("duration `{value}` has no unit")))
            }
        }

        deserializer.deserialize_any(DurationVisitor)
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl schemars::JsonSchema for Duration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A duration with units w, d, h, m, s, largest first, such as `30d` or `1h30m`.",
            "type": "string",
            "pattern": "^([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!("30d".parse::<Duration>().unwrap().as_secs(), 30 * 86_400);
        assert_eq!("15m".parse::<Duration>().unwrap().as_secs(), 900);
        assert_eq!("1h30m".parse::<Duration>().unwrap().as_secs(), 5_400);
        assert_eq!("2w".parse::<Duration>().unwrap().as_secs(), 14 * 86_400);
        assert_eq!("0s".parse::<Duration>().unwrap().as_secs(), 0);
    }

    #[test]
    fn rejects_malformed() {
        for text in [
            "",
            "30",
            "d",
            "1x",
            "1m1h",
            "1h1h",
            "-5s",
            "1.5h",
            "5 m",
            "99999999999w",
        ] {
            assert!(text.parse::<Duration>().is_err(), "{text}");
        }
    }

    #[test]
    fn display_is_canonical() {
        assert_eq!(Duration::from_secs(5_400).to_string(), "1h30m");
        assert_eq!(Duration::from_secs(0).to_string(), "0s");
        assert_eq!(Duration::from_secs(90_061).to_string(), "1d1h1m1s");
        assert_eq!("90m".parse::<Duration>().unwrap().to_string(), "1h30m");
        assert_eq!("2w".parse::<Duration>().unwrap().to_string(), "14d");
        assert_eq!("30d".parse::<Duration>().unwrap().to_string(), "30d");
    }
}
