//! The admin audit trail, written once for both databases: appended like the privacy ledger
//! ([`Sql::append_chain`] with [`AUDIT`]), listed newest first by object, actor and time.

use castellan_domain::{LedgerEvent, TenantId};
use castellan_store::{AuditFilter, StoreResult};
use sqlx::{Encode, Executor, FromRow, IntoArguments, Type};

use crate::privacy::LedgerEventRow;
use crate::{Dialect, Sql, map_err};

pub use crate::privacy::AUDIT;

impl<DB> Sql<DB>
where
    DB: Dialect,
    for<'c> &'c sqlx::Pool<DB>: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    LedgerEventRow: for<'r> FromRow<'r, DB::Row>,
{
    pub async fn list_audit(pool: &sqlx::Pool<DB>, tid: &TenantId, f: &AuditFilter) -> StoreResult<Vec<LedgerEvent>> {
        // An object filter matches the object and the objects under it; compared by prefix with
        // `substr`, not `LIKE`, so `%` and `_` in it are plain characters.
        let rows: Vec<LedgerEventRow> = sqlx::query_as(
            "SELECT * FROM audit_events WHERE tenant_id = $1 AND date >= $2 AND date <= $3 \
             AND (CAST($4 AS TEXT) IS NULL OR subject = $4 OR substr(subject, 1, length($4) + 1) = $4 || '/') \
             AND (CAST($5 AS TEXT) IS NULL OR actor = $5) \
             AND (CAST($6 AS BIGINT) IS NULL OR seq < $6) \
             ORDER BY seq DESC LIMIT $7",
        )
        .bind(tid.as_str())
        .bind(f.from)
        .bind(f.to)
        .bind(f.object.as_deref())
        .bind(f.actor.as_deref())
        .bind(f.before)
        .bind(f.limit)
        .fetch_all(pool)
        .await
        .map_err(map_err)?;
        rows.into_iter().map(LedgerEvent::try_from).collect()
    }
}
