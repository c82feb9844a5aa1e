//! Policy YAML loading from arbitrary text; a policy that loads must also validate a token
//! without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_policy::Policy;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(policy) = Policy::from_yaml_str(text, "fuzz.yaml") else {
        return;
    };
    let uses_hmac = policy.algorithms.iter().any(|algorithm| {
        algorithm.family() == warden_claims::AlgorithmFamily::Hmac
    });
    if !uses_hmac {
        return;
    }
    let validator = warden_fuzz::build(policy);
    let report = validator.validate(warden_fuzz::sample_token());
    let _ = report.to_string();
});
