//! Key layout, Lua scripts and reply parsing shared by the blocking and async Redis stores.
//!
//! Every revocation target owns one hash: `{prefix}rv:token:{hex}`, `{prefix}rv:jti:{json}`,
//! `{prefix}rv:sub:{json}` or `{prefix}rv:kid:{kid}`, where `{json}` is the JSON array
//! `[issuer or null, value]`. Subject hashes have one field per `issued_before`; the others
//! use the field `-`. A field's value is `"{revoked_at} {expires_at}"` with `-` for no
//! expiry, and the hash expires (`EXPIREAT`) at the latest `expires_at` of its fields.
//! Usage counters are hashes `{prefix}use:{kind}:{…}` with the fields `uses` and `lapse`.

use std::collections::HashMap;

use crate::model::{Revocation, StoreError, Target, TokenFacts, UsageKey};

/// Hash field of targets that have one entry per key.
const SINGLE_FIELD: &str = "-";

/// Records a revocation and extends the hash's expiry to its latest entry.
///
/// KEYS[1] is the target's hash, and ARGV is the field, `revoked_at` and `expires_at` (`-`
/// for none). An existing entry is merged by the rule of `merge_entry` in the model: one
/// still live at the new `revoked_at` keeps its `revoked_at` and takes the later expiry.
/// A lapsed one is replaced. With ARGV[4] = `1` a live entry is left alone instead, and the
/// script returns 0; otherwise it returns 1.
pub(crate) const REVOKE_SCRIPT: &str = r"
local key, field = KEYS[1], ARGV[1]
local revoked_at, expires_at = ARGV[2], ARGV[3]
local only_new = ARGV[4] == '1'
local current = redis.call('HGET', key, field)
if current then
  local old_revoked, old_expires = string.match(current, '^(%S+) (%S+)$')
  if old_expires == '-' or tonumber(old_expires) > tonumber(revoked_at) then
    if only_new then
      return 0
    end
    revoked_at = old_revoked
    if old_expires == '-' or (expires_at ~= '-' and tonumber(old_expires) > tonumber(expires_at)) then
      expires_at = old_expires
    end
  end
end
redis.call('HSET', key, field, revoked_at .. ' ' .. expires_at)
local latest = nil
for _, value in ipairs(redis.call('HVALS', key)) do
  local expiry = string.match(value, ' (%S+)$')
  if expiry == '-' then
    redis.call('PERSIST', key)
    return 1
  end
  if latest == nil or tonumber(expiry) > latest then
    latest = tonumber(expiry)
  end
end
redis.call('EXPIREAT', key, string.format('%d', latest))
return 1
";

/// Drops the entries of one hash that have lapsed at ARGV[1] and returns how many.
pub(crate) const PURGE_SCRIPT: &str = r"
local now = tonumber(ARGV[1])
local dropped = 0
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  local expiry = string.match(fields[i + 1], ' (%S+)$')
  if expiry ~= '-' and tonumber(expiry) <= now then
    redis.call('HDEL', KEYS[1], fields[i])
    dropped = dropped + 1
  end
end
return dropped
";

/// Adds one use and returns the count including it.
///
/// KEYS[1] is the counter; ARGV is `now` and the instant the count lapses (`-` for never).
/// A count whose lapse instant has passed by `now` restarts, and a new count gets both a
/// `lapse` field and an `EXPIREAT`, so Redis drops it once its window or token has passed.
pub(crate) const INCREMENT_SCRIPT: &str = r"
local key, now, lapse = KEYS[1], tonumber(ARGV[1]), ARGV[2]
local current = redis.call('HGET', key, 'lapse')
if current and current ~= '-' and now >= tonumber(current) then
  redis.call('DEL', key)
end
local uses = redis.call('HINCRBY', key, 'uses', 1)
if uses == 1 then
  redis.call('HSET', key, 'lapse', lapse)
  if lapse ~= '-' then
    redis.call('EXPIREAT', key, lapse)
  end
end
return uses
";

