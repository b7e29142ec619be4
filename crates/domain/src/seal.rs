//! The associated-data labels that bind each sealed value to its row (see `castellan-jose::seal`).
//! One place, so every crate that seals or opens agrees.

use crate::{ClientId, ServerId, TenantId};

pub fn server_key(tid: &TenantId, aid: &ServerId, kid: &str) -> String {
    format!("server-key/{tid}/{aid}/{kid}")
}

pub fn server_secrets(tid: &TenantId, aid: &ServerId) -> String {
    format!("server-secrets/{tid}/{aid}")
}

pub fn client_secret(tid: &TenantId, cid: &ClientId) -> String {
    format!("client-secret/{tid}/{cid}")
}

/// A secret a workspace client keeps for an issuer (`field` names it: `global/Core/client-secret`).
pub fn workspace_secret(tid: &TenantId, cid: &ClientId, field: &str) -> String {
    format!("workspace-secret/{tid}/{cid}/{field}")
}

pub fn auth_method(tid: &TenantId, aid: &ServerId, method_id: &str) -> String {
    format!("auth-method/{tid}/{aid}/{method_id}")
}

/// The master-key check value a store keeps from its first bootstrap.
pub const KEY_CHECK: &str = "key-check";

pub fn ledger_key(tid: &TenantId, kid: &str) -> String {
    format!("ledger-key/{tid}/{kid}")
}

/// The admin console's cookies of tenant `tid`: `what` is `session` (the person's access token)
/// or `sign-in` (the PKCE verifier and state of a sign-in under way).
pub fn console(tid: &str, what: &str) -> String {
    format!("console/{tid}/{what}")
}
