//! Parsing of instants given on the command line.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

/// Parses an RFC 3339 UTC timestamp (`2026-12-01T00:00:00Z`) or whole Unix seconds.
pub fn parse_instant(text: &str) -> Result<i64> {
    if let Ok(seconds) = text.parse::<i64>() {
        if seconds < 0 {
            bail!("time `{text}` is before 1970");
        }
        return Ok(seconds);
    }
    let instant = humantime::parse_rfc3339(text)
        .with_context(|| format!("invalid time `{text}`; expected RFC 3339 such as `2026-12-01T00:00:00Z` or Unix seconds"))?;
    let since_epoch = instant.duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_secs()).with_context(|| format!("time `{text}` is out of range"))
}

/// Formats Unix seconds as RFC 3339 UTC.
pub fn format_instant(seconds: i64) -> String {
    let seconds = u64::try_from(seconds).unwrap_or_default();
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(seconds)).to_string()
}

/// Returns the current Unix time.
pub fn now() -> i64 {
    let elapsed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
}
