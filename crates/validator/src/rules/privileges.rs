//! Rules on roles and permissions, including what role definitions grant.

use std::collections::BTreeSet;

use warden_policy::{RoleDefinition, normalize_role};

use super::{Context, active};
use crate::findings::{Findings, Trace};
use crate::report::Code;

/// Most permissions evaluated one by one. A token with more is denied outright, so a huge
/// list cannot make per-permission work (patterns, grants) expensive.
pub const MAX_EVALUATED_PERMISSIONS: usize = 256;

pub(super) fn check_roles(context: &Context<'_>, findings: &mut Findings, trace: &mut Trace) {
    let rules = &context.validator.policy().rules;
    let roles: Vec<&str> = context.claims.all_roles().collect();
    if let Some(rule) = &rules.suspicious_roles
        && let Some(severity) = rule.severity.active()
    {
        for role in &roles {
            let listed = rule.roles.matching(role);
            trace.record("suspicious_roles", listed.is_none(), || {
                (
                    Some("role".to_owned()),
                    "not a suspicious role".to_owned(),
                    role.escape_debug().to_string(),
                )
            });
            if let Some(listed) = listed {
                let message = if *role == listed {
                    format!("role `{role}` is on the suspicious list")
                } else {
                    format!(
                        "role `{}` is on the suspicious list as `{listed}`",
                        role.escape_debug()
                    )
                };
                findings.add(Code::RoleSuspicious, severity, "suspicious_roles", message);
            }
        }
    }
    if let Some(rule) = &rules.allowed_roles
        && let Some(severity) = rule.severity.active()
    {
        for role in &roles {
            let allowed = rule.roles.matching(role).is_some();
            trace.record("allowed_roles", allowed, || {
                (
                    Some("role".to_owned()),
                    super::one_of(rule.roles.iter()),
                    role.escape_debug().to_string(),
                )
            });
            if !allowed {
                findings.add(
                    Code::RoleNotAllowed,
                    severity,
                    "allowed_roles",
                    format!("role `{}` is not allowed", role.escape_debug()),
                );
            }
        }
    }
    if let Some(severity) = active(rules.role_normal_form.as_ref().map(|rule| rule.severity)) {
        for role in &roles {
            let normal = normalize_role(role);
            let normalized = *role == normal;
            trace.record("role_normal_form", normalized, || {
                (
                    Some("role".to_owned()),
                    format!("`{normal}`"),
                    role.escape_debug().to_string(),
                )
            });
            if !normalized {
                let message = format!(
                    "role `{}` differs from its normal form `{normal}`",
                    role.escape_debug()
                );
                findings.add(
                    Code::RoleNotNormalized,
                    severity,
                    "role_normal_form",
                    message,
                );
            }
        }
    }
}

pub(super) fn check_permissions(context: &Context<'_>, findings: &mut Findings, trace: &mut Trace) {
    let rules = &context.validator.policy().rules;
    let permissions: &[String] = context.claims.permissions.as_deref().unwrap_or_default();
    let count = permissions.len();
    if let Some(rule) = &rules.max_permissions
        && let Some(severity) = rule.severity.active()
    {
        trace.record("max_permissions", count <= rule.max, || {
            (
                Some("permissions".to_owned()),
                format!("at most {}", rule.max),
                count.to_string(),
            )
        });
        if count > rule.max {
            let message = format!(
                "token carries {count} permissions, more than the maximum of {}",
                rule.max
            );
            findings.add(
                Code::PermissionsTooMany,
                severity,
                "max_permissions",
                message,
            );
        }
    }
    if count > MAX_EVALUATED_PERMISSIONS {
        let message = format!(
            "token carries {count} permissions; more than {MAX_EVALUATED_PERMISSIONS} are never evaluated"
        );
        findings.error(Code::PermissionsTooMany, "claims", message);
        return;
    }
    if let Some(rule) = &rules.permission_patterns
        && let Some(severity) = rule.severity.active()
    {
        for permission in permissions {
            let allowed = rule.allowed.matches(permission);
            trace.record("permission_patterns", allowed, || {
                (
                    Some("permissions".to_owned()),
                    super::one_of(rule.allowed.iter()),
                    permission.clone(),
                )
            });
            if !allowed {
                let message = format!(
                    "permission `{}` matches no allowed pattern",
                    permission.escape_debug()
                );
                findings.add(
                    Code::PermissionNotAllowed,
                    severity,
                    "permission_patterns",
                    message,
                );
            }
        }
    }
    if let Some(rule) = &rules.forbidden_permissions
        && let Some(severity) = rule.severity.active()
    {
        for combination in &rule.combinations {
            let holds_all = combination
                .iter()
                .all(|forbidden| permissions.iter().any(|permission| permission == forbidden));
            trace.record("forbidden_permissions", !holds_all, || {
                let listed: Vec<&str> = combination.iter().collect();
                (
                    Some("permissions".to_owned()),
                    format!("not all of {}", listed.join(", ")),
                    format!("{count} permissions"),
                )
            });
            if holds_all {
                let listed: Vec<&str> = combination.iter().collect();
                let message = format!(
                    "token holds `{}` together, which the policy forbids",
                    listed.join("`, `")
                );
                findings.add(
                    Code::ForbiddenCombination,
                    severity,
                    "forbidden_permissions",
                    message,
                );
            }
        }
    }
    check_grants(context, permissions, findings, trace);
}

