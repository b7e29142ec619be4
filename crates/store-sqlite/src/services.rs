//! [`ServiceStore`] on SQLite: services, their APIs and imports — the operations written once in
//! [`castellan_store_sql::Sql`], in this adapter's transactions.

use async_trait::async_trait;
use castellan_domain::{Api, ServerId, Service, TenantId};
use castellan_store::{ConfigChange, ServiceImport, ServiceStore, StoreResult};
use castellan_store_sql::Sql;
use sqlx::Sqlite;

use crate::{SqliteStore, map_err};

type Shared = Sql<Sqlite>;

#[async_trait]
impl ServiceStore for SqliteStore {
    async fn list_services(&self, tid: &TenantId, server: Option<&ServerId>) -> StoreResult<Vec<Service>> {
        Shared::list_services(&self.pool, tid, server).await
    }

    async fn get_service(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Service>> {
        Shared::get_service(&self.pool, tid, id).await
    }

    async fn create_service(&self, s: &Service) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        Shared::create_service(&mut tx, s).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn update_service(&self, s: &Service) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        Shared::update_service(&mut tx, s).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn delete_service(&self, tid: &TenantId, id: &str) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let deleted = Shared::delete_service(&mut tx, tid, id).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(deleted)
    }

    async fn list_apis(
        &self,
        tid: &TenantId,
        service: Option<&str>,
        server: Option<&ServerId>,
    ) -> StoreResult<Vec<Api>> {
        Shared::list_apis(&self.pool, tid, service, server).await
    }

    async fn get_api(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Api>> {
        Shared::get_api(&self.pool, tid, id).await
    }

    async fn create_api(&self, a: &Api) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        Shared::insert_api(&mut tx, a).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn update_api(&self, a: &Api) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        Shared::update_api(&mut tx, a).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn delete_api(&self, tid: &TenantId, id: &str) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let deleted = Shared::delete_api(&mut tx, tid, id).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(deleted)
    }

    async fn apply_service_import(&self, imp: &ServiceImport) -> StoreResult<Vec<ConfigChange>> {
        let mut tx = self.write_tx().await?;
        let changes = Shared::apply_service_import(&mut tx, imp).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(changes)
    }
}
