//! Round-trip properties of NumericDate. 64 cases per property by default; set
//! `PROPTEST_CASES` for longer runs.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use proptest::prelude::*;
use serde_json::Value;
use warden_claims::NumericDate;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(64);
    ProptestConfig::with_cases(cases)
}

/// Largest whole second a NumericDate accepts: 9999-12-31T23:59:59Z.
const MAX_SECONDS: i64 = 253_402_300_799;

proptest! {
    #![proptest_config(config())]

    #[test]
    fn whole_seconds_round_trip(seconds in 0..=MAX_SECONDS) {
        let date = NumericDate::from_json(&Value::from(seconds)).unwrap();
        prop_assert_eq!(date.as_secs(), seconds);
        let text = date.to_string();
        prop_assert_eq!(&text, &seconds.to_string());
        let reparsed = NumericDate::from_json(&serde_json::from_str(&text).unwrap()).unwrap();
        prop_assert_eq!(reparsed, date);
        prop_assert_eq!(serde_json::to_string(&date).unwrap(), text);
    }

    #[test]
    fn fractions_round_trip(seconds in 0.0..=NumericDate::MAX_SECONDS) {
        let date = NumericDate::from_f64(seconds).unwrap();
        let json = serde_json::to_string(&date).unwrap();
        let reparsed = NumericDate::from_json(&serde_json::from_str(&json).unwrap()).unwrap();
        prop_assert_eq!(reparsed.as_f64(), seconds);
        prop_assert_eq!(reparsed.as_secs(), seconds.floor() as i64);
    }

    #[test]
    fn out_of_range_rejected(seconds in prop_oneof![i64::MIN..0, MAX_SECONDS + 1..=i64::MAX]) {
        prop_assert!(NumericDate::from_json(&Value::from(seconds)).is_err());
        prop_assert!(NumericDate::from_secs(seconds).is_err());
    }
}

/// Found by `fractions_round_trip`: serde_json's default float parser read this value back
/// one ULP off until the workspace enabled its `float_roundtrip` feature.
#[test]
fn fraction_survives_json() {
    let seconds = 131_512_144_118.780_79;
    let date = NumericDate::from_f64(seconds).unwrap();
    let json = serde_json::to_string(&date).unwrap();
    let reparsed = NumericDate::from_json(&serde_json::from_str(&json).unwrap()).unwrap();
    assert_eq!(reparsed.as_f64(), seconds);
}
