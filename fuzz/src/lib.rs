//! Shared pieces of Warden's fuzz targets: the validator under test and structured tokens
//! built from arbitrary header and claims fields, then encoded and signed for real.
#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

use arbitrary::Arbitrary;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use warden_benches::{Alg, HMAC_SECRET, NOW};
use warden_blacklist::{MemoryStore, Revocation, RevocationStore, Target};
use warden_policy::Policy;
use warden_validator::{FixedClock, KeyFormat, KeySet, Validator};

/// Returns the shared validator: the HS256 default-like policy, the benchmark HMAC secret,
/// a clock at [`NOW`] and a revocation list with one `jti`, one subject and one key id.
pub fn validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let policy = Policy::from_yaml_str(
            &warden_benches::default_policy_yaml(&["HS256", "HS384"]),
            "fuzz",
        )
        .unwrap_or_else(|error| panic!("fuzz policy does not load: {error}"));
        build(policy)
    })
}

/// Builds a validator for `policy` with the fuzz key, clock and revocation list.
pub fn build(policy: Policy) -> Validator {
    let keys = KeySet::from_bytes(HMAC_SECRET, KeyFormat::HmacRaw, "fuzz secret")
        .unwrap_or_else(|error| panic!("fuzz key does not load: {error}"));
    let store = MemoryStore::new();
    let targets = [
        Target::Jti {
            issuer: None,
            jti: "revoked-jti".to_owned(),
        },
        Target::Subject {
            issuer: None,
            subject: "revoked-subject".to_owned(),
            issued_before: NOW,
        },
        Target::KeyId {
            kid: "revoked-kid".to_owned(),
        },
    ];
    for target in targets {
        let _ = store.revoke(Revocation::new(target, NOW - 10, None));
    }
    Validator::builder(policy, keys)
        .clock(Arc::new(FixedClock(NOW)))
        .revocations(Arc::new(store))
        .build()
        .unwrap_or_else(|error| panic!("fuzz validator does not build: {error}"))
}

/// Returns one valid HS256 token, used to exercise policies that load.
pub fn sample_token() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| {
        warden_benches::tokens(Alg::Hs256, 1, None)
            .ok()
            .and_then(|mut tokens| tokens.pop())
            .unwrap_or_default()
    })
}

/// A JSON value from fuzz input. Objects are written as given, so they can repeat a name.
#[derive(Debug, Clone, Arbitrary)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A number with a fraction; non-finite values are written as `1e999`.
    Float(f64),
    /// A string.
    Str(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, members in order, names possibly repeated.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Appends the JSON text of the value to `out`.
    pub fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
            Json::Int(value) => {
                let _ = write!(out, "{value}");
            }
            Json::Float(value) if value.is_finite() => {
                let _ = write!(out, "{value:e}");
            }
            Json::Float(_) => out.push_str("1e999"),
            Json::Str(text) => write_string(text, out),
            Json::Array(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Object(members) => write_object(members.iter().map(|(k, v)| (k.as_str(), v)), out),
        }
    }
}

fn write_string(text: &str, out: &mut String) {
    out.push_str(&serde_json::Value::from(text).to_string());
}

fn write_object<'a>(members: impl Iterator<Item = (&'a str, &'a Json)>, out: &mut String) {
    out.push('{');
    for (index, (name, value)) in members.enumerate() {
        if index > 0 {
            out.push(',');
        }
        write_string(name, out);
        out.push(':');
        value.write(out);
    }
    out.push('}');
}

/// A claim or header value: plain JSON, or a time near [`NOW`] so time rules are reached.
#[derive(Debug, Clone, Arbitrary)]
pub enum Value {
    /// Any JSON value.
    Json(Json),
    /// `NOW` plus this many seconds.
    Time(i32),
    /// A string.
    Text(String),
    /// A string from a short list that the default policy treats specially.
    Known(Known),
}

/// Strings the default policy and the fuzz revocation list react to.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Known {
    /// A suspicious role.
    Root,
    /// A suspicious role in another letter case.
    SuperAdmin,
    /// The revoked `jti`.
    RevokedJti,
    /// The revoked subject.
    RevokedSubject,
    /// The revoked key id.
    RevokedKid,
    /// An allowed algorithm.
    Hs256,
    /// Another allowed algorithm.
    Hs384,
    /// `none` in upper case.
    NoneUpper,
}

impl Value {
    fn to_json(&self) -> Json {
        match self {
            Value::Json(json) => json.clone(),
            Value::Time(offset) => Json::Int(NOW + i64::from(*offset)),
            Value::Text(text) => Json::Str(text.clone()),
            Value::Known(known) => Json::Str(
                match known {
                    Known::Root => "root",
                    Known::SuperAdmin => "SuperAdmin",
                    Known::RevokedJti => "revoked-jti",
                    Known::RevokedSubject => "revoked-subject",
                    Known::RevokedKid => "revoked-kid",
                    Known::Hs256 => "HS256",
                    Known::Hs384 => "HS384",
                    Known::NoneUpper => "NONE",
                }
                .to_owned(),
            ),
        }
    }
}

