use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::{FormatError, Part};

/// A compact JWS split into its three base64url segments, not yet decoded or verified.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CompactToken<'a> {
    signing_input: &'a str,
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
}

impl<'a> CompactToken<'a> {
    /// Splits `token` into header, payload and signature segments.
    ///
    /// Leading and trailing ASCII whitespace is ignored; anything else must be exactly
    /// three segments separated by two dots. Segments are decoded later, on demand.
    pub fn parse(token: &'a str) -> Result<Self, FormatError> {
        let token = token.trim_ascii();
        if token.is_empty() {
            return Err(FormatError::Empty);
        }
        if token.starts_with('{') {
            return Err(FormatError::JsonSerialization);
        }
        let mut segments = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(FormatError::SegmentCount {
                found: token.split('.').count(),
            });
        };
        if header.is_empty() {
            return Err(FormatError::EmptySegment { part: Part::Header });
        }
        let signing_input_len = header.len() + 1 + payload.len();
        let signing_input = token.get(..signing_input_len).unwrap_or_default();
        Ok(CompactToken {
            signing_input,
            header,
            payload,
            signature,
        })
    }

    /// Returns `header.payload`, the bytes the signature covers.
    pub fn signing_input(&self) -> &'a str {
        self.signing_input
    }

    /// Returns the base64url header segment.
    pub fn header_segment(&self) -> &'a str {
        self.header
    }

    /// Returns the base64url payload segment.
    pub fn payload_segment(&self) -> &'a str {
        self.payload
    }

    /// Returns the base64url signature segment.
    pub fn signature_segment(&self) -> &'a str {
        self.signature
    }

    /// Decodes the header segment into JSON bytes.
    pub fn decode_header(&self) -> Result<Vec<u8>, FormatError> {
        decode_segment(self.header, Part::Header)
    }

    /// Decodes the payload segment into JSON bytes.
    pub fn decode_payload(&self) -> Result<Vec<u8>, FormatError> {
        decode_segment(self.payload, Part::Payload)
    }

    /// Decodes the signature segment into raw signature bytes.
    pub fn decode_signature(&self) -> Result<Vec<u8>, FormatError> {
        decode_segment(self.signature, Part::Signature)
    }

    /// Returns the token's identity: SHA-256 of the signing input.
    pub fn id(&self) -> TokenId {
        TokenId::of_signing_input(self.signing_input)
    }
}

impl fmt::Debug for CompactToken<'_> {
    /// Prints only the identity, because a compact token is a bearer credential.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompactToken")
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

/// Decodes one segment as canonical unpadded base64url (RFC 7515 section 2).
///
/// The `base64` engine rejects padding, characters outside the URL-safe alphabet and
/// non-zero trailing bits, so each byte string has exactly one accepted encoding.
pub fn decode_segment(segment: &str, part: Part) -> Result<Vec<u8>, FormatError> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|error| FormatError::Base64 {
            part,
            reason: describe_base64_error(&error),
        })
}

fn describe_base64_error(error: &base64::DecodeError) -> String {
    use base64::DecodeError;
    match error {
        DecodeError::InvalidByte(offset, b'=') => {
            format!("padding `=` at offset {offset} is not allowed")
        }
        DecodeError::InvalidByte(offset, byte) => {
            format!(
                "invalid character `{}` at offset {offset}",
                char::from(*byte).escape_default()
            )
        }
        DecodeError::InvalidLength(length) => format!("invalid length {length}"),
        DecodeError::InvalidLastSymbol { offset, .. } => {
            format!("stray bits in the last character, at offset {offset}")
        }
        DecodeError::InvalidPadding => "padding is not allowed".to_owned(),
    }
}

/// Identity of a token: SHA-256 over its signing input (`header.payload`).
///
/// The signature is left out on purpose, so re-encoding or re-signing the same header and
/// claims, such as swapping an ECDSA signature `(r, s)` for its twin `(r, n - s)`, yields
/// the same identity. Revocation by identity therefore cannot be dodged by signature
/// malleability. Inputs that are not three segments are hashed whole.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenId([u8; 32]);

impl TokenId {
    /// Number of hex digits in [`TokenId::short`].
    pub const SHORT_LEN: usize = 12;

