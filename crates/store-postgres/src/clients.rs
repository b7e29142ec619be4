//! [`ClientStore`] on PostgreSQL: clients — the operations written once in
//! [`castellan_store_sql::Sql`], in this adapter's transactions.

use async_trait::async_trait;
use castellan_domain::{Client, ClientId, ServerId, TenantId, UnixTime};
use castellan_store::{ClientStore, ConfigChange, StoreResult};
use castellan_store_sql::Sql;
use sqlx::Postgres;

use crate::{PostgresStore, map_err, notify};

type Shared = Sql<Postgres>;

#[async_trait]
impl ClientStore for PostgresStore {
    async fn get_client(&self, tid: &TenantId, cid: &ClientId) -> StoreResult<Option<Client>> {
        Shared::get_client(&self.pool, tid, cid).await
    }

    async fn list_clients(&self, tid: &TenantId, aid: &ServerId) -> StoreResult<Vec<Client>> {
        Shared::list_clients(&self.pool, tid, Some(aid)).await
    }

    async fn create_client(&self, c: &Client) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        Shared::insert_client(&mut tx, c).await?;
        notify(&mut tx, &ConfigChange::Client(c.tenant_id.clone(), c.id.clone())).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn create_clients(&self, clients: &[Client]) -> StoreResult<()> {
        // New clients are not cached anywhere yet: nothing to announce.
        let mut tx = self.tx().await?;
        for c in clients {
            Shared::insert_client(&mut tx, c).await?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn update_client(&self, c: &Client) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        Shared::update_client(&mut tx, c).await?;
        notify(&mut tx, &ConfigChange::Client(c.tenant_id.clone(), c.id.clone())).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn delete_client(
        &self,
        tid: &TenantId,
        cid: &ClientId,
        now: UnixTime,
        keep_until: UnixTime,
    ) -> StoreResult<bool> {
        let mut tx = self.tx().await?;
        let Some(aid) = Shared::delete_client(&mut tx, tid, cid, now, keep_until).await? else {
            return Ok(false);
        };
        // Other nodes drop the client and reload the server's revocations and cutoffs. Grants of
        // this client at other servers cannot exist (a client belongs to one server).
        notify(&mut tx, &ConfigChange::Client(tid.clone(), cid.clone())).await?;
        notify(&mut tx, &ConfigChange::Revoked(tid.clone(), aid)).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn list_tenant_clients(&self, tid: &TenantId) -> StoreResult<Vec<Client>> {
        Shared::list_clients(&self.pool, tid, None).await
    }
}
