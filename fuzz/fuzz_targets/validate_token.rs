//! Whole-token validation from arbitrary bytes: the validator must return a report, never
//! panic, and deny whenever a finding is an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_policy::Severity;

fuzz_target!(|data: &[u8]| {
    let token = String::from_utf8_lossy(data);
    let report = warden_fuzz::validator().validate(&token);
    let has_error = report
        .findings
        .iter()
        .any(|finding| finding.severity == Severity::Error);
    assert_eq!(report.is_allowed(), !has_error);
    assert!(report.is_allowed() || !report.findings.is_empty());
});
