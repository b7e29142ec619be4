//! [`GatewayStore`] on PostgreSQL. Every write but `touch_gateway` announces
//! [`ConfigChange::Services`] in its transaction.

use async_trait::async_trait;
use castellan_domain::{Client, Gateway, ServerId, TenantId, UnixTime};
use castellan_store::{ConfigChange, GatewayStore, StoreError, StoreResult};
use castellan_store_sql::GatewayRow;

use crate::{PostgresStore, map_err, notify};

const COLS: &str = "tenant_id, id, server_id, name, description, type, client_id, \
     created_at, last_active";

#[async_trait]
impl GatewayStore for PostgresStore {
    async fn list_gateways(&self, tid: &TenantId, server: Option<&ServerId>) -> StoreResult<Vec<Gateway>> {
        let rows: Vec<GatewayRow> = sqlx::query_as(&format!(
            "SELECT {COLS} FROM gateways WHERE tenant_id = $1 AND ($2::text IS NULL OR server_id = $3) \
             ORDER BY id COLLATE \"C\""
        ))
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
            &format!("SELECT {COLS} FROM gateways WHERE tenant_id = $1 AND id = $2"),
            &[tid.as_str(), id],
        )
        .await
    }

    async fn create_gateway(&self, g: &Gateway, client: &Client) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        crate::insert_client(&mut tx, client).await?;
        sqlx::query(
            "INSERT INTO gateways (tenant_id, id, server_id, name, description, type, client_id, created_at, \
             last_active) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
        let r = sqlx::query("UPDATE gateways SET name = $1, description = $2 WHERE tenant_id = $3 AND id = $4")
            .bind(&g.name)
            .bind(&g.description)
            .bind(g.tenant_id.as_str())
            .bind(&g.id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("gateway {}", g.id)));
        }
        notify(&mut tx, &ConfigChange::Services(g.tenant_id.clone())).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn delete_gateway(&self, tid: &TenantId, id: &str) -> StoreResult<bool> {
        let mut tx = self.tx().await?;
        sqlx::query("UPDATE services SET gateway_id = NULL WHERE tenant_id = $1 AND gateway_id = $2")
            .bind(tid.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let r = sqlx::query("DELETE FROM gateways WHERE tenant_id = $1 AND id = $2")
            .bind(tid.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        notify(&mut tx, &ConfigChange::Services(tid.clone())).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn touch_gateway(&self, tid: &TenantId, id: &str, at: UnixTime) -> StoreResult<()> {
        sqlx::query("UPDATE gateways SET last_active = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(at)
            .bind(tid.as_str())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}
