//! `GET|PUT /api/admin/{tid}/tenant` (Cloudentity ACP `getAdminTenant`, `updateAdminTenant`).

use castellan_domain::Tenant;
use castellan_types as wire;

use crate::access::need;
use crate::error::unchanged;
use crate::{AdminAccess, Allowed, Control, ControlError, ControlResult};

use crate::validate::name as check_name;

/// A tenant's published keys must be public keys of a known type.
pub(crate) fn check_public_jwks(jwks: &wire::Jwks) -> ControlResult<()> {
    for (i, k) in jwks.keys.iter().enumerate() {
        let field = format!("jwks.keys[{i}]");
        if !["RSA", "EC", "OKP"].contains(&k.kty.as_str()) {
            return Err(ControlError::invalid(format!("{field}.kty"), "must be RSA, EC or OKP"));
        }
        if k.d.is_some() || k.p.is_some() || k.q.is_some() {
            return Err(ControlError::invalid(
                field,
                "must be a public key (private members are refused)",
            ));
        }
    }
    Ok(())
}

impl Control {
    pub(crate) fn tenant_view(&self, t: Tenant) -> wire::Tenant {
        wire::Tenant {
            url: format!("{}/{}", self.public_url, t.id),
            id: t.id.into(),
            name: t.name,
            authentication_context_settings: t.authentication_context_settings,
            jwks: t.jwks,
        }
    }

    async fn load_tenant(&self, access: &AdminAccess) -> ControlResult<Tenant> {
        self.store
            .get_tenant(access.tenant())
            .await?
            .ok_or_else(|| ControlError::NotFound {
                what: "tenant",
                id: access.tenant().to_string(),
            })
    }

    pub async fn get_tenant(&self, access: &Allowed<need::TenantRead>) -> ControlResult<wire::Tenant> {
        Ok(self.tenant_view(self.load_tenant(access).await?))
    }

    /// Omitted fields keep their value; `id` must be absent or the tenant's own; `url` is derived.
    pub async fn update_tenant(
        &self,
        access: &Allowed<need::TenantWrite>,
        req: wire::TenantRequest,
    ) -> ControlResult<wire::Tenant> {
        let mut t = self.load_tenant(access).await?;
        unchanged(
            "id",
            req.id.as_deref(),
            t.id.as_str(),
            "does not match the tenant in the path",
        )?;
        if let Some(name) = req.name {
            check_name("name", &name)?;
            t.name = name;
        }
        if let Some(settings) = req.authentication_context_settings {
            for (i, a) in settings.attributes.iter().enumerate() {
                if a.name.trim().is_empty() {
                    return Err(ControlError::invalid(
                        format!("authentication_context_settings.attributes[{i}].name"),
                        "must not be empty",
                    ));
                }
            }
            t.authentication_context_settings = settings;
        }
        if let Some(jwks) = req.jwks {
            check_public_jwks(&jwks)?;
            t.jwks = jwks;
        }
        let changes = self.store.update_tenant(&t).await?;
        self.engine.apply(&changes).await;
        Ok(self.tenant_view(t))
    }
}
