//! Tokens built from arbitrary header and claims fields, then encoded and signed with the
//! real key. A token whose signature was altered after signing is never allowed, and no
//! claim is reported from it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_fuzz::StructuredToken;

fuzz_target!(|input: StructuredToken| {
    let (token, altered) = input.encode();
    let report = warden_fuzz::validator().validate(&token);
    if altered {
        assert!(!report.is_allowed(), "a token with an altered signature was allowed");
        assert!(report.claims.is_none(), "claims were read from an unverified token");
    }
    if report.is_allowed() {
        assert!(report.claims.is_some(), "an allowed report has no claims");
        assert!(report.header.is_some(), "an allowed report has no header");
    }
});