    /// Computes the identity of a signing input.
    pub fn of_signing_input(signing_input: &str) -> Self {
        TokenId(Sha256::digest(signing_input.as_bytes()).into())
    }

    /// Computes the identity of any input: the signing input's hash when the input is a
    /// compact token, otherwise the hash of the trimmed input.
    pub fn of_input(input: &str) -> Self {
        match CompactToken::parse(input) {
            Ok(token) => token.id(),
            Err(_) => TokenId(Sha256::digest(input.trim_ascii().as_bytes()).into()),
        }
    }

    /// Computes the identity of input that is not parsed at all, such as the first bytes of
    /// an oversized token: the SHA-256 of the bytes.
    pub fn of_bytes(bytes: &[u8]) -> Self {
        TokenId(Sha256::digest(bytes).into())
    }

    /// Wraps raw digest bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        TokenId(bytes)
    }

    /// Returns the raw digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Returns the first [`TokenId::SHORT_LEN`] hex digits, used to name a token in output.
    pub fn short(&self) -> String {
        hex::encode(self.0.get(..Self::SHORT_LEN / 2).unwrap_or_default())
    }

    /// Parses 64 hex digits.
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut bytes = [0_u8; 32];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(TokenId(bytes))
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenId({})", self.short())
    }
}

impl Serialize for TokenId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_counts() {
        assert!(CompactToken::parse("a.b.c").is_ok());
        assert!(CompactToken::parse("a.b.").is_ok());
        // An empty payload is a valid JWS (it signs zero bytes); only JSON parsing rejects it.
        assert!(CompactToken::parse("a..c").is_ok());
        assert_eq!(
            CompactToken::parse(".b.c"),
            Err(FormatError::EmptySegment { part: Part::Header })
        );
        assert_eq!(
            CompactToken::parse("a.b"),
            Err(FormatError::SegmentCount { found: 2 })
        );
        assert_eq!(
            CompactToken::parse("a.b.c.d"),
            Err(FormatError::SegmentCount { found: 4 })
        );
        assert_eq!(
            CompactToken::parse("a.b.c.d.e"),
            Err(FormatError::SegmentCount { found: 5 })
        );
        assert_eq!(
            CompactToken::parse("abc"),
            Err(FormatError::SegmentCount { found: 1 })
        );
        assert_eq!(CompactToken::parse("  "), Err(FormatError::Empty));
        assert_eq!(
            CompactToken::parse("{\"payload\":1}"),
            Err(FormatError::JsonSerialization)
        );
    }

    #[test]
    fn signing_input_excludes_signature() {
        let token = CompactToken::parse(" hdr.pay.sig\n").unwrap();
        assert_eq!(token.signing_input(), "hdr.pay");
        assert_eq!(token.signature_segment(), "sig");
    }

    #[test]
    fn base64url_must_be_canonical() {
        assert_eq!(decode_segment("YQ", Part::Header).unwrap(), b"a");
        // Padding, the standard alphabet, whitespace and stray trailing bits are rejected.
        assert!(decode_segment("YQ==", Part::Header).is_err());
        assert!(decode_segment("a+b/", Part::Header).is_err());
        assert!(decode_segment("Y Q", Part::Header).is_err());
        assert!(decode_segment("YR", Part::Header).is_err());
        assert!(decode_segment("Y", Part::Header).is_err());
        let error = decode_segment("YR", Part::Header).unwrap_err().to_string();
        assert_eq!(
            error,
            "header is not canonical base64url: stray bits in the last character, at offset 1"
        );
        let error = decode_segment("Y?Q", Part::Payload)
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "payload is not canonical base64url: invalid character `?` at offset 1"
        );
    }

    #[test]
    fn identity_ignores_signature() {
        let first = CompactToken::parse("hdr.pay.sig1").unwrap().id();
        let second = CompactToken::parse("hdr.pay.other").unwrap().id();
        let third = CompactToken::parse("hdr.pay2.sig1").unwrap().id();
        assert_eq!(first, second);
        assert_ne!(first, third);
        assert_eq!(TokenId::of_input("hdr.pay.x"), first);
        assert_eq!(TokenId::from_hex(&first.to_string()), Some(first));
        assert_eq!(first.short().len(), TokenId::SHORT_LEN);
    }
}
