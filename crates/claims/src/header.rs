use serde::Serialize;
use serde_json::{Map, Value};

use crate::strict_json::{duplicate_error_text, parse_object};
use crate::{FormatError, Part};

/// A JOSE header (RFC 7515 section 4), parsed from the first segment.
///
/// `alg` is kept as written, so the validator can tell `none`, `NONE` and an unknown name
/// apart and report each. Parameters Warden does not model stay in [`Header::other`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Header {
    /// Signature algorithm name, exactly as written.
    pub alg: String,
    /// Media type of the whole token, for example `JWT`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// Content type of the payload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cty: Option<String>,
    /// Key id, used to pick a key from a key set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Extensions the recipient must understand (RFC 7515 section 4.1.11).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crit: Option<Vec<String>>,
    /// Every other parameter, such as `jwk`, `jku`, `x5u`, `x5c` or `b64`.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Header {
    /// Parses decoded header JSON.
    pub fn from_json(json: &[u8]) -> Result<Self, FormatError> {
        let mut alg = None;
        let mut header = Header {
            alg: String::new(),
            typ: None,
            cty: None,
            kid: None,
            crit: None,
            other: Map::new(),
        };
        let mut type_error = None;
        parse_object(json, Part::Header, |name, value| {
            let seen = match name.as_ref() {
                "alg" => store_string(&mut alg, value, "alg", &mut type_error),
                "typ" => store_string(&mut header.typ, value, "typ", &mut type_error),
                "cty" => store_string(&mut header.cty, value, "cty", &mut type_error),
                "kid" => store_string(&mut header.kid, value, "kid", &mut type_error),
                "crit" => store_crit(&mut header.crit, value, &mut type_error),
                _ => header.other.insert(name.to_string(), value).is_some(),
            };
            if seen {
                Err(duplicate_error_text(&name))
            } else {
                Ok(())
            }
        })?;
        if let Some(error) = type_error {
            return Err(error);
        }
        header.alg = alg.ok_or(FormatError::MissingAlgorithm)?;
        Ok(header)
    }

    /// Returns true when the header carries or points to a key (`jwk`, `jku`, `x5u`,
    /// `x5c`). Warden never fetches or trusts such keys.
    pub fn embedded_key_parameters(&self) -> impl Iterator<Item = &'static str> + '_ {
        ["jwk", "jku", "x5u", "x5c"]
            .into_iter()
            .filter(|name| self.other.contains_key(*name))
    }
}

/// Stores a string parameter; returns true when the slot was already filled.
fn store_string(
    slot: &mut Option<String>,
    value: Value,
    name: &'static str,
    type_error: &mut Option<FormatError>,
) -> bool {
    let seen = slot.is_some();
    match value {
        Value::String(text) => *slot = Some(text),
        _ => {
            *slot = Some(String::new());
            type_error.get_or_insert(FormatError::HeaderType {
                name,
                expected: "a string",
            });
        }
    }
    seen
}

fn store_crit(
    slot: &mut Option<Vec<String>>,
    value: Value,
    type_error: &mut Option<FormatError>,
) -> bool {
    let seen = slot.is_some();
    let names = match value {
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::String(text) => Some(text),
                _ => None,
            })
            .collect::<Option<Vec<String>>>(),
        _ => None,
    };
    match names {
        Some(names) if !names.is_empty() => *slot = Some(names),
        _ => {
            *slot = Some(Vec::new());
            type_error.get_or_insert(FormatError::HeaderType {
                name: "crit",
                expected: "a non-empty array of strings",
            });
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_and_other_parameters() {
        let header =
            Header::from_json(br#"{"alg":"HS256","typ":"JWT","kid":"k1","jku":"x"}"#).unwrap();
        assert_eq!(header.alg, "HS256");
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        assert_eq!(header.kid.as_deref(), Some("k1"));
        assert_eq!(
            header.embedded_key_parameters().collect::<Vec<_>>(),
            ["jku"]
        );
    }

    #[test]
    fn rejects_duplicates_even_escaped() {
        let plain = Header::from_json(br#"{"alg":"HS256","alg":"none"}"#);
        assert_eq!(
            plain,
            Err(FormatError::DuplicateMember {
                part: Part::Header,
                name: "alg".into()
            })
        );
        let escaped = Header::from_json(br#"{"alg":"HS256","\u0061lg":"none"}"#);
        assert_eq!(
            escaped,
            Err(FormatError::DuplicateMember {
                part: Part::Header,
                name: "alg".into()
            })
        );
        let nested = Header::from_json(br#"{"alg":"HS256","jwk":{"k":1,"k":2}}"#);
        assert_eq!(
            nested,
            Err(FormatError::DuplicateMember {
                part: Part::Header,
                name: "k".into()
            })
        );
    }

    #[test]
    fn rejects_bad_shapes() {
        assert_eq!(Header::from_json(b"{}"), Err(FormatError::MissingAlgorithm));
        assert_eq!(
            Header::from_json(b"[1]"),
            Err(FormatError::NotAnObject { part: Part::Header })
        );
        assert!(matches!(
            Header::from_json(b"{\"alg\":"),
            Err(FormatError::Json { .. })
        ));
        assert!(matches!(
            Header::from_json(br#"{"alg":"HS256"} x"#),
            Err(FormatError::Json { .. })
        ));
        assert_eq!(
            Header::from_json(br#"{"alg":5}"#),
            Err(FormatError::HeaderType {
                name: "alg",
                expected: "a string"
            })
        );
        assert_eq!(
            Header::from_json(br#"{"alg":"HS256","crit":[]}"#),
            Err(FormatError::HeaderType {
                name: "crit",
                expected: "a non-empty array of strings"
            })
        );
    }
}
