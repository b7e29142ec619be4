//! [`FlowStore`] on PostgreSQL: codes, grants, refresh tokens, consents, sessions.

use async_trait::async_trait;
use castellan_domain::{ClientId, ServerId, TenantId, UnixTime};
use castellan_store::{CodeRecord, ConfigChange, FlowStore, IssuedTokens, RefreshRecord, SessionRecord, StoreResult};
use castellan_store_sql::{CodeRow, RefreshRow, SessionRow, code_from, from_json, refresh_from, session_from, to_json};
use sqlx::{Postgres, Transaction};

use crate::{PostgresStore, insert_revocation, map_err, notify};

/// Inserts the grant (if new) and the tokens one response issued under it.
async fn insert_issued(tx: &mut Transaction<'static, Postgres>, tid: &TenantId, i: &IssuedTokens) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO grants (tenant_id, server_id, id, client_id, subject, revoked, expires_at) \
         VALUES ($1, $2, $3, $4, $5, FALSE, $6) \
         ON CONFLICT (tenant_id, server_id, id) DO UPDATE SET expires_at = GREATEST(grants.expires_at, excluded.expires_at)",
    )
    .bind(tid.as_str())
    .bind(i.server_id.as_str())
    .bind(&i.grant_id)
    .bind(i.client_id.as_str())
    .bind(&i.subject)
    .bind(i.grant_expires_at)
    .execute(&mut **tx)
    .await
    .map_err(map_err)?;
    sqlx::query(
        "INSERT INTO grant_tokens (tenant_id, server_id, grant_id, jti, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(tid.as_str())
    .bind(i.server_id.as_str())
    .bind(&i.grant_id)
    .bind(&i.access_jti)
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
        .bind(&r.hash)
        .bind(&r.grant_id)
        .bind(r.client_id.as_str())
        .bind(&r.data)
        .bind(r.expires_at)
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    }
    Ok(())
}

