//! Tenants and their first writing: a tenant's seed (its servers, keys, scopes, clients and
//! policies in one transaction) and the first start's bootstrap, written once for both
//! databases. The adapters own what differs: how nodes starting together take turns (an
//! advisory lock on PostgreSQL; SQLite's one writer).

use castellan_domain::{Tenant, TenantId};
use castellan_store::{BootstrapSeed, StoreError, StoreResult};
use sqlx::{Encode, Executor, FromRow, IntoArguments, Transaction, Type};

use crate::{Dialect, Sql, TenantRow, corrupt, map_err, to_json};

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
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
{
    /// Writes a tenant; `Conflict` naming it when its id exists.
    pub async fn insert_tenant(tx: &mut Transaction<'static, DB>, t: &Tenant) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO tenants (id, name, authentication_context_settings, jwks, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(t.id.as_str())
        .bind(t.name.as_str())
        .bind(to_json(&t.authentication_context_settings)?)
        .bind(to_json(&t.jwks)?)
        .bind(t.created_at)
        .execute(&mut **tx)
        .await
        .map_err(map_err)
        .map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict(format!("tenant {}", t.id)),
            e => e,
        })?;
        Ok(())
    }

    /// Writes a tenant with everything it starts with. Only the first seed's master-key check
    /// is kept: every tenant's secrets are sealed with the same key.
    pub async fn insert_seed(tx: &mut Transaction<'static, DB>, seed: &BootstrapSeed) -> StoreResult<()> {
        Self::insert_tenant(tx, &seed.tenant).await?;
        for (server, keys) in &seed.servers {
            Self::insert_server(tx, server, keys).await?;
        }
        for scope in &seed.scopes {
            Self::insert_scope(tx, scope).await?;
        }
        for client in &seed.clients {
            Self::insert_client(tx, client).await?;
        }
        for policy in &seed.policies {
            Self::insert_policy(tx, policy).await?;
        }
        sqlx::query("INSERT INTO meta (name, value) VALUES ('key_check', $1) ON CONFLICT DO NOTHING")
            .bind(seed.key_check.clone())
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    /// `NotFound` when absent.
    pub async fn update_tenant(tx: &mut Transaction<'static, DB>, t: &Tenant) -> StoreResult<()> {
        let r =
            sqlx::query("UPDATE tenants SET name = $1, authentication_context_settings = $2, jwks = $3 WHERE id = $4")
                .bind(t.name.as_str())
                .bind(to_json(&t.authentication_context_settings)?)
                .bind(to_json(&t.jwks)?)
                .bind(t.id.as_str())
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
        if DB::rows_affected(&r) == 0 {
            return Err(StoreError::NotFound(format!("tenant {}", t.id)));
        }
        Ok(())
    }

    /// Deletes a tenant and everything it holds (every table names its tenant; the ones whose
    /// rows hang off another go first); whether the tenant existed.
    pub async fn delete_tenant(tx: &mut Transaction<'static, DB>, tid: &TenantId) -> StoreResult<bool> {
        for table in TENANT_TABLES {
            sqlx::query(&format!("DELETE FROM {table} WHERE tenant_id = $1"))
                .bind(tid.as_str())
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
        }
        let r = sqlx::query("DELETE FROM tenants WHERE id = $1")
            .bind(tid.as_str())
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        Ok(DB::rows_affected(&r) > 0)
    }
}

/// Every table with a `tenant_id`, dependants before what they depend on.
const TENANT_TABLES: [&str; 29] = [
    "grant_tokens",
    "refresh_tokens",
    "auth_codes",
    "grants",
    "sessions",
    "used_assertions",
    "revoked_tokens",
    "token_cutoffs",
    "consent_grants",
    "consent_actions",
    "consents",
    "privacy_consents",
    "audit_events",
    "audit_heads",
    "ledger_events",
    "ledger_heads",
    "ledger_keys",
    "role_connection_maps",
    "roles",
    "sts_clients",
    "apis",
    "services",
    "gateways",
    "claims",
    "scopes",
    "clients",
    "signing_keys",
    "policies",
    "servers",
];

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
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    TenantRow: for<'r> FromRow<'r, DB::Row>,
    (String,): for<'r> FromRow<'r, DB::Row>,
    (i64,): for<'r> FromRow<'r, DB::Row>,
    (Vec<u8>,): for<'r> FromRow<'r, DB::Row>,
{
    pub async fn get_tenant(pool: &sqlx::Pool<DB>, id: &TenantId) -> StoreResult<Option<Tenant>> {
        let row: Option<TenantRow> = sqlx::query_as("SELECT * FROM tenants WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(pool)
            .await
            .map_err(map_err)?;
        row.map(Tenant::try_from).transpose()
    }

    pub async fn list_tenant_ids(pool: &sqlx::Pool<DB>) -> StoreResult<Vec<TenantId>> {
        let sql = format!("SELECT id FROM tenants ORDER BY id{}", DB::BYTES);
        let ids: Vec<(String,)> = sqlx::query_as(&sql).fetch_all(pool).await.map_err(map_err)?;
        ids.into_iter()
            .map(|(id,)| TenantId::parse(id).map_err(corrupt))
            .collect()
    }

    /// The master-key check the first seed wrote, if any.
    pub async fn key_check(pool: &sqlx::Pool<DB>) -> StoreResult<Option<Vec<u8>>> {
        let row: Option<(Vec<u8>,)> = sqlx::query_as("SELECT value FROM meta WHERE name = 'key_check'")
            .fetch_optional(pool)
            .await
            .map_err(map_err)?;
        Ok(row.map(|(v,)| v))
    }

    /// The first start's seed, in `tx`: written only when the store has no tenant yet. `true`
    /// when it was written. The caller makes concurrent bootstraps take turns before calling.
    pub async fn bootstrap(tx: &mut Transaction<'static, DB>, seed: &BootstrapSeed) -> StoreResult<bool> {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM tenants")
            .fetch_one(&mut **tx)
            .await
            .map_err(map_err)?;
        if count > 0 {
            return Ok(false);
        }
        Self::insert_seed(tx, seed).await?;
        Ok(true)
    }
}
