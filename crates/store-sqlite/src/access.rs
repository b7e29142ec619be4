//! [`AccessStore`] on SQLite: STS client mappings, roles and their connection maps.

use async_trait::async_trait;
use castellan_domain::{ConnectionMap, Role, StsClient, TenantId};
use castellan_store::{AccessStore, StoreError, StoreResult};
use castellan_store_sql::{ConnectionMapRow, RoleRow, StsClientRow, attach_maps};

use crate::{SqliteStore, map_err};

#[async_trait]
impl AccessStore for SqliteStore {
    async fn list_sts_clients(&self, tid: &TenantId) -> StoreResult<Vec<StsClient>> {
        self.fetch_all::<StsClientRow, _>(
            "SELECT * FROM sts_clients WHERE tenant_id = ? ORDER BY client_id",
            &[tid.as_str()],
        )
        .await
    }

    async fn get_sts_client(&self, tid: &TenantId, client_id: &str) -> StoreResult<Option<StsClient>> {
        self.fetch_opt::<StsClientRow, _>(
            "SELECT * FROM sts_clients WHERE tenant_id = ? AND client_id = ?",
            &[tid.as_str(), client_id],
        )
        .await
    }

    async fn create_sts_client(&self, c: &StsClient) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sts_clients (tenant_id, client_id, description, permissions, created_by, modified_by, \
             user_id, created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(c.tenant_id.as_str())
        .bind(&c.client_id)
        .bind(&c.description)
        .bind(&c.permissions)
        .bind(&c.created_by)
        .bind(&c.modified_by)
        .bind(&c.user_id)
        .bind(c.created_at)
        .bind(c.modified_at)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn update_sts_client(&self, c: &StsClient) -> StoreResult<()> {
        let r = sqlx::query(
            "UPDATE sts_clients SET description = ?, permissions = ?, modified_by = ?, modified_at = ? \
             WHERE tenant_id = ? AND client_id = ?",
        )
        .bind(&c.description)
        .bind(&c.permissions)
        .bind(&c.modified_by)
        .bind(c.modified_at)
        .bind(c.tenant_id.as_str())
        .bind(&c.client_id)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("STS client {}", c.client_id)));
        }
        Ok(())
    }

    async fn delete_sts_client(&self, tid: &TenantId, client_id: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM sts_clients WHERE tenant_id = ? AND client_id = ?")
            .bind(tid.as_str())
            .bind(client_id)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn list_roles(&self, tid: &TenantId) -> StoreResult<Vec<Role>> {
        let roles = self
            .fetch_all::<RoleRow, _>("SELECT * FROM roles WHERE tenant_id = ? ORDER BY name", &[tid.as_str()])
            .await?;
        let maps = self
            .fetch_all::<ConnectionMapRow, _>(
                "SELECT id, role_id, name, group_name, connection_id FROM role_connection_maps \
                 WHERE tenant_id = ? ORDER BY id",
                &[tid.as_str()],
            )
            .await?;
        Ok(attach_maps(roles, maps))
    }

    async fn get_role(&self, tid: &TenantId, id: &str) -> StoreResult<Option<Role>> {
        let Some(role) = self
            .fetch_opt::<RoleRow, Role>(
                "SELECT * FROM roles WHERE tenant_id = ? AND id = ?",
                &[tid.as_str(), id],
            )
            .await?
        else {
            return Ok(None);
        };
        let maps = self
            .fetch_all::<ConnectionMapRow, _>(
                "SELECT id, role_id, name, group_name, connection_id FROM role_connection_maps \
                 WHERE tenant_id = ? AND role_id = ? ORDER BY id",
                &[tid.as_str(), id],
            )
            .await?;
        Ok(attach_maps(vec![role], maps).pop())
    }

    async fn create_role(&self, r: &Role) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO roles (tenant_id, id, name, audience, description, permissions, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(r.tenant_id.as_str())
        .bind(&r.id)
        .bind(&r.name)
        .bind(&r.audience)
        .bind(&r.description)
        .bind(&r.permissions)
        .bind(r.created_at)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn update_role(&self, r: &Role) -> StoreResult<()> {
        let res = sqlx::query(
            "UPDATE roles SET audience = ?, description = ?, permissions = ? WHERE tenant_id = ? AND id = ?",
        )
        .bind(&r.audience)
        .bind(&r.description)
        .bind(&r.permissions)
        .bind(r.tenant_id.as_str())
        .bind(&r.id)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        if res.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("role {}", r.id)));
        }
        Ok(())
    }

    async fn delete_role(&self, tid: &TenantId, id: &str) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM roles WHERE tenant_id = ? AND id = ?")
            .bind(tid.as_str())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }

    async fn add_connection_map(&self, tid: &TenantId, m: &ConnectionMap) -> StoreResult<ConnectionMap> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO role_connection_maps (tenant_id, role_id, name, group_name, connection_id) \
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(tid.as_str())
        .bind(&m.role_id)
        .bind(&m.name)
        .bind(&m.group_name)
        .bind(m.connection_id.as_deref().unwrap_or(""))
        .fetch_one(&self.pool)
        .await
        .map_err(|e| match map_err(e) {
            StoreError::NotFound(_) => StoreError::NotFound(format!("role {}", m.role_id)),
            e => e,
        })?;
        Ok(ConnectionMap { id, ..m.clone() })
    }

    async fn delete_connection_map(&self, tid: &TenantId, role_id: &str, map_id: i64) -> StoreResult<bool> {
        let r = sqlx::query("DELETE FROM role_connection_maps WHERE tenant_id = ? AND role_id = ? AND id = ?")
            .bind(tid.as_str())
            .bind(role_id)
            .bind(map_id)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(r.rows_affected() > 0)
    }
}
