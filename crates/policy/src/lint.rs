//! Lint checks for policies that load but contradict themselves, run by `warden policy check`.

use serde::Serialize;

use crate::custom::CustomCheck;
use crate::{Policy, Severity, normalize_role};

/// One lint finding, located in the policy text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LintFinding {
    /// Stable code, such as `lint.max_age_below_leeway`.
    pub code: &'static str,
    /// Error for policies that cannot work as written; warning for likely mistakes.
    pub severity: Severity,
    /// 1-based line of the rule involved, 0 when unknown.
    pub line: usize,
    /// 1-based column of the rule involved, 0 when unknown.
    pub column: usize,
    /// Description of the problem.
    pub message: String,
}

/// Lints a loaded policy; `text` is its YAML, used to locate findings.
pub fn lint(policy: &Policy, text: &str) -> Vec<LintFinding> {
    let mut findings = Vec::new();
    let mut add = |code, severity, path: &[&str], message: String| {
        let (line, column) = locate(text, path);
        findings.push(LintFinding {
            code,
            severity,
            line,
            column,
            message,
        });
    };
    let rules = &policy.rules;

    if let Some(max_age) = &rules.max_age
        && max_age.max < policy.leeway
    {
        add(
            "lint.max_age_below_leeway",
            Severity::Warning,
            &["rules", "max_age"],
            format!(
                "maximum age {} is shorter than the leeway {}",
                max_age.max, policy.leeway
            ),
        );
    }
    if rules.expiry.is_none() {
        add(
            "lint.expiry_unchecked",
            Severity::Warning,
            &["rules"],
            "no `expiry` rule, so expired tokens pass".to_owned(),
        );
    }
    if let (Some(allowed), Some(suspicious)) = (&rules.allowed_roles, &rules.suspicious_roles) {
        for role in allowed
            .roles
            .iter()
            .filter(|role| suspicious.roles.matching(role).is_some())
        {
            add(
                "lint.role_allowed_and_suspicious",
                Severity::Warning,
                &["rules", "allowed_roles"],
                format!("role `{role}` is both allowed and suspicious"),
            );
        }
    }
    if let Some(required) = &rules.required_claims {
        for rule in &rules.custom {
            let claim = rule.claim.to_string();
            if matches!(rule.check, CustomCheck::Exists(false)) && required.claims.contains(&claim)
            {
                add(
                    "lint.required_claim_forbidden",
                    Severity::Error,
                    &["rules", "custom"],
                    format!(
                        "claim `{claim}` is required, but custom rule `{}` requires it absent",
                        rule.id.as_str()
                    ),
                );
            }
        }
    }
    lint_roles(policy, &mut add);
    lint_issuers(policy, &mut add);
    lint_refresh(policy, &mut add);
    findings
}

fn lint_refresh(policy: &Policy, add: &mut Add<'_>) {
    let Some(refresh) = &policy.refresh else {
        return;
    };
    let revocation_active = policy
        .rules
        .revocation
        .as_ref()
        .is_some_and(|rule| rule.severity.active().is_some());
    if !revocation_active {
        add(
            "lint.refresh_without_revocation",
            Severity::Warning,
            &["refresh"],
            "`refresh` revokes each refreshed token, but without the `revocation` rule the old token still passes".to_owned(),
        );
    }
    if let Some(lifetime) = &policy.rules.max_lifetime
        && refresh.window >= lifetime.max
    {
        add(
            "lint.refresh_window_covers_lifetime",
            Severity::Warning,
            &["refresh", "window"],
            format!(
                "refresh window {} is not shorter than the maximum lifetime {}, so every token can be refreshed as soon as it is issued",
                refresh.window, lifetime.max
            ),
        );
    }
}

type Add<'a> = dyn FnMut(&'static str, Severity, &[&str], String) + 'a;

fn lint_roles(policy: &Policy, add: &mut Add<'_>) {
    let rules = &policy.rules;
    if rules.privileges.is_some() && policy.roles.is_none() {
        let message = "`privileges` checks tokens against `roles`, but the policy defines no roles"
            .to_owned();
        add(
            "lint.privileges_without_roles",
            Severity::Error,
            &["rules", "privileges"],
            message,
        );
    }
    if let (Some(allowed), Some(definitions)) = (&rules.allowed_roles, &policy.roles) {
        let defined: Vec<String> = definitions
            .keys()
            .map(|name| normalize_role(name))
            .collect();
        for role in allowed
            .roles
            .iter()
            .filter(|role| !defined.contains(&normalize_role(role)))
        {
            add(
                "lint.allowed_role_undefined",
                Severity::Warning,
                &["rules", "allowed_roles"],
                format!("role `{role}` is allowed but has no definition in `roles`"),
            );
        }
    }
}

fn lint_issuers(policy: &Policy, add: &mut Add<'_>) {
    let Some(issuers) = &policy.issuers else {
        return;
    };
    for issuer in issuers {
        let path = match &policy.source_dir {
            Some(dir) => dir.join(&issuer.keys),
            None => issuer.keys.clone(),
        };
        if !path.is_file() {
            add(
                "lint.issuer_key_missing",
                Severity::Error,
                &["issuers"],
                format!(
                    "issuer `{}` has no key: `{}` is not a readable file",
                    issuer.iss,
                    path.display()
                ),
            );
        }
    }
}

