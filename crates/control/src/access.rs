//! Who may call the admin API of a tenant (DESIGN.md §3).

use castellan_domain::{ClientId, TenantId};

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
    /// constant time against its keyed hash; an unknown tenant or client costs the same work and
    /// gets the same answer as a wrong secret.
    pub async fn authenticate_admin(&self, tid: &str, client_id: &str, secret: &str) -> ControlResult<AdminAccess> {
        let hasher = self.master.secret_hasher();
        let (Ok(tid), Ok(cid)) = (TenantId::parse(tid), ClientId::parse(client_id)) else {
            hasher.verify_dummy(secret);
            return Err(unauthorized());
        };
        let snapshot = self.snapshots.get(self.store.as_ref(), &tid).await?;
        let hash = snapshot
            .as_ref()
            .and_then(|s| s.admin_clients.get(&cid))
            .and_then(|c| c.secret_hash.clone());
        match hash {
            Some(h) if self.verified_secrets.verify(&self.master, secret, &h).await => Ok(AdminAccess {
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
}
