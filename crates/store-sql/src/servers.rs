//! Authorization servers and their signing keys, written once for both databases.

use castellan_domain::{AuthorizationServer, ServerId, SigningKey, TenantId, UnixTime};
use castellan_store::{StoreError, StoreResult};
use sqlx::{Encode, Executor, FromRow, IntoArguments, Transaction, Type};

use crate::{Dialect, KeyRow, ServerRow, Sql, map_err, to_json};

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
    /// Writes a server and its keys (in order); `Conflict` naming it when its id exists,
    /// `NotFound` naming the tenant when that is not there.
    pub async fn insert_server(
        tx: &mut Transaction<'static, DB>,
        s: &AuthorizationServer,
        keys: &[SigningKey],
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO servers (tenant_id, id, name, system, settings, authentications, secrets_sealed, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(s.tenant_id.as_str())
        .bind(s.id.as_str())
        .bind(s.name.as_str())
        .bind(s.system)
        .bind(to_json(&s.settings)?)
        .bind(to_json(&s.authentications)?)
        .bind(s.secrets_sealed.clone())
        .bind(s.created_at)
        .bind(s.updated_at)
        .execute(&mut **tx)
        .await
        .map_err(|e| match map_err(e) {
            StoreError::Conflict(_) => StoreError::Conflict(format!("authorization server {}", s.id)),
            StoreError::NotFound(_) => StoreError::NotFound(format!("tenant {}", s.tenant_id)),
            e => e,
        })?;
        Self::insert_keys(tx, &s.tenant_id, &s.id, keys).await
    }

    async fn insert_keys(
        tx: &mut Transaction<'static, DB>,
        tid: &TenantId,
        aid: &ServerId,
        keys: &[SigningKey],
    ) -> StoreResult<()> {
        for (position, k) in keys.iter().enumerate() {
            sqlx::query(
                "INSERT INTO signing_keys (tenant_id, server_id, kid, alg, status, public_jwk, private_sealed, \
                 created_at, position, activates_at, retires_at, revoked_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(tid.as_str())
            .bind(aid.as_str())
            .bind(k.kid.as_str())
            .bind(k.alg.as_str())
            .bind(k.status.as_str())
            .bind(to_json(&k.public_jwk)?)
            .bind(k.private_sealed.clone())
            .bind(k.created_at)
            .bind(position as i64)
            .bind(k.activates_at)
            .bind(k.retires_at)
            .bind(k.revoked_at)
            .execute(&mut **tx)
            .await
            .map_err(|e| match map_err(e) {
                StoreError::Conflict(_) => StoreError::Conflict(format!("key {}", k.kid)),
                e => e,
            })?;
        }
        Ok(())
    }

    /// Replaces a server's settings, and its keys when `keys` is given. `NotFound` when absent.
    pub async fn update_server(
        tx: &mut Transaction<'static, DB>,
        s: &AuthorizationServer,
        keys: Option<&[SigningKey]>,
    ) -> StoreResult<()> {
        let r = sqlx::query(
            "UPDATE servers SET name = $1, system = $2, settings = $3, authentications = $4, secrets_sealed = $5, \
             updated_at = $6 WHERE tenant_id = $7 AND id = $8",
        )
        .bind(s.name.as_str())
        .bind(s.system)
        .bind(to_json(&s.settings)?)
        .bind(to_json(&s.authentications)?)
        .bind(s.secrets_sealed.clone())
        .bind(s.updated_at)
        .bind(s.tenant_id.as_str())
        .bind(s.id.as_str())
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
        if DB::rows_affected(&r) == 0 {
            return Err(StoreError::NotFound(format!("authorization server {}", s.id)));
        }
        if let Some(keys) = keys {
            sqlx::query("DELETE FROM signing_keys WHERE tenant_id = $1 AND server_id = $2")
                .bind(s.tenant_id.as_str())
                .bind(s.id.as_str())
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
            Self::insert_keys(tx, &s.tenant_id, &s.id, keys).await?;
        }
        Ok(())
    }

    /// Deletes a server (its keys, scopes, claims, clients and grants go with it) and records
    /// that its tokens issued until `now` are dead, until `keep_until`. `false` when absent.
    pub async fn delete_server(
        tx: &mut Transaction<'static, DB>,
        tid: &TenantId,
        aid: &ServerId,
        now: UnixTime,
        keep_until: UnixTime,
    ) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM servers WHERE tenant_id = $1 AND id = $2")
            .bind(tid.as_str())
            .bind(aid.as_str())
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        let deleted = DB::rows_affected(&r) > 0;
        if deleted {
            Self::insert_cutoff(tx, tid, aid, "", now, keep_until).await?;
        }
        Ok(deleted)
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
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    ServerRow: for<'r> FromRow<'r, DB::Row>,
    KeyRow: for<'r> FromRow<'r, DB::Row>,
{
    /// Replaces the keys if they are still `expected`; `false` (nothing written) otherwise. The
    /// first statement writes the server's row, which holds it until the transaction ends: a
    /// second writer waits, then reads the keys the first one wrote.
    pub async fn replace_keys(
        tx: &mut Transaction<'static, DB>,
        tid: &TenantId,
        aid: &ServerId,
        expected: &[SigningKey],
        keys: &[SigningKey],
    ) -> StoreResult<bool> {
        let r = sqlx::query("UPDATE servers SET updated_at = updated_at WHERE tenant_id = $1 AND id = $2")
            .bind(tid.as_str())
            .bind(aid.as_str())
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        if DB::rows_affected(&r) == 0 {
            return Err(StoreError::NotFound(format!("authorization server {aid}")));
        }
        let rows: Vec<KeyRow> =
            sqlx::query_as("SELECT * FROM signing_keys WHERE tenant_id = $1 AND server_id = $2 ORDER BY position")
                .bind(tid.as_str())
                .bind(aid.as_str())
                .fetch_all(&mut **tx)
                .await
                .map_err(map_err)?;
        let stored = rows
            .into_iter()
            .map(SigningKey::try_from)
            .collect::<StoreResult<Vec<_>>>()?;
        if stored != expected {
            return Ok(false);
        }
        sqlx::query("DELETE FROM signing_keys WHERE tenant_id = $1 AND server_id = $2")
            .bind(tid.as_str())
            .bind(aid.as_str())
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        Self::insert_keys(tx, tid, aid, keys).await?;
        Ok(true)
    }

    pub async fn list_servers(pool: &sqlx::Pool<DB>, tid: &TenantId) -> StoreResult<Vec<AuthorizationServer>> {
        let sql = format!("SELECT * FROM servers WHERE tenant_id = $1 ORDER BY id{}", DB::BYTES);
        let rows: Vec<ServerRow> = sqlx::query_as(&sql)
            .bind(tid.as_str())
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(AuthorizationServer::try_from).collect()
    }

    pub async fn get_server(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        aid: &ServerId,
    ) -> StoreResult<Option<AuthorizationServer>> {
        let row: Option<ServerRow> = sqlx::query_as("SELECT * FROM servers WHERE tenant_id = $1 AND id = $2")
            .bind(tid.as_str())
            .bind(aid.as_str())
            .fetch_optional(pool)
            .await
            .map_err(map_err)?;
        row.map(AuthorizationServer::try_from).transpose()
    }

    /// A server's signing keys, in the order they were given.
    pub async fn list_keys(pool: &sqlx::Pool<DB>, tid: &TenantId, aid: &ServerId) -> StoreResult<Vec<SigningKey>> {
        let rows: Vec<KeyRow> =
            sqlx::query_as("SELECT * FROM signing_keys WHERE tenant_id = $1 AND server_id = $2 ORDER BY position")
                .bind(tid.as_str())
                .bind(aid.as_str())
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
        rows.into_iter().map(SigningKey::try_from).collect()
    }
}
