//! Policies (Cloudentity ACP `/policies`), written once for both databases. Writes take the
//! caller's transaction: a policy is also written as part of a tenant's seed and of a service
//! import, and the PostgreSQL adapter announces each change in the transaction that makes it.

use castellan_domain::{Policy, TenantId};
use castellan_store::{StoreError, StoreResult};
use sqlx::{Encode, Executor, FromRow, IntoArguments, Transaction, Type};

use crate::{Dialect, Sql, corrupt, map_err};

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
{
    /// Writes a policy; `Conflict` naming it when its id exists.
    pub async fn insert_policy(tx: &mut Transaction<'static, DB>, p: &Policy) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO policies (tenant_id, id, name, language, validators, definition, read_only, created_at, \
             updated_at, imported_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(p.tenant_id.as_str())
        .bind(p.id.as_str())
        .bind(p.name.as_str())
        .bind(p.language.as_str())
        .bind(p.validators.to_string())
        .bind(p.definition.as_deref())
        .bind(p.read_only)
        .bind(p.created_at)
        .bind(p.updated_at)
        .bind(p.imported_by.as_deref())
        .execute(&mut **tx)
        .await
        .map_err(map_err)
        .map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict(format!("policy {}", p.id)),
            e => e,
        })?;
        Ok(())
    }
}

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
    PolicyRow: for<'r> FromRow<'r, DB::Row>,
{
    pub async fn list_policies(pool: &sqlx::Pool<DB>, tid: &TenantId) -> StoreResult<Vec<Policy>> {
        let sql = format!("SELECT * FROM policies WHERE tenant_id = $1 ORDER BY id{}", DB::BYTES);
        let rows: Vec<PolicyRow> = sqlx::query_as(&sql)
            .bind(tid.as_str())
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(Policy::try_from).collect()
    }

    pub async fn get_policy(pool: &sqlx::Pool<DB>, tid: &TenantId, id: &str) -> StoreResult<Option<Policy>> {
        let row: Option<PolicyRow> = sqlx::query_as("SELECT * FROM policies WHERE tenant_id = $1 AND id = $2")
            .bind(tid.as_str())
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(map_err)?;
        row.map(Policy::try_from).transpose()
    }

    /// `NotFound` when absent.
    pub async fn update_policy(tx: &mut Transaction<'static, DB>, p: &Policy) -> StoreResult<()> {
        let r = sqlx::query(
            "UPDATE policies SET name = $1, language = $2, validators = $3, definition = $4, updated_at = $5 \
             WHERE tenant_id = $6 AND id = $7",
        )
        .bind(p.name.as_str())
        .bind(p.language.as_str())
        .bind(p.validators.to_string())
        .bind(p.definition.as_deref())
        .bind(p.updated_at)
        .bind(p.tenant_id.as_str())
        .bind(p.id.as_str())
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
        if DB::rows_affected(&r) == 0 {
            return Err(StoreError::NotFound(format!("policy {}", p.id)));
        }
        Ok(())
    }

    pub async fn delete_policy(tx: &mut Transaction<'static, DB>, tid: &TenantId, id: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM policies WHERE tenant_id = $1 AND id = $2")
            .bind(tid.as_str())
            .bind(id)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        Ok(DB::rows_affected(&r) > 0)
    }
}

#[derive(sqlx::FromRow)]
pub struct PolicyRow {
    tenant_id: String,
    id: String,
    name: String,
    language: String,
    validators: String,
    definition: Option<String>,
    read_only: bool,
    imported_by: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<PolicyRow> for Policy {
    type Error = StoreError;
    fn try_from(r: PolicyRow) -> Result<Self, StoreError> {
        Ok(Policy {
            tenant_id: TenantId::parse(r.tenant_id).map_err(corrupt)?,
            id: r.id,
            name: r.name,
            language: r.language,
            validators: serde_json::from_str(&r.validators).map_err(corrupt)?,
            definition: r.definition,
            read_only: r.read_only,
            imported_by: r.imported_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}