/// Returns the definitions of the token's roles, and the roles that have none.
pub(super) fn role_definitions<'a>(
    context: &Context<'a>,
) -> (Vec<&'a RoleDefinition>, Vec<&'a str>) {
    let Some(definitions) = &context.validator.policy().roles else {
        return (Vec::new(), context.claims.all_roles().collect());
    };
    let mut found = Vec::new();
    let mut undefined = Vec::new();
    for role in context.claims.all_roles() {
        let normal = normalize_role(role);
        match definitions
            .iter()
            .find(|(name, _)| normalize_role(name) == normal)
        {
            Some((_, definition)) => found.push(definition),
            None => undefined.push(role),
        }
    }
    (found, undefined)
}

/// Names of the resource-access claims: those named in any role definition, and any claim
/// whose name ends in `_access`.
pub(super) fn resource_claims(context: &Context<'_>) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = context
        .claims
        .other
        .keys()
        .filter(|name| name.ends_with("_access"))
        .cloned()
        .collect();
    if let Some(definitions) = &context.validator.policy().roles {
        names.extend(
            definitions
                .values()
                .flat_map(|definition| definition.resources.keys().cloned()),
        );
    }
    names
}

/// Returns the string items of resource claim `name`; a non-list is reported as one item.
pub(super) fn resource_values(context: &Context<'_>, name: &str) -> Vec<String> {
    match context.claims.other.get(name) {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map_or_else(|| item.to_string(), str::to_owned)
            })
            .collect(),
        Some(serde_json::Value::String(one)) => vec![one.clone()],
        Some(other) => vec![other.to_string()],
        None => Vec::new(),
    }
}

fn check_grants(
    context: &Context<'_>,
    permissions: &[String],
    findings: &mut Findings,
    trace: &mut Trace,
) {
    let rules = &context.validator.policy().rules;
    let Some(severity) = active(rules.privileges.as_ref().map(|rule| rule.severity)) else {
        return;
    };
    let (definitions, undefined) = role_definitions(context);
    for role in undefined {
        trace.record("privileges", false, || {
            (
                Some("role".to_owned()),
                "a defined role".to_owned(),
                role.escape_debug().to_string(),
            )
        });
        findings.add(
            Code::RoleUndefined,
            severity,
            "privileges",
            format!(
                "role `{}` has no definition in the policy",
                role.escape_debug()
            ),
        );
    }
    for permission in permissions {
        let granted = definitions
            .iter()
            .any(|definition| definition.grants_permission(permission));
        trace.record("privileges", granted, || {
            (
                Some("permissions".to_owned()),
                "granted by the token's role".to_owned(),
                permission.clone(),
            )
        });
        if !granted {
            let message = format!(
                "permission `{}` is not granted by the token's role (privilege escalation)",
                permission.escape_debug()
            );
            findings.add(Code::PermissionNotGranted, severity, "privileges", message);
        }
    }
    for claim in resource_claims(context) {
        for resource in resource_values(context, &claim) {
            let granted = definitions
                .iter()
                .any(|definition| definition.grants_resource(&claim, &resource));
            trace.record("privileges", granted, || {
                (
                    Some(claim.clone()),
                    "granted by the token's role".to_owned(),
                    resource.clone(),
                )
            });
            if !granted {
                let message = format!(
                    "`{claim}` lists `{}`, which the token's role does not grant (privilege escalation)",
                    resource.escape_debug()
                );
                findings.add(Code::ResourceNotGranted, severity, "privileges", message);
            }
        }
    }
}
