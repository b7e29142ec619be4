//! [`ClientStore`] on SQLite: clients — the operations written once in
//! [`castellan_store_sql::Sql`], in this adapter's transactions.

use async_trait::async_trait;
use castellan_domain::{Client, ClientId, ServerId, TenantId, UnixTime};
use castellan_store::{ClientStore, StoreResult};
use castellan_store_sql::Sql;
use sqlx::Sqlite;

use crate::{SqliteStore, map_err};

type Shared = Sql<Sqlite>;

#[async_trait]
impl ClientStore for SqliteStore {
    async fn get_client(&self, tid: &TenantId, cid: &ClientId) -> StoreResult<Option<Client>> {
        Shared::get_client(&self.pool, tid, cid).await
    }

    async fn list_clients(&self, tid: &TenantId, aid: &ServerId) -> StoreResult<Vec<Client>> {
        Shared::list_clients(&self.pool, tid, Some(aid)).await
    }

    async fn create_client(&self, c: &Client) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        Shared::insert_client(&mut tx, c).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn create_clients(&self, clients: &[Client]) -> StoreResult<()> {
        // New clients are not cached anywhere yet: nothing to announce.
        let mut tx = self.write_tx().await?;
        for c in clients {
            Shared::insert_client(&mut tx, c).await?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn update_client(&self, c: &Client) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        Shared::update_client(&mut tx, c).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn delete_client(
        &self,
        tid: &TenantId,
        cid: &ClientId,
        now: UnixTime,
        keep_until: UnixTime,
    ) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let Some(_) = Shared::delete_client(&mut tx, tid, cid, now, keep_until).await? else {
            return Ok(false);
        };
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn list_tenant_clients(&self, tid: &TenantId) -> StoreResult<Vec<Client>> {
        Shared::list_clients(&self.pool, tid, None).await
    }
}
