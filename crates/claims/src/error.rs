use std::fmt;

/// Part of a compact JWS that an error refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Part {
    /// The JOSE header, the first segment.
    Header,
    /// The claims set, the second segment.
    Payload,
    /// The signature, the third segment.
    Signature,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Header => "header",
            Part::Payload => "payload",
            Part::Signature => "signature",
        })
    }
}

/// Reason a token's bytes are not a well-formed compact JWS.
///
/// Messages are lowercase single lines that never quote the token itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The input is empty or only whitespace.
    #[error("token is empty")]
    Empty,
    /// The input starts with `{`: JWS JSON serialisation, which Warden does not accept.
    #[error("JWS JSON serialisation is not supported; expected a compact token")]
    JsonSerialization,
    /// The input does not have exactly three dot-separated segments.
    #[error("expected 3 dot-separated segments, found {found}{hint}", hint = segment_hint(*found))]
    SegmentCount {
        /// Number of segments found.
        found: usize,
    },
    /// The header segment is empty.
    #[error("{part} segment is empty")]
    EmptySegment {
        /// The empty segment.
        part: Part,
    },
    /// A segment is not canonical unpadded base64url.
    #[error("{part} is not canonical base64url: {reason}")]
    Base64 {
        /// Segment that failed to decode.
        part: Part,
        /// Description of the problem.
        reason: String,
    },
    /// A decoded segment is not valid JSON.
    #[error("{part} is not valid JSON: {reason}")]
    Json {
        /// Segment that failed to parse.
        part: Part,
        /// The parser's message.
        reason: String,
    },
    /// A decoded segment is JSON but not an object.
    #[error("{part} is not a JSON object")]
    NotAnObject {
        /// Segment that is not an object.
        part: Part,
    },
    /// A member name appears twice in the same object.
    #[error("duplicate member `{name}` in {part}")]
    DuplicateMember {
        /// Segment that contains the duplicate.
        part: Part,
        /// The repeated member name, after JSON unescaping.
        name: String,
    },
    /// A header parameter has the wrong JSON type.
    #[error("header parameter `{name}` must be {expected}")]
    HeaderType {
        /// Header parameter name.
        name: &'static str,
        /// Expected JSON type, in words.
        expected: &'static str,
    },
    /// The header has no `alg` parameter.
    #[error("header has no `alg` parameter")]
    MissingAlgorithm,
}

fn segment_hint(found: usize) -> &'static str {
    if found == 5 {
        " (JWE tokens are not supported)"
    } else {
        ""
    }
}
