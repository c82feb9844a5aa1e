use serde::Serialize;
use serde_json::{Map, Value};

use crate::numeric_date::json_type_name;
use crate::strict_json::{duplicate_error_text, parse_object};
use crate::{FormatError, NumericDate, Part};

/// The `aud` claim: one audience or a list (RFC 7519 section 4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Audience {
    /// A single audience string.
    One(String),
    /// A list of audience strings.
    Many(Vec<String>),
}

impl Audience {
    /// Iterates over every audience value.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let slice = match self {
            Audience::One(one) => std::slice::from_ref(one),
            Audience::Many(many) => many.as_slice(),
        };
        slice.iter().map(String::as_str)
    }
}

/// A claim whose value has the wrong JSON type for its registered meaning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("claim `{claim}` {reason}")]
pub struct ClaimTypeError {
    /// Claim name.
    pub claim: &'static str,
    /// Description of the problem, for example "must be a string, found a number".
    pub reason: String,
}

/// A JWT claims set (RFC 7519 section 4) with the claims Warden's policies read typed.
///
/// Every claim that is not modelled here, and every modelled claim whose value had the
/// wrong type, is kept in [`Claims::other`], so nothing in the token is lost.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Claims {
    /// Issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Audience.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
    /// Expiration time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<NumericDate>,
    /// Not-before time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<NumericDate>,
    /// Issued-at time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<NumericDate>,
    /// JWT id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// A single role, from the `role` claim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Roles from the `roles` claim, a string or a list of strings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// Permissions from the `permissions` claim, a list of strings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
    /// OAuth scopes from the `scope` claim, a space-separated string (RFC 8693).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_scope"
    )]
    pub scope: Option<Vec<String>>,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Session id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Every other claim, including resource-access lists such as `camera_access`, and
    /// modelled claims whose value had the wrong type.
    #[serde(flatten)]
    pub other: Map<String, Value>,
    /// Type errors found while reading modelled claims.
    #[serde(skip)]
    pub type_errors: Vec<ClaimTypeError>,
}

impl Claims {
    /// Parses decoded payload JSON.
    ///
    /// Syntax errors, a non-object payload and duplicate names are errors. A modelled
    /// claim of the wrong type is not: it is recorded in [`Claims::type_errors`] and kept in
    /// [`Claims::other`], so the claim still counts as present.
    pub fn from_json(json: &[u8]) -> Result<Self, FormatError> {
        let mut claims = Claims::default();
        parse_object(json, Part::Payload, |name, value| {
            if claims.contains(&name) {
                return Err(duplicate_error_text(&name));
            }
            claims.store(name.as_ref(), value);
            Ok(())
        })?;
        Ok(claims)
    }

    /// Returns true when the token carries claim `name`, whatever its value's type.
    pub fn contains(&self, name: &str) -> bool {
        let modelled = match name {
            "iss" => self.iss.is_some(),
            "sub" => self.sub.is_some(),
            "aud" => self.aud.is_some(),
            "exp" => self.exp.is_some(),
            "nbf" => self.nbf.is_some(),
            "iat" => self.iat.is_some(),
            "jti" => self.jti.is_some(),
            "role" => self.role.is_some(),
            "roles" => self.roles.is_some(),
            "permissions" => self.permissions.is_some(),
            "scope" => self.scope.is_some(),
            "name" => self.name.is_some(),
            "session_id" => self.session_id.is_some(),
            _ => false,
        };
        modelled || self.other.contains_key(name)
    }

    /// Iterates over every role the token claims, from `role` and then `roles`.
    pub fn all_roles(&self) -> impl Iterator<Item = &str> {
        self.role
            .iter()
            .chain(self.roles.iter().flatten())
            .map(String::as_str)
    }

    /// Returns the whole claims set as one JSON object.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    fn store(&mut self, name: &str, value: Value) {
        let result = match name {
            "iss" => store(&mut self.iss, value, read_string),
            "sub" => store(&mut self.sub, value, read_string),
            "aud" => store(&mut self.aud, value, read_audience),
            "exp" => store(&mut self.exp, value, read_date),
            "nbf" => store(&mut self.nbf, value, read_date),
            "iat" => store(&mut self.iat, value, read_date),
            "jti" => store(&mut self.jti, value, read_string),
            "role" => store(&mut self.role, value, read_string),
            "roles" => store(&mut self.roles, value, read_string_or_list),
            "permissions" => store(&mut self.permissions, value, read_string_list),
            "scope" => store(&mut self.scope, value, read_scope),
            "name" => store(&mut self.name, value, read_string),
            "session_id" => store(&mut self.session_id, value, read_string),
            _ => {
                self.other.insert(name.to_owned(), value);
                return;
            }
        };
        if let Err((reason, value)) = result {
            let claim = modelled_name(name);
            self.type_errors.push(ClaimTypeError { claim, reason });
            self.other.insert(name.to_owned(), value);
        }
    }
}

/// A claim value read into its modelled type, or the reason it does not fit together with
/// the value itself, which then goes to [`Claims::other`].
type Read<T> = Result<T, (String, Value)>;

/// Moves `value` into `slot` when `read` accepts it; the value is not copied on success.
fn store<T>(slot: &mut Option<T>, value: Value, read: fn(Value) -> Read<T>) -> Read<()> {
    *slot = Some(read(value)?);
    Ok(())
}

