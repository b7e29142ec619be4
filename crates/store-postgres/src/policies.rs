//! [`PolicyStore`] on PostgreSQL. Every write announces [`ConfigChange::Policies`] in its
//! transaction.

use async_trait::async_trait;
use castellan_domain::{Policy, TenantId};
use castellan_store::{ConfigChange, PolicyStore, StoreError, StoreResult};
use castellan_store_sql::PolicyRow;
use sqlx::{Postgres, Transaction};

use crate::{PostgresStore, map_err, notify};

const COLS: &str = "tenant_id, id, name, language, validators, definition, read_only, imported_by, \
     created_at, updated_at";

/// Writes a policy (also part of a tenant's seed); the caller announces it.
pub(crate) async fn insert_policy(tx: &mut Transaction<'static, Postgres>, p: &Policy) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO policies (tenant_id, id, name, language, validators, definition, read_only, created_at, \
         updated_at, imported_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(p.tenant_id.as_str())
    .bind(&p.id)
    .bind(&p.name)
    .bind(&p.language)
    .bind(p.validators.to_string())
    .bind(&p.definition)
    .bind(p.read_only)
    .bind(p.created_at)
    .bind(p.updated_at)
    .bind(&p.imported_by)
    .execute(&mut **tx)
    .await
    .map_err(map_err)
    .map_err(|e| match e {
        StoreError::Conflict(_) => StoreError::Conflict(format!("policy {}", p.id)),
        e => e,
    })?;
    Ok(())
}

#[async_trait]
impl PolicyStore for PostgresStore {
    async fn list_policies(&self, tid: &TenantId) -> StoreResult<Vec<Policy>> {
        self.fetch_all::<PolicyRow, _>(
            &format!("SELECT {COLS} FROM policies WHERE tenant_id = $1 ORDER BY id COLLATE \"C\""),
            &[tid.as_str()],
        )
        .await
    }

    async fn get_policy(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Policy>> {
        self.fetch_opt::<PolicyRow, _>(
            &format!("SELECT {COLS} FROM policies WHERE tenant_id = $1 AND id = $2"),
            &[tid.as_str(), id],
        )
        .await
    }

    async fn create_policy(&self, p: &Policy) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        insert_policy(&mut tx, p).await?;
        notify(&mut tx, &ConfigChange::Policies(p.tenant_id.clone())).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn update_policy(&self, p: &Policy) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        let r = sqlx::query(
            "UPDATE policies SET name = $1, language = $2, validators = $3, definition = $4, \
             updated_at = $5 WHERE tenant_id = $6 AND id = $7",
        )
        .bind(&p.name)
        .bind(&p.language)
        .bind(p.validators.to_string())
        .bind(&p.definition)
        .bind(p.updated_at)
        .bind(p.tenant_id.as_str())
        .bind(&p.id)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("policy {}", p.id)));
        }
        notify(&mut tx, &ConfigChange::Policies(p.tenant_id.clone())).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn delete_policy(&self, tid: &TenantId, id: &str) -> StoreResult<bool> {
        let mut tx = self.tx().await?;
        let r = sqlx::query("DELETE FROM policies WHERE tenant_id = $1 AND id = $2")
            .bind(tid.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if r.rows_affected() > 0 {
            notify(&mut tx, &ConfigChange::Policies(tid.clone())).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }
}
