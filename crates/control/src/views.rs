//! How stored values read in the API's answers (shared by every resource module, so that none
//! borrows another's helpers).

use castellan_domain::{Policy, Scope, Service};
use castellan_types::{policies as wire_policies, services as wire_services};

use crate::{ControlError, ControlResult};

/// A Unix time as an RFC 3339 date-time in UTC (`2026-11-23T10:00:00Z`); empty for a time out of
/// range.
pub(crate) fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// A stored service as the API shows it.
pub(crate) fn service(s: &Service) -> wire_services::Service {
    wire_services::Service {
        authorization_server_id: Some(s.server_id.to_string()),
        description: s.description.clone(),
        gateway_id: s.gateway_id.clone(),
        id: Some(s.id.clone()),
        name: Some(s.name.clone()),
        tenant_id: Some(s.tenant_id.to_string()),
        with_specification: Some(s.with_specification),
    }
}

/// A stored scope as the API shows it.
pub(crate) fn scope(s: Scope) -> castellan_types::Scope {
    castellan_types::Scope {
        id: s.id.into(),
        name: s.name,
        authorization_server_id: s.server_id.into(),
        tenant_id: s.tenant_id.into(),
        display_name: s.display_name,
        description: s.description,
        developer_policy_id: s.developer_policy_id,
        user_policy_id: s.user_policy_id,
        service_id: s.service_id,
    }
}

/// A stored policy as the API shows it.
pub(crate) fn policy(p: Policy) -> ControlResult<wire_policies::Policy> {
    Ok(wire_policies::Policy {
        validators: serde_json::from_value(p.validators).map_err(ControlError::internal)?,
        id: p.id,
        policy_name: p.name,
        tenant_id: p.tenant_id.to_string(),
        language: p.language,
        definition: p.definition,
        read_only: p.read_only,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_read_as_rfc3339_in_utc() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_795_428_000), "2026-11-23T10:00:00Z");
        assert_eq!(super::rfc3339(i64::MAX), "");
    }
}