#[async_trait]
impl FlowStore for PostgresStore {
    async fn save_code(&self, tid: &TenantId, c: &CodeRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO auth_codes (tenant_id, server_id, code_hash, grant_id, client_id, data, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(tid.as_str())
        .bind(c.server_id.as_str())
        .bind(&c.hash)
        .bind(&c.grant_id)
        .bind(c.client_id.as_str())
        .bind(&c.data)
        .bind(c.expires_at)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn get_code(&self, tid: &TenantId, aid: &ServerId, hash: &str) -> StoreResult<Option<CodeRecord>> {
        let row: Option<CodeRow> = sqlx::query_as(
            "SELECT server_id, code_hash, grant_id, client_id, data, expires_at, used_at IS NOT NULL \
             FROM auth_codes WHERE tenant_id = $1 AND server_id = $2 AND code_hash = $3",
        )
        .bind(tid.as_str())
        .bind(aid.as_str())
        .bind(hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.map(code_from).transpose()
    }

    async fn redeem_code(&self, tid: &TenantId, hash: &str, now: UnixTime, issued: &IssuedTokens) -> StoreResult<bool> {
        let mut tx = self.tx().await?;
        let r = sqlx::query(
            "UPDATE auth_codes SET used_at = $1 WHERE tenant_id = $2 AND server_id = $3 AND code_hash = $4 \
             AND used_at IS NULL AND expires_at > $5",
        )
        .bind(now)
        .bind(tid.as_str())
        .bind(issued.server_id.as_str())
        .bind(hash)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if r.rows_affected() != 1 {
            return Ok(false);
        }
        insert_issued(&mut tx, tid, issued).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn record_grant(&self, tid: &TenantId, issued: &IssuedTokens) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        insert_issued(&mut tx, tid, issued).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn get_refresh(&self, tid: &TenantId, aid: &ServerId, hash: &str) -> StoreResult<Option<RefreshRecord>> {
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
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.map(refresh_from).transpose()
    }

    async fn rotate_refresh(
        &self,
        tid: &TenantId,
        hash: &str,
        now: UnixTime,
        issued: &IssuedTokens,
    ) -> StoreResult<bool> {
        let mut tx = self.tx().await?;
        let r = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $1 WHERE tenant_id = $2 AND server_id = $3 AND token_hash = $4 \
             AND used_at IS NULL AND grant_id = $5 AND EXISTS (SELECT 1 FROM grants g WHERE g.tenant_id = $6 \
             AND g.server_id = refresh_tokens.server_id AND g.id = refresh_tokens.grant_id AND NOT g.revoked)",
        )
        .bind(now)
        .bind(tid.as_str())
        .bind(issued.server_id.as_str())
        .bind(hash)
        .bind(&issued.grant_id)
        .bind(tid.as_str())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if r.rows_affected() != 1 {
            return Ok(false);
        }
        insert_issued(&mut tx, tid, issued).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn revoke_grant(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        grant_id: &str,
        now: UnixTime,
    ) -> StoreResult<Vec<String>> {
        let mut tx = self.tx().await?;
        sqlx::query("UPDATE grants SET revoked = TRUE WHERE tenant_id = $1 AND server_id = $2 AND id = $3")
            .bind(tid.as_str())
            .bind(aid.as_str())
            .bind(grant_id)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let live: Vec<(String, i64)> = sqlx::query_as(
            "SELECT jti, expires_at FROM grant_tokens WHERE tenant_id = $1 AND server_id = $2 \
             AND grant_id = $3 AND expires_at > $4",
        )
        .bind(tid.as_str())
        .bind(aid.as_str())
        .bind(grant_id)
        .bind(now)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        for (jti, exp) in &live {
            insert_revocation(&mut tx, tid, aid, jti, *exp).await?;
        }
        // Other nodes keep revocations in their snapshots.
        notify(&mut tx, &ConfigChange::Revoked(tid.clone(), aid.clone())).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(live.into_iter().map(|(j, _)| j).collect())
    }

    async fn get_consent(
        &self,
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
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.map(|(s,)| from_json(&s)).transpose()
    }

    async fn save_consent(
        &self,
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
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn create_session(&self, tid: &TenantId, s: &SessionRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (tenant_id, server_id, id_hash, subject, auth_time, data, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(tid.as_str())
        .bind(s.server_id.as_str())
        .bind(&s.id_hash)
        .bind(&s.subject)
        .bind(s.auth_time)
        .bind(&s.data)
        .bind(s.expires_at)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn get_session(&self, tid: &TenantId, aid: &ServerId, id_hash: &str) -> StoreResult<Option<SessionRecord>> {
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT server_id, id_hash, subject, auth_time, data, \
             expires_at FROM sessions \
             WHERE tenant_id = $1 AND server_id = $2 AND id_hash = $3",
        )
        .bind(tid.as_str())
        .bind(aid.as_str())
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.map(session_from).transpose()
    }

    async fn delete_session(&self, tid: &TenantId, aid: &ServerId, id_hash: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM sessions WHERE tenant_id = $1 AND server_id = $2 AND id_hash = $3")
            .bind(tid.as_str())
            .bind(aid.as_str())
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() == 1)
    }

    async fn end_subjects(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        subjects: &[String],
        now: UnixTime,
    ) -> StoreResult<Vec<String>> {
        let mut tx = self.tx().await?;
        let live: Vec<(String, i64)> = sqlx::query_as(
            "SELECT t.jti, t.expires_at FROM grant_tokens t JOIN grants g \
             ON g.tenant_id = t.tenant_id AND g.server_id = t.server_id AND g.id = t.grant_id \
             WHERE g.tenant_id = $1 AND g.server_id = $2 AND g.subject = ANY($3) AND t.expires_at > $4",
        )
        .bind(tid.as_str())
        .bind(aid.as_str())
        .bind(subjects)
        .bind(now)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        for (jti, exp) in &live {
            insert_revocation(&mut tx, tid, aid, jti, *exp).await?;
        }
        sqlx::query("UPDATE grants SET revoked = TRUE WHERE tenant_id = $1 AND server_id = $2 AND subject = ANY($3)")
            .bind(tid.as_str())
            .bind(aid.as_str())
            .bind(subjects)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        for table in ["sessions", "consents"] {
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE tenant_id = $1 AND server_id = $2 AND subject = ANY($3)"
            ))
            .bind(tid.as_str())
            .bind(aid.as_str())
            .bind(subjects)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        // Other nodes keep revocations in their snapshots.
        notify(&mut tx, &ConfigChange::Revoked(tid.clone(), aid.clone())).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(live.into_iter().map(|(j, _)| j).collect())
    }
}