/// Returns the hash key and field that store the revocation of `target`.
pub(crate) fn location(prefix: &str, target: &Target) -> Result<(String, String), StoreError> {
    let located = match target {
        Target::Token { hash } => (
            format!("{prefix}rv:token:{}", hex::encode(hash)),
            SINGLE_FIELD.to_owned(),
        ),
        Target::Jti { issuer, jti } => (
            format!("{prefix}rv:jti:{}", pair(issuer.as_deref(), jti)?),
            SINGLE_FIELD.to_owned(),
        ),
        Target::Subject {
            issuer,
            subject,
            issued_before,
        } => (
            format!("{prefix}rv:sub:{}", pair(issuer.as_deref(), subject)?),
            issued_before.to_string(),
        ),
        Target::KeyId { kid } => (format!("{prefix}rv:kid:{kid}"), SINGLE_FIELD.to_owned()),
    };
    Ok(located)
}

/// Returns the hash keys whose entries can revoke the token, in the order they are checked.
pub(crate) fn check_keys(prefix: &str, facts: &TokenFacts<'_>) -> Result<Vec<String>, StoreError> {
    let mut keys = vec![format!(
        "{prefix}rv:token:{}",
        hex::encode(facts.token_hash)
    )];
    // An entry without an issuer matches any token, so both spellings are looked up.
    let issuers: Vec<Option<&str>> = match facts.issuer {
        Some(issuer) => vec![None, Some(issuer)],
        None => vec![None],
    };
    if let Some(jti) = facts.jti {
        for issuer in &issuers {
            keys.push(format!("{prefix}rv:jti:{}", pair(*issuer, jti)?));
        }
    }
    if let Some(subject) = facts.subject {
        for issuer in &issuers {
            keys.push(format!("{prefix}rv:sub:{}", pair(*issuer, subject)?));
        }
    }
    if let Some(kid) = facts.key_id {
        keys.push(format!("{prefix}rv:kid:{kid}"));
    }
    Ok(keys)
}

/// Returns the first live entry among the fetched hashes that revokes the token.
pub(crate) fn first_match(
    prefix: &str,
    keys: &[String],
    hashes: Vec<HashMap<String, String>>,
    facts: &TokenFacts<'_>,
    now: i64,
) -> Option<Revocation> {
    keys.iter().zip(hashes).find_map(|(key, fields)| {
        let mut entries = entries_of(prefix, key, &fields);
        // Oldest first, so the result does not depend on the order Redis returns fields in.
        crate::model::sort_entries(&mut entries);
        entries
            .into_iter()
            .find(|entry| entry.is_live(now) && entry.matches(facts))
    })
}

/// Parses every entry of one hash; fields that do not parse are logged and skipped.
pub(crate) fn entries_of(
    prefix: &str,
    key: &str,
    fields: &HashMap<String, String>,
) -> Vec<Revocation> {
    let mut entries = Vec::with_capacity(fields.len());
    for (field, value) in fields {
        match parse_entry(prefix, key, field, value) {
            Some(entry) => entries.push(entry),
            None => tracing::warn!(
                key,
                field,
                "skipping a revocation entry that does not parse"
            ),
        }
    }
    entries
}

fn parse_entry(prefix: &str, key: &str, field: &str, value: &str) -> Option<Revocation> {
    let target = parse_target(key.strip_prefix(prefix)?, field)?;
    let (revoked_at, expires_at) = value.split_once(' ')?;
    let expires_at = match expires_at {
        SINGLE_FIELD => None,
        seconds => Some(seconds.parse().ok()?),
    };
    Some(Revocation::new(
        target,
        revoked_at.parse().ok()?,
        expires_at,
    ))
}

