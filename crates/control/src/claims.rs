//! Claims (Cloudentity ACP `createClaim`, `updateClaim`, `deleteClaim`, `listClaims`). Server, name,
//! mapping and type are required; the id is generated when absent.

use castellan_domain::{Claim, ClaimId, ClaimType};
use castellan_store::StoreError;
use castellan_types as wire;

use crate::access::need;
use crate::error::unchanged;
use crate::validate::check_scope_name;
use crate::{AdminAccess, Allowed, Control, ControlError, ControlResult};

const MAX_SCOPES: usize = 100;

pub(crate) fn claim_view(c: Claim) -> wire::Claim {
    wire::Claim {
        id: c.id.into(),
        authorization_server_id: c.server_id.into(),
        tenant_id: c.tenant_id.into(),
        name: c.name,
        mapping: c.mapping,
        claim_type: c.claim_type.as_str().into(),
        scopes: c.scopes,
    }
}

/// A claim name as it appears in a JWT: 1 to 128 printable characters without spaces.
pub(crate) fn check_claim_name(field: &str, v: &str) -> ControlResult<()> {
    if v.is_empty() || v.chars().count() > 128 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ControlError::invalid(
            field,
            "must be 1 to 128 characters without spaces",
        ));
    }
    Ok(())
}

/// An attribute path of the authentication context (`email`, `address.country`).
pub(crate) fn check_mapping(field: &str, v: &str) -> ControlResult<()> {
    if v.is_empty() || v.chars().count() > 256 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ControlError::invalid(
            field,
            "must be 1 to 256 characters without spaces",
        ));
    }
    Ok(())
}

pub(crate) fn parse_type(v: &str) -> ControlResult<ClaimType> {
    ClaimType::parse(v).ok_or_else(|| ControlError::invalid("type", "must be access_token or id_token"))
}

pub(crate) fn check_scopes(scopes: &[String]) -> ControlResult<()> {
    if scopes.len() > MAX_SCOPES {
        return Err(ControlError::invalid("scopes", format!("at most {MAX_SCOPES} entries")));
    }
    for (i, s) in scopes.iter().enumerate() {
        check_scope_name(&format!("scopes[{i}]"), s)?;
    }
    Ok(())
}

fn conflict(c: &Claim) -> impl Fn(StoreError) -> ControlError + '_ {
    move |e| match e {
        StoreError::Conflict(_) => ControlError::Conflict {
            what: "claim",
            id: format!(
                "{} ({} {:?} on server {})",
                c.id,
                c.claim_type.as_str(),
                c.name,
                c.server_id
            ),
        },
        StoreError::NotFound(_) => ControlError::NotFound {
            what: "authorization server",
            id: c.server_id.to_string(),
        },
        e => e.into(),
    }
}

impl Control {
    async fn load_claim(&self, access: &AdminAccess, id: &str) -> ControlResult<Claim> {
        let not_found = || ControlError::NotFound {
            what: "claim",
            id: id.to_owned(),
        };
        let cid = ClaimId::parse(id).map_err(|_| not_found())?;
        self.store.get_claim(access.tenant(), &cid).await?.ok_or_else(not_found)
    }

    pub async fn create_claim(
        &self,
        access: &Allowed<need::ClaimWrite>,
        req: wire::ClaimRequest,
    ) -> ControlResult<wire::Claim> {
        crate::error::same_tenant(req.tenant_id.as_deref(), access.tenant())?;
        let aid = req
            .authorization_server_id
            .ok_or_else(|| ControlError::invalid("authorization_server_id", "is required"))?;
        let name = req.name.ok_or_else(|| ControlError::invalid("name", "is required"))?;
        check_claim_name("name", &name)?;
        let mapping = req
            .mapping
            .ok_or_else(|| ControlError::invalid("mapping", "is required"))?;
        check_mapping("mapping", &mapping)?;
        let claim_type = parse_type(
            &req.claim_type
                .ok_or_else(|| ControlError::invalid("type", "is required"))?,
        )?;
        let scopes = req.scopes.unwrap_or_default();
        check_scopes(&scopes)?;
        let server = self.load_server(access, &aid).await?;
        let id = match req.id {
            Some(id) => ClaimId::parse(id).map_err(|e| ControlError::invalid("id", e.to_string()))?,
            None => ClaimId::parse(uuid::Uuid::new_v4().simple().to_string()).map_err(ControlError::internal)?,
        };
        let claim = Claim {
            tenant_id: server.tenant_id,
            server_id: server.id,
            id,
            name,
            mapping,
            claim_type,
            scopes,
            created_at: self.clock.now(),
        };
        let changes = self.store.create_claim(&claim).await.map_err(conflict(&claim))?;
        self.engine.apply(&changes).await;
        Ok(claim_view(claim))
    }

    /// Omitted fields keep their value; a claim cannot move to another server.
    pub async fn update_claim(
        &self,
        access: &Allowed<need::ClaimWrite>,
        id: &str,
        req: wire::ClaimRequest,
    ) -> ControlResult<wire::Claim> {
        crate::error::same_tenant(req.tenant_id.as_deref(), access.tenant())?;
        let mut claim = self.load_claim(access, id).await?;
        unchanged(
            "id",
            req.id.as_deref(),
            claim.id.as_str(),
            "does not match the claim in the path",
        )?;
        unchanged(
            "authorization_server_id",
            req.authorization_server_id.as_deref(),
            claim.server_id.as_str(),
            "a claim cannot move to another server",
        )?;
        if let Some(v) = req.name {
            check_claim_name("name", &v)?;
            claim.name = v;
        }
        if let Some(v) = req.mapping {
            check_mapping("mapping", &v)?;
            claim.mapping = v;
        }
        if let Some(v) = req.claim_type {
            claim.claim_type = parse_type(&v)?;
        }
        if let Some(v) = req.scopes {
            check_scopes(&v)?;
            claim.scopes = v;
        }
        let changes = self.store.update_claim(&claim).await.map_err(|e| match e {
            StoreError::NotFound(_) => ControlError::NotFound {
                what: "claim",
                id: id.to_owned(),
            },
            e => conflict(&claim)(e),
        })?;
        self.engine.apply(&changes).await;
        Ok(claim_view(claim))
    }

    pub async fn delete_claim(&self, access: &Allowed<need::ClaimWrite>, id: &str) -> ControlResult<()> {
        let claim = self.load_claim(access, id).await?;
        let Some(changes) = self.store.delete_claim(&claim.tenant_id, &claim.id).await? else {
            return Err(ControlError::NotFound {
                what: "claim",
                id: id.to_owned(),
            });
        };
        self.engine.apply(&changes).await;
        Ok(())
    }

    pub async fn list_claims(&self, access: &Allowed<need::ClaimRead>, aid: &str) -> ControlResult<wire::Claims> {
        let server = self.load_server(access, aid).await?;
        let claims = self.store.list_claims(&server.tenant_id, &server.id).await?;
        Ok(wire::Claims {
            claims: claims.into_iter().map(claim_view).collect(),
        })
    }
}
