//! [`AccessStore`] on PostgreSQL: STS client mappings, roles and their connection maps. Every
//! write announces [`ConfigChange::Access`] in its transaction.

use async_trait::async_trait;
use castellan_domain::{ConnectionMap, Role, StsClient, TenantId};
use castellan_store::{AccessStore, ConfigChange, StoreError, StoreResult};
use castellan_store_sql::{ConnectionMapRow, RoleRow, StsClientRow, attach_maps};

use crate::{PostgresStore, map_err, notify};

const STS_COLS: &str = "tenant_id, client_id, description, permissions, created_by, modified_by, user_id, \
     created_at, modified_at";
const ROLE_COLS: &str = "tenant_id, id, name, audience, description, permissions, \
     created_at";
const MAP_COLS: &str = "id, role_id, name, group_name, connection_id";

impl PostgresStore {
    /// Runs one statement that changes the tenant's access rules, announcing it; the number of
    /// rows it changed.
    async fn access_write(
        &self,
        tid: &TenantId,
        q: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> StoreResult<u64> {
        let mut tx = self.tx().await?;
        let n = q.execute(&mut *tx).await.map_err(map_err)?.rows_affected();
        if n > 0 {
            notify(&mut tx, &ConfigChange::Access(tid.clone())).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(n)
    }
}

#[async_trait]
impl AccessStore for PostgresStore {
    async fn list_sts_clients(&self, tid: &TenantId) -> StoreResult<Vec<StsClient>> {
        self.fetch_all::<StsClientRow, _>(
            &format!("SELECT {STS_COLS} FROM sts_clients WHERE tenant_id = $1 ORDER BY client_id COLLATE \"C\""),
            &[tid.as_str()],
        )
        .await
    }

    async fn get_sts_client(&self, tid: &TenantId, client_id: &str) -> StoreResult<Option<StsClient>> {
        self.fetch_opt::<StsClientRow, _>(
            &format!("SELECT {STS_COLS} FROM sts_clients WHERE tenant_id = $1 AND client_id = $2"),
            &[tid.as_str(), client_id],
        )
        .await
    }

    async fn create_sts_client(&self, c: &StsClient) -> StoreResult<()> {
        let q = sqlx::query(
            "INSERT INTO sts_clients (tenant_id, client_id, description, permissions, created_by, modified_by, \
             user_id, created_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(c.tenant_id.as_str())
        .bind(&c.client_id)
        .bind(&c.description)
        .bind(&c.permissions)
        .bind(&c.created_by)
        .bind(&c.modified_by)
        .bind(&c.user_id)
        .bind(c.created_at)
        .bind(c.modified_at);
        self.access_write(&c.tenant_id, q).await.map(|_| ())
    }

    async fn update_sts_client(&self, c: &StsClient) -> StoreResult<()> {
        let q = sqlx::query(
            "UPDATE sts_clients SET description = $1, permissions = $2, modified_by = $3, \
             modified_at = $4 WHERE tenant_id = $5 AND client_id = $6",
        )
        .bind(&c.description)
        .bind(&c.permissions)
        .bind(&c.modified_by)
        .bind(c.modified_at)
        .bind(c.tenant_id.as_str())
        .bind(&c.client_id);
        if self.access_write(&c.tenant_id, q).await? == 0 {
            return Err(StoreError::NotFound(format!("STS client {}", c.client_id)));
        }
        Ok(())
    }

    async fn delete_sts_client(&self, tid: &TenantId, client_id: &str) -> StoreResult<bool> {
        let q = sqlx::query("DELETE FROM sts_clients WHERE tenant_id = $1 AND client_id = $2")
            .bind(tid.as_str())
            .bind(client_id);
        Ok(self.access_write(tid, q).await? > 0)
    }

    async fn list_roles(&self, tid: &TenantId) -> StoreResult<Vec<Role>> {
        let roles = self
            .fetch_all::<RoleRow, _>(
                &format!("SELECT {ROLE_COLS} FROM roles WHERE tenant_id = $1 ORDER BY name COLLATE \"C\""),
                &[tid.as_str()],
            )
            .await?;
        let maps = self
            .fetch_all::<ConnectionMapRow, _>(
                &format!("SELECT {MAP_COLS} FROM role_connection_maps WHERE tenant_id = $1 ORDER BY id"),
                &[tid.as_str()],
            )
            .await?;
        Ok(attach_maps(roles, maps))
    }

    async fn get_role(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Role>> {
        let Some(role) = self
            .fetch_opt::<RoleRow, Role>(
                &format!("SELECT {ROLE_COLS} FROM roles WHERE tenant_id = $1 AND id = $2"),
                &[tid.as_str(), id],
            )
            .await?
        else {
            return Ok(None);
        };
        let maps = self
            .fetch_all::<ConnectionMapRow, _>(
                &format!(
                    "SELECT {MAP_COLS} FROM role_connection_maps WHERE tenant_id = $1 AND role_id = $2 ORDER BY id"
                ),
                &[tid.as_str(), id],
            )
            .await?;
        Ok(attach_maps(vec![role], maps).pop())
    }

    async fn create_role(&self, r: &Role) -> StoreResult<()> {
        let q = sqlx::query(
            "INSERT INTO roles (tenant_id, id, name, audience, description, permissions, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(r.tenant_id.as_str())
        .bind(&r.id)
        .bind(&r.name)
        .bind(&r.audience)
        .bind(&r.description)
        .bind(&r.permissions)
        .bind(r.created_at);
        self.access_write(&r.tenant_id, q).await.map(|_| ())
    }

    async fn update_role(&self, r: &Role) -> StoreResult<()> {
        let q = sqlx::query(
            "UPDATE roles SET audience = $1, description = $2, permissions = $3 WHERE tenant_id = $4 AND id = $5",
        )
        .bind(&r.audience)
        .bind(&r.description)
        .bind(&r.permissions)
        .bind(r.tenant_id.as_str())
        .bind(&r.id);
        if self.access_write(&r.tenant_id, q).await? == 0 {
            return Err(StoreError::NotFound(format!("role {}", r.id)));
        }
        Ok(())
    }

    async fn delete_role(&self, tid: &TenantId, id: &str) -> StoreResult<bool> {
        let q = sqlx::query("DELETE FROM roles WHERE tenant_id = $1 AND id = $2")
            .bind(tid.as_str())
            .bind(id);
        Ok(self.access_write(tid, q).await? > 0)
    }

    async fn add_connection_map(&self, tid: &TenantId, m: &ConnectionMap) -> StoreResult<ConnectionMap> {
        let mut tx = self.tx().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO role_connection_maps (tenant_id, role_id, name, group_name, connection_id) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(tid.as_str())
        .bind(&m.role_id)
        .bind(&m.name)
        .bind(&m.group_name)
        .bind(m.connection_id.as_deref().unwrap_or(""))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match map_err(e) {
            StoreError::NotFound(_) => StoreError::NotFound(format!("role {}", m.role_id)),
            e => e,
        })?;
        notify(&mut tx, &ConfigChange::Access(tid.clone())).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(ConnectionMap { id, ..m.clone() })
    }

    async fn delete_connection_map(&self, tid: &TenantId, role_id: &str, map_id: i64) -> StoreResult<bool> {
        let q = sqlx::query("DELETE FROM role_connection_maps WHERE tenant_id = $1 AND role_id = $2 AND id = $3")
            .bind(tid.as_str())
            .bind(role_id)
            .bind(map_id);
        Ok(self.access_write(tid, q).await? > 0)
    }
}
