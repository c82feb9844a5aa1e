//! The `refresh` section: when a token may be exchanged for a new one.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::Duration;

/// When a token may be refreshed: while valid and within its last `window` of life, or up
/// to `grace` after it expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshPolicy {
    /// The last part of a token's life in which it may be refreshed, such as `1h`.
    pub window: Duration,
    /// How long after `exp` an expired token may still be refreshed. Default `0s`.
    #[serde(default)]
    pub grace: Duration,
}

impl RefreshPolicy {
    /// Returns true when a token expiring at `exp` may be refreshed at `now` (Unix
    /// seconds), the validity of everything else aside.
    pub fn is_due(&self, exp: i64, now: i64) -> bool {
        let window = i64::try_from(self.window.as_secs()).unwrap_or(i64::MAX);
        let grace = i64::try_from(self.grace.as_secs()).unwrap_or(i64::MAX);
        now >= exp.saturating_sub(window) && now <= exp.saturating_add(grace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RefreshPolicy {
        RefreshPolicy {
            window: Duration::from_secs(3_600),
            grace: Duration::from_secs(300),
        }
    }

    #[test]
    fn due_inside_window_and_grace() {
        let exp = 10_000;
        assert!(!policy().is_due(exp, exp - 3_601));
        assert!(policy().is_due(exp, exp - 3_600));
        assert!(policy().is_due(exp, exp));
        assert!(policy().is_due(exp, exp + 300));
        assert!(!policy().is_due(exp, exp + 301));
    }
}
