//! What a new tenant and a new authorization server start with, and the lifetimes derived from
//! a server's settings: one home for the defaults that bootstrap, tenant creation and server
//! creation share.

use castellan_domain::{AuthorizationServer, Policy, Scope, ScopeId, ServerId, TenantId, UnixTime};

use crate::{ControlError, ControlResult};

/// The OpenID Connect scopes (OIDC Core §3.1.2.1, §5.4, §11) every new server starts with, worded
/// for the consent page. They are ordinary scopes: an admin may edit or delete them.
pub(crate) const STANDARD_SCOPES: [(&str, &str, &str); 6] = [
    (
        "openid",
        "Sign you in",
        "Confirm who you are with your account on this server.",
    ),
    (
        "profile",
        "Your profile",
        "Your name, username, picture, locale and other basic profile details.",
    ),
    (
        "email",
        "Your email address",
        "Your email address and whether it has been verified.",
    ),
    ("address", "Your postal address", "The postal address on your account."),
    (
        "phone",
        "Your phone number",
        "Your phone number and whether it has been verified.",
    ),
    (
        "offline_access",
        "Stay connected",
        "Keep access while you are away, until you sign out of the application or revoke it.",
    ),
];

/// [`STANDARD_SCOPES`] for a new server.
pub(crate) fn standard_scopes(tid: &TenantId, aid: &ServerId, now: UnixTime) -> ControlResult<Vec<Scope>> {
    STANDARD_SCOPES
        .iter()
        .map(|(name, display, description)| {
            Ok(Scope {
                tenant_id: tid.clone(),
                server_id: aid.clone(),
                id: ScopeId::parse(uuid::Uuid::new_v4().simple().to_string()).map_err(ControlError::internal)?,
                name: (*name).into(),
                display_name: (*display).into(),
                description: (*description).into(),
                developer_policy_id: None,
                user_policy_id: None,
                service_id: None,
                created_at: now,
            })
        })
        .collect()
}

/// The read-only policies every tenant has: `allow` (passes) and `block` (fails).
pub const BUILT_IN: [&str; 2] = ["allow", "block"];

/// [`BUILT_IN`] for a new tenant.
pub(crate) fn built_in_policies(tid: &TenantId, now: i64) -> Vec<Policy> {
    [("allow", "true"), ("block", "false")]
        .into_iter()
        .map(|(id, validator)| Policy {
            tenant_id: tid.clone(),
            id: id.into(),
            name: id.into(),
            language: "cloudentity".into(),
            validators: serde_json::json!([{"name": validator, "conf": {}, "recovery": []}]),
            definition: None,
            read_only: true,
            imported_by: None,
            created_at: now,
            updated_at: now,
        })
        .collect()
}

/// How long a token the server signs can stay valid (seconds): what a cutoff on a deleted client
/// or server must outlive. The longer of the access and ID token lifetimes, and at least a day,
/// since a lifetime lowered shortly before the deletion leaves older, longer-lived tokens.
pub(crate) fn longest_token_life(server: &AuthorizationServer) -> i64 {
    let s = &server.settings;
    (s.access_token_ttl.as_secs().max(s.id_token_ttl.as_secs()) as i64).max(86_400)
}
