//! The revocation list, token cut-offs, used assertion ids and the purge of what has expired,
//! written once for both databases.

use castellan_domain::{ClientId, ServerId, TenantId, UnixTime};
use castellan_store::{PurgePace, Purged, StoreError, StoreResult, TokenCutoff};
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
    (String, String): for<'r> FromRow<'r, DB::Row>,
    (String, String, i64): for<'r> FromRow<'r, DB::Row>,
{
    /// The revoked tokens of a tenant that have not expired.
    pub async fn list_revoked(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        now: UnixTime,
    ) -> StoreResult<Vec<(ServerId, String)>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT server_id, jti FROM revoked_tokens WHERE tenant_id = $1 AND expires_at >= $2")
                .bind(tid.as_str())
                .bind(now)
                .fetch_all(pool)
                .await
                .map_err(map_err)?;
        rows.into_iter()
            .map(|(a, j)| Ok((ServerId::parse(a).map_err(corrupt)?, j)))
            .collect()
    }

    pub async fn list_cutoffs(pool: &sqlx::Pool<DB>, tid: &TenantId, now: UnixTime) -> StoreResult<Vec<TokenCutoff>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT server_id, client_id, issued_before FROM token_cutoffs WHERE tenant_id = $1 AND expires_at >= $2",
        )
        .bind(tid.as_str())
        .bind(now)
        .fetch_all(pool)
        .await
        .map_err(map_err)?;
        rows.into_iter().map(cutoff_from).collect()
    }

    /// `true` the first time an assertion id is used (RFC 7523 §3: one use per `jti`).
    pub async fn use_assertion_id(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        aid: &ServerId,
        jti: &str,
        expires_at: UnixTime,
    ) -> StoreResult<bool> {
        let r = sqlx::query(
            "INSERT INTO used_assertions (tenant_id, server_id, jti, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(tid.as_str())
        .bind(aid.as_str())
        .bind(jti)
        .bind(expires_at)
        .execute(pool)
        .await
        .map_err(map_err)?;
        Ok(DB::rows_affected(&r) == 1)
    }

    /// Deletes what expired before `now`, `batch` rows per statement, on `conn` (which holds the
    /// purge's turn), resting between statements so other work on this process runs first.
    pub async fn purge_expired(conn: &mut DB::Connection, now: UnixTime, pace: PurgePace) -> StoreResult<Purged> {
        let batch = pace.batch.max(1);
        let mut purged = Purged::default();
        // Grants go with their refresh tokens and access-token records (ON DELETE CASCADE).
        for table in [
            "revoked_tokens",
            "token_cutoffs",
            "used_assertions",
            "auth_codes",
            "grants",
            "sessions",
            "pending_logins",
            "device_authorizations",
        ] {
            let sql = DB::delete_expired_batch(table);
            let mut n = 0;
            loop {
                let started = std::time::Instant::now();
                let r = sqlx::query(&sql)
                    .bind(now)
                    .bind(i64::from(batch))
                    .execute(&mut *conn)
                    .await
                    .map_err(map_err)?;
                purged.batches += 1;
                let gone = DB::rows_affected(&r);
                n += gone;
                if gone < u64::from(batch) {
                    break;
                }
                let rest = started.elapsed().saturating_mul(pace.rest_factor);
                if rest.is_zero() {
                    tokio::task::yield_now().await;
                } else {
                    tokio::time::sleep(rest.min(std::time::Duration::from_millis(200))).await;
                }
            }
            purged.tables.push((table, n));
        }
        Ok(purged)
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
{
    /// Records that tokens of `cid` ('' for the whole server) issued until `now` are dead, kept
    /// until `keep_until` (when the last of them would have expired). A later cut-off only moves
    /// both times forward.
    pub async fn insert_cutoff(
        tx: &mut Transaction<'static, DB>,
        tid: &TenantId,
        aid: &ServerId,
        cid: &str,
        now: UnixTime,
        keep_until: UnixTime,
    ) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO token_cutoffs (tenant_id, server_id, client_id, issued_before, expires_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, server_id, client_id) DO UPDATE \
             SET issued_before = {g}(token_cutoffs.issued_before, excluded.issued_before), \
             expires_at = {g}(token_cutoffs.expires_at, excluded.expires_at)",
            g = DB::GREATEST
        );
        sqlx::query(&sql)
            .bind(tid.as_str())
            .bind(aid.as_str())
            .bind(cid)
            .bind(now)
            .bind(keep_until)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}

/// A `token_cutoffs` row (`client_id` '' for a whole server).
fn cutoff_from((server_id, client_id, issued_before): (String, String, i64)) -> Result<TokenCutoff, StoreError> {
    Ok(TokenCutoff {
        server_id: ServerId::parse(server_id).map_err(corrupt)?,
        client_id: if client_id.is_empty() {
            None
        } else {
            Some(ClientId::parse(client_id).map_err(corrupt)?)
        },
        issued_before,
    })
}
