//! [`GatewayStore`] on PostgreSQL: gateways — the operations written once in
//! [`castellan_store_sql::Sql`], in this adapter's transactions; every write but `touch_gateway` announces [`ConfigChange::Services`].

use async_trait::async_trait;
use castellan_domain::{Client, Gateway, ServerId, TenantId, UnixTime};
use castellan_store::{ConfigChange, GatewayStore, StoreResult};
use castellan_store_sql::Sql;
use sqlx::Postgres;

use crate::{PostgresStore, map_err, notify};

type Shared = Sql<Postgres>;

#[async_trait]
impl GatewayStore for PostgresStore {
    async fn list_gateways(&self, tid: &TenantId, server: Option<&ServerId>) -> StoreResult<Vec<Gateway>> {
        Shared::list_gateways(&self.pool, tid, server).await
    }

    async fn get_gateway(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Gateway>> {
        Shared::get_gateway(&self.pool, tid, id).await
    }

    async fn create_gateway(&self, g: &Gateway, client: &Client) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        Shared::create_gateway(&mut tx, g, client).await?;
        notify(
            &mut tx,
            &ConfigChange::Client(client.tenant_id.clone(), client.id.clone()),
        )
        .await?;
        notify(&mut tx, &ConfigChange::Services(g.tenant_id.clone())).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn update_gateway(&self, g: &Gateway) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        Shared::update_gateway(&mut tx, g).await?;
        notify(&mut tx, &ConfigChange::Services(g.tenant_id.clone())).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn delete_gateway(&self, tid: &TenantId, id: &str) -> StoreResult<bool> {
        let mut tx = self.tx().await?;
        let deleted = Shared::delete_gateway(&mut tx, tid, id).await?;
        notify(&mut tx, &ConfigChange::Services(tid.clone())).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(deleted)
    }

    async fn touch_gateway(&self, tid: &TenantId, id: &str, at: UnixTime) -> StoreResult<()> {
        Shared::touch_gateway(&self.pool, tid, id, at).await
    }
}
