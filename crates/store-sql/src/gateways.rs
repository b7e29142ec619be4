//! Gateways (Cloudentity ACP `/gateways`), written once for both databases. A gateway is
//! created with its client, in one transaction.

use castellan_domain::{Client, Gateway, ServerId, TenantId, UnixTime};
use castellan_store::{StoreError, StoreResult};
use sqlx::{Encode, Executor, FromRow, IntoArguments, Transaction, Type};

use crate::{Dialect, GatewayRow, Sql, map_err};

impl<DB> Sql<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'c> &'c sqlx::Pool<DB>: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<Vec<u8>>: Encode<'q, DB> + Type<DB>,
    GatewayRow: for<'r> FromRow<'r, DB::Row>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
{
    pub async fn list_gateways(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        server: Option<&ServerId>,
    ) -> StoreResult<Vec<Gateway>> {
        let sql = format!(
            "SELECT * FROM gateways WHERE tenant_id = $1 AND (CAST($2 AS TEXT) IS NULL OR server_id = $2) \
             ORDER BY id{}",
            DB::BYTES
        );
        let rows: Vec<GatewayRow> = sqlx::query_as(&sql)
            .bind(tid.as_str())
            .bind(server.map(ServerId::as_str))
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(Gateway::try_from).collect()
    }

    pub async fn get_gateway(pool: &sqlx::Pool<DB>, tid: &TenantId, id: &str) -> StoreResult<Option<Gateway>> {
        let row: Option<GatewayRow> = sqlx::query_as("SELECT * FROM gateways WHERE tenant_id = $1 AND id = $2")
            .bind(tid.as_str())
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(map_err)?;
        row.map(Gateway::try_from).transpose()
    }

    /// Writes the gateway and its client; `NotFound` naming the server when it is not there.
    pub async fn create_gateway(tx: &mut Transaction<'static, DB>, g: &Gateway, client: &Client) -> StoreResult<()> {
        Self::insert_client(tx, client).await?;
        Self::insert_gateway(tx, g).await
    }

    /// Writes the gateway alone (its client is written before it); `NotFound` naming the server
    /// when it is not there.
    pub async fn insert_gateway(tx: &mut Transaction<'static, DB>, g: &Gateway) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO gateways (tenant_id, id, server_id, name, description, type, client_id, created_at, \
             last_active) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(g.tenant_id.as_str())
        .bind(g.id.as_str())
        .bind(g.server_id.as_str())
        .bind(g.name.as_str())
        .bind(g.description.as_deref())
        .bind(g.kind.as_str())
        .bind(g.client_id.as_str())
        .bind(g.created_at)
        .bind(g.last_active)
        .execute(&mut **tx)
        .await
        .map_err(map_err)
        .map_err(|e| match e {
            StoreError::NotFound(_) => StoreError::NotFound(format!("server {}", g.server_id)),
            e => e,
        })?;
        Ok(())
    }

    /// `NotFound` when absent.
    pub async fn update_gateway(tx: &mut Transaction<'static, DB>, g: &Gateway) -> StoreResult<()> {
        let r = sqlx::query("UPDATE gateways SET name = $1, description = $2 WHERE tenant_id = $3 AND id = $4")
            .bind(g.name.as_str())
            .bind(g.description.as_deref())
            .bind(g.tenant_id.as_str())
            .bind(g.id.as_str())
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        if DB::rows_affected(&r) == 0 {
            return Err(StoreError::NotFound(format!("gateway {}", g.id)));
        }
        Ok(())
    }

    /// Deletes a gateway; its services stay, bound to no gateway.
    pub async fn delete_gateway(tx: &mut Transaction<'static, DB>, tid: &TenantId, id: &str) -> StoreResult<bool> {
        sqlx::query("UPDATE services SET gateway_id = NULL WHERE tenant_id = $1 AND gateway_id = $2")
            .bind(tid.as_str())
            .bind(id)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        let r = sqlx::query("DELETE FROM gateways WHERE tenant_id = $1 AND id = $2")
            .bind(tid.as_str())
            .bind(id)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        Ok(DB::rows_affected(&r) > 0)
    }

    /// Records when a gateway last asked for a decision (or fetched its configuration).
    pub async fn touch_gateway(pool: &sqlx::Pool<DB>, tid: &TenantId, id: &str, at: UnixTime) -> StoreResult<()> {
        sqlx::query("UPDATE gateways SET last_active = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(at)
            .bind(tid.as_str())
            .bind(id)
            .execute(pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}
