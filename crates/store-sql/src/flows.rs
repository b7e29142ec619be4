//! Codes, grants, refresh tokens, remembered consents and sessions (the protocol's flows),
//! written once for both databases. The operations that must be atomic — redeeming a code,
//! rotating a refresh token, revoking a grant, ending subjects — take the caller's write
//! transaction: a code or refresh token is marked used only if it was not (compare-and-set on
//! `used_at`), and the tokens issued for it are recorded with that mark or not at all.

use castellan_domain::{ClientId, ServerId, TenantId, UnixTime};
use castellan_store::{
    CodeRecord, DeviceRecord, DeviceStatus, IssuedTokens, PendingLogin, PersonRecord, RefreshRecord, SessionRecord,
    StoreResult,
};
use sqlx::{Encode, Executor, FromRow, IntoArguments, Transaction, Type};

use crate::{
    CodeRow, DeviceRow, Dialect, PendingRow, PersonRow, RefreshRow, SessionRow, Sql, code_from, device_from, from_json,
    map_err, pending_from, person_from, refresh_from, session_from, to_json,
};

const DEVICE_COLUMNS: &str =
    "server_id, device_hash, user_hash, client_id, data, status, poll_interval, polled_at, expires_at";

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
    CodeRow: for<'r> FromRow<'r, DB::Row>,
    RefreshRow: for<'r> FromRow<'r, DB::Row>,
    SessionRow: for<'r> FromRow<'r, DB::Row>,
    PersonRow: for<'r> FromRow<'r, DB::Row>,
    PendingRow: for<'r> FromRow<'r, DB::Row>,
    DeviceRow: for<'r> FromRow<'r, DB::Row>,
    (String, i64): for<'r> FromRow<'r, DB::Row>,
    (String,): for<'r> FromRow<'r, DB::Row>,
{
    /// Inserts the grant (if new) and the tokens one response issued under it.
    async fn insert_issued(tx: &mut Transaction<'static, DB>, tid: &TenantId, i: &IssuedTokens) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO grants (tenant_id, server_id, id, client_id, subject, revoked, expires_at) \
             VALUES ($1, $2, $3, $4, $5, FALSE, $6) \
             ON CONFLICT (tenant_id, server_id, id) DO UPDATE SET expires_at = {}(grants.expires_at, excluded.expires_at)",
            DB::GREATEST
        );
        sqlx::query(&sql)
            .bind(tid.as_str())
            .bind(i.server_id.as_str())
            .bind(i.grant_id.as_str())
            .bind(i.client_id.as_str())
            .bind(i.subject.as_str())
            .bind(i.grant_expires_at)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        sqlx::query(
            "INSERT INTO grant_tokens (tenant_id, server_id, grant_id, jti, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(tid.as_str())
        .bind(i.server_id.as_str())
        .bind(i.grant_id.as_str())
        .bind(i.access_jti.as_str())
        .bind(i.access_expires_at)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
        if let Some(r) = &i.refresh {
            sqlx::query(
                "INSERT INTO refresh_tokens (tenant_id, server_id, token_hash, grant_id, client_id, data, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(tid.as_str())
            .bind(r.server_id.as_str())
            .bind(r.hash.as_str())
            .bind(r.grant_id.as_str())
            .bind(r.client_id.as_str())
            .bind(r.data.as_str())
            .bind(r.expires_at)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        }
        Ok(())
    }

    pub async fn save_code(pool: &sqlx::Pool<DB>, tid: &TenantId, c: &CodeRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO auth_codes (tenant_id, server_id, code_hash, grant_id, client_id, data, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(tid.as_str())
        .bind(c.server_id.as_str())
        .bind(c.hash.as_str())
        .bind(c.grant_id.as_str())
        .bind(c.client_id.as_str())
        .bind(c.data.as_str())
        .bind(c.expires_at)
        .execute(pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    pub async fn get_code(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        aid: &ServerId,
        hash: &str,
    ) -> StoreResult<Option<CodeRecord>> {
        let row: Option<CodeRow> = sqlx::query_as(
            "SELECT server_id, code_hash, grant_id, client_id, data, expires_at, used_at IS NOT NULL \
             FROM auth_codes WHERE tenant_id = $1 AND server_id = $2 AND code_hash = $3",
        )
        .bind(tid.as_str())
        .bind(aid.as_str())
        .bind(hash)
        .fetch_optional(pool)
        .await
        .map_err(map_err)?;
        row.map(code_from).transpose()
    }

    pub async fn redeem_code(
        tx: &mut Transaction<'static, DB>,
        tid: &TenantId,
        hash: &str,
        now: UnixTime,
        issued: &IssuedTokens,
    ) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE auth_codes SET used_at = $1 WHERE tenant_id = $2 AND server_id = $3 AND code_hash = $4 \
             AND used_at IS NULL AND expires_at > $5",
        )
        .bind(now)
        .bind(tid.as_str())
        .bind(issued.server_id.as_str())
        .bind(hash)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
        if DB::rows_affected(&r) != 1 {
            return Ok(false);
        }
        Self::insert_issued(tx, tid, issued).await?;
        Ok(true)
    }

    pub async fn record_grant(
        tx: &mut Transaction<'static, DB>,
        tid: &TenantId,
        issued: &IssuedTokens,
    ) -> StoreResult<()> {
        Self::insert_issued(tx, tid, issued).await?;
        Ok(())
    }

    pub async fn get_refresh(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        aid: &ServerId,
        hash: &str,
    ) -> StoreResult<Option<RefreshRecord>> {
        let row: Option<RefreshRow> = sqlx::query_as(
            "SELECT r.server_id, r.token_hash, r.grant_id, r.client_id, r.data, r.expires_at, \
             r.used_at IS NOT NULL, g.revoked \
             FROM refresh_tokens r JOIN grants g \
             ON g.tenant_id = r.tenant_id AND g.server_id = r.server_id AND g.id = r.grant_id \
             WHERE r.tenant_id = $1 AND r.server_id = $2 AND r.token_hash = $3",
        )
        .bind(tid.as_str())
        .bind(aid.as_str())
        .bind(hash)
        .fetch_optional(pool)
        .await
        .map_err(map_err)?;
        row.map(refresh_from).transpose()
    }

    pub async fn rotate_refresh(
        tx: &mut Transaction<'static, DB>,
        tid: &TenantId,
        hash: &str,
        now: UnixTime,
        issued: &IssuedTokens,
    ) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $1 WHERE tenant_id = $2 AND server_id = $3 AND token_hash = $4 \
             AND used_at IS NULL AND grant_id = $5 AND EXISTS (SELECT 1 FROM grants g WHERE g.tenant_id = $6 \
             AND g.server_id = refresh_tokens.server_id AND g.id = refresh_tokens.grant_id AND NOT g.revoked)",
        )
        .bind(now)
        .bind(tid.as_str())
        .bind(issued.server_id.as_str())
        .bind(hash)
        .bind(issued.grant_id.as_str())
        .bind(tid.as_str())
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
        if DB::rows_affected(&r) != 1 {
            return Ok(false);
        }
        Self::insert_issued(tx, tid, issued).await?;
        Ok(true)
    }

    pub async fn revoke_grant(
        tx: &mut Transaction<'static, DB>,
        tid: &TenantId,
        aid: &ServerId,
        grant_id: &str,
        now: UnixTime,
    ) -> StoreResult<Vec<String>> {
        sqlx::query("UPDATE grants SET revoked = TRUE WHERE tenant_id = $1 AND server_id = $2 AND id = $3")
            .bind(tid.as_str())
            .bind(aid.as_str())
            .bind(grant_id)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        let live: Vec<(String, i64)> = sqlx::query_as(
            "SELECT jti, expires_at FROM grant_tokens WHERE tenant_id = $1 AND server_id = $2 AND grant_id = $3 \
             AND expires_at > $4",
        )
        .bind(tid.as_str())
        .bind(aid.as_str())
        .bind(grant_id)
        .bind(now)
        .fetch_all(&mut **tx)
        .await
        .map_err(map_err)?;
        for (jti, exp) in &live {
            Self::insert_revocation(tx, tid, aid, jti, *exp).await?;
        }
        Ok(live.into_iter().map(|(j, _)| j).collect())
    }

    pub async fn get_consent(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        aid: &ServerId,
        cid: &ClientId,
        subject: &str,
    ) -> StoreResult<Option<Vec<String>>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT scopes FROM consents WHERE tenant_id = $1 AND server_id = $2 AND client_id = $3 AND subject = $4",
        )
        .bind(tid.as_str())
        .bind(aid.as_str())
        .bind(cid.as_str())
        .bind(subject)
        .fetch_optional(pool)
        .await
        .map_err(map_err)?;
        row.map(|(s,)| from_json(&s)).transpose()
    }

    pub async fn save_consent(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        aid: &ServerId,
        cid: &ClientId,
        subject: &str,
        scopes: &[String],
        now: UnixTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO consents (tenant_id, server_id, client_id, subject, scopes, granted_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, server_id, client_id, subject) \
             DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at",
        )
        .bind(tid.as_str())
        .bind(aid.as_str())
        .bind(cid.as_str())
        .bind(subject)
        .bind(to_json(&scopes)?)
        .bind(now)
        .execute(pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    pub async fn create_session(pool: &sqlx::Pool<DB>, tid: &TenantId, s: &SessionRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (tenant_id, server_id, id_hash, subject, auth_time, data, expires_at, method_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(tid.as_str())
        .bind(s.server_id.as_str())
        .bind(s.id_hash.as_str())
        .bind(s.subject.as_str())
        .bind(s.auth_time)
        .bind(s.data.as_str())
        .bind(s.expires_at)
        .bind(s.method_id.as_str())
        .execute(pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    pub async fn get_session(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        aid: &ServerId,
        id_hash: &str,
    ) -> StoreResult<Option<SessionRecord>> {
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT server_id, id_hash, subject, auth_time, data, expires_at, method_id FROM sessions \
             WHERE tenant_id = $1 AND server_id = $2 AND id_hash = $3",
        )
        .bind(tid.as_str())
        .bind(aid.as_str())
        .bind(id_hash)
        .fetch_optional(pool)
        .await
        .map_err(map_err)?;
        row.map(session_from).transpose()
    }

    pub async fn delete_session(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        aid: &ServerId,
        id_hash: &str,
    ) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM sessions WHERE tenant_id = $1 AND server_id = $2 AND id_hash = $3")
            .bind(tid.as_str())
            .bind(aid.as_str())
            .bind(id_hash)
            .execute(pool)
            .await
            .map_err(map_err)?;
        Ok(DB::rows_affected(&r) == 1)
    }

    pub async fn link_person(pool: &sqlx::Pool<DB>, tid: &TenantId, p: &PersonRecord) -> StoreResult<String> {
        let (subject,): (String,) = sqlx::query_as(
            "INSERT INTO people (tenant_id, server_id, subject, method_id, upstream_subject, data, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (tenant_id, server_id, method_id, upstream_subject) \
             DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at RETURNING subject",
        )
        .bind(tid.as_str())
        .bind(p.server_id.as_str())
        .bind(p.subject.as_str())
        .bind(p.method_id.as_str())
        .bind(p.upstream_subject.as_str())
        .bind(p.data.as_str())
        .bind(p.created_at)
        .bind(p.updated_at)
        .fetch_one(pool)
        .await
        .map_err(map_err)?;
        Ok(subject)
    }

    pub async fn get_person(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        aid: &ServerId,
        subject: &str,
    ) -> StoreResult<Option<PersonRecord>> {
        let row: Option<PersonRow> = sqlx::query_as(
            "SELECT server_id, subject, method_id, upstream_subject, data, created_at, updated_at FROM people \
             WHERE tenant_id = $1 AND server_id = $2 AND subject = $3",
        )
        .bind(tid.as_str())
        .bind(aid.as_str())
        .bind(subject)
        .fetch_optional(pool)
        .await
        .map_err(map_err)?;
        row.map(person_from).transpose()
    }

    pub async fn save_pending_login(pool: &sqlx::Pool<DB>, tid: &TenantId, p: &PendingLogin) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO pending_logins (tenant_id, server_id, id_hash, data, result, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(tid.as_str())
        .bind(p.server_id.as_str())
        .bind(p.id_hash.as_str())
        .bind(p.data.as_str())
        .bind(p.result.as_deref())
        .bind(p.expires_at)
        .execute(pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    pub async fn get_pending_login(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        aid: &ServerId,
        id_hash: &str,
        now: UnixTime,
    ) -> StoreResult<Option<PendingLogin>> {
        let row: Option<PendingRow> = sqlx::query_as(
            "SELECT server_id, id_hash, data, result, expires_at FROM pending_logins \
             WHERE tenant_id = $1 AND server_id = $2 AND id_hash = $3 AND expires_at > $4",
        )
        .bind(tid.as_str())
        .bind(aid.as_str())
        .bind(id_hash)
        .bind(now)
        .fetch_optional(pool)
        .await
        .map_err(map_err)?;
        row.map(pending_from).transpose()
    }

    pub async fn answer_pending_login(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        aid: &ServerId,
        id_hash: &str,
        result: &str,
        now: UnixTime,
    ) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE pending_logins SET result = $4 \
             WHERE tenant_id = $1 AND server_id = $2 AND id_hash = $3 AND result IS NULL AND expires_at > $5",
        )
        .bind(tid.as_str())
        .bind(aid.as_str())
        .bind(id_hash)
        .bind(result)
        .bind(now)
        .execute(pool)
        .await
        .map_err(map_err)?;
        Ok(DB::rows_affected(&r) == 1)
    }

    pub async fn take_pending_login(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        aid: &ServerId,
        id_hash: &str,
        now: UnixTime,
    ) -> StoreResult<Option<PendingLogin>> {
        let row: Option<PendingRow> = sqlx::query_as(
            "DELETE FROM pending_logins WHERE tenant_id = $1 AND server_id = $2 AND id_hash = $3 \
             RETURNING server_id, id_hash, data, result, expires_at",
        )
        .bind(tid.as_str())
        .bind(aid.as_str())
        .bind(id_hash)
        .fetch_optional(pool)
        .await
        .map_err(map_err)?;
        row.map(pending_from)
            .transpose()
            .map(|p| p.filter(|p| p.expires_at > now))
    }

    pub async fn save_device(pool: &sqlx::Pool<DB>, tid: &TenantId, d: &DeviceRecord) -> StoreResult<bool> {
        let r = sqlx::query(&format!(
            "INSERT INTO device_authorizations (tenant_id, {DEVICE_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING"
        ))
        .bind(tid.as_str())
        .bind(d.server_id.as_str())
        .bind(d.device_hash.as_str())
        .bind(d.user_hash.as_str())
        .bind(d.client_id.as_str())
        .bind(d.data.as_str())
        .bind(d.status.as_str())
        .bind(d.interval)
        .bind(d.polled_at)
        .bind(d.expires_at)
        .execute(pool)
        .await
        .map_err(map_err)?;
        Ok(DB::rows_affected(&r) == 1)
    }

    pub async fn get_device(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        aid: &ServerId,
        device_hash: &str,
    ) -> StoreResult<Option<DeviceRecord>> {
        let row: Option<DeviceRow> = sqlx::query_as(&format!(
            "SELECT {DEVICE_COLUMNS} FROM device_authorizations \
             WHERE tenant_id = $1 AND server_id = $2 AND device_hash = $3"
        ))
        .bind(tid.as_str())
        .bind(aid.as_str())
        .bind(device_hash)
        .fetch_optional(pool)
        .await
        .map_err(map_err)?;
        row.map(device_from).transpose()
    }

    pub async fn find_device_by_user_code(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        aid: &ServerId,
        user_hash: &str,
        now: UnixTime,
    ) -> StoreResult<Option<DeviceRecord>> {
        let row: Option<DeviceRow> = sqlx::query_as(&format!(
            "SELECT {DEVICE_COLUMNS} FROM device_authorizations \
             WHERE tenant_id = $1 AND server_id = $2 AND user_hash = $3 AND status = 'pending' AND expires_at > $4"
        ))
        .bind(tid.as_str())
        .bind(aid.as_str())
        .bind(user_hash)
        .bind(now)
        .fetch_optional(pool)
        .await
        .map_err(map_err)?;
        row.map(device_from).transpose()
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn settle_device(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        aid: &ServerId,
        device_hash: &str,
        status: DeviceStatus,
        keep_until: UnixTime,
        now: UnixTime,
    ) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE device_authorizations SET status = $4, expires_at = $5 \
             WHERE tenant_id = $1 AND server_id = $2 AND device_hash = $3 AND status = 'pending' AND expires_at > $6",
        )
        .bind(tid.as_str())
        .bind(aid.as_str())
        .bind(device_hash)
        .bind(status.as_str())
        .bind(keep_until)
        .bind(now)
        .execute(pool)
        .await
        .map_err(map_err)?;
        Ok(DB::rows_affected(&r) == 1)
    }

    pub async fn record_device_poll(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        aid: &ServerId,
        device_hash: &str,
        polled_at: UnixTime,
        interval: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE device_authorizations SET polled_at = $4, poll_interval = $5 \
             WHERE tenant_id = $1 AND server_id = $2 AND device_hash = $3",
        )
        .bind(tid.as_str())
        .bind(aid.as_str())
        .bind(device_hash)
        .bind(polled_at)
        .bind(interval)
        .execute(pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    pub async fn end_subjects(
        tx: &mut Transaction<'static, DB>,
        tid: &TenantId,
        aid: &ServerId,
        subjects: &[String],
        now: UnixTime,
    ) -> StoreResult<Vec<String>> {
        let mut revoked = Vec::new();
        for subject in subjects {
            let live: Vec<(String, i64)> = sqlx::query_as(
                "SELECT t.jti, t.expires_at FROM grant_tokens t JOIN grants g \
                 ON g.tenant_id = t.tenant_id AND g.server_id = t.server_id AND g.id = t.grant_id \
                 WHERE g.tenant_id = $1 AND g.server_id = $2 AND g.subject = $3 AND t.expires_at > $4",
            )
            .bind(tid.as_str())
            .bind(aid.as_str())
            .bind(subject)
            .bind(now)
            .fetch_all(&mut **tx)
            .await
            .map_err(map_err)?;
            for (jti, exp) in live {
                Self::insert_revocation(tx, tid, aid, &jti, exp).await?;
                revoked.push(jti);
            }
            sqlx::query("UPDATE grants SET revoked = TRUE WHERE tenant_id = $1 AND server_id = $2 AND subject = $3")
                .bind(tid.as_str())
                .bind(aid.as_str())
                .bind(subject)
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
            for table in ["sessions", "consents"] {
                sqlx::query(&format!(
                    "DELETE FROM {table} WHERE tenant_id = $1 AND server_id = $2 AND subject = $3"
                ))
                .bind(tid.as_str())
                .bind(aid.as_str())
                .bind(subject)
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
            }
        }
        Ok(revoked)
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
    /// Adds a token to the revocation list (kept until it would have expired).
    pub async fn insert_revocation(
        tx: &mut Transaction<'static, DB>,
        tid: &TenantId,
        aid: &ServerId,
        jti: &str,
        expires_at: UnixTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO revoked_tokens (tenant_id, server_id, jti, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(tid.as_str())
        .bind(aid.as_str())
        .bind(jti)
        .bind(expires_at)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
        Ok(())
    }
}
