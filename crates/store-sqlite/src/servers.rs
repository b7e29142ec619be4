//! [`ServerStore`] on SQLite: authorization servers and their keys — the operations written once in
//! [`castellan_store_sql::Sql`], in this adapter's transactions.

use async_trait::async_trait;
use castellan_domain::{AuthorizationServer, Scope, ServerId, SigningKey, TenantId, UnixTime};
use castellan_store::{ServerStore, StoreResult};
use castellan_store_sql::Sql;
use sqlx::Sqlite;

use crate::{SqliteStore, map_err};

type Shared = Sql<Sqlite>;

#[async_trait]
impl ServerStore for SqliteStore {
    async fn list_servers(&self, tid: &TenantId) -> StoreResult<Vec<AuthorizationServer>> {
        Shared::list_servers(&self.pool, tid).await
    }

    async fn get_server(&self, tid: &TenantId, aid: &ServerId) -> StoreResult<Option<AuthorizationServer>> {
        Shared::get_server(&self.pool, tid, aid).await
    }

    async fn create_server(&self, s: &AuthorizationServer, keys: &[SigningKey], scopes: &[Scope]) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        Shared::insert_server(&mut tx, s, keys).await?;
        for sc in scopes {
            Shared::insert_scope(&mut tx, sc).await?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn update_server(&self, s: &AuthorizationServer, keys: Option<&[SigningKey]>) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        Shared::update_server(&mut tx, s, keys).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn delete_server(
        &self,
        tid: &TenantId,
        aid: &ServerId,
        now: UnixTime,
        keep_until: UnixTime,
    ) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let deleted = Shared::delete_server(&mut tx, tid, aid, now, keep_until).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(deleted)
    }

    async fn list_keys(&self, tid: &TenantId, aid: &ServerId) -> StoreResult<Vec<SigningKey>> {
        Shared::list_keys(&self.pool, tid, aid).await
    }
}
