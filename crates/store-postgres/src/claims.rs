//! [`ClaimStore`] on PostgreSQL: the operations written once in [`castellan_store_sql::Sql`], in this
//! adapter's transactions; every change announces its server ([`ConfigChange::Server`]).

use async_trait::async_trait;
use castellan_domain::{Claim, ClaimId, ServerId, TenantId};
use castellan_store::{ClaimStore, ConfigChange, StoreResult};
use castellan_store_sql::Sql;
use sqlx::Postgres;

use crate::{PostgresStore, map_err, notify};

type Shared = Sql<Postgres>;

#[async_trait]
impl ClaimStore for PostgresStore {
    async fn get_claim(&self, tid: &TenantId, id: &ClaimId) -> StoreResult<Option<Claim>> {
        Shared::get_claim(&self.pool, tid, id).await
    }

    async fn list_claims(&self, tid: &TenantId, aid: &ServerId) -> StoreResult<Vec<Claim>> {
        Shared::list_claims(&self.pool, tid, Some(aid)).await
    }

    async fn list_tenant_claims(&self, tid: &TenantId) -> StoreResult<Vec<Claim>> {
        Shared::list_claims(&self.pool, tid, None).await
    }

    async fn create_claim(&self, c: &Claim) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        Shared::create_claim(&mut tx, c).await?;
        notify(&mut tx, &ConfigChange::Server(c.tenant_id.clone(), c.server_id.clone())).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn update_claim(&self, c: &Claim) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        Shared::update_claim(&mut tx, c).await?;
        notify(&mut tx, &ConfigChange::Server(c.tenant_id.clone(), c.server_id.clone())).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn delete_claim(&self, tid: &TenantId, id: &ClaimId) -> StoreResult<bool> {
        let mut tx = self.tx().await?;
        let Some(aid) = Shared::delete_claim(&mut tx, tid, id).await? else {
            return Ok(false);
        };
        notify(&mut tx, &ConfigChange::Server(tid.clone(), aid)).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }
}
