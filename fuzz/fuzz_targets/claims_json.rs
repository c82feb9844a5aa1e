//! Claims and header decoding from arbitrary JSON bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_claims::{Claims, Header};

fuzz_target!(|data: &[u8]| {
    if let Ok(claims) = Claims::from_json(data) {
        let _ = claims.to_value();
        let _ = claims.all_roles().count();
        for error in &claims.type_errors {
            assert!(claims.contains(error.claim), "claim `{}` with a type error counts as absent", error.claim);
        }
    }
    if let Ok(header) = Header::from_json(data) {
        let _ = header.embedded_key_parameters().count();
    }
});
