//! `warden policy test`: YAML test suites that run cases through a policy.
//!
//! A suite `NAME.test.yaml` tests `NAME.yaml` beside it (or the file its `policy` key
//! names). Each case gives claims (signed with the suite's test key) or a literal token,
//! optional header parameters, revocations, prior uses and request requirements, and the
//! expected decision and finding codes. In claims and header values, a string `$now`,
//! `$now+1d` or `$now-31d` becomes that NumericDate relative to the case's clock.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::Args;
use serde::Deserialize;
use serde_json::{Map, Value};
use warden_blacklist::{MemoryStore, Revocation, RevocationStore, Target};
use warden_claims::{AlgorithmFamily, TokenId};
use warden_policy::{Duration, Policy};
use warden_validator::{
    FixedClock, KeyFormat, KeySet, Report, Request, ValidateOptions, Validator,
};

use crate::time::parse_instant;

/// Most prior uses a case may ask for.
const MAX_PRIOR_USES: u64 = 100_000;

/// Arguments of `warden policy test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Folder with `*.test.yaml` suites, or one suite file.
    #[arg(value_name = "PATH", default_value = "policies")]
    path: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Suite {
    #[serde(default)]
    policy: Option<PathBuf>,
    now: String,
    #[serde(default)]
    signing: Option<Signing>,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Signing {
    algorithm: String,
    key: PathBuf,
    #[serde(default)]
    verification_key: Option<PathBuf>,
    #[serde(default)]
    kid: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default)]
    claims: Option<Map<String, Value>>,
    #[serde(default)]
    header: Option<Map<String, Value>>,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    now: Option<String>,
    #[serde(default)]
    revoked: bool,
    #[serde(default)]
    revocations: Vec<RevocationSpec>,
    #[serde(default)]
    uses: u64,
    #[serde(default)]
    request: Option<RequestSpec>,
    expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RevocationSpec {
    #[serde(default)]
    jti: Option<String>,
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    before: Option<String>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    iss: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestSpec {
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    permissions: Vec<String>,
    #[serde(default)]
    resource: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    decision: ExpectedDecision,
    #[serde(default)]
    codes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ExpectedDecision {
    Allow,
    Deny,
}

/// Results of one suite.
#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
}

/// Runs `warden policy test`.
pub fn run(args: &TestArgs) -> Result<ExitCode> {
    let suites = find_suites(&args.path)?;
    if suites.is_empty() {
        bail!("no `*.test.yaml` suites found in `{}`", args.path.display());
    }
    let mut total = Tally::default();
    for suite in &suites {
        let tally =
            run_suite(suite).with_context(|| format!("cannot run suite `{}`", suite.display()))?;
        total.passed += tally.passed;
        total.failed += tally.failed;
    }
    println!("{} passed, {} failed", total.passed, total.failed);
    Ok(if total.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn find_suites(path: &Path) -> Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    let entries = std::fs::read_dir(path)
        .with_context(|| format!("cannot read folder `{}`", path.display()))?;
    let mut suites: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.to_string_lossy().ends_with(".test.yaml"))
        .collect();
    suites.sort();
    Ok(suites)
}

fn run_suite(path: &Path) -> Result<Tally> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let suite: Suite = serde_yaml::from_str(&text)
        .map_err(|error| anyhow::anyhow!("{}: {error}", path.display()))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let policy_path = match &suite.policy {
        Some(policy) => dir.join(policy),
        None => PathBuf::from(path.to_string_lossy().replace(".test.yaml", ".yaml")),
    };
    let policy = Policy::load(&policy_path)?;
    let signer = suite
        .signing
        .as_ref()
        .map(|signing| Signer::load(signing, dir))
        .transpose()?;
    let keys = || -> Result<KeySet> {
        match (&suite.signing, &policy.issuers) {
            (_, Some(_)) => Ok(KeySet::default()),
            (Some(signing), None) => {
                let key = signing.verification_key.as_ref().unwrap_or(&signing.key);
                Ok(KeySet::load(dir.join(key), KeyFormat::Auto)?)
            }
            (None, None) => bail!("the suite needs `signing` to build a validator"),
        }
    };
    println!("{} (policy {})", path.display(), policy_path.display());
    let mut tally = Tally::default();
    let mut fired = BTreeSet::new();
    for case in &suite.cases {
        let now = parse_instant(case.now.as_deref().unwrap_or(&suite.now))?;
        let report = run_case(case, &policy, keys()?, signer.as_ref(), now)
            .with_context(|| format!("case `{}`", case.name))?;
        fired.extend(
            report
                .findings
                .iter()
                .map(|finding| finding.rule.to_string()),
        );
        match compare(case, &report) {
            None => {
                tally.passed += 1;
                println!("  ok    {}", case.name);
            }
            Some(difference) => {
                tally.failed += 1;
                println!("  FAIL  {}: {difference}", case.name);
            }
        }
    }
    let configured = configured_rules(&policy);
    let never: Vec<&str> = configured
        .iter()
        .filter(|rule| !fired.contains(*rule))
        .map(String::as_str)
        .collect();
    let covered = configured.len() - never.len();
    print!("  coverage: {covered} of {} rules fired", configured.len());
    if never.is_empty() {
        println!();
    } else {
        println!("; never fired: {}", never.join(", "));
    }
    println!(
        "  {}: {} of {} cases passed",
        path.display(),
        tally.passed,
        tally.passed + tally.failed
    );
    Ok(tally)
}

