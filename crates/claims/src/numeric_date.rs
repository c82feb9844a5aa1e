use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::Value;

/// A JWT NumericDate (RFC 7519 section 2): seconds since the Unix epoch, UTC.
///
/// Fractional seconds are kept. Values are finite, non-negative and no later than
/// [`NumericDate::MAX_SECONDS`] (9999-12-31T23:59:59Z), so arithmetic on them cannot overflow.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct NumericDate(f64);

/// Reason a JSON value is not a NumericDate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NumericDateError {
    /// The value is not a JSON number.
    #[error("must be a number of seconds, found {0}")]
    NotANumber(&'static str),
    /// The number is negative.
    #[error("must not be negative")]
    Negative,
    /// The number is later than 9999-12-31T23:59:59Z or not finite.
    #[error("is out of range (later than year 9999)")]
    OutOfRange,
}

impl NumericDate {
    /// Latest accepted value: 9999-12-31T23:59:59Z.
    pub const MAX_SECONDS: f64 = 253_402_300_799.0;

    /// Builds a NumericDate from whole seconds since the epoch.
    pub fn from_secs(seconds: i64) -> Result<Self, NumericDateError> {
        // Every i64 in range converts to f64 exactly because MAX_SECONDS < 2^53.
        #[allow(clippy::cast_precision_loss)]
        Self::from_f64(seconds as f64)
    }

    /// Builds a NumericDate from seconds since the epoch, fractions allowed.
    pub fn from_f64(seconds: f64) -> Result<Self, NumericDateError> {
        if !seconds.is_finite() {
            return Err(NumericDateError::OutOfRange);
        }
        if seconds < 0.0 {
            return Err(NumericDateError::Negative);
        }
        if seconds > Self::MAX_SECONDS {
            return Err(NumericDateError::OutOfRange);
        }
        Ok(NumericDate(seconds))
    }

    /// Reads a NumericDate from a JSON claim value.
    pub fn from_json(value: &Value) -> Result<Self, NumericDateError> {
        match value {
            Value::Number(number) => {
                if let Some(integer) = number.as_i64() {
                    Self::from_secs(integer)
                } else if number.as_u64().is_some() {
                    Err(NumericDateError::OutOfRange)
                } else {
                    Self::from_f64(number.as_f64().unwrap_or(f64::NAN))
                }
            }
            other => Err(NumericDateError::NotANumber(json_type_name(other))),
        }
    }

    /// Returns the seconds since the epoch, with any fraction.
    pub fn as_f64(self) -> f64 {
        self.0
    }

    /// Returns the whole seconds since the epoch, rounded down.
    pub fn as_secs(self) -> i64 {
        // The value is within [0, MAX_SECONDS], so the cast is exact after floor().
        #[allow(clippy::cast_possible_truncation)]
        let seconds = self.0.floor() as i64;
        seconds
    }
}

impl fmt::Display for NumericDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.fract() == 0.0 {
            write!(f, "{}", self.as_secs())
        } else {
            write!(f, "{}", self.0)
        }
    }
}

impl Serialize for NumericDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.fract() == 0.0 {
            serializer.serialize_i64(self.as_secs())
        } else {
            serializer.serialize_f64(self.0)
        }
    }
}

/// Returns the JSON type of a value in words, for error messages.
pub(crate) fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_integer_and_fraction() {
        assert_eq!(
            NumericDate::from_json(&json!(1700000000))
                .unwrap()
                .as_secs(),
            1700000000
        );
        let fractional = NumericDate::from_json(&json!(1700000000.75)).unwrap();
        assert_eq!(fractional.as_secs(), 1700000000);
        assert!((fractional.as_f64() - 1700000000.75).abs() < 1e-6);
    }

    #[test]
    fn rejects_bad_values() {
        assert_eq!(
            NumericDate::from_json(&json!("1700000000")),
            Err(NumericDateError::NotANumber("a string"))
        );
        assert_eq!(
            NumericDate::from_json(&json!(-1)),
            Err(NumericDateError::Negative)
        );
        assert_eq!(
            NumericDate::from_json(&json!(-0.5)),
            Err(NumericDateError::Negative)
        );
        assert_eq!(
            NumericDate::from_json(&json!(1e300)),
            Err(NumericDateError::OutOfRange)
        );
        assert_eq!(
            NumericDate::from_json(&json!(u64::MAX)),
            Err(NumericDateError::OutOfRange)
        );
        assert_eq!(
            NumericDate::from_json(&json!(253_402_300_800_i64)),
            Err(NumericDateError::OutOfRange)
        );
        assert_eq!(
            NumericDate::from_json(&json!(null)),
            Err(NumericDateError::NotANumber("null"))
        );
        assert_eq!(
            NumericDate::from_f64(f64::INFINITY),
            Err(NumericDateError::OutOfRange)
        );
        assert_eq!(
            NumericDate::from_f64(f64::NAN),
            Err(NumericDateError::OutOfRange)
        );
    }

    #[test]
    fn display_round_trips() {
        for text in ["0", "1700000000", "1700000000.5", "253402300799"] {
            let value: Value = serde_json::from_str(text).unwrap();
            let date = NumericDate::from_json(&value).unwrap();
            assert_eq!(date.to_string(), text);
            assert_eq!(serde_json::to_string(&date).unwrap(), text);
        }
    }
}
