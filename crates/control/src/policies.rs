//! Policies (Cloudentity ACP `/api/admin/{tid}/policies`): stored as given, compiled by
//! `castellan-policy` on every write (so a bad one is a 422 naming the member) and again when a
//! tenant's configuration is loaded.

use castellan_domain::{Policy, TenantId};

/// The read-only policies every tenant has: `allow` (passes) and `block` (fails).
pub const BUILT_IN: [&str; 2] = ["allow", "block"];

pub(crate) fn built_in(tid: &TenantId, now: i64) -> Vec<Policy> {
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
            created_at: now,
            updated_at: now,
        })
        .collect()
}
