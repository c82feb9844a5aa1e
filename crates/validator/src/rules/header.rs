//! Rules on the verified JOSE header: `typ`, key-bearing parameters and `kid`.

use super::{Context, active, one_of};
use crate::findings::{Findings, Trace};
use crate::report::Code;

/// Longest `kid` not flagged for length alone, in bytes.
const MAX_PLAIN_KID_LEN: usize = 128;

pub(super) fn check_header(context: &Context<'_>, findings: &mut Findings, trace: &mut Trace) {
    let rules = &context.validator.policy().rules;
    let header = context.header;
    if let Some(rule) = &rules.typ
        && let Some(severity) = rule.severity.active()
    {
        let accepted = match header.typ.as_deref() {
            Some(typ) => rule
                .expected
                .iter()
                .any(|expected| typ_matches(expected, typ)),
            None => rule.optional,
        };
        trace.record("typ", accepted, || {
            (
                Some("typ".to_owned()),
                one_of(rule.expected.iter()),
                format!("{:?}", header.typ),
            )
        });
        if !accepted {
            let message = match header.typ.as_deref() {
                Some(typ) => format!(
                    "header `typ` is `{}`, expected {}",
                    typ.escape_debug(),
                    one_of(rule.expected.iter())
                ),
                None => format!(
                    "header has no `typ`, expected {}",
                    one_of(rule.expected.iter())
                ),
            };
            findings.add(Code::TypMismatch, severity, "typ", message);
        }
    }
    if let Some(severity) = active(rules.embedded_keys.as_ref().map(|rule| rule.severity)) {
        let present: Vec<&str> = header.embedded_key_parameters().collect();
        trace.record("embedded_keys", present.is_empty(), || {
            (
                None,
                "no jwk, jku, x5u or x5c".to_owned(),
                present.join(", "),
            )
        });
        for name in present {
            let message =
                format!("header carries `{name}`; Warden never uses or fetches keys a token names");
            findings.add(Code::EmbeddedKey, severity, "embedded_keys", message);
        }
    }
    if let (Some(severity), Some(kid)) = (
        active(rules.suspicious_kid.as_ref().map(|rule| rule.severity)),
        header.kid.as_deref(),
    ) {
        let reason = suspicious_kid_reason(kid);
        trace.record("suspicious_kid", reason.is_none(), || {
            (
                Some("kid".to_owned()),
                "a plain key id".to_owned(),
                shorten(kid),
            )
        });
        if let Some(reason) = reason {
            let message = format!("header `kid` `{}` {reason}", shorten(kid));
            findings.add(Code::SuspiciousKid, severity, "suspicious_kid", message);
        }
    }
}

/// Compares `typ` values case-insensitively, ignoring an `application/` prefix on either
/// side (RFC 7515 section 4.1.9).
fn typ_matches(expected: &str, actual: &str) -> bool {
    let strip = |value: &str| -> String {
        let lower = value.to_ascii_lowercase();
        lower
            .strip_prefix("application/")
            .map(str::to_owned)
            .unwrap_or(lower)
    };
    strip(expected) == strip(actual)
}

/// Returns why a `kid` looks like an attack on a key look-up, if it does.
fn suspicious_kid_reason(kid: &str) -> Option<&'static str> {
    if kid.len() > MAX_PLAIN_KID_LEN {
        return Some("is unusually long");
    }
    if kid.chars().any(char::is_control) {
        return Some("contains control characters");
    }
    if kid.contains("..") || kid.contains('/') || kid.contains('\\') {
        return Some("looks like a file path");
    }
    if kid.contains("://") {
        return Some("looks like a URL");
    }
    let injection = ["'", "\"", ";", "--", "$(", "`", "|", "${", "<", ">"];
    if injection.iter().any(|pattern| kid.contains(pattern)) {
        return Some("contains characters used in injection attacks");
    }
    None
}

/// Returns at most 64 characters of `value`, escaped for a one-line message.
fn shorten(value: &str) -> String {
    let escaped: String = value.escape_debug().collect();
    match escaped.char_indices().nth(64) {
        Some((index, _)) => format!("{}...", escaped.get(..index).unwrap_or_default()),
        None => escaped,
    }
}
