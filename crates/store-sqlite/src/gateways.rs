//! [`GatewayStore`] on SQLite.

use async_trait::async_trait;
use castellan_domain::{Client, Gateway, ServerId, TenantId, UnixTime};
use castellan_store::{GatewayStore, StoreError, StoreResult};
use castellan_store_sql::GatewayRow;

use crate::{SqliteStore, map_err};

#[async_trait]
impl GatewayStore for SqliteStore {
    async fn list_gateways(&self, tid: &TenantId, server: Option<&ServerId>) -> StoreResult<Vec<Gateway>> {
        let rows: Vec<GatewayRow> =
            sqlx::query_as("SELECT * FROM gateways WHERE tenant_id = ? AND (? IS NULL OR server_id = ?) ORDER BY id")
                .bind(tid.as_str())
                .bind(server.map(ServerId::as_str))
                .bind(server.map(ServerId::as_str))
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
        rows.into_iter().map(Gateway::try_from).collect()
    }

    async fn get_gateway(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Gateway>> {
        self.fetch_opt::<GatewayRow, _>(
            "SELECT * FROM gateways WHERE tenant_id = ? AND id = ?",
            &[tid.as_str(), id],
        )
        .await
    }

    async fn create_gateway(&self, g: &Gateway, client: &Client) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        crate::insert_client(&mut tx, client).await?;
        sqlx::query(
            "INSERT INTO gateways (tenant_id, id, server_id, name, description, type, client_id, created_at, \
             last_active) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(g.tenant_id.as_str())
        .bind(&g.id)
        .bind(g.server_id.as_str())
        .bind(&g.name)
        .bind(&g.description)
        .bind(&g.kind)
        .bind(g.client_id.as_str())
        .bind(g.created_at)
        .bind(g.last_active)
        .execute(&mut *tx)
        .await
        .map_err(map_err)
        .map_err(|e| match e {
            StoreError::NotFound(_) => StoreError::NotFound(format!("server {}", g.server_id)),
            e => e,
        })?;
        tx.commit().await.map_err(map_err)
    }

    async fn update_gateway(&self, g: &Gateway) -> StoreResult<()> {
        let r = sqlx::query("UPDATE gateways SET name = ?, description = ? WHERE tenant_id = ? AND id = ?")
            .bind(&g.name)
            .bind(&g.description)
            .bind(g.tenant_id.as_str())
            .bind(&g.id)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("gateway {}", g.id)));
        }
        Ok(())
    }

    async fn delete_gateway(&self, tid: &TenantId, id: &str) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE services SET gateway_id = NULL WHERE tenant_id = ? AND gateway_id = ?")
            .bind(tid.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let r = sqlx::query("DELETE FROM gateways WHERE tenant_id = ? AND id = ?")
            .bind(tid.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn touch_gateway(&self, tid: &TenantId, id: &str, at: UnixTime) -> StoreResult<()> {
        sqlx::query("UPDATE gateways SET last_active = ? WHERE tenant_id = ? AND id = ?")
            .bind(at)
            .bind(tid.as_str())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}
