use std::time::{SystemTime, UNIX_EPOCH};

/// Source of the current time, in whole seconds since the Unix epoch.
pub trait Clock: Send + Sync {
    /// Returns the current Unix time.
    fn now(&self) -> i64;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        let elapsed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
    }
}

/// A clock pinned to one instant, for tests and reproducible runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn now(&self) -> i64 {
        self.0
    }
}