/// Reads a value through `check`, which borrows it, for types that cannot take it over.
fn read_with<T>(value: Value, check: fn(&Value) -> Result<T, String>) -> Read<T> {
    match check(&value) {
        Ok(read) => Ok(read),
        Err(reason) => Err((reason, value)),
    }
}

fn modelled_name(name: &str) -> &'static str {
    const NAMES: [&str; 13] = [
        "iss",
        "sub",
        "aud",
        "exp",
        "nbf",
        "iat",
        "jti",
        "role",
        "roles",
        "permissions",
        "scope",
        "name",
        "session_id",
    ];
    NAMES
        .into_iter()
        .find(|known| *known == name)
        .unwrap_or("?")
}

fn read_string(value: Value) -> Read<String> {
    match value {
        Value::String(text) => Ok(text),
        other => Err((
            format!("must be a string, found {}", json_type_name(&other)),
            other,
        )),
    }
}

fn read_string_list(value: Value) -> Read<Vec<String>> {
    let Value::Array(items) = value else {
        let reason = format!(
            "must be an array of strings, found {}",
            json_type_name(&value)
        );
        return Err((reason, value));
    };
    if let Some(other) = items.iter().find(|item| !item.is_string()) {
        let reason = format!("must contain only strings, found {}", json_type_name(other));
        return Err((reason, Value::Array(items)));
    }
    Ok(items
        .into_iter()
        .filter_map(|item| match item {
            Value::String(text) => Some(text),
            _ => None,
        })
        .collect())
}

fn read_string_or_list(value: Value) -> Read<Vec<String>> {
    match value {
        Value::String(text) => Ok(vec![text]),
        Value::Array(_) => read_string_list(value),
        other => Err((
            format!(
                "must be a string or an array of strings, found {}",
                json_type_name(&other)
            ),
            other,
        )),
    }
}

fn read_audience(value: Value) -> Read<Audience> {
    match value {
        Value::String(text) => Ok(Audience::One(text)),
        Value::Array(_) => read_string_list(value).map(Audience::Many),
        other => Err((
            format!(
                "must be a string or an array of strings, found {}",
                json_type_name(&other)
            ),
            other,
        )),
    }
}

fn read_date(value: Value) -> Read<NumericDate> {
    read_with(value, |value| {
        NumericDate::from_json(value).map_err(|error| error.to_string())
    })
}

fn read_scope(value: Value) -> Read<Vec<String>> {
    read_with(value, |value| match value {
        Value::String(text) => Ok(text.split_ascii_whitespace().map(str::to_owned).collect()),
        other => Err(format!(
            "must be a space-separated string, found {}",
            json_type_name(other)
        )),
    })
}

fn serialize_scope<S: serde::Serializer>(
    scope: &Option<Vec<String>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match scope {
        Some(scopes) => serializer.serialize_str(&scopes.join(" ")),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_modelled_claims() {
        let claims = Claims::from_json(
            br#"{"iss":"i","sub":"s","aud":["a","b"],"exp":10,"nbf":1,"iat":2.5,"jti":"j",
                "role":"admin","roles":"x","permissions":["p"],"scope":"read  write",
                "name":"n","session_id":"sid","camera_access":["camera1"]}"#,
        )
        .unwrap();
        assert_eq!(claims.iss.as_deref(), Some("i"));
        assert_eq!(
            claims.aud.as_ref().unwrap().iter().collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(claims.exp.unwrap().as_secs(), 10);
        assert_eq!(claims.iat.unwrap().as_f64(), 2.5);
        assert_eq!(claims.all_roles().collect::<Vec<_>>(), ["admin", "x"]);
        assert_eq!(claims.scope.as_deref().unwrap(), ["read", "write"]);
        assert_eq!(
            claims.other["camera_access"],
            serde_json::json!(["camera1"])
        );
        assert!(claims.type_errors.is_empty());
    }

    #[test]
    fn wrong_type_is_present_not_absent() {
        let claims = Claims::from_json(br#"{"exp":"tomorrow","sub":7}"#).unwrap();
        assert_eq!(claims.exp, None);
        assert!(claims.contains("exp"));
        assert!(claims.contains("sub"));
        assert_eq!(claims.type_errors.len(), 2);
        assert_eq!(claims.type_errors[0].claim, "exp");
        assert_eq!(
            claims.type_errors[0].reason,
            "must be a number of seconds, found a string"
        );
    }

    #[test]
    fn rejects_duplicate_claims() {
        for json in [
            &br#"{"exp":1,"exp":2}"#[..],
            br#"{"exp":1,"e\u0078p":2}"#,
            br#"{"custom":1,"custom":2}"#,
            br#"{"exp":"x","exp":2}"#,
            br#"{"nested":{"a":1,"a":2}}"#,
        ] {
            let result = Claims::from_json(json);
            assert!(
                matches!(
                    result,
                    Err(FormatError::DuplicateMember {
                        part: Part::Payload,
                        ..
                    })
                ),
                "{}: {result:?}",
                String::from_utf8_lossy(json)
            );
        }
    }

    #[test]
    fn serialises_back_to_claims() {
        let json = br#"{"sub":"s","scope":"a b","exp":"bad","extra":{"k":[1]}}"#;
        let claims = Claims::from_json(json).unwrap();
        let value = claims.to_value();
        assert_eq!(value, serde_json::from_slice::<Value>(json).unwrap());
    }
}
