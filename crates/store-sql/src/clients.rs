//! Clients, written once for both databases; deleting one revokes its live tokens and records
//! a cut-off for the rest, in the same transaction.

use castellan_domain::{Client, ClientId, ServerId, TenantId, UnixTime};
use castellan_store::{StoreError, StoreResult};
use sqlx::{Encode, Executor, FromRow, IntoArguments, Transaction, Type};

use crate::{ClientRow, Dialect, Sql, corrupt, map_err, to_json};

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
    /// Writes a client; `Conflict` naming it when its id exists, `NotFound` naming the server
    /// when that is not there.
    pub async fn insert_client(tx: &mut Transaction<'static, DB>, c: &Client) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO clients (tenant_id, id, server_id, name, system, grant_types, token_endpoint_auth_method, \
             secret_hash, secret_sealed, metadata, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(c.tenant_id.as_str())
        .bind(c.id.as_str())
        .bind(c.server_id.as_str())
        .bind(c.name.as_str())
        .bind(c.system)
        .bind(to_json(&c.grant_types)?)
        .bind(c.token_endpoint_auth_method.as_str())
        .bind(c.secret_hash.clone())
        .bind(c.secret_sealed.clone())
        .bind(to_json(&c.settings)?)
        .bind(c.created_at)
        .execute(&mut **tx)
        .await
        .map_err(|e| match map_err(e) {
            StoreError::Conflict(_) => StoreError::Conflict(format!("client {}", c.id)),
            StoreError::NotFound(_) => StoreError::NotFound(format!("authorization server {}", c.server_id)),
            e => e,
        })?;
        Ok(())
    }

    /// `NotFound` when absent.
    pub async fn update_client(tx: &mut Transaction<'static, DB>, c: &Client) -> StoreResult<()> {
        let r = sqlx::query(
            "UPDATE clients SET name = $1, system = $2, grant_types = $3, token_endpoint_auth_method = $4, \
             secret_hash = $5, secret_sealed = $6, metadata = $7 WHERE tenant_id = $8 AND id = $9",
        )
        .bind(c.name.as_str())
        .bind(c.system)
        .bind(to_json(&c.grant_types)?)
        .bind(c.token_endpoint_auth_method.as_str())
        .bind(c.secret_hash.clone())
        .bind(c.secret_sealed.clone())
        .bind(to_json(&c.settings)?)
        .bind(c.tenant_id.as_str())
        .bind(c.id.as_str())
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
        if DB::rows_affected(&r) == 0 {
            return Err(StoreError::NotFound(format!("client {}", c.id)));
        }
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
    ClientRow: for<'r> FromRow<'r, DB::Row>,
    (String, String, i64): for<'r> FromRow<'r, DB::Row>,
    (String,): for<'r> FromRow<'r, DB::Row>,
{
    /// Deletes a client: its unexpired access tokens join the revocation list, its grants
    /// (with their refresh tokens), codes and consents go, and a cut-off kills whatever else it
    /// was issued until `now` (kept until `keep_until`). The server it was on, or `None` when
    /// there was no such client.
    pub async fn delete_client(
        tx: &mut Transaction<'static, DB>,
        tid: &TenantId,
        cid: &ClientId,
        now: UnixTime,
        keep_until: UnixTime,
    ) -> StoreResult<Option<ServerId>> {
        let live: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT t.server_id, t.jti, t.expires_at FROM grant_tokens t JOIN grants g \
             ON g.tenant_id = t.tenant_id AND g.server_id = t.server_id AND g.id = t.grant_id \
             WHERE g.tenant_id = $1 AND g.client_id = $2 AND t.expires_at > $3",
        )
        .bind(tid.as_str())
        .bind(cid.as_str())
        .bind(now)
        .fetch_all(&mut **tx)
        .await
        .map_err(map_err)?;
        for (aid, jti, exp) in &live {
            Self::insert_revocation(tx, tid, &ServerId::parse(aid.as_str()).map_err(corrupt)?, jti, *exp).await?;
        }
        // Grants take their refresh tokens and token records with them (ON DELETE CASCADE).
        for table in ["grants", "auth_codes", "consents"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE tenant_id = $1 AND client_id = $2"))
                .bind(tid.as_str())
                .bind(cid.as_str())
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
        }
        let server: Option<(String,)> =
            sqlx::query_as("DELETE FROM clients WHERE tenant_id = $1 AND id = $2 RETURNING server_id")
                .bind(tid.as_str())
                .bind(cid.as_str())
                .fetch_optional(&mut **tx)
                .await
                .map_err(map_err)?;
        let Some((aid,)) = server else {
            return Ok(None);
        };
        let aid = ServerId::parse(aid).map_err(corrupt)?;
        Self::insert_cutoff(tx, tid, &aid, cid.as_str(), now, keep_until).await?;
        Ok(Some(aid))
    }

    pub async fn get_client(pool: &sqlx::Pool<DB>, tid: &TenantId, cid: &ClientId) -> StoreResult<Option<Client>> {
        let row: Option<ClientRow> = sqlx::query_as("SELECT * FROM clients WHERE tenant_id = $1 AND id = $2")
            .bind(tid.as_str())
            .bind(cid.as_str())
            .fetch_optional(pool)
            .await
            .map_err(map_err)?;
        row.map(Client::try_from).transpose()
    }

    /// A server's clients (`Some`) or all the tenant's, by id.
    pub async fn list_clients(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        server: Option<&ServerId>,
    ) -> StoreResult<Vec<Client>> {
        let sql = format!(
            "SELECT * FROM clients WHERE tenant_id = $1 AND (CAST($2 AS TEXT) IS NULL OR server_id = $2) \
             ORDER BY id{}",
            DB::BYTES
        );
        let rows: Vec<ClientRow> = sqlx::query_as(&sql)
            .bind(tid.as_str())
            .bind(server.map(ServerId::as_str))
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(Client::try_from).collect()
    }

    /// Up to `limit` of the tenant's clients whose id sorts after `after`, by id.
    pub async fn list_clients_after(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        after: Option<&ClientId>,
        limit: i64,
    ) -> StoreResult<Vec<Client>> {
        let sql = format!(
            "SELECT * FROM clients WHERE tenant_id = $1 AND (CAST($2 AS TEXT) IS NULL OR id{b} > $2) \
             ORDER BY id{b} LIMIT $3",
            b = DB::BYTES
        );
        let rows: Vec<ClientRow> = sqlx::query_as(&sql)
            .bind(tid.as_str())
            .bind(after.map(ClientId::as_str))
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(Client::try_from).collect()
    }
}
