//! Claims (what tokens and userinfo say), written once for both databases.

use castellan_domain::{Claim, ClaimId, ClaimType, ServerId, TenantId};
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
    ClaimRow: for<'r> FromRow<'r, DB::Row>,
    (String,): for<'r> FromRow<'r, DB::Row>,
{
    pub async fn get_claim(pool: &sqlx::Pool<DB>, tid: &TenantId, id: &ClaimId) -> StoreResult<Option<Claim>> {
        let row: Option<ClaimRow> = sqlx::query_as("SELECT * FROM claims WHERE tenant_id = $1 AND id = $2")
            .bind(tid.as_str())
            .bind(id.as_str())
            .fetch_optional(pool)
            .await
            .map_err(map_err)?;
        row.map(Claim::try_from).transpose()
    }

    /// A server's claims (`Some`) or all the tenant's, by server, type, then name.
    pub async fn list_claims(
        pool: &sqlx::Pool<DB>,
        tid: &TenantId,
        server: Option<&ServerId>,
    ) -> StoreResult<Vec<Claim>> {
        let sql = format!(
            "SELECT * FROM claims WHERE tenant_id = $1 AND (CAST($2 AS TEXT) IS NULL OR server_id = $2) \
             ORDER BY server_id{b}, claim_type{b}, name{b}",
            b = DB::BYTES
        );
        let rows: Vec<ClaimRow> = sqlx::query_as(&sql)
            .bind(tid.as_str())
            .bind(server.map(ServerId::as_str))
            .fetch_all(pool)
            .await
            .map_err(map_err)?;
        rows.into_iter().map(Claim::try_from).collect()
    }

    /// `NotFound` naming the server when it is not there.
    pub async fn create_claim(tx: &mut Transaction<'static, DB>, c: &Claim) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO claims (tenant_id, id, server_id, name, mapping, claim_type, scopes, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(c.tenant_id.as_str())
        .bind(c.id.as_str())
        .bind(c.server_id.as_str())
        .bind(c.name.as_str())
        .bind(c.mapping.as_str())
        .bind(c.claim_type.as_str())
        .bind(to_json(&c.scopes)?)
        .bind(c.created_at)
        .execute(&mut **tx)
        .await
        .map_err(|e| match map_err(e) {
            StoreError::NotFound(_) => StoreError::NotFound(format!("authorization server {}", c.server_id)),
            e => e,
        })?;
        Ok(())
    }

    /// `NotFound` when absent.
    pub async fn update_claim(tx: &mut Transaction<'static, DB>, c: &Claim) -> StoreResult<()> {
        let r = sqlx::query(
            "UPDATE claims SET name = $1, mapping = $2, claim_type = $3, scopes = $4 WHERE tenant_id = $5 AND id = $6",
        )
        .bind(c.name.as_str())
        .bind(c.mapping.as_str())
        .bind(c.claim_type.as_str())
        .bind(to_json(&c.scopes)?)
        .bind(c.tenant_id.as_str())
        .bind(c.id.as_str())
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
        if DB::rows_affected(&r) == 0 {
            return Err(StoreError::NotFound(format!("claim {}", c.id)));
        }
        Ok(())
    }

    /// The server the claim was on, or `None` when there was no such claim.
    pub async fn delete_claim(
        tx: &mut Transaction<'static, DB>,
        tid: &TenantId,
        id: &ClaimId,
    ) -> StoreResult<Option<ServerId>> {
        let server: Option<(String,)> =
            sqlx::query_as("DELETE FROM claims WHERE tenant_id = $1 AND id = $2 RETURNING server_id")
                .bind(tid.as_str())
                .bind(id.as_str())
                .fetch_optional(&mut **tx)
                .await
                .map_err(map_err)?;
        server.map(|(s,)| ServerId::parse(s).map_err(corrupt)).transpose()
    }
}

#[derive(sqlx::FromRow)]
pub struct ClaimRow {
    tenant_id: String,
    id: String,
    server_id: String,
    name: String,
    mapping: String,
    claim_type: String,
    scopes: String,
    created_at: i64,
}

impl TryFrom<ClaimRow> for Claim {
    type Error = StoreError;
    fn try_from(r: ClaimRow) -> Result<Self, StoreError> {
        Ok(Claim {
            tenant_id: TenantId::parse(r.tenant_id).map_err(corrupt)?,
            server_id: ServerId::parse(r.server_id).map_err(corrupt)?,
            id: ClaimId::parse(r.id).map_err(corrupt)?,
            claim_type: ClaimType::parse(&r.claim_type)
                .ok_or_else(|| corrupt(format!("claim type {}", r.claim_type)))?,
            name: r.name,
            mapping: r.mapping,
            scopes: from_json(&r.scopes)?,
            created_at: r.created_at,
        })
    }
}
