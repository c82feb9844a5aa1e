//! JSON values that reject duplicate member names at every depth.
//!
//! `serde_json::Value` keeps the last of two equal names, which lets a token carry one
//! `exp` for a lenient parser and another for a strict one. These types refuse instead.
//! Names are compared after JSON unescaping, so `"ex\u0070"` and `"exp"` collide.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// Prefix of the serde error message for a duplicate name; the parsers map it back to
/// [`crate::FormatError::DuplicateMember`].
pub(crate) const DUPLICATE_PREFIX: &str = "duplicate member ";

/// A `serde_json::Value` that rejects duplicate member names at any depth.
pub(crate) struct StrictValue(pub(crate) Value);

/// An object key, borrowed from the input where it contained no escapes.
pub(crate) struct Key<'de>(pub(crate) Cow<'de, str>);

pub(crate) fn duplicate_error<E: de::Error>(name: &str) -> E {
    E::custom(duplicate_error_text(name))
}

pub(crate) fn duplicate_error_text(name: &str) -> String {
    format!("{DUPLICATE_PREFIX}{name}")
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;

        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }

        deserializer.deserialize_str(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(StrictValueVisitor)
            .map(StrictValue)
    }
}

struct StrictValueVisitor;

impl<'de> Visitor<'de> for StrictValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(Key(name)) = map.next_key()? {
            if object.contains_key(name.as_ref()) {
                return Err(duplicate_error(&name));
            }
            let StrictValue(value) = map.next_value()?;
            object.insert(name.into_owned(), value);
        }
        Ok(Value::Object(object))
    }
}

/// Visits the members of one JSON object, rejecting duplicate names, and hands each
/// name and strictly parsed value to `visit`.
pub(crate) struct ObjectMembers<F>(pub(crate) F);

impl<'de, F> DeserializeSeed<'de> for ObjectMembers<F>
where
    F: FnMut(Cow<'de, str>, Value) -> Result<(), String>,
{
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, F> Visitor<'de> for ObjectMembers<F>
where
    F: FnMut(Cow<'de, str>, Value) -> Result<(), String>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(name)) = map.next_key()? {
            let StrictValue(value) = map.next_value()?;
            (self.0)(name, value).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

/// Parses `json` as one object, calling `visit` for each member, and maps failures to
/// [`FormatError`]s for `part`.
pub(crate) fn parse_object<'de, F>(
    json: &'de [u8],
    part: crate::Part,
    visit: F,
) -> Result<(), crate::FormatError>
where
    F: FnMut(Cow<'de, str>, Value) -> Result<(), String>,
{
    let first = json.iter().find(|byte| !byte.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(crate::FormatError::NotAnObject { part });
    }
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    ObjectMembers(visit)
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end())
        .map_err(|error| json_error(part, &error))
}

fn json_error(part: crate::Part, error: &serde_json::Error) -> crate::FormatError {
    let text = error.to_string();
    // serde_json appends " at line L column C" to custom messages and offers no accessor
    // for the bare message, so the position is cut off here.
    let message = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(head, _)| head);
    match message.strip_prefix(DUPLICATE_PREFIX) {
        Some(name) => crate::FormatError::DuplicateMember {
            part,
            name: name.to_owned(),
        },
        None => crate::FormatError::Json { part, reason: text },
    }
}

/// Parses any JSON document, rejecting a member name repeated in one object at any depth.
///
/// Used for key files as well as tokens: a JWK with two `kty` or two `k` members has no
/// single meaning, so it is refused rather than read as its last value.
pub fn parse_strict(json: &[u8]) -> Result<Value, String> {
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let StrictValue(value) =
        StrictValue::deserialize(&mut deserializer).map_err(|error| clean(&error))?;
    deserializer.end().map_err(|error| clean(&error))?;
    Ok(value)
}

fn clean(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.strip_prefix(DUPLICATE_PREFIX) {
        Some(rest) => format!(
            "duplicate member `{}`",
            rest.rsplit_once(" at line ").map_or(rest, |(name, _)| name)
        ),
        None => text,
    }
}
