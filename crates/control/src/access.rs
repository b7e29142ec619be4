//! Who may call the admin API of a tenant.

use castellan_domain::{ADMIN_SERVER, ClientId, TenantId};

use crate::{Control, ControlError, ControlResult};

/// Proof that the caller authenticated as a client of `{tid}/admin`. Only
/// [`Control::authenticate_admin`] makes one, and every admin operation needs one: the tenant an
/// operation touches is the one inside, never a second argument that could disagree.
#[derive(Debug, Clone)]
pub struct AdminAccess {
    tenant: TenantId,
    client_id: ClientId,
}

impl AdminAccess {
    /// Access for operator commands (the `castellan` CLI), whose user already holds the master
    /// key and the database; never for anything reached over the network.
    pub fn for_operator(tenant: TenantId) -> Self {
        Self {
            tenant,
            client_id: ClientId::parse("operator").unwrap_or_else(|_| unreachable!("a valid id")),
        }
    }

    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }
}

fn unauthorized() -> ControlError {
    ControlError::Unauthorized("invalid client credentials".into())
}

impl Control {
    /// Checks HTTP Basic credentials of a client of `{tid}/admin`. The secret is compared in
    /// constant time against its stored hash; an unknown tenant or client costs the same work and
    /// gets the same answer as a wrong secret.
    pub async fn authenticate_admin(&self, tid: &str, client_id: &str, secret: &str) -> ControlResult<AdminAccess> {
        let hasher = self.master.secret_hasher();
        let (Ok(tid), Ok(cid)) = (TenantId::parse(tid), ClientId::parse(client_id)) else {
            hasher.verify_dummy(secret);
            return Err(unauthorized());
        };
        let admin = self
            .engine
            .server(tid.as_str(), ADMIN_SERVER)
            .await
            .map_err(from_oauth)?;
        let client = match &admin {
            Some(rt) => self.engine.client(rt, cid.as_str()).await.map_err(from_oauth)?,
            None => None,
        };
        let hash = client.and_then(|c| c.secret_hash.clone());
        match hash {
            Some(h) if self.engine.verify_secret(secret, &h).await => Ok(AdminAccess {
                tenant: tid,
                client_id: cid,
            }),
            Some(_) => Err(unauthorized()),
            None => {
                hasher.verify_dummy(secret);
                Err(unauthorized())
            }
        }
    }

    /// Checks a bearer access token issued by `{tid}/admin` (signature, expiry, revocation) to a
    /// client that still exists there.
    pub async fn authenticate_admin_bearer(&self, tid: &str, token: &str) -> ControlResult<AdminAccess> {
        let Some(admin) = self.engine.server(tid, ADMIN_SERVER).await.map_err(from_oauth)? else {
            return Err(unauthorized_token());
        };
        let claims = self
            .engine
            .verify_access_token(&admin, token)
            .await
            .map_err(from_oauth)?;
        let Some(claims) = claims else {
            return Err(unauthorized_token());
        };
        // The token's client still exists (checked with the signature).
        let cid = ClientId::parse(claims.client_id).map_err(|_| unauthorized_token())?;
        Ok(AdminAccess {
            tenant: admin.tenant_id().clone(),
            client_id: cid,
        })
    }
}

fn unauthorized_token() -> ControlError {
    ControlError::Unauthorized("invalid or expired access token".into())
}

fn from_oauth(e: castellan_oauth::OAuthError) -> ControlError {
    match e.code {
        castellan_oauth::ErrorCode::TemporarilyUnavailable => ControlError::Unavailable(e.description),
        _ => ControlError::Internal(e.description),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use castellan_oauth::{ErrorCode, OAuthError};

    #[test]
    fn a_store_outage_is_unavailable_and_anything_else_internal() {
        let e = from_oauth(OAuthError::new(ErrorCode::TemporarilyUnavailable, "db down"));
        assert_eq!(e, ControlError::Unavailable("db down".into()));
        let e = from_oauth(OAuthError::new(ErrorCode::ServerError, "bug"));
        assert_eq!(e, ControlError::Internal("bug".into()));
    }
}
