//! [`PolicyStore`] on SQLite.

use async_trait::async_trait;
use castellan_domain::{Policy, TenantId};
use castellan_store::{PolicyStore, StoreError, StoreResult};
use castellan_store_sql::PolicyRow;

use crate::{SqliteStore, map_err};

/// Writes a policy (also part of a tenant's seed).
pub(crate) async fn insert_policy<'e, E: sqlx::SqliteExecutor<'e>>(e: E, p: &Policy) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO policies (tenant_id, id, name, language, validators, definition, read_only, created_at, \
         updated_at, imported_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
    .execute(e)
    .await
    .map_err(map_err)
    .map_err(|e| match e {
        StoreError::Conflict(_) => StoreError::Conflict(format!("policy {}", p.id)),
        e => e,
    })?;
    Ok(())
}

#[async_trait]
impl PolicyStore for SqliteStore {
    async fn list_policies(&self, tid: &TenantId) -> StoreResult<Vec<Policy>> {
        self.fetch_all::<PolicyRow, _>(
            "SELECT * FROM policies WHERE tenant_id = ? ORDER BY id",
            &[tid.as_str()],
        )
        .await
    }

    async fn get_policy(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Policy>> {
        self.fetch_opt::<PolicyRow, _>(
            "SELECT * FROM policies WHERE tenant_id = ? AND id = ?",
            &[tid.as_str(), id],
        )
        .await
    }

    async fn create_policy(&self, p: &Policy) -> StoreResult<()> {
        insert_policy(&self.pool, p).await
    }

    async fn update_policy(&self, p: &Policy) -> StoreResult<()> {
        let r = sqlx::query(
            "UPDATE policies SET name = ?, language = ?, validators = ?, definition = ?, updated_at = ? \
             WHERE tenant_id = ? AND id = ?",
        )
        .bind(&p.name)
        .bind(&p.language)
        .bind(p.validators.to_string())
        .bind(&p.definition)
        .bind(p.updated_at)
        .bind(p.tenant_id.as_str())
        .bind(&p.id)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("policy {}", p.id)));
        }
        Ok(())
    }

    async fn delete_policy(&self, tid: &TenantId, id: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM policies WHERE tenant_id = ? AND id = ?")
            .bind(tid.as_str())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }
}
