//! The in-memory configuration snapshot of DESIGN.md §4: per tenant, what hot paths (credential
//! checks now, the token endpoint later) need, loaded on first use and dropped on every change.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use castellan_domain::{ADMIN_SERVER, Client, ClientId, ServerId, TenantId};
use castellan_store::Store;

use crate::ControlResult;

/// What a tenant's hot paths read without touching the database.
#[derive(Debug)]
pub struct TenantSnapshot {
    pub tenant_id: TenantId,
    /// Clients of the tenant's `admin` server: the credentials of the admin API.
    pub admin_clients: HashMap<ClientId, Arc<Client>>,
}

#[derive(Default)]
pub(crate) struct Snapshots {
    tenants: RwLock<HashMap<TenantId, Arc<TenantSnapshot>>>,
}

impl Snapshots {
    /// The tenant's snapshot, loaded from the store on a miss. `None` when the tenant does not
    /// exist (not cached, so unknown ids cannot fill memory).
    pub(crate) async fn get(&self, store: &dyn Store, tid: &TenantId) -> ControlResult<Option<Arc<TenantSnapshot>>> {
        if let Some(s) = self.tenants.read().unwrap_or_else(|p| p.into_inner()).get(tid) {
            return Ok(Some(s.clone()));
        }
        if store.get_tenant(tid).await?.is_none() {
            return Ok(None);
        }
        let admin = ServerId::parse(ADMIN_SERVER).map_err(crate::ControlError::internal)?;
        let admin_clients = store
            .list_clients(tid, &admin)
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), Arc::new(c)))
            .collect();
        let snap = Arc::new(TenantSnapshot {
            tenant_id: tid.clone(),
            admin_clients,
        });
        self.tenants
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(tid.clone(), snap.clone());
        Ok(Some(snap))
    }

    pub(crate) fn invalidate_all(&self) {
        self.tenants.write().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// Drops the tenant's snapshot after a committed change; the next reader rebuilds it.
    pub(crate) fn invalidate(&self, tid: &TenantId) {
        self.tenants.write().unwrap_or_else(|p| p.into_inner()).remove(tid);
    }
}
