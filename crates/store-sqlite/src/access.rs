//! [`AccessStore`] on SQLite: STS client mappings, roles and their connection maps — the operations
//! written once in [`castellan_store_sql::Sql`], in this adapter's transactions.

use async_trait::async_trait;
use castellan_domain::{ConnectionMap, Role, StsClient, TenantId};
use castellan_store::{AccessStore, StoreResult};
use castellan_store_sql::Sql;
use sqlx::Sqlite;

use crate::{SqliteStore, map_err};

type Shared = Sql<Sqlite>;

#[async_trait]
impl AccessStore for SqliteStore {
    async fn list_sts_clients(&self, tid: &TenantId) -> StoreResult<Vec<StsClient>> {
        Shared::list_sts_clients(&self.pool, tid).await
    }

    async fn get_sts_client(&self, tid: &TenantId, client_id: &str) -> StoreResult<Option<StsClient>> {
        Shared::get_sts_client(&self.pool, tid, client_id).await
    }

    async fn create_sts_client(&self, c: &StsClient) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        Shared::create_sts_client(&mut tx, c).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(())
    }

    async fn update_sts_client(&self, c: &StsClient) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        Shared::update_sts_client(&mut tx, c).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(())
    }

    async fn delete_sts_client(&self, tid: &TenantId, client_id: &str) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let deleted = Shared::delete_sts_client(&mut tx, tid, client_id).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(deleted)
    }

    async fn list_roles(&self, tid: &TenantId) -> StoreResult<Vec<Role>> {
        Shared::list_roles(&self.pool, tid).await
    }

    async fn get_role(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Role>> {
        Shared::get_role(&self.pool, tid, id).await
    }

    async fn create_role(&self, r: &Role) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        Shared::create_role(&mut tx, r).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(())
    }

    async fn update_role(&self, r: &Role) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        Shared::update_role(&mut tx, r).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(())
    }

    async fn delete_role(&self, tid: &TenantId, id: &str) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let deleted = Shared::delete_role(&mut tx, tid, id).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(deleted)
    }

    async fn add_connection_map(&self, tid: &TenantId, m: &ConnectionMap) -> StoreResult<ConnectionMap> {
        let mut tx = self.write_tx().await?;
        let added = Shared::add_connection_map(&mut tx, tid, m).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(added)
    }

    async fn delete_connection_map(&self, tid: &TenantId, role_id: &str, map_id: i64) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let deleted = Shared::delete_connection_map(&mut tx, tid, role_id, map_id).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(deleted)
    }
}
