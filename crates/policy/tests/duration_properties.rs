//! Round-trip properties of policy durations. 64 cases per property by default; set
//! `PROPTEST_CASES` for longer runs.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use proptest::prelude::*;
use warden_policy::Duration;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(64);
    ProptestConfig::with_cases(cases)
}

/// Maximum duration a policy accepts: 100 years of 365 days.
const MAX_SECONDS: u64 = 100 * 365 * 86_400;

proptest! {
    #![proptest_config(config())]

    #[test]
    fn display_parses_back(seconds in 0..=MAX_SECONDS) {
        let text = Duration::from_secs(seconds).to_string();
        prop_assert_eq!(text.parse::<Duration>().unwrap().as_secs(), seconds);
    }

    #[test]
    fn units_parse_to_their_sum(
        weeks in 0_u64..100, days in 0_u64..1_000, hours in 0_u64..1_000,
        minutes in 0_u64..1_000, seconds in 0_u64..100_000,
    ) {
        let text = format!("{weeks}w{days}d{hours}h{minutes}m{seconds}s");
        let expected = weeks * 604_800 + days * 86_400 + hours * 3_600 + minutes * 60 + seconds;
        let parsed = text.parse::<Duration>().unwrap();
        prop_assert_eq!(parsed.as_secs(), expected);
        prop_assert_eq!(parsed.to_string().parse::<Duration>().unwrap(), parsed);
    }

    #[test]
    fn longer_than_limit_rejected(seconds in MAX_SECONDS + 1..=u64::MAX / 2) {
        let text = format!("{seconds}s");
        prop_assert!(text.parse::<Duration>().is_err());
    }

    #[test]
    fn parse_never_panics(text in "\\PC{0,24}") {
        let _ = text.parse::<Duration>();
    }
}
