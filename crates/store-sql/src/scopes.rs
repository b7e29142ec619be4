//! Scopes, written once for both databases (the insert is shared with a server's creation, a
//! tenant's seed and a service import).

use castellan_domain::{Scope, ScopeId, ServerId, TenantId};
use castellan_store::{StoreError, StoreResult};
use sqlx::{Encode, Executor, FromRow, IntoArguments, Transaction, Type};

use crate::{Dialect, Sql, corrupt, from_json, map_err, to_json};

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
    /// `NotFound` naming the server when it is not there; `Conflict` when the name is taken.
    pub async fn insert_scope(tx: &mut Transaction<'static, DB>, sc: &Scope) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO scopes (tenant_id, id, server_id, name, display_name, description, developer_policy_id, \
             user_policy_id, service_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(sc.tenant_id.as_str())
        .bind(sc.id.as_str())
        .bind(sc.server_id.as_str())
        .bind(sc.name.as_str())
        .bind(sc.display_name.as_str())
        .bind(sc.description.as_str())
        .bind(sc.developer_policy_id.as_deref())
        .bind(sc.user_policy_id.as_deref())
        .bind(sc.service_id.as_deref())
        .bind(sc.created_at)
        .execute(&mut **tx)
        .await
        .map_err(|e| match map_err(e) {
            StoreError::NotFound(_) => StoreError::NotFound(format!("authorization server {}", sc.server_id)),
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
    ScopeRow: for<'r> FromRow<'r, DB::Row>,
    (String, String): for<'r> FromRow<'r, DB::Row>,
{
    pub async fn get_scope(pool: &sqlx::Pool<DB>, tid: &TenantId, id: &ScopeId) -> StoreResult<Option<Scope>> {
        let row: Option<ScopeRow> = sqlx::query_as("SELECT * FROM scopes WHERE tenant_id = $1 AND id = $2")
            .bind(tid.as_str())
            .bind(id.as_str())
            .fetch_optional(pool)
            .await
            .map_err(map_err)?;
        row.map(Scope::try_from).transpose()
    }

    /// A server's scopes (`Some`) or all the tenant's, by server then name.
    pub async fn list_scopes(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        server: Option<&ServerId>,
    ) -> StoreResult<Vec<Scope>> {
        let sql = format!(
            "SELECT * FROM scopes WHERE tenant_id = $1 AND (CAST($2 AS TEXT) IS NULL OR server_id = $2) \
             ORDER BY server_id{b}, name{b}",
            b = DB::BYTES
        );
        let rows: Vec<ScopeRow> = sqlx::query_as(&sql)
            .bind(tid.as_str())
            .bind(server.map(ServerId::as_str))
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(Scope::try_from).collect()
    }

    /// `NotFound` when absent; `Conflict` when the new name is taken.
    pub async fn update_scope(tx: &mut Transaction<'static, DB>, sc: &Scope) -> StoreResult<()> {
        let r = sqlx::query(
            "UPDATE scopes SET name = $1, display_name = $2, description = $3, developer_policy_id = $4, \
             user_policy_id = $5, service_id = $6 WHERE tenant_id = $7 AND id = $8",
        )
        .bind(sc.name.as_str())
        .bind(sc.display_name.as_str())
        .bind(sc.description.as_str())
        .bind(sc.developer_policy_id.as_deref())
        .bind(sc.user_policy_id.as_deref())
        .bind(sc.service_id.as_deref())
        .bind(sc.tenant_id.as_str())
        .bind(sc.id.as_str())
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
        if DB::rows_affected(&r) == 0 {
            return Err(StoreError::NotFound(format!("scope {}", sc.id)));
        }
        Ok(())
    }

    /// Deletes a scope and takes it out of its server's clients; the server it was on, or `None`
    /// when there was no such scope. The server's clients are read (and locked, on PostgreSQL,
    /// so a client update running meanwhile cannot write the deleted scope back) and those that
    /// have the scope are rewritten.
    pub async fn delete_scope(
        tx: &mut Transaction<'static, DB>,
        tid: &TenantId,
        id: &ScopeId,
    ) -> StoreResult<Option<ServerId>> {
        let scope: Option<(String, String)> =
            sqlx::query_as("DELETE FROM scopes WHERE tenant_id = $1 AND id = $2 RETURNING server_id, name")
                .bind(tid.as_str())
                .bind(id.as_str())
                .fetch_optional(&mut **tx)
                .await
                .map_err(map_err)?;
        let Some((server_id, name)) = scope else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT id, metadata FROM clients WHERE tenant_id = $1 AND server_id = $2{}",
            DB::FOR_UPDATE
        );
        let clients: Vec<(String, String)> = sqlx::query_as(&sql)
            .bind(tid.as_str())
            .bind(server_id.as_str())
            .fetch_all(&mut **tx)
            .await
            .map_err(map_err)?;
        for (cid, metadata) in clients {
            if let Some(updated) = without_scope(&metadata, &name)? {
                sqlx::query("UPDATE clients SET metadata = $1 WHERE tenant_id = $2 AND id = $3")
                    .bind(updated)
                    .bind(tid.as_str())
                    .bind(cid.as_str())
                    .execute(&mut **tx)
                    .await
                    .map_err(map_err)?;
            }
        }
        ServerId::parse(server_id).map(Some).map_err(corrupt)
    }
}

/// A client's stored settings without scope `name`; `None` when it did not have it (nothing to
/// write). Used when a scope is deleted.
fn without_scope(metadata: &str, name: &str) -> Result<Option<String>, StoreError> {
    let mut settings: castellan_domain::ClientSettings = from_json(metadata)?;
    if !settings.scopes.iter().any(|s| s == name) {
        return Ok(None);
    }
    settings.scopes.retain(|s| s != name);
    to_json(&settings).map(Some)
}

#[derive(sqlx::FromRow)]
pub struct ScopeRow {
    tenant_id: String,
    id: String,
    server_id: String,
    name: String,
    display_name: String,
    description: String,
    developer_policy_id: Option<String>,
    user_policy_id: Option<String>,
    service_id: Option<String>,
    created_at: i64,
}

impl TryFrom<ScopeRow> for Scope {
    type Error = StoreError;
    fn try_from(r: ScopeRow) -> Result<Self, StoreError> {
        Ok(Scope {
            tenant_id: TenantId::parse(r.tenant_id).map_err(corrupt)?,
            server_id: ServerId::parse(r.server_id).map_err(corrupt)?,
            id: ScopeId::parse(r.id).map_err(corrupt)?,
            name: r.name,
            display_name: r.display_name,
            description: r.description,
            developer_policy_id: r.developer_policy_id,
            user_policy_id: r.user_policy_id,
            service_id: r.service_id,
            created_at: r.created_at,
        })
    }
}