fn parse_target(key: &str, field: &str) -> Option<Target> {
    let (kind, rest) = key.strip_prefix("rv:")?.split_once(':')?;
    let target = match kind {
        "token" => {
            let mut hash = [0_u8; 32];
            hex::decode_to_slice(rest, &mut hash).ok()?;
            Target::Token { hash }
        }
        "jti" => {
            let (issuer, jti) = serde_json::from_str(rest).ok()?;
            Target::Jti { issuer, jti }
        }
        "sub" => {
            let (issuer, subject) = serde_json::from_str(rest).ok()?;
            Target::Subject {
                issuer,
                subject,
                issued_before: field.parse().ok()?,
            }
        }
        "kid" => Target::KeyId {
            kid: rest.to_owned(),
        },
        _ => return None,
    };
    Some(target)
}

/// Encodes an expiry as a script argument: Unix seconds, or `-` for none.
pub(crate) fn expiry_arg(expires_at: Option<i64>) -> String {
    expires_at.map_or_else(|| SINGLE_FIELD.to_owned(), |at| at.to_string())
}

/// Returns the Redis key of the counter for `key`.
pub(crate) fn usage_key(prefix: &str, key: &UsageKey) -> Result<String, StoreError> {
    let key = match key {
        UsageKey::Token(hash) => format!("{prefix}use:token:{}", hex::encode(hash)),
        UsageKey::Jti { issuer, jti } => {
            format!("{prefix}use:jti:{}", pair(issuer.as_deref(), jti)?)
        }
        UsageKey::Subject { issuer, subject } => {
            format!("{prefix}use:sub:{}", pair(issuer.as_deref(), subject)?)
        }
    };
    Ok(key)
}

/// Returns the instant a new count lapses: the end of its window or the token's expiry,
/// whichever comes first.
pub(crate) fn usage_lapse(now: i64, window: Option<u64>, expires_at: Option<i64>) -> String {
    let window_end =
        window.map(|seconds| now.saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX)));
    let lapse = match (window_end, expires_at) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    expiry_arg(lapse)
}

/// Returns the `SCAN MATCH` pattern of every revocation hash under `prefix`.
pub(crate) fn revocation_pattern(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 4);
    for character in prefix.chars() {
        if matches!(character, '*' | '?' | '[' | ']' | '\\') {
            pattern.push('\\');
        }
        pattern.push(character);
    }
    pattern.push_str("rv:*");
    pattern
}

fn pair(issuer: Option<&str>, value: &str) -> Result<String, StoreError> {
    serde_json::to_string(&(issuer, value))
        .map_err(|error| StoreError::Unavailable(format!("failed to encode a redis key: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_round_trips_every_target() {
        let targets = [
            Target::Token { hash: [9; 32] },
            Target::Jti {
                issuer: Some("https://idp:8443".into()),
                jti: "a:b".into(),
            },
            Target::Subject {
                issuer: None,
                subject: "alice".into(),
                issued_before: 1_700,
            },
            Target::KeyId { kid: "k:1".into() },
        ];
        for target in targets {
            let (key, field) = location("p:", &target).unwrap();
            let parsed = parse_target(key.strip_prefix("p:").unwrap(), &field);
            assert_eq!(parsed, Some(target));
        }
    }

    #[test]
    fn check_keys_cover_both_issuer_spellings() {
        let facts = TokenFacts {
            issuer: Some("idp"),
            jti: Some("j"),
            ..TokenFacts::default()
        };
        let keys = check_keys("p:", &facts).unwrap();
        assert_eq!(keys.len(), 3);
        assert!(keys.contains(&r#"p:rv:jti:[null,"j"]"#.to_owned()));
        assert!(keys.contains(&r#"p:rv:jti:["idp","j"]"#.to_owned()));
    }

    #[test]
    fn pattern_escapes_glob_characters() {
        assert_eq!(revocation_pattern("a*[b]:"), r"a\*\[b\]:rv:*");
    }

    #[test]
    fn usage_lapse_takes_earlier_end() {
        assert_eq!(usage_lapse(100, Some(10), Some(105)), "105");
        assert_eq!(usage_lapse(100, Some(10), None), "110");
        assert_eq!(usage_lapse(100, None, None), "-");
    }
}
