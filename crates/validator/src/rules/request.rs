//! Requirements of the current request: a role, permissions and a resource.

use warden_policy::normalize_role;

use super::Context;
use super::privileges::{resource_claims, resource_values, role_definitions};
use crate::findings::{Findings, Trace};
use crate::report::Code;
use crate::validator::Request;

pub(super) fn check_request(
    context: &Context<'_>,
    request: &Request,
    findings: &mut Findings,
    trace: &mut Trace,
) {
    let claims = context.claims;
    let has_definitions = context.validator.policy().roles.is_some();
    let (definitions, _) = role_definitions(context);
    if let Some(required) = &request.role {
        let expected = normalize_role(required);
        let carried_role = claims
            .all_roles()
            .any(|role| normalize_role(role) == expected);
        trace.record("request", carried_role, || {
            (
                Some("role".to_owned()),
                format!("`{required}`"),
                claims.all_roles().collect::<Vec<_>>().join(", "),
            )
        });
        if !carried_role {
            findings.error(
                Code::RequestRoleMissing,
                "request",
                format!("request requires role `{required}`, which the token does not carry"),
            );
        }
    }
    for required in &request.permissions {
        let carried = claims
            .permissions
            .iter()
            .flatten()
            .any(|permission| permission == required);
        let granted = !has_definitions
            || definitions
                .iter()
                .any(|definition| definition.grants_permission(required));
        trace.record("request", carried && granted, || {
            (
                Some("permissions".to_owned()),
                format!("`{required}`"),
                if carried { "carried" } else { "absent" }.to_owned(),
            )
        });
        if !carried {
            findings.error(
                Code::RequestPermissionMissing,
                "request",
                format!("request requires permission `{required}`, which the token does not carry"),
            );
        } else if !granted {
            let message = format!(
                "request requires permission `{required}`, which the token carries but its role does not grant"
            );
            findings.error(Code::RequestPermissionMissing, "request", message);
        }
    }
    if let Some(resource) = &request.resource {
        let claims_with_it: Vec<String> = resource_claims(context)
            .into_iter()
            .filter(|claim| {
                resource_values(context, claim)
                    .iter()
                    .any(|value| value == resource || value == "*")
            })
            .collect();
        let granted = !has_definitions
            || claims_with_it.iter().any(|claim| {
                definitions
                    .iter()
                    .any(|definition| definition.grants_resource(claim, resource))
            });
        let allowed = !claims_with_it.is_empty() && granted;
        trace.record("request", allowed, || {
            (
                Some("resource".to_owned()),
                format!("`{resource}`"),
                claims_with_it.join(", "),
            )
        });
        if !allowed {
            let message = if claims_with_it.is_empty() {
                format!(
                    "request requires access to `{resource}`, which no resource claim of the token lists"
                )
            } else {
                format!(
                    "request requires access to `{resource}`, which the token's role does not grant"
                )
            };
            findings.error(Code::RequestResourceDenied, "request", message);
        }
    }
}