/// Returns the 1-based line and column of the deepest key of `path` found in block-style
/// YAML, or (0, 0) when not even the first key is found.
pub(crate) fn locate(text: &str, path: &[&str]) -> (usize, usize) {
    let mut stack: Vec<(usize, &str)> = Vec::new();
    let mut best = (0, 0, 0);
    for (index, line) in text.lines().enumerate() {
        let content = line.trim_start();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let indent = line.len() - content.len();
        let content = content.strip_prefix("- ").unwrap_or(content);
        let indent = if line.trim_start().starts_with("- ") {
            indent + 2
        } else {
            indent
        };
        let Some((key, _)) = content.split_once(':') else {
            continue;
        };
        let key = key.trim().trim_matches(|c| c == '"' || c == '\'');
        while stack.last().is_some_and(|(depth, _)| *depth >= indent) {
            stack.pop();
        }
        stack.push((indent, key));
        let matched = stack
            .iter()
            .zip(path)
            .take_while(|((_, key), wanted)| key == *wanted)
            .count();
        if matched == stack.len() && matched > best.0 {
            best = (matched, index + 1, indent + 1);
        }
    }
    (best.1, best.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lint_codes(yaml: &str) -> Vec<&'static str> {
        let policy = Policy::from_yaml_str(yaml, "t.yaml").unwrap();
        lint(&policy, yaml)
            .into_iter()
            .map(|finding| finding.code)
            .collect()
    }

    #[test]
    fn locate_finds_nested_keys() {
        let text = "version: 1\nrules:\n  expiry: {}\n  max_age:\n    max: 30d\n";
        assert_eq!(locate(text, &["rules", "max_age", "max"]), (5, 5));
        assert_eq!(locate(text, &["rules", "max_age"]), (4, 3));
        assert_eq!(locate(text, &["rules", "nope"]), (2, 1));
        assert_eq!(locate(text, &["absent"]), (0, 0));
    }

    #[test]
    fn max_age_below_leeway_warns() {
        let yaml = "version: 1\nalgorithms: [HS256]\nleeway: 10m\nrules:\n  expiry: {}\n  max_age: { max: 5m }\n";
        assert_eq!(lint_codes(yaml), ["lint.max_age_below_leeway"]);
        let policy = Policy::from_yaml_str(yaml, "t.yaml").unwrap();
        let finding = &lint(&policy, yaml)[0];
        assert_eq!((finding.line, finding.column), (6, 3));
    }

    #[test]
    fn role_allowed_and_suspicious_warns() {
        let yaml = "version: 1\nalgorithms: [HS256]\nrules:\n  expiry: {}\n  allowed_roles: { roles: [admin, Root] }\n  suspicious_roles: { roles: [root] }\n";
        assert_eq!(lint_codes(yaml), ["lint.role_allowed_and_suspicious"]);
    }

    #[test]
    fn required_claim_forbidden_is_error() {
        let yaml = "version: 1\nalgorithms: [HS256]\nrules:\n  expiry: {}\n  required_claims: { claims: [sub] }\n  custom:\n    - { id: no-sub, claim: sub, exists: false }\n";
        assert_eq!(lint_codes(yaml), ["lint.required_claim_forbidden"]);
    }

    #[test]
    fn issuer_without_key_is_error() {
        let yaml = "version: 1\nalgorithms: [RS256]\nissuers:\n  - { iss: a, keys: missing.pem }\nrules:\n  expiry: {}\n";
        assert_eq!(lint_codes(yaml), ["lint.issuer_key_missing"]);
    }

    #[test]
    fn missing_expiry_warns() {
        assert_eq!(
            lint_codes("version: 1\nalgorithms: [HS256]\n"),
            ["lint.expiry_unchecked"]
        );
    }

    #[test]
    fn refresh_without_revocation_warns() {
        let yaml =
            "version: 1\nalgorithms: [HS256]\nrefresh: { window: 1h }\nrules:\n  expiry: {}\n";
        assert_eq!(lint_codes(yaml), ["lint.refresh_without_revocation"]);
        let with_rule = "version: 1\nalgorithms: [HS256]\nrefresh: { window: 1h }\nrules:\n  expiry: {}\n  revocation: {}\n";
        assert_eq!(lint_codes(with_rule), Vec::<&str>::new());
    }

    #[test]
    fn refresh_window_over_lifetime_warns() {
        let yaml = "version: 1\nalgorithms: [HS256]\nrefresh: { window: 1h }\nrules:\n  expiry: {}\n  revocation: {}\n  max_lifetime: { max: 1h }\n";
        assert_eq!(lint_codes(yaml), ["lint.refresh_window_covers_lifetime"]);
    }

    #[test]
    fn privileges_need_roles() {
        let yaml = "version: 1\nalgorithms: [HS256]\nrules:\n  expiry: {}\n  privileges: {}\n";
        assert_eq!(lint_codes(yaml), ["lint.privileges_without_roles"]);
    }
}