/// Member names with a meaning in the header or the claims, plus any other name.
#[derive(Debug, Clone, Arbitrary)]
pub enum Name {
    /// A registered or modelled name, by index into [`NAMES`].
    Known(u8),
    /// Any other name.
    Other(String),
}

/// Header parameters and claims Warden reads.
pub const NAMES: [&str; 18] = [
    "alg", "typ", "kid", "crit", "jwk", "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "role",
    "roles", "permissions", "scope", "name", "session_id",
];

impl Name {
    fn as_str(&self) -> &str {
        match self {
            Name::Known(index) => NAMES
                .get(usize::from(*index) % NAMES.len())
                .copied()
                .unwrap_or("alg"),
            Name::Other(name) => name,
        }
    }
}

/// Change made to the signature after signing.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Signature {
    /// Left as signed.
    Valid,
    /// One bit flipped at a byte position (taken modulo the length).
    FlipBit(u16, u8),
    /// Cut to this many bytes (modulo the length).
    Truncate(u16),
    /// Signed with another secret.
    OtherKey,
}

/// A token built from fuzzed fields and signed with the fuzz secret.
#[derive(Debug, Clone, Arbitrary)]
pub struct StructuredToken {
    /// HMAC used for signing. The header's `alg` may name another algorithm.
    pub sign_with: SignWith,
    /// Header members, written in order.
    pub header: Vec<(Name, Value)>,
    /// Claims, written in order.
    pub claims: Vec<(Name, Value)>,
    /// Claims every well-formed token gets, unless they are switched off.
    pub baseline: bool,
    /// Signature mutation.
    pub signature: Signature,
}

/// HMAC used to sign a structured token.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum SignWith {
    /// HMAC-SHA-256.
    Hs256,
    /// HMAC-SHA-384.
    Hs384,
}

impl StructuredToken {
    /// Encodes and signs the token; returns it and whether its signature was altered.
    pub fn encode(&self) -> (String, bool) {
        let (alg_name, algorithm) = match self.sign_with {
            SignWith::Hs256 => ("HS256", aws_lc_rs::hmac::HMAC_SHA256),
            SignWith::Hs384 => ("HS384", aws_lc_rs::hmac::HMAC_SHA384),
        };
        let mut header = String::new();
        let alg = Json::Str(alg_name.to_owned());
        let members = self.header.iter().map(|(name, value)| (name.as_str(), value.to_json()));
        let mut all: Vec<(String, Json)> = Vec::new();
        if !self.header.iter().any(|(name, _)| name.as_str() == "alg") {
            all.push(("alg".to_owned(), alg));
        }
        all.extend(members.map(|(name, value)| (name.to_owned(), value)));
        write_object(all.iter().map(|(name, value)| (name.as_str(), value)), &mut header);

        let mut claims: Vec<(String, Json)> = Vec::new();
        if self.baseline {
            for (name, value) in [
                ("sub", Json::Str("fuzz-user".to_owned())),
                ("iat", Json::Int(NOW - 60)),
                ("exp", Json::Int(NOW + 3_600)),
                ("jti", Json::Str("fuzz-jti".to_owned())),
            ] {
                if !self.claims.iter().any(|(other, _)| other.as_str() == name) {
                    claims.push((name.to_owned(), value));
                }
            }
        }
        claims.extend(
            self.claims
                .iter()
                .map(|(name, value)| (name.as_str().to_owned(), value.to_json())),
        );
        let mut payload = String::new();
        write_object(claims.iter().map(|(name, value)| (name.as_str(), value)), &mut payload);

        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let secret: &[u8] = match self.signature {
            Signature::OtherKey => b"another-secret-of-the-fuzz-harness-0123456789abcd",
            _ => HMAC_SECRET,
        };
        let key = aws_lc_rs::hmac::Key::new(algorithm, secret);
        let mut signature = aws_lc_rs::hmac::sign(&key, signing_input.as_bytes())
            .as_ref()
            .to_vec();
        let altered = match self.signature {
            Signature::Valid => false,
            Signature::FlipBit(position, bit) => {
                let index = usize::from(position) % signature.len();
                if let Some(byte) = signature.get_mut(index) {
                    *byte ^= 1 << (bit % 8);
                }
                true
            }
            Signature::Truncate(length) => {
                signature.truncate(usize::from(length) % signature.len());
                true
            }
            Signature::OtherKey => true,
        };
        let token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature));
        (token, altered)
    }
}