fn run_case(
    case: &Case,
    policy: &Policy,
    keys: KeySet,
    signer: Option<&Signer>,
    now: i64,
) -> Result<Report> {
    let token = match (&case.token, &case.claims) {
        (Some(token), None) => token.clone(),
        (None, Some(claims)) => {
            let signer = signer.context("claims cases need the suite's `signing` key")?;
            signer.sign(claims, case.header.as_ref(), now)?
        }
        _ => bail!("give exactly one of `claims` and `token`"),
    };
    let store = Arc::new(MemoryStore::new());
    if case.revoked {
        let hash = *TokenId::of_input(&token).as_bytes();
        store.revoke(Revocation::new(Target::Token { hash }, now, None))?;
    }
    for spec in &case.revocations {
        store.revoke(Revocation::new(revocation_target(spec, now)?, now, None))?;
    }
    let validator = Validator::builder(policy.clone(), keys)
        .revocations(store)
        .clock(Arc::new(FixedClock(now)))
        .build()?;
    if case.uses > MAX_PRIOR_USES {
        bail!("`uses` is at most {MAX_PRIOR_USES}");
    }
    for _ in 0..case.uses {
        validator.validate(&token);
    }
    let request = case.request.as_ref().map(|spec| Request {
        role: spec.role.clone(),
        permissions: spec.permissions.clone(),
        resource: spec.resource.clone(),
    });
    Ok(validator.validate_with(
        &token,
        ValidateOptions {
            request: request.as_ref(),
            explain: false,
        },
    ))
}

fn revocation_target(spec: &RevocationSpec, now: i64) -> Result<Target> {
    let issuer = spec.iss.clone();
    Ok(match (&spec.jti, &spec.sub, &spec.kid) {
        (Some(jti), None, None) => Target::Jti {
            issuer,
            jti: jti.clone(),
        },
        (None, Some(subject), None) => {
            let issued_before = spec
                .before
                .as_deref()
                .map(parse_instant)
                .transpose()?
                .unwrap_or(now);
            Target::Subject {
                issuer,
                subject: subject.clone(),
                issued_before,
            }
        }
        (None, None, Some(kid)) => Target::KeyId { kid: kid.clone() },
        _ => bail!("a revocation names exactly one of `jti`, `sub` and `kid`"),
    })
}

/// Returns how the report differs from the expectation, if it does.
fn compare(case: &Case, report: &Report) -> Option<String> {
    let decision = if report.is_allowed() {
        ExpectedDecision::Allow
    } else {
        ExpectedDecision::Deny
    };
    let mut expected: Vec<&str> = case.expect.codes.iter().map(String::as_str).collect();
    let mut actual: Vec<&str> = report.codes().collect();
    expected.sort_unstable();
    actual.sort_unstable();
    if decision == case.expect.decision && expected == actual {
        return None;
    }
    let word = |decision| {
        if decision == ExpectedDecision::Allow {
            "allow"
        } else {
            "deny"
        }
    };
    let messages: Vec<String> = report
        .findings
        .iter()
        .map(|finding| format!("{}: {}", finding.code, finding.message))
        .collect();
    Some(format!(
        "expected {} [{}], got {} [{}]{}",
        word(case.expect.decision),
        expected.join(", "),
        word(decision),
        actual.join(", "),
        if messages.is_empty() {
            String::new()
        } else {
            format!(" ({})", messages.join("; "))
        }
    ))
}

