//! [`ScopeStore`] on PostgreSQL: the operations written once in [`castellan_store_sql::Sql`], in this
//! adapter's transactions; every change announces its server ([`ConfigChange::Server`]).

use async_trait::async_trait;
use castellan_domain::{Scope, ScopeId, ServerId, TenantId};
use castellan_store::{ConfigChange, ScopeStore, StoreResult};
use castellan_store_sql::Sql;
use sqlx::Postgres;

use crate::{PostgresStore, map_err, notify};

type Shared = Sql<Postgres>;

#[async_trait]
impl ScopeStore for PostgresStore {
    async fn get_scope(&self, tid: &TenantId, id: &ScopeId) -> StoreResult<Option<Scope>> {
        Shared::get_scope(&self.pool, tid, id).await
    }

    async fn list_scopes(&self, tid: &TenantId, aid: &ServerId) -> StoreResult<Vec<Scope>> {
        Shared::list_scopes(&self.pool, tid, Some(aid)).await
    }

    async fn list_tenant_scopes(&self, tid: &TenantId) -> StoreResult<Vec<Scope>> {
        Shared::list_scopes(&self.pool, tid, None).await
    }

    async fn create_scope(&self, sc: &Scope) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        Shared::insert_scope(&mut tx, sc).await?;
        notify(
            &mut tx,
            &ConfigChange::Server(sc.tenant_id.clone(), sc.server_id.clone()),
        )
        .await?;
        tx.commit().await.map_err(map_err)
    }

    async fn update_scope(&self, sc: &Scope) -> StoreResult<()> {
        let mut tx = self.tx().await?;
        Shared::update_scope(&mut tx, sc).await?;
        notify(
            &mut tx,
            &ConfigChange::Server(sc.tenant_id.clone(), sc.server_id.clone()),
        )
        .await?;
        tx.commit().await.map_err(map_err)
    }

    async fn delete_scope(&self, tid: &TenantId, id: &ScopeId) -> StoreResult<bool> {
        let mut tx = self.tx().await?;
        let Some(aid) = Shared::delete_scope(&mut tx, tid, id).await? else {
            return Ok(false);
        };
        notify(&mut tx, &ConfigChange::Server(tid.clone(), aid)).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }
}
