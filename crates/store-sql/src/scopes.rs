//! Scopes, written once for both databases (so far the insert, which a server's creation, a
//! tenant's seed and a service import share).

use castellan_domain::Scope;
use castellan_store::{StoreError, StoreResult};
use sqlx::{Encode, Executor, IntoArguments, Transaction, Type};

use crate::{Dialect, Sql, map_err};

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