/// Returns the ids of every rule the policy configures.
fn configured_rules(policy: &Policy) -> Vec<String> {
    let rules = &policy.rules;
    let named = [
        ("revocation", rules.revocation.is_some()),
        ("expiry", rules.expiry.is_some()),
        ("not_before", rules.not_before.is_some()),
        ("issued_in_future", rules.issued_in_future.is_some()),
        ("max_age", rules.max_age.is_some()),
        ("max_lifetime", rules.max_lifetime.is_some()),
        ("max_time_to_expiry", rules.max_time_to_expiry.is_some()),
        ("time_consistency", rules.time_consistency.is_some()),
        ("typ", rules.typ.is_some()),
        ("embedded_keys", rules.embedded_keys.is_some()),
        ("suspicious_kid", rules.suspicious_kid.is_some()),
        ("required_claims", rules.required_claims.is_some()),
        ("issuer", rules.issuer.is_some()),
        ("audience", rules.audience.is_some()),
        ("allowed_roles", rules.allowed_roles.is_some()),
        ("suspicious_roles", rules.suspicious_roles.is_some()),
        ("role_normal_form", rules.role_normal_form.is_some()),
        ("max_permissions", rules.max_permissions.is_some()),
        ("permission_patterns", rules.permission_patterns.is_some()),
        (
            "forbidden_permissions",
            rules.forbidden_permissions.is_some(),
        ),
        ("privileges", rules.privileges.is_some()),
        ("jti_required", rules.jti_required.is_some()),
        ("usage", rules.usage.is_some()),
        ("issuers", policy.issuers.is_some()),
    ];
    let mut ids: Vec<String> = named
        .iter()
        .filter(|(_, on)| *on)
        .map(|(id, _)| (*id).to_owned())
        .collect();
    ids.extend(rules.custom.iter().map(|rule| rule.id.as_str().to_owned()));
    ids
}

/// Signs test claims with the suite's key.
struct Signer {
    algorithm: jsonwebtoken::Algorithm,
    name: String,
    key: jsonwebtoken::EncodingKey,
    kid: Option<String>,
}

impl Signer {
    fn load(signing: &Signing, dir: &Path) -> Result<Self> {
        let algorithm: warden_claims::Algorithm = signing
            .algorithm
            .parse()
            .map_err(|_| anyhow::anyhow!("unknown signing algorithm `{}`", signing.algorithm))?;
        let path = dir.join(&signing.key);
        let bytes = std::fs::read(&path)
            .with_context(|| format!("cannot read signing key `{}`", path.display()))?;
        let invalid = || format!("signing key `{}` does not fit {algorithm}", path.display());
        let key = match algorithm.family() {
            AlgorithmFamily::Hmac => {
                let secret = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
                jsonwebtoken::EncodingKey::from_secret(secret).with_context(invalid)?
            }
            AlgorithmFamily::Rsa => {
                jsonwebtoken::EncodingKey::from_rsa_pem(&bytes).with_context(invalid)?
            }
            AlgorithmFamily::Ec => {
                jsonwebtoken::EncodingKey::from_ec_pem(&bytes).with_context(invalid)?
            }
            _ => jsonwebtoken::EncodingKey::from_ed_pem(&bytes).with_context(invalid)?,
        };
        let jwt_algorithm: jsonwebtoken::Algorithm = algorithm.as_str().parse()?;
        Ok(Signer {
            algorithm: jwt_algorithm,
            name: algorithm.as_str().to_owned(),
            key,
            kid: signing.kid.clone(),
        })
    }

    fn sign(
        &self,
        claims: &Map<String, Value>,
        header: Option<&Map<String, Value>>,
        now: i64,
    ) -> Result<String> {
        let mut header_json = Map::new();
        header_json.insert("alg".to_owned(), Value::String(self.name.clone()));
        header_json.insert("typ".to_owned(), Value::String("JWT".to_owned()));
        if let Some(kid) = &self.kid {
            header_json.insert("kid".to_owned(), Value::String(kid.clone()));
        }
        for (name, value) in header.into_iter().flatten() {
            if value.is_null() {
                header_json.remove(name);
            } else {
                header_json.insert(name.clone(), resolve_times(value, now)?);
            }
        }
        let claims = resolve_times(&Value::Object(claims.clone()), now)?;
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(Value::Object(header_json).to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature =
            jsonwebtoken::crypto::sign(signing_input.as_bytes(), &self.key, self.algorithm)?;
        Ok(format!("{signing_input}.{signature}"))
    }
}

/// Replaces `$now`, `$now+DURATION` and `$now-DURATION` strings with NumericDates.
fn resolve_times(value: &Value, now: i64) -> Result<Value> {
    Ok(match value {
        Value::String(text) if text.starts_with("$now") => {
            let offset = text.get(4..).unwrap_or_default();
            let seconds = match offset.chars().next() {
                None => 0,
                Some(sign @ ('+' | '-')) => {
                    let span: Duration = offset.get(1..).unwrap_or_default().parse()?;
                    let span = i64::try_from(span.as_secs())?;
                    if sign == '+' { span } else { -span }
                }
                Some(_) => bail!("invalid time `{text}`; write `$now`, `$now+1d` or `$now-30d`"),
            };
            Value::from(now + seconds)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| resolve_times(item, now))
                .collect::<Result<_>>()?,
        ),
        Value::Object(members) => {
            let resolved: Result<BTreeMap<String, Value>> = members
                .iter()
                .map(|(name, item)| Ok((name.clone(), resolve_times(item, now)?)))
                .collect();
            Value::Object(resolved?.into_iter().collect())
        }
        other => other.clone(),
    })
}
